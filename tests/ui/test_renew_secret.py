"""“Renew the secret” in the wizard: the Connect page against the demo tenant over HTTPS on
loopback, an administrator signing in through the scripted browser, clicks only."""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.checks import Status
from clearooms_wizard.demo import data
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.renew_dialog import RenewDialog
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import Served, ServeDemo
from tests.support.canary import Leaks
from tests.support.scripted_browser import ScriptedBrowser, registered
from tests.ui.conftest import MakeWizard

LEFT = Qt.MouseButton.LeftButton
SLOW = 60_000


def _tested(qtbot: QtBot, wizard: SetupWizard) -> None:
    connect = wizard.connect_page
    qtbot.waitUntil(lambda: connect.test is not None and not connect.busy, timeout=SLOW)


def _status(wizard: SetupWizard, check_id: str) -> Status | None:
    result = wizard.connect_page.rows[check_id].result
    return None if result is None else result.status


def _open_connect(
    qtbot: QtBot, make_wizard: MakeWizard, served: Served, **values: str
) -> SetupWizard:
    wizard = make_wizard(served, **values)
    wizard.next()
    wizard.next()
    assert wizard.currentId() == PageId.CONNECT
    qtbot.mouseClick(wizard.connect_page.test_button, LEFT)
    _tested(qtbot, wizard)
    return wizard


def _renew(qtbot: QtBot, wizard: SetupWizard, *, remove_foreign: bool) -> RenewDialog:
    connect = wizard.connect_page
    qtbot.mouseClick(connect.renew_button, LEFT)
    dialog = connect.renew_dialog
    assert dialog is not None and dialog.isVisible()
    if remove_foreign:
        qtbot.mouseClick(dialog.remove_foreign, LEFT)
    with qtbot.waitSignal(wizard.state.secret_renewed, timeout=SLOW):
        qtbot.mouseClick(dialog.start_button, LEFT)
    return dialog


def test_renewing_an_expiring_secret_fills_the_box_and_tests_again(
    qtbot: QtBot,
    make_wizard: MakeWizard,
    serve_demo: ServeDemo,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    served = serve_demo("secret-expiring")
    with registered(ScriptedBrowser(served.ca_bundle)) as browser:
        wizard = _open_connect(qtbot, make_wizard, served)
        connect = wizard.connect_page
        assert _status(wizard, "secret_expiry") is Status.WARN
        assert connect.renew_button.isVisible() and connect.reminder_button.isVisible()
        dialog = _renew(qtbot, wizard, remove_foreign=True)
        assert len(browser.opened) == 1
    qtbot.waitUntil(lambda: "Done: the new secret works" in dialog.message.text(), timeout=SLOW)
    steps = dialog.steps.text()
    assert steps.count("✓") == 5, steps
    new_secret = connect.secret.text()
    assert new_secret and new_secret != data.APP_SECRET
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None and data.APP_SECRET_KEY_ID not in {s.key_id for s in app.secrets}
    # Test Settings ran again by itself, with the new secret, and the expiry is far off now.
    _tested(qtbot, wizard)
    qtbot.waitUntil(lambda: connect.test is not None and connect.test.ok, timeout=SLOW)
    assert _status(wizard, "secret_expiry") is Status.PASS
    assert connect.renew_button.isHidden()
    assert wizard.state.admin_session is not None
    dialog.close()
    # A second renewal in the same run needs no second sign-in, and removes the first's secret
    # (made by the wizard) without asking.
    with registered(ScriptedBrowser(served.ca_bundle)) as browser:
        menu = connect.secret_menu_button.menu()
        assert menu is not None
        next(a for a in menu.actions() if a.text().startswith("Renew")).trigger()
        second = connect.renew_dialog
        assert second is not None and second is not dialog
        with qtbot.waitSignal(wizard.state.secret_renewed, timeout=SLOW):
            qtbot.mouseClick(second.start_button, LEFT)
        assert browser.opened == []
    now = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert now is not None and new_secret not in {s.text for s in now.secrets}
    _tested(qtbot, wizard)
    leaks = Leaks(secret=new_secret)
    leaks.search_text("log", caplog.text)
    leaks.search_tree(tmp_path, "tmp")
    leaks.search_text("dialog", dialog.steps.text() + dialog.message.text())
    assert leaks.found == []


def test_an_expired_secret_offers_renewal_and_a_foreign_old_secret_is_kept(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("expired-secret")
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = _open_connect(qtbot, make_wizard, served)
        connect = wizard.connect_page
        assert _status(wizard, "token") is Status.FAIL
        assert connect.renew_button.isVisible() and connect.reminder_button.isHidden()
        dialog = _renew(qtbot, wizard, remove_foreign=False)
    qtbot.waitUntil(
        lambda: "not made by Clearooms, so it was kept" in dialog.message.text(), timeout=SLOW
    )
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None and data.APP_SECRET_KEY_ID in {s.key_id for s in app.secrets}
    qtbot.waitUntil(lambda: connect.test is not None and connect.test.ok, timeout=SLOW)


def test_the_secret_menu_always_offers_renewal_and_a_refusal_is_shown_plainly(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("register-no-secrets")
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = _open_connect(qtbot, make_wizard, served)
        connect = wizard.connect_page
        assert connect.renew_button.isHidden()
        menu = connect.secret_menu_button.menu()
        assert menu is not None
        [renew_action] = [a for a in menu.actions() if a.text().startswith("Renew")]
        renew_action.trigger()
        dialog = connect.renew_dialog
        assert dialog is not None
        qtbot.mouseClick(dialog.start_button, LEFT)
        qtbot.waitUntil(
            lambda: "does not allow client secrets" in dialog.message.text(), timeout=SLOW
        )
    assert "certificate" in dialog.message.text()
    assert connect.secret.text() == data.APP_SECRET
    assert dialog.start_button.isEnabled()


def test_the_dialog_finishes_a_renewal_the_command_line_left_half_done(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    from clearooms_wizard.cli import main
    from clearooms_wizard.core.secrets import SERVICE
    from clearooms_wizard.demo import Fault
    from tests.support.memory_keyring import MemoryKeyring

    served = serve_demo("secret-expiring")
    # Microsoft refuses to remove the old secret: the command ends with the new one saved.
    served.tenant.inject(
        Fault.graph(r"/removePassword$", status=403, code="Authorization_RequestDenied",
                    message="Insufficient privileges to complete the operation.")
    )  # fmt: skip
    argv = ["secret", "renew", "--yes", "--tenant", data.INITIAL_DOMAIN]
    argv += ["--client-id", data.APP_ID, "--secret-stdin", *served.cli_args()]
    codes: list[int] = []

    def command_line() -> None:
        stdin = io.StringIO(data.APP_SECRET + "\n")
        codes.append(main(argv, stdin=stdin, stdout=io.StringIO(), stderr=io.StringIO()))

    # Off the GUI thread, as the command line is never on it.
    with registered(ScriptedBrowser(served.ca_bundle)):
        worker = threading.Thread(target=command_line)
        worker.start()
        worker.join(timeout=120)
    assert codes == [1]
    renewed = MemoryKeyring.store[(SERVICE, f"{data.TENANT_ID}/{data.APP_ID}")]
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None and data.APP_SECRET_KEY_ID in {s.key_id for s in app.secrets}
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = _open_connect(qtbot, make_wizard, served, client_secret=renewed)
        connect = wizard.connect_page
        menu = connect.secret_menu_button.menu()
        assert menu is not None
        next(a for a in menu.actions() if a.text().startswith("Renew")).trigger()
        dialog = connect.renew_dialog
        assert dialog is not None
        qtbot.mouseClick(dialog.remove_foreign, LEFT)
        qtbot.mouseClick(dialog.start_button, LEFT)
        qtbot.waitUntil(
            lambda: "Finished an earlier renewal" in dialog.message.text(), timeout=SLOW
        )
    assert "the old secret is now removed" in dialog.message.text()
    after = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert after is not None and data.APP_SECRET_KEY_ID not in {s.key_id for s in after.secrets}
    # No second new secret: the earlier run's is the one in use.
    assert len(after.secrets) == len(app.secrets) - 1
    assert connect.secret.text() == renewed
