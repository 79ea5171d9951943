"""Microsoft's clouds: where to sign in, where Graph lives, and which portal to send people to."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

# Hosts MSAL knows without asking login.microsoftonline.com (MSAL 1.39 authority.py). For any
# other host we switch instance discovery off so that a custom host needs no other request.
_KNOWN_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
        "login-us.microsoftonline.com",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
    }
)


@dataclass(frozen=True)
class Cloud:
    key: str
    label: str
    authority_host: str
    graph_root: str
    portal_host: str

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
        return (urlsplit(self.authority_host).hostname or "") in _KNOWN_AUTHORITY_HOSTS

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
        ),
        Cloud(
            "usgov",
            "US Government GCC High",
            "https://login.microsoftonline.us",
            "https://graph.microsoft.us",
            "https://portal.azure.us",
        ),
        Cloud(
            "usgov-dod",
            "US Government DoD",
            "https://login.microsoftonline.us",
            "https://dod-graph.microsoft.us",
            "https://portal.azure.us",
        ),
        Cloud(
            "china",
            "Microsoft 365 operated by 21Vianet (China)",
            "https://login.partner.microsoftonline.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            "https://portal.azure.cn",
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
