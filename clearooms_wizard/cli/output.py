"""What reaches the terminal. Every command writes through :class:`GuardedOutput`: whatever a
message, a table or an export forgot to clean, no secret and no terminal control reaches it."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import TextIO

from clearooms_wizard.core.logs import known_secrets
from clearooms_wizard.core.redaction import looks_like_secret, redact
from clearooms_wizard.core.safetext import printable

# What the progress lines write to erase themselves: the one control sequence we print.
ERASE_LINE = "\r\033[K"

_VALUE_PARTS = re.compile(r"[/\\?#&;,\s]+|://")


def secret_like_values(words: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The values given to this run (options, arguments, CLEAROOMS_* variables) that may be a
    client secret pasted in the wrong place."""
    values = [word.partition("=")[2] if word.startswith("-") else word for word in words]
    values += [value for name, value in env.items() if name.startswith("CLEAROOMS_")]
    # A secret may also be one part of an address or a path ("https://host/<secret>").
    pieces = [piece for value in values for piece in _VALUE_PARTS.split(value)]
    return [value.strip() for value in (*values, *pieces) if looks_like_secret(value)]


def shown(text: str, secret_like: Sequence[str]) -> str:
    """What may reach the terminal of ``text``: no secret (one given to this run, one this
    process has seen, or anything shaped like one), and no character a terminal would obey
    apart from line breaks and what a progress line writes: a carriage return at its start, and
    the sequence that erases it."""
    secrets = [*secret_like, *(s for s in known_secrets() if len(s) >= 8)]
    text = redact(text, secrets)
    if text.startswith(ERASE_LINE) or not text.startswith("\r"):
        start = ""
    else:
        start, text = "\r", text[1:]
    return start + ERASE_LINE.join(printable(part, keep="\n") for part in text.split(ERASE_LINE))


class GuardedOutput(io.TextIOBase):
    """Standard output or error as every command writes to it, through :func:`shown`."""

    def __init__(self, stream: TextIO, secret_like: Sequence[str]) -> None:
        super().__init__()
        self._stream = stream
        self._secret_like = tuple(secret_like)

    def write(self, text: str) -> int:
        self._stream.write(shown(text, self._secret_like))
        return len(text)

    def write_revealing(self, text: str, secret: str) -> None:
        """``text`` as :meth:`write` shows it, except for ``secret`` itself: the one time a
        user asks to see a secret (``register --show-secret``). Nothing else is let through."""
        parts = text.split(secret) if secret else [text]
        self._stream.write(printable(secret).join(shown(p, self._secret_like) for p in parts))

    def write_document(self, text: str, newline: str) -> None:
        """A file's text whose lines end in ``newline`` (an .ics file's CRLF), each line as
        :meth:`write` shows text: only the line endings keep their carriage returns."""
        self._stream.write(
            newline.join(shown(line, self._secret_like) for line in text.split(newline))
        )

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()
