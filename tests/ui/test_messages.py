"""What the wizard says, and where: questions that state themselves, summaries that stay, plain
words when Microsoft was never reached, an address to copy when no browser opens, a secret that
cannot be one, and permissions explained as they are."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QLabel, QMessageBox, QWizard
from pytestqt.qtbot import QtBot

from clearooms_wizard.app import build_wizard_context
from clearooms_wizard.core.checks import CHECK_IDS, Status
from clearooms_wizard.core.clouds import CLOUDS
from clearooms_wizard.core.preferences import PreferencesFile
from clearooms_wizard.core.registration import it_admin_instructions
from clearooms_wizard.runtime import ConnectionOptions
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.widgets import Banner
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import Served, ServeDemo
from tests.ui.conftest import MakeWizard
from tools.screenshots import dark_palette


def to_connect(wizard: SetupWizard) -> None:
    wizard.next()
    wizard.next()
    assert wizard.currentId() == PageId.CONNECT


def run_test(qtbot: QtBot, wizard: SetupWizard) -> None:
    page = wizard.connect_page
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy and page.test is not None, timeout=30_000)


@pytest.fixture
def wizard_without_a_browser(
    qtbot: QtBot, preferences_path: Path
) -> Iterator[tuple[SetupWizard, list[str]]]:
    """The demo wizard on a computer where no web browser or e-mail program opens."""
    tried: list[str] = []

    def open_url(url: str) -> bool:
        tried.append(url)
        return False

    options = ConnectionOptions(demo=True, demo_scenario="healthy")
    context = build_wizard_context(options, open_url, preferences=PreferencesFile(preferences_path))
    wizard = SetupWizard(context)
    qtbot.addWidget(wizard)
    wizard.show()
    yield wizard, tried
    wizard.shutdown()


def test_the_warning_question_is_asked_in_the_dialog_itself(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def answer(parent: object, title: str, text: str, *args: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    wizard = make_wizard(serve_demo("no-rooms"))
    to_connect(wizard)
    run_test(qtbot, wizard)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert len(asked) == 1
    # macOS shows no title on this dialog: the question must be in its text.
    assert "Continue to the next step anyway?" in asked[0]
    assert wizard.currentId() == PageId.CONNECT  # No means stay


def test_copying_the_report_keeps_the_test_summary(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("wrong-secret"))
    to_connect(wizard)
    run_test(qtbot, wizard)
    page = wizard.connect_page
    qtbot.mouseClick(page.report_button, Qt.MouseButton.LeftButton)
    assert "Test Settings:" in QGuiApplication.clipboard().text()
    assert "1 check failed" in page.banner.label.text()
    assert page.report_note.isVisible() and "Copied" in page.report_note.text()
    run_test(qtbot, wizard)
    assert not page.report_note.isVisible()  # a new test, a new report to copy


def test_when_microsoft_cannot_be_reached_the_checks_say_so(
    qtbot: QtBot, preferences_path: Path
) -> None:
    unreachable = "https://login.unreachable.invalid"
    options = ConnectionOptions(
        tenant="contoso.onmicrosoft.com",
        client_id="1b7e5c4a-3f2d-4e8b-9a6c-0d1e2f3a4b5c",
        client_secret="Nw8~Qe5Rt.Yk2vLp9_Hs3Dj6Fg1Zx4Cb7Nm0Wa3U",
        authority_host=unreachable,
        graph_url="https://graph.unreachable.invalid",
    )
    context = build_wizard_context(
        options, lambda url: True, preferences=PreferencesFile(preferences_path)
    )
    wizard = SetupWizard(context)
    qtbot.addWidget(wizard)
    wizard.show()
    try:
        to_connect(wizard)
        run_test(qtbot, wizard)
        rows = wizard.connect_page.rows
        tenant = rows["tenant"].result
        assert tenant is not None and tenant.status is Status.FAIL
        assert "could not find Microsoft's servers" in tenant.detail
        for check_id in CHECK_IDS[CHECK_IDS.index("tenant") + 1 :]:
            later = rows[check_id].result
            assert later is not None and later.status is Status.SKIP
            assert later.detail == "Skipped because Microsoft could not be reached."
    finally:
        wizard.shutdown()


def test_no_browser_shows_the_address_to_copy(
    qtbot: QtBot, wizard_without_a_browser: tuple[SetupWizard, list[str]]
) -> None:
    wizard, tried = wizard_without_a_browser
    wizard.next()
    page = wizard.register_page
    qtbot.mouseClick(page.portal_button, Qt.MouseButton.LeftButton)
    assert tried == [wizard.state.cloud.app_registrations_url]
    assert page.banner.isVisible()
    assert wizard.state.cloud.app_registrations_url in page.banner.label.text()
    # The address can be selected with the mouse, to copy it.
    assert page.banner.label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse


def test_a_secret_with_an_emoji_is_refused_before_anything_is_sent(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[object] = []
    answer = healthy.tenant.handle

    def counted(*args: Any, **kwargs: Any) -> Any:
        requests.append(args)
        return answer(*args, **kwargs)

    monkeypatch.setattr(healthy.tenant, "handle", counted)
    secret = "Nw8~Qe5Rt.Yk2vLp9_Hs3Dj6\U0001f600Fg1Zx4Cb7Nm0Wa3U"
    wizard = make_wizard(healthy, client_secret=secret)
    to_connect(wizard)
    page = wizard.connect_page
    assert page.notes["secret"].isVisible()
    assert "English letters, digits and keyboard symbols" in page.notes["secret"].text()
    run_test(qtbot, wizard)
    result = page.rows["format"].result
    assert result is not None and result.status is Status.FAIL
    assert "emoji" in result.detail and secret not in result.detail
    assert requests == []


def test_the_welcome_page_is_calm(make_wizard: MakeWizard) -> None:
    wizard = make_wizard()  # not the demo: the Welcome page an office manager sees
    page = wizard.welcome_page
    assert [b for b in page.findChildren(Banner) if b.isVisibleTo(page)] == []
    assert "Exchange Online" in " ".join(label.text() for label in page.findChildren(QLabel))


def test_the_permissions_are_explained_as_they_are(qtbot: QtBot, make_wizard: MakeWizard) -> None:
    text = it_admin_instructions(CLOUDS["global"])
    assert "only reads the room data it needs" not in text
    assert "read and change the calendar of every mailbox" in text
    assert "RBAC for Applications" in text and "New-ApplicationAccessPolicy" in text
    assert "RecipientTypeDetails -eq 'RoomMailbox'" in text
    wizard = make_wizard(demo="healthy")
    wizard.next()
    shown = " ".join(label.text() for label in wizard.register_page.findChildren(QLabel))
    assert "every mailbox's calendar" in shown and "Exchange administrator" in shown


def _lightness(image: QImage, point: QPoint) -> int:
    return QColor(image.pixel(point)).lightness()


def test_the_checklist_boxes_can_be_seen_in_a_dark_scheme(
    qtbot: QtBot, make_wizard: MakeWizard
) -> None:
    wizard = make_wizard(demo="healthy")
    wizard.setPalette(dark_palette())
    wizard.next()
    box = next(iter(wizard.register_page.checkboxes.values()))
    qtbot.waitUntil(box.isVisible)
    image = box.grab().toImage()
    # The middle of the tick box against the page around it.
    inside = _lightness(image, QPoint(box.height() // 2, box.height() // 2))
    page = _lightness(wizard.register_page.grab().toImage(), QPoint(2, 2))
    assert inside - page >= 20
