"""Fixtures that build the real wizard against the demo tenant over HTTPS on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from clearooms_wizard.app import build_wizard_context
from clearooms_wizard.core.preferences import PreferencesFile
from clearooms_wizard.runtime import ConnectionOptions
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import Served, ServeDemo


@pytest.fixture(autouse=True)
def _no_network_on_the_gui_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    guarded = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            raise AssertionError(f"network call on the GUI thread: {address!r}")
        guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


class OpenedUrls(list[str]):
    def __call__(self, url: str) -> bool:
        self.append(url)
        return True


MakeWizard = Callable[..., SetupWizard]


@pytest.fixture
def opened_urls() -> OpenedUrls:
    return OpenedUrls()


@pytest.fixture
def preferences_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "preferences.json"


@pytest.fixture
def make_wizard(
    qtbot: QtBot, opened_urls: OpenedUrls, preferences_path: Path
) -> Iterator[MakeWizard]:
    wizards: list[SetupWizard] = []

    def make(
        served: Served | None = None, *, demo: str | None = None, **values: str
    ) -> SetupWizard:
        if served is not None:
            scenario = served.tenant.scenario
            options = ConnectionOptions(
                tenant=values.get("tenant", scenario.tenant),
                client_id=values.get("client_id", scenario.client_id),
                client_secret=values.get("client_secret", scenario.client_secret),
                authority_host=served.base_url,
                graph_url=served.base_url,
                ca_bundle=served.ca_bundle,
            )
        else:
            options = ConnectionOptions(demo=demo is not None, demo_scenario=demo or "healthy")
        context = build_wizard_context(
            options, opened_urls, preferences=PreferencesFile(preferences_path)
        )
        wizard = SetupWizard(context)
        qtbot.addWidget(wizard)
        wizard.show()
        wizards.append(wizard)
        return wizard

    yield make
    for wizard in wizards:
        wizard.shutdown()
        assert not wizard.runner.busy


@pytest.fixture
def healthy(serve_demo: ServeDemo) -> Served:
    return serve_demo("healthy")
