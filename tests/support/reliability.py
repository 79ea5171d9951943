"""Shared tools for the reliability and security suites (tests/reliability).

- ``HookedTenant``: the demo tenant with a few test controls more: run an action just before the
  first request to an endpoint (for example, expire every token), rewrite an answer (for example,
  point the discovery document's token endpoint somewhere else), and remember every access token
  it issued (the canary tokens the secret-leak suite searches for).
- ``REPORT``: what the suites tried, printed at the end of the pytest run by
  ``tests/reliability/conftest.py`` (so the tables show even when every test passes) and by the
  fuzz runner.
- ``table``: a plain-text table for those reports.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from clearooms_wizard.core.tokens import AccessToken
from clearooms_wizard.demo import DemoResponse, DemoTenant
from clearooms_wizard.demo.scenarios import Scenario

# The calls the product makes, by the path each one asks for (searched in the decoded path).
ENDPOINTS: dict[str, str] = {
    "discovery": r"/v2\.0/\.well-known/openid-configuration$",
    "token": r"/oauth2/v2\.0/token$",
    "rooms": r"^/v1\.0/places/microsoft\.graph\.room$",
    "room lists": r"^/v1\.0/places/microsoft\.graph\.roomlist$",
    "list members": r"^/v1\.0/places/[^/]+/microsoft\.graph\.roomlist/rooms$",
    "users": r"^/v1\.0/users$",
    "application": r"^/v1\.0/applications\(",
    "calendar probe": r"^/v1\.0/users/[^/]+/calendar$",
}
IDENTITY_ENDPOINTS = frozenset({"discovery", "token"})


def endpoint_of(path: str) -> str | None:
    """Which of ENDPOINTS a request path (query allowed) belongs to."""
    bare = unquote(path.split("?", 1)[0])
    for name, pattern in ENDPOINTS.items():
        if re.search(pattern, bare):
            return name
    return None


Rewrite = Callable[[DemoResponse], DemoResponse]


class HookedTenant(DemoTenant):
    """A DemoTenant with hooks before requests and on answers, and a record of issued tokens."""

    def __init__(self, scenario: Scenario | str = "healthy", **options: Any) -> None:
        super().__init__(scenario, **options)
        self._hooks_lock = threading.Lock()
        # pattern, action, [matching requests to let pass first, then how many to act on]
        self._before: list[tuple[re.Pattern[str], Callable[[], None], list[int]]] = []
        self._rewrites: list[tuple[re.Pattern[str], Rewrite]] = []
        self.issued_tokens: list[str] = []
        # Every request path as it arrived, before it is answered (a slow answer is logged
        # by the demo only once it has been sent).
        self.received: list[str] = []

    def before(
        self, pattern: str, action: Callable[[], None], *, after: int = 0, times: int = 1
    ) -> None:
        """Run ``action`` just before a request matching ``pattern`` (searched in the decoded
        path and in ``path?query``) is answered: skip the first ``after`` such requests, then
        act on the next ``times``. ``tenant.expire_tokens`` as the action makes the token that
        request carries an expired one."""
        with self._hooks_lock:
            self._before.append((re.compile(pattern), action, [after, times]))

    def rewrite(self, pattern: str, change: Rewrite) -> None:
        """Pass every answer to a request matching ``pattern`` through ``change``."""
        with self._hooks_lock:
            self._rewrites.append((re.compile(pattern), change))

    def clear_hooks(self) -> None:
        with self._hooks_lock:
            self._before.clear()
            self._rewrites.clear()
            self.received.clear()

    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        timeout: float | None = None,
    ) -> DemoResponse:
        parts = urlsplit(url)
        path = unquote(parts.path)
        with_query = f"{parts.path}?{parts.query}" if parts.query else parts.path

        def matches(pattern: re.Pattern[str]) -> bool:
            return bool(pattern.search(path) or pattern.search(with_query))

        actions: list[Callable[[], None]] = []
        with self._hooks_lock:
            self.received.append(with_query)
            for pattern, action, left in self._before:
                if left[1] > 0 and matches(pattern):
                    if left[0] > 0:
                        left[0] -= 1
                    else:
                        left[1] -= 1
                        actions.append(action)
            changes = [change for pattern, change in self._rewrites if matches(pattern)]
        for action in actions:
            action()
        response = super().handle(method, url, headers, body, timeout=timeout)
        for change in changes:
            response = change(response)
        if response.outcome == "respond" and b"access_token" in response.body:
            try:
                token = json.loads(response.body).get("access_token")
            except (ValueError, AttributeError):
                token = None
            if isinstance(token, str):
                with self._hooks_lock:
                    self.issued_tokens.append(token)
        return response


def json_rewrite(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    """A Rewrite that edits a JSON object answer in place (other answers pass unchanged)."""

    def rewrite(response: DemoResponse) -> DemoResponse:
        if response.outcome != "respond":
            return response
        try:
            payload = json.loads(response.body)
        except ValueError:
            return response
        if not isinstance(payload, dict):
            return response
        change(payload)
        body = json.dumps(payload, separators=(",", ":")).encode()
        return DemoResponse(response.status, dict(response.headers), body, response.outcome)

    return rewrite


# -- the printed report ---------------------------------------------------------------------------


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Grid:
    """A table filled cell by cell (rows x columns), e.g. faults x endpoints."""

    corner: str
    columns: list[str]
    cells: dict[str, dict[str, str]] = field(default_factory=dict)

    def render(self) -> list[str]:
        rows = [
            [row, *(cells.get(c, "") for c in self.columns)] for row, cells in self.cells.items()
        ]
        return table([self.corner, *self.columns], rows)


@dataclass
class Report:
    """Sections of text and grids, printed once at the end of the run in the order added."""

    sections: dict[str, Section | Grid] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, title: str, lines: Sequence[str]) -> None:
        with self._lock:
            section = self.sections.setdefault(title, Section(title))
            assert isinstance(section, Section)
            section.lines.extend(lines)

    def cell(
        self, title: str, corner: str, columns: Sequence[str], row: str, column: str, text: str
    ) -> None:
        with self._lock:
            grid = self.sections.setdefault(title, Grid(corner, list(columns)))
            assert isinstance(grid, Grid)
            grid.cells.setdefault(row, {})[column] = text

    def count(self, name: str, increment: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + increment

    def highest(self, name: str, value: int) -> None:
        with self._lock:
            self.counts[name] = max(self.counts.get(name, value), value)

    def render(self) -> list[str]:
        out: list[str] = []
        for title, section in self.sections.items():
            out.append("")
            out.append(f"== {title}")
            out.extend(section.render() if isinstance(section, Grid) else section.lines)
        if self.counts:
            out += ["", "== Counts"]
            width = max(len(name) for name in self.counts)
            out += [f"{name.ljust(width)}  {value:>7,}" for name, value in self.counts.items()]
        return out


REPORT = Report()


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


class FixedToken:
    """A token source that always hands over one valid demo token (paging needs no sign-in)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def acquire(self) -> AccessToken:
        return AccessToken(self.value, time.time() + 3600, {})

    def forget(self, token: AccessToken) -> None:
        pass
