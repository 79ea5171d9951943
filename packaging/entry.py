"""The frozen app's entry point: the same program as ``python -m clearooms_wizard``.

With no arguments it opens the wizard; with a command (``check --demo``) it is the command line.
"""

from __future__ import annotations

import os
import sys


def _ensure_standard_streams() -> None:
    """A windowed Windows build starts with no console: ``sys.stdout`` and ``sys.stderr`` are None.

    Writing to them would crash the program, so they go to the null device instead. The command
    line is for ``clearooms-wizard-cli.exe`` there, the console twin built next to it. On Linux
    and macOS a windowed build keeps the streams it was started with.
    """
    for name in ("stdin", "stdout", "stderr"):
        if getattr(sys, name) is None:
            mode = "r" if name == "stdin" else "w"
            setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115


def main() -> int:
    _ensure_standard_streams()
    from clearooms_wizard.__main__ import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
