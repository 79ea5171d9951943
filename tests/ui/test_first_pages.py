"""Welcome and Register: the demo banner, the checklist and the instructions for IT."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.registration import CHECKLIST
from clearooms_wizard.ui.pages.ids import PageId
from tests.ui.conftest import MakeWizard, OpenedUrls


def test_demo_banner_names_the_scenario(make_wizard: MakeWizard) -> None:
    wizard = make_wizard(demo="access-policy")
    banner = wizard.welcome_page.demo_banner.label.text()
    assert "Demo tenant" in banner and "access-policy" in banner
    assert "demo tenant" in wizard.windowTitle()


def test_checklist_ticks_are_remembered(
    qtbot: QtBot, make_wizard: MakeWizard, preferences_path: Path
) -> None:
    wizard = make_wizard(demo="healthy")
    wizard.next()
    boxes = wizard.register_page.checkboxes
    assert list(boxes) == [step.key for group in CHECKLIST for step in group.steps]
    boxes["new-registration"].click()
    boxes["grant-consent"].click()
    wizard.close()
    assert preferences_path.exists()
    again = make_wizard(demo="healthy")
    ticked = {key for key, box in again.register_page.checkboxes.items() if box.isChecked()}
    assert ticked == {"new-registration", "grant-consent"}


def test_copy_and_portal_buttons(
    qtbot: QtBot, make_wizard: MakeWizard, opened_urls: OpenedUrls
) -> None:
    wizard = make_wizard(demo="healthy")
    wizard.next()
    page = wizard.register_page
    qtbot.mouseClick(page.copy_buttons["Calendars.ReadWrite"], Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "Calendars.ReadWrite"
    assert page.copy_buttons["Calendars.ReadWrite"].text() == "Copied"
    qtbot.mouseClick(page.portal_button, Qt.MouseButton.LeftButton)
    assert opened_urls == [
        "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade/"
    ]


def test_instructions_for_it(
    qtbot: QtBot, make_wizard: MakeWizard, opened_urls: OpenedUrls
) -> None:
    wizard = make_wizard(demo="healthy")
    wizard.next()
    qtbot.mouseClick(wizard.register_page.ask_admin_button, Qt.MouseButton.LeftButton)
    dialog = wizard.register_page.instructions_dialog
    assert dialog is not None and dialog.isVisible()
    for needed in (
        "Directory.Read.All",
        "Calendars.ReadWrite",
        "Place.Read.All",
        "Grant admin consent",
        "please do not e-mail it",
        "Application (client) ID",
    ):
        assert needed in dialog.text
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == dialog.text
    qtbot.mouseClick(dialog.mail_button, Qt.MouseButton.LeftButton)
    assert opened_urls[-1].startswith("mailto:?subject=Please%20register")
    dialog.close()


def test_already_have_details_skips_ahead(qtbot: QtBot, make_wizard: MakeWizard) -> None:
    wizard = make_wizard(demo="healthy")
    wizard.next()
    qtbot.mouseClick(wizard.register_page.have_details_button, Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PageId.CONNECT


def test_coming_back_resumes_at_connect_with_back_to_the_checklist(
    qtbot: QtBot, make_wizard: MakeWizard
) -> None:
    wizard = make_wizard(demo="healthy")
    wizard.next()
    wizard.next()
    assert wizard.currentId() == PageId.CONNECT
    wizard.close()
    again = make_wizard(demo="healthy")
    assert again.currentId() == PageId.CONNECT
    again.back()
    assert again.currentId() == PageId.REGISTER


def test_a_failed_save_of_the_instructions_is_told_in_the_dialog(
    qtbot: QtBot, make_wizard: MakeWizard, tmp_path: Path
) -> None:
    wizard = make_wizard(demo="healthy")
    wizard.next()
    qtbot.mouseClick(wizard.register_page.ask_admin_button, Qt.MouseButton.LeftButton)
    dialog = wizard.register_page.instructions_dialog
    assert dialog is not None
    target = tmp_path / "no such folder" / "instructions.txt"
    dialog.save_requested.emit(str(target), dialog.text)
    qtbot.waitUntil(lambda: "Could not save" in dialog.status.text(), timeout=10_000)
    assert "Choose another folder" in dialog.status.text()
    saved = tmp_path / "instructions.txt"
    dialog.save_requested.emit(str(saved), dialog.text)
    qtbot.waitUntil(lambda: "Saved to" in dialog.status.text(), timeout=10_000)
    assert "Could not save" not in dialog.status.text()  # the earlier failure is not left
    assert saved.read_text(encoding="utf-8") == dialog.text
    dialog.close()
