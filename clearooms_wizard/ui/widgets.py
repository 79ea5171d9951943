"""Small widgets shared by the pages. Text from Microsoft is always shown as plain text."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QRectF, QSize, Qt, Slot
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clearooms_wizard.core.checks import CheckResult, Status


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
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(_TONE_COLOURS[tone]))
        painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
        painter.setPen(QPen(QColor("white")))
        font = QFont()
        font.setBold(True)
        font.setPixelSize(int(size * 0.62))
        painter.setFont(font)
        painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, _TONE_GLYPHS[tone])
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def plain_label(text: str = "", *, wrap: bool = True, selectable: bool = False) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class Banner(QFrame):
    """A coloured strip with an icon and one plain-text message."""

    def __init__(self, tone: Tone = Tone.INFO, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._icon = QLabel()
        self._icon.setFixedSize(QSize(22, 22))
        self.label = plain_label(text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
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


STATUS_WORDS = {
    Status.PASS: "Passed",
    Status.WARN: "Warning",
    Status.FAIL: "Failed",
    Status.SKIP: "Skipped",
}


class CheckRow(QWidget):
    """One Test Settings check: icon, title, one-line result, fix, and folded technical details."""

    def __init__(self, check_id: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check_id = check_id
        self.title = title
        self.result: CheckResult | None = None
        self._icon = QLabel()
        self._icon.setFixedSize(QSize(22, 22))
        self._title = plain_label(title)
        bold = self._title.font()
        bold.setBold(True)
        self._title.setFont(bold)
        self.detail = plain_label("", selectable=True)
        self.fix = plain_label("", selectable=True)
        self._details_button = QToolButton()
        self._details_button.setText(self.tr("Technical details"))
        self._details_button.setCheckable(True)
        self._details_button.setArrowType(Qt.ArrowType.RightArrow)
        self._details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._details_button.setAutoRaise(True)
        self._details_button.setAccessibleName(
            self.tr("Technical details for: %1").replace("%1", title)
        )
        self._details_button.toggled.connect(self._toggle_details)
        self.technical = plain_label("", selectable=True)
        small = self.technical.font()
        small.setPointSizeF(max(small.pointSizeF() * 0.9, 7.0))
        self.technical.setFont(small)

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self._title)
        text.addWidget(self.detail)
        text.addWidget(self.fix)
        text.addWidget(self._details_button, 0, Qt.AlignmentFlag.AlignLeft)
        text.addWidget(self.technical)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.reset()

    def reset(self) -> None:
        self.result = None
        self._set_icon(Tone.WAIT)
        self.detail.setText(self.tr("Not tested yet."))
        self.fix.hide()
        self._details_button.hide()
        self._details_button.setChecked(False)
        self.technical.hide()
        self.setAccessibleName(f"{self.title}: {self.tr('not tested yet')}")

    def waiting(self) -> None:
        self._set_icon(Tone.WAIT)
        self.detail.setText(self.tr("Testing…"))

    def show_result(self, result: CheckResult) -> None:
        self.result = result
        self._set_icon(Tone(result.status.value))
        word = self.tr(STATUS_WORDS[result.status])
        self.detail.setText(result.detail)
        if result.fix:
            self.fix.setText(self.tr("What to do: ") + result.fix)
            self.fix.show()
        else:
            self.fix.hide()
        technical = []
        if result.code:
            technical.append(f"code: {result.code}")
        technical += [f"{key}: {value}" for key, value in sorted(result.details.items())]
        technical.append(f"time: {result.timestamp}")
        self.technical.setText("\n".join(technical))
        self._details_button.setVisible(result.status in (Status.FAIL, Status.WARN))
        self.setAccessibleName(f"{self.title}: {word}. {result.detail}")

    def _set_icon(self, tone: Tone) -> None:
        self._icon.setPixmap(tone_icon(tone).pixmap(QSize(20, 20)))
        self._icon.setAccessibleName(tone.value)

    @Slot(bool)
    def _toggle_details(self, shown: bool) -> None:
        self.technical.setVisible(shown)
        self._details_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
