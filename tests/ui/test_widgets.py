"""The shared widgets set a few Qt enum values by number (see ui/widgets.py): they must be the
values Qt means."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout
from pytestqt.qtbot import QtBot

from clearooms_wizard.ui import widgets
from clearooms_wizard.ui.widgets import Banner, Tone, ToneBadge, plain_label


def test_the_numbers_are_the_enums_values() -> None:
    assert Qt.TextFormat.PlainText.value == widgets.PLAIN_TEXT
    assert Qt.TextInteractionFlag.TextSelectableByMouse.value == widgets.SELECTABLE_BY_MOUSE
    assert Qt.AlignmentFlag.AlignCenter.value == widgets.ALIGN_CENTER


def test_a_plain_label_shows_markup_as_typed(qtbot: QtBot) -> None:
    label = plain_label("<b>Boardroom</b> <img src=x>", selectable=True)
    qtbot.addWidget(label)
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.textInteractionFlags() == Qt.TextInteractionFlag.TextSelectableByMouse
    assert label.text() == "<b>Boardroom</b> <img src=x>"
    assert plain_label("x").textInteractionFlags() != Qt.TextInteractionFlag.TextSelectableByMouse


def test_a_banner_keeps_its_icon_level_with_the_first_line(qtbot: QtBot) -> None:
    banner = Banner(Tone.WARN, "A long message. " * 40)
    qtbot.addWidget(banner)
    layout = banner.layout()
    assert layout is not None
    banner.resize(400, layout.totalHeightForWidth(400))
    layout.setGeometry(banner.rect())  # what showing it would do, without a window
    icon = banner.findChild(ToneBadge)
    assert isinstance(icon, ToneBadge)
    assert icon.tone is Tone.WARN and icon.text() == "!" and icon.accessibleName() == "warn"
    assert icon.alignment() == Qt.AlignmentFlag.AlignCenter
    # Top of the icon level with the top of the text, however tall the message grows.
    assert abs(icon.geometry().top() - banner.label.geometry().top()) <= 2
    assert banner.label.height() > 3 * icon.height()
    first = layout.itemAt(0)
    assert first is not None
    assert isinstance(first.layout(), QVBoxLayout)
