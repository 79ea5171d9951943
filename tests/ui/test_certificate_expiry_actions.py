"""A certificate that expires soon: the Connect page offers “Renew the certificate…”, never
“Renew the secret…”, and the calendar reminder speaks of the certificate."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests.ui.conftest import MakeWizard
from tests.ui.test_connect_page import go_to_connect, run_test


def test_an_expiring_certificate_gets_a_certificate_reminder_and_renewal(
    qtbot: QtBot, make_wizard: MakeWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wizard = make_wizard(demo="certificate-expiring")
    go_to_connect(wizard)
    page = wizard.connect_page
    assert page.uses_certificate()
    run_test(qtbot, wizard)
    assert page.reminder_button.isVisible()
    assert page.renew_button.isVisible()
    assert page.renew_button.text().replace("&", "") == "Renew the certificate…"

    offered: list[str] = []
    target = tmp_path / "chosen.ics"

    def save_as(*args: object, **kwargs: object) -> tuple[str, str]:
        offered.append(str(args[2]))
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    qtbot.mouseClick(page.reminder_button, Qt.MouseButton.LeftButton)
    verdict = page.banner.label.text()
    qtbot.waitUntil(lambda: "Saved the reminder" in page.reminder_note.text())
    # The test's verdict stays where it was.
    assert page.reminder_note.isVisible() and page.banner.label.text() == verdict
    assert offered == ["renew-clearooms-certificate.ics"]
    text = target.read_bytes().decode("utf-8").replace("\r\n ", "")
    assert "SUMMARY:Renew the Clearooms certificate" in text
    assert "with a certificate that expires on" in text
    assert "Renew the certificate…" in text and "client secret" not in text
    assert "Renew the secret" not in text
