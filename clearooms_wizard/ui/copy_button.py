"""A button that copies one value to the clipboard and says so for a moment."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QToolButton, QWidget

# How long "Copied" stays on the button.
COPIED_MS = 1500


class CopyButton(QToolButton):
    """Copies ``value``. ``what`` names it for a screen reader and the tooltip (the value
    itself when not given: fine for a short name, not for a long address)."""

    def __init__(self, value: str = "", parent: QWidget | None = None, *, what: str = "") -> None:
        super().__init__(parent)
        self._what = what
        self.value = ""
        self.setText(self.tr("Copy"))
        self.set_value(value)
        self.clicked.connect(self._copy)

    def set_value(self, value: str) -> None:
        self.value = value
        what = self._what or value
        self.setAccessibleName(self.tr("Copy %1").replace("%1", what))
        self.setToolTip(self.tr("Copy “%1” to the clipboard").replace("%1", what))

    @Slot()
    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.value)
        self.setText(self.tr("Copied"))
        QTimer.singleShot(COPIED_MS, self._restore)

    @Slot()
    def _restore(self) -> None:
        self.setText(self.tr("Copy"))
