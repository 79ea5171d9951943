"""Test Settings against a sign-in service that trickles its answer: Stop still stops it at once,
and without Stop the check ends at the deadline saying Microsoft answered too slowly."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from clearooms_wizard.core import http as http_module
from clearooms_wizard.core.errors import NetworkProblem
from clearooms_wizard.core.fixes import NETWORK_FIXES
from clearooms_wizard.core.http import HttpOptions
from tests.conftest import TLS, ServeDemo
from tests.support.trickle import TricklingFront
from tests.ui.conftest import MakeWizard
from tests.ui.test_connect_page import go_to_connect

TOKEN = r"/oauth2/v2\.0/token"


@pytest.fixture
def slow_sign_in(serve_demo: ServeDemo, tls: TLS) -> Iterator[SimpleNamespace]:
    served = serve_demo("healthy")
    with TricklingFront(
        served.server.port, tls.server_context, tls.ca_bundle, TOKEN, "body"
    ) as front:
        # What the wizard needs of a served tenant, at the front's address.
        yield SimpleNamespace(
            tenant=served.tenant, base_url=front.base_url, ca_bundle=tls.ca_bundle, front=front
        )


def test_stop_ends_a_test_waiting_on_a_slow_answer(
    qtbot: QtBot, make_wizard: MakeWizard, slow_sign_in: SimpleNamespace
) -> None:
    wizard = make_wizard(slow_sign_in)
    go_to_connect(wizard)
    page = wizard.connect_page
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(slow_sign_in.front.trickled), timeout=10_000)
    stopped = time.monotonic()
    qtbot.mouseClick(page.busy_row.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=5_000)
    assert time.monotonic() - stopped < 3.0
    assert "Test stopped" in page.banner.label.text()


def test_a_slow_sign_in_ends_at_the_deadline_with_a_plain_message(
    qtbot: QtBot,
    make_wizard: MakeWizard,
    slow_sign_in: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_module, "HttpOptions", functools.partial(HttpOptions, deadline=1.0))
    wizard = make_wizard(slow_sign_in)
    go_to_connect(wizard)
    page = wizard.connect_page
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    token = page.rows["token"].result
    assert token is not None and token.status.value == "fail"
    slow = NETWORK_FIXES[NetworkProblem.SLOW]
    assert slow.summary in token.detail and token.fix == slow.fix
