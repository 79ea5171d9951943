"""The Connect page, driven with clicks and keys against the demo tenant over HTTPS."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QMessageBox, QWizard
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.checks import CHECK_IDS, Status
from clearooms_wizard.core.secrets import SERVICE
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.demo import data
from clearooms_wizard.ui.crash import install_crash_hooks
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.pages.register import RegisterPage
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import Served, ServeDemo
from tests.support.memory_keyring import MemoryKeyring
from tests.ui.conftest import MakeWizard


def go_to_connect(wizard: SetupWizard) -> None:
    wizard.next()
    wizard.next()
    assert wizard.currentId() == PageId.CONNECT


def run_test(qtbot: QtBot, wizard: SetupWizard) -> None:
    page = wizard.connect_page
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)


# The demo's healthy tenant: the app reaches every mailbox's calendar, which mailbox_scope warns of.
HEALTHY = {**dict.fromkeys(CHECK_IDS, "pass"), "mailbox_scope": "warn"}


def statuses(wizard: SetupWizard) -> dict[str, str | None]:
    found = {cid: wizard.connect_page.rows[cid].result for cid in CHECK_IDS}
    return {cid: (result.status.value if result else None) for cid, result in found.items()}


def test_healthy_settings_pass_and_are_saved_on_next(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def question(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[1]) if len(args) > 1 else "?")
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    wizard = make_wizard(healthy)
    go_to_connect(wizard)
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert not next_button.isEnabled()
    run_test(qtbot, wizard)
    # All pass; mailbox_scope warns that the app reaches every mailbox's calendar.
    assert statuses(wizard) == HEALTHY
    assert "All checks passed, with 1 warning." in wizard.connect_page.banner.label.text()
    assert next_button.isEnabled()
    qtbot.mouseClick(next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.ROOMS, timeout=10_000)
    # Reaching every mailbox is how the seed guide sets the app up: said, not asked about.
    assert asked == []
    account = f"{data.TENANT_ID}/{data.APP_ID}"
    assert MemoryKeyring.store[(SERVICE, account)] == data.APP_SECRET
    with Workspace(Path(os.environ["CLEAROOMS_WORKSPACE"])) as workspace:
        saved = workspace.load_connection()
    assert saved is not None and saved.tenant_id == data.TENANT_ID


def test_wrong_secret_shows_the_specific_fix(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("wrong-secret"))
    go_to_connect(wizard)
    run_test(qtbot, wizard)
    token = wizard.connect_page.rows["token"]
    assert token.result is not None and token.result.status is Status.FAIL
    assert token.fix.isVisibleTo(wizard) and "Secret ID" in token.fix.text()
    assert "AADSTS7000215" in token.technical.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "1 check failed" in wizard.connect_page.banner.label.text()


def test_missing_consent_is_explained(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("no-consent"))
    go_to_connect(wizard)
    run_test(qtbot, wizard)
    permissions = wizard.connect_page.rows["permissions"]
    assert "Admin consent has not been granted" in permissions.detail.text()
    assert "Grant admin consent" in permissions.fix.text()


def test_typing_gives_inline_help_and_tidies(qtbot: QtBot, make_wizard: MakeWizard) -> None:
    wizard = make_wizard(demo="healthy")
    go_to_connect(wizard)
    page = wizard.connect_page
    page.tenant.clear()
    qtbot.keyClicks(page.tenant, "contoso.com/../x")
    assert "doesn't look like a tenant ID" in page.notes["tenant"].text()
    page.tenant.setText(
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert "using contoso.onmicrosoft.com" in page.notes["tenant"].text()
    page.secret.setText("4e1b9c7a-2f5d-4a86-b3e9-7c0d5a1f8b26")
    assert "Secret ID" in page.notes["secret"].text()
    assert page.secret.echoMode() is QLineEdit.EchoMode.Password
    page.show_secret_button.click()
    assert page.secret.echoMode() is QLineEdit.EchoMode.Normal


def test_changing_a_value_after_a_test_asks_for_a_new_test(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    go_to_connect(wizard)
    run_test(qtbot, wizard)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.keyClicks(wizard.connect_page.client_id, "x")
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert "Test Settings to test them again" in wizard.connect_page.banner.label.text()


def test_cancelling_a_test_run(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("slow-network", latency=0.5))
    go_to_connect(wizard)
    page = wizard.connect_page
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    assert page.busy_row.stop_button.isVisible()
    qtbot.waitUntil(lambda: page.rows["format"].result is not None)
    qtbot.mouseClick(page.busy_row.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    assert "Test stopped" in page.banner.label.text()
    assert page.rows["secret_expiry"].result is None
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_warning_asks_once_before_moving_on(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo, monkeypatch: object
) -> None:
    asked: list[str] = []

    def answer(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append("asked")
        return QMessageBox.StandardButton.Yes

    import pytest

    patch = pytest.MonkeyPatch()
    patch.setattr(QMessageBox, "question", answer)
    try:
        wizard = make_wizard(serve_demo("no-rooms"))
        go_to_connect(wizard)
        run_test(qtbot, wizard)
        assert statuses(wizard)["rooms"] == "warn"
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: wizard.currentId() == PageId.ROOMS, timeout=10_000)
        assert asked == ["asked"]
    finally:
        patch.undo()


def test_copy_report_leaves_the_secret_out(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    go_to_connect(wizard)
    run_test(qtbot, wizard)
    qtbot.mouseClick(wizard.connect_page.report_button, Qt.MouseButton.LeftButton)
    report = QGuiApplication.clipboard().text()
    assert "Test Settings:" in report and "[PASS] token" in report
    assert data.APP_SECRET not in report
    assert "starts with “Nw8”" in report


def test_closing_during_a_test_is_safe(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("slow-network", latency=0.5))
    go_to_connect(wizard)
    qtbot.mouseClick(wizard.connect_page.test_button, Qt.MouseButton.LeftButton)
    wizard.close()
    assert not wizard.runner.busy


def test_an_unexpected_error_in_a_worker_opens_the_crash_dialog(
    qtbot: QtBot, make_wizard: MakeWizard
) -> None:
    wizard = make_wizard(demo="healthy")

    def broken(cancel: object, progress: object) -> None:
        raise RuntimeError("boom in a worker")

    wizard.runner.submit("broken", broken)
    qtbot.waitUntil(lambda: wizard.crash_dialog is not None and wizard.crash_dialog.isVisible())
    assert wizard.crash_dialog is not None
    assert "boom in a worker" in wizard.crash_dialog.report


@pytest.mark.qt_no_exception_capture
def test_pages_that_cannot_be_built_open_the_crash_dialog_once(
    qtbot: QtBot, make_wizard: MakeWizard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages after Welcome are built just after the first paint; an install missing one of
    their modules gets the crash dialog, once (it used to try again from the crash dialog
    itself until the process died)."""
    monkeypatch.setitem(sys.modules, "clearooms_wizard.ui.pages.rooms", None)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    built: list[object] = []
    original = RegisterPage.__init__

    def counting(self: RegisterPage, *args: Any) -> None:
        built.append(self)
        original(self, *args)

    monkeypatch.setattr(RegisterPage, "__init__", counting)
    wizard = make_wizard(demo="healthy")
    install_crash_hooks(wizard.crash_bridge)
    qtbot.waitUntil(lambda: wizard.crash_dialog is not None and wizard.crash_dialog.isVisible())
    assert wizard.crash_dialog is not None
    assert "clearooms_wizard.ui.pages.rooms" in wizard.crash_dialog.report
    with pytest.raises(RuntimeError, match="could not be built"):
        wizard.build_pages()
    assert len(built) <= 1


def test_enter_in_a_field_runs_the_test(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    go_to_connect(wizard)
    page = wizard.connect_page
    page.secret.setFocus()
    qtbot.keyClick(page.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.test is not None and not page.busy, timeout=30_000)
    assert statuses(wizard) == HEALTHY
    assert wizard.currentId() == PageId.CONNECT  # Enter tested; it did not skip ahead
