"""Page 3: enter the three values, test them live, save them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QEvent, QLocale, QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clearooms_wizard.core.app_setup import RegisteredApp
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.checks import (
    CHECK_IDS,
    CHECK_TITLES,
    CheckResult,
    SettingsTest,
    Status,
)
from clearooms_wizard.core.report import support_report
from clearooms_wizard.core.scope_script import ScopeScript, write_script_file
from clearooms_wizard.core.values import (
    Checked,
    ConnectionInput,
    check_client_id,
    check_secret,
    check_tenant,
)
from clearooms_wizard.ui.check_row import CheckRow
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.pages.base import TaskPage, current_task_only, error_text
from clearooms_wizard.ui.renew_dialog import RenewDialog, RenewTarget
from clearooms_wizard.ui.scope_dialog import ScopeScriptDialog
from clearooms_wizard.ui.state import TestedConnection, WizardState
from clearooms_wizard.ui.widgets import Tone, plain_label
from clearooms_wizard.workers.runner import Progress, TaskHandle, TaskRunner

if TYPE_CHECKING:
    # cryptography loads only when a certificate is made or used, not with the wizard.
    from clearooms_wizard.core.certificates import CertificateCredential

# Lines of text kept free under the three boxes for what is wrong with them, so that the boxes
# and the buttons below them stay where they are while someone types.
HINT_LINES = 4
# How long "Report copied" stays beside its button.
COPIED_NOTE_MS = 8000


class FieldNote(QLabel):
    """A line about one box: what is wrong, a warning, or what we tidied. Its text starts
    with the box's name, as the notes sit together under the boxes."""

    def __init__(self, field_name: str) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self._field_name = field_name
        self.hide()

    def show_checked(self, checked: Checked, raw: str) -> None:
        if not raw.strip():
            self.hide()
            return
        if checked.problem:
            self._show(checked.problem, "#c5221f")
        elif checked.warnings:
            self._show(checked.warnings[0], "#b06000")
        elif checked.tidied and checked.value != raw:
            shown = "" if self.property("secret") else f" (using {checked.value})"
            self._show(self.tr("Tidied: ") + "; ".join(checked.tidied) + shown, "#1e8e3e")
        else:
            self.hide()

    def _show(self, text: str, colour: str) -> None:
        self.setStyleSheet(f"color: {colour};")
        self.setText(f"{self._field_name}: {text}")
        self.show()


class ConnectPage(TaskPage):
    def __init__(self, context: WizardContext, state: WizardState, runner: TaskRunner) -> None:
        super().__init__(runner)
        self.busy_row.describe(self.tr("Stop test"), self.tr("Testing"), 120)
        self._context = context
        self._state = state
        self.setTitle(self.tr("Step 2: Enter the app's details and test them"))
        self.setSubTitle(
            self.tr(
                "Copy these from your app in Microsoft Entra ID, then press Test Settings. "
                "Nothing is saved until every check passes."
            )
        )
        initial = context.initial
        self.tenant = self._line_edit(
            initial.tenant, self.tr("Tenant ID"), "contoso.onmicrosoft.com"
        )
        self.client_id = self._line_edit(
            initial.client_id, self.tr("Client ID"), "00000000-0000-0000-0000-000000000000"
        )
        self.secret = self._line_edit(initial.client_secret, self.tr("Client secret"), "")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_secret = QAction(self.tr("Show"), self.secret)
        self.show_secret.setCheckable(True)
        self.show_secret.setToolTip(self.tr("Show or hide the client secret"))
        self.show_secret.toggled.connect(self._toggle_secret)
        self.show_secret_button = QToolButton()
        self.show_secret_button.setDefaultAction(self.show_secret)
        self.show_secret_button.setAccessibleName(self.tr("Show client secret"))
        self.notes = {
            "tenant": FieldNote(self.tr("Tenant ID")),
            "client_id": FieldNote(self.tr("Client ID")),
            "secret": FieldNote(self.tr("Client secret")),
        }
        self.notes["secret"].setProperty("secret", True)
        # The notes share one place under the boxes, with room kept for them: a note that
        # comes or goes as someone types never moves a box (or the button they reach for).
        self.hints = QWidget()
        hints_layout = QVBoxLayout(self.hints)
        hints_layout.setContentsMargins(0, 0, 0, 0)
        hints_layout.setSpacing(2)
        for note in self.notes.values():
            hints_layout.addWidget(note)
        hints_layout.addStretch(1)
        self._hints_spacing = hints_layout.spacing()
        self._fit_hints()

        # A certificate instead of the secret, for organisations that do not allow secrets.
        self.credential_kind = QComboBox()
        self.credential_kind.setAccessibleName(self.tr("Sign in with"))
        self.credential_kind.addItem(self.tr("Client secret"), "secret")
        self.credential_kind.addItem(self.tr("Certificate"), "certificate")
        self.certificate: CertificateCredential | None = initial.certificate
        self.certificate_summary = plain_label("", selectable=True, wrap=False)
        self.create_certificate_button = QPushButton(self.tr("Create a certificate…"))
        self.create_certificate_button.setToolTip(
            self.tr("Make a certificate for this app; its private key stays on this computer")
        )
        self.create_certificate_button.clicked.connect(self.start_create_certificate)

        self.cloud = QComboBox()
        self.cloud.setAccessibleName(self.tr("Microsoft cloud"))
        for key, cloud in context.clouds.items():
            self.cloud.addItem(self.tr(cloud.label), key)
        self.cloud.setCurrentIndex(max(0, self.cloud.findData(initial.cloud)))
        self.advanced_button = QToolButton()
        self.advanced_button.setText(self.tr("Advanced"))
        self.advanced_button.setCheckable(True)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setAutoRaise(True)
        self.advanced_button.toggled.connect(self._toggle_advanced)
        self.advanced = QWidget()
        advanced_form = QFormLayout(self.advanced)
        advanced_form.setContentsMargins(0, 0, 0, 0)
        advanced_form.addRow(self.tr("Microsoft &cloud:"), self.cloud)
        self.advanced.hide()

        self._add_secret_actions()
        secret_row = QHBoxLayout()
        secret_row.addWidget(self.secret, 1)
        secret_row.addWidget(self.show_secret_button)
        secret_row.addWidget(self.secret_menu_button)
        form = QFormLayout()
        form.addRow(self.tr("Tenant &ID:"), self.tenant)
        form.addRow(self.tr("C&lient ID:"), self.client_id)
        form.addRow(self.tr("Sign in &with:"), self.credential_kind)
        secret_label = QLabel(self.tr("Client &secret:"))
        secret_label.setBuddy(self.secret)  # the field is a row of widgets, so name the buddy
        form.addRow(secret_label, secret_row)
        self._secret_row = secret_row
        certificate_row = QHBoxLayout()
        certificate_row.addWidget(self.certificate_summary, 1)
        certificate_row.addWidget(self.create_certificate_button)
        certificate_label = QLabel(self.tr("Certi&ficate:"))
        certificate_label.setBuddy(self.create_certificate_button)
        form.addRow(certificate_label, certificate_row)
        self._certificate_row = certificate_row
        self._form = form
        form.addRow("", self.hints)
        form.addRow(self.advanced_button)
        form.addRow(self.advanced)

        # Alt+T (its underlined letter) and Ctrl+T both test; a button's own shortcut would
        # replace its mnemonic, so Ctrl+T is a shortcut of the page.
        self.test_button = QPushButton(self.tr("&Test Settings"))
        self.test_button.setToolTip(self.tr("Test the three values (Ctrl+T)"))
        self.test_button.clicked.connect(self.start_test)
        QShortcut(QKeySequence("Ctrl+T"), self, self.start_test)
        self.report_button = QPushButton(self.tr("Copy &report"))
        self.report_button.setToolTip(
            self.tr("Copy a support report (without the secret) to send to Clearooms support")
        )
        self.report_button.clicked.connect(self.copy_report)
        # Beside the button rather than on the banner: the banner keeps saying how the test went.
        self.report_note = plain_label(
            self.tr("Copied, without the secret: paste it into an e-mail."),
            wrap=False,
        )
        self.report_note.hide()
        self._report_note_timer = QTimer(self)
        self._report_note_timer.setSingleShot(True)
        self._report_note_timer.setInterval(COPIED_NOTE_MS)
        self._report_note_timer.timeout.connect(self.report_note.hide)
        # Shown once a test has signed the app in: the script needs the app's own sign-in.
        self.scope_button = QPushButton(self.tr("Li&mit to room mailboxes…"))
        self.scope_button.setToolTip(
            self.tr(
                "A script for your Exchange administrator that lets Clearooms reach room "
                "calendars only"
            )
        )
        self.scope_button.clicked.connect(self.start_scope_script)
        self.scope_button.hide()
        self.scope_dialog: ScopeScriptDialog | None = None
        # With the administrator "Set it up for me" signed in, while Microsoft Entra still
        # grants every mailbox's calendar.
        self.remove_grant_button = QPushButton(
            self.tr("R&emove the tenant-wide calendar permission…")
        )
        self.remove_grant_button.setToolTip(
            self.tr(
                "Take Calendars.ReadWrite off the app in Microsoft Entra ID, so that only "
                "Exchange's limit to room mailboxes gives it calendars"
            )
        )
        self.remove_grant_button.clicked.connect(self.ask_remove_grant)
        self.remove_grant_dialog: QMessageBox | None = None
        self._removal: Callable[[CancelToken], None] | None = None
        # "Set it up for me" made the app for rooms only: its script is handed over once the
        # first test has signed the app in.
        self._hand_over_script = False
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.busy_row)
        buttons.addStretch(1)
        buttons.addWidget(self.report_note)
        buttons.addWidget(self.scope_button)
        buttons.addWidget(self.report_button)
        # A row of its own, hidden whole (no gap) unless the offer stands.
        self.remove_grant_row = QWidget()
        remove_row = QHBoxLayout(self.remove_grant_row)
        remove_row.setContentsMargins(0, 0, 0, 0)
        remove_row.addStretch(1)
        remove_row.addWidget(self.remove_grant_button)
        self.remove_grant_row.hide()

        self.rows = {
            check_id: CheckRow(check_id, self.tr(CHECK_TITLES[check_id])) for check_id in CHECK_IDS
        }
        results = QWidget()
        results_layout = QVBoxLayout(results)
        for row in self.rows.values():
            results_layout.addWidget(row)
        results_layout.addStretch(1)
        self.results_area = QScrollArea()
        self.results_area.setWidget(results)
        self.results_area.setWidgetResizable(True)
        self.results_area.setAccessibleName(self.tr("Test results"))

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.remove_grant_row)
        layout.addWidget(self.banner)
        layout.addWidget(self.secret_actions)
        layout.addWidget(self.results_area, 1)

        for edit in (self.tenant, self.client_id, self.secret):
            edit.textChanged.connect(self._values_changed)
            # Enter in a field tests the values: the keyboard path through the page.
            edit.returnPressed.connect(self.start_test)
        self.cloud.currentIndexChanged.connect(self._values_changed)
        self.cloud.currentIndexChanged.connect(self._cloud_changed)
        self.credential_kind.setCurrentIndex(1 if self.certificate is not None else 0)
        self.credential_kind.currentIndexChanged.connect(self._credential_kind_changed)
        self._name_renewal()
        self._show_credential_rows()

        self._save_handle: TaskHandle | None = None
        self._first_failure: CheckRow | None = None
        # A child of the page, so that it goes with it.
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(0)
        self._scroll_timer.timeout.connect(self._show_first_failure)
        # The view and the rows change size after the failure arrives (the verdict above the
        # results, a fix that wraps), sooner or later depending on the machine's load: the
        # failure is kept in sight until the person scrolls for themselves.
        self._follow_failure = False
        self.results_area.viewport().installEventFilter(self)
        results.installEventFilter(self)
        self.results_area.verticalScrollBar().actionTriggered.connect(self._scrolled_by_hand)
        self._saving: tuple[str, str, str, str] | None = None
        self.test: SettingsTest | None = None
        self._tested: tuple[str, str, str, str] | None = None
        self._warnings_accepted = False
        self._saved_for: tuple[str, str, str, str] | None = None
        self._no_keyring_told = False
        # The app “Set it up for me” created, once its values are in the boxes.
        self._filled_from: RegisteredApp | None = None
        self._test_when_idle = False
        self._values_changed()
        if context.startup_notice:
            self.show_message(Tone.WARN, context.startup_notice)

    def _line_edit(self, value: str, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(value)
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        return edit

    # -- values ---------------------------------------------------------------------------

    def uses_certificate(self) -> bool:
        return bool(self.credential_kind.currentData() == "certificate")

    def current_values(self) -> tuple[str, str, str, str]:
        """The boxes' values; with a certificate, the third names the certificate in use."""
        certificate = self.certificate
        credential = (
            f"certificate {certificate.sha256_thumbprint if certificate else 'none'}"
            if self.uses_certificate()
            else self.secret.text()
        )
        return (
            self.tenant.text(),
            self.client_id.text(),
            credential,
            str(self.cloud.currentData()),
        )

    def connection(self) -> ConnectionInput:
        tenant, client_id, secret, cloud = self.current_values()
        if self.uses_certificate():
            return ConnectionInput(
                tenant,
                client_id,
                "",
                cloud=self._context.clouds[cloud],
                certificate=self.certificate,
            )
        return ConnectionInput(tenant, client_id, secret, cloud=self._context.clouds[cloud])

    # -- a certificate instead of the secret -----------------------------------------------

    @Slot()
    def _credential_kind_changed(self) -> None:
        self._name_renewal()
        self._show_credential_rows()
        self._values_changed()

    def _show_credential_rows(self) -> None:
        certificate = self.uses_certificate()
        self._form.setRowVisible(self._secret_row, not certificate)
        self._form.setRowVisible(self._certificate_row, certificate)
        made = self.certificate
        if made is None:
            self.certificate_summary.setText(self.tr("No certificate yet."))
        else:
            end = made.not_after
            until = QLocale().toString(QDate(end.year, end.month, end.day), "d MMMM yyyy")
            thumbprint = made.sha1_thumbprint.upper()
            # Short enough for a small window; the whole thumbprint is in the tooltip (and in
            # the format check's result) to compare with the one the portal shows.
            self.certificate_summary.setText(
                self.tr("Valid until %1 (thumbprint %2…%3)")
                .replace("%1", until)
                .replace("%2", thumbprint[:8])
                .replace("%3", thumbprint[-6:])
            )
            self.certificate_summary.setToolTip(self.tr("Thumbprint %1").replace("%1", thumbprint))

    @Slot()
    def start_create_certificate(self) -> None:
        client_id = check_client_id(self.client_id.text()).value
        if client_id is None:
            self.show_message(
                Tone.INFO,
                self.tr("Enter the client ID first: the certificate is made for that app."),
            )
            return
        new_certificate = self._context.use_cases.new_certificate

        def work(cancel: CancelToken, progress: Progress) -> CertificateCredential:
            return new_certificate(client_id)

        self.create_certificate_button.setEnabled(False)
        handle = self.run_side_job(
            "create-certificate",
            work,
            failure=self.tr("Could not create the certificate: "),
            succeeded=self._certificate_made,
        )
        handle.signals.finished.connect(lambda: self.create_certificate_button.setEnabled(True))

    @Slot(object)
    def _certificate_made(self, made: object) -> None:
        from clearooms_wizard.core.certificates import CertificateCredential

        assert isinstance(made, CertificateCredential)
        self.certificate = made
        self._show_credential_rows()
        self._values_changed()
        self.show_message(
            Tone.INFO,
            self.tr(
                "Certificate created; its private key stays on this computer. Upload its .cer "
                "file to the app in the Microsoft Entra admin center (App registrations, the app, "
                "Certificates & secrets, Certificates, Upload certificate), then press Test "
                "Settings."
            ),
        )
        self.offer_certificate_file(made)

    def offer_certificate_file(self, made: CertificateCredential) -> None:
        """Ask where to save the public .cer file (it holds no secret)."""
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the certificate for your administrator"),
            "clearooms-booking.cer",
            self.tr("Certificate (*.cer)"),
        )
        if not path:
            return
        write = self._context.use_cases.write_certificate_file

        def work(cancel: CancelToken, progress: Progress) -> str:
            write(made, Path(path))
            return path

        self.run_side_job(
            "save-certificate",
            work,
            failure=self.tr("Could not save the certificate: "),
            succeeded=self._certificate_file_saved,
        )

    @Slot(object)
    def _certificate_file_saved(self, path: object) -> None:
        self.show_message(
            Tone.PASS,
            self.tr(
                "Saved %1. Upload it to the app under Certificates & secrets, Certificates, "
                "then press Test Settings."
            ).replace("%1", Path(str(path)).name),
        )

    @Slot()
    def _cloud_changed(self) -> None:
        self._state.cloud = self._context.clouds[str(self.cloud.currentData())]

    @Slot()
    def _values_changed(self) -> None:
        tenant, client_id, secret, _cloud = self.current_values()
        self.notes["tenant"].show_checked(check_tenant(tenant), tenant)
        self.notes["client_id"].show_checked(check_client_id(client_id), client_id)
        if self.uses_certificate():
            self.notes["secret"].hide()
        else:
            self.notes["secret"].show_checked(check_secret(secret), secret)
        self._fit_hints()
        if self._tested is not None and self._tested != self.current_values():
            self.show_message(
                Tone.INFO,
                self.tr("You changed the values. Press Test Settings to test them again."),
            )
        self.completeChanged.emit()

    def _fit_hints(self) -> None:
        """Keep the room for the notes: as tall as HINT_LINES lines, or as the notes shown
        need (two long ones at once may need more)."""
        width = self.hints.width()
        shown = [note for note in self.notes.values() if not note.isHidden()]
        needed = sum(note.heightForWidth(width) for note in shown)
        needed += self._hints_spacing * max(0, len(shown) - 1)
        self.hints.setFixedHeight(max(self.fontMetrics().lineSpacing() * HINT_LINES, needed))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_hints()  # a narrower page wraps the notes onto more lines

    @Slot(bool)
    def _toggle_secret(self, shown: bool) -> None:
        self.secret.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_secret.setText(self.tr("Hide") if shown else self.tr("Show"))
        self.show_secret_button.setAccessibleName(
            self.tr("Hide client secret") if shown else self.tr("Show client secret")
        )

    @Slot(bool)
    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    # -- Test Settings --------------------------------------------------------------------

    @Slot()
    def start_test(self) -> None:
        if self.busy:
            return
        if self.uses_certificate() and self.certificate is None:
            self.show_message(
                Tone.INFO,
                self.tr("Create a certificate first, or choose Client secret above."),
            )
            return
        connection = self.connection()
        self._tested = self.current_values()
        self._warnings_accepted = False
        self.test = None
        self._state.connection = None
        for row in self.rows.values():
            row.waiting()
        self.hide_message()
        self.report_note.hide()
        self.scope_button.hide()
        self.remove_grant_row.hide()
        self.secret_actions.hide()
        self._first_failure = None
        self._follow_failure = True
        self.results_area.verticalScrollBar().setValue(0)
        make_test = self._context.use_cases.test_connection
        # Asked for with this test: removing Microsoft Entra's grant comes first, and the test
        # then shows what changed.
        removal, self._removal = self._removal, None

        def work(cancel: CancelToken, progress: Progress) -> SettingsTest:
            if removal is not None:
                removal(cancel)
            test = make_test(connection, cancel)
            for result in test.run():
                progress(result)
            return test

        self.run_task(
            "test-settings",
            work,
            progress=self._on_result,
            succeeded=self._on_test_done,
            failed=self._on_test_failed,
            cancelled=self._on_test_cancelled,
        )
        self.completeChanged.emit()

    @Slot(object)
    @current_task_only
    def _on_result(self, result: object) -> None:
        if isinstance(result, CheckResult):
            self.rows[result.id].show_result(result)
            if result.status is Status.FAIL and self._first_failure is None:
                self._first_failure = self.rows[result.id]
                # Once the row has grown to hold its fix and the view has been measured again.
                self._scroll_timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Resize
            and self._follow_failure
            and self._first_failure is not None
        ):
            self._scroll_timer.start()
        return super().eventFilter(watched, event)

    @Slot(int)
    def _scrolled_by_hand(self, _action: int) -> None:
        self._follow_failure = False

    @Slot()
    def _show_first_failure(self) -> None:
        """Show the results from the first row; when that leaves the first failed check out
        of sight, start the view at that check instead. Either way the top row is whole."""
        failed = self._first_failure
        if failed is None:
            return
        height = self.results_area.viewport().height()
        bottom = failed.geometry().bottom()
        # The first row from which the failed check fits in the view (or the failed check
        # itself, when it is taller than the view).
        starts = [0] + [row.geometry().top() for row in self.rows.values()]
        fitting = [top for top in starts if bottom - top < height and top <= failed.y()]
        self.results_area.verticalScrollBar().setValue(
            min(fitting) if fitting else failed.geometry().top()
        )

    @Slot(object)
    @current_task_only
    def _on_test_done(self, test: object) -> None:
        assert isinstance(test, SettingsTest)
        self.test = test
        self.scope_button.setVisible(test.signed_in is not None)
        self.remove_grant_row.setVisible(self._can_remove_grant(test))
        if self._hand_over_script and test.signed_in is not None:
            self._hand_over_script = False
            self.start_scope_script()
        self._show_secret_actions(test)
        failed = [r for r in test.results if r.status is Status.FAIL]
        warned = [r for r in test.results if r.status is Status.WARN]
        if failed:
            self.show_message(
                Tone.FAIL,
                self.tr("%n check(s) failed.", "", len(failed))
                + " "
                + self.tr("Follow “What to do” below, then test again."),
            )
        elif warned:
            self.show_message(
                Tone.WARN,
                self.tr("All checks passed, with %n warning(s).", "", len(warned))
                + " "
                + self.tr("Read it below, then click Next."),
            )
        else:
            self.show_message(
                Tone.PASS, self.tr("All checks passed. Click Next to choose your rooms.")
            )

    @Slot(object)
    @current_task_only
    def _on_test_failed(self, error: object) -> None:
        # Checks that never ran (the removal of a grant before the test failed, say) no longer
        # look as if they were running.
        for row in self.rows.values():
            if row.result is None:
                row.reset()
        self.show_message(Tone.FAIL, error_text(error))

    @Slot()
    @current_task_only
    def _on_test_cancelled(self) -> None:
        for row in self.rows.values():
            if row.result is None:
                row.reset()
        self.show_message(Tone.INFO, self.tr("Test stopped. Press Test Settings to run it again."))
        self._tested = None

    def task_started(self) -> None:
        self.test_button.setEnabled(False)

    def task_finished(self) -> None:
        self.test_button.setEnabled(True)
        self.completeChanged.emit()
        if self._test_when_idle:
            self._test_when_idle = False
            self.start_test()

    @Slot()
    def copy_report(self) -> None:
        test = self.test
        results = test.results if test else [r.result for r in self.rows.values() if r.result]
        report = support_report(
            self.connection(),
            results,
            tenant_id=test.tenant_id if test else None,
            demo_scenario=self._context.demo_scenario,
            environment=self._context.report_environment,
        )
        QGuiApplication.clipboard().setText(report)
        self.report_note.show()
        self._report_note_timer.start()

    # -- Limit to room mailboxes ----------------------------------------------------------

    @Slot()
    def start_scope_script(self) -> None:
        test = self.test
        if test is None or test.signed_in is None or test.credentials is None:
            return
        # As entered: the script names the organisation by its domain when one was given.
        credentials, cloud = test.credentials, test.connection.cloud
        scope_script = self._context.use_cases.scope_script

        def work(cancel: CancelToken, progress: Progress) -> ScopeScript:
            return scope_script(credentials, cloud, cancel)

        self.scope_button.setEnabled(False)
        handle = self.run_side_job(
            "scope-script",
            work,
            failure=self.tr("Could not write the script: "),
            succeeded=self._show_scope_script,
        )
        handle.signals.finished.connect(lambda: self.scope_button.setEnabled(True))

    @Slot(object)
    def _show_scope_script(self, script: object) -> None:
        assert isinstance(script, ScopeScript)
        registered = self._state.registered
        rooms_only = (
            registered is not None
            and registered.rooms_only
            and registered.client_id == script.values.client_id
        )
        dialog = ScopeScriptDialog(script, self, rooms_only=rooms_only)
        if self._tenant_wide(self.test) and not self._can_remove_grant(self.test):
            dialog.set_grant_note(
                self.tr(
                    "A Global Administrator or Privileged Role Administrator removes the "
                    "tenant-wide permission in the Microsoft Entra admin center: Enterprise "
                    "applications > the Clearooms app > Permissions."
                )
            )
        dialog.save_requested.connect(self._save_scope_script)
        self.scope_dialog = dialog
        dialog.open()

    @Slot(str, str)
    def _save_scope_script(self, path: str, text: str) -> None:
        def work(cancel: CancelToken, progress: Progress) -> str:
            write_script_file(text, Path(path))
            return path

        dialog = self.scope_dialog
        # The dialog is in front: how the save went is told there.
        self.run_side_job(
            "save-scope-script",
            work,
            succeeded=dialog.show_saved if dialog is not None else None,
            failed=dialog.show_error if dialog is not None else None,
        )

    # -- Renewing the client secret ---------------------------------------------------------

    def _add_secret_actions(self) -> None:
        # Shown when the secret expires soon or has expired; the menu has it always.
        self.renew_button = QPushButton(self.tr("Renew t&he secret…"))
        self.renew_button.setToolTip(
            self.tr("An administrator signs in, and the wizard replaces the client secret")
        )
        self.renew_button.clicked.connect(self.open_renew_dialog)
        self.renew_button.hide()
        # Beside the expiry result, once its date is known.
        self.reminder_button = QPushButton(self.tr("Add a reminder to my calendar…"))
        self.reminder_button.clicked.connect(self.save_reminder)
        self.reminder_button.hide()
        # A push button keeps room for its menu's arrow; a tool button draws it over the text.
        self.secret_menu_button = QPushButton(self.tr("Secret"))
        self.secret_menu_button.setToolTip(
            self.tr("Renew the client secret, or add a reminder to renew it to your calendar")
        )
        self.secret_menu_button.setAccessibleName(self.tr("Client secret actions"))
        menu = QMenu(self.secret_menu_button)
        self.renew_action = menu.addAction(self.tr("Renew the secret…"), self.open_renew_dialog)
        self.reminder_action = menu.addAction(
            self.tr("Add a reminder to my calendar…"), self.save_reminder
        )
        self.reminder_action.setEnabled(False)
        self.secret_menu_button.setMenu(menu)
        self.renew_dialog: RenewDialog | None = None
        self._state.secret_renewed.connect(self._take_renewed_secret)
        # Under the test's verdict, when the secret needs attention.
        self.secret_actions = QWidget()
        row = QHBoxLayout(self.secret_actions)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.renew_button)
        row.addWidget(self.reminder_button)
        # Where the reminder went, beside its button: the test's verdict above stays.
        self.reminder_note = plain_label("")
        self.reminder_note.hide()
        row.addWidget(self.reminder_note, 1)
        self.secret_actions.hide()

    def _show_secret_actions(self, test: SettingsTest) -> None:
        expiry = next((r for r in test.results if r.id == "secret_expiry"), None)
        token = next((r for r in test.results if r.id == "token"), None)
        # An expired secret; or a certificate Microsoft does not accept (expired, or never
        # uploaded): renewing through an administrator uploads a new one either way.
        refused = ("7000222", "700027") if self.uses_certificate() else ("7000222",)
        expired = (
            token is not None
            and token.status is Status.FAIL
            and any(code in (token.code or "") for code in refused)
        )
        warned = expiry is not None and expiry.status is Status.WARN
        self._name_renewal()
        self.renew_button.setVisible(expired or warned)
        self.reminder_button.setVisible(test.secret_expires_at is not None)
        self.reminder_note.hide()
        self.reminder_action.setEnabled(test.secret_expires_at is not None)
        self.secret_actions.setVisible(
            not self.renew_button.isHidden() or not self.reminder_button.isHidden()
        )

    def _name_renewal(self) -> None:
        """The renew button and menu name what is renewed: the certificate when the connection
        signs in with one."""
        if self.uses_certificate():
            self.renew_button.setText(self.tr("Renew t&he certificate…"))
            self.renew_button.setToolTip(
                self.tr("An administrator signs in, and the wizard replaces the certificate")
            )
            self.renew_action.setText(self.tr("Renew the certificate…"))
        else:
            self.renew_button.setText(self.tr("Renew t&he secret…"))
            self.renew_button.setToolTip(
                self.tr("An administrator signs in, and the wizard replaces the client secret")
            )
            self.renew_action.setText(self.tr("Renew the secret…"))

    @Slot()
    def open_renew_dialog(self) -> None:
        tenant, client_id, secret, _cloud = self.current_values()
        certificate = self.certificate if self.uses_certificate() else None
        target = RenewTarget(
            tenant.strip(),
            client_id.strip(),
            "" if certificate is not None else secret.strip(),
            self.connection().cloud,
            certificate=certificate,
        )
        dialog = RenewDialog(self._context.use_cases, self.runner, self._state, target, self)
        dialog.renewed.connect(self._state.secret_renewed)
        self.renew_dialog = dialog
        dialog.open()

    @Slot(object)
    def _take_renewed_secret(self, outcome: object) -> None:
        from clearooms_wizard.core.certificates import CertificateCredential

        made = getattr(outcome, "new_certificate", None)
        secret = getattr(outcome, "new_secret", None)
        if isinstance(made, CertificateCredential):
            # The renewed certificate is the connection's now, and saved already.
            self.certificate = made
            self.credential_kind.setCurrentIndex(self.credential_kind.findData("certificate"))
            self._show_credential_rows()
        elif isinstance(secret, str):
            self.show_secret.setChecked(False)
            self.secret.setText(secret)
        else:
            return
        if self.busy:
            self._test_when_idle = True
            self.cancel_task()
        else:
            self.start_test()

    @Slot()
    def save_reminder(self) -> None:
        test = self.test
        expires = test.secret_expires_at if test is not None else None
        if expires is None or test is None or test.credentials is None:
            return
        certificate = test.credentials.certificate is not None
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the calendar reminder"),
            "renew-clearooms-certificate.ics" if certificate else "renew-clearooms-secret.ics",
            self.tr("Calendar files (*.ics)"),
        )
        if not path:
            return
        client_id = test.credentials.client_id
        certificate = test.credentials.certificate is not None
        save = self._context.use_cases.save_reminder

        def work(cancel: CancelToken, progress: Progress) -> Path:
            return save(expires, client_id, "", Path(path), certificate)

        self.run_side_job(
            "save-reminder",
            work,
            failure=self.tr("Could not save the reminder: "),
            succeeded=self._reminder_saved,
        )

    @Slot(object)
    def _reminder_saved(self, path: object) -> None:
        saved = self.tr("Saved the reminder. Open %1 to add it to your calendar.").replace(
            "%1", str(path)
        )
        if self.secret_actions.isHidden():
            # Saved from the Secret menu, with no test to keep in sight.
            self.show_message(Tone.INFO, saved)
        else:
            self.reminder_note.setText(saved)
            self.reminder_note.show()

    # -- Remove the tenant-wide calendar permission ---------------------------------------

    @staticmethod
    def _tenant_wide(test: SettingsTest | None) -> bool:
        return test is not None and any(
            r.id == "mailbox_scope" and r.code == "tenant_wide" for r in test.results
        )

    def _can_remove_grant(self, test: SettingsTest | None) -> bool:
        """Microsoft Entra still grants every mailbox's calendar, and the administrator "Set it
        up for me" signed in, in this organisation, may still act."""
        admin = self._state.admin_session
        return (
            self._tenant_wide(test)
            and test is not None
            and test.credentials is not None
            and admin is not None
            and admin.expires_at > time.time() + 60
            and admin.admin.tenant_id.lower() == (test.tenant_id or "").lower()
        )

    @Slot()
    def ask_remove_grant(self) -> None:
        if self.busy or not self._can_remove_grant(self.test):
            return
        dialog = QMessageBox(self)
        dialog.setIcon(QMessageBox.Icon.Question)
        dialog.setWindowTitle(self.tr("Remove the tenant-wide calendar permission?"))
        dialog.setTextFormat(Qt.TextFormat.PlainText)
        dialog.setText(
            self.tr(
                "Have you run the Exchange script (Limit to room mailboxes…)?\n\n"
                "Removing Calendars.ReadWrite from the app in Microsoft Entra ID means "
                "Clearooms can no longer read people's calendars. Room calendars keep working "
                "only if your Exchange administrator has run the script; otherwise Clearooms "
                "cannot see any bookings until they do.\n\n"
                "Exchange takes 30 minutes to 2 hours to catch up: until then Test Settings "
                "says the limit is not in effect yet."
            )
        )
        dialog.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        dialog.setDefaultButton(QMessageBox.StandardButton.No)
        dialog.button(QMessageBox.StandardButton.Yes).setText(self.tr("Yes, remove it"))
        dialog.button(QMessageBox.StandardButton.No).setText(self.tr("Not yet"))
        dialog.finished.connect(self._remove_grant_answered)
        self.remove_grant_dialog = dialog
        dialog.open()

    @Slot(int)
    def _remove_grant_answered(self, _result: int) -> None:
        dialog = self.remove_grant_dialog
        self.remove_grant_dialog = None
        if dialog is None:
            return
        chose = dialog.standardButton(dialog.clickedButton())
        dialog.deleteLater()
        if chose == QMessageBox.StandardButton.Yes:
            self.remove_grant()

    def remove_grant(self) -> None:
        test, admin = self.test, self._state.admin_session
        if self.busy or test is None or test.credentials is None or admin is None:
            return
        client_id = test.credentials.client_id
        remove = self._context.use_cases.remove_calendars_grant

        def removal(cancel: CancelToken) -> None:
            remove(admin, client_id, cancel)

        # One task: the removal, then Test Settings, which says whether Exchange has caught up
        # (a failed removal is told as a failed test is).
        self._removal = removal
        self.start_test()
        self.show_message(
            Tone.INFO, self.tr("Removing the tenant-wide calendar permission, then testing again…")
        )

    # -- QWizardPage ----------------------------------------------------------------------

    def passed(self) -> bool:
        return (
            self.test is not None
            and self.test.ok
            and self._tested == self.current_values()
            and not self.busy
        )

    def isComplete(self) -> bool:
        return self.passed() and self._save_handle is None

    def validatePage(self) -> bool:
        if not self.passed():
            return False
        assert self.test is not None
        # Reaching every mailbox's calendar is how Clearooms' own guide sets the app up: the
        # warning says how to limit it, but it is a choice to make later, not a problem to
        # confirm before going on.
        warned = [
            r
            for r in self.test.results
            if r.status is Status.WARN and not (r.id == "mailbox_scope" and r.code == "tenant_wide")
        ]
        if warned and not self._warnings_accepted:
            # The question is in the text: macOS shows no title on this dialog.
            answer = QMessageBox.question(
                self,
                self.tr("Continue with warnings?"),
                self.tr(
                    "Test Settings found a warning. Continue to the next step anyway? You can "
                    "fix it later."
                )
                if len(warned) == 1
                else self.tr(
                    "Test Settings found %1 warnings. Continue to the next step anyway? You can "
                    "fix them later."
                ).replace("%1", QLocale().toString(len(warned))),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
            self._warnings_accepted = True
        if self._saved_for != self.current_values():
            self._start_save(self.test)
            return False
        assert self.test.signed_in is not None
        self._state.connection = TestedConnection(self.test.signed_in, self.test.connection.cloud)
        return True

    def _start_save(self, test: SettingsTest) -> None:
        save = self._context.use_cases.save_connection
        self._saving = self.current_values()

        def work(cancel: CancelToken, progress: Progress) -> str | None:
            return save(test)

        self._save_handle = self.run_side_job(
            "save-connection", work, failure=self.tr("Could not save: "), succeeded=self._on_saved
        )
        self._save_handle.signals.finished.connect(self._on_save_finished)
        self.show_message(Tone.INFO, self.tr("Saving…"))
        self.completeChanged.emit()

    @Slot(object)
    def _on_saved(self, message: object) -> None:
        self._saved_for = self._saving
        if isinstance(message, str) and message and not self._no_keyring_told:
            self._no_keyring_told = True
            self._state.post_notice(message)
        self.show_message(Tone.PASS, self.tr("Saved."))
        self.wizard().next()

    @Slot()
    def _on_save_finished(self) -> None:
        self._save_handle = None
        self.completeChanged.emit()

    def initializePage(self) -> None:
        self.fill_from_registration()

    def fill_from_registration(self) -> None:
        """Put in the values of the app “Set it up for me” created, once, and test them. The
        secret stays hidden: shown only if the user presses Show."""
        registered = self._state.registered
        if registered is None or registered is self._filled_from:
            return
        self._filled_from = registered
        self._hand_over_script = registered.rooms_only
        self.setSubTitle(
            self.tr(
                "“Set it up for me” filled these in, and Test Settings checks them. Nothing is "
                "saved until every check passes."
            )
        )
        self.show_secret.setChecked(False)
        self.tenant.setText(registered.tenant_id)
        self.client_id.setText(registered.client_id)
        self.secret.setText(registered.client_secret)
        if registered.certificate is not None:
            self.certificate = registered.certificate
        self.credential_kind.setCurrentIndex(1 if registered.certificate is not None else 0)
        self._show_credential_rows()
        cloud = self.cloud.findData(self._state.cloud.key)
        if cloud >= 0:
            self.cloud.setCurrentIndex(cloud)
        if self.busy:
            # A test of the old values is still running: stop it, and test these once it ends.
            self._test_when_idle = True
            self.cancel_task()
        else:
            self.start_test()

    def cleanupPage(self) -> None:  # Back: stop a running test rather than leave it behind
        self.cancel_task()
