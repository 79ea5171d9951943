"""What ``rooms import`` prints: the plan before anything is checked, then the result."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TextIO

from clearooms_wizard.cli.suggestions import same_place_flags
from clearooms_wizard.core.fixes import NO_ROOMS, rooms_left_out
from clearooms_wizard.core.importer import ImportPlan, ImportResult, RoomOutcome
from clearooms_wizard.core.model import RoomDirectory, RoomStatus
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.runtime import ConnectionOptions

_PLAN_WORDS = {
    RoomStatus.NEW: "new",
    RoomStatus.UPDATED: "update",
    RoomStatus.MOVING: "move",
    RoomStatus.UNCHANGED: "unchanged",
}
_PLAN_COUNTS = (
    (RoomStatus.NEW, "new"),
    (RoomStatus.UPDATED, "to update"),
    (RoomStatus.MOVING, "to move here from another office"),
    (RoomStatus.UNCHANGED, "unchanged"),
)


def _room_line(name: str, email: str, width: int) -> str:
    return f"{printable(name)[:40].ljust(width)}  {printable(email)}"


def print_plan(plan: ImportPlan, directory: RoomDirectory, out: TextIO) -> None:
    counts = plan.counts()
    total = len(directory.rooms)
    if not total:
        out.write(f"{NO_ROOMS.summary}\nWhat to do: {NO_ROOMS.fix}\n\n")
    out.write(
        f"Microsoft 365 lists {total} room{'s' if total != 1 else ''}; "
        f"{len(plan.rooms)} chosen for “{printable(plan.office.name)}”.\n\n"
    )
    if directory.skipped:
        left_out = rooms_left_out(directory.skipped)
        out.write(f"{left_out.summary}\nWhat to do: {left_out.fix}\n\n")
    parts = [
        f"{counts[status.value]} {words}" for status, words in _PLAN_COUNTS if counts[status.value]
    ]
    out.write(f"Plan: {', '.join(parts) or 'nothing to import'}.\n")
    shown = [p for p in plan.rooms if p.status is not RoomStatus.UNCHANGED]
    width = min(40, max([len(p.room.name) for p in shown] + [4]))
    for planned in shown:
        line = _room_line(planned.room.name, planned.room.email, width)
        out.write(f"  {_PLAN_WORDS[planned.status].ljust(9)} {line}\n")
        if planned.moving_from is not None:
            out.write(f"{'':12}from the office “{printable(planned.moving_from)}”\n")
        details = [c.describe() for c in planned.changes if c.field != "office"]
        if details:
            out.write(f"{'':12}{printable('; '.join(details))}\n")
    if plan.missing:
        out.write(
            f"\n{len(plan.missing)} imported room{'s are' if len(plan.missing) != 1 else ' is'} "
            "no longer listed by Microsoft 365. "
            "They are kept, not deleted; check whether they were removed or renamed:\n"
        )
        width = min(40, max(len(m.name) for m in plan.missing))
        for room in plan.missing:
            line = _room_line(room.name, room.email, width)
            out.write(f"  {line}  (office “{printable(room.office_name)}”)\n")
    out.flush()


def _print_grouped(outcomes: Sequence[RoomOutcome], out: TextIO) -> None:
    groups: defaultdict[tuple[str, str], list[RoomOutcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[(outcome.reason or "", outcome.fix or "")].append(outcome)
    for (reason, fix), rooms in groups.items():
        out.write(f"  {printable(reason)}\n")
        for room in rooms:
            out.write(f"    - {printable(room.name)} ({printable(room.email)})\n")
        if fix:
            out.write(f"    What to do: {printable(fix)}\n")


def print_import_result(result: ImportResult, options: ConnectionOptions, out: TextIO) -> None:
    counts = result.counts()
    out.write(
        f"\nDone: {counts['new']} new, {counts['updated']} updated, {counts['unchanged']} "
        f"unchanged, {counts['blocked']} blocked, {counts['failed']} failed.\n"
    )
    width = min(40, max([len(r.name) for r in result.rooms] + [4]))
    for outcome in result.updated:
        line = _room_line(outcome.name, outcome.email, width)
        out.write(f"  updated  {line}\n")
        described = [c.describe() for c in outcome.changes]
        out.write(f"{'':11}{printable('; '.join(described))}\n")
    if result.blocked:
        out.write(
            f"\nNot imported, because their calendars cannot be read ({len(result.blocked)}):\n"
        )
        _print_grouped(result.blocked, out)
        out.write(
            "  Fix that, then run the same command again. To import them now anyway, add "
            "--include-blocked.\n"
        )
    if result.imported_but_blocked:
        out.write(
            "\nImported, but their calendars cannot be read yet "
            f"({len(result.imported_but_blocked)}):\n"
        )
        _print_grouped(result.imported_but_blocked, out)
    if result.failed:
        out.write(
            f"\nNot imported, because their calendars could not be checked "
            f"({len(result.failed)}):\n"
        )
        _print_grouped(result.failed, out)
        out.write("  Run the same command again later. Rooms already imported are kept.\n")
    out.write("\n")
    if result.failed:
        out.write("Some rooms failed; the others were saved.\n")
    elif not result.changed and not result.blocked:
        out.write("Nothing changed: the workspace already matched Microsoft 365.\n")
    elif result.changed:
        out.write(
            "Saved. Next, export the offices and rooms for Clearooms with: clearooms-wizard "
            f"export --output rooms.json{same_place_flags(options)}\n"
        )
