"""What the user sees when something unexpected happens: one dialog, with a report to copy.

Exceptions reach it from three places: a worker task that failed in a way nobody expected (the
runner's ``crashed`` signal), the GUI thread, and any other thread (the hooks below, which carry
the exception over through :class:`CrashBridge`).
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from clearooms_wizard.core.redaction import redact
from clearooms_wizard.ui.widgets import plain_label


def crash_report(error: object, secrets: Iterable[str]) -> str:
    """The traceback (or the message) of ``error``, with every secret taken out."""
    if isinstance(error, BaseException):
        text = "".join(traceback.format_exception(error))
    else:
        text = str(error)
    known = list(secrets)
    # Pasted values often carry a space or a newline; the bare value is what appears in text.
    known += [secret.strip() for secret in known]
    return redact(text, known)


class CrashDialog(QDialog):
    """One dialog for anything unexpected, with a report the user can copy (secret removed)."""

    def __init__(self, report: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Something went wrong"))
        self.report = report
        text = QPlainTextEdit(report)
        text.setReadOnly(True)
        text.setAccessibleName(self.tr("Error report"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton(self.tr("&Copy report"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                self.tr(
                    "The wizard hit a problem it did not expect. Your saved settings are safe. "
                    "Please copy this report and send it to Clearooms support."
                )
            )
        )
        layout.addWidget(text, 1)
        layout.addWidget(buttons)
        self.resize(640, 400)

    @Slot()
    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.report)


class CrashBridge(QObject):
    """Carries an unexpected exception from any thread to the GUI thread."""

    raised = Signal(object)


def install_crash_hooks(bridge: CrashBridge) -> None:
    """Route uncaught exceptions, also from plain threads, through ``bridge``."""

    def excepthook(
        kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        bridge.raised.emit(error)

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            bridge.raised.emit(args.exc_value)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
