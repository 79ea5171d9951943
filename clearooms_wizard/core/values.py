"""The three connection values: tidying what people paste, and telling them plainly what is wrong.

Everything here is local. A value that fails validation never reaches a URL, so nothing that could
change a request's path (slashes, ``..``, ``?``, ``#``, ``%``, spaces) is ever sent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from clearooms_wizard.core.logs import remember_secret

if TYPE_CHECKING:
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.core.clouds import Cloud

# A clipboard can hold megabytes; we look at no more than this before refusing, so a huge paste
# costs microseconds rather than a regex run over all of it.
MAX_PASTE_LENGTH = 2048
# Entra client secrets are 16 to 64 characters (passwordCredential.secretText in the Graph
# reference); leave room for future formats.
MAX_SECRET_LENGTH = 256

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GUID_EXACT = re.compile(rf"^\{{?({_GUID.pattern})\}}?$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TENANT_IN_PATH = re.compile(rf"(?:^|/)({_GUID.pattern}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?:/|$)")
# Characters that are invisible or that a copy from a web page or a chat tends to carry along.
_INVISIBLE = {
    "\u200b",  # zero width space
    "\u200c",
    "\u200d",
    "\u2060",  # word joiner
    "\ufeff",  # byte order mark
    "\u00ad",  # soft hyphen
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}
_QUOTES = "\"'`\u2018\u2019\u201c\u201d\u00ab\u00bb"
# Portal and sign-in URLs whose first path segment is the tenant.
_LOGIN_HOST_HINTS = ("login.", "sts.windows.net", "microsoftonline", "chinacloudapi", "login-us.")
# Segments of sign-in URLs that are never a tenant (AADSTS900023 reports show people paste them).
_NOT_TENANTS = {"common", "organizations", "consumers", "oauth2", "v2.0", "authorize", "token"}


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one value: the tidied value, or a problem, plus any warnings."""

    value: str | None
    problem: str | None = None
    warnings: tuple[str, ...] = ()
    # What was tidied away, so the page can say "we removed the spaces" rather than silently change.
    tidied: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.problem is None and self.value is not None


def _strip_paste(raw: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    text = "".join(ch for ch in raw if ch not in _INVISIBLE)
    if text != raw:
        notes.append("removed invisible characters")
    # Newlines, tabs and other control characters come from copying a table cell or a chat line.
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    stripped = cleaned.strip()
    if stripped != text:
        notes.append("removed spaces or line breaks around it")
    while len(stripped) >= 2 and stripped[0] in _QUOTES and stripped[-1] in _QUOTES:
        stripped = stripped[1:-1].strip()
        notes.append("removed quotation marks")
    return stripped, notes


def _too_long(raw: str, limit: int) -> bool:
    return len(raw) > limit


def is_guid(text: str) -> bool:
    return _GUID_EXACT.match(text) is not None


def _normalise_guid(text: str) -> str | None:
    match = _GUID_EXACT.match(text)
    return match.group(1).lower() if match else None


def _guid_from_url(text: str) -> str | None:
    """The GUID in a pasted portal URL or a line such as ``Directory (tenant) ID: <guid>``."""
    found = {m.group(0).lower() for m in _GUID.finditer(text)}
    return found.pop() if len(found) == 1 else None


def _is_domain(text: str) -> bool:
    if len(text) > 253 or "." not in text:
        return False
    labels = text.split(".")
    if not all(_DOMAIN_LABEL.match(label) for label in labels):
        return False
    # The last label is a top-level domain: letters only, at least two (".com", ".onmicrosoft.com").
    return labels[-1].isalpha() and len(labels[-1]) >= 2


def _tenant_from_url(text: str) -> str | None:
    try:
        parts = urlsplit(text if "://" in text else "https://" + text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    path = unquote(parts.path)
    if any(hint in host for hint in _LOGIN_HOST_HINTS):
        segments = [s for s in path.split("/") if s]
        if segments and segments[0].lower() not in _NOT_TENANTS:
            candidate = segments[0].lower()
            if is_guid(candidate) or _is_domain(candidate):
                return _normalise_guid(candidate) or candidate
    # Portal links carry the tenant in the fragment (…/#@contoso.onmicrosoft.com/resource/…).
    fragment = unquote(parts.fragment)
    at = re.search(r"@([A-Za-z0-9.-]+\.[A-Za-z]{2,})", fragment)
    if at and _is_domain(at.group(1).lower()):
        return at.group(1).lower()
    return _guid_from_url(text)


TENANT_HELP = (
    "A tenant ID looks like 72f988bf-86f1-41af-91ab-2d7cd011db47, or is your Microsoft 365 "
    "domain such as contoso.onmicrosoft.com. You can find it in the Microsoft Entra admin "
    "center under Overview, as “Tenant ID”, or on the app's Overview page as "
    "“Directory (tenant) ID”."
)
CLIENT_ID_HELP = (
    "The client ID looks like 1b7e5c4a-3f2d-4e8b-9a6c-0d1e2f3a4b5c. Copy “Application (client) "
    "ID” from your app's Overview page in the Microsoft Entra admin center."
)
SECRET_ID_WARNING = (
    "This looks like the Secret ID, not the secret itself. In Certificates & secrets, copy the "
    "Value column instead. The value is only shown right after the secret is created; if it is "
    "hidden now, create a new client secret and copy its Value."
)

# Entra creates client secrets from printable ASCII only: letters, digits and keyboard symbols
# such as ~ . _ - (from "!" to "~"). Anything else was not in the Value Microsoft showed.
_PRINTABLE_ASCII_FIRST, _PRINTABLE_ASCII_LAST = 0x21, 0x7E
SECRET_NOT_ASCII = (
    "The client secret has a character that cannot be in one, such as an emoji, an accented "
    "letter or a symbol that is not on an ordinary keyboard. Client secrets use only English "
    "letters, digits and keyboard symbols such as ~ . _ -. Copy just the Value from "
    "Certificates & secrets again, or type it carefully."
)


def check_tenant(raw: str) -> Checked:
    """Tidy and check a tenant ID (a GUID) or a tenant domain."""
    if _too_long(raw, MAX_PASTE_LENGTH):
        return Checked(None, "That is far too long to be a tenant ID. " + TENANT_HELP)
    text, notes = _strip_paste(raw)
    if not text:
        return Checked(None, "Enter your tenant ID. " + TENANT_HELP)
    guid = _normalise_guid(text)
    if guid:
        return Checked(guid, tidied=tuple(notes))
    lowered = text.lower().rstrip(".")
    if _is_domain(lowered):
        return Checked(lowered, tidied=tuple(notes))
    if "/" in text or ":" in text or " " in text:
        found = _tenant_from_url(text)
        if found:
            return Checked(found, tidied=(*notes, "took the tenant from the pasted text"))
    if _GUID.search(text) is None and re.fullmatch(r"[0-9a-fA-F-]{20,40}", text):
        return Checked(
            None,
            "This is nearly a tenant ID but some characters are missing or extra. "
            "Copy it again. " + TENANT_HELP,
        )
    if lowered in _NOT_TENANTS:
        return Checked(
            None, f"“{text}” is part of a sign-in address, not your tenant. " + TENANT_HELP
        )
    return Checked(None, "That doesn't look like a tenant ID or domain. " + TENANT_HELP)


def check_client_id(raw: str) -> Checked:
    """Tidy and check an application (client) ID."""
    if _too_long(raw, MAX_PASTE_LENGTH):
        return Checked(None, "That is far too long to be a client ID. " + CLIENT_ID_HELP)
    text, notes = _strip_paste(raw)
    if not text:
        return Checked(None, "Enter the client ID. " + CLIENT_ID_HELP)
    guid = _normalise_guid(text)
    if guid:
        return Checked(guid, tidied=tuple(notes))
    if "/" in text or ":" in text or " " in text:
        found = _guid_from_url(text)
        if found:
            return Checked(found, tidied=(*notes, "took the client ID from the pasted text"))
    if "." in text and _is_domain(text.lower()):
        return Checked(
            None, "That is a domain name, which goes in the Tenant ID box. " + CLIENT_ID_HELP
        )
    return Checked(None, "That doesn't look like a client ID. " + CLIENT_ID_HELP)


def check_secret(raw: str) -> Checked:
    """Trim a client secret. Messages never quote the secret back."""
    if _too_long(raw, MAX_PASTE_LENGTH):
        return Checked(
            None,
            "That is far too long to be a client secret. Client secrets are 16 to 64 "
            "characters; copy just the Value from Certificates & secrets.",
        )
    # Control characters (a line break, a tab, NUL from some clipboards) become spaces, as in
    # the other boxes: trimmed at the ends, and refused in the middle.
    text = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch for ch in raw if ch not in _INVISIBLE
    ).strip()
    notes = ["removed spaces or invisible characters"] if text != raw else []
    if not text:
        return Checked(
            None,
            "Enter the client secret. It is the Value you copied when you created the secret "
            "in Certificates & secrets.",
        )
    if len(text) > MAX_SECRET_LENGTH:
        return Checked(
            None,
            "That is too long to be a client secret. Client secrets are 16 to 64 characters; "
            "copy just the Value from Certificates & secrets.",
        )
    if any(unicodedata.category(ch) == "Zs" for ch in text):
        return Checked(
            None,
            "The client secret has a space or line break in the middle, so part of something "
            "else was copied with it. Copy just the Value from Certificates & secrets.",
        )
    if not all(_PRINTABLE_ASCII_FIRST <= ord(ch) <= _PRINTABLE_ASCII_LAST for ch in text):
        return Checked(None, SECRET_NOT_ASCII)
    if is_guid(text):
        return Checked(text, warnings=(SECRET_ID_WARNING,), tidied=tuple(notes))
    return Checked(text, tidied=tuple(notes))


@dataclass(frozen=True)
class ConnectionInput:
    """What the user typed (untidied), and where to connect."""

    tenant: str
    client_id: str
    client_secret: str = field(repr=False)
    cloud: Cloud = field(kw_only=True)
    # Given instead of the secret when the app signs in with a certificate.
    certificate: CertificateCredential | None = field(default=None, repr=False, kw_only=True)


@dataclass(frozen=True)
class Credentials:
    """The three values once they have passed their checks."""

    tenant: str
    client_id: str
    # Left out of repr so that the secret cannot reach a log or a traceback through it.
    client_secret: str = field(repr=False)
    # The certificate the app signs in with instead of the secret (then the secret is "").
    certificate: CertificateCredential | None = field(default=None, repr=False, kw_only=True)

    def __post_init__(self) -> None:
        # Every secret the product handles is known to the log filter before it can be logged.
        remember_secret(self.client_secret)
        if self.certificate is not None:
            remember_secret(self.certificate.private_key_pem)

    @property
    def kind(self) -> str:
        """Which credential the app signs in with: ``"certificate"`` or ``"secret"``."""
        return CERTIFICATE_KIND if self.certificate is not None else SECRET_KIND


SECRET_KIND, CERTIFICATE_KIND = "secret", "certificate"


# The boxes' names, as problems are reported: "Client secret: Enter the client secret…".
TENANT_LABEL, CLIENT_ID_LABEL, SECRET_LABEL = "Tenant ID", "Client ID", "Client secret"


@dataclass(frozen=True)
class CheckedValues:
    """The format check of the three values: the one Test Settings and every command run."""

    tenant: Checked
    client_id: Checked
    client_secret: Checked = field(repr=False)
    certificate: CertificateCredential | None = field(default=None, repr=False, kw_only=True)

    def problems(self) -> list[tuple[str, str]]:
        """Each box's problem with its label, in the order of the boxes."""
        labelled = (
            (TENANT_LABEL, self.tenant),
            (CLIENT_ID_LABEL, self.client_id),
            (SECRET_LABEL, self.client_secret),
        )
        return [(label, checked.problem) for label, checked in labelled if checked.problem]

    @property
    def credentials(self) -> Credentials | None:
        """The tidied values, when all three are usable."""
        tenant, client_id, secret = self.tenant, self.client_id, self.client_secret
        if self.problems() or tenant.value is None or client_id.value is None:
            return None
        if secret.value is None:
            return None
        return Credentials(
            tenant.value, client_id.value, secret.value, certificate=self.certificate
        )

    @property
    def tidied(self) -> list[str]:
        """What was tidied in the pasted text, once each, sorted."""
        return sorted({*self.tenant.tidied, *self.client_id.tidied, *self.client_secret.tidied})


def check_values(connection: ConnectionInput) -> CheckedValues:
    if connection.certificate is not None:
        # The certificate was read and checked when it was loaded; no secret is needed.
        return CheckedValues(
            check_tenant(connection.tenant),
            check_client_id(connection.client_id),
            Checked(""),
            certificate=connection.certificate,
        )
    return CheckedValues(
        check_tenant(connection.tenant),
        check_client_id(connection.client_id),
        check_secret(connection.client_secret),
    )
