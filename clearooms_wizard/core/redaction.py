"""Removing secrets and access tokens from text: reports, logs, crash dialogs."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A JWT: three base64url parts, the first two starting with the encoding of '{"'.
_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
# An Entra client secret as made since 2021: three characters, 7 or 8, "Q~", then 31 to 34 more
# (the "identifiable" format Microsoft's own credential scanners look for). The Q may have been
# lowercased on the way, as a URL's host is. The marker is rare enough to go on alone: whatever
# follows it is taken, so that a secret pasted twice, or cut short with an ellipsis, goes too.
_ENTRA_SECRET = re.compile(r"[A-Za-z0-9_~.-]{3}[78][Qq]~[A-Za-z0-9_~.-]*")
# Older secrets: 32 to 44 characters of base64 or URL-safe text, with no sign of what they are.
_OLD_SECRET = re.compile(r"[A-Za-z0-9+/=_~.\-\[\]:*@?]{32,44}")
_GUID = re.compile(r"\{?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?")
_FILE_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{1,7}$")
SECRET_REMOVED = "[secret removed]"
TOKEN_REMOVED = "[token removed]"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, SECRET_REMOVED)
    text = _ENTRA_SECRET.sub(SECRET_REMOVED, text)
    text = _TOKEN.sub(TOKEN_REMOVED, text)
    return _BEARER.sub(lambda m: m.group(1) + TOKEN_REMOVED, text)


def looks_like_secret(text: str) -> bool:
    """Whether a value someone typed may be a client secret pasted in the wrong place: then it
    must not be shown back. A long mixed-case word with digits counts; a web address, a GUID or
    a file name does not."""
    value = text.strip()
    if _ENTRA_SECRET.search(value):
        return True
    if not _OLD_SECRET.fullmatch(value) or "://" in value or _GUID.fullmatch(value):
        return False
    if _FILE_EXTENSION.search(value):
        return False
    return (
        any(ch.isupper() for ch in value)
        and any(ch.islower() for ch in value)
        and any(ch.isdigit() for ch in value)
    )
