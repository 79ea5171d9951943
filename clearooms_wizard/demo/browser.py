"""The browser ``--demo`` plays: it opens Microsoft's sign-in or consent page at the demo tenant
and delivers the page's answer to the wizard's loopback listener, as a person's browser would.

Like a real launcher (xdg-open, ``open``, ``start``) it returns at once and does the work in
the background, so the wizard can be waiting for the answer by the time it comes. The page is
loaded through the demo tenant (no network); the answer goes with a plain HTTP request to
``http://localhost:<port>`` and nowhere else. Every step is bounded, nothing is raised to the
caller, and nothing the page carries (a code) is logged.
"""

from __future__ import annotations

import http.client
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from requests.adapters import BaseAdapter

if TYPE_CHECKING:
    from clearooms_wizard.demo.tenant import DemoTenant

log = logging.getLogger(__name__)

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_AADSTS = re.compile(r"AADSTS\d+")
MAX_REDIRECTS = 5
MAX_PAGE_BYTES = 1_000_000
TIMEOUT = 15.0


@dataclass
class Visit:
    """What the browser did with one address (for tests and the log)."""

    url: str
    # The loopback address the answer went to, or None when the page gave none to deliver.
    delivered_to: str | None = None
    # The listener's HTTP status for the answer.
    delivered_status: int | None = None
    # An AADSTS code the page showed instead of an answer.
    error_code: str | None = None
    pages: list[str] = field(default_factory=list)


class _Form(HTMLParser):
    """The first form of a page: where it posts, and its fields."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action: str | None = None
        self.method = "get"
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and self.action is None:
            self.action = values.get("action", "")
            self.method = values.get("method", "get").lower()
            self._in_form = True
        elif (
            tag == "input"
            and self._in_form
            and values.get("name")
            and values.get("type", "text").lower() != "submit"
        ):
            self.fields.setdefault(values["name"], values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
            self._done = True

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class _Refuse(BaseAdapter):
    """Everything but the demo tenant: the demo's browser never reaches the network."""

    def send(
        self, request: requests.PreparedRequest, *args: object, **kwargs: object
    ) -> requests.Response:
        raise requests.exceptions.InvalidURL("the demo browser only opens the demo tenant")

    def close(self) -> None:
        """Nothing to release."""


def is_loopback_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return False
    return parts.scheme == "http" and (parts.hostname or "").lower() in _LOOPBACK_HOSTS


class DemoBrowser:
    """Opens a sign-in or consent page through ``open_session`` and delivers its answer to the
    loopback listener. Callable as UseCases' ``open_browser``."""

    def __init__(
        self,
        open_session: Callable[[], requests.Session],
        *,
        prepare: Callable[[str], str] | None = None,
        on_visit: Callable[[Visit], None] | None = None,
    ) -> None:
        self._open_session = open_session
        # Lets a scripted browser change the address before it is opened (a login_hint, say).
        self._prepare = prepare
        self._on_visit = on_visit

    @classmethod
    def for_tenant(cls, tenant: DemoTenant | Callable[[], DemoTenant]) -> DemoBrowser:
        """A browser that reaches the demo tenant in-process (``--demo``)."""
        from clearooms_wizard.demo.tenant import DemoTenant
        from clearooms_wizard.demo.transport import mount_demo

        def open_session() -> requests.Session:
            session = requests.Session()
            session.trust_env = False
            session.mount("https://", _Refuse())
            session.mount("http://", _Refuse())
            mount_demo(session, tenant if isinstance(tenant, DemoTenant) else tenant())
            return session

        return cls(open_session)

    def __call__(self, url: str) -> bool:
        """Start opening ``url`` and return at once: True when it will be opened."""
        if not url.startswith("https://"):
            return False
        thread = threading.Thread(target=self._visit_quietly, args=(url,), name="demo-browser")
        thread.daemon = True
        thread.start()
        return True

    def _visit_quietly(self, url: str) -> None:
        try:
            visit = self.visit(url)
        except Exception as exc:
            # A browser that fails shows its own error; the wizard's wait has its own deadline.
            log.warning("the demo browser could not open the page: %s", type(exc).__name__)
            visit = Visit(_address(url), error_code=type(exc).__name__)
        if visit.delivered_to is not None:
            log.info(
                "the demo browser delivered the page's answer to %s (HTTP %s)",
                visit.delivered_to,
                visit.delivered_status,
            )
        else:
            log.info("the demo sign-in page showed %s instead of an answer", visit.error_code)
        if self._on_visit is not None:
            self._on_visit(visit)

    def visit(self, url: str) -> Visit:
        """Open ``url``, follow its redirects and submit its answer; on this thread."""
        if self._prepare is not None:
            url = self._prepare(url)
        visit = Visit(_address(url))
        with self._open_session() as session:
            response = session.get(url, allow_redirects=False, timeout=TIMEOUT, stream=True)
            for _ in range(MAX_REDIRECTS):
                visit.pages.append(_address(response.url or url))
                location = response.headers.get("Location")
                if response.status_code not in (301, 302, 303, 307, 308) or not location:
                    break
                target = urljoin(response.url or url, location)
                response.close()
                if is_loopback_http(target):
                    return self._deliver(visit, "GET", target, None)
                response = session.get(target, allow_redirects=False, timeout=TIMEOUT, stream=True)
            page = _read_page(response)
        form = _Form()
        form.feed(page)
        form.close()
        if form.action is not None and form.method == "post":
            action = urljoin(response.url or url, form.action)
            if is_loopback_http(action):
                return self._deliver(visit, "POST", action, form.fields)
        found = _AADSTS.search(" ".join(form.text))
        visit.error_code = found.group() if found else f"HTTP {response.status_code}"
        return visit

    def _deliver(self, visit: Visit, method: str, url: str, fields: dict[str, str] | None) -> Visit:
        # Straight to this computer, never through a proxy, and with http.client rather than
        # requests: urllib3's debug log would write out the address, and a query holds a code.
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        body = urlencode(fields) if fields is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        connection = http.client.HTTPConnection(
            parts.hostname or "localhost", parts.port, timeout=TIMEOUT
        )
        try:
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read(MAX_PAGE_BYTES)
        finally:
            connection.close()
        visit.delivered_to = _address(url)
        visit.delivered_status = answer.status
        return visit


def _read_page(response: requests.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_PAGE_BYTES:
            break
        chunks.append(chunk)
    response.close()
    return b"".join(chunks).decode(response.encoding or "utf-8", "replace")


def _address(url: str) -> str:
    """The address without its query: the query of a redirect holds the code."""
    return url.split("?", 1)[0]


__all__ = ["DemoBrowser", "Visit", "is_loopback_http"]
