"""Every call to Microsoft has an overall deadline: a server trickling its answer a byte at a time
(headers or body; discovery, token or Graph) never trips the per-read timeout, so only the
deadline ends the wait, with a plain "answered too slowly". Cancel still stops it at once."""

from __future__ import annotations

import functools
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.core import http as http_module
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.errors import NetworkError, NetworkProblem
from clearooms_wizard.core.fixes import NETWORK_FIXES
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.demo import Fault
from tests.conftest import TLS, Served, ServeDemo
from tests.support.trickle import TrickleMode, TricklingFront, TricklingRelay

DEADLINE = 1.0
# The deadline, plus the time the calls before the slow one take, plus a loaded machine. A
# trickled answer would otherwise take minutes.
BOUND = DEADLINE + 4.0
SLOW = NETWORK_FIXES[NetworkProblem.SLOW]

CALLS = {
    "discovery": r"/v2\.0/\.well-known/openid-configuration",
    "token": r"/oauth2/v2\.0/token",
    "graph": r"/v1\.0/places/microsoft\.graph\.room\?",
}


@dataclass(frozen=True)
class SlowTenant:
    """The demo tenant, and the trickling front to point the product at."""

    served: Served
    front: TricklingFront

    @property
    def base_url(self) -> str:
        return self.front.base_url


Front = Callable[[str, TrickleMode], SlowTenant]


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The product's sessions (the command line's too) with a one-second deadline."""
    monkeypatch.setattr(
        http_module, "HttpOptions", functools.partial(HttpOptions, deadline=DEADLINE)
    )


@pytest.fixture
def front(serve_demo: ServeDemo, tls: TLS) -> Iterator[Front]:
    with ExitStack() as fronts:

        def start(call: str, mode: TrickleMode) -> SlowTenant:
            served = serve_demo("healthy")
            made = TricklingFront(
                served.server.port, tls.server_context, tls.ca_bundle, CALLS[call], mode
            )
            return SlowTenant(served, fronts.enter_context(made))

        yield start


def run_cli(slow: SlowTenant, *words: str) -> tuple[int, str, str, float]:
    served, base_url = slow.served, slow.base_url
    scenario = served.tenant.scenario
    out, err = io.StringIO(), io.StringIO()
    argv = [
        *words,
        "--tenant",
        scenario.tenant,
        "--client-id",
        scenario.client_id,
        "--secret-stdin",
        "--authority-host",
        base_url,
        "--graph-url",
        base_url,
        "--ca-bundle",
        served.ca_bundle,
    ]
    started = time.monotonic()
    code = main(argv, stdin=io.StringIO(scenario.client_secret + "\n"), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue(), time.monotonic() - started


@pytest.mark.parametrize("mode", ["headers", "body"])
@pytest.mark.parametrize("call", list(CALLS))
def test_check_ends_at_the_deadline_and_says_microsoft_answered_too_slowly(
    short_deadline: None, front: Front, call: str, mode: TrickleMode
) -> None:
    slow = front(call, mode)
    code, out, err, seconds = run_cli(slow, "check")
    assert slow.front.trickled, "the slow answer was never asked for"
    assert code == 1
    assert SLOW.summary in out and SLOW.fix in out
    assert "Traceback" not in out + err
    assert seconds < BOUND


@pytest.mark.parametrize(
    "words", [("rooms", "list"), ("rooms", "import", "--office", "HQ", "--all")]
)
def test_room_commands_end_at_the_deadline(
    short_deadline: None, front: Front, words: tuple[str, ...]
) -> None:
    slow = front("graph", "body")
    assert main(["offices", "add", "HQ"], stdout=io.StringIO(), stderr=io.StringIO()) == 0
    code, _, err, seconds = run_cli(slow, *words)
    assert code == 1
    assert SLOW.summary in err and "(code network:slow)" in err
    assert "Traceback" not in err
    assert seconds < BOUND


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_the_deadline_covers_every_call_of_the_session(front: Front, mode: TrickleMode) -> None:
    slow = front("discovery", mode)
    session = MicrosoftSession(HttpOptions(ca_bundle=slow.served.ca_bundle, deadline=0.5))
    url = f"{slow.base_url}/common/v2.0/.well-known/openid-configuration"
    started = time.monotonic()
    with session, pytest.raises(NetworkError) as caught:
        # As MSAL calls it: no timeout of its own.
        session.get(url, timeout=None)
    assert caught.value.problem is NetworkProblem.SLOW
    assert "answered too slowly" in str(caught.value)
    assert 0.5 <= time.monotonic() - started < 0.5 + 2.0


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_cancel_still_stops_a_slow_answer_at_once(front: Front, mode: TrickleMode) -> None:
    slow = front("discovery", mode)
    cancel = CancelToken()
    session = MicrosoftSession(HttpOptions(ca_bundle=slow.served.ca_bundle), cancel)
    url = f"{slow.base_url}/common/v2.0/.well-known/openid-configuration"
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with session, pytest.raises(Cancelled):
        session.get(url)
    assert time.monotonic() - started < 0.3 + 2.0


def test_a_quick_answer_is_unaffected_and_later_calls_reuse_the_connection(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("healthy")
    session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle, deadline=0.3))
    url = f"{served.base_url}/common/v2.0/.well-known/openid-configuration"
    with session:
        for _ in range(3):
            assert session.get(url).status_code == 200
            # Each call's deadline passes while the connection waits in the pool for the next.
            time.sleep(0.4)
        assert session.get(url).status_code == 200


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            r"/v1\.0/users",
            status=503,
            code="ServiceUnavailable",
            message="Try later.",
            retry_after=3,
            times=None,
        )
    )
    session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle, deadline=1.0))
    started = time.monotonic()
    with session:
        response = session.get(f"{served.base_url}/v1.0/users")
    # Microsoft's answer comes back to say so, rather than a wait past the deadline.
    assert response.status_code == 503
    assert time.monotonic() - started < 2.5  # waiting out even one Retry-After takes 3 s


@pytest.fixture
def relay(serve_demo: ServeDemo) -> Iterator[tuple[Served, TricklingRelay]]:
    served = serve_demo("healthy")
    with TricklingRelay(served.server.port) as made:
        yield served, made


def test_the_deadline_covers_a_connection_that_is_never_quite_set_up(
    relay: tuple[Served, TricklingRelay],
) -> None:
    served, slow = relay
    session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle, deadline=0.5))
    started = time.monotonic()
    with session, pytest.raises(NetworkError) as caught:
        session.get(f"{slow.base_url}/common/v2.0/.well-known/openid-configuration")
    assert caught.value.problem is NetworkProblem.SLOW
    assert time.monotonic() - started < 0.5 + 2.0
    assert slow.connections == 1  # not tried again past the deadline


def test_cancel_stops_a_connection_that_is_never_quite_set_up(
    relay: tuple[Served, TricklingRelay],
) -> None:
    served, slow = relay
    cancel = CancelToken()
    session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), cancel)
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with session, pytest.raises(Cancelled):
        session.get(f"{slow.base_url}/common/v2.0/.well-known/openid-configuration")
    assert time.monotonic() - started < 0.3 + 2.0
