"""Progress written over one line of standard error (a terminal's), erased when done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from clearooms_wizard.cli.output import ERASE_LINE


@contextmanager
def progress_line(err: TextIO, show: bool) -> Iterator[None]:
    """Erases the progress line at the end, however the work inside ends."""
    try:
        yield
    finally:
        if show:
            err.write(ERASE_LINE)
            err.flush()


def rooms_progress(err: TextIO, show: bool) -> Callable[[int], None]:
    """The count of rooms loaded so far."""

    def progress(count: int) -> None:
        if show:
            err.write(f"\rLoading rooms… {count}")
            err.flush()

    return progress
