"""“Set it up for me”: one administrator's sign-in creates the app, its secret and permissions.

The Register page shows this in place of its checklist once the user chooses it. One step at a
time: who can do it and what the browser will show; waiting for the sign-in (or a code to type on
another device); the review of what will be created, before anything is; the progress of each
step, with Try again and Undo when one fails, or the link a Global Administrator still has to
open; done. At the end the app goes into the wizard's state, for the Connect page to fill in and
test.

The work (the sign-in, the plan, the creation, undo, the permission checks) runs through the
page's ``run_task`` on a worker, calling the use cases; nothing here talks to the network, and the
modules that do are loaded by those calls, not by this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from enum import IntEnum

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from clearooms_wizard.core.app_setup import (
    APPLICATION_ADMINISTRATOR,
    APPLICATION_DEVELOPER,
    CALENDARS_PERMISSION,
    CLOUD_APPLICATION_ADMINISTRATOR,
    DEFAULT_APP_NAME,
    DEFAULT_SECRET_MONTHS,
    GLOBAL_ADMINISTRATOR,
    SECRET_MONTHS_CHOICES,
    STEP_TITLES,
    CreatedKind,
    CreatedObject,
    RegisteredApp,
    RegistrationJournal,
    RegistrationPlan,
    SetupClient,
    SignedInAdmin,
    SignInMethod,
    StepId,
    StepState,
    StepUpdate,
)
from clearooms_wizard.core.app_setup import DeviceCodePrompt as DeviceCode
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.registration import PERMISSIONS
from clearooms_wizard.core.usecases import SavedAwaiting
from clearooms_wizard.ui.calendar_choice import CalendarChoice
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.copy_button import CopyButton
from clearooms_wizard.ui.pages.base import Receiver, TaskPage, error_text
from clearooms_wizard.ui.state import WizardState
from clearooms_wizard.ui.widgets import Tone, ToneBadge, plain_label
from clearooms_wizard.workers.runner import Progress, TaskHandle, Work

# The roles that may register an app whatever the organisation's settings.
APP_CREATOR_ROLES = frozenset(
    {
        GLOBAL_ADMINISTRATOR,
        APPLICATION_ADMINISTRATOR,
        CLOUD_APPLICATION_ADMINISTRATOR,
        APPLICATION_DEVELOPER,
    }
)
# The progress bar beside Stop, in pixels.
BUSY_WIDTH = 240
# What Entra ID accepts as an app's display name.
APP_NAME_MAX = 120

_STEP_TONES = {
    StepState.RUNNING: Tone.WAIT,
    StepState.DONE: Tone.PASS,
    StepState.SKIPPED: Tone.SKIP,
    StepState.NEEDS_APPROVAL: Tone.WARN,
    StepState.FAILED: Tone.FAIL,
}
_STEP_WORDS = {
    StepState.RUNNING: "working",
    StepState.DONE: "done",
    StepState.SKIPPED: "already there",
    StepState.NEEDS_APPROVAL: "needs a Global Administrator's approval",
    StepState.FAILED: "failed",
}


class View(IntEnum):
    """The flow's steps, in the order of the stack."""

    INTRO = 0
    SIGNING_IN = 1
    REVIEW = 2
    PROGRESS = 3
    DONE = 4


def heading(text: str) -> QLabel:
    label = plain_label(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def scrolled(content: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    # Tab goes to the boxes and buttons inside (the area follows them), not to the area.
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return area


def bullets(*lines: str) -> QWidget:
    """Lines as a list, each wrapped under its own first word rather than under the bullet."""
    box = QWidget()
    grid = QGridLayout(box)
    grid.setContentsMargins(8, 0, 0, 0)
    grid.setColumnStretch(1, 1)
    grid.setVerticalSpacing(2)
    for row, line in enumerate(lines):
        grid.addWidget(plain_label("•"), row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(plain_label(line), row, 1)
    return box


def button_row(*buttons: QPushButton, trailing: tuple[QPushButton, ...] = ()) -> QHBoxLayout:
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    for button in trailing:
        row.addWidget(button)
    return row


def who(admin: SignedInAdmin) -> str:
    if admin.display_name and admin.display_name != admin.username:
        return f"{admin.display_name} ({admin.username})"
    return admin.username


class StepRow(QWidget):
    """One step of the creation: badge, title, and the one-line detail of its latest update."""

    def __init__(self, step: StepId, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = step
        self.title = self.tr(STEP_TITLES[step])
        self.state: StepState | None = None
        self.badge = ToneBadge()
        self.title_label = plain_label(self.title)
        self.detail = plain_label("", selectable=True)
        text = QVBoxLayout()
        text.setSpacing(1)
        text.addWidget(self.title_label)
        text.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 3, 0, 3)
        layout.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.reset()

    def reset(self) -> None:
        self.state = None
        self.badge.set_tone(Tone.WAIT)
        # Greyed out until it starts: the steps ahead read as a list of what is to come.
        self.title_label.setEnabled(False)
        self.detail.clear()
        self.detail.hide()
        self.setAccessibleName(f"{self.title}: {self.tr('not started')}")

    def show_update(self, update: StepUpdate) -> None:
        self.state = update.state
        self.badge.set_tone(_STEP_TONES[update.state])
        self.title_label.setEnabled(True)
        detail = update.detail or (
            self.tr("Working on it…") if update.state is StepState.RUNNING else ""
        )
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        word = self.tr(_STEP_WORDS[update.state])
        self.setAccessibleName(f"{self.title}: {word}. {detail}".rstrip(". ") + ".")

    def stopped(self) -> None:
        """The user pressed Stop while this step was under way."""
        self.badge.set_tone(Tone.SKIP)
        self.detail.setText(self.tr("Stopped."))
        self.detail.show()
        self.setAccessibleName(f"{self.title}: {self.tr('stopped')}.")


class SetupForMe(QWidget):
    """The flow, page by page. Signals: back_requested(): the user wants the two paths again;
    completed(): the app is registered and in the state (``state.registered``): move on."""

    back_requested = Signal()
    completed = Signal()

    def __init__(
        self,
        page: TaskPage,
        context: WizardContext,
        state: WizardState,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._page = page
        self._context = context
        self._state = state
        self._handle: TaskHandle | None = None
        self._plan: RegistrationPlan | None = None
        # Set when a run failed or was stopped: what Undo removes (None: ask the workspace).
        self._journal: RegistrationJournal | None = None
        # Created, but a Global Administrator has still to approve its permissions.
        self._awaiting_approval: RegisteredApp | None = None
        self._complete_when_finished = False
        self._client_told = False
        self.undo_dialog: QMessageBox | None = None

        self.views = QStackedWidget()
        for view in View:
            builder = {
                View.INTRO: self._build_intro,
                View.SIGNING_IN: self._build_signing_in,
                View.REVIEW: self._build_review,
                View.PROGRESS: self._build_progress,
                View.DONE: self._build_done,
            }[view]
            self.views.insertWidget(view, builder())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.views, 1)
        # The page's progress and Stop button, under whichever step is working.
        busy = QHBoxLayout()
        busy.addWidget(page.busy_row)
        busy.addStretch(1)
        layout.addLayout(busy)
        self.show_view(View.INTRO)

    # -- the steps, as built --------------------------------------------------------------

    def _build_intro(self) -> QWidget:
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(heading(self.tr("Set it up for me")))
        column.addWidget(
            plain_label(
                self.tr(
                    "An administrator signs in once, and the wizard creates the app, its client "
                    "secret and its permissions, then fills in the next page for you. You "
                    "see everything it will create before it creates anything."
                )
            )
        )
        column.addSpacing(6)
        column.addWidget(heading(self.tr("Who can do it")))
        column.addWidget(
            bullets(
                self.tr(
                    "A Global Administrator or a Privileged Role Administrator can do the whole "
                    "job."
                ),
                self.tr(
                    "An Application Administrator, or anyone your organisation lets register "
                    "apps, can create the app; a Global Administrator then approves it with one "
                    "link."
                ),
            )
        )
        column.addSpacing(6)
        column.addWidget(heading(self.tr("What happens")))
        # Which app Microsoft's page names is told once the setup client is known (see enter).
        self.shown_as_label = plain_label(
            self.tr("A browser window opens at Microsoft's sign-in page.")
        )
        column.addWidget(self.shown_as_label)
        column.addSpacing(6)

        self.sign_in_button = QPushButton(self.tr("&Sign in"))
        self.sign_in_button.setToolTip(self.tr("Open Microsoft's sign-in page in your browser"))
        self.sign_in_button.clicked.connect(self.sign_in)
        self.code_button = QPushButton(self.tr("Use a &code instead"))
        self.code_button.setToolTip(
            self.tr(
                "Sign in on another device with a code: for remote sessions, or when no "
                "browser opens here"
            )
        )
        self.code_button.clicked.connect(self.sign_in_with_code)
        self.intro_back = QPushButton(self.tr("Back to the choices"))
        self.intro_back.setToolTip(self.tr("Back to the two ways of registering the app"))
        self.intro_back.clicked.connect(self.back_requested)

        column.addLayout(
            button_row(self.sign_in_button, self.code_button, trailing=(self.intro_back,))
        )
        column.addStretch(1)
        return scrolled(content)

    def _build_signing_in(self) -> QWidget:
        self.signing_in_title = heading("")
        self.signing_in_text = plain_label("")
        # A code to type on another device (device code sign-in only).
        self.device_code = QWidget()
        code_layout = QGridLayout(self.device_code)
        code_layout.setContentsMargins(0, 0, 0, 0)
        code_layout.setColumnMinimumWidth(0, 12)
        code_layout.setColumnStretch(4, 1)
        # On one line: a web address broken after "https://" reads as two.
        self.code_address = plain_label("", wrap=False, selectable=True)
        self.copy_address = CopyButton(what=self.tr("the address"))
        self.code = QLabel()
        self.code.setTextFormat(Qt.TextFormat.PlainText)
        self.code.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.code.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        big = self.code.font()
        big.setPointSizeF(big.pointSizeF() * 2.2)
        big.setBold(True)
        big.setLetterSpacing(big.SpacingType.AbsoluteSpacing, 2)
        self.code.setFont(big)
        self.copy_code = CopyButton(what=self.tr("the code"))
        self.code_expiry = plain_label("")
        self.open_address = QPushButton(self.tr("&Open it here"))
        self.open_address.setToolTip(self.tr("Open the address in this computer's browser"))
        self.open_address.clicked.connect(self._open_code_address)
        code_layout.addWidget(plain_label(self.tr("1. Open this address:")), 0, 0, 1, 5)
        code_layout.addWidget(self.code_address, 1, 1)
        code_layout.addWidget(self.copy_address, 1, 2)
        code_layout.addWidget(self.open_address, 1, 3)
        code_layout.addWidget(plain_label(self.tr("2. Enter this code:")), 2, 0, 1, 5)
        code_layout.addWidget(self.code, 3, 1)
        code_layout.addWidget(self.copy_code, 3, 2)
        code_layout.addWidget(self.code_expiry, 4, 1, 1, 4)
        self.device_code.hide()

        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self.signing_in_title)
        column.addWidget(self.signing_in_text)
        column.addSpacing(8)
        column.addWidget(self.device_code)
        column.addStretch(1)
        return scrolled(content)

    def _build_review(self) -> QWidget:
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(heading(self.tr("Check what will be created")))
        column.addWidget(plain_label(self.tr("Nothing has been created yet.")))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.organisation = plain_label("", selectable=True)
        self.account = plain_label("", selectable=True)
        self.roles = plain_label("")
        self.app_name = QLineEdit(DEFAULT_APP_NAME)
        self.app_name.setAccessibleName(self.tr("App name"))
        self.app_name.setMaxLength(APP_NAME_MAX)
        self.app_name.textChanged.connect(self._app_name_changed)
        # Enter creates it (see eventFilter).
        self.app_name.installEventFilter(self)
        self.secret_months = QComboBox()
        self.secret_months.setAccessibleName(self.tr("How long the client secret lasts"))
        for months in SECRET_MONTHS_CHOICES:
            self.secret_months.addItem(self.tr("%n month(s)", "", months), months)
        self.secret_months.setCurrentIndex(SECRET_MONTHS_CHOICES.index(DEFAULT_SECRET_MONTHS))
        months_row = QHBoxLayout()
        months_row.addWidget(self.secret_months)
        months_row.addWidget(
            plain_label(self.tr("The wizard warns you before it runs out.")),
            1,
        )
        permissions = QWidget()
        grid = QGridLayout(permissions)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(4)
        for row, permission in enumerate(PERMISSIONS):
            name = heading(permission.name)
            name.setAlignment(Qt.AlignmentFlag.AlignTop)
            grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
            allows = plain_label(self.tr("It %1.").replace("%1", permission.allows))
            grid.addWidget(allows, row, 1)
            if permission.name == CALENDARS_PERMISSION:
                # What it says follows the Calendars choice below: rooms only leaves it out.
                self.calendars_permission_note = allows
                self._calendars_allows = allows.text()
        form.addRow(self.tr("Organisation:"), self.organisation)
        form.addRow(self.tr("Signed in as:"), self.account)
        form.addRow(self.tr("Roles:"), self.roles)
        form.addRow(self.tr("App na&me:"), self.app_name)
        form.addRow(self.tr("Permissions:"), permissions)
        # Which calendars: rooms only leaves Calendars.ReadWrite out of Microsoft Entra.
        self.calendar_choice = CalendarChoice()
        form.addRow(self.tr("Calendars:"), self.calendar_choice)
        self.calendar_choice.rooms_only_button.toggled.connect(self._describe_calendars_permission)
        self._describe_calendars_permission(self.calendar_choice.rooms_only)
        months_label = QLabel(self.tr("Client secret &lasts:"))
        months_label.setBuddy(self.secret_months)
        form.addRow(months_label, months_row)
        column.addLayout(form)
        self.existing_note = plain_label("")
        self.approval_note = plain_label("")
        self.app_name_problem = plain_label("")
        self.app_name_problem.setStyleSheet("color: #c5221f;")
        for note in (self.app_name_problem, self.existing_note, self.approval_note):
            note.hide()
            column.addWidget(note)
        column.addSpacing(6)

        self.create_button = QPushButton(self.tr("C&reate it"))
        self.create_button.clicked.connect(self.create_app)
        self.review_back = QPushButton(self.tr("Start over"))
        self.review_back.setToolTip(self.tr("Back to the start, to sign in again"))
        self.review_back.clicked.connect(self._back_to_intro)
        column.addLayout(button_row(self.create_button, trailing=(self.review_back,)))
        column.addStretch(1)
        return scrolled(content)

    def _describe_calendars_permission(self, rooms_only: bool) -> None:
        self.calendars_permission_note.setText(
            self.tr(
                "Not granted here with Rooms only: your Exchange administrator gives it for the "
                "room mailboxes alone."
            )
            if rooms_only
            else self._calendars_allows
        )

    def _build_progress(self) -> QWidget:
        content = QWidget()
        column = QVBoxLayout(content)
        self.progress_title = heading(self.tr("Setting it up"))
        column.addWidget(self.progress_title)
        self.rows = {step: StepRow(step) for step in StepId}
        for row in self.rows.values():
            column.addWidget(row)
        self.progress_note = plain_label("")
        self.progress_note.hide()
        column.addWidget(self.progress_note)

        # When a step failed or the user stopped: what exists now, and the two ways on.
        self.failure = QFrame()
        self.failure.setFrameShape(QFrame.Shape.StyledPanel)
        failure_layout = QVBoxLayout(self.failure)
        self.failure_text = plain_label("", selectable=True)
        self.created_text = plain_label("", selectable=True)
        self.retry_button = QPushButton(self.tr("&Try again"))
        self.retry_button.setToolTip(self.tr("Carry on from where it stopped"))
        self.retry_button.clicked.connect(self.retry)
        self.undo_button = QPushButton(self.tr("&Undo…"))
        self.undo_button.setToolTip(self.tr("Remove what this setup created"))
        self.undo_button.clicked.connect(self.ask_undo)
        failure_layout.addWidget(self.failure_text)
        failure_layout.addWidget(self.created_text)
        self.other_admin_button = QPushButton(self.tr("Sign in as someone &else"))
        self.other_admin_button.setToolTip(self.tr("Back to the start, to sign in again"))
        self.other_admin_button.clicked.connect(self._back_to_intro)
        failure_layout.addLayout(
            button_row(self.retry_button, self.undo_button, self.other_admin_button)
        )
        self.failure.hide()
        column.addWidget(self.failure)

        # When a Global Administrator still has to approve the permissions.
        self.approval = QFrame()
        self.approval.setFrameShape(QFrame.Shape.StyledPanel)
        approval_layout = QVBoxLayout(self.approval)
        approval_layout.addWidget(heading(self.tr("A Global Administrator needs to approve")))
        approval_layout.addWidget(
            plain_label(
                self.tr(
                    "The app is created, but your account can't grant its permissions. "
                    "Send this link to a Global Administrator, or open it yourself and sign in "
                    "as one:"
                )
            )
        )
        link_row = QHBoxLayout()
        self.consent_link = QLineEdit()
        self.consent_link.setReadOnly(True)
        self.consent_link.setAccessibleName(self.tr("Approval link"))
        self.copy_link = CopyButton(what=self.tr("the approval link"))
        link_row.addWidget(self.consent_link, 1)
        link_row.addWidget(self.copy_link)
        approval_layout.addLayout(link_row)
        self.open_approval_button = QPushButton(self.tr("&Open the approval page"))
        self.open_approval_button.clicked.connect(self.open_approval)
        self.check_again_button = QPushButton(self.tr("C&heck again"))
        self.check_again_button.setToolTip(
            self.tr("See whether a Global Administrator has approved the permissions")
        )
        self.check_again_button.clicked.connect(self.check_again)
        approval_layout.addLayout(button_row(self.open_approval_button, self.check_again_button))
        # How to carry on another day: told once the app's values are kept (or not).
        self.later_note = plain_label("")
        approval_layout.addWidget(self.later_note)
        self.approval.hide()
        column.addWidget(self.approval)

        self.progress_back = QPushButton(self.tr("Back to the review"))
        self.progress_back.clicked.connect(self._back_to_review)
        column.addLayout(button_row(trailing=(self.progress_back,)))
        column.addStretch(1)
        self.progress_area = scrolled(content)
        return self.progress_area

    def _build_done(self) -> QWidget:
        self.done_title = heading("")
        self.done_text = plain_label("", selectable=True)
        self.continue_button = QPushButton(self.tr("&Continue"))
        self.continue_button.clicked.connect(self.completed)
        self.again_button = QPushButton(self.tr("Set it up a&gain"))
        self.again_button.setToolTip(self.tr("Sign in again and start over"))
        self.again_button.clicked.connect(self._back_to_intro)
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self.done_title)
        column.addWidget(self.done_text)
        column.addSpacing(6)
        column.addLayout(button_row(self.continue_button, trailing=(self.again_button,)))
        column.addStretch(1)
        return scrolled(content)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in the app's name creates it, and goes no further: the box is hidden as the
        progress shows, the keyboard moves to Stop, and the dialog would press that with the
        same key (QLineEdit.returnPressed lets the key through)."""
        if (
            watched is self.app_name
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.create_app()
            return True
        return super().eventFilter(watched, event)

    # -- moving between the steps ---------------------------------------------------------

    @property
    def current_view(self) -> View:
        return View(self.views.currentIndex())

    def show_view(self, view: View) -> None:
        self.views.setCurrentIndex(view)
        self._update_buttons()
        focus = {
            View.INTRO: self.sign_in_button,
            View.REVIEW: self.create_button,
            View.DONE: self.continue_button,
        }.get(view)
        if focus is not None and self.isVisible():
            focus.setFocus()

    def enter(self) -> None:
        """The user chose this path: start where they left off."""
        if not self._client_told:
            self._tell_setup_client()
        if self._state.registered is not None and self._awaiting_approval is None:
            self._show_done(self._state.registered)
        elif self.current_view is View.DONE:
            self.show_view(View.INTRO)
        else:
            self.show_view(self.current_view)

    def _tell_setup_client(self) -> None:
        """Say which app Microsoft's sign-in page will name, and why. The setting is read
        (and checked) off the GUI thread: a vendor build keeps it in a file."""
        use_cases = self._context.use_cases

        def work(cancel: CancelToken, progress: Progress) -> SetupClient:
            return use_cases.setup_client

        self._page.run_side_job("setup-client", work, succeeded=self._on_setup_client)

    @Slot(object)
    def _on_setup_client(self, client: object) -> None:
        assert isinstance(client, SetupClient)
        self._client_told = True
        if client.is_azure_cli:
            shown_as = self.tr(
                "Microsoft's page will say that “%1” is asking for access. That is Microsoft's "
                "own command-line tool, which every organisation has: Clearooms signs in through "
                "it only to create the app, and keeps no access afterwards."
            ).replace("%1", client.shown_as)
        else:
            shown_as = self.tr(
                "Microsoft's page will say that %1 is asking for access: the app chosen for "
                "this setup. Clearooms signs in through it only to create the app, and keeps no "
                "access afterwards."
            ).replace("%1", client.shown_as)
        self.shown_as_label.setText(
            self.tr("A browser window opens at Microsoft's sign-in page.") + " " + shown_as
        )

    @Slot()
    def _back_to_intro(self) -> None:
        self._page.hide_message()
        self.show_view(View.INTRO)

    @Slot()
    def _back_to_review(self) -> None:
        self._page.hide_message()
        if self._plan is None:
            self.show_view(View.INTRO)
        else:
            self.show_view(View.REVIEW)

    def _update_buttons(self) -> None:
        busy = self._page.busy
        for button in (
            self.sign_in_button,
            self.code_button,
            self.intro_back,
            self.create_button,
            self.review_back,
            self.retry_button,
            self.undo_button,
            self.other_admin_button,
            self.open_approval_button,
            self.check_again_button,
            self.progress_back,
            self.continue_button,
            self.again_button,
        ):
            button.setEnabled(not busy)
        if not busy:
            self.create_button.setEnabled(self._app_name_problem() is None)

    # -- running work ---------------------------------------------------------------------

    def _run(
        self,
        name: str,
        work: Work,
        *,
        stop: str,
        busy: str,
        succeeded: Receiver,
        failed: Receiver,
        cancelled: Callable[[], None],
        progress: Receiver | None = None,
    ) -> None:
        self._page.hide_message()
        self._page.busy_row.describe(stop, busy, BUSY_WIDTH)
        handle = self._page.run_task(
            name,
            work,
            succeeded=succeeded,
            failed=failed,
            cancelled=cancelled,
            progress=progress,
        )
        handle.signals.finished.connect(self._task_ended)
        self._handle = handle
        self._update_buttons()

    def _current(self) -> bool:
        """Whether the signal being handled comes from the task this flow started last."""
        return self._handle is not None and self.sender() is self._handle.signals

    @Slot()
    def _task_ended(self) -> None:
        if not self._current():
            return
        self._handle = None
        self._update_buttons()
        if self._complete_when_finished:
            self._complete_when_finished = False
            # After the page has heard the task end too, so it is no longer busy.
            self.completed.emit()

    # -- signing in -----------------------------------------------------------------------

    @Slot()
    def sign_in(self) -> None:
        self._start_sign_in(SignInMethod.BROWSER)

    @Slot()
    def sign_in_with_code(self) -> None:
        self._start_sign_in(SignInMethod.DEVICE_CODE)

    def _start_sign_in(self, method: SignInMethod) -> None:
        if self._page.busy:
            return
        use_cases = self._context.use_cases
        cloud = self._state.cloud
        self._plan = None
        self._state.admin_session = None

        def work(cancel: CancelToken, progress: Progress) -> RegistrationPlan:
            session = use_cases.sign_in_admin(cloud, method, cancel, on_device_code=progress)
            progress(session)
            return use_cases.plan_registration(
                session, DEFAULT_APP_NAME, DEFAULT_SECRET_MONTHS, cancel
            )

        if method is SignInMethod.DEVICE_CODE:
            self.signing_in_title.setText(self.tr("Sign in on another device"))
            self.signing_in_text.setText(self.tr("Asking Microsoft for a code…"))
        else:
            self.signing_in_title.setText(self.tr("Sign in in your browser"))
            self.signing_in_text.setText(
                self.tr(
                    "Your browser is opening Microsoft's sign-in page. Sign in there as an "
                    "administrator, then come back to this window. No browser window? Press "
                    "Stop, then “Use a code instead”."
                )
            )
        self.device_code.hide()
        self.show_view(View.SIGNING_IN)
        self._run(
            "admin-sign-in",
            work,
            stop=self.tr("Stop"),
            busy=self.tr("Waiting for the sign-in"),
            succeeded=self._on_planned,
            failed=self._on_sign_in_failed,
            cancelled=self._on_sign_in_stopped,
            progress=self._on_sign_in_progress,
        )

    @Slot(object)
    def _on_sign_in_progress(self, news: object) -> None:
        if not self._current():
            return
        if isinstance(news, DeviceCode):
            self._show_device_code(news)
            return
        from clearooms_wizard.core.admin_signin import AdminSession

        if not isinstance(news, AdminSession):
            return
        # The sign-in is done; the plan is being read.
        session = news
        self._state.admin_session = session
        self.device_code.hide()
        self.signing_in_title.setText(self.tr("Signed in"))
        self.signing_in_text.setText(
            self.tr("Signed in as %1. Looking at what your organisation already has…").replace(
                "%1", who(session.admin)
            )
        )

    def _show_device_code(self, prompt: DeviceCode) -> None:
        self.signing_in_text.setText(
            self.tr("On this computer or any other (a phone will do), sign in as an administrator:")
        )
        self.code_address.setText(prompt.verification_uri)
        self.copy_address.set_value(prompt.verification_uri)
        self.code.setText(prompt.user_code)
        self.code.setAccessibleName(self.tr("Sign-in code: %1").replace("%1", prompt.user_code))
        self.copy_code.set_value(prompt.user_code)
        minutes = max(1, round((prompt.expires_at - time.time()) / 60))
        self.code_expiry.setText(self.tr("The code works for %n minute(s).", "", minutes))
        self.device_code.show()

    @Slot()
    def _open_code_address(self) -> None:
        address = self.code_address.text()
        # An address from the network: only ever a web page, never a file or a program.
        if not address.lower().startswith("https://"):
            return
        if not self._context.open_url(address):
            self._page.show_message(
                Tone.INFO, self.tr("No web browser opened. Copy the address into a browser.")
            )

    @Slot(object)
    def _on_planned(self, plan: object) -> None:
        if not self._current():
            return
        assert isinstance(plan, RegistrationPlan)
        self._plan = plan
        self._show_review(plan)

    @Slot(object)
    def _on_sign_in_failed(self, error: object) -> None:
        if not self._current():
            return
        self._page.show_message(Tone.FAIL, error_text(error))
        self.show_view(View.INTRO)

    @Slot()
    def _on_sign_in_stopped(self) -> None:
        if not self._current():
            return
        self._page.show_message(
            Tone.INFO, self.tr("Sign-in stopped. Nothing was created. Sign in again when ready.")
        )
        self.show_view(View.INTRO)

    # -- the review -----------------------------------------------------------------------

    def _show_review(self, plan: RegistrationPlan) -> None:
        admin = plan.admin
        organisation = (
            f"{admin.tenant_name}\n{admin.tenant_id}" if admin.tenant_name else admin.tenant_id
        )
        self.organisation.setText(organisation)
        self.account.setText(who(admin))
        self.roles.setText(", ".join(self.tr(n) for n in admin.role_names) or self.tr("None"))
        self.app_name.setText(plan.existing.display_name if plan.existing else plan.app_name)
        existing = plan.existing
        if existing is not None:
            note = self.tr(
                "We found the app an earlier setup created (“%1”): we'll reuse it and add a new "
                "secret, rather than create a second app."
            ).replace("%1", existing.display_name)
            if existing.secret_count:
                note += " " + self.tr(
                    "Its %n earlier secret(s) stay as they are.", "", existing.secret_count
                )
            if existing.missing_permissions:
                note += " " + self.tr(
                    "It still lacks %1; setting it up adds what is missing."
                ).replace("%1", ", ".join(existing.missing_permissions))
            self.existing_note.setText(note)
        self.existing_note.setVisible(existing is not None)
        if not plan.grant_directly and not set(admin.role_ids) & APP_CREATOR_ROLES:
            self.approval_note.setText(
                self.tr(
                    "Your account has no administrator role: unless your organisation lets "
                    "everyone register apps, Microsoft will refuse, and a Global Administrator "
                    "or an Application Administrator should sign in instead. If it can create "
                    "the app, a Global Administrator then approves its permissions with a link."
                )
            )
        elif not plan.grant_directly:
            self.approval_note.setText(
                self.tr(
                    "Your account can create the app but can't grant its permissions. When it "
                    "is created, you'll get a link for a Global Administrator to approve them."
                )
            )
        self.approval_note.setVisible(not plan.grant_directly)
        self.show_view(View.REVIEW)

    def _app_name_problem(self) -> str | None:
        if not self.app_name.text().strip():
            return self.tr("Give the app a name, such as “%1”.").replace("%1", DEFAULT_APP_NAME)
        return None

    @Slot()
    def _app_name_changed(self) -> None:
        problem = self._app_name_problem()
        self.app_name_problem.setText(problem or "")
        self.app_name_problem.setVisible(problem is not None)
        if not self._page.busy:
            self.create_button.setEnabled(problem is None)

    @property
    def chosen_months(self) -> int:
        return int(self.secret_months.currentData())

    # -- creating it ----------------------------------------------------------------------

    @Slot()
    def create_app(self) -> None:
        if self._page.busy or self._plan is None or self._app_name_problem() is not None:
            return
        self._journal = None
        for row in self.rows.values():
            row.reset()
        # Planned again with the name and lifetime chosen: the plan checks them, and sees the
        # organisation as it is now.
        self._start_registration(
            self.app_name.text().strip(), self.chosen_months, self.calendar_choice.rooms_only
        )

    @Slot()
    def retry(self) -> None:
        if self._page.busy or self._plan is None:
            return
        plan = self._plan
        self._start_registration(plan.app_name, plan.secret_months, plan.rooms_only)

    def _start_registration(self, app_name: str, months: int, rooms_only: bool) -> None:
        session = self._state.admin_session
        if session is None:
            self.show_view(View.INTRO)
            return
        use_cases = self._context.use_cases

        def work(cancel: CancelToken, progress: Progress) -> RegisteredApp:
            plan = use_cases.plan_registration(
                session, app_name, months, cancel, rooms_only=rooms_only
            )
            progress(plan)
            return use_cases.register_app(session, plan, cancel, progress)

        self._awaiting_approval = None
        self.failure.hide()
        self.approval.hide()
        self.progress_note.hide()
        self.progress_title.setText(self.tr("Setting it up"))
        self.show_view(View.PROGRESS)
        self._run(
            "register-app",
            work,
            stop=self.tr("Stop"),
            busy=self.tr("Setting it up"),
            succeeded=self._on_registered,
            failed=self._on_registration_failed,
            cancelled=self._on_registration_stopped,
            progress=self._on_step,
        )

    @Slot(object)
    def _on_step(self, update: object) -> None:
        if not self._current():
            return
        if isinstance(update, RegistrationPlan):
            self._plan = update
        elif isinstance(update, StepUpdate):
            self.rows[update.step].show_update(update)

    @Slot(object)
    def _on_registered(self, app: object) -> None:
        if not self._current():
            return
        assert isinstance(app, RegisteredApp)
        self._journal = None
        if app.permissions_granted:
            self._finish(app)
            return
        self._awaiting_approval = app
        self._keep_until_approved(app)
        self.progress_title.setText(self.tr("Almost done"))
        self.consent_link.setText(app.consent_url or "")
        self.consent_link.setCursorPosition(0)
        self.copy_link.set_value(app.consent_url or "")
        self.approval.show()
        self.progress_area.ensureWidgetVisible(self.approval)

    @Slot(object)
    def _on_registration_failed(self, error: object) -> None:
        if not self._current():
            return
        from clearooms_wizard.core.provisioning import RegistrationFailed

        if not isinstance(error, RegistrationFailed):
            self._failed_elsewhere(error)
            return
        self._journal = error.journal
        row = self.rows[error.step]
        if row.state is not StepState.FAILED:
            row.show_update(StepUpdate(error.step, StepState.FAILED))
        self.progress_title.setText(
            self.tr("It stopped half-way") if error.created else self.tr("It could not be set up")
        )
        # The problem alone (what exists now is listed under it), and only once: the failed
        # step's row may say it already.
        said = row.detail.text().strip() == error.problem.strip()
        self._show_failure("" if said else error.problem, error.created)

    def _failed_elsewhere(self, error: object) -> None:
        """A failure before any step: the sign-in ran out, or the plan could not be made
        (a name Microsoft would refuse, say). Back to where it can be put right."""
        from clearooms_wizard.core.admin_signin import AdminSignInExpired

        self._page.show_message(Tone.FAIL, error_text(error))
        if isinstance(error, AdminSignInExpired):
            self._state.admin_session = None
            self.show_view(View.INTRO)
        elif all(row.state is None for row in self.rows.values()):
            self.show_view(View.REVIEW)
        else:
            self.progress_title.setText(self.tr("It stopped"))
            self._show_failure(error_text(error), None)

    @Slot()
    def _on_registration_stopped(self) -> None:
        if not self._current():
            return
        for row in self.rows.values():
            if row.state is StepState.RUNNING:
                row.stopped()
        self.progress_title.setText(self.tr("Stopped"))
        self._show_failure(
            self.tr(
                "You stopped it. Try again carries on from where it stopped; Undo removes "
                "whatever this setup had created."
            ),
            None,
        )

    def _show_failure(self, message: str, created: tuple[CreatedObject, ...] | None) -> None:
        self.failure_text.setText(message)
        self.failure_text.setVisible(bool(message))
        if created is None:
            self.created_text.hide()
        else:
            self.created_text.setText(self.describe_created(created))
            self.created_text.show()
        # Undo when something may exist: unknown (stopped) or listed.
        self.undo_button.setVisible(created is None or bool(created))
        self.failure.show()
        self.progress_area.ensureWidgetVisible(self.failure)

    def describe_created(self, created: tuple[CreatedObject, ...]) -> str:
        if not created:
            return self.tr("Nothing was created in your organisation.")
        lines: list[str] = []
        for item in created:
            if item.kind is CreatedKind.APPLICATION:
                lines.append(
                    self.tr("the app “%1”").replace("%1", item.label)
                    if item.label
                    else self.tr("the app")
                )
            elif item.kind is CreatedKind.SECRET:
                lines.append(self.tr("a client secret for it"))
            elif item.kind is CreatedKind.CERTIFICATE:
                lines.append(self.tr("a certificate for it"))
            elif item.kind is CreatedKind.SERVICE_PRINCIPAL:
                lines.append(self.tr("its entry in your organisation (an enterprise application)"))
        grants = sum(1 for item in created if item.kind is CreatedKind.PERMISSION_GRANT)
        if grants:
            lines.append(self.tr("%n permission(s) granted", "", grants))
        return (
            self.tr("What exists now:")
            + "\n"
            + "\n".join(f"  • {line}" for line in lines)
            + "\n"
            + self.tr("Try again carries on from there; Undo removes what this setup created.")
        )

    # -- undo -----------------------------------------------------------------------------

    @Slot()
    def ask_undo(self) -> None:
        if self._page.busy:
            return
        dialog = QMessageBox(self)
        dialog.setIcon(QMessageBox.Icon.Question)
        dialog.setWindowTitle(self.tr("Undo the setup?"))
        dialog.setTextFormat(Qt.TextFormat.PlainText)
        dialog.setText(
            self.tr("Remove what this setup created in your organisation? Nothing else is touched.")
        )
        dialog.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        dialog.setDefaultButton(QMessageBox.StandardButton.No)
        dialog.button(QMessageBox.StandardButton.Yes).setText(self.tr("Remove it"))
        dialog.button(QMessageBox.StandardButton.No).setText(self.tr("Keep it"))
        dialog.finished.connect(self._undo_answered)
        self.undo_dialog = dialog
        dialog.open()

    @Slot(int)
    def _undo_answered(self, _result: int) -> None:
        dialog = self.undo_dialog
        self.undo_dialog = None
        if dialog is None:
            return
        chose = dialog.standardButton(dialog.clickedButton())
        dialog.deleteLater()
        if chose == QMessageBox.StandardButton.Yes:
            self.undo()

    def undo(self) -> None:
        session = self._state.admin_session
        if self._page.busy or session is None:
            return
        use_cases = self._context.use_cases
        journal = self._journal

        def work(cancel: CancelToken, progress: Progress) -> bool:
            chosen = journal or use_cases.unfinished_registration()
            if chosen is None:
                return False
            use_cases.undo_registration(session, chosen, cancel, progress)
            return True

        self.progress_note.setText(self.tr("Removing what this setup created…"))
        self.progress_note.show()
        self._run(
            "undo-registration",
            work,
            stop=self.tr("Stop"),
            busy=self.tr("Undoing"),
            succeeded=self._on_undone,
            failed=self._on_undo_failed,
            cancelled=self._on_undo_stopped,
            progress=self._on_undo_progress,
        )

    @Slot(object)
    def _on_undo_progress(self, news: object) -> None:
        if self._current() and isinstance(news, str):
            self.progress_note.setText(news)

    @Slot(object)
    def _on_undone(self, removed: object) -> None:
        if not self._current():
            return
        self._journal = None
        self.progress_note.hide()
        self.failure.hide()
        for row in self.rows.values():
            row.reset()
        self._page.show_message(
            Tone.INFO,
            self.tr("Removed what this setup created. Nothing else in your organisation changed.")
            if removed
            else self.tr("There was nothing to undo: this setup had not created anything."),
        )
        self._back_to_review_keeping_message()

    def _back_to_review_keeping_message(self) -> None:
        self.show_view(View.REVIEW if self._plan is not None else View.INTRO)

    @Slot(object)
    def _on_undo_failed(self, error: object) -> None:
        if not self._current():
            return
        self.progress_note.hide()
        self._page.show_message(Tone.FAIL, self.tr("Could not undo: ") + error_text(error))

    @Slot()
    def _on_undo_stopped(self) -> None:
        if not self._current():
            return
        self.progress_note.setText(self.tr("Undo stopped. Press Undo again to remove the rest."))

    # -- approval by a Global Administrator -----------------------------------------------

    def _keep_until_approved(self, app: RegisteredApp) -> None:
        """Keep the new app's values (the secret in the keyring) while they wait, so that
        closing the wizard loses nothing: Test Settings finishes the job after approval."""
        keep = self._context.use_cases.keep_until_approved
        cloud = self._state.cloud

        def work(cancel: CancelToken, progress: Progress) -> SavedAwaiting:
            return keep(app, cloud)

        self.later_note.setText(
            self.tr(
                "Keeping the app's details on this computer, so that you can also close the "
                "wizard and carry on later…"
            )
        )
        self._page.run_side_job(
            "keep-until-approved",
            work,
            succeeded=self._on_kept,
            failed=self._on_not_kept,
        )

    @Slot(object)
    def _on_kept(self, kept: object) -> None:
        assert isinstance(kept, SavedAwaiting)
        if kept.secret_in_keyring:
            text = self.tr(
                "You can also close the wizard and carry on later: the app's details are kept "
                "on this computer. Once a Global Administrator has approved, open the wizard, "
                "choose “I already have these details” and press Test Settings."
            )
        else:
            text = self.tr(
                "This computer has no keyring to keep the client secret in, so stay here "
                "until it is approved. (If you close the wizard, Set it up for me will find "
                "this app again and give it a new secret.)"
            )
        self.later_note.setText(text + (f" {kept.notice}" if kept.notice else ""))

    @Slot(object)
    def _on_not_kept(self, error: object) -> None:
        self.later_note.setText(
            self.tr(
                "The app's details could not be kept on this computer, so stay here until it "
                "is approved."
            )
            + " "
            + error_text(error)
        )

    @Slot()
    def open_approval(self) -> None:
        app = self._awaiting_approval
        if self._page.busy or app is None:
            return
        wait = self._context.use_cases.wait_for_admin_consent
        cloud = self._state.cloud

        def work(cancel: CancelToken, progress: Progress) -> bool:
            return wait(app, cloud, cancel)

        self._run(
            "wait-for-approval",
            work,
            stop=self.tr("Stop waiting"),
            busy=self.tr("Waiting for the approval"),
            succeeded=self._on_approval_opened,
            failed=self._on_approval_failed,
            cancelled=self._on_approval_stopped,
        )
        self._page.show_message(
            Tone.INFO,
            self.tr(
                "The approval page is opening in your browser. Sign in there as a Global "
                "Administrator and accept; this window carries on by itself."
            ),
        )

    @Slot()
    def check_again(self) -> None:
        app = self._awaiting_approval
        if self._page.busy or app is None:
            return
        check = self._context.use_cases.check_permissions_granted
        cloud = self._state.cloud

        def work(cancel: CancelToken, progress: Progress) -> bool:
            return check(app, cloud, cancel)

        self._run(
            "check-approval",
            work,
            stop=self.tr("Stop"),
            busy=self.tr("Checking the permissions"),
            succeeded=self._on_checked,
            failed=self._on_approval_failed,
            cancelled=self._on_approval_stopped,
        )

    @Slot(object)
    def _on_approval_opened(self, granted: object) -> None:
        if not self._current():
            return
        if granted is True:
            self._approved()
        else:
            self._page.show_message(
                Tone.WARN,
                self.tr(
                    "The permissions are not approved yet. A Global Administrator has to open "
                    "the link and accept; then press Check again."
                ),
            )

    @Slot(object)
    def _on_checked(self, granted: object) -> None:
        if not self._current():
            return
        if granted is True:
            self._approved()
        else:
            self._page.show_message(
                Tone.INFO,
                self.tr(
                    "Not approved yet. When a Global Administrator has opened the link and "
                    "accepted, press Check again."
                ),
            )

    @Slot(object)
    def _on_approval_failed(self, error: object) -> None:
        if self._current():
            self._page.show_message(Tone.FAIL, error_text(error))

    @Slot()
    def _on_approval_stopped(self) -> None:
        if self._current():
            self._page.show_message(
                Tone.INFO,
                self.tr("Stopped waiting. Press Check again once the permissions are approved."),
            )

    def _approved(self) -> None:
        app = self._awaiting_approval
        assert app is not None
        grant = self.rows[StepId.GRANT_PERMISSIONS]
        grant.show_update(
            StepUpdate(
                StepId.GRANT_PERMISSIONS,
                StepState.DONE,
                self.tr("A Global Administrator approved them."),
            )
        )
        self._finish(replace(app, permissions_granted=True))
        self._tidy_after_approval(app)

    def _tidy_after_approval(self, app: RegisteredApp) -> None:
        """Take the approval page's redirect address off the app while the administrator who
        made it is still signed in. Best effort: the app works either way."""
        admin = self._state.admin_session
        if admin is None or admin.expires_at <= time.time() + 60:
            return
        tidy = self._context.use_cases.tidy_after_approval

        def work(cancel: CancelToken, progress: Progress) -> bool:
            return tidy(admin, app, cancel)

        self._page.run_side_job("tidy-after-approval", work, failed=self._on_tidy_failed)

    @Slot(object)
    def _on_tidy_failed(self, error: object) -> None:
        # Nothing for the user to do: the address only lets Microsoft's pages answer this
        # computer, and the app works with or without it.
        return

    # -- done -----------------------------------------------------------------------------

    def _finish(self, app: RegisteredApp) -> None:
        self._awaiting_approval = None
        self._state.registered = app
        self._page.hide_message()
        self._show_done(app)
        # Once the task has ended (the page is no longer busy), on to the Connect page.
        self._complete_when_finished = True

    def _show_done(self, app: RegisteredApp) -> None:
        plan = self._plan
        name = plan.app_name if plan is not None else DEFAULT_APP_NAME
        admin = plan.admin if plan is not None else None
        organisation = admin.tenant_name if admin is not None and admin.tenant_name else None
        self.done_title.setText(
            self.tr("Clearooms is registered in %1").replace("%1", organisation)
            if organisation
            else self.tr("Clearooms is registered")
        )
        self.done_text.setText(
            (
                self._certificate_opening(app, name)
                if app.certificate is not None
                else self.tr("The app “%1” already existed: it has a new client secret, ").replace(
                    "%1", name
                )
                if app.reused
                else self.tr("The app “%1” is created, with its client secret ").replace("%1", name)
            )
            + self.tr(
                "and its permissions. Its details are filled in on the next page, which tests them."
            )
            + self._certificate_words(app)
        )
        self.show_view(View.DONE)

    def _certificate_opening(self, app: RegisteredApp, name: str) -> str:
        return (
            self.tr("The app “%1” already existed: it has a new certificate, ")
            if app.reused
            else self.tr("The app “%1” is created, with a certificate instead of a client secret, ")
        ).replace("%1", name)

    def _certificate_words(self, app: RegisteredApp) -> str:
        """Why the app signs in with a certificate, and where its key is."""
        if app.certificate is None:
            return ""
        words = [app.certificate_reason] if app.certificate_reason else []
        words.append(self.tr("The certificate's private key stays in this computer's keyring."))
        return "\n\n" + " ".join(words)
