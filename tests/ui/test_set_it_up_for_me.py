"""“Set it up for me” in the wizard: the real pages against the demo tenant over HTTPS on loopback,
with a scripted browser that signs the scenario's administrator in (and a Global Administrator in
on the approval page), as a person's browser would."""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.app_setup import (
    APP_UNIQUE_NAME,
    DEFAULT_APP_NAME,
    STEP_TITLES,
    DeviceCodePrompt,
    RegisteredApp,
    StepId,
    StepState,
)
from clearooms_wizard.core.checks import Status
from clearooms_wizard.core.registration import PERMISSIONS
from clearooms_wizard.demo.org import TENANT_DISPLAY_NAME, TENANT_ID
from clearooms_wizard.demo.registry import Application
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.pages.setup_for_me import SetupForMe, View
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import Served, ServeDemo
from tests.support.canary import Leaks
from tests.support.memory_keyring import MemoryKeyring
from tests.support.scripted_browser import ScriptedBrowser, registered
from tests.ui.conftest import MakeWizard

LEFT = Qt.MouseButton.LeftButton
# Sign-in, plan and creation on loopback take a second or two; Microsoft's catching up (the
# demo's replication delay) is what a test waits for longest.
SLOW = 60_000


def registered_of(wizard: SetupWizard) -> RegisteredApp | None:
    return wizard.state.registered


def view_of(setup: SetupForMe) -> View:
    return setup.current_view


def setup_of(wizard: SetupWizard) -> SetupForMe:
    return wizard.register_page.setup


def open_set_it_up_for_me(qtbot: QtBot, wizard: SetupWizard) -> SetupForMe:
    wizard.next()
    assert wizard.currentId() == PageId.REGISTER
    qtbot.mouseClick(wizard.register_page.setup_button, LEFT)
    setup = setup_of(wizard)
    assert setup.isVisible() and view_of(setup) is View.INTRO
    # The app Microsoft's page will name, and why, once the setting is read.
    qtbot.waitUntil(lambda: "“Microsoft Azure CLI”" in setup.shown_as_label.text())
    assert "keeps no access afterwards" in setup.shown_as_label.text()
    return setup


def sign_in(qtbot: QtBot, wizard: SetupWizard) -> SetupForMe:
    setup = open_set_it_up_for_me(qtbot, wizard)
    qtbot.mouseClick(setup.sign_in_button, LEFT)
    assert view_of(setup) is View.SIGNING_IN
    qtbot.waitUntil(lambda: not wizard.register_page.busy, timeout=SLOW)
    return setup


def clearooms_apps(served: Served) -> list[Application]:
    """The apps “Set it up for me” made (found by the unique name it gives them)."""
    return [a for a in served.tenant.registry.applications() if a.unique_name == APP_UNIQUE_NAME]


def create(
    qtbot: QtBot, wizard: SetupWizard, setup: SetupForMe, *, rooms_only: bool = False
) -> None:
    """Create the app; with all mailboxes (as Clearooms' guide sets it up) unless told
    rooms only, the choice the review starts with."""
    assert setup.views.currentIndex() == View.REVIEW
    assert setup.calendar_choice.rooms_only
    if not rooms_only:
        button = setup.calendar_choice.all_mailboxes_button
        # On the round indicator: the button is as wide as the form, its text is not.
        qtbot.mouseClick(button, LEFT, pos=QPoint(8, button.height() // 2))
        assert not setup.calendar_choice.rooms_only
    qtbot.mouseClick(setup.create_button, LEFT)
    assert setup.views.currentIndex() == View.PROGRESS
    qtbot.waitUntil(lambda: not wizard.register_page.busy, timeout=SLOW)


def wait_for_connect_tested(qtbot: QtBot, wizard: SetupWizard) -> None:
    connect = wizard.connect_page
    qtbot.waitUntil(
        lambda: (
            wizard.currentId() == PageId.CONNECT and connect.test is not None and not connect.busy
        ),
        timeout=SLOW,
    )


def assert_connect_filled(wizard: SetupWizard, served: Served) -> None:
    registered_app = wizard.state.registered
    assert registered_app is not None
    connect = wizard.connect_page
    assert connect.tenant.text() == TENANT_ID == registered_app.tenant_id
    assert connect.client_id.text() == registered_app.client_id
    assert connect.secret.text() == registered_app.client_secret != ""
    # Filled, but hidden: shown only if the user presses Show.
    assert connect.secret.echoMode() == QLineEdit.EchoMode.Password
    assert not connect.show_secret.isChecked()
    # Test Settings ran by itself, on these values, and passed.
    test = connect.test
    assert test is not None and test.ok and test.credentials is not None
    assert test.credentials.client_id == registered_app.client_id


def test_a_global_administrator_sets_it_all_up(
    qtbot: QtBot,
    make_wizard: MakeWizard,
    serve_demo: ServeDemo,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    served = serve_demo("healthy")
    with registered(ScriptedBrowser(served.ca_bundle)) as browser:
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        assert len(browser.opened) == 1 and "/oauth2/v2.0/authorize" in browser.opened[0]

        # The review: nothing created yet, and everything that will be.
        assert view_of(setup) is View.REVIEW
        assert clearooms_apps(served) == []
        assert setup.organisation.text() == f"{TENANT_DISPLAY_NAME}\n{TENANT_ID}"
        assert setup.account.text() == "Alex Wilber (alex.wilber@northwind-demo.com)"
        assert setup.roles.text() == "Global Administrator"
        assert setup.app_name.text() == DEFAULT_APP_NAME
        assert setup.secret_months.currentText() == "24 months"
        review = setup.views.widget(View.REVIEW)
        assert review is not None
        review_text = " ".join(label.text() for label in review.findChildren(QLabel))
        for permission in PERMISSIONS:
            assert permission.name in review_text
            # Rooms only, the choice the review starts with, leaves Calendars.ReadWrite out.
            if permission.name == "Calendars.ReadWrite":
                assert "Not granted here with Rooms only" in review_text
            else:
                assert permission.allows in review_text
        assert setup.existing_note.isHidden() and setup.approval_note.isHidden()

        # A name and a lifetime of the user's choosing.
        setup.app_name.clear()
        qtbot.keyClicks(setup.app_name, "Clearooms rooms")
        setup.secret_months.setCurrentIndex(setup.secret_months.findData(12))
        create(qtbot, wizard, setup)
        wait_for_connect_tested(qtbot, wizard)

    for step, row in setup.rows.items():
        assert row.state is StepState.DONE, STEP_TITLES[step]
    (app,) = clearooms_apps(served)
    assert app.display_name == "Clearooms rooms"
    registered_app = wizard.state.registered
    assert registered_app is not None and not registered_app.reused
    assert registered_app.client_id == app.app_id and registered_app.permissions_granted
    months = (registered_app.secret_expires_at - app.created).days / 30.4
    assert 11.5 < months < 12.5
    assert_connect_filled(wizard, served)
    connect = wizard.connect_page
    assert all(r.status is not Status.FAIL for r in connect.test.results)  # type: ignore[union-attr]

    # Saved as today: the secret in the keyring, then on to the rooms.
    qtbot.mouseClick(wizard.button(wizard.WizardButton.NextButton), LEFT)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.ROOMS, timeout=SLOW)
    assert registered_app.client_secret in MemoryKeyring.store.values()

    # The canary: neither the new secret nor the administrator's token is in any file the
    # wizard wrote (the workspace at least) or in any log line, down to debug (MSAL's too).
    admin = wizard.state.admin_session
    assert admin is not None
    leaks = Leaks(secret=registered_app.client_secret, tokens=[admin.bearer()])
    assert leaks.search_tree(tmp_path, "tmp") >= 1
    leaks.search_text("log", caplog.text)
    assert len(caplog.records) > 20
    assert leaks.found == []


def test_an_application_administrator_gets_a_link_for_a_global_administrator(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("register-app-admin")
    with registered(ScriptedBrowser(served.ca_bundle)) as browser:
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        assert setup.roles.text() == "Application Administrator"
        assert setup.approval_note.isVisible()
        assert "Global Administrator" in setup.approval_note.text()
        create(qtbot, wizard, setup)

        # Created, and waiting for a Global Administrator.
        assert wizard.currentId() == PageId.REGISTER
        assert setup.approval.isVisible()
        assert setup.rows[StepId.GRANT_PERMISSIONS].state is StepState.NEEDS_APPROVAL
        link = setup.consent_link.text()
        assert link.startswith(served.base_url) and "/v2.0/adminconsent?" in link
        (app,) = clearooms_apps(served)
        assert f"client_id={app.app_id}" in link
        qtbot.mouseClick(setup.copy_link, LEFT)
        assert QGuiApplication.clipboard().text() == link
        assert registered_of(wizard) is None
        # Kept meanwhile (the secret in the keyring), so that closing the wizard loses nothing.
        qtbot.waitUntil(lambda: "kept on this computer" in setup.later_note.text())
        (kept_secret,) = MemoryKeyring.store.values()

        # Not approved yet.
        qtbot.mouseClick(setup.check_again_button, LEFT)
        qtbot.waitUntil(lambda: not wizard.register_page.busy, timeout=SLOW)
        assert "Not approved yet" in wizard.register_page.banner.label.text()
        assert wizard.currentId() == PageId.REGISTER

        # The link, sent to a Global Administrator who approves it in their own browser (off
        # the GUI thread, where no network call may be made); its answer goes nowhere here.
        approver = ScriptedBrowser(served.ca_bundle)

        def approve() -> None:
            # The page's answer goes to localhost, where nobody listens for it here.
            with contextlib.suppress(OSError):
                approver.visit(link)

        thread = threading.Thread(target=approve)
        thread.start()
        thread.join(30)
        assert approver.opened == [link]
        qtbot.mouseClick(setup.check_again_button, LEFT)
        wait_for_connect_tested(qtbot, wizard)
        assert browser.opened[0].count("/oauth2/v2.0/authorize") == 1

    assert setup.rows[StepId.GRANT_PERMISSIONS].state is StepState.DONE
    assert_connect_filled(wizard, served)
    assert wizard.state.registered is not None
    assert wizard.state.registered.client_secret == kept_secret

    # The redirect address the approval page needed is taken off the app again, by the
    # administrator still signed in.
    def redirects() -> tuple[str, ...]:
        current = served.tenant.registry.application(app.id)
        assert current is not None
        return current.redirect_uris

    qtbot.waitUntil(lambda: redirects() == (), timeout=SLOW)


def test_the_approval_page_opened_from_the_wizard(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("register-app-admin")
    with registered(ScriptedBrowser(served.ca_bundle)) as browser:
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        create(qtbot, wizard, setup)
        assert setup.approval.isVisible()
        qtbot.mouseClick(setup.open_approval_button, LEFT)
        assert wizard.register_page.busy_row.isVisible()
        wait_for_connect_tested(qtbot, wizard)
        assert any("/v2.0/adminconsent" in url for url in browser.opened)
    assert_connect_filled(wizard, served)


def test_no_rights_says_so_and_creates_nothing(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("register-no-rights")
    apps_before = [a.id for a in served.tenant.registry.applications()]
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        if view_of(setup) is View.REVIEW:
            assert setup.roles.text() == "None"
            assert "no administrator role" in setup.approval_note.text()
            create(qtbot, wizard, setup)
            assert setup.progress_title.text() == "It could not be set up"
            assert setup.failure.isVisible()
            message = setup.failure_text.text() or "".join(
                row.detail.text() for row in setup.rows.values()
            )
            assert "Nothing was created" in setup.created_text.text()
            assert setup.undo_button.isHidden()
            qtbot.mouseClick(setup.other_admin_button, LEFT)
            assert view_of(setup) is View.INTRO
        else:
            assert view_of(setup) is View.INTRO
            message = wizard.register_page.banner.label.text()
            assert "Nothing was created" in message
    assert "adele.vance@northwind-demo.com" in message
    assert "Global Administrator" in message
    assert wizard.currentId() == PageId.REGISTER
    assert registered_of(wizard) is None
    assert [a.id for a in served.tenant.registry.applications()] == apps_before


def test_cancelled_in_the_browser(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("register-cancelled")
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
    assert view_of(setup) is View.INTRO
    banner = wizard.register_page.banner
    assert banner.isVisible() and "cancel" in banner.label.text().lower()
    assert wizard.state.admin_session is None
    assert setup.sign_in_button.isEnabled()


def test_stop_while_waiting_for_the_browser(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    # The page opens, and nobody signs in.
    with registered(ScriptedBrowser(served.ca_bundle, finish=False)) as browser:
        wizard = make_wizard(served)
        setup = open_set_it_up_for_me(qtbot, wizard)
        qtbot.mouseClick(setup.sign_in_button, LEFT)
        qtbot.waitUntil(lambda: len(browser.opened) == 1, timeout=SLOW)
        page = wizard.register_page
        assert page.busy and page.busy_row.isVisible() and not page.isComplete()
        qtbot.mouseClick(page.busy_row.stop_button, LEFT)
        qtbot.waitUntil(lambda: not page.busy, timeout=5_000)
    assert not wizard.runner.busy
    assert view_of(setup) is View.INTRO
    assert "stopped" in page.banner.label.text().lower()
    assert page.isComplete() and setup.sign_in_button.isEnabled()


def test_stop_while_creating_then_undo(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    # Microsoft takes a while to see the new app: time to press Stop half-way.
    served = serve_demo("healthy", replication_delay=4.0)
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        qtbot.mouseClick(setup.create_button, LEFT)
        page = wizard.register_page
        qtbot.waitUntil(lambda: setup.rows[StepId.CREATE_APP].state is StepState.DONE, timeout=SLOW)
        assert page.busy
        qtbot.mouseClick(page.busy_row.stop_button, LEFT)
        qtbot.waitUntil(lambda: not page.busy, timeout=5_000)
        assert not wizard.runner.busy
        assert setup.failure.isVisible() and setup.undo_button.isVisible()
        assert wizard.currentId() == PageId.REGISTER and wizard.state.registered is None
        registry = served.tenant.registry
        assert registry.application_by_unique_name(APP_UNIQUE_NAME, visible=False) is not None

        # Undo asks first.
        qtbot.mouseClick(setup.undo_button, LEFT)
        dialog = setup.undo_dialog
        assert dialog is not None and dialog.isVisible()
        qtbot.mouseClick(dialog.button(QMessageBox.StandardButton.Yes), LEFT)
        qtbot.waitUntil(lambda: not page.busy, timeout=SLOW)
    assert "Removed what this setup created" in page.banner.label.text()
    assert registry.application_by_unique_name(APP_UNIQUE_NAME, visible=False) is None
    assert view_of(setup) is View.REVIEW


def test_an_earlier_app_is_reused(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("register-existing-app")
    (earlier,) = clearooms_apps(served)
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        assert setup.existing_note.isVisible()
        assert "reuse it and add a new secret" in setup.existing_note.text()
        # From the keyboard: Enter in the name creates it (and stops there: the progress
        # takes the name's place, and Stop would get the same key).
        qtbot.keyClick(setup.app_name, Qt.Key.Key_Return)
        assert view_of(setup) is View.PROGRESS
        qtbot.waitUntil(lambda: not wizard.register_page.busy, timeout=SLOW)
        wait_for_connect_tested(qtbot, wizard)
    (app,) = clearooms_apps(served)
    assert app.id == earlier.id and len(app.secrets) == len(earlier.secrets) + 1
    registered_app = wizard.state.registered
    assert registered_app is not None and registered_app.reused
    assert registered_app.client_id == earlier.app_id
    assert_connect_filled(wizard, served)


def test_a_code_instead_of_the_browser(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    with registered(ScriptedBrowser(served.ca_bundle)) as browser:
        wizard = make_wizard(served)
        setup = open_set_it_up_for_me(qtbot, wizard)
        qtbot.mouseClick(setup.code_button, LEFT)
        qtbot.waitUntil(lambda: setup.device_code.isVisible(), timeout=SLOW)
        code = setup.code.text()
        assert code and setup.code.textFormat() == Qt.TextFormat.PlainText
        assert setup.code.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
        assert setup.code_address.text().startswith(served.base_url)
        qtbot.mouseClick(setup.copy_code, LEFT)
        assert QGuiApplication.clipboard().text() == code
        assert browser.opened == []  # nothing opens here: the code is typed elsewhere
        # Someone types the code on their phone (off the GUI thread: it is a network call).
        prompt = DeviceCodePrompt(setup.code_address.text(), code, 0.0)
        typed = threading.Thread(target=browser.enter_code, args=(prompt,))
        typed.start()
        typed.join(30)
        qtbot.waitUntil(lambda: not wizard.register_page.busy, timeout=SLOW)
    assert view_of(setup) is View.REVIEW
    assert setup.account.text().endswith("(alex.wilber@northwind-demo.com)")


def test_every_step_has_its_own_alt_keys(make_wizard: MakeWizard) -> None:
    """Alt plus an underlined letter presses one thing: a letter two visible buttons share
    only moves between them (as “Sign &in” did beside “Ask my &IT admin”)."""
    wizard = make_wizard(demo="healthy")
    wizard.next()
    wizard.register_page.choose_setup_for_me()
    setup = setup_of(wizard)
    for box in (setup.device_code, setup.failure, setup.approval):
        box.show()
    for view in View:
        setup.show_view(view)
        letters: list[str] = []
        for widget in wizard.findChildren(QAbstractButton) + wizard.findChildren(QLabel):
            if not widget.isVisible() or (isinstance(widget, QLabel) and widget.buddy() is None):
                continue
            text = widget.text().replace("&&", "")
            if "&" in text:
                letters.append(text[text.index("&") + 1].lower())
        assert len(letters) == len(set(letters)), (view.name, sorted(letters))
