"""Reading a list's pages side by side: when Graph says how long the list is (@odata.count), the
pages after the first are fetched by $skip, several at once, and still come back in order."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from clearooms_wizard.core import graph as graph_module
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.errors import GraphError, ListFault, ListProblem
from clearooms_wizard.core.graph import GraphClient
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.tokens import TokenProvider
from clearooms_wizard.core.values import Credentials
from clearooms_wizard.demo import Fault
from tests.conftest import Served, ServeDemo

ROOMS = "/places/microsoft.graph.room"
JSON = {"Content-Type": "application/json"}


class Client:
    def __init__(self) -> None:
        self.sessions: list[MicrosoftSession] = []

    def __call__(self, served: Served, cancel: CancelToken | None = None) -> GraphClient:
        cancel = cancel or CancelToken()
        session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), cancel)
        self.sessions.append(session)
        scenario = served.tenant.scenario
        credentials = Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)
        tokens = TokenProvider(credentials, served.cloud, session)
        return GraphClient(session, tokens, served.base_url, cancel)


@pytest.fixture
def client() -> Iterator[Client]:
    made = Client()
    yield made
    for session in made.sessions:
        session.close()


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of five, so the 24 rooms of the healthy tenant make five pages."""
    monkeypatch.setattr(graph_module, "PAGE_SIZE", 5)


def emails(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [str(item["emailAddress"]) for page in pages for item in page]


def room_requests(served: Served) -> list[str]:
    return [r.path for r in served.tenant.request_log() if r.path.split("?")[0].endswith(ROOMS)]


def pages_of(
    graph: GraphClient, path: str, params: dict[str, str | int]
) -> Iterator[list[dict[str, Any]]]:
    # The paging walk itself, page by page, as list_rooms and list_room_lists read it.
    for items, _ in graph._walk_pages(path, params):
        yield items


def all_room_emails(served: Served) -> list[str]:
    return [room.email for room in served.tenant.directory.rooms]


def test_with_a_count_the_other_pages_are_fetched_by_skip_and_kept_in_order(
    serve_demo: ServeDemo, client: Client
) -> None:
    served = serve_demo("healthy")
    pages = list(pages_of(client(served), ROOMS, {"$top": 5, "$count": "true"}))
    assert [len(page) for page in pages] == [5, 5, 5, 5, 4]
    assert emails(pages) == all_room_emails(served)
    requested = room_requests(served)
    assert len(requested) == 5  # the last page is short: nothing is asked for after it
    for skip in (5, 10, 15, 20):
        assert sum(f"%24skip={skip}" in path for path in requested) == 1


def test_pages_are_fetched_at_the_same_time(serve_demo: ServeDemo, client: Client) -> None:
    served = serve_demo("many-rooms")  # 1,200 rooms, no next links, a count when asked
    served.tenant.inject(Fault(r"%24skip=", kind="delay", delay=0.25, times=None))
    started = time.monotonic()
    rooms, skipped = client(served).list_rooms()
    elapsed = time.monotonic() - started
    assert len(rooms) == 1200 and skipped == 0
    assert [room.email for room in rooms] == all_room_emails(served)
    # Eleven delayed pages one after another would take 2.75 s; eight at a time, about 0.5 s.
    assert elapsed < 1.6


def test_a_full_last_page_is_followed_by_one_more_request(
    serve_demo: ServeDemo, client: Client
) -> None:
    served = serve_demo("many-rooms")
    rooms, _ = client(served).list_rooms()
    assert len(rooms) == 1200
    requested = room_requests(served)
    assert len(requested) == 13  # twelve full pages, then an empty one in case the list grew
    assert "%24skip=1200" in requested[-1]


def test_rooms_seen_on_an_earlier_page_are_kept_once(
    serve_demo: ServeDemo, client: Client, small_pages: None
) -> None:
    served = serve_demo("healthy")
    graph_rooms = [room.to_graph() for room in served.tenant.directory.rooms]
    repeat = dict(graph_rooms[0], emailAddress=str(graph_rooms[0]["emailAddress"]).upper())
    served.tenant.inject(
        Fault(
            r"%24skip=10(&|$)",
            status=200,
            headers=JSON,
            body={"@odata.count": 24, "value": [repeat, *graph_rooms[10:14]]},
            times=None,
        )
    )
    rooms, _ = client(served).list_rooms()
    expected = all_room_emails(served)
    assert [room.email for room in rooms] == expected[:14] + expected[15:]


def test_a_failing_page_raises_after_the_pages_before_it(
    serve_demo: ServeDemo, client: Client
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            r"%24skip=15(&|$)",
            status=500,
            code="generalException",
            message="Something broke.",
            times=None,
        )
    )
    read: list[list[dict[str, Any]]] = []
    with pytest.raises(GraphError) as caught:
        for page in pages_of(client(served), ROOMS, {"$top": 5, "$count": "true"}):
            read.append(page)
    assert caught.value.status == 500
    assert emails(read) == all_room_emails(served)[:15]


def test_without_a_count_next_links_are_followed(
    serve_demo: ServeDemo, client: Client, small_pages: None
) -> None:
    served = serve_demo("healthy")
    graph_rooms = [room.to_graph() for room in served.tenant.directory.rooms]
    link = f"{served.base_url}/v1.0{ROOMS}?%24top=5&%24skip=5&from=nextlink"
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room\?%24top=5&%24count=true$",
            status=200,
            headers=JSON,
            body={"value": graph_rooms[:5], "@odata.nextLink": link},
            times=1,
        )
    )
    rooms, _ = client(served).list_rooms()
    assert [room.email for room in rooms] == all_room_emails(served)
    assert any("from=nextlink" in path for path in room_requests(served))


def test_a_short_first_page_is_read_in_turn(serve_demo: ServeDemo, client: Client) -> None:
    served = serve_demo("healthy")
    pages = list(pages_of(client(served), ROOMS, {"$count": "true"}))
    assert [len(page) for page in pages] == [24]
    assert len(room_requests(served)) == 1


def test_an_unbelievable_count_is_not_used(serve_demo: ServeDemo, client: Client) -> None:
    served = serve_demo("healthy")
    graph_rooms = [room.to_graph() for room in served.tenant.directory.rooms]
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room\?%24top=5&%24count=true$",
            status=200,
            headers=JSON,
            body={"@odata.count": 10**9, "value": graph_rooms[:5]},
            times=1,
        )
    )
    pages = list(pages_of(client(served), ROOMS, {"$top": 5, "$count": "true"}))
    assert emails(pages) == all_room_emails(served)
    assert len(room_requests(served)) == 5  # read in turn until the short page


def test_cancel_stops_reading(serve_demo: ServeDemo, client: Client) -> None:
    served = serve_demo("many-rooms", latency=0.05)
    cancel = CancelToken()
    graph = client(served, cancel)
    seen: list[int] = []

    def progress(found: int) -> None:
        seen.append(found)
        cancel.cancel()

    with pytest.raises(Cancelled):
        graph.list_rooms(progress)
    assert seen == [100]
    time.sleep(0.2)  # requests in flight finish; none are started after Cancel
    assert len(room_requests(served)) <= 1 + graph_module.PAGE_CONCURRENCY * 2


def test_progress_is_reported_page_by_page_in_order(serve_demo: ServeDemo, client: Client) -> None:
    served = serve_demo("many-rooms")
    seen: list[int] = []
    rooms, _ = client(served).list_rooms(seen.append)
    assert seen == [100 * n for n in range(1, 13)] + [1200]
    assert len(rooms) == 1200


def answer(served: Served, query: str, body: dict[str, Any]) -> None:
    """Rooms requests whose query matches ``query`` get ``body``, every time."""
    pattern = r"microsoft\.graph\.room\?" + query
    served.tenant.inject(Fault(pattern, status=200, headers=JSON, body=body, times=None))


def test_with_a_count_a_next_link_that_is_not_skip_is_followed(
    serve_demo: ServeDemo, client: Client, small_pages: None
) -> None:
    """A service that pages by an opaque $skiptoken and ignores $skip: the count alone must not
    send the reader off by $skip (which would read the first page three times and lose the
    other seven rooms, quietly)."""
    served = serve_demo("healthy")
    graph_rooms = [room.to_graph() for room in served.tenant.directory.rooms][:12]
    link = f"{served.base_url}/v1.0{ROOMS}?%24top=5&%24skiptoken="
    first = {"@odata.count": 12, "value": graph_rooms[:5], "@odata.nextLink": link + "B"}
    answer(
        served,
        r"(.*&)?%24skiptoken=B(&|$)",
        {"value": graph_rooms[5:10], "@odata.nextLink": link + "C"},
    )
    answer(served, r"(.*&)?%24skiptoken=C(&|$)", {"value": graph_rooms[10:]})
    answer(served, r"(.*&)?%24skip=", first)  # $skip ignored: the first page again
    answer(served, r"%24top=5&%24count=true$", first)
    rooms, _ = client(served).list_rooms()
    assert [room.email for room in rooms] == [str(item["emailAddress"]) for item in graph_rooms]
    assert not any("%24skip=" in path for path in room_requests(served))


def test_a_page_read_by_skip_whose_next_link_leads_elsewhere_is_followed(
    serve_demo: ServeDemo, client: Client, small_pages: None
) -> None:
    """The first page's link agrees with $skip, the second page's does not: the walk by $skip
    hands over to the link there, rather than end at the empty page $skip finds next."""
    served = serve_demo("healthy")
    graph_rooms = [room.to_graph() for room in served.tenant.directory.rooms][:12]
    root = f"{served.base_url}/v1.0{ROOMS}"
    first = {
        "@odata.count": 12,
        "value": graph_rooms[:5],
        "@odata.nextLink": f"{root}?$top=5&$count=true&$skip=5",
    }
    second = {"value": graph_rooms[5:10], "@odata.nextLink": f"{root}?%24skiptoken=C"}
    answer(served, r"(.*&)?%24skiptoken=C(&|$)", {"value": graph_rooms[10:]})
    answer(served, r"(.*&)?%24skip=5(&|$)", second)
    answer(served, r"(.*&)?%24skip=10(&|$)", {"value": []})
    answer(served, r"%24top=5&%24count=true$", first)
    rooms, _ = client(served).list_rooms()
    assert [room.email for room in rooms] == [str(item["emailAddress"]) for item in graph_rooms]
    assert sum("skiptoken=C" in path for path in room_requests(served)) == 1


def test_with_a_count_a_next_link_to_another_host_is_refused(
    serve_demo: ServeDemo, client: Client, small_pages: None
) -> None:
    served = serve_demo("healthy")
    graph_rooms = [room.to_graph() for room in served.tenant.directory.rooms]
    link = f"https://evil.example/v1.0{ROOMS}?$top=5&$count=true&$skip=5"
    first = {"@odata.count": 24, "value": graph_rooms[:5], "@odata.nextLink": link}
    answer(served, r"%24top=5&%24count=true$", first)
    with pytest.raises(ListFault) as caught:
        client(served).list_rooms()
    assert caught.value.problem is ListProblem.ELSEWHERE
