"""Numbers and tooltips as the pages show them.

Numbers follow the user's locale ("1,200" in English, "1.200" in German), the same on every page.
Tooltips are shown as plain text: Qt would take a room name such as "<b>Board</b>" for rich text.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtGui import Qt


def number(value: int) -> str:
    """``value`` with the locale's digit grouping. The C locale (a computer with no language
    set) would leave the grouping out, so "1200" here and "1,200" in Microsoft's messages;
    its grouping is kept."""
    locale = QLocale()
    locale.setNumberOptions(QLocale.NumberOption.DefaultNumberOptions)
    return locale.toString(value)


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` exactly as written, line breaks kept ("" stays empty)."""
    if not text:
        return ""
    return Qt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal)
