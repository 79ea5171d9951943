"""``main``: parse the command line, run the command the parser chose, and turn what ends it
into an exit code and a message."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO, cast

from clearooms_wizard import __version__
from clearooms_wizard.cli.exits import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Explained,
    UsageError,
)
from clearooms_wizard.cli.invocation import Command, Invocation, OpenWizard
from clearooms_wizard.cli.output import GuardedOutput, secret_like_values
from clearooms_wizard.cli.parser import parse
from clearooms_wizard.cli.scenarios import list_scenarios
from clearooms_wizard.core.cancel import Cancelled
from clearooms_wizard.core.clouds import UrlProblem
from clearooms_wizard.core.errors import CaBundleProblem
from clearooms_wizard.core.logs import LEVELS, configure_logging

# The log names the command line as a whole, whichever module writes.
log = logging.getLogger("clearooms_wizard.cli")


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    *,
    open_wizard: OpenWizard | None = None,
) -> int:
    """Run the command line. Without a command it opens the wizard through ``open_wizard``,
    which the entry point (``__main__.py``) passes in: the command line never loads it."""
    words = tuple(sys.argv[1:] if argv is None else argv)
    secret_like = secret_like_values(words, os.environ)
    out = cast(TextIO, GuardedOutput(stdout or sys.stdout, secret_like))
    err = cast(TextIO, GuardedOutput(stderr or sys.stderr, secret_like))
    args = parse(words, _open_wizard)
    level = getattr(args, "log_level", None) or os.environ.get("CLEAROOMS_LOG_LEVEL", "info")
    configure_logging(level if level in LEVELS else "info")
    log.info("clearooms-wizard %s: %s", __version__, command_name(args))
    invocation = Invocation(args, stdin or sys.stdin, out, err, open_wizard)
    command: Command = args.func
    try:
        if getattr(args, "demo_scenario", None) == "list":
            return list_scenarios(out)
        return command(invocation)
    except _usage_errors() as exc:
        err.write(f"clearooms-wizard: {exc}\n")
        return EXIT_USAGE
    except _failures() as exc:
        err.write(f"clearooms-wizard: {exc}\n")
        return EXIT_FAILED
    except Cancelled:
        err.write("Stopped.\n")
        return EXIT_INTERRUPTED
    except Explained:
        return EXIT_FAILED


def command_name(args: argparse.Namespace) -> str:
    """The command and subcommand, for the log: never a value given to them."""
    words = [args.command or "wizard"]
    words += [getattr(args, f"{args.command}_command", None) or ""] if args.command else []
    return " ".join(word for word in words if word)


def _open_wizard(invocation: Invocation) -> int:
    if invocation.open_wizard is None:
        raise UsageError("Give a command (see --help): this entry point does not open the wizard.")
    return invocation.open_wizard(invocation.command_options())


# The two lookups below run only when an exception reaches main(). Importing the store, the
# workspace and the export up front would load them (and sqlite3) before the wizard's first page
# is painted, rather than later on a worker thread: about 20 ms more, on a cold start whose
# target is 1.5 times a bare QWizard's (some 60 ms over it in all).


def _usage_errors() -> tuple[type[Exception], ...]:
    from clearooms_wizard.core.store import InvalidInput

    return (UsageError, UrlProblem, CaBundleProblem, InvalidInput)


def _failures() -> tuple[type[Exception], ...]:
    from clearooms_wizard.core.export import ExportError
    from clearooms_wizard.core.workspace import WorkspaceError

    return (WorkspaceError, ExportError)
