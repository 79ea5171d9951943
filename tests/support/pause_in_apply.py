"""Run the command line, pausing inside the import's transaction so a test can act there.

    python -m tests.support.pause_in_apply MARKER WHERE SECONDS -- clearooms-wizard arguments…

WHERE is ``write:N`` (just after the N-th room row is written, inside the transaction) or
``committed`` (just after the transaction has committed). There the process writes MARKER and
sleeps SECONDS, then carries on: a test either kills it (SIGKILL) during the pause, or lets it
finish while another process tries to import at the same time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from clearooms_wizard.cli import main
from clearooms_wizard.core.workspace import Workspace


def _pause(marker: Path, seconds: float) -> None:
    marker.write_text("paused\n")
    time.sleep(seconds)


def install(marker: Path, where: str, seconds: float) -> None:
    if where.startswith("write:"):
        after = int(where.split(":", 1)[1])
        original_write = Workspace._write_room
        written = 0

        def write_room(self: Workspace, *args: Any) -> None:
            nonlocal written
            original_write(self, *args)
            written += 1
            if written == after:
                _pause(marker, seconds)

        Workspace._write_room = write_room  # type: ignore[method-assign,assignment]
    elif where == "committed":
        original_apply = Workspace.apply_import

        def apply_import(self: Workspace, *args: Any) -> Any:
            result = original_apply(self, *args)
            _pause(marker, seconds)
            return result

        Workspace.apply_import = apply_import  # type: ignore[method-assign,assignment]
    else:
        raise SystemExit(f"unknown pause point {where!r}")


def run(argv: list[str]) -> int:
    marker, where, seconds, separator, *cli_args = argv
    if separator != "--":
        raise SystemExit(__doc__)
    install(Path(marker), where, float(seconds))
    return main(cli_args)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
