"""``python -m clearooms_wizard`` and the ``clearooms-wizard`` command."""

from __future__ import annotations

import os
import sys


def main() -> int:
    from clearooms_wizard.cli import main as cli_main

    try:
        return cli_main(sys.argv[1:])
    except BrokenPipeError:
        # The reader went away (for example `| head`): stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
