"""The script that limits Clearooms to the room mailboxes, shown for copying or saving."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clearooms_wizard.core.scope_script import SCRIPT_NAME, ScopeScript
from clearooms_wizard.ui.pages.base import error_text
from clearooms_wizard.ui.widgets import plain_label


class ScopeScriptDialog(QDialog):
    """The PowerShell script, as plain text: Copy puts it on the clipboard, Save… asks the
    page to write it (off the GUI thread) and shows how that went."""

    save_requested = Signal(str, str)

    def __init__(
        self, script: ScopeScript, parent: QWidget | None, *, rooms_only: bool = False
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Limit Clearooms to room mailboxes"))
        self.text = script.text
        # Set up for rooms only: no Microsoft Entra grant to remove, the script is the last step.
        intro = plain_label(
            self.tr(
                "Clearooms is set up for meeting rooms only. One step is left: send this script "
                "to your Exchange administrator. Once they run it in PowerShell, Clearooms can "
                "reach the rooms' calendars, and no one else's (Exchange takes 30 minutes to 2 "
                "hours to apply it)."
            )
            if rooms_only
            else self.tr(
                "This script lets Clearooms reach the calendars of meeting rooms only, not "
                "people's own calendars. Send it to your Exchange administrator: they run it in "
                "PowerShell, and it has no effect until they also remove the Calendars.ReadWrite "
                "admin consent in Microsoft Entra ID, as its first lines explain."
            )
        )
        self.missing = plain_label(
            " ".join(
                [self.tr("Some values are left for the administrator to fill in:"), *script.missing]
            )
        )
        self.missing.setVisible(bool(script.missing))
        self.editor = QPlainTextEdit(script.text)
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setAccessibleName(self.tr("PowerShell script"))
        self.editor.setMinimumSize(460, 200)
        self.copy_button = QPushButton(self.tr("&Copy"))
        self.save_button = QPushButton(self.tr("&Save…"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.copy_button, self.save_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._copy)
        self.save_button.clicked.connect(self._save)
        buttons.rejected.connect(self.reject)
        self.status = plain_label("")
        # Who can remove Microsoft Entra's grant, when the wizard cannot do it itself.
        self.grant_note = plain_label("")
        self.grant_note.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.grant_note)
        layout.addWidget(self.missing)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        # Wide enough for most of the script's lines, and within the wizard's smallest size.
        self.resize(760, 520)

    def set_grant_note(self, text: str) -> None:
        self.grant_note.setText(text)
        self.grant_note.show()

    @Slot()
    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
        self.status.setText(
            self.tr("Copied. Paste it into an e-mail to your Exchange administrator.")
        )

    @Slot()
    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the script"),
            SCRIPT_NAME,
            self.tr("PowerShell scripts (*.ps1)"),
        )
        if path:
            self.save_requested.emit(path, self.text)

    @Slot(object)
    def show_error(self, error: object) -> None:
        self.status.setText(error_text(error))

    @Slot(object)
    def show_saved(self, path: object) -> None:
        self.status.setText(self.tr("Saved to %1.").replace("%1", str(path)))
