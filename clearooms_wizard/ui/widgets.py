"""Small widgets shared by the pages. Text from Microsoft is always shown as plain text.

The first page is built from these, so this module stays clear of PySide's ``Qt`` namespace: the
first use of any of its enums builds all of them as Python enums at once (about 16 ms, a tenth of
a cold start). The few values needed here are given as numbers instead, each named after its enum
(tests/ui/test_widgets.py checks them against the enums), and the badges are drawn by a style
sheet: QPen and QBrush, whose overloads take Qt's colour and style enums, would build it too.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QSize
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


class ToneBadge(QLabel):
    """A round badge with a white glyph (✓, !, ✕…). Qt's style sheet draws it, so it is crisp at
    any scale factor, and no painting code (whose colours would build the Qt namespace) runs
    before the first page."""

    def __init__(self, tone: Tone = Tone.WAIT, size: int = 20) -> None:
        super().__init__()
        self._size = size
        self.setFixedSize(QSize(size, size))
        self.setProperty("alignment", ALIGN_CENTER)
        self.set_tone(tone)

    def set_tone(self, tone: Tone) -> None:
        self.tone = tone
        self.setText(_TONE_GLYPHS[tone])
        self.setStyleSheet(
            f"ToneBadge {{ background: {_TONE_COLOURS[tone]}; color: white; "
            f"border-radius: {self._size // 2}px; font-weight: bold; "
            f"font-size: {round(self._size * 0.6)}px; padding: 0; }}"
        )
        self.setAccessibleName(tone.value)


def plain_label(text: str = "", *, wrap: bool = True, selectable: bool = False) -> QLabel:
    label = QLabel()
    label.setProperty("textFormat", PLAIN_TEXT)
    label.setText(text)
    label.setWordWrap(wrap)
    if selectable:
        label.setProperty("textInteractionFlags", SELECTABLE_BY_MOUSE)
    return label


class Banner(QFrame):
    """A coloured strip with an icon and one plain-text message; showing a message shows it."""

    def __init__(self, tone: Tone = Tone.INFO, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._icon = ToneBadge(tone)
        self.label = plain_label(text)
        self._selectable = False
        # The icon sits at the top of a column, level with the first line of a long message.
        icon_column = QVBoxLayout()
        icon_column.addWidget(self._icon)
        icon_column.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(icon_column)
        layout.addWidget(self.label, 1)
        # Not shown from here: a banner without a parent yet would open as a window of its own.
        self._set_message(tone, text)

    def show_message(self, tone: Tone, text: str) -> None:
        if not self._selectable:
            # Selectable, so that an address or an error code in a message can be copied. Not
            # from the start: this property builds the Qt namespace (see above), and the first
            # page's demo banner is built before the first paint.
            self.label.setProperty("textInteractionFlags", SELECTABLE_BY_MOUSE)
            self._selectable = True
        self._set_message(tone, text)
        self.show()

    def _set_message(self, tone: Tone, text: str) -> None:
        colour = _TONE_COLOURS[tone]
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        self.setStyleSheet(
            f"Banner {{ border: 1px solid {colour}; border-radius: 4px; "
            f"background: rgba({red}, {green}, {blue}, 28); }}"
        )
        self._icon.set_tone(tone)
        self.label.setText(text)
        self.setAccessibleName(text)
