"""A scripted "browser" for tests: it opens Microsoft's (the demo tenant's) sign-in or consent
page over real HTTPS, trusting the tests' certificate authority, and delivers the page's answer
to the product's loopback listener, as a person's browser would.

It returns at once and works in the background, as real launchers do, so it can be handed to
the product as ``UseCases(open_browser=browser)`` or registered with Python's ``webbrowser``
(``with registered(browser): ...``), which the product uses when no browser is given. For a
subprocess, ``tests/support/browser_command.py`` is the same browser behind ``BROWSER``.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from clearooms_wizard.core.app_setup import DeviceCodePrompt
from clearooms_wizard.demo.browser import DemoBrowser, Visit


class ScriptedBrowser(webbrowser.BaseBrowser):
    """``sign_in_as``: the administrator's user name, given to the sign-in page as a
    login_hint (the demo signs that one in). ``finish=False``: the page is opened but nobody
    finishes signing in (the window is left open, or closed)."""

    def __init__(
        self, ca_bundle: str, *, sign_in_as: str | None = None, finish: bool = True
    ) -> None:
        super().__init__("clearooms-scripted-browser")
        self.ca_bundle = ca_bundle
        self.sign_in_as = sign_in_as
        self.finish = finish
        # Every address it was asked to open, in full.
        self.opened: list[str] = []
        self.visits: list[Visit] = []
        self._visited = threading.Condition()

    # -- as a browser --------------------------------------------------------------------------

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        return self(url)

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        if not self.finish:
            return True
        return self._browser()(url)

    def visit(self, url: str) -> Visit:
        """Open ``url`` and deliver its answer now, on this thread."""
        self.opened.append(url)
        visit = self._browser().visit(url)
        self._record(visit)
        return visit

    def wait_for_visits(self, count: int = 1, timeout: float = 10.0) -> list[Visit]:
        with self._visited:
            if not self._visited.wait_for(lambda: len(self.visits) >= count, timeout):
                raise AssertionError(f"the scripted browser made {len(self.visits)} visits")
            return list(self.visits)

    # -- a person typing a device code ---------------------------------------------------------

    def enter_code(self, prompt: DeviceCodePrompt) -> requests.Response:
        """Open the verification page and submit the code (as ``sign_in_as``, if given)."""
        with self._session() as session:
            page = session.get(prompt.verification_uri, timeout=10)
            page.raise_for_status()
            form = {"otc": prompt.user_code, "login_hint": self.sign_in_as or ""}
            return session.post(prompt.verification_uri, data=form, timeout=10)

    # -- plumbing --------------------------------------------------------------------------------

    def _browser(self) -> DemoBrowser:
        return DemoBrowser(self._session, prepare=self._prepare, on_visit=self._record)

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_bundle
        return session

    def _prepare(self, url: str) -> str:
        if self.sign_in_as is None:
            return url
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        query = [(k, v) for k, v in query if k != "login_hint"]
        query.append(("login_hint", self.sign_in_as))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def _record(self, visit: Visit) -> None:
        with self._visited:
            self.visits.append(visit)
            self._visited.notify_all()


@contextmanager
def registered(browser: ScriptedBrowser) -> Iterator[ScriptedBrowser]:
    """``browser`` as the first choice of Python's webbrowser module, for the block."""
    webbrowser.register(browser.name, None, browser, preferred=True)
    try:
        yield browser
    finally:
        # The module's own registry: it has no way to unregister a browser.
        module: Any = webbrowser
        with module._lock:
            module._browsers.pop(browser.name.lower(), None)
            if module._tryorder is not None and browser.name in module._tryorder:
                module._tryorder.remove(browser.name)
