"""``python -m clearooms_wizard`` and the ``clearooms-wizard`` command: the command line, which
opens the wizard when no command is given."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from clearooms_wizard.cli import main as cli_main
from clearooms_wizard.runtime import ConnectionOptions


def open_wizard(options: ConnectionOptions) -> int:
    # Loaded only to open the wizard, so that a command never loads the wizard's side (app, ui),
    # and with it, one day, Qt.
    from clearooms_wizard.app import run_wizard

    return run_wizard(options)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return cli_main(sys.argv[1:] if argv is None else argv, open_wizard=open_wizard)
    except BrokenPipeError:
        # The reader went away (for example `| head`): stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
