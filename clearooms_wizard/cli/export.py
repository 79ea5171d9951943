"""``export``: the offices and their rooms for Clearooms, as JSON or CSV, to standard output or
a file."""

from __future__ import annotations

from clearooms_wizard.cli.exits import EXIT_OK
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.parser import Parser, Subcommands
from clearooms_wizard.core.export import FORMATS
from clearooms_wizard.runtime import workspace_use_cases


def add_commands(commands: Subcommands, common: Parser, summary: str) -> None:
    export = commands.add_parser(
        "export",
        parents=[common],
        help=summary,
        description="Write the offices and their rooms, with each room's details and calendar "
        "access, as JSON (default) or CSV; to standard output unless --output is given.",
    )
    export.add_argument("--format", choices=FORMATS, default="json", help="json (default) or csv")
    export.add_argument("--output", metavar="PATH", help="write to this file instead")
    export.set_defaults(func=run)


def run(invocation: Invocation) -> int:
    args = invocation.args
    exported = workspace_use_cases(invocation.command_options()).export(args.output, args.format)
    if exported.path is None:
        invocation.out.write(exported.text)
        return EXIT_OK
    offices, rooms = exported.offices, exported.rooms
    invocation.err.write(
        f"Wrote {offices} office{'s' if offices != 1 else ''} and {rooms} "
        f"room{'s' if rooms != 1 else ''} to {exported.path}.\n"
    )
    return EXIT_OK
