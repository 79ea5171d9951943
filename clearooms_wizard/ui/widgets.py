"""Small widgets shared by the pages. Text from Microsoft is always shown as plain text.

The first page is built from these, so this module stays clear of PySide's ``Qt`` namespace: the
first use of any of its enums builds all of them as Python enums at once (about 16 ms, a tenth of
a cold start). The few values needed here are given as numbers instead, each named after its enum;
tests/ui/test_widgets.py checks them against the enums.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

# Qt::TextFormat::PlainText, Qt::TextInteractionFlag::TextSelectableByMouse and
# Qt::AlignmentFlag::AlignCenter. Enum properties are set through Qt's property system, which
# takes their numbers.
PLAIN_TEXT = 0
SELECTABLE_BY_MOUSE = 1
ALIGN_CENTER = 0x84


class Tone(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    INFO = "info"
    WAIT = "wait"


# Colours chosen to stay readable on both light and dark palettes (mid-tones, white glyphs).
_TONE_COLOURS = {
    Tone.PASS: "#1e8e3e",
    Tone.WARN: "#b06000",
    Tone.FAIL: "#c5221f",
    Tone.SKIP: "#80868b",
    Tone.INFO: "#1a73e8",
    Tone.WAIT: "#80868b",
}
_TONE_GLYPHS = {
    Tone.PASS: "✓",
    Tone.WARN: "!",
    Tone.FAIL: "✕",
    Tone.SKIP: "\u2013",  # en dash
    Tone.INFO: "i",
    Tone.WAIT: "…",
}


def tone_icon(tone: Tone, size: int = 20) -> QIcon:
    """A round badge; drawn rather than loaded so it is crisp at any scale factor."""
    icon = QIcon()
    for scale in (1, 2):
        pixmap = QPixmap(size * scale, size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(0, 0, 0, 0), 0))
        painter.setBrush(QColor(_TONE_COLOURS[tone]))
        painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
        painter.setPen(QPen(QColor("white")))
        font = QFont()
        font.setBold(True)
        font.setPixelSize(int(size * 0.62))
        painter.setFont(font)
        painter.drawText(QRectF(0, 0, size, size), ALIGN_CENTER, _TONE_GLYPHS[tone])
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def plain_label(text: str = "", *, wrap: bool = True, selectable: bool = False) -> QLabel:
    label = QLabel()
    label.setProperty("textFormat", PLAIN_TEXT)
    label.setText(text)
    label.setWordWrap(wrap)
    if selectable:
        label.setProperty("textInteractionFlags", SELECTABLE_BY_MOUSE)
    return label


class Banner(QFrame):
    """A coloured strip with an icon and one plain-text message."""

    def __init__(self, tone: Tone = Tone.INFO, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._icon = QLabel()
        self._icon.setFixedSize(QSize(22, 22))
        self.label = plain_label(text)
        # The icon sits at the top of a column, level with the first line of a long message.
        icon_column = QVBoxLayout()
        icon_column.addWidget(self._icon)
        icon_column.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(icon_column)
        layout.addWidget(self.label, 1)
        self.show_message(tone, text)

    def show_message(self, tone: Tone, text: str) -> None:
        colour = QColor(_TONE_COLOURS[tone])
        self.setStyleSheet(
            f"Banner {{ border: 1px solid {colour.name()}; border-radius: 4px; "
            f"background: rgba({colour.red()}, {colour.green()}, {colour.blue()}, 28); }}"
        )
        self._icon.setPixmap(tone_icon(tone).pixmap(QSize(20, 20)))
        self.label.setText(text)
        self.setAccessibleName(text)
