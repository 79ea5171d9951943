"""Microsoft's clouds: where to sign in, where Graph lives, and which portal to send people to."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

# Hosts MSAL knows without asking login.microsoftonline.com (MSAL 1.39 authority.py). For any
# other host we switch instance discovery off so that a custom host needs no other request.
# Each with the clouds' ``cloud_instance_name`` its tenant discovery answers for a tenant of its
# own cloud: every worldwide host answers "microsoftonline.com", not its own domain.
_WORLDWIDE = ("microsoftonline.com",)
_US_GOVERNMENT = ("microsoftonline.us",)
_CHINA = ("partner.microsoftonline.cn", "chinacloudapi.cn")
_KNOWN_AUTHORITY_HOSTS: dict[str, tuple[str, ...]] = {
    "login.microsoftonline.com": _WORLDWIDE,
    "login.microsoft.com": _WORLDWIDE,
    "login.windows.net": _WORLDWIDE,
    "sts.windows.net": _WORLDWIDE,
    "login.chinacloudapi.cn": _CHINA,
    "login.partner.microsoftonline.cn": _CHINA,
    "login.microsoftonline.de": ("microsoftonline.de",),
    "login-us.microsoftonline.com": _US_GOVERNMENT,
    "login.microsoftonline.us": _US_GOVERNMENT,
    "login.usgovcloudapi.net": _US_GOVERNMENT,
}

# The clouds a discovery answer can name, in the words the wrong-cloud message uses. (Microsoft
# Cloud Germany is closed: a tenant there cannot use Clearooms in any cloud.)
INSTANCE_CLOUDS: dict[str, str] = {
    **dict.fromkeys(_WORLDWIDE, "Microsoft 365 (worldwide, including GCC)"),
    **dict.fromkeys(_US_GOVERNMENT, "US Government (GCC High or DoD)"),
    **dict.fromkeys(_CHINA, "China (21Vianet)"),
}


@dataclass(frozen=True)
class Cloud:
    key: str
    label: str
    authority_host: str
    graph_root: str
    portal_host: str
    # What tenant discovery answers as ``cloud_instance_name`` for a tenant of this cloud.
    instance_names: tuple[str, ...] = ()

    @property
    def graph_scope(self) -> str:
        return f"{self.graph_root}/.default"

    @property
    def app_registrations_url(self) -> str:
        # The worldwide cloud has the Entra admin center; the others keep the Azure portal host.
        host = "https://entra.microsoft.com" if self.key == "global" else self.portal_host
        return f"{host}/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade/"

    @property
    def authority_is_well_known(self) -> bool:
        return self._authority_hostname in _KNOWN_AUTHORITY_HOSTS

    @property
    def _authority_hostname(self) -> str:
        return (urlsplit(self.authority_host).hostname or "").lower()

    def other_cloud_named(self, instance_name: str | None) -> str | None:
        """The cloud a discovery answer places the tenant in, when that is another known cloud
        than the one chosen; otherwise None.

        Whatever host serves it, Entra names the tenant's cloud, not the host's domain. The
        chosen cloud is expected, or the cloud of a Microsoft sign-in host given on purpose; a
        custom host (a proxy, a test rig) says nothing about its cloud, so it is trusted to
        serve the one chosen.
        """
        named = (instance_name or "").strip().lower()
        expected = {
            *self.instance_names,
            *_KNOWN_AUTHORITY_HOSTS.get(self._authority_hostname, ()),
        }
        if not expected or named in expected or named not in INSTANCE_CLOUDS:
            return None
        return INSTANCE_CLOUDS[named]

    def with_overrides(self, authority_host: str | None, graph_url: str | None) -> Cloud:
        return replace(
            self,
            authority_host=normalise_root_url(authority_host)
            if authority_host
            else self.authority_host,
            graph_root=normalise_root_url(graph_url) if graph_url else self.graph_root,
        )


CLOUDS: dict[str, Cloud] = {
    cloud.key: cloud
    for cloud in (
        Cloud(
            "global",
            "Microsoft 365 (worldwide, including GCC)",
            "https://login.microsoftonline.com",
            "https://graph.microsoft.com",
            "https://portal.azure.com",
            _WORLDWIDE,
        ),
        Cloud(
            "usgov",
            "US Government GCC High",
            "https://login.microsoftonline.us",
            "https://graph.microsoft.us",
            "https://portal.azure.us",
            _US_GOVERNMENT,
        ),
        Cloud(
            "usgov-dod",
            "US Government DoD",
            "https://login.microsoftonline.us",
            "https://dod-graph.microsoft.us",
            "https://portal.azure.us",
            _US_GOVERNMENT,
        ),
        Cloud(
            "china",
            "Microsoft 365 operated by 21Vianet (China)",
            "https://login.partner.microsoftonline.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            "https://portal.azure.cn",
            _CHINA,
        ),
    )
}


class UrlProblem(ValueError):
    """An override URL that cannot be used; the text says why in plain English."""


def normalise_root_url(url: str) -> str:
    """An https root URL such as ``https://graph.microsoft.com``, without a trailing slash."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise UrlProblem(f"“{text}” is not a web address.") from exc
    if parts.scheme != "https":
        raise UrlProblem(
            f"“{text}” must start with https:// (Microsoft only accepts secure connections)."
        )
    if not parts.hostname:
        raise UrlProblem(f"“{text}” has no host name.")
    if parts.username is not None or parts.password is not None:
        raise UrlProblem(f"“{parts.hostname}”: a user name or password does not belong in it.")
    if parts.query or parts.fragment or parts.path.strip("/"):
        raise UrlProblem(
            f"“{text}” should be just the address, such as https://graph.microsoft.com, "
            "without a path or ? or # parts."
        )
    try:
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError:
        raise UrlProblem(f"“{text}” has a port that is not a number.") from None
    return f"https://{parts.netloc}"


def get_cloud(key: str) -> Cloud:
    try:
        return CLOUDS[key]
    except KeyError:
        names = ", ".join(CLOUDS)
        raise UrlProblem(f"Unknown cloud “{key}”. Choose one of: {names}.") from None
