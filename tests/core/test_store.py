"""Office names, emails and time zones as people type them; what counts as a change; export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearooms_wizard.core.export import export_csv, export_json
from clearooms_wizard.core.graph import parse_room
from clearooms_wizard.core.model import (
    CalendarAccess,
    ImportedRoom,
    Office,
    Room,
    office_key,
    room_changes,
)
from clearooms_wizard.core.store import (
    MAX_OFFICE_NAME,
    BadEmail,
    InvalidInput,
    OfficeNameError,
    RoomWrite,
    check_office_name,
    check_room_email,
    check_timezone,
    office_name_problem,
)
from clearooms_wizard.core.workspace import Workspace


@given(st.text(max_size=300))
def test_office_names_are_tidied_or_refused_never_anything_else(raw: str) -> None:
    try:
        name = check_office_name(raw)
    except OfficeNameError as exc:
        assert str(exc).endswith(".")
        return
    assert 0 < len(name) <= MAX_OFFICE_NAME
    assert name == name.strip() and "  " not in name and "\n" not in name
    assert check_office_name(name) == name  # tidying twice changes nothing
    assert office_key(name.upper()) == office_key(name.lower()) or not name.isascii()


@given(st.text(max_size=300))
def test_emails_are_accepted_or_refused_plainly(raw: str) -> None:
    try:
        email = check_room_email(raw)
    except BadEmail as exc:
        assert isinstance(exc, ValueError) and "\n" not in str(exc)
        return
    assert email.count("@") == 1 and " " not in email


@pytest.mark.parametrize(
    ("raw", "room"),
    [
        ("o'brien.suite@contoso.com", True),  # Exchange allows apostrophes
        (" Boardroom@Contoso.com\t", True),
        ("projector@localhost", False),
        ("a@b", False),
        ("<room@contoso.com>", False),
        ("room@contoso.com; other@contoso.com", False),
    ],
)
def test_one_test_of_a_room_address_for_graph_and_for_people(raw: str, room: bool) -> None:
    """What Graph lists and what people type pass the same test (D6)."""
    listed = parse_room({"emailAddress": raw.strip()})
    assert (listed is not None) is room
    if room:
        assert listed is not None and check_room_email(raw) == listed.email
    else:
        with pytest.raises(BadEmail):
            check_room_email(raw)


def test_office_name_problems_for_the_page() -> None:
    assert office_name_problem("London HQ") is None
    assert office_name_problem(" ") == "Enter a name for the office, for example “London HQ”."
    taken = [Office(1, "London HQ")]
    assert "already an office" in (office_name_problem("london  hq", taken) or "")
    assert check_office_name("Caf\u0065\u0301 Rooms") == "Café Rooms"  # composed accents
    assert check_office_name("Zero\u200bWidth") == "ZeroWidth"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("", None), ("  ", None), ("europe/london", "Europe/London"), ("UTC", "UTC")],
)
def test_time_zones(raw: str | None, expected: str | None) -> None:
    assert check_timezone(raw) == expected


def test_a_wrong_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Area/City"):
        check_timezone("GMT+1 London")


def _stored(**overrides: object) -> ImportedRoom:
    values: dict[str, object] = {
        "email": "thames@contoso.com",
        "name": "Thames",
        "office_id": 1,
        "office_name": "London HQ",
        "graph_id": "A",
        "capacity": 12,
        "building": "HQ",
        "floor_number": 3,
        "floor_label": "3",
        "room_lists": ("b@contoso.com", "a@contoso.com"),
        "calendar_access": "readable",
    }
    values.update(overrides)
    return ImportedRoom(**values)  # type: ignore[arg-type]


ROOM = Room(
    "thames@contoso.com", "Thames", graph_id="A", capacity=12, building="HQ", floor_number=3,
    floor_label="3", room_lists=("A@contoso.com", "b@contoso.com"),
)  # fmt: skip
HQ = Office(1, "London HQ")


def test_room_lists_compare_as_a_set_ignoring_case_and_order() -> None:
    assert room_changes(_stored(), ROOM, HQ) == ()
    assert room_changes(_stored(), ROOM, HQ, CalendarAccess.READABLE.value) == ()
    assert room_changes(None, ROOM, HQ) == ()


def test_every_kind_of_change_is_named() -> None:
    changes = room_changes(
        _stored(capacity=None, floor_label="2", room_lists=()),
        ROOM,
        Office(2, "Annex"),
        CalendarAccess.BLOCKED_BY_POLICY.value,
    )
    described = {c.field: c.describe() for c in changes}
    assert described == {
        "capacity": "capacity (none) → 12",
        "floor_label": "floor 2 → 3",
        "room_lists": "room lists (none) → A@contoso.com, b@contoso.com",
        "office": "office London HQ → Annex",
        "calendar_access": "calendar access readable → blocked by an access policy",
    }


def test_export_lists_every_office_and_escapes_formulas(tmp_path: Path) -> None:
    with Workspace(tmp_path / "ws.sqlite3") as workspace:
        hq = workspace.add_office("=HQ", "Europe/London")
        workspace.add_office("Empty Office")
        risky = Room("r@contoso.com", "+SUM(A1)", capacity=4, room_lists=("l@contoso.com",))
        workspace.apply_import(hq, [RoomWrite(risky, "readable")], None)
        moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        document = json.loads(export_json(workspace, moment))
        rows = list(csv.DictReader(io.StringIO(export_csv(workspace))))
    assert document["exported_at"] == "2026-01-02T03:04:05+00:00"
    assert [o["name"] for o in document["offices"]] == ["=HQ", "Empty Office"]
    assert document["offices"][0]["rooms"][0]["name"] == "+SUM(A1)"  # JSON keeps it as it is
    assert [(r["office"], r["name"], r["email"]) for r in rows] == [
        ("'=HQ", "'+SUM(A1)", "r@contoso.com"),
        ("Empty Office", "", ""),
    ]
    assert rows[0]["room_lists"] == "l@contoso.com" and rows[0]["calendar_readable"] == "yes"


def test_csv_keeps_negative_numbers_and_guards_text() -> None:
    from clearooms_wizard.core.export import csv_cell

    assert csv_cell(-1) == "-1"
    assert csv_cell("-1") == "'-1"
    assert csv_cell("=SUM(A1)") == "'=SUM(A1)"
    assert csv_cell(None) == ""
