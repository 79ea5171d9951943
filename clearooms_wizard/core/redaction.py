"""Removing secrets and access tokens from text: reports, logs, crash dialogs."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A JWT: three base64url parts, the first two starting with the encoding of '{"'.
_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
SECRET_REMOVED = "[secret removed]"
TOKEN_REMOVED = "[token removed]"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, SECRET_REMOVED)
    text = _TOKEN.sub(TOKEN_REMOVED, text)
    return _BEARER.sub(lambda m: m.group(1) + TOKEN_REMOVED, text)
