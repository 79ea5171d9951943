"""Faults x endpoints: every way the network or Microsoft misbehaves, on every call the product
makes, through the product's own flows over real HTTPS on loopback.

For each cell the flows that reach the endpoint are run (Test Settings, the command line's
``rooms import``, and for host-wide faults a direct call): no crash, no hang past the short
timeouts, a specific message (the check's or the command's code and fix), a retry where retrying
is right (429, 503 and 504 succeed after one fault, an expired token is renewed), and for the
import the workspace either unchanged or complete. The table of outcomes is printed at the end.
"""

from __future__ import annotations

import functools
import io
import json
import re
import shutil
import socket
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from clearooms_wizard.cli import entry as cli_entry
from clearooms_wizard.cli import main
from clearooms_wizard.core import http as http_module
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.checks import CHECK_IDS, CheckResult, SettingsTest, Status
from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.errors import ClearoomsError, NetworkError
from clearooms_wizard.core.fixes import explain_error
from clearooms_wizard.core.graph import GraphClient
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.logs import configure_logging
from clearooms_wizard.core.secrets import MemorySecretStore
from clearooms_wizard.core.tokens import TokenProvider
from clearooms_wizard.core.usecases import ImportRequest, UseCases
from clearooms_wizard.core.values import Credentials
from clearooms_wizard.core.workspace import open_workspace
from clearooms_wizard.demo import DemoServer, DemoTenant, Fault, data
from tests.conftest import TLS, Served
from tests.reliability.conftest import ServeHooked
from tests.support.fuzz import nested_json
from tests.support.reliability import (
    ENDPOINTS,
    IDENTITY_ENDPOINTS,
    REPORT,
    HookedTenant,
    endpoint_of,
    json_rewrite,
)

# Short timeouts, so that a hang shows as a flow taking longer than FLOW_LIMIT.
FAST = HttpOptions(
    connect_timeout=2.0, read_timeout=1.0, retries=2, max_retry_after=2.0, backoff_factor=0.05
)
# The read-timeout fault answers this late: a call that ignored the timeout would take this long.
SLOW_ANSWER = 3.5
FLOW_LIMIT = 8.0
WORKERS = 6
OFFICE = "London HQ"
MATRIX = "Faults x endpoints (outcome per flow: check = Test Settings, import = rooms import, "
MATRIX += "direct = the call on its own; ok↻ = recovered by retrying)"

GATEWAY_PAGE = (
    b"<html><head><title>{status} Gateway</title></head><body><center><h1>{status} Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)
NESTED = nested_json()
XML_BODY = b'<?xml version="1.0" encoding="utf-8"?><Error><Code>Blocked</Code></Error>'

# The demo's healthy tenant reaches every mailbox's calendar, as Clearooms' guide sets the app up:
# mailbox_scope warns of it in every recovered run, which is the baseline, not a fault's mark.
TENANT_WIDE = ("mailbox_scope", "tenant_wide")


def gateway(pattern: str, status: int, times: int | None) -> Fault:
    body = GATEWAY_PAGE.replace(b"{status}", str(status).encode())
    return Fault(
        pattern, status=status, headers={"Content-Type": "text/html"}, body=body, times=times
    )


def throttled(pattern: str, identity: bool, retry_after: str, times: int | None) -> Fault:
    if identity:
        return Fault.aadsts(
            pattern,
            code=90055,
            error="temporarily_unavailable",
            status=429,
            text="The request is throttled temporarily.",
            times=times,
            headers={"Retry-After": retry_after},
        )
    fault = Fault.graph(
        pattern, status=429, code="TooManyRequests", message="Too many requests.", times=times
    )
    return replace(fault, headers={**(fault.headers or {}), "Retry-After": retry_after})


def server_error(pattern: str, identity: bool, status: int, times: int | None) -> Fault:
    if identity:
        code, error = (
            (50000, "server_error") if status == 500 else (90033, "temporarily_unavailable")
        )
        return Fault.aadsts(
            pattern,
            code=code,
            error=error,
            status=status,
            times=times,
            text="There was an error issuing a token.",
        )
    graph_code = "UnknownError" if status == 500 else "ServiceNotAvailable"
    return Fault.graph(
        pattern, status=status, code=graph_code, message="Service trouble.", times=times
    )


MakeFault = Callable[[str, bool], Fault]


@dataclass(frozen=True)
class Row:
    name: str
    # "recover", or the code the user must be shown (for Graph; ``identity_code`` for sign-in).
    expect: str
    make: MakeFault | None = None
    identity_code: str | None = None
    host: str | None = None  # "dns" or "tls": the fault is a whole host's, not one path's
    graph_only: bool = False
    min_seconds: float = 0.0  # a recovery must have waited at least this long (Retry-After)

    def code_for(self, endpoint: str) -> str:
        if endpoint in IDENTITY_ENDPOINTS and self.identity_code:
            return self.identity_code
        return self.expect


ROWS = [
    Row("connection reset", "network:reset", lambda p, i: Fault(p, "reset", times=None)),
    Row(
        "read timeout",
        "network:timeout",
        lambda p, i: Fault(p, "delay", delay=SLOW_ANSWER, times=None),
    ),
    Row("DNS failure", "network:dns", host="dns"),
    Row("TLS certificate not trusted", "network:tls", host="tls"),
    Row(
        "429 Retry-After: 1 (once)",
        "recover",
        lambda p, i: throttled(p, i, "1", 1),
        min_seconds=0.9,
    ),
    Row(
        "429 Retry-After: HTTP date (once)",
        "recover",
        lambda p, i: throttled(p, i, formatdate(time.time() + 2, usegmt=True), 1),
        min_seconds=0.5,
    ),
    Row(
        "429 Retry-After: 600 (always)",
        "TooManyRequests",
        lambda p, i: throttled(p, i, "600", None),
        identity_code="AADSTS90055",
    ),
    Row(
        "500 (always)",
        "UnknownError",
        lambda p, i: server_error(p, i, 500, None),
        identity_code="AADSTS50000",
    ),
    Row("502 gateway page (always)", "unexpected_response", lambda p, i: gateway(p, 502, None)),
    Row("503 (once)", "recover", lambda p, i: server_error(p, i, 503, 1)),
    Row("504 gateway page (once)", "recover", lambda p, i: gateway(p, 504, 1)),
    Row(
        "503 (always)",
        "ServiceNotAvailable",
        lambda p, i: server_error(p, i, 503, None),
        identity_code="AADSTS90033",
    ),
    Row("proxy HTML login page", "unexpected_response", lambda p, i: Fault(p, "html", times=None)),
    Row("truncated JSON", "unexpected_response", lambda p, i: Fault(p, "truncated", times=None)),
    Row(
        "wrong content type (XML)",
        "unexpected_response",
        lambda p, i: Fault(
            p, status=200, headers={"Content-Type": "application/xml"}, body=XML_BODY, times=None
        ),
    ),
    Row("empty body", "unexpected_response", lambda p, i: Fault(p, "empty", times=None)),
    Row(
        "JSON nested 100,000 deep",
        "unexpected_response",
        lambda p, i: Fault(
            p, status=200, headers={"Content-Type": "application/json"}, body=NESTED, times=None
        ),
    ),
    Row("token expires", "recover", graph_only=True),
]


def accepted(row: Row, endpoint: str) -> set[str]:
    return {row.code_for(endpoint)}


# Which check of Test Settings reads each endpoint; the command line's import reads the rest.
CHECK_FOR = {
    "discovery": "tenant",
    "token": "token",
    "rooms": "rooms",
    "users": "directory",
    "application": "secret_expiry",
    "calendar probe": "calendars",
}
IMPORTED = ("discovery", "token", "rooms", "room lists", "list members", "calendar probe")
LONDON_LIST = "rooms.london@northwind-demo.com"
# The import imports one room list (8 rooms; two of them imported before), which reads every
# endpoint an --all import reads, at a third of the calendar probes.
IMPORTED_LIST = "rooms.manchester@northwind-demo.com"
THAMES = data.room_email("Thames")
DIRECT: dict[str, Callable[[GraphClient], object]] = {
    "rooms": lambda graph: graph.list_rooms(),
    "room lists": lambda graph: graph.list_room_lists(),
    "list members": lambda graph: graph.list_room_list_members(LONDON_LIST),
    "users": lambda graph: graph.sample_users(),
    "application": lambda graph: graph.get_application(data.APP_ID),
    "calendar probe": lambda graph: graph.probe_calendar(THAMES),
}


# -- the workspace every import starts from -----------------------------------------------------


def dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


@dataclass(frozen=True)
class Template:
    path: Path
    before: list[str]
    # The rooms in the workspace after a complete import of the Manchester room list.
    after: frozenset[str]


@pytest.fixture(scope="module")
def template(tls: TLS, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A workspace with the office and five of the 24 rooms already imported."""
    path = tmp_path_factory.mktemp("matrix") / "before.sqlite3"
    tenant = DemoTenant("healthy")
    with DemoServer(tenant, tls.server_context) as server:
        cloud = Cloud("custom", "Loopback", server.base_url, server.base_url, "https://p.test")

        def open_session(cancel: CancelToken) -> MicrosoftSession:
            return MicrosoftSession(HttpOptions(ca_bundle=tls.ca_bundle), cancel)

        use_cases = UseCases(open_session, path, MemorySecretStore())
        scenario = tenant.scenario
        credentials = Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)
        with open_workspace(path) as workspace:
            workspace.add_office(OFFICE)
        directory = use_cases.load_rooms(credentials, cloud, CancelToken())
        first = sorted(directory.rooms, key=lambda r: r.name)[:5]
        request = ImportRequest(OFFICE, False, tuple(first), directory, credentials, cloud)
        prepared = use_cases.prepare_import(request, None, None, CancelToken())
        use_cases.apply_import(prepared, False, CancelToken())
    listed = {r.email for r in directory.rooms if IMPORTED_LIST in r.room_lists}
    return Template(path, dump(path), frozenset({r.email for r in first} | listed))


def complete(path: Path, template: Template) -> bool:
    with open_workspace(path) as workspace:
        rooms = workspace.imported_rooms()
    return {r.email for r in rooms} == template.after and all(
        r.office_name == OFFICE and r.calendar_access == "readable" for r in rooms
    )


# -- running one flow ---------------------------------------------------------------------------


@dataclass
class Flow:
    name: str
    outcome: str = ""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """Where the product is pointed for one cell."""

    served: Served
    authority: str
    graph: str

    @property
    def tenant(self) -> HookedTenant:
        tenant = self.served.tenant
        assert isinstance(tenant, HookedTenant)
        return tenant

    @property
    def cloud(self) -> Cloud:
        return Cloud("custom", "Loopback demo", self.authority, self.graph, "https://portal.test")


def open_fast(ca_bundle: str) -> Callable[[CancelToken], MicrosoftSession]:
    def open_session(cancel: CancelToken) -> MicrosoftSession:
        return MicrosoftSession(replace(FAST, ca_bundle=ca_bundle), cancel)

    return open_session


def check_flow(target: Target, endpoint: str, row: Row) -> Flow:
    flow = Flow("check")
    connection = target.served.connection()
    connection = replace(connection, cloud=target.cloud)
    test = SettingsTest(connection, open_fast(target.served.ca_bundle))
    results: dict[str, CheckResult] = {}
    try:
        for result in test.run():
            results[result.id] = result
    except BaseException as exc:  # a crash is what this suite looks for
        flow.problems.append("crashed: " + "".join(traceback.format_exception_only(exc)))
        flow.outcome = f"CRASH {type(exc).__name__}"
        return flow
    if list(results) != list(CHECK_IDS):
        flow.problems.append(f"checks reported: {list(results)}")
    if row.expect == "recover":
        failed = {
            k: (r.status.value, r.code)
            for k, r in results.items()
            if r.status is not Status.PASS and (k, r.code) != TENANT_WIDE
        }
        if failed:
            flow.problems.append(f"did not recover: {failed}")
        flow.outcome = "ok↻" if not failed else "FAILED"
        return flow
    result = results[CHECK_FOR[endpoint]]
    expected = row.code_for(endpoint)
    if endpoint == "application":
        # The expiry date is a diagnostic: when it cannot be read, the check says why and skips.
        flow.outcome = f"skip:{result.code or expected}"
        prefix = "Skipped: the app's registration could not be read."
        if result.status is not Status.SKIP or result.detail.strip() == prefix:
            flow.problems.append(f"secret_expiry: {result.status.value} {result.detail!r}")
        if result.code is not None and result.code != expected:
            flow.problems.append(f"secret_expiry code {result.code}, expected {expected}")
        return flow
    flow.outcome = result.code or "(no code)"
    if (
        result.status is not Status.FAIL
        or result.code not in accepted(row, endpoint)
        or not (result.fix)
    ):
        flow.problems.append(
            f"{result.id}: {result.status.value} code={result.code} fix={result.fix!r} "
            f"detail={result.detail!r}; expected a failure with code {expected}"
        )
    return flow


def import_flow(target: Target, endpoint: str, row: Row, template: Template, path: Path) -> Flow:
    flow = Flow("import")
    shutil.copyfile(template.path, path)
    scenario = target.tenant.scenario
    argv = [
        "rooms",
        "import",
        "--office",
        OFFICE,
        "--room-list",
        IMPORTED_LIST,
        "--json",
        "--workspace",
        str(path),
        "--tenant",
        scenario.tenant,
        "--client-id",
        scenario.client_id,
        "--secret-stdin",
        "--authority-host",
        target.authority,
        "--graph-url",
        target.graph,
        "--ca-bundle",
        target.served.ca_bundle,
    ]
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(argv, stdin=io.StringIO(scenario.client_secret + "\n"), stdout=out, stderr=err)
    except BaseException as exc:
        flow.problems.append("crashed: " + "".join(traceback.format_exception_only(exc)))
        flow.outcome = f"CRASH {type(exc).__name__}"
        return flow
    stdout, stderr = out.getvalue(), err.getvalue()
    if "Traceback" in stdout + stderr:
        flow.problems.append("a traceback was printed")
    if row.expect == "recover":
        flow.outcome = "ok↻" if code == 0 else f"exit {code}"
        if code != 0 or not complete(path, template):
            flow.problems.append(f"exit {code}, workspace complete: {complete(path, template)}")
            flow.problems.append(stderr[-500:])
        return flow
    expected = row.code_for(endpoint)
    if dump(path) != template.before:
        flow.problems.append("the workspace changed although the import failed")
    if code != 1:
        flow.problems.append(f"exit {code}, expected 1")
    if endpoint == "calendar probe":
        rooms = json.loads(stdout)["result"]["rooms"] if stdout.strip() else []
        codes = {room["calendar"]["code"] for room in rooms}
        flow.outcome = ",".join(sorted(str(c) for c in codes)) or "(none)"
        if codes != {expected} or not all(room["calendar"]["fix"] for room in rooms):
            flow.problems.append(f"room codes {codes}, expected {expected}")
        return flow
    found = re.search(r"\(code ([^)]+)\)", stderr)
    code_shown = found.group(1) if found else "(no code)"
    flow.outcome = code_shown
    if (
        code_shown not in accepted(row, endpoint)
        or "What to do:" not in stderr
        or "Nothing was written" not in stderr
    ):
        flow.problems.append(f"stderr: {stderr!r}; expected code {expected}")
    return flow


def direct_flow(target: Target, endpoint: str, row: Row) -> Flow:
    """The endpoint's own call as the first request to a host-wide fault."""
    flow = Flow("direct")
    scenario = target.tenant.scenario
    session = MicrosoftSession(replace(FAST, ca_bundle=target.served.ca_bundle), CancelToken())
    try:
        credentials = Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)
        tokens = TokenProvider(credentials, target.cloud, session)
        DIRECT[endpoint](GraphClient(session, tokens, target.graph))
    except ClearoomsError as exc:
        flow.outcome = explain_error(exc)[1] or type(exc).__name__
        if not isinstance(exc, NetworkError) or flow.outcome != row.expect:
            flow.problems.append(f"{type(exc).__name__}: {exc}; expected {row.expect}")
        return flow
    except BaseException as exc:
        flow.problems.append("crashed: " + "".join(traceback.format_exception_only(exc)))
        flow.outcome = f"CRASH {type(exc).__name__}"
        return flow
    finally:
        session.close()
    flow.outcome = "ok"
    flow.problems.append(f"the call worked although {target.graph} should fail")
    return flow


# -- the cells ----------------------------------------------------------------------------------


@dataclass
class Cell:
    row: Row
    endpoint: str
    flows: list[Flow] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if not self.flows:
            return "n/a"
        outcomes = sorted({f.outcome for f in self.flows})
        mark = "" if not any(f.problems for f in self.flows) else " ✗"
        return "/".join(outcomes) + mark


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(run: Callable[[], Flow]) -> Flow:
    started = time.monotonic()
    flow = run()
    flow.seconds = time.monotonic() - started
    if flow.seconds > FLOW_LIMIT:
        flow.problems.append(f"took {flow.seconds:.1f} s (limit {FLOW_LIMIT} s)")
    return flow


def arm(tenant: HookedTenant, row: Row, endpoint: str) -> None:
    """Put this row's fault on the endpoint afresh (a "once" fault for every flow)."""
    tenant.clear_faults()
    tenant.clear_hooks()
    tenant.clear_request_log()
    pattern = ENDPOINTS[endpoint]
    if row.make is not None:
        tenant.inject(row.make(pattern, endpoint in IDENTITY_ENDPOINTS))
    elif row.name == "token expires":
        tenant.before(pattern, tenant.expire_tokens)


def fired(tenant: HookedTenant, endpoint: str, row: Row) -> list[str]:
    """What the request log says about the fault: it fired, and was retried when it should be."""
    if not any(endpoint_of(path) == endpoint for path in tenant.received):
        return [f"no request reached {endpoint}"]
    if row.expect != "recover":
        return []
    log = [r for r in tenant.request_log() if endpoint_of(r.path) == endpoint]
    statuses = [r.status for r in log]
    bad = [s for s in statuses if s is None or s >= 400]
    if not bad or 200 not in statuses[statuses.index(bad[0]) :]:
        return [f"{endpoint} answers {statuses}: expected a fault, then a retry that worked"]
    return []


def run_cell(
    row: Row, endpoint: str, serve: ServeHooked, template: Template, tmp: Path, rogue: Any
) -> Cell:
    cell = Cell(row, endpoint)
    if row.graph_only and endpoint in IDENTITY_ENDPOINTS:
        return cell
    # A host that does not resolve, or a server on loopback whose certificate nobody trusts (for
    # the same tenant: were certificates not checked, the calls would simply work).
    bad = (
        "https://unresolvable.invalid:1"
        if row.host != "tls"
        else f"https://127.0.0.1:{free_port()}"
    )
    served = serve(graph_roots=[bad])
    tenant = served.tenant
    assert isinstance(tenant, HookedTenant)
    good = served.base_url
    target = Target(served, good, good)
    flows: list[str] = []
    if row.host is None:
        flows = (["check"] if endpoint in CHECK_FOR else []) + (
            ["import"] if endpoint in IMPORTED else []
        )
    else:
        if row.host == "tls":
            serve.serve(tenant, rogue, port=int(bad.rsplit(":", 1)[1]))
        if endpoint == "discovery":
            target = Target(served, bad, good)
            flows = ["check", "import"]
        elif endpoint == "token":

            def elsewhere(payload: dict[str, Any]) -> None:
                payload["token_endpoint"] = payload["token_endpoint"].replace(good, bad)

            tenant.rewrite(ENDPOINTS["discovery"], json_rewrite(elsewhere))
            flows = ["check", "import"]
        else:
            target = Target(served, good, bad)
            flows = ["direct"]
            flows += ["check"] if endpoint in ("rooms", "users", "application") else []
            flows += ["import"] if endpoint == "rooms" else []
    for name in flows:
        if row.host is None:
            arm(tenant, row, endpoint)
        else:
            tenant.clear_request_log()
        if name == "check":
            flow = timed(lambda: check_flow(target, endpoint, row))
        elif name == "import":
            path = tmp / f"{len(cell.flows)}-{endpoint.replace(' ', '-')}.sqlite3"
            flow = timed(functools.partial(import_flow, target, endpoint, row, template, path))
        else:
            flow = timed(lambda: direct_flow(target, endpoint, row))
        if row.host is None:
            flow.problems += fired(tenant, endpoint, row)
        if row.min_seconds and flow.seconds < row.min_seconds:
            flow.problems.append(f"recovered in {flow.seconds:.2f} s: Retry-After not honoured")
        cell.flows.append(flow)
    return cell


@pytest.fixture
def fast_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line with the same short timeouts (the app looks HttpOptions up in core.http
    when it opens a session), safe to run on several threads at once (its logging set-up is
    made one at a time)."""
    monkeypatch.setattr(
        http_module,
        "HttpOptions",
        functools.partial(
            HttpOptions,
            connect_timeout=FAST.connect_timeout,
            read_timeout=FAST.read_timeout,
            retries=FAST.retries,
            max_retry_after=FAST.max_retry_after,
            backoff_factor=FAST.backoff_factor,
        ),
    )
    lock = threading.Lock()
    configure = configure_logging
    configured: list[Path | None] = []

    def configure_once(*args: Any, **kwargs: Any) -> Path | None:
        # Each command sets up the log file again; with commands running at once, that would
        # close a handler another thread is writing through. Once per test is enough.
        with lock:
            if not configured:
                configured.append(configure(*args, **kwargs))
            return configured[0]

    monkeypatch.setattr(cli_entry, "configure_logging", configure_once)
    yield


def test_every_fault_on_every_endpoint(
    serve_hooked: ServeHooked,
    template: Template,
    tmp_path: Path,
    rogue_tls: Any,
    fast_cli: None,
) -> None:
    cells = [(row, endpoint) for row in ROWS for endpoint in ENDPOINTS]

    def run(cell: tuple[Row, str]) -> Cell:
        row, endpoint = cell
        folder = tmp_path / f"{ROWS.index(row)}-{endpoint.replace(' ', '-')}"
        folder.mkdir()
        return run_cell(row, endpoint, serve_hooked, template, folder, rogue_tls)

    # Every cell has its own tenant, server and workspace, so they run side by side: most of
    # the time is spent waiting out timeouts and Retry-After.
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cell") as pool:
        results = list(pool.map(run, cells))
    problems: list[str] = []
    for cell in results:
        REPORT.cell(MATRIX, "fault", list(ENDPOINTS), cell.row.name, cell.endpoint, cell.summary)
        for flow in cell.flows:
            REPORT.count("fault matrix: flows run")
            REPORT.highest("fault matrix: slowest flow (ms)", int(flow.seconds * 1000))
            problems += [
                f"{cell.row.name} x {cell.endpoint} / {flow.name}: {p}" for p in flow.problems
            ]
        if cell.flows:
            REPORT.count("fault matrix: cells (fault x endpoint)")
            if not any(f.problems for f in cell.flows):
                REPORT.count("fault matrix: cells survived")
    assert not problems, "\n".join(problems)


def test_the_matrix_covers_every_fault_and_endpoint() -> None:
    names = {r.name for r in ROWS}
    for wanted in (
        "reset",
        "timeout",
        "DNS",
        "TLS",
        "429",
        "HTTP date",
        "500",
        "502",
        "503",
        "504",
        "proxy",
        "truncated",
        "content type",
        "empty",
        "nested",
        "token expires",
    ):
        assert any(wanted in name for name in names), wanted
    assert set(ENDPOINTS) == set(CHECK_FOR) | set(IMPORTED)


@pytest.mark.parametrize("status", [500, 503])
def test_sign_in_service_trouble_is_not_blamed_on_a_proxy(
    serve_hooked: ServeHooked, status: int
) -> None:
    served = serve_hooked()
    served.tenant.inject(server_error(ENDPOINTS["token"], True, status, None))
    test = SettingsTest(served.connection(), open_fast(served.ca_bundle))
    token = {r.id: r for r in test.run()}["token"]
    assert token.status is Status.FAIL
    # Microsoft answered (HTTP 5xx with an AADSTS body): that is what the user and support need
    # to read, not advice to sign in to a captive portal.
    assert token.code != "unexpected_response"
    assert "captive portal" not in (token.fix or "")
    assert str(status) in f"{token.code} {token.details}"


def test_a_token_expiring_in_the_middle_of_a_long_listing_and_import(
    serve_hooked: ServeHooked, tmp_path: Path, fast_cli: None
) -> None:
    """1,200 rooms in 12 lists: every token expires half-way through the room listing, and
    again half-way through the calendar checks. The import finishes, complete."""
    served = serve_hooked("many-rooms")
    tenant = served.tenant
    assert isinstance(tenant, HookedTenant)
    tenant.before(r"(\$|%24)skip=600", tenant.expire_tokens)
    tenant.before(ENDPOINTS["calendar probe"], tenant.expire_tokens, after=50)
    path = tmp_path / "long.sqlite3"
    out, err = io.StringIO(), io.StringIO()
    assert main(["offices", "add", "North", "--workspace", str(path)], stdout=out, stderr=err) == 0
    code, printed, errors = served.run_cli(
        "rooms",
        "import",
        "--office",
        "North",
        "--room-list",
        "rooms.ldn-north@northwind-demo.com",
        "--json",
        "--workspace",
        str(path),
    )
    assert code == 0, errors
    counts = json.loads(printed)["result"]["counts"]
    assert counts["new"] == 100 and counts["failed"] == 0
    expired = [r for r in tenant.request_log() if r.status == 401]
    assert len(expired) >= 2, "the tokens did not expire where they should have"
    # One sign-in, and one more after each of the two expiries, however many requests were
    # refused at once (D13: each refused request used to drop the new token too).
    assert len(tenant.issued_tokens) <= 3, f"{len(tenant.issued_tokens)} tokens issued"
    rooms = [r for r in tenant.request_log() if endpoint_of(r.path) == "rooms"]
    REPORT.add(
        "Token expiring during a long listing and import (many-rooms: 1,200 rooms, 12 lists)",
        [
            f"{len(rooms)} room pages and 100 calendar checks; {len(expired)} answers 401 (expired "
            f"token), {len(tenant.issued_tokens)} tokens issued; import complete: 100 new, 0 failed"
        ],
    )
