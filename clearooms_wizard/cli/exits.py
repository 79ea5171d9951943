"""How a command ends: its exit code, and the exceptions that end it early with one."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad arguments or values; the message says what to give instead. Ends with EXIT_USAGE."""


class Explained(Exception):
    """A failure already explained on standard error: the command ends with EXIT_FAILED."""
