"""Page 2: register the app in Microsoft Entra ID: “Set it up for me” with an administrator's
sign-in (pages/setup_for_me.py), or the checklist for doing it by hand, which keeps its ticks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.registration import CHECKLIST, it_admin_instructions, mailto_url
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.copy_button import CopyButton
from clearooms_wizard.ui.pages.base import TaskPage, error_text
from clearooms_wizard.ui.pages.setup_for_me import SetupForMe, heading
from clearooms_wizard.ui.state import WizardState
from clearooms_wizard.ui.widgets import Tone, plain_label
from clearooms_wizard.workers.runner import Progress, TaskRunner


class InstructionsDialog(QDialog):
    """The pack for an IT admin: copy it, save it, or start an e-mail with it."""

    save_requested = Signal(str, str)

    def __init__(self, text: str, open_url: Callable[[str], bool], parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Instructions for your IT admin"))
        self.text = text
        self._open_url = open_url
        intro = plain_label(
            self.tr(
                "Send this to the person who manages Microsoft 365 at your company. It says "
                "exactly what to create and asks for the three values back, with the secret "
                "shared safely rather than by e-mail."
            )
        )
        self.editor = QPlainTextEdit(text)
        self.editor.setReadOnly(True)
        self.editor.setAccessibleName(self.tr("Instructions text"))
        self.editor.setMinimumSize(560, 320)
        self.copy_button = QPushButton(self.tr("&Copy"))
        self.save_button = QPushButton(self.tr("&Save as file…"))
        self.mail_button = QPushButton(self.tr("Open in &e-mail"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.copy_button, self.save_button, self.mail_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._copy)
        self.save_button.clicked.connect(self._save)
        self.mail_button.clicked.connect(self._mail)
        buttons.rejected.connect(self.reject)
        self.status = plain_label("")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    @Slot()
    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
        self.status.setText(self.tr("Copied. Paste it into an e-mail or a chat message."))

    @Slot()
    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the instructions"),
            "Clearooms - instructions for IT.txt",
            self.tr("Text files (*.txt)"),
        )
        if path:
            self.save_requested.emit(path, self.text)

    @Slot(object)
    def show_error(self, error: object) -> None:
        self.status.setText(error_text(error))

    @Slot(object)
    def show_saved(self, path: object) -> None:
        self.status.setText(self.tr("Saved to %1.").replace("%1", str(path)))

    @Slot()
    def _mail(self) -> None:
        url = mailto_url("Please register the Clearooms app in Microsoft Entra ID", self.text)
        if not self._open_url(url):
            self.status.setText(
                self.tr("No e-mail program opened. Use Copy and paste the text into an e-mail.")
            )


class RegisterPage(TaskPage):
    """The two ways to register the app: “Set it up for me” above, the checklist below (the
    flow takes the page's place once chosen). A TaskPage because both run work: the
    administrator's sign-in and the app's creation, and saving the instructions for IT (off
    the GUI thread: the folder may be on a slow network share)."""

    def __init__(self, context: WizardContext, state: WizardState, runner: TaskRunner) -> None:
        super().__init__(runner)
        self._context = context
        self._state = state
        self.setTitle(self.tr("Step 1: Register Clearooms in Microsoft Entra ID"))
        self.setSubTitle(
            self.tr(
                "Let the wizard do it with an administrator's sign-in, or follow the steps "
                "yourself. Not an administrator? Ask your IT admin to do it."
            )
        )
        # “Set it up for me”, in short: the way most people should take, first.
        self.setup_button = QPushButton(self.tr("&Set it up for me…"))
        self.setup_button.setToolTip(
            self.tr("Sign in as an administrator and let the wizard create the app")
        )
        self.setup_button.clicked.connect(self.choose_setup_for_me)
        card = QFrame()
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card_layout = QGridLayout(card)
        card_layout.setColumnStretch(0, 1)
        card_layout.addWidget(heading(self.tr("Set it up for me")), 0, 0)
        card_layout.addWidget(
            plain_label(
                self.tr(
                    "An administrator signs in once; the wizard creates the app, its secret and "
                    "its permissions, and fills in the next page. You see what it will create "
                    "before it does."
                )
            ),
            1,
            0,
        )
        card_layout.addWidget(self.setup_button, 0, 1, 2, 1, Qt.AlignmentFlag.AlignVCenter)

        self.checkboxes: dict[str, QCheckBox] = {}
        self.copy_buttons: dict[str, CopyButton] = {}
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.addWidget(card)
        content_layout.addSpacing(4)
        content_layout.addWidget(
            heading(self.tr("Or do it yourself in the Microsoft Entra admin center"))
        )
        content_layout.addWidget(
            plain_label(
                self.tr("Tick each step as you go; your ticks are kept if you close the wizard.")
            )
        )
        for group in CHECKLIST:
            box = QGroupBox(self.tr(group.title))
            grid = QGridLayout(box)
            grid.setColumnStretch(1, 1)
            for row, step in enumerate(group.steps):
                checkbox = QCheckBox()
                checkbox.setAccessibleName(self.tr(step.text))
                checkbox.toggled.connect(self._remember_ticks)
                label = plain_label(self.tr(step.text))
                grid.addWidget(checkbox, row, 0)
                grid.addWidget(label, row, 1)
                self.checkboxes[step.key] = checkbox
                if step.copy_value:
                    button = CopyButton(step.copy_value)
                    self.copy_buttons[step.copy_value] = button
                    grid.addWidget(button, row, 2)
                if step.opens_portal:
                    portal = QPushButton(self.tr("Open App registrations"))
                    portal.setAccessibleName(self.tr("Open App registrations in your browser"))
                    portal.clicked.connect(self._open_portal)
                    self.portal_button = portal
                    grid.addWidget(portal, row, 2)
            if group.note:
                grid.addWidget(plain_label(self.tr(group.note)), len(group.steps), 1, 1, 2)
            content_layout.addWidget(box)
        content_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # Tab goes to the boxes and buttons inside (the area follows them), not to the area.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.choices = scroll

        self.setup = SetupForMe(self, context, state)
        self.setup.back_requested.connect(self.show_choices)
        self.setup.completed.connect(self._registered)
        self.views = QStackedWidget()
        self.views.addWidget(self.choices)
        self.views.addWidget(self.setup)

        self.ask_admin_button = QPushButton(self.tr("Ask my &IT admin to do this…"))
        self.ask_admin_button.clicked.connect(self._ask_admin)
        self.have_details_button = QPushButton(self.tr("I already have these &details"))
        self.have_details_button.clicked.connect(self._skip_ahead)
        actions = QHBoxLayout()
        actions.addWidget(self.ask_admin_button)
        actions.addStretch(1)
        actions.addWidget(self.have_details_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.banner)
        layout.addLayout(actions)

        ticks = context.preferences_state.checklist
        for key, checkbox in self.checkboxes.items():
            checkbox.setChecked(ticks.get(key, False))
        self.instructions_dialog: InstructionsDialog | None = None
        self._fit_checkboxes_to_palette()

    # -- the two paths ----------------------------------------------------------------------

    @Slot()
    def choose_setup_for_me(self) -> None:
        self.hide_message()
        self.views.setCurrentWidget(self.setup)
        self.setup.enter()

    @Slot()
    def show_choices(self) -> None:
        self.hide_message()
        self.views.setCurrentWidget(self.choices)
        self.setup_button.setFocus()

    @Slot()
    def _registered(self) -> None:
        self.wizard().next()

    def task_started(self) -> None:
        self.have_details_button.setEnabled(False)
        self.completeChanged.emit()

    def task_finished(self) -> None:
        self.have_details_button.setEnabled(True)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        # Not while the sign-in or the creation runs: its answer belongs on this page.
        return not self.busy

    def cleanupPage(self) -> None:  # Back: stop a sign-in or a creation rather than leave it
        self.cancel_task()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._fit_checkboxes_to_palette()

    def _fit_checkboxes_to_palette(self) -> None:
        """Keep the tick boxes visible in a dark colour scheme. Fusion (Qt's style for dark
        modes) fills a box with the Base colour and outlines it darker than the window, so
        on a dark window the outline vanishes and the box with it: a lighter fill brings it
        back. The boxes are set from the page's palette each time, so a change of scheme
        while the wizard is open is followed."""
        palette = QPalette(self.palette())
        window = palette.color(QPalette.ColorRole.Window)
        if window.lightness() < 128:
            palette.setColor(QPalette.ColorRole.Base, window.lighter(180))
        for checkbox in self.checkboxes.values():
            checkbox.setPalette(palette)

    @Slot()
    def _remember_ticks(self) -> None:
        self._context.preferences_state.checklist = {
            key: box.isChecked() for key, box in self.checkboxes.items()
        }

    @Slot()
    def _open_portal(self) -> None:
        url = self._state.cloud.app_registrations_url
        if self._context.open_url(url):
            self.hide_message()
        else:
            self.show_message(
                Tone.INFO,
                self.tr("No web browser opened. Copy this address into your browser: %1").replace(
                    "%1", url
                ),
            )

    @Slot()
    def _ask_admin(self) -> None:
        dialog = InstructionsDialog(
            it_admin_instructions(self._state.cloud), self._context.open_url, self
        )
        dialog.save_requested.connect(self._save_instructions)
        self.instructions_dialog = dialog
        dialog.open()

    @Slot(str, str)
    def _save_instructions(self, path: str, text: str) -> None:
        def work(cancel: CancelToken, progress: Progress) -> str:
            try:
                Path(path).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise ClearoomsError(
                    f"Could not save to {path} ({exc.strerror}). Choose another folder."
                ) from None
            return path

        dialog = self.instructions_dialog
        # The dialog is in front: a failure is told there.
        self.run_side_job(
            "save-file",
            work,
            succeeded=dialog.show_saved if dialog is not None else None,
            failed=dialog.show_error if dialog is not None else None,
        )

    @Slot()
    def _skip_ahead(self) -> None:
        self.wizard().next()
