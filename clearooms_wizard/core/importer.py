"""Importing rooms: plan first, check each room's calendar, then apply in one transaction.

The steps, each usable on its own (the wizard shows the plan before it checks anything):

1. :func:`plan_import` (fast, local): per chosen room new / updated (which fields) / unchanged /
   moving from another office, plus the imported rooms Microsoft 365 no longer lists.
2. :func:`check_calendars` (slow, network): the calendar probe for each chosen room, 16 at a
   time, never more than 4 per mailbox, Retry-After honoured by the HTTP session. Cancellable.
3. :func:`apply_import` (fast, local): writes the plan in one transaction, recording each room's
   calendar access. Rooms whose calendars cannot be read are imported only with
   ``include_blocked``; rooms whose check failed are not written at all.

Running the same import again changes nothing. A new office is created by step 3, in its
transaction: backing out before then leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import ClearoomsError, GraphError
from clearooms_wizard.core.fixes import Explanation, explain_error, explain_graph
from clearooms_wizard.core.graph import CalendarProbe
from clearooms_wizard.core.model import (
    BLOCKED_ACCESS,
    OUTCOME_STATUSES,
    PLANNED_STATUSES,
    CalendarAccess,
    FieldChange,
    ImportedRoom,
    NewOffice,
    Office,
    Room,
    RoomDirectory,
    RoomStatus,
    is_in,
    office_key,
    room_changes,
)
from clearooms_wizard.core.store import (
    InvalidInput,
    RoomWrite,
    Store,
    UnknownOffice,
    UnknownRoomList,
    UnknownRooms,
    check_office_name,
    check_room_email,
)

# Exchange Online allows 4 concurrent requests per mailbox; each room is its own mailbox, so
# the limit that matters is per mailbox, which GraphClient enforces (and a room is checked once).
# 16 at a time checks 1,000 rooms in a few seconds and fits the session's 16 pooled connections.
CHECK_WORKERS = 16


# -- choosing rooms ------------------------------------------------------------------------------


def rooms_in_list(directory: RoomDirectory, list_email: str) -> list[Room]:
    """The rooms of one room list (addressed by its email); UnknownRoomList if there is none."""
    email = check_room_email(list_email)
    key = email.casefold()
    if not any(rl.email.casefold() == key for rl in directory.room_lists):
        raise UnknownRoomList(email, [rl.email for rl in directory.room_lists])
    return [r for r in directory.rooms if any(e.casefold() == key for e in r.room_lists)]


def select_rooms(
    directory: RoomDirectory,
    *,
    all_rooms: bool = False,
    emails: Iterable[str] = (),
    room_list: str | None = None,
) -> list[Room]:
    """The rooms a command line chose. BadEmail, UnknownRooms or UnknownRoomList (all
    InvalidInput) when a choice does not match what Microsoft 365 lists."""
    if all_rooms:
        return list(directory.rooms)
    if room_list is not None:
        return rooms_in_list(directory, room_list)
    return find_rooms(directory, emails)


def find_rooms(directory: RoomDirectory, emails: Iterable[str]) -> list[Room]:
    """The rooms with these email addresses (any case), in the order given, without repeats."""
    by_key = {room.key: room for room in directory.rooms}
    chosen: dict[str, Room] = {}
    unknown: list[str] = []
    for raw in emails:
        email = check_room_email(raw)
        room = by_key.get(email.casefold())
        if room is None:
            unknown.append(email)
        else:
            chosen.setdefault(room.key, room)
    if unknown:
        raise UnknownRooms(unknown)
    return list(chosen.values())


# -- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRoom:
    room: Room
    status: RoomStatus
    changes: tuple[FieldChange, ...] = ()
    # The office the room is in now, when it is moving to the chosen one.
    moving_from: str | None = None
    # The calendar access the workspace recorded for the room (None for a new room): a check
    # that finds the same leaves an unchanged room as it is.
    calendar_access: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.room.email,
            "name": self.room.name,
            "status": self.status.value,
            "changes": [c.to_json() for c in self.changes],
            "moving_from": self.moving_from,
        }


@dataclass(frozen=True)
class ImportPlan:
    # A NewOffice when the import creates the office.
    office: Office | NewOffice
    rooms: tuple[PlannedRoom, ...]
    # Imported rooms (in any office) that Microsoft 365 no longer lists: reported, kept.
    missing: tuple[ImportedRoom, ...]
    # The casefolded emails of every room Microsoft 365 lists, for marking missing rooms.
    listed: frozenset[str] = field(repr=False)

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in PLANNED_STATUSES}
        for planned in self.rooms:
            counts[planned.status.value] += 1
        counts["missing"] = len(self.missing)
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "office": self.office.name,
            "counts": self.counts(),
            "rooms": [p.to_json() for p in self.rooms],
            "missing": [m.to_json() for m in self.missing],
        }


def buildings_of(rooms: Iterable[Room]) -> list[str]:
    """The buildings these rooms are in, as Microsoft 365 names them (the first spelling of
    each, ignoring case and spacing), in alphabetical order; rooms without one are left out."""
    found: dict[str, str] = {}
    for room in rooms:
        if room.building and room.building.strip():
            found.setdefault(office_key(room.building), room.building.strip())
    return sorted(found.values(), key=str.casefold)


def new_office(store: Store, name: str) -> NewOffice:
    """An office to plan an import into before it exists; applying the import creates it.
    Raises OfficeNameError (the name is unusable or taken)."""
    return NewOffice(check_office_name(name, store.list_offices()))


def _resolve_office(store: Store, office: Office | NewOffice | str) -> Office | NewOffice:
    if isinstance(office, NewOffice):
        return office
    found = store.find_office(office if isinstance(office, str) else office.name)
    if found is None or (isinstance(office, Office) and found.id != office.id):
        name = office if isinstance(office, str) else office.name
        raise UnknownOffice(name, [o.name for o in store.list_offices()])
    return found


def plan_import(
    store: Store,
    directory: RoomDirectory,
    office: Office | NewOffice | str,
    rooms: Iterable[Room | str],
) -> ImportPlan:
    """What importing ``rooms`` (Room objects or email addresses) into ``office`` would do.

    Fast and local. Raises UnknownOffice, BadEmail or UnknownRooms (all InvalidInput).
    """
    target = _resolve_office(store, office)
    given = list(rooms)
    # Rooms chosen from the directory are taken as listed; only typed addresses are checked.
    listed = {room.key: room for room in directory.rooms}
    unknown = [r.email for r in given if isinstance(r, Room) and r.key not in listed]
    if unknown:
        raise UnknownRooms(unknown)
    picked = {r.key: listed[r.key] for r in given if isinstance(r, Room)}
    for room in find_rooms(directory, [r for r in given if isinstance(r, str)]):
        picked.setdefault(room.key, room)
    chosen = sorted(picked.values(), key=lambda r: (r.name.casefold(), r.key))
    stored = {room.key: room for room in store.imported_rooms()}
    planned: list[PlannedRoom] = []
    for room in chosen:
        existing = stored.get(room.key)
        changes = room_changes(existing, room, target)
        if existing is None:
            planned.append(PlannedRoom(room, RoomStatus.NEW))
            continue
        access = existing.calendar_access
        if not is_in(existing, target):
            planned.append(
                PlannedRoom(room, RoomStatus.MOVING, changes, existing.office_name, access)
            )
        elif changes:
            planned.append(PlannedRoom(room, RoomStatus.UPDATED, changes, calendar_access=access))
        else:
            planned.append(PlannedRoom(room, RoomStatus.UNCHANGED, calendar_access=access))
    missing = tuple(r for r in stored.values() if r.key not in listed) if listed else ()
    return ImportPlan(target, tuple(planned), missing, frozenset(listed))


# -- calendar checks -----------------------------------------------------------------------------


class CalendarProber(Protocol):
    """What the import needs from Graph: GraphClient has it."""

    def probe_calendar(self, email: str) -> CalendarProbe: ...


@dataclass(frozen=True)
class CalendarCheck:
    """One room's calendar check, with what it means in plain English when it is not readable."""

    email: str
    access: CalendarAccess
    code: str | None = None
    # Microsoft's own words, for support; `problem` is what to show.
    message: str | None = None
    problem: Explanation | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    # False when the check never ran (stopped after a network failure).
    checked: bool = True

    @property
    def readable(self) -> bool:
        return self.access is CalendarAccess.READABLE

    @property
    def blocked(self) -> bool:
        """The calendar cannot be read until someone changes a setting."""
        return self.access in BLOCKED_ACCESS

    @property
    def failed(self) -> bool:
        """The check itself did not work (network, Microsoft trouble): try again later."""
        return not self.readable and not self.blocked

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "access": self.access.value,
            "checked": self.checked,
            "code": self.code,
            "message": self.message,
            "reason": self.problem.summary if self.problem else None,
            "fix": self.problem.fix if self.problem else None,
            "details": dict(self.details),
        }


def _from_probe(probe: CalendarProbe) -> CalendarCheck:
    if probe.access is CalendarAccess.READABLE:
        return CalendarCheck(probe.email, probe.access)
    return CalendarCheck(
        probe.email,
        probe.access,
        probe.code,
        probe.message,
        explain_graph(probe.code or "", probe.message or ""),
        probe.details.as_dict(),
    )


def _from_error(email: str, exc: ClearoomsError, checked: bool = True) -> CalendarCheck:
    explanation, code = explain_error(exc)
    details: dict[str, str] = {}
    technical = getattr(exc, "details", None)
    if technical is not None and hasattr(technical, "as_dict"):
        details = technical.as_dict()
    message = str(exc) if checked else f"Not checked, because of an earlier failure: {exc}"
    if isinstance(exc, GraphError):
        message = exc.message
    return CalendarCheck(
        email, CalendarAccess.FAILED, code, message, explanation, details, checked=checked
    )


@dataclass(frozen=True)
class ImportProgress:
    """Reported once per room as its calendar check completes."""

    done: int
    total: int
    check: CalendarCheck


ProgressCallback = Callable[[ImportProgress], None]


def check_calendars(
    prober: CalendarProber,
    emails: Sequence[str],
    cancel: CancelToken,
    progress: ProgressCallback | None = None,
    workers: int = CHECK_WORKERS,
) -> list[CalendarCheck]:
    """Check each room's calendar, ``workers`` at a time; results in the order given.

    Slow (network): call it from a worker thread, with a GraphClient built on the same
    ``cancel`` token so Cancel also stops requests in flight; raises Cancelled. A room Microsoft
    answers about (even with an error) gets its own result; once a check fails for a reason that
    affects every room (network, sign-in, a proxy), the rooms not yet checked are not tried and
    come back failed with that same reason, so a broken network is not hammered.
    """
    unique = list(dict.fromkeys(emails))
    results: dict[str, CalendarCheck] = {}
    stop = threading.Event()
    first_failure: list[ClearoomsError] = []
    failure_lock = threading.Lock()

    def check(email: str) -> CalendarCheck:
        cancel.raise_if_cancelled()
        if stop.is_set():
            return _from_error(email, first_failure[0], checked=False)
        try:
            return _from_probe(prober.probe_calendar(email))
        except ClearoomsError as exc:
            with failure_lock:
                if not first_failure:
                    first_failure.append(exc)
                stop.set()
            return _from_error(email, exc)

    if not unique:
        return []
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(workers, len(unique))), thread_name_prefix="calendar-check"
    )
    try:
        pending: set[Future[CalendarCheck]] = {pool.submit(check, email) for email in unique}
        while pending:
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            cancel.raise_if_cancelled()
            for future in finished:
                result = future.result()
                results[result.email] = result
                if progress is not None:
                    progress(ImportProgress(len(results), len(unique), result))
    except BaseException:
        # Cancelled (or Ctrl+C): do not wait for requests in flight; with the same cancel
        # token in the GraphClient they stop at their next step.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [results[email] for email in unique]


# -- applying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomOutcome:
    email: str
    name: str
    status: RoomStatus
    calendar: CalendarCheck | None
    changes: tuple[FieldChange, ...] = ()
    moved_from: str | None = None
    # Whether the workspace holds this room after the import (written now or before).
    in_workspace: bool = False

    @property
    def reason(self) -> str | None:
        problem = self.calendar.problem if self.calendar else None
        return problem.summary if problem else None

    @property
    def fix(self) -> str | None:
        problem = self.calendar.problem if self.calendar else None
        return problem.fix if problem else None

    @property
    def calendar_blocked(self) -> bool:
        return self.calendar is not None and self.calendar.blocked

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "status": self.status.value,
            "changes": [c.to_json() for c in self.changes],
            "moved_from": self.moved_from,
            "in_workspace": self.in_workspace,
            "calendar": self.calendar.to_json() if self.calendar else None,
        }


@dataclass(frozen=True)
class ImportResult:
    office: Office
    rooms: tuple[RoomOutcome, ...]
    missing: tuple[ImportedRoom, ...]
    include_blocked: bool = False

    def _having(self, status: RoomStatus) -> list[RoomOutcome]:
        return [r for r in self.rooms if r.status is status]

    @property
    def new(self) -> list[RoomOutcome]:
        return self._having(RoomStatus.NEW)

    @property
    def updated(self) -> list[RoomOutcome]:
        return self._having(RoomStatus.UPDATED)

    @property
    def unchanged(self) -> list[RoomOutcome]:
        return self._having(RoomStatus.UNCHANGED)

    @property
    def blocked(self) -> list[RoomOutcome]:
        """Rooms left out because their calendars cannot be read."""
        return self._having(RoomStatus.BLOCKED)

    @property
    def failed(self) -> list[RoomOutcome]:
        return self._having(RoomStatus.FAILED)

    @property
    def imported_but_blocked(self) -> list[RoomOutcome]:
        """Rooms in the workspace whose calendars cannot be read yet (include_blocked, or
        imported before their calendars were blocked)."""
        return [
            r
            for r in self.rooms
            if r.status not in (RoomStatus.BLOCKED, RoomStatus.FAILED) and r.calendar_blocked
        ]

    @property
    def ok(self) -> bool:
        """No chosen room failed (blocked rooms are not failures: they need a setting changed)."""
        return not self.failed

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated)

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in OUTCOME_STATUSES}
        for outcome in self.rooms:
            counts[outcome.status.value] += 1
        counts["missing"] = len(self.missing)
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "office": self.office.name,
            "include_blocked": self.include_blocked,
            "counts": self.counts(),
            "rooms": [r.to_json() for r in self.rooms],
            "missing": [m.to_json() for m in self.missing],
        }


def import_writes_anything(
    plan: ImportPlan, checks: Sequence[CalendarCheck], *, include_blocked: bool = False
) -> bool:
    """Whether applying the plan with these checks would change a room in the workspace (the
    rules of :func:`apply_import`): False when every room it would write is already there as
    it is, with the calendar access just found."""
    by_email = {c.email.casefold(): c for c in checks}
    for planned in plan.rooms:
        check = by_email.get(planned.room.key)
        if check is None or check.failed:
            continue
        if planned.status is RoomStatus.NEW:
            if include_blocked or not check.blocked:
                return True
        elif (
            planned.status is not RoomStatus.UNCHANGED
            or planned.calendar_access != check.access.value
        ):
            return True
    return False


def apply_import(
    store: Store,
    plan: ImportPlan,
    checks: Sequence[CalendarCheck],
    *,
    include_blocked: bool = False,
    cancel: CancelToken | None = None,
) -> ImportResult:
    """Write the plan, all or nothing, with each room's calendar check.

    Which rooms are written:
    - readable calendar: always;
    - blocked calendar: with ``include_blocked``, or when the room was imported before (its
      details and calendar access are kept up to date; nothing is ever removed);
    - check failed or missing from ``checks``: never (an earlier import of it stays as it was).
    Fast (one local transaction), but it touches the disk: call it off the GUI thread.
    A new office (the plan's NewOffice) is created in the same transaction as its rooms.
    Raises WorkspaceError (nothing written) or UnknownOffice.
    """
    if cancel is not None:
        cancel.raise_if_cancelled()
    by_email = {c.email.casefold(): c for c in checks}
    stored = {r.key for r in store.imported_rooms()}
    writes: list[RoomWrite] = []
    held_back: dict[str, RoomStatus] = {}
    for planned in plan.rooms:
        room = planned.room
        check = by_email.get(room.key)
        if check is None or check.failed:
            held_back[room.key] = RoomStatus.FAILED
        elif check.blocked and not include_blocked and room.key not in stored:
            held_back[room.key] = RoomStatus.BLOCKED
        else:
            writes.append(RoomWrite(room, check.access.value, check.code))
    applied = store.apply_import(plan.office, writes, plan.listed)
    written = {w.email.casefold(): w for w in applied.written}
    outcomes: list[RoomOutcome] = []
    for planned in plan.rooms:
        room = planned.room
        check = by_email.get(room.key)
        if check is None:
            check = CalendarCheck(
                room.email,
                CalendarAccess.FAILED,
                "not_checked",
                "The calendar was not checked.",
                Explanation(
                    "This room's calendar was not checked.",
                    "Run the import again; rooms already imported are kept.",
                ),
                checked=False,
            )
        result = written.get(room.key)
        if result is None:
            status = held_back.get(room.key, RoomStatus.FAILED)
            outcomes.append(
                RoomOutcome(room.email, room.name, status, check, in_workspace=room.key in stored)
            )
        else:
            outcomes.append(
                RoomOutcome(
                    room.email,
                    room.name,
                    result.status,
                    check,
                    result.changes,
                    result.moved_from,
                    in_workspace=True,
                )
            )
    return ImportResult(applied.office, tuple(outcomes), applied.missing, include_blocked)


# -- office suggestions --------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeSuggestion:
    name: str
    source: str  # "room list" or "building"
    room_count: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "room_count": self.room_count}


def suggest_offices(
    directory: RoomDirectory, existing: Iterable[Office | str] = ()
) -> list[OfficeSuggestion]:
    """Office names taken from the room lists and buildings Microsoft 365 knows, leaving out
    offices that already exist (given as offices or names); the ones with most rooms first."""
    taken = {office_key(o if isinstance(o, str) else o.name) for o in existing}
    found: dict[str, OfficeSuggestion] = {}

    def offer(raw: str, source: str, count: int) -> None:
        try:
            name = check_office_name(raw)
        except InvalidInput:
            return
        key = office_key(name)
        if key in taken:
            return
        current = found.get(key)
        if current is None or count > current.room_count:
            found[key] = OfficeSuggestion(name, source, count)

    # One pass over the rooms (a tenant may have 10,000 rooms in hundreds of lists).
    members: dict[str, int] = {}
    for room in directory.rooms:
        for list_key in {e.casefold() for e in room.room_lists}:
            members[list_key] = members.get(list_key, 0) + 1
    for room_list in directory.room_lists:
        offer(room_list.name, "room list", members.get(room_list.email.casefold(), 0))
    buildings: dict[str, tuple[str, int]] = {}
    for room in directory.rooms:
        if room.building:
            key = office_key(room.building)
            name, count = buildings.get(key, (room.building, 0))
            buildings[key] = (name, count + 1)
    for name, count in buildings.values():
        offer(name, "building", count)
    return sorted(found.values(), key=lambda s: (-s.room_count, s.name.casefold()))
