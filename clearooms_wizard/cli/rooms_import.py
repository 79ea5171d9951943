"""``rooms import``: import rooms from Microsoft 365 into an office of the workspace; shows the
plan, checks each room's calendar, then writes everything in one go."""

from __future__ import annotations

import argparse
from typing import TextIO

from clearooms_wizard.cli.connection import credentials, runtime_for
from clearooms_wizard.cli.directory import explain, is_local
from clearooms_wizard.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from clearooms_wizard.cli.import_report import print_import_result, print_plan
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.parser import SharedOptions, Subcommands
from clearooms_wizard.cli.progress import progress_line, rooms_progress
from clearooms_wizard.cli.workspace import existing_office, opened_workspace
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.importer import ImportProgress, select_rooms
from clearooms_wizard.core.safetext import json_text, printable
from clearooms_wizard.core.store import InvalidInput, check_room_email
from clearooms_wizard.core.usecases import ImportRequest
from clearooms_wizard.runtime import ConnectionOptions


def add_command(rooms_commands: Subcommands, shared: SharedOptions) -> None:
    importing = rooms_commands.add_parser(
        "import",
        parents=[shared.online],
        help="import rooms into a Clearooms office in the workspace",
        description="Import rooms from Microsoft 365 into an office: shows the plan, checks "
        "each room's calendar, then writes everything in one go. Running it again changes "
        "nothing. Exit 0 when no chosen room failed, 1 when one did, 2 for a usage error.",
    )
    importing.add_argument("--office", required=True, metavar="NAME", help="the office")
    chosen = importing.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--all", action="store_true", help="every room Microsoft 365 lists")
    chosen.add_argument(
        "--room",
        action="extend",
        nargs="+",
        metavar="EMAIL",
        help="the rooms with these email addresses",
    )
    chosen.add_argument("--room-list", metavar="EMAIL", help="the rooms of this room list")
    importing.add_argument(
        "--dry-run", action="store_true", help="show the plan only; check and write nothing"
    )
    importing.add_argument(
        "--include-blocked",
        action="store_true",
        help="also import rooms whose calendars cannot be read yet",
    )
    importing.add_argument("--json", action="store_true", help="print the plan and result as JSON")
    importing.set_defaults(func=run)


def run(invocation: Invocation) -> int:
    options = invocation.command_options()
    try:
        return _import(invocation.args, options, invocation.out, invocation.err)
    except InvalidInput as exc:
        raise UsageError(f"{exc} Nothing was written.") from None


def _import(args: argparse.Namespace, options: ConnectionOptions, out: TextIO, err: TextIO) -> int:
    # Everything that can be checked without Microsoft is checked first: a typo costs nothing.
    emails = [check_room_email(e) for e in (args.room or [])]
    room_list = check_room_email(args.room_list) if args.room_list else None
    as_json = bool(args.json)
    with opened_workspace(options, err) as workspace:
        office = existing_office(workspace, args.office)
    runtime = runtime_for(options, err)
    use_cases, cloud = runtime.use_cases, runtime.connection.cloud
    where = use_cases.workspace_path
    if not as_json:
        demo = f" (demo tenant “{runtime.scenario.name}”)" if runtime.scenario else ""
        out.write(f"Importing rooms into “{printable(office.name)}” in {where}{demo}\n")
        out.flush()
    cancel = CancelToken()
    show_progress = err.isatty() and not as_json

    def progress(step: ImportProgress) -> None:
        if show_progress:
            err.write(f"\rChecking room calendars… {step.done} of {step.total}")
            err.flush()

    try:
        signed_in = credentials(runtime)
        with use_cases.graph(signed_in, cloud, cancel) as graph:
            with progress_line(err, err.isatty()):
                directory = graph.load_rooms(rooms_progress(err, err.isatty()))
            chosen = select_rooms(directory, all_rooms=args.all, emails=emails, room_list=room_list)
            request = ImportRequest(office.name, False, tuple(chosen), directory, signed_in, cloud)
            plan = use_cases.plan_import(request)
            if not as_json:
                print_plan(plan, directory, out)
            if args.dry_run:
                if as_json:
                    out.write(json_text({"workspace": str(where), "plan": plan.to_json()}))
                else:
                    out.write("\nDry run: no calendar was checked and nothing was written.\n")
                return EXIT_OK
            with progress_line(err, show_progress):
                prepared = use_cases.check_calendars(graph, request, plan, cancel, progress)
        result = use_cases.apply_import(prepared, args.include_blocked, cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        err.write("\nStopped. Nothing was written.\n")
        return EXIT_INTERRUPTED
    except ClearoomsError as exc:
        if is_local(exc):
            raise
        explain(exc, err, loading_rooms=True)
        err.write("Nothing was written.\n")
        return EXIT_FAILED
    if as_json:
        payload = {"workspace": str(where), "plan": plan.to_json(), "result": result.to_json()}
        out.write(json_text(payload))
    else:
        print_import_result(result, options, out)
    return EXIT_OK if result.ok else EXIT_FAILED
