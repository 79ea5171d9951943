"""``export``: the offices and their rooms for Clearooms, as JSON or CSV, to standard output or
a file."""

from __future__ import annotations

from pathlib import Path

from clearooms_wizard.cli.exits import EXIT_OK, UsageError
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.parser import SharedOptions, Subcommands
from clearooms_wizard.core.export import FORMATS
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.runtime import workspace_use_cases


def add_commands(commands: Subcommands, shared: SharedOptions, summary: str) -> None:
    export = commands.add_parser(
        "export",
        parents=[shared.offline],
        help=summary,
        description="Write the offices and their rooms, with each room's details and calendar "
        "access, as JSON or CSV; to standard output unless --output is given.",
    )
    export.add_argument(
        "--format",
        choices=FORMATS,
        help="json or csv (default: from the --output file's extension, else json)",
    )
    export.add_argument("--output", metavar="PATH", help="write to this file instead")
    export.add_argument(
        "--force", action="store_true", help="replace the --output file if it exists"
    )
    export.set_defaults(func=run, workspace_only=True)


def run(invocation: Invocation) -> int:
    args = invocation.args
    fmt = export_format(args.format, args.output)
    if args.output is not None and not args.force:
        target = Path(args.output).expanduser()
        if target.exists() and not target.is_dir():
            raise UsageError(
                f"{printable(str(target))} already exists. Add --force to replace it, or "
                "choose another file."
            )
    exported = workspace_use_cases(invocation.command_options()).export(args.output, fmt)
    if exported.path is None:
        invocation.out.write(exported.text)
        return EXIT_OK
    offices, rooms = exported.offices, exported.rooms
    invocation.err.write(
        f"Wrote {offices} office{'s' if offices != 1 else ''} and {rooms} "
        f"room{'s' if rooms != 1 else ''} to {exported.path}.\n"
    )
    return EXIT_OK


def export_format(given: str | None, output: str | None) -> str:
    """The format asked for, else the one the output file's name says (rooms.csv: CSV), else
    JSON; a name and a --format that disagree are a usage error rather than a file whose
    name lies about what is in it."""
    if output is None:
        return given or "json"
    name = Path(output).name
    extension = Path(output).suffix.lower().lstrip(".")
    if extension in FORMATS:
        if given is not None and given != extension:
            raise UsageError(
                f"--format {given} does not match the file name “{printable(name)}”. Give a "
                f"file name ending in .{given}, or leave --format out."
            )
        return extension
    if given is None:
        raise UsageError(
            f"Cannot tell the format from the file name “{printable(name)}”: add --format "
            "json or --format csv."
        )
    return given
