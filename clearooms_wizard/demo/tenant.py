"""The demo tenant: one scenario's identity platform and Graph behind a single `handle` call.

Transports (the in-process requests adapter and the loopback HTTPS server) turn their requests
into `handle` calls, so both see exactly the same behaviour, faults and request log.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from clearooms_wizard.demo import data
from clearooms_wizard.demo.data import AdminKey, AppRegistration, Directory
from clearooms_wizard.demo.graph import GraphService, graph_error, mailbox_concurrency_exceeded
from clearooms_wizard.demo.identity import IdentityService, aadsts_error
from clearooms_wizard.demo.messages import (
    DemoRequest,
    DemoResponse,
    dump_json,
    http_date,
    utc_now,
)
from clearooms_wizard.demo.registry import Registry
from clearooms_wizard.demo.scenarios import Scenario, get_scenario
from clearooms_wizard.demo.tokens import TokenStore
from clearooms_wizard.demo.urls import DEMO_GRAPH_ROOT, PUBLIC_GRAPH_ROOT

if TYPE_CHECKING:
    from clearooms_wizard.demo.signin import SignInService

FaultKind = Literal["response", "reset", "delay", "html", "truncated", "empty"]
FaultBody = bytes | str | Mapping[str, Any] | list[Any] | None

_MAILBOX_PATH = re.compile(r"^/v1\.0/users/([^/]+)/.+", re.IGNORECASE)

PROXY_LOGIN_PAGE = (
    b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Web Access - Sign in'
    b"</title></head>\n<body><h1>Northwind Secure Web Gateway</h1>\n<p>Your session has "
    b'expired. Sign in to continue browsing.</p>\n<form method="post" action="/__proxy/login'
    b'"><input name="username"><input name="password" type="password">'
    b"<button>Sign in</button></form>\n</body></html>\n"
)


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to inject for requests whose path matches `path_pattern`.

    The pattern is searched (not fully matched) in both the raw `path?query` and the decoded
    path. `times=None` fires for every match; otherwise the fault is dropped after `times`.
    Kinds:
      - "response": answer with `status`, `headers` and `body` (a mapping or list is sent as JSON)
      - "reset": drop the connection without any response
      - "delay": wait `delay` seconds, then answer normally
      - "html": a corporate proxy's sign-in page, 200 text/html
      - "truncated": the JSON body (`body` if given, else the normal answer) cut in half
      - "empty": 200 with an empty body
    """

    path_pattern: str | re.Pattern[str]
    kind: FaultKind = "response"
    method: str | None = None
    times: int | None = None
    status: int = 500
    headers: Mapping[str, str] | None = None
    body: FaultBody = None
    delay: float = 0.0

    def matches(self, request: DemoRequest) -> bool:
        if self.method is not None and self.method.upper() != request.method:
            return False
        pattern = (
            self.path_pattern
            if isinstance(self.path_pattern, re.Pattern)
            else re.compile(self.path_pattern)
        )
        return bool(pattern.search(request.path_and_query) or pattern.search(request.path))

    @classmethod
    def aadsts(
        cls,
        path_pattern: str | re.Pattern[str],
        *,
        code: int,
        error: str,
        text: str,
        status: int = 400,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """An identity-platform error in Entra's exact body shape (e.g. 50196, 90055)."""
        canned = aadsts_error(None, status=status, error=error, code=code, text=text)
        merged = dict(canned.headers)
        merged.update(headers or {})
        return cls(path_pattern, "response", times=times, status=status, headers=merged,
                   body=canned.body)  # fmt: skip

    @classmethod
    def graph(
        cls,
        path_pattern: str | re.Pattern[str],
        *,
        status: int,
        code: str,
        message: str,
        retry_after: int | None = None,
        times: int | None = 1,
        method: str | None = None,
    ) -> Fault:
        """A Graph error in Graph's body shape, optionally with Retry-After."""
        extra = {"Retry-After": str(retry_after)} if retry_after is not None else None
        canned = graph_error(None, status, code, message, extra_headers=extra)
        return cls(path_pattern, "response", method=method, times=times, status=status,
                   headers=canned.headers, body=canned.body)  # fmt: skip


@dataclass(frozen=True)
class RequestRecord:
    """One request the tenant received. Authorization is never kept."""

    method: str
    path: str
    headers: Mapping[str, str]
    timestamp: float
    base_url: str
    status: int | None
    outcome: str

    @property
    def is_graph(self) -> bool:
        return self.path.startswith("/v1.0/")


@dataclass
class _FaultSlot:
    fault: Fault
    remaining: int | None


def _fault_body(body: FaultBody) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return dump_json(body)


class DemoTenant:
    """A thread-safe stand-in for one Microsoft 365 organisation in a given scenario."""

    def __init__(
        self,
        scenario: Scenario | str = "healthy",
        *,
        latency: float | None = None,
        graph_roots: Iterable[str] | None = None,
        token_lifetime: int = 3599,
        mailbox_concurrency_limit: int = 4,
        replication_delay: float | None = None,
        exchange_cache: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scenario = get_scenario(scenario) if isinstance(scenario, str) else scenario
        self.latency = self.scenario.latency if latency is None else latency
        self.mailbox_concurrency_limit = mailbox_concurrency_limit
        self.directory: Directory = data.build_directory(self.scenario.rooms)
        # The scenario's app as the tenant starts; the registry holds it from then on.
        self.app: AppRegistration = replace(
            data.build_app(
                utc_now(),
                secret_days_left=self.scenario.secret_days_left,
                previous_secret=self.scenario.previous_secret,
            ),
            required_roles=self.scenario.required_roles,
        )
        delay = self.scenario.replication_delay if replication_delay is None else replication_delay
        # The app registrations: what Graph changes and the token endpoint signs in.
        cache = self.scenario.exchange_cache if exchange_cache is None else exchange_cache
        self.registry = Registry(replication_delay=delay, clock=clock, exchange_cache=cache)
        self.registry.seed_scenario_app(
            self.app,
            service_principal=self.scenario.service_principal,
            granted_roles=self.scenario.granted_roles,
            certificates=self.scenario.app_certificates(),
        )
        if self.scenario.clearooms_app_exists:
            self.registry.seed_earlier_run_app(utc_now(), data.REQUIRED_ROLES)
        roots = tuple(graph_roots) if graph_roots is not None else (DEMO_GRAPH_ROOT,
                                                                     PUBLIC_GRAPH_ROOT)  # fmt: skip
        self._tokens = TokenStore(token_lifetime)
        self._identity = IdentityService(self.scenario, self.registry, self._tokens, roots)
        self._graph = GraphService(self.scenario, self.directory, self.registry, self._tokens)
        self._lock = threading.Lock()
        self._faults: list[_FaultSlot] = []
        self._log: list[RequestRecord] = []
        self._in_flight: dict[str, int] = {}
        self._peak_in_flight = 0
        self._concurrency_rejections = 0

    # --- test controls ----------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Add a fault; earlier faults win when several match."""
        with self._lock:
            self._faults.append(_FaultSlot(fault, fault.times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def request_log(self) -> list[RequestRecord]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_request_log(self) -> None:
        with self._lock:
            self._log.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far is now rejected by Graph as expired."""
        self._tokens.expire_all()

    def mint_token(
        self, audience: str = DEMO_GRAPH_ROOT, roles: Iterable[str] | None = None
    ) -> str:
        """A valid access token without going through the token endpoint (for Graph tests)."""
        granted = self.scenario.granted_roles if roles is None else tuple(roles)
        return self._tokens.issue(audience=audience, roles=granted).token

    def mint_delegated_token(
        self,
        administrator: AdminKey | None = None,
        scopes: Iterable[str] = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"),
        audience: str = DEMO_GRAPH_ROOT,
    ) -> str:
        """An administrator's signed-in token, as if they had been through the sign-in page
        (the scenario's administrator unless another is named), for Graph tests."""
        user = data.ADMINISTRATORS[administrator or self.scenario.administrator]
        return self._tokens.issue_delegated(
            audience=audience, scopes=tuple(scopes), user=user
        ).token

    @property
    def sign_in(self) -> SignInService:
        """The administrators' sign-in pages and grants (tests tune its device_approval_delay)."""
        return self._identity.sign_in

    @property
    def issued_token_count(self) -> int:
        return self._tokens.issued_count

    @property
    def mailbox_concurrency_rejections(self) -> int:
        """How many 429 MailboxConcurrency answers were given."""
        with self._lock:
            return self._concurrency_rejections

    @property
    def peak_mailbox_concurrency(self) -> int:
        """The most requests ever admitted at once for a single mailbox."""
        with self._lock:
            return self._peak_in_flight

    @property
    def throttled_count(self) -> int:
        """How many 429 TooManyRequests answers the throttling scenario gave."""
        return self._graph.throttled_count

    # --- serving ----------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        timeout: float | None = None,
    ) -> DemoResponse:
        """Answer one request, sleeping for the configured latency before returning.

        With `timeout`, a response that would take longer is abandoned after `timeout`
        seconds and `DemoResponse.timeout()` comes back, as a client's read timeout would.
        """
        request = DemoRequest(method.upper(), url, dict(headers), body or b"", time.time())
        mailbox = self._mailbox_of(request)
        admitted = mailbox is not None and self._admit(mailbox)
        try:
            response = self._respond(request, mailbox, admitted, timeout)
        finally:
            if admitted and mailbox is not None:
                self._release(mailbox)
        self._record(request, response)
        return response

    def _respond(
        self, request: DemoRequest, mailbox: str | None, admitted: bool, timeout: float | None
    ) -> DemoResponse:
        fault = None if mailbox is not None and not admitted else self._take_fault(request)
        wait = self.latency + (fault.delay if fault is not None and fault.kind == "delay" else 0)
        if timeout is not None and wait > timeout:
            time.sleep(max(timeout, 0.0))
            return DemoResponse.timeout()
        if wait > 0:
            time.sleep(wait)
        if mailbox is not None and not admitted:
            response = mailbox_concurrency_exceeded(request)
        elif fault is not None and fault.kind != "delay":
            response = self._apply_fault(request, fault)
        else:
            response = self._dispatch(request)
        if response.outcome == "respond":
            response = replace(response, headers={**response.headers, "Date": http_date()})
        return response

    def _dispatch(self, request: DemoRequest) -> DemoResponse:
        path = request.path
        # Tenant names can never be "v1.0" or "beta", so the path alone tells the services apart.
        if path.startswith(("/v1.0/", "/beta/")):
            return self._graph.handle(request)
        return self._identity.handle(request)

    def _apply_fault(self, request: DemoRequest, fault: Fault) -> DemoResponse:
        headers = dict(fault.headers or {})
        if fault.kind == "reset":
            return DemoResponse.reset()
        if fault.kind == "html":
            headers.setdefault("Content-Type", "text/html; charset=utf-8")
            return DemoResponse(200, headers, _fault_body(fault.body) or PROXY_LOGIN_PAGE)
        if fault.kind == "empty":
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
            return DemoResponse(200, headers)
        if fault.kind == "truncated":
            if fault.body is not None:
                headers.setdefault("Content-Type", "application/json; charset=utf-8")
                full = DemoResponse(fault.status, headers, _fault_body(fault.body))
            else:
                full = self._dispatch(request)
            return replace(full, body=full.body[: len(full.body) // 2])
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return DemoResponse(fault.status, headers, _fault_body(fault.body))

    def _take_fault(self, request: DemoRequest) -> Fault | None:
        with self._lock:
            for slot in self._faults:
                if slot.remaining == 0 or not slot.fault.matches(request):
                    continue
                if slot.remaining is not None:
                    slot.remaining -= 1
                return slot.fault
        return None

    def _mailbox_of(self, request: DemoRequest) -> str | None:
        match = _MAILBOX_PATH.match(request.raw_path)
        return unquote(match.group(1)).lower() if match else None

    def _admit(self, mailbox: str) -> bool:
        with self._lock:
            current = self._in_flight.get(mailbox, 0)
            if current >= self.mailbox_concurrency_limit:
                self._concurrency_rejections += 1
                return False
            self._in_flight[mailbox] = current + 1
            self._peak_in_flight = max(self._peak_in_flight, current + 1)
            return True

    def _release(self, mailbox: str) -> None:
        with self._lock:
            remaining = self._in_flight.get(mailbox, 1) - 1
            if remaining:
                self._in_flight[mailbox] = remaining
            else:
                self._in_flight.pop(mailbox, None)

    def _record(self, request: DemoRequest, response: DemoResponse) -> None:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        record = RequestRecord(
            method=request.method,
            path=request.path_and_query,
            headers=headers,
            timestamp=request.received,
            base_url=request.base,
            status=response.status if response.outcome == "respond" else None,
            outcome=response.outcome,
        )
        with self._lock:
            self._log.append(record)


__all__ = ["PROXY_LOGIN_PAGE", "DemoTenant", "Fault", "FaultKind", "RequestRecord"]
