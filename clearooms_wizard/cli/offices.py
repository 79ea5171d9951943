"""``offices``: list the workspace's offices, add one, or suggest some from Microsoft 365's room
lists and buildings."""

from __future__ import annotations

import logging

from clearooms_wizard.cli.connection import runtime_for
from clearooms_wizard.cli.directory import room_directory
from clearooms_wizard.cli.exits import EXIT_OK, UsageError
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.parser import Parser, SharedOptions, Subcommands
from clearooms_wizard.cli.suggestions import quoted, same_place_flags
from clearooms_wizard.cli.workspace import opened_workspace
from clearooms_wizard.core.safetext import json_text, printable
from clearooms_wizard.core.store import OfficeNameError

log = logging.getLogger("clearooms_wizard.cli")


def add_commands(commands: Subcommands, shared: SharedOptions, summary: str) -> None:
    offices = commands.add_parser(
        "offices",
        help=summary,
        description="List the offices in the workspace, add one, or see offices suggested by "
        "Microsoft 365's room lists and buildings.",
    )
    offices.set_defaults(func=_say_what_to_do)
    offices_commands = offices.add_subparsers(
        dest="offices_command", metavar="COMMAND", parser_class=Parser
    )
    office_list = offices_commands.add_parser(
        "list",
        parents=[shared.offline],
        help="list the offices",
        description="List the offices in the workspace, with their time zones and room counts.",
    )
    office_list.add_argument("--json", action="store_true", help="print JSON")
    office_list.set_defaults(func=run_list, workspace_only=True)
    office_add = offices_commands.add_parser(
        "add",
        parents=[shared.offline],
        help="add an office",
        description="Add an office to the workspace, to import rooms into.",
    )
    office_add.add_argument("name", metavar="NAME", help='the office\'s name, e.g. "London HQ"')
    office_add.add_argument(
        "--timezone", metavar="TZ", help="its time zone, e.g. Europe/London (optional)"
    )
    office_add.set_defaults(func=run_add, workspace_only=True)
    office_suggest = offices_commands.add_parser(
        "suggest",
        parents=[shared.online],
        help="suggest offices from Microsoft 365's room lists and buildings",
        description="Suggest offices from Microsoft 365's room lists and buildings.",
    )
    office_suggest.add_argument("--json", action="store_true", help="print JSON")
    office_suggest.set_defaults(func=run_suggest)


def _say_what_to_do(invocation: Invocation) -> int:
    raise UsageError("Say what to do with offices, for example: clearooms-wizard offices list")


def run_list(invocation: Invocation) -> int:
    options, out = invocation.command_options(), invocation.out
    with opened_workspace(options, invocation.err, read_only=True) as workspace:
        offices = workspace.list_offices()
    if invocation.args.json:
        out.write(json_text([o.to_json() for o in offices]))
        return EXIT_OK
    if not offices:
        out.write(
            "There are no offices yet. Add one with: clearooms-wizard offices add "
            f'"London HQ"{same_place_flags(options)}\n'
            "or see suggestions from your room lists and buildings with: clearooms-wizard "
            f"offices suggest{same_place_flags(options)}\n"
        )
        return EXIT_OK
    width = min(40, max(len(o.name) for o in offices))
    zone_width = max([len(o.timezone or "") for o in offices] + [9])
    for office in offices:
        rooms = f"{office.room_count} room{'s' if office.room_count != 1 else ''}"
        zone = office.timezone or "-"
        out.write(f"{printable(office.name).ljust(width)}  {zone.ljust(zone_width)}  {rooms}\n")
    return EXIT_OK


def run_add(invocation: Invocation) -> int:
    args, options, out = invocation.args, invocation.command_options(), invocation.out
    with opened_workspace(options, invocation.err) as workspace:
        try:
            office = workspace.add_office(args.name, args.timezone)
        except OfficeNameError:
            taken = workspace.find_office(args.name)
            if taken is None:
                raise
            # The wizard's wording ("choose it from the list") points at a list there is not here.
            raise UsageError(
                f"There is already an office called “{printable(taken.name)}”. Import into it "
                f"with: clearooms-wizard rooms import --office {quoted(printable(taken.name))} "
                f"--all{same_place_flags(options)} (clearooms-wizard offices list shows them "
                "all), or give the new office a different name."
            ) from None
        where = workspace.path
    log.info("added the office “%s” (time zone %s)", office.name, office.timezone or "none")
    zone = f" (time zone {office.timezone})" if office.timezone else ""
    out.write(f"Added the office “{printable(office.name)}”{zone} to {where}.\n")
    out.write(
        "Next, import its rooms with: clearooms-wizard rooms import --office "
        f"{quoted(office.name)} --all{same_place_flags(options)}\n"
    )
    return EXIT_OK


def run_suggest(invocation: Invocation) -> int:
    options, out, err = invocation.command_options(), invocation.out, invocation.err
    with opened_workspace(options, err, read_only=True) as workspace:
        existing = workspace.list_offices()
    runtime = runtime_for(options, err)
    directory = room_directory(runtime, err)
    suggestions = runtime.use_cases.suggest_offices(directory, existing)
    if invocation.args.json:
        payload = [s.to_json() for s in suggestions]
        out.write(json_text(payload))
        return EXIT_OK
    if not suggestions:
        reason = (
            "Microsoft 365 listed no rooms."
            if not directory.rooms
            else "Every room list and building already has an office, or none are set."
        )
        out.write(f"No suggestions. {reason}\n")
        return EXIT_OK
    out.write("Offices suggested by your room lists and buildings in Microsoft 365:\n")
    width = min(40, max(len(s.name) for s in suggestions))
    for suggestion in suggestions:
        rooms = f"{suggestion.room_count} room{'s' if suggestion.room_count != 1 else ''}"
        out.write(
            f"  {printable(suggestion.name).ljust(width)}  {suggestion.source.ljust(9)}  {rooms}\n"
        )
    first = suggestions[0].name
    out.write(
        f"\nAdd one with: clearooms-wizard offices add {quoted(printable(first))}"
        f"{same_place_flags(options)}\n"
    )
    return EXIT_OK
