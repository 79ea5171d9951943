"""How a command ends: its exit code, and the exceptions that end it early with one."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad arguments or values; the message says what to give instead. Ends with EXIT_USAGE."""


class Explained(Exception):
    """A failure already explained on standard error: the command ends with EXIT_FAILED."""


def fail_within_days(raw: str | None) -> int | None:
    """The number of days of ``--fail-within``, for a scheduled task's exit code."""
    if raw is None:
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 3650:
        raise UsageError("--fail-within: give a number of days, such as 30.")
    return int(text)
