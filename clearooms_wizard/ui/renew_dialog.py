"""“Renew the secret”: an administrator (or the app's owner) signs in, and the wizard adds a new
client secret, checks that Microsoft accepts it, saves it, and only then removes the old one.
When the connection signs in with a certificate, the same for a new certificate (“Renew the
certificate”). The work runs on a worker thread (UseCases); this dialog shows each step."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clearooms_wizard.core.app_setup import SignInMethod, StepState
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.ui.pages.base import error_text
from clearooms_wizard.ui.widgets import plain_label

if TYPE_CHECKING:
    from clearooms_wizard.core.admin_signin import AdminSession
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.core.clouds import Cloud
    from clearooms_wizard.core.renewal import AppCredential, RenewalOutcome
    from clearooms_wizard.core.usecases import UseCases
    from clearooms_wizard.ui.state import WizardState
    from clearooms_wizard.workers.runner import Progress, TaskHandle, TaskRunner

_SIGN_IN_MARGIN = 300.0
_STATE_MARKS = {
    StepState.RUNNING: "…",
    StepState.DONE: "✓",
    StepState.SKIPPED: "-",
    StepState.NEEDS_APPROVAL: "…",
    StepState.FAILED: "✗",
}


@dataclass(frozen=True)
class RenewTarget:
    """The app whose secret to renew, as the Connect page holds it."""

    tenant: str
    client_id: str
    current_secret: str
    cloud: Cloud
    # The certificate the connection signs in with, when it uses one: that is what is renewed.
    certificate: CertificateCredential | None = field(default=None, repr=False)


class RenewDialog(QDialog):
    """Signals: renewed(object): the RenewalOutcome, once the new secret works and is saved."""

    renewed = Signal(object)

    def __init__(
        self,
        use_cases: UseCases,
        runner: TaskRunner,
        state: WizardState,
        target: RenewTarget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._renews_certificate = target.certificate is not None
        self.setWindowTitle(
            self.tr("Renew the certificate")
            if self._renews_certificate
            else self.tr("Renew the client secret")
        )
        self.setMinimumWidth(560)
        self._use_cases = use_cases
        self._runner = runner
        self._state = state
        self._target = target
        self._handle: TaskHandle | None = None
        self.intro = plain_label(
            self.tr(
                "An administrator (an Application Administrator, a Cloud Application "
                "Administrator or a Global Administrator) or the app's owner signs in. The "
                "wizard then makes a new certificate, adds it to the app, checks that Microsoft "
                "accepts it, keeps its private key on this computer, and only then removes the "
                "old certificate. If anything goes wrong before that, the old certificate is "
                "left as it is."
            )
            if self._renews_certificate
            else self.tr(
                "An administrator (an Application Administrator, a Cloud Application "
                "Administrator or a Global Administrator) or the app's owner signs in. The "
                "wizard then adds a new client secret, checks that Microsoft accepts it, saves "
                "it on this computer, and only then removes the old one. If anything goes wrong "
                "before that, the old secret is left as it is."
            )
        )
        self.remove_foreign = QCheckBox(
            self.tr("Also remove the old secret if it was not made by Clearooms")
        )
        self.remove_foreign.setToolTip(
            self.tr(
                "A secret made in the admin center may be used by something else; leave this "
                "unticked to keep it (it expires by itself)."
            )
        )
        # The certificate in use is one this computer made (it holds its key): never asked about.
        self.remove_foreign.setVisible(not self._renews_certificate)
        self.steps = plain_label("")
        self.steps.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = plain_label("")
        self.message.hide()
        self.start_button = QPushButton(self.tr("&Sign in and renew"))
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.remove_foreign)
        layout.addLayout(row)
        layout.addWidget(self.steps)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._lines: dict[str, str] = {}

    # -- running -------------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        from clearooms_wizard.core.renewal import RenewalRequest, RenewalStep

        if self._handle is not None:
            return
        use_cases, target, state = self._use_cases, self._target, self._state
        session = state.admin_session
        remove_foreign = self.remove_foreign.isChecked()
        certificate = target.certificate
        signing_in = self.tr("Signing in: finish in your browser…")

        def confirm(old: AppCredential) -> bool:
            return remove_foreign

        def work(
            cancel: CancelToken, progress: Progress
        ) -> tuple[AdminSession, RenewalOutcome | str]:
            admin = session
            # A sign-in from earlier in this run is used while it has a few minutes left.
            if admin is None or admin.expires_at - time.time() < _SIGN_IN_MARGIN:
                progress(signing_in)
                admin = use_cases.sign_in_admin(
                    target.cloud, SignInMethod.BROWSER, cancel, tenant=target.tenant or None
                )
            unfinished = use_cases.unfinished_renewal()
            if unfinished is not None and unfinished.step is RenewalStep.SAVED:
                # An earlier renewal saved its new secret (the box holds it): finish that one.
                text = use_cases.finish_renewal(
                    admin, unfinished, target.current_secret or None, confirm, cancel, progress,
                    certificate,
                )  # fmt: skip
                return admin, text
            request = RenewalRequest(
                tenant_id=admin.admin.tenant_id,
                client_id=target.client_id,
                current_secret=target.current_secret or None,
                certificate=certificate is not None,
                current_certificate=certificate,
            )
            return admin, use_cases.renew_secret(admin, request, confirm, cancel, progress)

        self.start_button.setEnabled(False)
        self.remove_foreign.setEnabled(False)
        self.message.hide()
        self._lines = {}
        handle = self._runner.submit("renew-secret", work)
        handle.signals.progress.connect(self._on_progress)
        handle.signals.succeeded.connect(self._on_done)
        handle.signals.failed.connect(self._on_failed)
        handle.signals.cancelled.connect(self._on_cancelled)
        handle.signals.finished.connect(self._on_finished)
        self._handle = handle

    @Slot(object)
    def _on_progress(self, update: object) -> None:
        from clearooms_wizard.core.renewal import RenewalUpdate

        if isinstance(update, RenewalUpdate):
            # A failure's words are shown once, below the steps.
            failed = update.state is StepState.FAILED
            detail = f": {update.detail}" if update.detail and not failed else ""
            self._lines.pop("sign-in", None)
            self._lines[update.stage.value] = (
                f"{_STATE_MARKS[update.state]} {self.tr(update.title)}{detail}"
            )
        elif isinstance(update, str):
            self._lines["sign-in"] = update
        self.steps.setText("\n".join(self._lines.values()))
        self.adjustSize()

    @Slot(object)
    def _on_done(self, result: object) -> None:
        from clearooms_wizard.core.admin_signin import AdminSession
        from clearooms_wizard.core.renewal import RenewalOutcome

        assert isinstance(result, tuple)
        admin, outcome = result
        assert isinstance(admin, AdminSession)
        self._state.admin_session = admin
        if isinstance(outcome, str):
            self._show(outcome)
            return
        assert isinstance(outcome, RenewalOutcome)
        until = f"{outcome.expires_at:%d %B %Y}".lstrip("0")
        text = self.tr("Done: the new secret works and lasts until %1.").replace("%1", until)
        if outcome.new_certificate is not None:
            text = self.tr(
                "Done: the new certificate works and lasts until %1. Its private key is kept on "
                "this computer, and Test Settings now uses it."
            ).replace("%1", until)
            if not outcome.kept_in_keyring:
                text += " " + self.tr(
                    "This computer has no keyring, so the key is kept only until you close the "
                    "wizard, and the old credential was kept: it still works until it expires."
                )
        elif not outcome.kept_in_keyring:
            text += " " + self.tr(
                "This computer has no keyring, so it is kept only until you close the wizard, "
                "and the old secret was kept: it still works until it expires."
            )
        if outcome.old_kept_because and outcome.kept_in_keyring:
            text += " " + outcome.old_kept_because
        self._show(text)
        self.renewed.emit(outcome)

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        self._show(error_text(error))
        self.start_button.setText(self.tr("&Try again"))
        self.start_button.setEnabled(True)
        self.remove_foreign.setEnabled(True)

    @Slot()
    def _on_cancelled(self) -> None:
        self._show(
            self.tr("Stopped. The certificate you have now is unchanged.")
            if self._renews_certificate
            else self.tr("Stopped. The secret you have now is unchanged.")
        )
        self.start_button.setEnabled(True)
        self.remove_foreign.setEnabled(True)

    @Slot()
    def _on_finished(self) -> None:
        self._handle = None

    def _show(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        self.adjustSize()

    def reject(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        super().reject()
