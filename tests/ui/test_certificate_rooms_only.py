"""“Set it up for me” with Rooms only where the organisation forbids client secrets: the app gets
a certificate, and stays a rooms-only app: the Exchange script is handed over as with a secret,
saying one step is left rather than asking to remove a grant that was never made."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from clearooms_wizard.core.checks import Status
from tests.conftest import ServeDemo
from tests.support.scripted_browser import ScriptedBrowser, registered
from tests.ui.conftest import MakeWizard
from tests.ui.test_set_it_up_for_me import SLOW, create, sign_in, wait_for_connect_tested


def test_a_certificate_app_made_for_rooms_only_gets_the_script(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("secrets-forbidden")
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        create(qtbot, wizard, setup, rooms_only=True)
        wait_for_connect_tested(qtbot, wizard)
        connect = wizard.connect_page
        qtbot.waitUntil(lambda: connect.scope_dialog is not None, timeout=SLOW)
    app = wizard.state.registered
    assert app is not None and app.certificate is not None
    assert app.rooms_only
    assert "Calendars.ReadWrite" not in app.permission_names
    test = connect.test
    assert test is not None and test.ok
    calendars = next(r for r in test.results if r.id == "calendars")
    assert (calendars.status, calendars.code) == (Status.WARN, "exchange_pending")
    dialog = connect.scope_dialog
    assert dialog is not None and dialog.isVisible()
    assert f"$AppId = '{app.client_id}'" in dialog.text
