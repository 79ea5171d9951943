"""“Renew the certificate” in the wizard: a connection that signs in with a certificate, on the
Connect page against the demo tenant over HTTPS on loopback, an administrator signing in through
the scripted browser, clicks only. The dialog renews the certificate (not a secret), the page
takes the new one and tests again, and the expiry warning offers the reminder too."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.certificates import credential_from_keyring_text
from clearooms_wizard.core.checks import Status
from clearooms_wizard.core.secrets import KeyringSecretStore
from clearooms_wizard.core.workspace import open_workspace
from clearooms_wizard.demo import data
from clearooms_wizard.demo.key_credentials import DEMO_CERTIFICATE_KEY_ID
from clearooms_wizard.runtime import ConnectionOptions, build_runtime
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import Served, ServeDemo
from tests.support.canary import Leaks
from tests.support.scripted_browser import ScriptedBrowser, registered
from tests.ui.conftest import MakeWizard
from tests.ui.test_renew_secret import LEFT, SLOW, _open_connect, _status, _tested


def _keep_scenario_certificate(served: Served) -> None:
    """The connection as the Connect page left it: the scenario's certificate (uploaded by the
    administrator in the portal) kept, its private key in the keyring."""
    made = served.tenant.scenario.credential_certificate()
    assert made is not None
    runtime = build_runtime(
        ConnectionOptions(
            tenant=data.INITIAL_DOMAIN,
            client_id=data.APP_ID,
            authority_host=served.base_url,
            graph_url=served.base_url,
            ca_bundle=served.ca_bundle,
        )
    )
    runtime.use_cases.keep_certificate(
        data.INITIAL_DOMAIN, data.APP_ID, runtime.connection.cloud, made
    )


def _certificate_keys(served: Served) -> set[str]:
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None
    return {k.key_id for k in app.key_credentials}


def _open(qtbot: QtBot, make_wizard: MakeWizard, served: Served) -> SetupWizard:
    _keep_scenario_certificate(served)
    return _open_connect(qtbot, make_wizard, served, tenant=data.INITIAL_DOMAIN, client_secret="")


def test_an_expiring_certificate_is_renewed_and_the_page_tests_with_the_new_one(
    qtbot: QtBot,
    make_wizard: MakeWizard,
    serve_demo: ServeDemo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    served = serve_demo("certificate-expiring")
    with registered(ScriptedBrowser(served.ca_bundle)) as browser:
        wizard = _open(qtbot, make_wizard, served)
        connect = wizard.connect_page
        old = connect.certificate
        assert old is not None and connect.uses_certificate()
        assert _status(wizard, "secret_expiry") is Status.WARN
        # The warning offers renewal and the reminder, as for a secret, naming the certificate.
        assert connect.renew_button.isVisible() and connect.reminder_button.isVisible()
        assert connect.renew_button.text() == "Renew t&he certificate…"
        reminder = tmp_path / "reminder.ics"
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", lambda *a, **k: (str(reminder), "*.ics")
        )
        qtbot.mouseClick(connect.reminder_button, LEFT)
        qtbot.waitUntil(reminder.exists, timeout=SLOW)
        assert b"SUMMARY:Renew the Clearooms certificate" in reminder.read_bytes()
        qtbot.mouseClick(connect.renew_button, LEFT)
        dialog = connect.renew_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.windowTitle() == "Renew the certificate"
        assert "new certificate" in dialog.intro.text() and dialog.remove_foreign.isHidden()
        with qtbot.waitSignal(wizard.state.secret_renewed, timeout=SLOW):
            qtbot.mouseClick(dialog.start_button, LEFT)
        assert len(browser.opened) == 1
    qtbot.waitUntil(
        lambda: "Done: the new certificate works" in dialog.message.text(), timeout=SLOW
    )
    steps = dialog.steps.text()
    assert steps.count("✓") == 5 and "Adding a new certificate" in steps, steps
    new = connect.certificate
    assert new is not None and new.sha1_thumbprint != old.sha1_thumbprint
    assert connect.uses_certificate() and connect.secret.text() == ""
    assert new.sha1_thumbprint.upper()[:8] in connect.certificate_summary.text()
    keys = _certificate_keys(served)
    assert DEMO_CERTIFICATE_KEY_ID not in keys and len(keys) == 1
    # Saved: the keyring holds the new key, the workspace names the new certificate.
    kept = KeyringSecretStore().load_certificate(data.TENANT_ID, data.APP_ID)
    assert kept is not None
    assert credential_from_keyring_text(kept).sha1_thumbprint == new.sha1_thumbprint
    # Test Settings ran again by itself, with the new certificate, and the expiry is far off.
    _tested(qtbot, wizard)
    qtbot.waitUntil(lambda: connect.test is not None and connect.test.ok, timeout=SLOW)
    assert _status(wizard, "secret_expiry") is Status.PASS
    assert connect.test is not None and connect.test.credentials is not None
    assert connect.test.credentials.certificate is new
    assert connect.renew_button.isHidden()
    with open_workspace(connect._context.use_cases.workspace_path, read_only=True) as workspace:
        saved = workspace.load_connection()
    assert saved is not None and saved.certificate_thumbprint == new.sha1_thumbprint
    dialog.close()
    leaks = Leaks(private_keys=[old.private_key_pem, new.private_key_pem])
    leaks.search_text("log", caplog.text)
    leaks.search_tree(tmp_path, "tmp")
    leaks.search_text("dialog", dialog.steps.text() + dialog.message.text())
    assert leaks.found == []


def test_the_menu_renews_a_healthy_certificate(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("certificate")
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = _open(qtbot, make_wizard, served)
        connect = wizard.connect_page
        assert connect.test is not None and connect.test.ok
        assert connect.renew_button.isHidden()
        menu = connect.secret_menu_button.menu()
        assert menu is not None
        [renew] = [a for a in menu.actions() if a.text().startswith("Renew")]
        assert renew.text() == "Renew the certificate…"
        renew.trigger()
        dialog = connect.renew_dialog
        assert dialog is not None
        with qtbot.waitSignal(wizard.state.secret_renewed, timeout=SLOW):
            qtbot.mouseClick(dialog.start_button, LEFT)
    qtbot.waitUntil(
        lambda: "Done: the new certificate works" in dialog.message.text(), timeout=SLOW
    )
    assert DEMO_CERTIFICATE_KEY_ID not in _certificate_keys(served)
    # No client secret was added to the app.
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None and len(app.secrets) == 2
    qtbot.waitUntil(lambda: connect.test is not None and connect.test.ok, timeout=SLOW)


def test_a_certificate_microsoft_does_not_accept_is_replaced_through_an_administrator(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    from clearooms_wizard.core.certificates import create_certificate

    served = serve_demo("certificate")
    # Made on this computer but never uploaded (or no longer on the app): AADSTS700027.
    stray = create_certificate(data.APP_ID, months=1)
    runtime = build_runtime(
        ConnectionOptions(
            tenant=data.INITIAL_DOMAIN,
            client_id=data.APP_ID,
            authority_host=served.base_url,
            graph_url=served.base_url,
            ca_bundle=served.ca_bundle,
        )
    )
    runtime.use_cases.keep_certificate(
        data.INITIAL_DOMAIN, data.APP_ID, runtime.connection.cloud, stray
    )
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = _open_connect(
            qtbot, make_wizard, served, tenant=data.INITIAL_DOMAIN, client_secret=""
        )
        connect = wizard.connect_page
        assert _status(wizard, "token") is Status.FAIL
        assert connect.renew_button.isVisible()
        qtbot.mouseClick(connect.renew_button, LEFT)
        dialog = connect.renew_dialog
        assert dialog is not None
        with qtbot.waitSignal(wizard.state.secret_renewed, timeout=SLOW):
            qtbot.mouseClick(dialog.start_button, LEFT)
    qtbot.waitUntil(
        lambda: "Done: the new certificate works" in dialog.message.text(), timeout=SLOW
    )
    # The one on the app is not the one this computer had: it is left alone, and said so.
    assert "could not be told apart" in dialog.message.text()
    assert DEMO_CERTIFICATE_KEY_ID in _certificate_keys(served)
    qtbot.waitUntil(lambda: connect.test is not None and connect.test.ok, timeout=SLOW)
    assert connect.renew_button.isHidden()
