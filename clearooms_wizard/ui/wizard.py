"""The setup wizard window."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QPaintEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from clearooms_wizard import __version__
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.redaction import redact
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.pages.welcome import WelcomePage
from clearooms_wizard.ui.widgets import plain_label
from clearooms_wizard.workers.runner import Progress, TaskRunner

if TYPE_CHECKING:
    from clearooms_wizard.ui.pages.connect import ConnectPage
    from clearooms_wizard.ui.pages.finish import ImportPage
    from clearooms_wizard.ui.pages.register import RegisterPage
    from clearooms_wizard.ui.pages.rooms import RoomsPage

log = logging.getLogger(__name__)


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


def install_crash_hooks(wizard: SetupWizard) -> None:
    """Route uncaught exceptions, also from plain threads, to the wizard's crash dialog."""
    bridge = wizard.crash_bridge

    def excepthook(
        kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        bridge.raised.emit(error)

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            bridge.raised.emit(args.exc_value)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook


class SetupWizard(QWizard):
    # Emitted once, just after the first page has been painted: work that can wait goes here.
    first_painted = Signal()

    def __init__(self, context: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.runner = TaskRunner(self)
        self.runner.crashed.connect(self.show_crash)
        self.crash_bridge = CrashBridge(self)
        self.crash_bridge.raised.connect(self.show_crash)
        self.crash_dialog: CrashDialog | None = None
        self.notice: str | None = None
        self.setWindowTitle(
            self.tr("Clearooms setup")
            + (self.tr(" (demo tenant)") if context.demo_scenario else "")
        )
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setButtonText(QWizard.WizardButton.CustomButton1, self.tr("&About"))
        self.customButtonClicked.connect(self._custom_button)
        self.welcome_page = WelcomePage(context)
        self.setPage(PageId.WELCOME, self.welcome_page)
        # The other pages (and the Graph, import and workspace code behind them) are built
        # just after the first page is painted, or as soon as something asks for one; until
        # then empty stand-ins keep the buttons right (Next, not Finish).
        self._pages: tuple[RegisterPage, ConnectPage, RoomsPage, ImportPage] | None = None
        self._first_paint_seen = False
        self._pages_failed = False
        self.first_painted.connect(self._build_pages_after_first_paint)
        for page_id in (PageId.REGISTER, PageId.CONNECT, PageId.ROOMS, PageId.IMPORT):
            self.setPage(page_id, QWizardPage())
        self.setMinimumSize(720, 540)
        self.resize(860, 680)
        geometry = context.preferences_state.window_geometry
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))
        self.currentIdChanged.connect(self._remember_page)
        last = context.preferences_state.last_page
        if last is not None and last >= PageId.CONNECT and context.initial.client_id:
            # Someone who got past registering before comes back to their saved values; going
            # through the pages (rather than setStartId) keeps Back to the checklist working.
            self.build_pages()
            self.restart()
            self.next()
            self.next()

    def build_pages(self) -> tuple[RegisterPage, ConnectPage, RoomsPage, ImportPage]:
        """Build the pages after the first (once); safe to call any time."""
        if self._pages is not None:
            return self._pages
        if self._pages_failed:
            # Built once, and that failed (the crash dialog said so): not again and again.
            raise RuntimeError("the wizard's pages could not be built")
        self._pages_failed = True
        from clearooms_wizard.ui.pages.connect import ConnectPage
        from clearooms_wizard.ui.pages.finish import ImportPage
        from clearooms_wizard.ui.pages.register import RegisterPage
        from clearooms_wizard.ui.pages.rooms import RoomsPage

        context = self.context
        pages = (
            RegisterPage(context),
            ConnectPage(context),
            RoomsPage(context),
            ImportPage(context),
        )
        self._pages = pages
        self._pages_failed = False
        for page_id, page in zip(
            (PageId.REGISTER, PageId.CONNECT, PageId.ROOMS, PageId.IMPORT), pages, strict=True
        ):
            stand_in = self.page(page_id)
            self.removePage(page_id)
            self.setPage(page_id, page)
            stand_in.deleteLater()
        return pages

    @Slot()
    def _build_pages_after_first_paint(self) -> None:
        self.build_pages()

    @property
    def register_page(self) -> RegisterPage:
        return self.build_pages()[0]

    @property
    def connect_page(self) -> ConnectPage:
        return self.build_pages()[1]

    @property
    def rooms_page(self) -> RoomsPage:
        return self.build_pages()[2]

    @property
    def import_page(self) -> ImportPage:
        return self.build_pages()[3]

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._first_paint_seen:
            self._first_paint_seen = True
            # Queued, so the paint reaches the screen first.
            QTimer.singleShot(0, self.first_painted.emit)

    def validateCurrentPage(self) -> bool:
        self.build_pages()  # in case Next comes before the pages were built
        return super().validateCurrentPage()

    def current_cloud(self) -> Cloud:
        key = str(self.connect_page.cloud.currentData())
        return self.context.clouds.get(key) or next(iter(self.context.clouds.values()))

    def set_notice(self, message: str) -> None:
        """A message to show once, on the next page (for example: no keyring on this computer)."""
        self.notice = message

    @Slot(int)
    def _custom_button(self, which: int) -> None:
        if which == QWizard.WizardButton.CustomButton1.value:
            self.show_about()

    def show_about(self) -> None:
        lines = [self.tr("Clearooms setup wizard, version %1").replace("%1", __version__)]
        lines += [f"{name}: {value}" for name, value in self.context.report_environment.items()]
        lines.append(
            self.tr(
                "Send the log file to Clearooms support if they ask for it: it never holds "
                "your client secret."
            )
        )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            self.tr("About"),
            "\n\n".join(lines),
            QMessageBox.StandardButton.Close,
            self,
        )
        # Here rather than at the top: see clearooms_wizard/ui/widgets.py on the Qt namespace.
        from PySide6.QtCore import Qt

        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.about_box = box
        box.open()

    def take_notice(self) -> str | None:
        notice, self.notice = self.notice, None
        return notice

    @Slot(int)
    def _remember_page(self, page_id: int) -> None:
        if page_id >= 0:
            self.context.preferences_state.last_page = page_id

    @Slot(str, str)
    def save_text_file(self, path: str, text: str) -> None:
        def work(cancel: CancelToken, progress: Progress) -> str:
            try:
                Path(path).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise ClearoomsError(
                    f"Could not save to {path} ({exc.strerror}). Choose another folder."
                ) from None
            return path

        handle = self.runner.submit("save-file", work)
        handle.signals.failed.connect(self._show_save_error)

    @Slot(object)
    def _show_save_error(self, error: object) -> None:
        dialog = self.register_page.instructions_dialog
        if dialog is not None:
            dialog.status.setText(str(error))

    @Slot(object)
    def show_crash(self, error: object) -> None:
        if self.crash_dialog is not None and self.crash_dialog.isVisible():
            return
        if isinstance(error, BaseException):
            log.error("unexpected error", exc_info=error)
            text = "".join(traceback.format_exception(error))
        else:
            text = str(error)
        # Not through connect_page: if building the pages is what failed, that would try again.
        secrets = [self.context.initial.client_secret]
        if self._pages is not None:
            secrets.append(self._pages[1].secret.text())
        secrets += [secret.strip() for secret in secrets]
        self.crash_dialog = CrashDialog(redact(text, secrets), self)
        self.crash_dialog.open()

    def _save_preferences(self) -> None:
        state = self.context.preferences_state
        state.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        # A convenience only: losing the window position must not block closing.
        with contextlib.suppress(OSError):
            self.context.preferences.save(state)

    def shutdown(self) -> None:
        """Remember the window, hide it, cancel all work and wait for it; safe to call twice.

        For code that ends a wizard without closing it (tests, the screenshot tool). The ways
        out a user takes all close the window, and QDialog turns each into done()."""
        self._save_preferences()
        # Gone from the screen at once: a request still in flight may take a few seconds to
        # notice the cancel, and nobody should watch a frozen window meanwhile.
        self.hide()
        self.runner.shutdown(10_000)

    def done(self, result: int) -> None:
        # Cancel, Escape and Finish come here, and so does the title bar's close (through
        # QDialog.closeEvent's reject()). Qt must close the window while it is still visible:
        # closing the last visible window is what ends app.exec(), and a window hidden first
        # counts as gone already, so the process lived on with no window.
        self._save_preferences()
        super().done(result)
        # The window is off the screen by now, so nobody watches it wait for work in flight.
        self.runner.shutdown(10_000)
