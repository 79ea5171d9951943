"""“Limit to room mailboxes…” on the Connect page: after Test Settings, the script written from
the demo tenant's values, shown as plain text to copy or save."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QPlainTextEdit
from pytestqt.qtbot import QtBot

from clearooms_wizard.demo import data
from tests.conftest import Served
from tests.ui.conftest import MakeWizard
from tests.ui.test_connect_page import go_to_connect, run_test


def test_the_button_shows_the_script_and_copy_puts_it_on_the_clipboard(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    go_to_connect(wizard)
    page = wizard.connect_page
    # Only after a test has signed the app in: the values are read with its sign-in.
    assert not page.scope_button.isVisibleTo(page)
    run_test(qtbot, wizard)
    assert page.scope_button.isVisibleTo(page)
    qtbot.mouseClick(page.scope_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.scope_dialog is not None and page.scope_dialog.isVisible())
    dialog = page.scope_dialog
    assert dialog is not None
    editor = dialog.findChild(QPlainTextEdit)
    assert editor is not None and editor.isReadOnly()
    text = editor.toPlainText()
    assert f"$ServicePrincipalId = '{data.SERVICE_PRINCIPAL_ID}'" in text
    assert f"$AppId = '{data.APP_ID}'" in text
    assert data.APP_SECRET not in text
    assert not dialog.missing.isVisibleTo(dialog)
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == text
    assert "Copied" in dialog.status.text()
    # Changing the values hides it again until they are tested.
    dialog.close()
    qtbot.keyClicks(page.client_id, "x")
    run_test(qtbot, wizard)
    assert not page.scope_button.isVisibleTo(page)


@pytest.mark.parametrize("folder_exists", [True, False])
def test_save_writes_the_script_or_says_why_not(
    qtbot: QtBot,
    make_wizard: MakeWizard,
    healthy: Served,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    folder_exists: bool,
) -> None:
    target = tmp_path / ("" if folder_exists else "gone") / "limit.ps1"
    # The file chooser is the user's part: answered at the boundary, the rest runs for real.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    wizard = make_wizard(healthy)
    go_to_connect(wizard)
    page = wizard.connect_page
    run_test(qtbot, wizard)
    qtbot.mouseClick(page.scope_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.scope_dialog is not None and page.scope_dialog.isVisible())
    dialog = page.scope_dialog
    assert dialog is not None
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text() != "", timeout=10_000)
    if folder_exists:
        assert dialog.status.text() == f"Saved to {target}."
        assert target.read_text(encoding="utf-8") == dialog.text
    else:
        assert "does not exist" in dialog.status.text()
        assert not target.exists()
