"""Text from outside (Microsoft 365, a workspace, a command line) made safe to show or log.

A terminal obeys control characters: ESC starts a sequence that can clear the screen, retitle
the window or write to the clipboard; BEL rings; a line break in a room name can forge a line of
output or of the log. Direction controls make text display in another order than it is read
(the "Trojan Source" trick). None of them belongs in a room name, an error code or a message.
"""

from __future__ import annotations

import json
import re

# C0 controls, DEL and C1 controls, plus the Unicode line and paragraph separators, which some
# terminals and log viewers break lines at.
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
# Unicode's Bidi_Control characters: marks, embeddings, overrides and isolates.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROLS}{_BIDI}]")
_CONTROL = re.compile(f"[{_CONTROLS}]")
# Characters that separate words: shown as a space, so "Board\nroom" stays two words.
_BREAKS = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _plain(match: re.Match[str]) -> str:
    return " " if match.group() in _BREAKS else ""


def printable(text: str | None, keep: str = "") -> str:
    """``text`` as a terminal may show it: one line, nothing a terminal would obey, nothing that
    reorders what is shown. Breaks and tabs become spaces; every other such character goes,
    except those in ``keep`` (a whole message keeps its own line breaks)."""
    if not text:
        return ""
    if not keep:
        return _UNSAFE.sub(_plain, text)
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _plain(m), text)


def without_controls(text: str) -> str:
    """``text`` without control characters, and with direction marks kept: for a file, where a
    right-to-left room name should stay as Microsoft 365 has it."""
    return _CONTROL.sub(_plain, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def escaped(text: str) -> str:
    """``text`` on one line with every unsafe character written as an escape (``\\n``,
    ``\\u001b``): for the log, where support staff need to see what was there."""
    return _UNSAFE.sub(_escape, text)


# What json.dumps(ensure_ascii=False) leaves as it is: it escapes only C0 controls.
_UNSAFE_AFTER_JSON = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}]")


def json_text(value: object) -> str:
    """``value`` as indented JSON, readable (non-ASCII letters kept) and safe to print: each
    unsafe character is a ``\\u`` escape, so a JSON reader gets exactly the same strings."""
    dumped = json.dumps(value, indent=2, ensure_ascii=False)
    # Outside strings JSON is ASCII, so every match is inside a string, where an escape is valid.
    return _UNSAFE_AFTER_JSON.sub(_escape, dumped) + "\n"
