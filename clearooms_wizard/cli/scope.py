"""``scope script``: the PowerShell script an Exchange administrator runs to limit the app to
the room mailboxes, written for this organisation, to standard output or a file."""

from __future__ import annotations

from pathlib import Path

from clearooms_wizard.cli.connection import credentials, runtime_for
from clearooms_wizard.cli.directory import explain, is_local
from clearooms_wizard.cli.exits import EXIT_FAILED, EXIT_OK, Explained, UsageError
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.parser import Parser, SharedOptions, Subcommands
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.core.scope_script import write_script_file


def add_commands(commands: Subcommands, shared: SharedOptions, summary: str) -> None:
    scope = commands.add_parser(
        "scope",
        help=summary,
        description="Limit the app's calendar access to the room mailboxes.",
    )
    scope.set_defaults(func=_say_what_to_do)
    scope_commands = scope.add_subparsers(
        dest="scope_command", metavar="COMMAND", parser_class=Parser
    )
    script = scope_commands.add_parser(
        "script",
        parents=[shared.online],
        help="write the PowerShell script for an Exchange administrator",
        description="Write the PowerShell script an Exchange administrator runs to limit the "
        "app to the room mailboxes, with this organisation's values filled in (read with the "
        "app's own sign-in); to standard output unless --output is given. It holds no secret.",
    )
    script.add_argument("--output", metavar="FILE", help="write the script to this file instead")
    script.add_argument(
        "--force", action="store_true", help="replace the --output file if it exists"
    )
    script.set_defaults(func=run_script)


def _say_what_to_do(invocation: Invocation) -> int:
    raise UsageError("Say what to do, for example: clearooms-wizard scope script")


def run_script(invocation: Invocation) -> int:
    args, out, err = invocation.args, invocation.out, invocation.err
    target = None if args.output is None else Path(args.output).expanduser()
    if target is not None and not args.force and target.exists() and not target.is_dir():
        raise UsageError(
            f"{printable(str(target))} already exists. Add --force to replace it, or choose "
            "another file."
        )
    runtime = runtime_for(invocation.command_options(), err)
    signed_in = credentials(runtime)
    cancel = CancelToken()
    try:
        script = runtime.use_cases.scope_script(signed_in, runtime.connection.cloud, cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        raise Cancelled from None
    except ClearoomsError as exc:
        if is_local(exc):
            raise
        explain(exc, err)
        raise Explained from None
    if target is None:
        out.write(script.text)
    else:
        try:
            write_script_file(script.text, target)
        except ClearoomsError as exc:
            err.write(f"{printable(str(exc))}\n")
            return EXIT_FAILED
        err.write(f"Wrote the script to {printable(str(target))}.\n")
    for sentence in script.missing:
        err.write(f"To fill in (marked FILL IN in the script): {printable(sentence)}\n")
    err.write(
        "An Exchange administrator runs it in PowerShell. It has no effect until the "
        "Calendars.ReadWrite admin consent is removed in Microsoft Entra ID (the script says "
        "how), and Exchange Online takes 30 minutes to 2 hours to apply it.\n"
    )
    return EXIT_OK
