"""What the wizard works with, as plain data: rooms and room lists from Microsoft 365, offices,
the rooms imported into them, and the one vocabulary for what an import does to a room.

No I/O, no Qt, nothing slow to import: the wizard's pages use these types before anything else is
loaded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# -- rooms in Microsoft 365 -----------------------------------------------------------------------

MAX_EMAIL = 254
_ROOM_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def is_room_email(text: str) -> bool:
    """The one test of a room's address, for what Graph lists and for what people type (after
    tidying): a room Graph lists that fails it could not be chosen by its address later."""
    return (
        len(text) <= MAX_EMAIL
        and _ROOM_EMAIL.match(text) is not None
        # An apostrophe is allowed (o'brien.suite@…); these never are in an address.
        and not any(ch in text for ch in '<>"(),;')
        # Bytes that were not UTF-8 arrive as U+FFFD, broken UTF-16 as lone surrogates: the
        # address Microsoft holds is then unknown, and a guess would reach the wrong mailbox.
        and not any(ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cs") for ch in text)
    )


# Slots: a tenant may have 10,000 rooms, and each is then one small object (no __dict__) for
# the garbage collector to walk instead of two.
@dataclass(frozen=True, slots=True)
class Room:
    email: str
    name: str
    graph_id: str | None = None
    capacity: int | None = None
    building: str | None = None
    floor_number: int | None = None
    floor_label: str | None = None
    booking_type: str | None = None
    wheelchair_accessible: bool | None = None
    audio_device: str | None = None
    video_device: str | None = None
    display_device: str | None = None
    tags: tuple[str, ...] = ()
    room_lists: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.email.casefold()

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "id": self.graph_id,
            "capacity": self.capacity,
            "building": self.building,
            "floor_number": self.floor_number,
            "floor_label": self.floor_label,
            "booking_type": self.booking_type,
            "wheelchair_accessible": self.wheelchair_accessible,
            "audio_device": self.audio_device,
            "video_device": self.video_device,
            "display_device": self.display_device,
            "tags": list(self.tags),
            "room_lists": list(self.room_lists),
        }


@dataclass(frozen=True)
class RoomList:
    email: str
    name: str
    graph_id: str | None = None


@dataclass(frozen=True)
class RoomDirectory:
    rooms: tuple[Room, ...]
    room_lists: tuple[RoomList, ...]
    # Entries Graph sent that could not be used (no email address), so they can be reported.
    skipped: int = 0


class CalendarAccess(StrEnum):
    READABLE = "readable"
    BLOCKED_BY_POLICY = "blocked_by_policy"
    NO_PERMISSION = "no_permission"
    NOT_IN_EXCHANGE_ONLINE = "not_in_exchange_online"
    NOT_FOUND = "not_found"
    FAILED = "failed"


# Calendar answers that mean "this room cannot be connected until someone changes something".
BLOCKED_ACCESS = frozenset(
    {
        CalendarAccess.BLOCKED_BY_POLICY,
        CalendarAccess.NO_PERMISSION,
        CalendarAccess.NOT_IN_EXCHANGE_ONLINE,
        CalendarAccess.NOT_FOUND,
    }
)

ACCESS_WORDS: dict[str, str] = {
    CalendarAccess.READABLE: "readable",
    CalendarAccess.BLOCKED_BY_POLICY: "blocked by an access policy",
    CalendarAccess.NO_PERMISSION: "app not allowed to read calendars",
    CalendarAccess.NOT_IN_EXCHANGE_ONLINE: "mailbox not in Exchange Online",
    CalendarAccess.NOT_FOUND: "mailbox not found",
    CalendarAccess.FAILED: "could not be checked",
}


# -- offices and what they hold -------------------------------------------------------------------


@dataclass(frozen=True)
class SavedConnection:
    tenant: str
    client_id: str
    cloud: str = "global"
    tenant_id: str | None = None
    authority_host: str | None = None
    graph_url: str | None = None
    last_tested_at: str | None = None
    last_test_ok: bool | None = None
    secret_expires_at: str | None = None
    # "secret" or "certificate"; with a certificate, its SHA-1 thumbprint (hex) and end date.
    credential_kind: str = "secret"
    certificate_thumbprint: str | None = None
    certificate_expires_at: str | None = None


def office_key(name: str) -> str:
    """Office names are unique ignoring case, accents' encodings and spacing."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


@dataclass(frozen=True)
class Office:
    id: int
    name: str
    timezone: str | None = None
    room_count: int = 0
    created_at: str | None = None

    @property
    def key(self) -> str:
        return office_key(self.name)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "timezone": self.timezone,
            "room_count": self.room_count,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class NewOffice:
    """An office chosen in the wizard that does not exist yet. An import is planned into it as
    it is; applying the import creates it, in the same transaction as its rooms."""

    name: str

    @property
    def key(self) -> str:
        return office_key(self.name)


@dataclass(frozen=True)
class ImportedRoom:
    """A room as the workspace holds it."""

    email: str
    name: str
    office_id: int
    office_name: str
    graph_id: str | None = None
    capacity: int | None = None
    building: str | None = None
    floor_number: int | None = None
    floor_label: str | None = None
    room_lists: tuple[str, ...] = ()
    first_imported_at: str | None = None
    updated_at: str | None = None
    # A CalendarAccess value, and Microsoft's error code when it was not readable.
    calendar_access: str | None = None
    calendar_code: str | None = None
    # When the calendar access first had this value (unchanged by checks that agree).
    calendar_access_since: str | None = None
    # When an import first noticed Microsoft 365 no longer lists this room; None while listed.
    missing_since: str | None = None

    @property
    def key(self) -> str:
        return self.email.casefold()

    @property
    def calendar_readable(self) -> bool:
        return self.calendar_access == CalendarAccess.READABLE

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "office": self.office_name,
            "graph_id": self.graph_id,
            "capacity": self.capacity,
            "building": self.building,
            "floor_number": self.floor_number,
            "floor_label": self.floor_label,
            "room_lists": list(self.room_lists),
            "first_imported_at": self.first_imported_at,
            "updated_at": self.updated_at,
            "calendar_access": self.calendar_access,
            "calendar_readable": self.calendar_readable,
            "calendar_code": self.calendar_code,
            "calendar_access_since": self.calendar_access_since,
            "missing_from_microsoft_365": self.missing_since is not None,
            "missing_since": self.missing_since,
        }


# -- what an import does to a room ----------------------------------------------------------------


class RoomStatus(StrEnum):
    """What an import plans for one chosen room, what the store did with it, and how it ended."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # Planned only: the room is in another office now (written as UPDATED, with moved_from).
    MOVING = "moving"
    # Outcome only: not imported, the calendar cannot be read (imported anyway with
    # include_blocked).
    BLOCKED = "blocked"
    # Outcome only: not written, the calendar check did not work; try again later.
    FAILED = "failed"


# The statuses a plan counts, and those a result counts, in the order they are reported.
PLANNED_STATUSES = (RoomStatus.NEW, RoomStatus.UPDATED, RoomStatus.UNCHANGED, RoomStatus.MOVING)
OUTCOME_STATUSES = (
    RoomStatus.NEW,
    RoomStatus.UPDATED,
    RoomStatus.UNCHANGED,
    RoomStatus.BLOCKED,
    RoomStatus.FAILED,
)


FIELD_LABELS: dict[str, str] = {
    "email": "email address",
    "name": "name",
    "graph_id": "Microsoft 365 ID",
    "capacity": "capacity",
    "building": "building",
    "floor_number": "floor number",
    "floor_label": "floor",
    "room_lists": "room lists",
    "office": "office",
    "calendar_access": "calendar access",
}


@dataclass(frozen=True)
class FieldChange:
    field: str  # a key of FIELD_LABELS; stable, for programs
    before: str | None
    after: str | None

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)

    def describe(self) -> str:
        return f"{self.label} {self.before or '(none)'} → {self.after or '(none)'}"

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


def normal_room_lists(emails: Iterable[str]) -> tuple[str, ...]:
    """Room lists compared as a set: the order Graph sends them in means nothing."""
    unique: dict[str, str] = {}
    for email in emails:
        unique.setdefault(email.casefold(), email)
    return tuple(sorted(unique.values(), key=str.casefold))


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return ", ".join(value) if value else None
    return str(value)


def is_in(room: ImportedRoom, office: Office | NewOffice) -> bool:
    """Whether the stored ``room`` is in ``office`` already (never in one not yet created)."""
    return isinstance(office, Office) and room.office_id == office.id


def room_changes(
    existing: ImportedRoom | None,
    room: Room,
    office: Office | NewOffice,
    calendar_access: str | None = None,
) -> tuple[FieldChange, ...]:
    """What importing ``room`` into ``office`` would change about the stored room.

    Empty for a new room (everything is new) and for a room that is already up to date.
    ``calendar_access`` is compared only when given (after the calendar has been checked).
    """
    if existing is None:
        return ()
    pairs: list[tuple[str, object, object]] = [
        ("email", existing.email, room.email),
        ("name", existing.name, room.name),
        ("graph_id", existing.graph_id, room.graph_id),
        ("capacity", existing.capacity, room.capacity),
        ("building", existing.building, room.building),
        ("floor_number", existing.floor_number, room.floor_number),
        ("floor_label", existing.floor_label, room.floor_label),
    ]
    changes = [FieldChange(f, _shown(a), _shown(b)) for f, a, b in pairs if a != b]
    before_lists = normal_room_lists(existing.room_lists)
    after_lists = normal_room_lists(room.room_lists)
    if [e.casefold() for e in before_lists] != [e.casefold() for e in after_lists]:
        changes.append(FieldChange("room_lists", _shown(before_lists), _shown(after_lists)))
    if not is_in(existing, office):
        changes.append(FieldChange("office", existing.office_name, office.name))
    if calendar_access is not None and existing.calendar_access != calendar_access:
        changes.append(
            FieldChange(
                "calendar_access",
                ACCESS_WORDS.get(existing.calendar_access or "", existing.calendar_access),
                ACCESS_WORDS.get(calendar_access, calendar_access),
            )
        )
    return tuple(changes)
