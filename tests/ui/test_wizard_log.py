"""The log records what a person did in the wizard: the pages they went to, and what Test
Settings found; never the secret."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.checks import CHECK_IDS
from clearooms_wizard.demo import data
from tests.conftest import Served
from tests.ui.conftest import MakeWizard


def test_page_changes_and_test_settings_outcomes_are_logged_without_the_secret(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    wizard = make_wizard(healthy)
    wizard.next()
    wizard.next()
    page = wizard.connect_page
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    wizard.back()
    messages = [record.getMessage() for record in caplog.records]
    pages = [m for m in messages if m.startswith("page: ")]
    assert pages[-3:] == ["page: register", "page: connect", "page: register"]
    checks = [m.split(":")[0].removeprefix("check ") for m in messages if m.startswith("check ")]
    assert checks[-len(CHECK_IDS) :] == list(CHECK_IDS)
    assert "check token: pass" in "\n".join(messages)
    assert all(data.APP_SECRET not in m for m in messages)
