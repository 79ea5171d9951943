"""English plural forms for Qt's ``tr(text, disambiguation, n)``.

Pages write counted text the Qt way, ``self.tr("%n room(s) added", "", count)``: Qt puts the
number in for ``%n`` and asks the installed translators for the form that fits it. A language's
translation file carries its forms; the source language, English, needs them too, or the user
would read "3 room(s)". This translator is that English translation: "(s)" is dropped for one and
becomes "s" for any other number. A real translation installed later is asked first.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTranslator

MARK = "(s)"


class EnglishPlurals(QTranslator):
    def translate(
        self, context: str, source: str, _disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        if n < 0 or MARK not in source:
            return None  # not a counted text: Qt falls back to the source text
        return source.replace(MARK, "" if n == 1 else "s")

    def isEmpty(self) -> bool:
        return False


def install_english_plurals(app: QCoreApplication) -> None:
    """Install the English plural forms into ``app``, once."""
    if app.findChild(EnglishPlurals) is None:
        app.installTranslator(EnglishPlurals(app))
