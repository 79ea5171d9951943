"""A certificate that expires soon: the Connect page offers no “Renew the secret…” (a certificate
is replaced with Create a certificate…), and the calendar reminder speaks of the certificate."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests.ui.conftest import MakeWizard
from tests.ui.test_connect_page import go_to_connect, run_test


def test_an_expiring_certificate_gets_a_certificate_reminder_and_no_secret_renewal(
    qtbot: QtBot, make_wizard: MakeWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wizard = make_wizard(demo="certificate-expiring")
    go_to_connect(wizard)
    page = wizard.connect_page
    assert page.uses_certificate()
    run_test(qtbot, wizard)
    assert page.reminder_button.isVisible()
    assert page.renew_button.isHidden()

    offered: list[str] = []
    target = tmp_path / "chosen.ics"

    def save_as(*args: object, **kwargs: object) -> tuple[str, str]:
        offered.append(str(args[2]))
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    qtbot.mouseClick(page.reminder_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Saved the reminder" in page.banner.label.text())
    assert offered == ["replace-clearooms-certificate.ics"]
    text = target.read_bytes().decode("utf-8").replace("\r\n ", "")
    assert "SUMMARY:Replace the Clearooms certificate" in text
    assert "with a certificate that expires on" in text
    assert "Create a certificate…" in text and "client secret" not in text
    assert "Renew the secret" not in text
