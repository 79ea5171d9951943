"""The store: the one small interface behind which offices, imported rooms and the connection
live, and the rules for what it accepts (office names, time zones, room addresses).

The SQLite workspace (``workspace.py``) implements :class:`Store` today. A client of the Clearooms
API could implement the same interface later; the wizard, the import and the export would not
notice. The validation lives here, with the interface, because it is the store's contract: every
store refuses the same names with the same sentences, and the wizard checks a name as it is typed
with the very function the store will apply. The things stored are in ``model.py``. No SQL, no
network, no Qt.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.model import (
    FieldChange,
    ImportedRoom,
    NewOffice,
    Office,
    Room,
    RoomStatus,
    SavedConnection,
    is_room_email,
    office_key,
)

MAX_OFFICE_NAME = 100
# Longer than this is never looked at in full, so a pasted novel costs nothing to refuse.
_MAX_LOOK = 4096

# -- bad input -----------------------------------------------------------------------------------


class InvalidInput(ClearoomsError, ValueError):
    """Something typed or chosen that cannot be used. ``str()`` says what to do instead."""


class OfficeNameError(InvalidInput):
    pass


class TimeZoneError(InvalidInput):
    pass


class BadEmail(InvalidInput):
    pass


class UnknownOffice(InvalidInput):
    def __init__(self, name: str, known: Sequence[str]) -> None:
        shown = _shorten(name)
        if known:
            listed = ", ".join(f"“{k}”" for k in known[:10])
            more = f" and {len(known) - 10} more" if len(known) > 10 else ""
            text = (
                f"There is no office called “{shown}”. The offices are {listed}{more}. "
                "Check the spelling, or add the office first."
            )
        else:
            text = f"There is no office called “{shown}”, and no offices yet. Add the office first."
        super().__init__(text)
        self.name = name
        self.known = tuple(known)


class UnknownRooms(InvalidInput):
    def __init__(self, emails: Sequence[str]) -> None:
        shown = ", ".join(_shorten(e) for e in emails[:5])
        more = f" and {len(emails) - 5} more" if len(emails) > 5 else ""
        one = len(emails) == 1
        super().__init__(
            f"Microsoft 365 has no room with the email address{'' if one else 'es'} "
            f"{shown}{more}. Check the spelling against the list of rooms; a room created in the "
            "last two days may not be listed yet."
        )
        self.emails = tuple(emails)


class UnknownRoomList(InvalidInput):
    def __init__(self, email: str, known: Sequence[str]) -> None:
        listed = ", ".join(known[:10]) if known else "none"
        super().__init__(
            f"Microsoft 365 has no room list with the email address {_shorten(email)}. "
            f"The room lists are: {listed}."
        )
        self.email = email


def _shorten(text: str, limit: int = 60) -> str:
    """User text made safe to quote back: one line, no control marks, not too long."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch
        for ch in text[: limit + 1]
    ).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _tidy(raw: str) -> str:
    """NFC; invisible marks dropped; line breaks, tabs and odd spaces made plain; trimmed."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(
        "" if unicodedata.category(ch) == "Cf" else " " if _is_space(ch) else ch for ch in text
    )
    return " ".join(text.split())


def _is_space(ch: str) -> bool:
    return unicodedata.category(ch) in {"Cc", "Zl", "Zp", "Zs"}


def office_name_problem(raw: str, existing: Iterable[Office | str] = ()) -> str | None:
    """What is wrong with this office name, in a sentence, or None. For checking as you type."""
    try:
        check_office_name(raw, existing)
    except OfficeNameError as exc:
        return str(exc)
    return None


def check_office_name(raw: str, existing: Iterable[Office | str] = ()) -> str:
    """The office name tidied (trimmed, spaces collapsed), or OfficeNameError saying why not.

    ``existing`` (offices or their names) makes a name already taken, in any case, an error.
    """
    if len(raw) > _MAX_LOOK:
        raise OfficeNameError(
            f"That office name is far too long. Keep it to {MAX_OFFICE_NAME} characters or "
            "fewer, for example “London HQ”."
        )
    name = _tidy(raw)
    if not name:
        raise OfficeNameError("Enter a name for the office, for example “London HQ”.")
    if len(name) > MAX_OFFICE_NAME:
        raise OfficeNameError(
            f"That office name is {len(name)} characters long. Keep it to {MAX_OFFICE_NAME} "
            "or fewer, for example “London HQ”."
        )
    key = office_key(name)
    for office in existing:
        taken = office if isinstance(office, str) else office.name
        if office_key(taken) == key:
            raise OfficeNameError(
                f"There is already an office called “{taken}”. Choose it from the list, "
                "or give the new office a different name."
            )
    return name


_TZ_SHAPE = re.compile(r"^(UTC|[A-Za-z][A-Za-z_]*(/[A-Za-z0-9_+-]+){1,2})$")


@cache
def _known_zones() -> dict[str, str]:
    try:
        zones = zoneinfo.available_timezones()
    except Exception:  # a broken tz database: fall back to the shape check
        zones = set()
    return {zone.casefold(): zone for zone in zones}


def check_timezone(raw: str | None) -> str | None:
    """An IANA time zone name (Europe/London) in its usual spelling, None for blank."""
    if raw is None:
        return None
    text = raw.strip()[:_MAX_LOOK]
    if not text:
        return None
    known = _known_zones()
    if known:
        found = known.get(text.casefold())
        if found is not None:
            return found
    elif _TZ_SHAPE.match(text):
        # No time zone database on this computer (Windows without tzdata): accept the shape.
        return text
    raise TimeZoneError(
        f"“{_shorten(text)}” is not a time zone name. Use the form Area/City, for example "
        "Europe/London, America/New_York or Asia/Singapore."
    )


def check_room_email(raw: str) -> str:
    """A room's email address, trimmed, or BadEmail."""
    text = _tidy(raw[: _MAX_LOOK + 1])
    if not text:
        raise BadEmail("Enter the room's email address, for example boardroom@contoso.com.")
    if not is_room_email(text):
        raise BadEmail(
            f"“{_shorten(text)}” is not an email address. A room's email address looks like "
            "boardroom@contoso.com."
        )
    return text


# -- the store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomWrite:
    """One room an import writes, with what its calendar check found."""

    room: Room
    calendar_access: str
    calendar_code: str | None = None


@dataclass(frozen=True)
class WrittenRoom:
    email: str
    # NEW, UPDATED or UNCHANGED.
    status: RoomStatus
    changes: tuple[FieldChange, ...] = ()
    moved_from: str | None = None


@dataclass(frozen=True)
class AppliedImport:
    # The office the rooms went into (created by this import when it was a NewOffice).
    office: Office
    written: tuple[WrittenRoom, ...]
    # Rooms in the store that Microsoft 365 no longer lists (kept, never deleted).
    missing: tuple[ImportedRoom, ...]


class Store(Protocol):
    """Where offices and imported rooms live. Every method may raise a ClearoomsError whose
    text says what to do (the SQLite workspace raises WorkspaceError for disk trouble)."""

    def load_connection(self) -> SavedConnection | None: ...

    def save_connection(self, connection: SavedConnection) -> None: ...

    def list_offices(self) -> list[Office]:
        """Every office, sorted by name, with how many rooms each holds."""
        ...

    def find_office(self, name: str) -> Office | None:
        """The office with this name, ignoring case and spacing."""
        ...

    def add_office(self, name: str, timezone: str | None = None) -> Office:
        """Add an office; OfficeNameError or TimeZoneError (both InvalidInput) when unusable."""
        ...

    def imported_rooms(self) -> list[ImportedRoom]:
        """Every imported room, sorted by office then name."""
        ...

    def apply_import(
        self,
        office: Office | NewOffice,
        writes: Sequence[RoomWrite],
        listed: frozenset[str] | None,
    ) -> AppliedImport:
        """Write every room in ``writes`` into ``office``, all or nothing.

        A NewOffice is created in the same transaction (or found, when another copy of the
        wizard added an office of that name meanwhile: both then use the one office).

        Each room is compared with what is stored at the moment of writing (another copy of
        the wizard may have written since the plan was made). ``listed`` holds the casefolded
        emails of every room Microsoft 365 lists; stored rooms outside it are reported (and
        marked) missing, never deleted. None means "not known": nothing is marked.
        """
        ...
