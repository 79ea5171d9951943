"""The setup wizard window: its pages, the state they share, and the ways out."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QTimer, Signal, Slot
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QWidget, QWizard, QWizardPage

from clearooms_wizard.ui.about import AboutBox
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.crash import CrashBridge, CrashDialog, crash_report
from clearooms_wizard.ui.pages.factory import (
    LaterPages,
    arrange_keyboard,
    build_first_page,
    build_later_pages,
)
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.state import WizardState
from clearooms_wizard.workers.runner import TaskRunner

if TYPE_CHECKING:
    from clearooms_wizard.ui.pages.connect import ConnectPage
    from clearooms_wizard.ui.pages.import_ import ImportPage
    from clearooms_wizard.ui.pages.register import RegisterPage
    from clearooms_wizard.ui.pages.rooms import RoomsPage

log = logging.getLogger(__name__)

LATER_PAGE_IDS = (PageId.REGISTER, PageId.CONNECT, PageId.ROOMS, PageId.IMPORT)


class SetupWizard(QWizard):
    # Emitted once, just after the first page has been painted: work that can wait goes here.
    first_painted = Signal()

    def __init__(self, context: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.state = WizardState(
            context.clouds.get(context.initial.cloud) or next(iter(context.clouds.values())), self
        )
        self.runner = TaskRunner(self)
        self.runner.crashed.connect(self.show_crash)
        self.crash_bridge = CrashBridge(self)
        self.crash_bridge.raised.connect(self.show_crash)
        self.crash_dialog: CrashDialog | None = None
        self.about_box: AboutBox | None = None
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
        self.welcome_page = build_first_page(context)
        self.setPage(PageId.WELCOME, self.welcome_page)
        # The other pages are built just after the first page is painted, or as soon as
        # something asks for one (see pages/factory.py); until then empty stand-ins keep the
        # buttons right (Next, not Finish).
        self._pages: LaterPages | None = None
        self._first_paint_seen = False
        self._pages_failed = False
        self.first_painted.connect(self._build_pages_after_first_paint)
        for page_id in LATER_PAGE_IDS:
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

    def build_pages(self) -> LaterPages:
        """Build the pages after the first (once); safe to call any time."""
        if self._pages is not None:
            return self._pages
        if self._pages_failed:
            # Built once, and that failed (the crash dialog said so): not again and again.
            raise RuntimeError("the wizard's pages could not be built")
        self._pages_failed = True
        pages = build_later_pages(self.context, self.state, self.runner)
        self._pages = pages
        self._pages_failed = False
        for page_id, page in zip(LATER_PAGE_IDS, pages, strict=True):
            stand_in = self.page(page_id)
            self.removePage(page_id)
            self.setPage(page_id, page)
            stand_in.deleteLater()
        return pages

    @Slot()
    def _build_pages_after_first_paint(self) -> None:
        self.build_pages()
        self._arrange_keyboard()

    # For code that drives the wizard from outside (tests, the screenshot tool); the pages
    # themselves share only self.state.

    @property
    def register_page(self) -> RegisterPage:
        return self.build_pages().register

    @property
    def connect_page(self) -> ConnectPage:
        return self.build_pages().connect

    @property
    def rooms_page(self) -> RoomsPage:
        return self.build_pages().rooms

    @property
    def import_page(self) -> ImportPage:
        return self.build_pages().import_

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._first_paint_seen:
            self._first_paint_seen = True
            # Queued, so the paint reaches the screen first.
            QTimer.singleShot(0, self.first_painted.emit)

    def validateCurrentPage(self) -> bool:
        self.build_pages()  # in case Next comes before the pages were built
        return super().validateCurrentPage()

    @Slot(int)
    def _custom_button(self, which: int) -> None:
        if which == QWizard.WizardButton.CustomButton1.value:
            self.show_about()

    def show_about(self) -> None:
        self.about_box = AboutBox(self.context.report_environment, self)
        self.about_box.open()

    @Slot(int)
    def _remember_page(self, page_id: int) -> None:
        if page_id >= 0:
            log.info("page: %s", PageId(page_id).name.lower())
            self.context.preferences_state.last_page = page_id
            # Before the first paint Qt's choice stands (Next, on the Welcome page): the Qt
            # namespace this needs costs a tenth of a cold start (see ui/widgets.py).
            if self._first_paint_seen:
                self._arrange_keyboard()

    def _arrange_keyboard(self) -> None:
        arrange_keyboard(self)

    @Slot(object)
    def show_crash(self, error: object) -> None:
        if self.crash_dialog is not None and self.crash_dialog.isVisible():
            return
        if isinstance(error, BaseException):
            log.error("unexpected error", exc_info=error)
        # Not through connect_page: if building the pages is what failed, that would try again.
        secrets = [self.context.initial.client_secret]
        if self._pages is not None:
            secrets.append(self._pages.connect.secret.text())
        self.crash_dialog = CrashDialog(crash_report(error, secrets), self)
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
