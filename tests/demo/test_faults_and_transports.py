"""Fault injection, throttling, concurrency limits, latency and both transports' plumbing."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import msal
import pytest
import requests

from clearooms_wizard.demo import (
    DEMO_AUTHORITY_HOST,
    DEMO_GRAPH_ROOT,
    DemoServer,
    DemoTenant,
    Fault,
    InProcessAdapter,
    data,
    mount_demo,
)
from tests.demo.support import (
    Served,
    TLSMaterial,
    assert_aadsts_shape,
    assert_graph_error,
    https_session,
    make_tls,
    serve,
)

ROOMS = "places/microsoft.graph.room"
BOARDROOM_CALENDAR = "users/room.boardroom@northwind-demo.com/calendar"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return make_tls(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def healthy(tls: TLSMaterial) -> Iterator[Served]:
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        yield served


@pytest.fixture
def local() -> Iterator[tuple[DemoTenant, requests.Session]]:
    tenant = DemoTenant("healthy", latency=0)
    with requests.Session() as session:
        session.trust_env = False
        mount_demo(session, tenant)
        yield tenant, session


def graph_headers(tenant: DemoTenant) -> dict[str, str]:
    return {"Authorization": "Bearer " + tenant.mint_token(DEMO_GRAPH_ROOT)}


# --- fault kinds ---------------------------------------------------------------------------


def test_canned_aadsts_fault(healthy: Served) -> None:
    healthy.tenant.inject(
        Fault.aadsts(
            r"/oauth2/v2\.0/token$",
            code=50196,
            error="invalid_grant",
            text="The server terminated an operation because it encountered a client request loop.",
        )
    )
    first = healthy.token()
    assert first.status_code == 400
    assert_aadsts_shape(first.json(), 50196, "invalid_grant")
    # times=1 by default for canned errors: the next request is served normally.
    assert healthy.token().status_code == 200


def test_canned_graph_fault_with_retry_after(healthy: Served) -> None:
    healthy.tenant.inject(
        Fault.graph(ROOMS, status=503, code="ServiceUnavailable", message="Try later.",
                    retry_after=7, times=2)
    )  # fmt: skip
    for _ in range(2):
        response = healthy.graph(ROOMS)
        assert_graph_error(response, 503, "ServiceUnavailable")
        assert response.headers["Retry-After"] == "7"
    assert healthy.graph(ROOMS).status_code == 200


def test_raw_response_fault_and_method_filter(healthy: Served) -> None:
    healthy.tenant.inject(
        Fault("openid-configuration", method="POST", status=418, body={"nope": True})
    )
    healthy.tenant.inject(
        Fault(re.compile(r"openid-configuration"), status=502, body="<h1>Bad gateway</h1>",
              headers={"Content-Type": "text/html"}, times=None)
    )  # fmt: skip
    url = f"{healthy.base}/{data.TENANT_ID}/v2.0/.well-known/openid-configuration"
    for _ in range(3):
        response = healthy.session.get(url)
        assert response.status_code == 502
        assert response.text == "<h1>Bad gateway</h1>"
    healthy.tenant.clear_faults()
    assert healthy.session.get(url).status_code == 200


def test_reset_over_https(healthy: Served) -> None:
    healthy.tenant.inject(Fault(ROOMS, kind="reset", times=1))
    with pytest.raises(requests.exceptions.ConnectionError):
        healthy.graph(ROOMS)
    assert healthy.graph(ROOMS).status_code == 200
    outcomes = [r.outcome for r in healthy.tenant.request_log()]
    assert outcomes == ["reset", "respond"]


def test_reset_in_process(local: tuple[DemoTenant, requests.Session]) -> None:
    tenant, session = local
    tenant.inject(Fault("token", kind="reset"))
    with pytest.raises(requests.exceptions.ConnectionError, match="Connection aborted"):
        session.post(f"{DEMO_AUTHORITY_HOST}/{data.TENANT_ID}/oauth2/v2.0/token", data={})


def test_html_proxy_page(healthy: Served) -> None:
    healthy.tenant.inject(Fault("openid-configuration", kind="html", times=1))
    response = healthy.session.get(
        f"{healthy.base}/{data.TENANT_ID}/v2.0/.well-known/openid-configuration"
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_html_proxy_page_breaks_msal_construction(
    local: tuple[DemoTenant, requests.Session],
) -> None:
    tenant, session = local
    tenant.inject(Fault("openid-configuration", kind="html"))
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal.ConfidentialClientApplication(
            data.APP_ID,
            client_credential=data.APP_SECRET,
            authority=f"{DEMO_AUTHORITY_HOST}/{data.TENANT_ID}",
            instance_discovery=False,
            http_client=session,
        )


def test_truncated_json(healthy: Served) -> None:
    full = healthy.graph(ROOMS).content
    healthy.tenant.inject(Fault(ROOMS, kind="truncated", times=1))
    response = healthy.graph(ROOMS)
    assert response.status_code == 200
    assert len(response.content) == len(full) // 2
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_empty_body(healthy: Served) -> None:
    healthy.tenant.inject(Fault(r"/token$", kind="empty", times=1))
    response = healthy.token()
    assert response.status_code == 200
    assert response.content == b""


def test_delay_fault_then_normal(local: tuple[DemoTenant, requests.Session]) -> None:
    tenant, session = local
    tenant.inject(Fault(ROOMS, kind="delay", delay=0.3, times=1))
    started = time.monotonic()
    response = session.get(f"{DEMO_GRAPH_ROOT}/v1.0/{ROOMS}", headers=graph_headers(tenant))
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.exceptions.ReadTimeout):
        tenant.inject(Fault(ROOMS, kind="delay", delay=0.5, times=1))
        session.get(
            f"{DEMO_GRAPH_ROOT}/v1.0/{ROOMS}", headers=graph_headers(tenant), timeout=(1, 0.1)
        )


# --- latency and timeouts --------------------------------------------------------------------


def test_latency_and_read_timeout_in_process() -> None:
    tenant = DemoTenant("slow-network", latency=0.2)
    assert DemoTenant("slow-network").latency == pytest.approx(1.5)
    with requests.Session() as session:
        mount_demo(session, tenant)
        url = f"{DEMO_AUTHORITY_HOST}/{data.TENANT_ID}/v2.0/.well-known/openid-configuration"
        started = time.monotonic()
        assert session.get(url).status_code == 200
        assert time.monotonic() - started >= 0.2
        with pytest.raises(requests.exceptions.ReadTimeout, match=r"read timeout=0\.05"):
            session.get(url, timeout=0.05)
        with pytest.raises(requests.exceptions.Timeout):
            session.get(url, timeout=(5, 0.05))
        assert session.get(url, timeout=5).status_code == 200
    assert [r.outcome for r in tenant.request_log()] == ["respond", "timeout", "timeout", "respond"]


def test_latency_over_https(tls: TLSMaterial) -> None:
    with serve(DemoTenant("slow-network", latency=0.2), tls) as served:
        started = time.monotonic()
        assert served.token().status_code == 200
        assert time.monotonic() - started >= 0.2
        with pytest.raises(requests.exceptions.ReadTimeout):
            served.session.get(f"{served.base}/{data.TENANT_ID}/discovery/v2.0/keys", timeout=0.05)


# --- throttling ------------------------------------------------------------------------------


def test_throttling_first_request_per_path(tls: TLSMaterial) -> None:
    with serve(DemoTenant("throttling", latency=0), tls) as served:
        # Identity is never throttled.
        assert served.token().status_code == 200
        first = served.graph(f"{ROOMS}?$top=10")
        assert_graph_error(first, 429, "TooManyRequests")
        assert first.headers["Retry-After"] == "1"
        # The same path again, even with another query, is served.
        assert served.graph(f"{ROOMS}?$top=10").status_code == 200
        assert served.graph(f"{ROOMS}?$top=10&$skip=10").status_code == 200
        assert served.graph("places/microsoft.graph.roomlist").status_code == 429
        assert served.graph("places/microsoft.graph.roomlist").status_code == 200
        assert served.tenant.throttled_count == 2


def test_mailbox_concurrency_limit(tls: TLSMaterial) -> None:
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        served.tenant.inject(Fault("/calendar", kind="delay", delay=0.5))
        headers = served.bearer()
        barrier = threading.Barrier(8)
        statuses: list[int] = []
        retry_after: list[str] = []
        lock = threading.Lock()
        keys = f"{served.base}/{data.TENANT_ID}/discovery/v2.0/keys"

        def probe() -> None:
            with https_session(tls.ca_bundle) as session:
                # Connect and handshake first, so all eight calendar requests land together.
                assert session.get(keys).status_code == 200
                barrier.wait()
                response = session.get(f"{served.base}/v1.0/{BOARDROOM_CALENDAR}", headers=headers)
                with lock:
                    statuses.append(response.status_code)
                    if response.status_code == 429:
                        retry_after.append(response.headers["Retry-After"])
                        body = response.json()["error"]
                        assert body["code"] == "ApplicationThrottled"
                        assert "MailboxConcurrency" in body["message"]

        threads = [threading.Thread(target=probe) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] * 4 + [429] * 4
        assert retry_after == ["1"] * 4
        assert served.tenant.mailbox_concurrency_rejections == 4
        assert served.tenant.peak_mailbox_concurrency == 4
        # Another mailbox is unaffected, and slots free up again afterwards.
        served.tenant.clear_faults()
        assert served.graph(BOARDROOM_CALENDAR).status_code == 200


# --- request log ----------------------------------------------------------------------------


def test_request_log_keeps_no_authorization(healthy: Served) -> None:
    assert healthy.tenant.request_log() == []
    healthy.graph(f"{ROOMS}?$top=5", headers={**healthy.bearer(), "X-Trace": "abc"})
    (record,) = healthy.tenant.request_log()
    assert record.method == "GET"
    assert record.path == "/v1.0/places/microsoft.graph.room?$top=5"
    assert record.is_graph
    assert record.status == 200
    assert record.base_url == healthy.base
    assert record.headers["X-Trace"] == "abc"
    assert "authorization" not in {k.lower() for k in record.headers}
    assert record.timestamp <= time.time()
    healthy.tenant.clear_request_log()
    assert healthy.tenant.request_log() == []


def test_token_secret_never_reaches_the_log(healthy: Served) -> None:
    healthy.token()
    assert data.APP_SECRET not in repr(healthy.tenant.request_log())


# --- transports -----------------------------------------------------------------------------


def test_in_process_response_looks_real(local: tuple[DemoTenant, requests.Session]) -> None:
    tenant, session = local
    url = f"{DEMO_GRAPH_ROOT}/v1.0/{ROOMS}?$top=2"
    response = session.get(url, headers=graph_headers(tenant))
    assert isinstance(session.get_adapter(url), InProcessAdapter)
    assert response.status_code == 200
    assert response.reason == "OK"
    assert response.url == url
    assert response.request is not None
    assert response.request.url == url
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.encoding == "utf-8"
    assert len(response.json()["value"]) == 2
    assert response.text.startswith('{"@odata.context"')
    response.close()
    streamed = session.get(url, headers=graph_headers(tenant), stream=True)
    with streamed:
        assert b"".join(streamed.iter_content(64)).startswith(b'{"@odata.context"')
    missing = session.get(f"{DEMO_GRAPH_ROOT}/v1.0/nope", headers=graph_headers(tenant))
    assert missing.reason == "Bad Request"
    with pytest.raises(requests.exceptions.HTTPError):
        missing.raise_for_status()


def test_mount_is_limited_to_the_demo_hosts() -> None:
    with requests.Session() as session:
        mount_demo(session, DemoTenant("healthy", latency=0))
        assert isinstance(session.get_adapter(f"{DEMO_GRAPH_ROOT}/v1.0/x"), InProcessAdapter)
        assert isinstance(session.get_adapter(f"{DEMO_AUTHORITY_HOST}/x"), InProcessAdapter)
        other = session.get_adapter("https://graph.demo.clearooms.invalid.example.com/x")
        assert not isinstance(other, InProcessAdapter)


def test_keep_alive_and_content_length(healthy: Served) -> None:
    for _ in range(3):
        response = healthy.graph(ROOMS)
        assert int(response.headers["Content-Length"]) == len(response.content)
    head = healthy.session.head(
        f"{healthy.base}/{data.TENANT_ID}/v2.0/.well-known/openid-configuration"
    )
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["Content-Length"]) > 0
    assert healthy.graph(ROOMS).status_code == 200


def test_untrusted_client_is_refused_quietly(
    tls: TLSMaterial, capfd: pytest.CaptureFixture[str]
) -> None:
    tenant = DemoTenant("healthy", latency=0)
    with DemoServer(tenant, tls.server_context) as server, requests.Session() as session:
        session.trust_env = False
        with pytest.raises(requests.exceptions.SSLError):
            session.get(f"{server.base_url}/{data.TENANT_ID}/discovery/v2.0/keys")
    assert capfd.readouterr().err == ""


def test_server_shutdown_leaves_no_threads(tls: TLSMaterial) -> None:
    before = set(threading.enumerate())
    server = DemoServer(DemoTenant("healthy", latency=0), tls.server_context)
    with server, https_session(tls.ca_bundle) as session:
        assert server.base_url.startswith("https://127.0.0.1:")
        url = f"{server.base_url}/{data.TENANT_ID}/v2.0/.well-known/openid-configuration"
        assert session.get(url).status_code == 200
        # An idle keep-alive connection stays open while the server stops.
        assert len(set(threading.enumerate()) - before) >= 2
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    # A stopped server can be started again.
    with server, https_session(tls.ca_bundle) as session:
        assert session.get(url.replace(url.split("/")[2], f"127.0.0.1:{server.port}")).ok
    assert set(threading.enumerate()) - before == set()
