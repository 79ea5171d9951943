"""What the Import page tells before anything is written: which buildings the chosen rooms are
in, and whether the import would change anything at all."""

from __future__ import annotations

from pathlib import Path

from clearooms_wizard.core.importer import (
    CalendarCheck,
    apply_import,
    buildings_of,
    import_writes_anything,
    plan_import,
)
from clearooms_wizard.core.model import CalendarAccess, Room, RoomDirectory
from clearooms_wizard.core.workspace import Workspace


def room(name: str, building: str | None = None) -> Room:
    return Room(f"{name.lower()}@example.com", name, building=building)


def readable(*rooms: Room) -> list[CalendarCheck]:
    return [CalendarCheck(r.email, CalendarAccess.READABLE) for r in rooms]


def test_buildings_are_named_once_each_in_alphabetical_order() -> None:
    rooms = [
        room("A", "Manchester"),
        room("B", "london HQ"),
        room("C", "London  HQ "),
        room("D"),
        room("E", "  "),
        room("F", "Bristol"),
    ]
    assert buildings_of(rooms) == ["Bristol", "london HQ", "Manchester"]
    assert buildings_of([room("G")]) == []


def test_an_import_that_would_change_nothing_is_told_apart(tmp_path: Path) -> None:
    thames, severn = room("Thames", "London"), room("Severn", "London")
    directory = RoomDirectory((thames, severn), ())
    with Workspace(tmp_path / "workspace.sqlite3") as workspace:
        workspace.add_office("London")
        plan = plan_import(workspace, directory, "London", [thames, severn])
        assert import_writes_anything(plan, readable(thames, severn))
        apply_import(workspace, plan, readable(thames, severn))

        again = plan_import(workspace, directory, "London", [thames, severn])
        assert not import_writes_anything(again, readable(thames, severn))
        # The same rooms with a calendar that can no longer be read: that is recorded.
        blocked = [CalendarCheck(thames.email, CalendarAccess.BLOCKED_BY_POLICY)]
        assert import_writes_anything(again, blocked + readable(severn))
        # A check that failed writes nothing.
        failed = [CalendarCheck(thames.email, CalendarAccess.FAILED)]
        assert not import_writes_anything(again, failed + readable(severn))

        # A new room whose calendar cannot be read is written only when asked for.
        medway = room("Medway", "London")
        directory = RoomDirectory((thames, severn, medway), ())
        plan = plan_import(workspace, directory, "London", [thames, severn, medway])
        checks = [*readable(thames, severn), CalendarCheck(medway.email, CalendarAccess.NOT_FOUND)]
        assert not import_writes_anything(plan, checks)
        assert import_writes_anything(plan, checks, include_blocked=True)
