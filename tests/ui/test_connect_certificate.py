"""The Connect page with a certificate instead of a client secret, driven with clicks and keys
against the demo tenant over HTTPS: made on the page, its .cer saved for the administrator,
tested, and saved with its private key in the keyring only."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from cryptography import x509
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QWizard
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.app_setup import StepId, StepState
from clearooms_wizard.core.secrets import SERVICE
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.demo import data
from clearooms_wizard.demo.key_credentials import key_credential_for
from clearooms_wizard.ui.pages.ids import PageId
from tests.conftest import Served, ServeDemo
from tests.support.canary import Leaks
from tests.support.memory_keyring import MemoryKeyring
from tests.support.scripted_browser import ScriptedBrowser, registered
from tests.ui.conftest import MakeWizard
from tests.ui.test_connect_page import HEALTHY, go_to_connect, run_test, statuses
from tests.ui.test_set_it_up_for_me import SLOW, create, sign_in, wait_for_connect_tested


def test_a_certificate_made_on_the_page_is_uploaded_tested_and_saved(
    qtbot: QtBot,
    make_wizard: MakeWizard,
    healthy: Served,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cer = tmp_path / "for-the-admin.cer"
    asked: list[str] = []

    def save_as(*args: object, **kwargs: object) -> tuple[str, str]:
        asked.append(str(args[2]) if len(args) > 2 else "")
        return str(cer), "Certificate (*.cer)"

    # The operating system's file dialog: the one part a test cannot click through.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    wizard = make_wizard(healthy, client_secret="")
    go_to_connect(wizard)
    page = wizard.connect_page
    assert not page.uses_certificate() and page.secret.isVisible()
    page.credential_kind.setFocus()
    qtbot.keyClick(page.credential_kind, Qt.Key.Key_Down)
    assert page.uses_certificate()
    assert not page.secret.isVisible() and page.create_certificate_button.isVisible()
    assert page.certificate_summary.text() == "No certificate yet."
    # Nothing to test yet: the page says what to do instead of failing the format check.
    run_test(qtbot, wizard)
    assert "Create a certificate first" in page.banner.label.text()
    assert all(status is None for status in statuses(wizard).values())

    qtbot.mouseClick(page.create_certificate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cer.exists() and "Saved" in page.banner.label.text(), timeout=30_000)
    assert asked == ["clearooms-booking.cer"]
    made = page.certificate
    assert made is not None
    assert made.sha1_thumbprint.upper()[:8] in page.certificate_summary.text()
    assert made.sha1_thumbprint.upper() in page.certificate_summary.toolTip()
    uploaded = x509.load_der_x509_certificate(cer.read_bytes())
    assert uploaded.subject.rfc4514_string() == f"CN=Clearooms booking {data.APP_ID}"

    # The administrator uploads the .cer under Certificates & secrets.
    healthy.tenant.registry.set_key_credentials(
        data.APP_OBJECT_ID,
        [key_credential_for(cer.read_bytes(), "0f6c2d1e-4b7a-4c3d-9e8f-1a2b3c4d5e6f", None)],
    )
    run_test(qtbot, wizard)
    assert statuses(wizard) == HEALTHY
    format_result = page.rows["format"].result
    assert format_result is not None and "with a certificate" in format_result.detail
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.mouseClick(next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.ROOMS, timeout=10_000)
    assert (SERVICE, f"{data.TENANT_ID}/{data.APP_ID}/certificate") in MemoryKeyring.store
    assert (SERVICE, f"{data.TENANT_ID}/{data.APP_ID}") not in MemoryKeyring.store
    with Workspace(Path(os.environ["CLEAROOMS_WORKSPACE"])) as workspace:
        saved = workspace.load_connection()
    assert saved is not None and saved.credential_kind == "certificate"
    assert saved.certificate_thumbprint == made.sha1_thumbprint

    leaks = Leaks(private_keys=[made.private_key_pem])
    # The .cer and the workspace.
    assert leaks.search_tree(tmp_path, "tmp") >= 2
    assert leaks.found == []


def test_the_demo_certificate_is_used_and_the_secret_can_be_chosen_again(
    qtbot: QtBot, make_wizard: MakeWizard
) -> None:
    wizard = make_wizard(demo="certificate")
    go_to_connect(wizard)
    page = wizard.connect_page
    assert page.uses_certificate() and page.certificate is not None
    run_test(qtbot, wizard)
    assert statuses(wizard) == HEALTHY
    # Back to the secret: the boxes are the secret's again, and the values count as changed.
    page.credential_kind.setFocus()
    qtbot.keyClick(page.credential_kind, Qt.Key.Key_Up)
    assert not page.uses_certificate() and page.secret.isVisible()
    assert "You changed the values" in page.banner.label.text()


def test_set_it_up_for_me_falls_back_to_a_certificate_and_says_so(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    served = serve_demo("secrets-forbidden")
    with registered(ScriptedBrowser(served.ca_bundle)) as browser:
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        assert len(browser.opened) == 1
        create(qtbot, wizard, setup)
        wait_for_connect_tested(qtbot, wizard)
    row = setup.rows[StepId.CREATE_SECRET]
    assert row.state is StepState.DONE
    assert "does not allow client secrets" in row.detail.text()
    done = setup.done_text.text()
    assert "with a certificate instead of a client secret" in done
    assert "does not allow client secrets" in done and "its client secret" not in done
    app = wizard.state.registered
    assert app is not None and app.certificate is not None
    connect = wizard.connect_page
    assert connect.uses_certificate() and connect.certificate is app.certificate
    assert connect.test is not None and connect.test.ok
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.ROOMS, timeout=SLOW)
    assert (SERVICE, f"{data.TENANT_ID}/{app.client_id}/certificate") in MemoryKeyring.store
    leaks = Leaks(private_keys=[app.certificate.private_key_pem])
    leaks.search_text("log", caplog.text)
    assert len(caplog.records) > 20 and leaks.found == []
