"""``rooms``: ``rooms list`` (the rooms Microsoft 365 knows, as a table, JSON or CSV) and
``rooms import`` (in ``rooms_import.py``)."""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence
from typing import TextIO

from clearooms_wizard.cli import rooms_import
from clearooms_wizard.cli.connection import runtime_for
from clearooms_wizard.cli.directory import room_directory
from clearooms_wizard.cli.exits import EXIT_OK, UsageError
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.parser import Parser, SharedOptions, Subcommands
from clearooms_wizard.core.export import csv_cell
from clearooms_wizard.core.fixes import rooms_left_out
from clearooms_wizard.core.model import Room
from clearooms_wizard.core.safetext import json_text, printable

# Columns of the table: an email (1) and a number of seats (2) are never wrapped.
_WRAP_AT = 40
_NEVER_WRAPPED = {1, 2}
_CSV_FIELDS = ("email", "name", "capacity", "building", "floor_number", "floor_label", "room_lists")


def add_commands(commands: Subcommands, shared: SharedOptions, summary: str) -> None:
    rooms = commands.add_parser(
        "rooms",
        help=summary,
        description="List the rooms Microsoft 365 knows, or import them into an office.",
    )
    rooms.set_defaults(func=_say_what_to_do)
    rooms_commands = rooms.add_subparsers(
        dest="rooms_command", metavar="COMMAND", parser_class=Parser
    )
    listing = rooms_commands.add_parser(
        "list",
        parents=[shared.online],
        help="list the rooms Microsoft 365 knows",
        description="List the rooms Microsoft 365 knows, as a table, JSON or CSV.",
    )
    formats = listing.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print JSON")
    formats.add_argument("--csv", action="store_true", help="print CSV")
    listing.set_defaults(func=run_list)
    rooms_import.add_command(rooms_commands, shared)


def _say_what_to_do(invocation: Invocation) -> int:
    raise UsageError("Say what to do with rooms, for example: clearooms-wizard rooms list")


def run_list(invocation: Invocation) -> int:
    args, out, err = invocation.args, invocation.out, invocation.err
    runtime = runtime_for(invocation.command_options(), err)
    directory = room_directory(runtime, err)
    rooms = sorted(directory.rooms, key=lambda r: (r.name.casefold(), r.key))
    if args.json:
        out.write(json_text([r.to_json() for r in rooms]))
    elif args.csv:
        out.write(rooms_csv(rooms))
    else:
        print_rooms(rooms, directory.skipped, out)
    return EXIT_OK


def rooms_csv(rooms: Sequence[Room]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_FIELDS)
    for room in rooms:
        data = room.to_json()
        data["room_lists"] = ";".join(room.room_lists)
        writer.writerow([csv_cell(data[name], for_terminal=True) for name in _CSV_FIELDS])
    return buffer.getvalue()


def _wrapped(text: str) -> list[str]:
    # Continued lines are indented: none of them reads as a room of its own, nor starts with
    # text a name could use to forge one.
    lines = textwrap.wrap(text, _WRAP_AT, subsequent_indent="  ", break_on_hyphens=False)
    return lines or [text[:_WRAP_AT]]


def print_rooms(rooms: Sequence[Room], skipped: int, out: TextIO) -> None:
    left_out = rooms_left_out(skipped)
    note = f"{left_out.summary} {left_out.fix}\n" if skipped else ""
    if not rooms:
        out.write(
            "No rooms were found. Rooms hidden from the address list are left out by Microsoft, "
            "new rooms can take up to 48 hours to appear, and only Exchange Online rooms are "
            "listed.\n" + note
        )
        return
    headers = ("Name", "Email", "Seats", "Building", "Floor")
    rows = [
        (
            printable(r.name),
            printable(r.email),
            "" if r.capacity is None else str(r.capacity),
            printable(r.building),
            printable(r.floor_label or (str(r.floor_number) if r.floor_number is not None else "")),
        )
        for r in rooms
    ]
    # An email is never cut (a pasted one must work); a long name or building wraps instead.
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    widths = [w if i in _NEVER_WRAPPED else min(_WRAP_AT, w) for i, w in enumerate(widths)]
    for row in (headers, *rows):
        cells = [
            [cell] if i in _NEVER_WRAPPED or len(cell) <= _WRAP_AT else _wrapped(cell)
            for i, cell in enumerate(row)
        ]
        for line in range(max(len(lines) for lines in cells)):
            parts = (lines[line] if line < len(lines) else "" for lines in cells)
            out.write("  ".join(p.ljust(widths[i]) for i, p in enumerate(parts)).rstrip() + "\n")
    out.write(f"\n{len(rooms)} room{'s' if len(rooms) != 1 else ''}.\n{note}")
