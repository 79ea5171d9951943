"""Reading rooms from Graph: paging (and Graph's paging bug), parsing, and calendar probes."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import AnswerTooLarge, GraphError, UnexpectedResponse
from clearooms_wizard.core.graph import MAX_TAGS, MAX_TEXT, GraphClient, parse_room, parse_room_list
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.model import CalendarAccess
from clearooms_wizard.core.tokens import TokenProvider
from clearooms_wizard.core.values import Credentials
from clearooms_wizard.demo import Fault, data
from tests.conftest import Served, ServeDemo


@pytest.fixture
def graph_for(serve_demo: ServeDemo) -> Iterator[object]:
    sessions: list[MicrosoftSession] = []

    def build(served: Served) -> GraphClient:
        session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), CancelToken())
        sessions.append(session)
        scenario = served.tenant.scenario
        credentials = Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)
        tokens = TokenProvider(credentials, served.cloud, session)
        return GraphClient(session, tokens, served.base_url)

    yield build
    for session in sessions:
        session.close()


def room_pages(served: Served) -> list[str]:
    # The log keeps each request's path with its query string.
    return [
        r.path
        for r in served.tenant.request_log()
        if r.path.split("?")[0].endswith("/microsoft.graph.room")
    ]


def test_rooms_come_with_their_room_lists(serve_demo: ServeDemo, graph_for: object) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)  # type: ignore[operator]
    directory = graph.load_rooms()
    assert len(directory.rooms) == 24
    assert len({room.key for room in directory.rooms}) == 24
    in_lists = [room for room in directory.rooms if room.room_lists]
    assert 0 < len(in_lists) < 24  # one room belongs to no list
    assert {rl.email for rl in directory.room_lists} >= {"rooms.london@northwind-demo.com"}


def test_paging_bug_is_worked_around_with_skip(serve_demo: ServeDemo, graph_for: object) -> None:
    served = serve_demo("many-rooms")
    graph = graph_for(served)  # type: ignore[operator]
    seen: list[int] = []
    rooms, skipped = graph.list_rooms(seen.append)
    assert len(rooms) == 1200 and skipped == 0
    assert seen[-1] == 1200 and seen == sorted(seen)
    assert any("skip=1100" in path for path in room_pages(served))
    assert len(room_pages(served)) == 12 + 1  # twelve full pages, then the empty one


def test_next_links_are_followed(serve_demo: ServeDemo, graph_for: object) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)  # type: ignore[operator]
    pages = [items for items, _ in graph._walk_pages("/places/microsoft.graph.room", {"$top": 5})]
    assert [len(p) for p in pages] == [5, 5, 5, 5, 4]


def test_a_next_link_to_another_host_is_not_followed(
    serve_demo: ServeDemo, graph_for: object
) -> None:
    served = serve_demo("healthy")
    body = {
        "value": [{"emailAddress": "a@x.com", "displayName": "A"}],
        "@odata.nextLink": "https://attacker.example/v1.0/places/microsoft.graph.room",
    }
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room$",
            status=200,
            body=body,
            times=1,
            headers={"Content-Type": "application/json"},
        )
    )
    graph = graph_for(served)  # type: ignore[operator]
    with pytest.raises(UnexpectedResponse, match="another address"):
        graph.list_rooms()


def test_a_next_link_loop_ends(serve_demo: ServeDemo, graph_for: object) -> None:
    served = serve_demo("healthy")
    loop = f"{served.base_url}/v1.0/places/microsoft.graph.room?$skip=0"
    body = {"value": [{"emailAddress": "a@x.com"}], "@odata.nextLink": loop}
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room",
            status=200,
            body=body,
            times=None,
            headers={"Content-Type": "application/json"},
        )
    )
    graph = graph_for(served)  # type: ignore[operator]
    # Saying so, rather than stopping quietly: the rooms after the loop would look deleted.
    with pytest.raises(UnexpectedResponse, match="same page"):
        graph.list_rooms()
    assert len(room_pages(served)) <= 3


def test_a_service_ignoring_skip_does_not_loop(serve_demo: ServeDemo, graph_for: object) -> None:
    served = serve_demo("healthy")
    full_page = {"value": [{"emailAddress": f"r{i}@x.com"} for i in range(100)]}
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room",
            status=200,
            body=full_page,
            times=None,
            headers={"Content-Type": "application/json"},
        )
    )
    graph = graph_for(served)  # type: ignore[operator]
    rooms, _ = graph.list_rooms()
    assert len(rooms) == 100
    assert len(room_pages(served)) == 2


def test_rooms_are_parsed_defensively() -> None:
    room = parse_room(
        {
            "emailAddress": "  Board@Contoso.com ",
            "displayName": None,
            "capacity": "12",
            "floorNumber": "x",
            "isWheelchairAccessible": True,
            "tags": ["a", None, 3],
            "building": {"not": "text"},
        }
    )
    assert room is not None
    assert room.email == "Board@Contoso.com" and room.name == "Board@Contoso.com"
    assert room.capacity == 12 and room.floor_number is None
    assert room.wheelchair_accessible is True
    assert room.tags == ("a", "3") and room.building is None
    assert parse_room({"displayName": "No email"}) is None
    assert parse_room({"emailAddress": 42}) is None
    other = parse_room({"emailAddress": "x@y.z", "isWheelChairAccessible": "false"})
    assert other is not None and other.wheelchair_accessible is False


def test_duplicate_emails_in_different_case_are_one_room(
    serve_demo: ServeDemo, graph_for: object
) -> None:
    served = serve_demo("healthy")
    body = {"value": [{"emailAddress": "Room@X.com"}, {"emailAddress": "room@x.COM"}]}
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room$",
            status=200,
            body=body,
            times=1,
            headers={"Content-Type": "application/json"},
        )
    )
    graph = graph_for(served)  # type: ignore[operator]
    rooms, _ = graph.list_rooms()
    assert [room.email for room in rooms] == ["Room@X.com"]


def test_calendar_probe_tells_the_outcomes_apart(serve_demo: ServeDemo, graph_for: object) -> None:
    served = serve_demo("mixed-mailboxes")
    graph = graph_for(served)  # type: ignore[operator]
    outcomes = {
        email: graph.probe_calendar(email).access
        for email in (
            data.room_email("Boardroom"),
            data.room_email("Ada Lovelace"),
            data.room_email("Old Post Room"),
            "nobody@northwind-demo.com",
        )
    }
    assert list(outcomes.values()) == [
        CalendarAccess.READABLE,
        CalendarAccess.BLOCKED_BY_POLICY,
        CalendarAccess.NOT_IN_EXCHANGE_ONLINE,
        CalendarAccess.NOT_FOUND,
    ]
    missing = serve_demo("missing-permission")
    assert (
        graph_for(missing).probe_calendar(data.room_email("Boardroom")).access  # type: ignore[operator]
        is CalendarAccess.NO_PERMISSION
    )


def test_no_more_than_four_requests_per_mailbox(serve_demo: ServeDemo, graph_for: object) -> None:
    served = serve_demo("healthy", latency=0.05)
    graph = graph_for(served)  # type: ignore[operator]
    room = data.room_email("Boardroom")
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: graph.probe_calendar(room).access, range(24)))
    assert results == [CalendarAccess.READABLE] * 24
    assert served.tenant.mailbox_concurrency_rejections == 0
    assert served.tenant.peak_mailbox_concurrency <= 4


def test_room_list_not_found_is_an_error_for_direct_calls(
    serve_demo: ServeDemo, graph_for: object
) -> None:
    served = serve_demo("healthy")
    graph = graph_for(served)  # type: ignore[operator]
    with pytest.raises(GraphError) as caught:
        graph.list_room_list_members("no.such.list@northwind-demo.com")
    assert caught.value.status == 404


def test_next_link_host_is_compared_without_case_or_default_port() -> None:
    graph = GraphClient(None, None, "https://graph.microsoft.com")  # type: ignore[arg-type]
    followed = graph._next_page_url("https://GRAPH.microsoft.com:443/v1.0/x?$skip=5")
    assert followed == "https://graph.microsoft.com/v1.0/x?$skip=5"
    assert graph._next_page_url("http://graph.microsoft.com/v1.0/x") is None
    assert graph._next_page_url("https://graph.microsoft.com.evil.test/v1.0/x") is None
    assert graph._next_page_url("https://graph.microsoft.com:8443/v1.0/x") is None


def test_a_page_of_rooms_without_emails_does_not_end_the_list(
    serve_demo: ServeDemo, graph_for: object
) -> None:
    served = serve_demo("healthy")
    rest = f"{served.base_url}/v1.0/places/microsoft.graph.room?$skip=0"
    nameless = {
        "value": [{"displayName": f"Room {i}"} for i in range(100)],
        "@odata.nextLink": rest,
    }
    served.tenant.inject(
        Fault(
            r"^/v1\.0/places/microsoft\.graph\.room\?%24top",
            status=200,
            body=nameless,
            times=1,
            headers={"Content-Type": "application/json"},
        )
    )
    graph = graph_for(served)  # type: ignore[operator]
    rooms, skipped = graph.list_rooms()
    assert skipped == 100
    assert len(rooms) == 24


def test_numbers_out_of_range_and_broken_text_are_dropped_not_fatal() -> None:
    room = parse_room(
        {
            "emailAddress": "x@y.z",
            "capacity": 10**30,
            "floorNumber": "-99999999999",
            "displayName": "Room \ud800 One",
        }
    )
    assert room is not None
    assert room.capacity is None and room.floor_number is None
    room.name.encode("utf-8")  # writable anywhere: no lone surrogate left


def test_long_text_is_cut_with_an_ellipsis_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    huge = "Board " * 1_000_000
    room = parse_room(
        {
            "emailAddress": "board@contoso.com",
            "displayName": huge,
            "building": "B" * 257,
            "floorLabel": "F" * 256,
            "displayDeviceName": "",
            "displayDevice": "S" * 10_000,
            "tags": ["t" * 300, *(f"tag {i}" for i in range(10_000))],
            "id": "i" * 10_000,
            "bookingType": "b" * 10_000,
        }
    )
    assert room is not None
    assert len(room.name) == MAX_TEXT and room.name.startswith("Board Board")
    assert room.name.endswith("…")
    assert room.building == "B" * (MAX_TEXT - 1) + "…" and room.floor_label == "F" * MAX_TEXT
    assert room.display_device is not None and len(room.display_device) == MAX_TEXT
    assert len(room.tags) == MAX_TAGS and room.tags[0].endswith("…") and room.tags[1] == "tag 0"
    # A cut id or booking type would be a wrong one: they are left out instead.
    assert room.graph_id is None and room.booking_type is None
    (record,) = [r for r in caplog.records if "board@contoso.com" in r.getMessage()]
    assert record.levelname == "WARNING"
    assert "displayName, building, displayDeviceName, tags" in record.getMessage()
    assert huge[:1000] not in record.getMessage()


@pytest.mark.parametrize(
    "address",
    [
        "bo\ufffdard@contoso.com",  # bytes that were not UTF-8
        "bo\udc80ard@contoso.com",  # broken UTF-16
        "bo\x00ard@contoso.com",
        "board@con\x7ftoso.com",
        "a" * 250 + "@contoso.com",  # longer than an address can be
        "board" * 10_000_000 + "@contoso.com",
        "board@contoso",
    ],
)
def test_a_room_whose_address_is_not_valid_is_left_out(address: str) -> None:
    assert parse_room({"emailAddress": address, "displayName": "Board"}) is None
    assert parse_room_list({"emailAddress": address, "displayName": "London"}) is None


def test_a_negative_capacity_is_left_out_and_zero_and_basements_kept() -> None:
    room = parse_room({"emailAddress": "x@y.z", "capacity": -4, "floorNumber": -2})
    assert room is not None and room.capacity is None and room.floor_number == -2
    room = parse_room({"emailAddress": "x@y.z", "capacity": "-1"})
    assert room is not None and room.capacity is None
    room = parse_room({"emailAddress": "x@y.z", "capacity": 0})
    assert room is not None and room.capacity == 0


def test_an_answer_far_larger_than_any_list_is_not_parsed(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    page = {"value": [{"emailAddress": data.room_email("Thames"), "displayName": "x" * 20_000}]}
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room\?",
            status=200,
            body=page,
            times=1,
            headers={"Content-Type": "application/json"},
        )
    )
    # The real limit is 64 MB; a small one shows the same check without sending that much.
    options = HttpOptions(ca_bundle=served.ca_bundle, max_answer_bytes=10_000)
    scenario = served.tenant.scenario
    credentials = Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)
    with MicrosoftSession(options, CancelToken()) as session:
        tokens = TokenProvider(credentials, served.cloud, session)
        graph = GraphClient(session, tokens, served.base_url)
        with pytest.raises(AnswerTooLarge, match="more than 10 KB") as raised:
            graph.list_rooms()
    assert "xxxx" not in str(raised.value)


def test_an_answer_of_millions_of_tiny_entries_is_not_parsed(
    serve_demo: ServeDemo, graph_for: object
) -> None:
    # 3 MB on the wire, but each "{}" would be an object in memory: gigabytes for a few MB more.
    served = serve_demo("healthy")
    page: dict[str, object] = {"value": [{}] * 1_100_000}
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room\?",
            status=200,
            body=page,
            times=1,
            headers={"Content-Type": "application/json"},
        )
    )
    graph = graph_for(served)  # type: ignore[operator]
    with pytest.raises(UnexpectedResponse, match="more than 1,000,000 entries"):
        graph.list_rooms()
