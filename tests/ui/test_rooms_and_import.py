"""Rooms and Import, and the whole path from Welcome to Finish, against HTTPS on loopback."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.workspace import open_workspace
from clearooms_wizard.demo import Fault, data
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import Served, ServeDemo
from tests.ui.conftest import MakeWizard


def click_next(qtbot: QtBot, wizard: SetupWizard) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(button.isEnabled, timeout=30_000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def to_rooms(qtbot: QtBot, wizard: SetupWizard) -> None:
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    page = wizard.connect_page
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy and page.test is not None, timeout=30_000)
    click_next(qtbot, wizard)

    def on_rooms_page() -> None:
        # The Connect page's banner says why, if saving the settings failed.
        banner = wizard.connect_page.banner.label.text()
        assert wizard.currentId() == PageId.ROOMS, banner

    qtbot.waitUntil(on_rooms_page, timeout=30_000)
    qtbot.waitUntil(lambda: not wizard.rooms_page.busy, timeout=30_000)


def add_office(qtbot: QtBot, wizard: SetupWizard, name: str) -> None:
    page = wizard.rooms_page
    index = page.office.count() - 1  # "New office…" is always last
    page.office.setCurrentIndex(index)
    page.office.activated.emit(index)
    assert page.new_office_row.isVisible()
    qtbot.keyClicks(page.new_office, name)
    qtbot.keyClick(page.new_office, Qt.Key.Key_Return)


def workspace_file() -> Path:
    return Path(os.environ["CLEAROOMS_WORKSPACE"])


def test_healthy_path_from_welcome_to_finish(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    assert page.model.rowCount() == 24
    assert page.count.text() == "0 of 24 rooms selected"
    suggestions = [page.office.itemText(i) for i in range(page.office.count())]
    assert "London HQ (new office)" in suggestions and suggestions[-1] == "New office…"

    add_office(qtbot, wizard, "   ")
    assert page.office_note.isVisible()  # a blank name is refused, with a message
    page.new_office.clear()
    qtbot.keyClicks(page.new_office, "Second Floor Team")
    qtbot.keyClick(page.new_office, Qt.Key.Key_Return)
    assert page.office_choice() is not None
    assert page.office_choice().name == "Second Floor Team"  # type: ignore[union-attr]

    qtbot.keyClicks(page.search, "huddle")
    shown = page.proxy.rowCount()
    assert 0 < shown < 24
    qtbot.mouseClick(page.select_all, Qt.MouseButton.LeftButton)
    assert page.count.text() == f"{shown} of 24 rooms selected ({shown} shown)"
    page.search.clear()

    click_next(qtbot, wizard)
    importer = wizard.import_page
    qtbot.waitUntil(lambda: wizard.state.prepared is not None and not importer.busy, timeout=30_000)
    assert f"{shown} new rooms" in importer.summary.text()
    assert "Every room's calendar can be read" in importer.summary.text()
    qtbot.mouseClick(importer.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.state.result is not None and not importer.busy, timeout=30_000)
    assert f"{shown} rooms added" in importer.banner.label.text()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.isEnabled()

    with open_workspace(workspace_file()) as workspace:
        offices = [o.name for o in workspace.list_offices()]
        rooms = workspace.imported_rooms()
    assert offices == ["Second Floor Team"]
    assert len(rooms) == shown and all(r.office_name == "Second Floor Team" for r in rooms)
    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert not wizard.isVisible()


def test_reopening_shows_saved_values_and_imported_rooms(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    first = make_wizard(healthy)
    to_rooms(qtbot, first)
    first.rooms_page.office.setCurrentIndex(0)  # the suggested "London HQ"
    first.rooms_page.model.set_checked(range(3), True)
    click_next(qtbot, first)
    importer = first.import_page
    # Import is pressable once the check of the calendars has ended, not when its plan arrives.
    qtbot.waitUntil(lambda: first.state.prepared is not None and not importer.busy, timeout=30_000)
    qtbot.mouseClick(importer.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.state.result is not None, timeout=30_000)
    first.close()

    # Nothing given this time: the values come from the workspace and the keyring.
    from clearooms_wizard.app import build_wizard_context
    from clearooms_wizard.core.preferences import PreferencesFile
    from clearooms_wizard.runtime import ConnectionOptions

    context = build_wizard_context(
        ConnectionOptions(ca_bundle=healthy.ca_bundle), lambda url: True,
        preferences=PreferencesFile(workspace_file().with_name("prefs.json")),
    )  # fmt: skip
    second = SetupWizard(context)
    qtbot.addWidget(second)
    second.show()
    try:
        assert second.connect_page.tenant.text() == data.INITIAL_DOMAIN
        assert second.connect_page.secret.text() == data.APP_SECRET
        to_rooms(qtbot, second)
        marked = [
            second.rooms_page.model.data(second.rooms_page.model.index(row, 6))
            for row in range(second.rooms_page.model.rowCount())
        ]
        assert marked.count("London HQ") == 3
        # Imported rooms are marked, never ticked: a second office must not take them over.
        assert second.rooms_page.model.checked_count == 0
    finally:
        second.shutdown()


def test_empty_room_list_is_explained(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("no-rooms")
    wizard = make_wizard(served)
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    qtbot.mouseClick(wizard.connect_page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.connect_page.test is not None, timeout=30_000)
    wizard.connect_page._warnings_accepted = True  # the warning dialog is tested elsewhere
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.ROOMS, timeout=10_000)
    page = wizard.rooms_page
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    assert page.stack.currentIndex() == 1
    assert "hidden from the address list" in page.message.label.text()
    assert page.retry_button.isVisible()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_rooms_left_out_for_their_address_are_counted_in_plain_words(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    listing = {
        "value": [
            {"emailAddress": data.room_email("Thames"), "displayName": "Thames"},
            {"emailAddress": "bro\ufffdken@northwind-demo.com", "displayName": "Broken"},
            {"displayName": "No address"},
        ]
    }
    # Only the full listing ($top=100), not the Connect page's sample of ten.
    served.tenant.inject(
        Fault(
            r"^/v1\.0/places/microsoft\.graph\.room\?%24top=100&",
            status=200,
            body=listing,
            headers={"Content-Type": "application/json"},
        )
    )
    wizard = make_wizard(served)
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    assert page.banner.isVisible()
    text = page.banner.label.text()
    assert "2 rooms were left out because Microsoft 365 sent an email address for them" in text
    assert "Exchange admin center" in text


def test_cancelling_the_room_load(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    wizard = make_wizard(served)
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    qtbot.mouseClick(wizard.connect_page.test_button, Qt.MouseButton.LeftButton)
    connect_page = wizard.connect_page
    qtbot.waitUntil(lambda: not connect_page.busy and connect_page.test is not None, timeout=30_000)
    # Long enough that a loaded machine still sees the load in progress when Stop is clicked:
    # stopping does not wait for the answer, so the length costs nothing.
    served.tenant.latency = 3.0
    click_next(qtbot, wizard)
    page = wizard.rooms_page
    qtbot.waitUntil(lambda: page.busy and page.busy_row.stop_button.isVisible(), timeout=30_000)
    qtbot.mouseClick(page.busy_row.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    assert "Loading stopped" in page.message.label.text()
    served.tenant.latency = 0.0
    qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy and page.model.rowCount() == 24, timeout=30_000)


def test_a_blocked_room_calendar_is_explained_and_left_out(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("mixed-mailboxes"))
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    page.office.setCurrentIndex(0)
    qtbot.keyClicks(page.search, "Ada")
    qtbot.mouseClick(page.select_all, Qt.MouseButton.LeftButton)
    page.search.clear()
    qtbot.keyClicks(page.search, "Boardroom")
    qtbot.mouseClick(page.select_all, Qt.MouseButton.LeftButton)
    click_next(qtbot, wizard)
    importer = wizard.import_page
    qtbot.waitUntil(lambda: wizard.state.prepared is not None and not importer.busy, timeout=30_000)
    assert importer.problems.rowCount() == 1
    room, fix = importer.problems.item(0, 0), importer.problems.item(0, 2)
    assert room is not None and "Ada Lovelace" in room.text()
    assert fix is not None and "Test-ApplicationAccessPolicy" in fix.text()
    assert importer.include_blocked.isVisible()
    assert importer.import_button.text() == "&Import 1 room"
    qtbot.mouseClick(importer.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.state.result is not None, timeout=30_000)
    assert wizard.state.result is not None
    assert len(wizard.state.result.new) == 1 and len(wizard.state.result.blocked) == 1
    assert importer.retry_button.isVisible()


def test_closing_the_window_mid_import_is_safe(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    wizard = make_wizard(served)
    to_rooms(qtbot, wizard)
    wizard.rooms_page.office.setCurrentIndex(0)
    wizard.rooms_page.model.set_checked(range(24), True)
    served.tenant.latency = 0.3
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.import_page.busy, timeout=10_000)
    wizard.close()
    assert not wizard.runner.busy
    db = sqlite3.connect(workspace_file())
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_a_failed_reload_leaves_nothing_to_import(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    from clearooms_wizard.demo import Fault

    served = serve_demo("healthy")
    wizard = make_wizard(served)
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    page.office.setCurrentIndex(0)
    page.model.set_checked(range(3), True)
    assert page.isComplete()
    served.tenant.inject(Fault(r"microsoft\.graph\.room", "reset", times=None))
    qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    assert "could not be loaded" in page.message.label.text()
    assert page.model.rowCount() == 0 and wizard.state.directory is None
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_backing_out_of_the_import_creates_no_office(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    add_office(qtbot, wizard, "Not Yet")
    wizard.rooms_page.model.set_checked(range(2), True)
    click_next(qtbot, wizard)
    importer = wizard.import_page
    qtbot.waitUntil(lambda: wizard.state.prepared is not None and not importer.busy, timeout=30_000)
    assert "Into “Not Yet”: 2 new rooms" in importer.summary.text()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PageId.ROOMS
    with open_workspace(workspace_file()) as workspace:
        assert workspace.list_offices() == []


def test_rooms_blocked_for_one_reason_share_one_explanation(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("mixed-mailboxes"))
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    page.office.setCurrentIndex(0)
    qtbot.mouseClick(page.select_all, Qt.MouseButton.LeftButton)
    chosen = len(page.chosen_rooms())
    click_next(qtbot, wizard)
    importer = wizard.import_page
    qtbot.waitUntil(lambda: wizard.state.prepared is not None and not importer.busy, timeout=30_000)
    prepared = wizard.state.prepared
    assert prepared is not None
    held_back = [c for c in prepared.checks if c.blocked or c.failed]
    reasons = {c.problem.summary for c in held_back if c.problem}
    assert len(held_back) > len(reasons) >= 2
    # One row per reason, each naming all of its rooms; the fix appears once.
    assert importer.problems.rowCount() == len(reasons)
    fixes = [importer.problems.item(row, 2) for row in range(importer.problems.rowCount())]
    assert sum("Test-ApplicationAccessPolicy" in f.text() for f in fixes if f is not None) == 1
    ready = chosen - len(held_back)
    # The summary counts what Import will write, as the button does; the rest are "more".
    assert (
        f": {ready} new rooms. {len(held_back)} more rooms can't be imported yet"
        in importer.summary.text()
    )
    assert importer.import_button.text() == f"&Import {ready} rooms"


def test_after_an_import_the_rooms_page_marks_the_rooms_imported(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    page.office.setCurrentIndex(0)  # the suggested "London HQ"
    page.model.set_checked(range(2), True)
    click_next(qtbot, wizard)
    importer = wizard.import_page
    qtbot.waitUntil(lambda: wizard.state.prepared is not None and not importer.busy, timeout=30_000)
    qtbot.mouseClick(importer.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.state.result is not None and not importer.busy, timeout=30_000)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PageId.ROOMS
    marked = [page.model.data(page.model.index(row, 6)) for row in range(page.model.rowCount())]
    assert marked.count("London HQ") == 2


def test_exporting_after_an_import_keeps_the_result_in_view(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served, tmp_path: Path
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    wizard.rooms_page.office.setCurrentIndex(0)
    wizard.rooms_page.model.set_checked(range(1), True)
    click_next(qtbot, wizard)
    importer = wizard.import_page
    qtbot.waitUntil(lambda: wizard.state.prepared is not None and not importer.busy, timeout=30_000)
    qtbot.mouseClick(importer.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.state.result is not None and not importer.busy, timeout=30_000)
    result = importer.banner.label.text()
    assert importer.banner.isVisible() and result

    importer.export_to(str(tmp_path / "no such folder" / "rooms.csv"), "csv")
    qtbot.waitUntil(lambda: "not saved" in importer.export_note.text(), timeout=10_000)
    assert importer.export_note.isVisible()
    assert "does not exist" in importer.export_note.text()
    importer.export_to(str(tmp_path / "rooms.csv"), "csv")
    qtbot.waitUntil(lambda: "Exported to" in importer.export_note.text(), timeout=10_000)
    assert (tmp_path / "rooms.csv").is_file()
    # The import's own result is still there to read.
    assert importer.banner.isVisible() and importer.banner.label.text() == result


def test_stopping_the_first_calendar_check_leaves_a_way_on(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    wizard = make_wizard(served)
    to_rooms(qtbot, wizard)
    wizard.rooms_page.office.setCurrentIndex(0)
    wizard.rooms_page.model.set_checked(range(4), True)
    served.tenant.latency = 0.5
    click_next(qtbot, wizard)
    importer = wizard.import_page
    stop = importer.busy_row.stop_button
    qtbot.waitUntil(lambda: importer.busy and stop.isVisible(), timeout=10_000)
    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not importer.busy, timeout=10_000)
    assert "Check again" in importer.banner.label.text()
    # The banner names a button: it is there to press.
    assert importer.retry_button.isVisible() and importer.retry_button.isEnabled()
    served.tenant.latency = 0.0
    qtbot.mouseClick(importer.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.state.prepared is not None and not importer.busy, timeout=30_000)
    assert importer.import_button.isEnabled()
