"""The import: plan, calendar checks and apply, against the demo tenant over real HTTPS and a
real SQLite workspace."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.errors import NetworkError, NetworkProblem
from clearooms_wizard.core.fixes import POLICY_FIX
from clearooms_wizard.core.graph import CalendarProbe, GraphClient
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.importer import (
    CHECK_WORKERS,
    CalendarProber,
    ImportPlan,
    ImportProgress,
    ImportResult,
    apply_import,
    check_calendars,
    plan_import,
    rooms_in_list,
    select_rooms,
    suggest_offices,
)
from clearooms_wizard.core.model import CalendarAccess, Office, Room, RoomDirectory, RoomStatus
from clearooms_wizard.core.store import (
    BadEmail,
    InvalidInput,
    UnknownOffice,
    UnknownRoomList,
    UnknownRooms,
    office_name_problem,
)
from clearooms_wizard.core.tokens import TokenProvider
from clearooms_wizard.core.values import Credentials
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.demo import Fault, data
from tests.conftest import Served, ServeDemo

GraphFor = Callable[[Served], GraphClient]
ROOM_PLACES = r"/places/microsoft\.graph\.room($|\?)"


@pytest.fixture
def graph_for() -> Iterator[GraphFor]:
    sessions: list[MicrosoftSession] = []

    def build(served: Served, cancel: CancelToken | None = None) -> GraphClient:
        cancel = cancel or CancelToken()
        session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), cancel)
        sessions.append(session)
        scenario = served.tenant.scenario
        credentials = Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)
        tokens = TokenProvider(credentials, served.cloud, session)
        return GraphClient(session, tokens, served.base_url, cancel)

    yield build
    for session in sessions:
        session.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace(tmp_path / "workspace.sqlite3") as opened:
        yield opened


def dump(workspace: Workspace) -> list[str]:
    db = sqlite3.connect(workspace.path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def places_without(served: Served, drop: set[str], rename: dict[str, dict[str, Any]]) -> Fault:
    """Graph's room list as it would be after rooms were deleted or edited in Exchange."""
    rooms = []
    for room in served.tenant.directory.rooms:
        if room.email in drop:
            continue
        item = room.to_graph()
        item.update(rename.get(room.email, {}))
        rooms.append(item)
    return Fault(ROOM_PLACES, status=200, body={"value": rooms})


def check_and_apply(
    workspace: Workspace,
    prober: CalendarProber,
    plan: ImportPlan,
    cancel: CancelToken,
    progress: Callable[[ImportProgress], None] | None = None,
    *,
    include_blocked: bool = False,
) -> ImportResult:
    """The import's steps 2 and 3, as the use cases run them: check, then apply."""
    checks = check_calendars(prober, [p.room.email for p in plan.rooms], cancel, progress)
    return apply_import(workspace, plan, checks, include_blocked=include_blocked, cancel=cancel)


def import_all(
    workspace: Workspace,
    graph: GraphClient,
    office: str,
    directory: RoomDirectory | None = None,
    **options: Any,
) -> Any:
    directory = directory or graph.load_rooms()
    plan = plan_import(workspace, directory, office, directory.rooms)
    return plan, check_and_apply(workspace, graph, plan, CancelToken(), **options)


THAMES = data.room_email("Thames")
OLD_POST = data.room_email("Old Post Room")
ADA = data.room_email("Ada Lovelace")
DEANSGATE = data.room_email("Deansgate")


def test_import_then_reimport_changes_nothing(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)
    workspace.add_office("London HQ", "Europe/London")
    seen: list[ImportProgress] = []
    directory = graph.load_rooms()
    plan = plan_import(workspace, directory, "london hq", directory.rooms)
    assert plan.counts() == {"new": 24, "updated": 0, "unchanged": 0, "moving": 0, "missing": 0}
    result = check_and_apply(workspace, graph, plan, CancelToken(), seen.append)
    assert len(result.new) == 24 and result.ok and result.changed
    assert [p.done for p in seen] == list(range(1, 25)) and seen[-1].total == 24
    assert all(r.calendar is not None and r.calendar.readable for r in result.rooms)
    stored = {r.email: r for r in workspace.imported_rooms()}
    thames = stored[THAMES]
    assert (thames.name, thames.capacity, thames.building, thames.floor_label) == (
        "Thames",
        12,
        "London HQ",
        "3",
    )
    assert thames.room_lists == ("rooms.london@northwind-demo.com",)
    assert thames.calendar_access == "readable" and thames.office_name == "London HQ"
    southwark = stored[data.room_email("Southwark")]
    assert southwark.capacity == 8  # Graph sent "8", a string

    before = dump(workspace)
    time.sleep(1.1)  # a rewrite would now carry a different timestamp
    plan, again = import_all(workspace, graph, "London HQ")
    assert plan.counts()["unchanged"] == 24
    assert len(again.unchanged) == 24 and not again.changed
    assert dump(workspace) == before


def test_a_renamed_room_and_a_new_capacity_are_updated_in_place(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)
    workspace.add_office("London HQ")
    import_all(workspace, graph, "London HQ")
    first = {r.email: r for r in workspace.imported_rooms()}[THAMES]

    edited = {THAMES: {"displayName": "Thames Suite", "capacity": 14, "id": "NEW-PLACE-ID"}}
    served.tenant.inject(places_without(served, set(), edited))
    plan, result = import_all(workspace, graph, "London HQ")
    (planned,) = [p for p in plan.rooms if p.status is RoomStatus.UPDATED]
    assert planned.room.email == THAMES
    assert {c.field: (c.before, c.after) for c in planned.changes} == {
        "name": ("Thames", "Thames Suite"),
        "capacity": ("12", "14"),
        "graph_id": (first.graph_id, "NEW-PLACE-ID"),
    }
    (updated,) = result.updated
    assert updated.email == THAMES and len(result.unchanged) == 23
    stored = {r.email: r for r in workspace.imported_rooms()}
    assert len(stored) == 24
    thames = stored[THAMES]
    assert (thames.name, thames.capacity, thames.graph_id) == ("Thames Suite", 14, "NEW-PLACE-ID")
    assert thames.first_imported_at == first.first_imported_at


def test_a_room_gone_from_graph_is_reported_missing_not_deleted(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)
    workspace.add_office("London HQ")
    import_all(workspace, graph, "London HQ")

    served.tenant.inject(places_without(served, {OLD_POST}, {}))
    plan, result = import_all(workspace, graph, "London HQ")
    assert [m.email for m in plan.missing] == [OLD_POST]
    assert [m.email for m in result.missing] == [OLD_POST]
    assert len(plan.rooms) == 23 and len(result.unchanged) == 23
    stored = {r.email: r for r in workspace.imported_rooms()}
    assert len(stored) == 24 and stored[OLD_POST].missing_since is not None
    # Seen again later: no longer marked.
    served.tenant.clear_faults()
    _, result = import_all(workspace, graph, "London HQ")
    assert result.missing == ()
    assert {r.email: r for r in workspace.imported_rooms()}[OLD_POST].missing_since is None


def test_blocked_calendars_are_reported_and_imported_only_when_asked(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("mixed-mailboxes")
    graph = graph_for(served)
    workspace.add_office("Northwind")
    _, result = import_all(workspace, graph, "Northwind")
    assert len(result.new) == 21 and result.ok
    blocked = {r.email: r for r in result.blocked}
    assert set(blocked) == {ADA, DEANSGATE, OLD_POST}
    assert not any(r.in_workspace for r in blocked.values())
    assert blocked[ADA].fix == POLICY_FIX
    assert blocked[ADA].calendar is not None
    assert blocked[ADA].calendar.access is CalendarAccess.BLOCKED_BY_POLICY
    assert "Exchange Online" in (blocked[OLD_POST].reason or "")
    assert blocked[OLD_POST].calendar is not None
    assert blocked[OLD_POST].calendar.code == "MailboxNotEnabledForRESTAPI"
    assert len(workspace.imported_rooms()) == 21

    before = dump(workspace)
    _, again = import_all(workspace, graph, "Northwind")
    assert len(again.unchanged) == 21 and len(again.blocked) == 3
    assert dump(workspace) == before

    _, forced = import_all(workspace, graph, "Northwind", include_blocked=True)
    assert {r.email for r in forced.new} == {ADA, DEANSGATE, OLD_POST}
    assert {r.email for r in forced.imported_but_blocked} == {ADA, DEANSGATE, OLD_POST}
    assert forced.blocked == []
    stored = {r.email: r for r in workspace.imported_rooms()}
    assert stored[ADA].calendar_access == "blocked_by_policy" and not stored[ADA].calendar_readable
    assert stored[OLD_POST].calendar_code == "MailboxNotEnabledForRESTAPI"


def test_moving_rooms_between_offices(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)
    workspace.add_office("London HQ")
    workspace.add_office("Manchester Hub")
    directory = graph.load_rooms()
    import_all(workspace, graph, "London HQ", directory)
    manchester = rooms_in_list(directory, "ROOMS.MANCHESTER@northwind-demo.com")
    assert len(manchester) == 8
    plan = plan_import(workspace, directory, "Manchester Hub", manchester)
    assert {p.status for p in plan.rooms} == {RoomStatus.MOVING}
    assert {p.moving_from for p in plan.rooms} == {"London HQ"}
    result = check_and_apply(workspace, graph, plan, CancelToken())
    assert len(result.updated) == 8
    assert {r.moved_from for r in result.updated} == {"London HQ"}
    counts = {o.name: o.room_count for o in workspace.list_offices()}
    assert counts == {"London HQ": 16, "Manchester Hub": 8}


def test_a_network_failure_half_way_loses_nothing(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)
    workspace.add_office("London HQ")
    directory = graph.load_rooms()
    first_five = sorted(directory.rooms, key=lambda r: r.name)[:5]
    plan = plan_import(workspace, directory, "London HQ", first_five)
    check_and_apply(workspace, graph, plan, CancelToken())
    before = {r.email: r for r in workspace.imported_rooms()}

    # The network drops every calendar request after the first few.
    served.tenant.clear_request_log()
    served.tenant.inject(Fault(r"/users/[^/]+/calendar", kind="reset", times=None))
    plan = plan_import(workspace, directory, "London HQ", directory.rooms)
    result = check_and_apply(workspace, graph, plan, CancelToken())
    assert not result.ok and len(result.failed) == 24
    assert result.new == [] and result.updated == []
    failure = result.failed[0]
    assert failure.reason == "The connection to Microsoft was cut off."
    assert failure.fix is not None and "Try again" in failure.fix
    not_checked = [r for r in result.failed if r.calendar and not r.calendar.checked]
    assert not_checked, "after the network failed, the other rooms were not tried"
    calendar_requests = [p for p in served.paths() if "/calendar" in p]
    assert len(calendar_requests) < 24 * 2
    assert {r.email: r for r in workspace.imported_rooms()} == before
    assert {r.email for r in result.failed if r.in_workspace} == {r.email for r in first_five}

    # Later, with the network back, the same import finishes the job.
    served.tenant.clear_faults()
    result = check_and_apply(workspace, graph, plan, CancelToken())
    assert result.ok and len(result.new) == 19 and len(result.unchanged) == 5


def test_retry_after_is_honoured_during_the_checks(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)
    workspace.add_office("London HQ")
    directory = graph.load_rooms()
    served.tenant.inject(
        Fault.graph(
            re.escape(f"/users/{THAMES}/calendar"),
            status=429,
            code="ApplicationThrottled",
            message="Application is over its MailboxConcurrency limit.",
            retry_after=1,
        )
    )
    thames = [r for r in directory.rooms if r.email == THAMES]
    started = time.monotonic()
    plan = plan_import(workspace, directory, "London HQ", thames)
    result = check_and_apply(workspace, graph, plan, CancelToken())
    assert time.monotonic() - started >= 0.9
    assert [r.email for r in result.new] == [THAMES]
    statuses = [r.status for r in served.tenant.request_log() if THAMES in r.path]
    assert statuses == [429, 200]
    assert served.tenant.mailbox_concurrency_rejections == 0


class FakeProber:
    """Counts how many checks run at once; answers after a short wait."""

    def __init__(self, delay: float = 0.02, block: threading.Event | None = None) -> None:
        self.delay = delay
        self.block = block
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls: list[str] = []

    def probe_calendar(self, email: str) -> CalendarProbe:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.calls.append(email)
        try:
            if self.block is not None:
                self.block.wait(5)
            time.sleep(self.delay)
            if email.startswith("down"):
                raise NetworkError(NetworkProblem.TIMEOUT, "graph.test", "timed out")
            return CalendarProbe(email, CalendarAccess.READABLE)
        finally:
            with self.lock:
                self.running -= 1


def test_checks_run_at_most_eight_at_once_in_the_order_given() -> None:
    prober = FakeProber()
    emails = [f"room{i}@contoso.com" for i in range(40)]
    checks = check_calendars(prober, [*emails, emails[0]], CancelToken())
    assert [c.email for c in checks] == emails
    assert prober.peak == CHECK_WORKERS
    assert sorted(prober.calls) == sorted(emails)


def test_after_a_network_failure_no_more_checks_start() -> None:
    prober = FakeProber()
    emails = ["down@contoso.com", *(f"room{i}@contoso.com" for i in range(40))]
    checks = check_calendars(prober, emails, CancelToken(), workers=1)
    assert len(prober.calls) == 1
    assert all(c.failed for c in checks)
    assert checks[0].checked and not checks[1].checked
    assert checks[1].problem is not None and "did not answer in time" in checks[1].problem.summary


def test_cancel_stops_the_checks_and_writes_nothing(workspace: Workspace) -> None:
    release = threading.Event()
    prober = FakeProber(block=release)
    office = workspace.add_office("HQ")
    directory = RoomDirectory(tuple(Room(f"room{i}@contoso.com", f"R{i}") for i in range(20)), ())
    plan = plan_import(workspace, directory, office, directory.rooms)
    cancel = CancelToken()
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            check_and_apply(workspace, prober, plan, cancel)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(0.1)
    cancel.cancel()
    thread.join(2)
    release.set()
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    assert workspace.imported_rooms() == []


def test_choices_that_do_not_match_graph_are_clear_errors(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("healthy")
    directory = graph_for(served).load_rooms()
    workspace.add_office("London HQ")
    before = dump(workspace)
    with pytest.raises(UnknownOffice, match=r"no office called “Paris”.*“London HQ”"):
        plan_import(workspace, directory, "Paris", directory.rooms)
    with pytest.raises(UnknownOffice):
        plan_import(workspace, directory, Office(42, "London HQ"), directory.rooms)
    with pytest.raises(BadEmail, match="is not an email address"):
        select_rooms(directory, emails=["thames"])
    with pytest.raises(UnknownRooms, match=r"nobody@northwind-demo\.com") as unknown:
        select_rooms(directory, emails=[THAMES, "nobody@northwind-demo.com"])
    assert unknown.value.emails == ("nobody@northwind-demo.com",)
    with pytest.raises(UnknownRoomList, match=r"rooms\.london@northwind-demo\.com"):
        select_rooms(directory, room_list="rooms.paris@northwind-demo.com")
    assert [r.email for r in select_rooms(directory, emails=[THAMES.upper(), THAMES])] == [THAMES]
    assert len(select_rooms(directory, all_rooms=True)) == 24
    assert dump(workspace) == before


@pytest.mark.parametrize(
    "text",
    ["", "   ", "thames", "thames@", "@northwind.com", "a b@c.com", "a@b", "x" * 300 + "@c.com",
     "<a@b.com>", "a@@b.com"],
)  # fmt: skip
def test_what_is_not_an_email_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        select_rooms(RoomDirectory((), ()), emails=[text])


def test_offices_are_suggested_from_room_lists_and_buildings(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    directory = graph_for(serve_demo("healthy")).load_rooms()
    suggestions = suggest_offices(directory)
    assert [(s.name, s.room_count) for s in suggestions] == [
        ("London HQ", 15),
        ("Manchester Hub", 8),
        ("London HQ - Level 4", 5),
    ]
    workspace.add_office("london hq")
    names = [s.name for s in suggest_offices(directory, workspace.list_offices())]
    assert names == ["Manchester Hub", "London HQ - Level 4"]
    assert suggest_offices(directory, ["MANCHESTER HUB"])[0].name == "London HQ"
    assert office_name_problem("London  HQ", ["London HQ"]) is not None
    assert office_name_problem("Paris", ["London HQ"]) is None


def test_many_rooms_import_in_one_go(
    serve_demo: ServeDemo, graph_for: GraphFor, workspace: Workspace
) -> None:
    served = serve_demo("many-rooms")
    graph = graph_for(served)
    workspace.add_office("Everywhere")
    directory = graph.load_rooms()
    plan = plan_import(workspace, directory, "Everywhere", directory.rooms)
    started = time.monotonic()
    result = check_and_apply(workspace, graph, plan, CancelToken())
    assert len(result.new) == 1200 and result.ok
    assert time.monotonic() - started < 20
    assert served.tenant.mailbox_concurrency_rejections == 0
    again = apply_import(workspace, plan, [r.calendar for r in result.rooms if r.calendar])
    assert len(again.unchanged) == 1200
