"""Run the command line, marking when the import's write begins and ends, for SIGKILL trials.

    python -m tests.support.kill_window MARKER -- clearooms-wizard arguments…

Writes ``MARKER.start`` just before the import's transaction begins and ``MARKER.done`` once it
has committed, each holding ``time.time()``, and otherwise runs exactly as the command line
does. A test kills the process at a random moment, often inside that window, and then checks
that the workspace holds either the state before the import or the state after it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from clearooms_wizard.cli import main
from clearooms_wizard.core.workspace import Workspace


def install(marker: Path) -> None:
    original = Workspace.apply_import

    def apply_import(self: Workspace, *args: Any) -> Any:
        Path(f"{marker}.start").write_text(repr(time.time()))
        result = original(self, *args)
        Path(f"{marker}.done").write_text(repr(time.time()))
        return result

    Workspace.apply_import = apply_import  # type: ignore[method-assign,assignment]


def run(argv: list[str]) -> int:
    marker, separator, *cli_args = argv
    if separator != "--":
        raise SystemExit(__doc__)
    install(Path(marker))
    return main(cli_args)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
