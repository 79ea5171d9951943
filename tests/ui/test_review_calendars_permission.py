"""“Set it up for me”'s review: the Calendars.ReadWrite line says what the Calendars choice does
with it, so Rooms only never sits beside “every mailbox in the organisation”."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from tests.conftest import ServeDemo
from tests.support.scripted_browser import ScriptedBrowser, registered
from tests.ui.conftest import MakeWizard
from tests.ui.test_set_it_up_for_me import sign_in

LEFT = Qt.MouseButton.LeftButton


def test_the_calendars_permission_line_follows_the_choice(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
    note = setup.calendars_permission_note
    choice = setup.calendar_choice
    assert choice.rooms_only and note.isVisible()
    assert "every mailbox" not in note.text()
    assert "Not granted here" in note.text() and "room mailboxes" in note.text()

    button = choice.all_mailboxes_button
    qtbot.mouseClick(button, LEFT, pos=QPoint(8, button.height() // 2))
    assert button.isChecked()
    assert "every mailbox" in note.text()

    button = choice.rooms_only_button
    qtbot.mouseClick(button, LEFT, pos=QPoint(8, button.height() // 2))
    assert button.isChecked()
    assert "Not granted here" in note.text()
