"""The About box: the version, where the workspace and the log are, and what support may ask."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QMessageBox, QWidget

from clearooms_wizard import __version__
from clearooms_wizard.ui.widgets import PLAIN_TEXT, SELECTABLE_BY_MOUSE


class AboutBox(QMessageBox):
    def __init__(self, environment: Mapping[str, str], parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Information)
        self.setWindowTitle(self.tr("About"))
        lines = [self.tr("Clearooms setup wizard, version %1").replace("%1", __version__)]
        lines += [f"{name}: {value}" for name, value in environment.items()]
        lines.append(
            self.tr(
                "Send the log file to Clearooms support if they ask for it: it never holds "
                "your client secret."
            )
        )
        # Set by number, as ui/widgets.py does: paths are shown as typed, and can be selected.
        self.setProperty("textFormat", PLAIN_TEXT)
        self.setProperty("textInteractionFlags", SELECTABLE_BY_MOUSE)
        self.setText("\n\n".join(lines))
        self.setStandardButtons(QMessageBox.StandardButton.Close)
