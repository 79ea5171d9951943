"""“Set it up for me” with Rooms only, and removing Microsoft Entra's tenant-wide calendar grant
with the administrator still signed in: the real wizard against the demo tenant over HTTPS on
loopback, driven by clicks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.checks import Status
from clearooms_wizard.demo.registry import GRAPH_SERVICE_PRINCIPAL_ID
from clearooms_wizard.ui.pages.connect import ConnectPage
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import ServeDemo
from tests.support.scripted_browser import ScriptedBrowser, registered
from tests.ui.conftest import MakeWizard
from tests.ui.test_set_it_up_for_me import (
    SLOW,
    clearooms_apps,
    create,
    sign_in,
    wait_for_connect_tested,
)

LEFT = Qt.MouseButton.LeftButton


class StoppedClock:
    """The demo tenant's clock, moved on by the test: Exchange's cache ends when it says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def question_of(connect: ConnectPage) -> QMessageBox | None:
    """The question open on the page (read afresh each time: clicking changes it)."""
    return connect.remove_grant_dialog


def result_of(wizard: SetupWizard, check_id: str) -> tuple[Status, str | None]:
    test = wizard.connect_page.test
    assert test is not None
    found = next(r for r in test.results if r.id == check_id)
    return found.status, found.code


def test_rooms_only_hands_over_the_script_and_test_settings_does_not_fail(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        # Rooms only is the recommended choice, and chosen.
        choice = setup.calendar_choice
        assert choice.rooms_only_button.isVisible() and choice.rooms_only_button.isChecked()
        assert "(recommended)" in choice.rooms_only_button.text()
        create(qtbot, wizard, setup, rooms_only=True)
        wait_for_connect_tested(qtbot, wizard)
        connect = wizard.connect_page
        # The script comes by itself, written for this app.
        qtbot.waitUntil(lambda: connect.scope_dialog is not None, timeout=SLOW)

    (app,) = clearooms_apps(served)
    registered_app = wizard.state.registered
    assert registered_app is not None and registered_app.rooms_only
    assert registered_app.client_id == app.app_id
    dialog = connect.scope_dialog
    assert dialog is not None and dialog.isVisible()
    assert f"$AppId = '{app.app_id}'" in dialog.text
    assert f"$ServicePrincipalId = '{registered_app.service_principal_id}'" in dialog.text
    # Nobody is blamed: the Exchange step is still to do, and the wizard says so.
    test = connect.test
    assert test is not None and test.ok
    assert result_of(wizard, "calendars") == (Status.WARN, "exchange_pending")
    assert result_of(wizard, "permissions") == (Status.PASS, "rooms_only")
    assert result_of(wizard, "mailbox_scope") == (Status.PASS, "rooms_only")
    assert "Exchange step" in connect.rows["calendars"].result.detail  # type: ignore[union-attr]
    assert served.tenant.registry.graph_roles_of(registered_app.service_principal_id) == (
        "Directory.Read.All",
        "Place.Read.All",
    )
    # Without Microsoft Entra's grant there is nothing to remove.
    assert not connect.remove_grant_button.isVisible()
    dialog.close()


def test_removing_the_tenant_wide_grant_then_exchange_catches_up(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    clock = StoppedClock()
    served = serve_demo("scoped-but-entra-grant", clock=clock, exchange_cache=1800.0)
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        create(qtbot, wizard, setup)
        wait_for_connect_tested(qtbot, wizard)
    connect = wizard.connect_page
    registered_app = wizard.state.registered
    assert registered_app is not None and not registered_app.rooms_only
    assert result_of(wizard, "mailbox_scope") == (Status.WARN, "tenant_wide")
    assert connect.scope_dialog is None  # all mailboxes: no script pushed at anyone
    assert connect.remove_grant_button.isVisible()

    # The question says what changes; "Not yet" changes nothing.
    served.tenant.clear_request_log()
    qtbot.mouseClick(connect.remove_grant_button, LEFT)
    box = question_of(connect)
    assert box is not None and box.isVisible()
    assert "Have you run the Exchange script" in box.text()
    assert "people's calendars" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    assert question_of(connect) is None and not connect.busy
    assert served.tenant.request_log() == []

    qtbot.mouseClick(connect.remove_grant_button, LEFT)
    box = question_of(connect)
    assert box is not None
    box.button(QMessageBox.StandardButton.Yes).click()
    # Removed, then tested again by itself: Exchange still answers from its cache.
    qtbot.waitUntil(
        lambda: (
            not connect.busy
            and connect.test is not None
            and result_of(wizard, "mailbox_scope") == (Status.WARN, "scope_pending")
        ),
        timeout=SLOW,
    )
    deletes = [r for r in served.tenant.request_log() if r.method == "DELETE"]
    assert len(deletes) == 1
    assert deletes[0].path.startswith(
        f"/v1.0/servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo/"
    )
    assert deletes[0].status == 204
    assert served.tenant.registry.graph_roles_of(registered_app.service_principal_id) == (
        "Directory.Read.All",
        "Place.Read.All",
    )
    assert not connect.remove_grant_button.isVisible()
    assert result_of(wizard, "permissions") == (Status.PASS, "rooms_only")

    # Exchange catches up: Test Settings again finds the rooms only.
    clock.now += 1801.0
    qtbot.mouseClick(connect.test_button, LEFT)
    qtbot.waitUntil(
        lambda: not connect.busy and connect.test is not None and len(connect.test.results) == 9,
        timeout=SLOW,
    )
    assert result_of(wizard, "mailbox_scope") == (Status.PASS, "rooms_only")
    assert result_of(wizard, "calendars") == (Status.PASS, None)
    assert connect.test is not None and connect.test.ok
    qtbot.mouseClick(wizard.button(wizard.WizardButton.NextButton), LEFT)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.ROOMS, timeout=SLOW)


def test_without_an_administrator_the_script_says_who_removes_the_grant(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("scoped-but-entra-grant")
    wizard = make_wizard(served)
    wizard.next()
    wizard.next()
    connect = wizard.connect_page
    assert wizard.currentId() == PageId.CONNECT
    qtbot.mouseClick(connect.test_button, LEFT)
    qtbot.waitUntil(lambda: connect.test is not None and not connect.busy, timeout=SLOW)
    assert result_of(wizard, "mailbox_scope") == (Status.WARN, "tenant_wide")
    assert not connect.remove_grant_button.isVisible()
    qtbot.mouseClick(connect.scope_button, LEFT)
    qtbot.waitUntil(lambda: connect.scope_dialog is not None, timeout=SLOW)
    dialog = connect.scope_dialog
    assert dialog is not None and dialog.grant_note.isVisible()
    assert "Privileged Role Administrator" in dialog.grant_note.text()
    assert "Enterprise applications > the Clearooms app > Permissions" in dialog.grant_note.text()
    dialog.close()
