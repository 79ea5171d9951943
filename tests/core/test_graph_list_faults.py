"""Lists Graph sends that do not add up, and throttling answers with a garbled Retry-After: each is
told as what it is, not as a captive portal or an unreachable Microsoft."""

from __future__ import annotations

import pytest

from clearooms_wizard.core import graph as graph_module
from clearooms_wizard.core.errors import ListProblem
from clearooms_wizard.core.fixes import GRAPH_FIXES, LIST_FIXES
from clearooms_wizard.demo import Fault
from tests.conftest import Served, ServeDemo

ROOMS = "/v1.0/places/microsoft.graph.room"
FIRST_PAGE = r"microsoft\.graph\.room\?%24top=100&%24count=true$"
JSON = {"Content-Type": "application/json"}


def graph_rooms(served: Served) -> list[dict[str, object]]:
    return [room.to_graph() for room in served.tenant.directory.rooms]


def assert_told(err: str, problem: ListProblem) -> None:
    assert LIST_FIXES[problem].summary in err
    assert LIST_FIXES[problem].fix in err
    assert f"(code list:{problem.value})" in err
    assert "captive portal" not in err and "Traceback" not in err


def test_a_looping_next_link_is_told_as_a_loop(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    loop = f"{served.base_url}{ROOMS}?$skiptoken=again"
    body = {"value": graph_rooms(served)[:5], "@odata.nextLink": loop}
    served.tenant.inject(Fault(r"microsoft\.graph\.room\?", status=200, headers=JSON, body=body))
    code, _, err = served.run_cli("rooms", "list")
    assert code == 1
    assert_told(err, ListProblem.LOOP)


def test_a_list_beyond_the_page_cap_is_told_as_endless(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graph_module, "MAX_PAGES", 4)
    served = serve_demo("many-rooms")  # twelve full pages
    code, _, err = served.run_cli("rooms", "list")
    assert code == 1
    assert_told(err, ListProblem.ENDLESS)


def test_a_false_count_over_a_service_repeating_one_page_is_told_as_repeats(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("many-rooms")
    page = {"@odata.count": 5000, "value": graph_rooms(served)[:100]}
    served.tenant.inject(Fault(r"microsoft\.graph\.room\?", status=200, headers=JSON, body=page))
    code, _, err = served.run_cli("rooms", "list")
    assert code == 1
    assert_told(err, ListProblem.REPEATS)


def test_a_false_count_does_not_cost_a_request_per_page_it_promised(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("many-rooms")  # 1,200 rooms
    first = {"@odata.count": 100_000, "value": graph_rooms(served)[:100]}
    served.tenant.inject(Fault(FIRST_PAGE, status=200, headers=JSON, body=first, times=1))
    code, out, _ = served.run_cli("rooms", "list", "--csv")
    assert code == 0
    assert len(out.strip().splitlines()) == 1 + 1200
    room_pages = [p for p in served.paths() if p.startswith(ROOMS + "?")]
    # Twelve pages of rooms, the short one, and those already asked for side by side.
    assert len(room_pages) <= 13 + 2 * graph_module.PAGE_CONCURRENCY


@pytest.mark.parametrize("value", [None, "rooms", {"emailAddress": "a@b.c"}])
def test_a_page_without_its_list_is_told_as_such(serve_demo: ServeDemo, value: object) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault(FIRST_PAGE, status=200, headers=JSON, body={"value": value}, times=1)
    )
    code, _, err = served.run_cli("rooms", "list")
    assert code == 1
    assert_told(err, ListProblem.NO_ENTRIES)


GARBLED_RETRY_AFTER = ["soon", "nan", "1e999", "-5", "Wed, 99 Foo 2026", "Wed, 25 Nov 2026 21:00"]


def throttled(retry_after: str, times: int | None) -> Fault:
    fault = Fault.graph(
        r"microsoft\.graph\.room\?",
        status=429,
        code="TooManyRequests",
        message="Too many requests.",
        times=times,
    )
    return Fault(
        fault.path_pattern,
        status=429,
        headers={**(fault.headers or {}), "Retry-After": retry_after},
        body=fault.body,
        times=times,
    )


@pytest.mark.parametrize("retry_after", GARBLED_RETRY_AFTER)
def test_a_garbled_retry_after_is_retried_like_none_was_sent(
    serve_demo: ServeDemo, retry_after: str
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(throttled(retry_after, times=1))
    code, out, err = served.run_cli("rooms", "list", "--csv")
    assert (code, err) == (0, "")
    assert len(out.strip().splitlines()) == 1 + 24


@pytest.mark.parametrize("retry_after", GARBLED_RETRY_AFTER)
def test_throttling_with_a_garbled_retry_after_says_slow_down(
    serve_demo: ServeDemo, retry_after: str
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(throttled(retry_after, times=None))
    code, _, err = served.run_cli("rooms", "list")
    assert code == 1
    assert GRAPH_FIXES["TooManyRequests"].summary in err
    assert "Could not reach" not in err and "Traceback" not in err


@pytest.mark.parametrize("retry_after", ["nan", "1e999"])
def test_the_settings_check_survives_a_retry_after_that_is_not_a_number_of_seconds(
    serve_demo: ServeDemo, retry_after: str
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(throttled(retry_after, times=None))
    code, out, err = served.run_cli("check")
    assert code == 1
    assert "Traceback" not in out + err
    assert GRAPH_FIXES["TooManyRequests"].summary in out + err
