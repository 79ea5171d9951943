"""What the pages share: running work off the GUI thread, and one way to show how it went.

A :class:`TaskPage` has one main task at a time (Test Settings, loading the rooms, the import):
while it runs, the page's busy row shows progress and a Stop button, and the page hears only
from the newest one. Side jobs (saving the settings, an export, a file) run beside it. Whatever
goes wrong is put into words by :func:`error_text` and shown on the page's banner.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar, cast

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget, QWizardPage

from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.fixes import Explanation
from clearooms_wizard.ui.widgets import Banner, Tone
from clearooms_wizard.workers.runner import TaskHandle, TaskRunner, Work

Receiver = Callable[[object], None]
Explainer = Callable[[ClearoomsError], tuple[Explanation, str | None]]
Method = TypeVar("Method", bound=Callable[..., None])


def error_text(error: object, explain: Explainer | None = None) -> str:
    """What to tell the user about a failure. With ``explain`` (for work that talks to
    Microsoft), the plain-English summary, what to do, and the code support asks for; without
    it, the error's own message, which says what to do."""
    if explain is not None and isinstance(error, ClearoomsError):
        explanation, code = explain(error)
        return f"{explanation.summary} {explanation.fix}" + (f" ({code})" if code else "")
    return str(error)


def current_task_only(method: Method) -> Method:
    """For a page's task receivers: ignore signals from a task that a newer one replaced
    (the page was left and entered again, or Retry was pressed)."""

    @functools.wraps(method)
    def receiver(self: TaskPage, *args: object) -> None:
        handle = self._handle
        if handle is not None and self.sender() is handle.signals:
            method(self, *args)

    return cast(Method, receiver)


class BusyRow(QWidget):
    """Progress and a Stop button, shown while the page's main task runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.stop_button = QPushButton()
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.progress, 1)
        self._layout.addWidget(self.stop_button)
        self.hide()

    def describe(self, stop: str, progress: str, progress_width: int | None = None) -> None:
        """The Stop button's text, the progress bar's accessible name, and its width (None: as
        wide as the row)."""
        self.stop_button.setText(stop)
        self.progress.setAccessibleName(progress)
        if progress_width is not None:
            self.progress.setMaximumWidth(progress_width)
            self._layout.setStretchFactor(self.progress, 0)

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def show_working(self) -> None:
        """Progress without a known end."""
        self.progress.setRange(0, 0)


class _SideJob(QObject):
    """Tells a side job's failure on its page's banner (a QObject, so that the failure arrives
    on the GUI thread), then goes."""

    def __init__(self, page: TaskPage, failure: str) -> None:
        super().__init__(page)
        self._page = page
        self._failure = failure

    @Slot(object)
    def failed(self, error: object) -> None:
        self._page.show_message(Tone.FAIL, self._failure + error_text(error))

    @Slot()
    def finished(self) -> None:
        self.deleteLater()


class TaskPage(QWizardPage):
    """A wizard page that runs its work on the wizard's runner and shows how it went.

    Receivers passed to ``run_task`` and ``run_side_job`` must be bound ``@Slot`` methods of a
    QObject on the GUI thread (usually the page), so that Qt delivers them there. The page lays
    out ``banner`` and ``busy_row`` where it wants them (and names the row's parts with
    ``busy_row.describe``); both show themselves when needed.
    """

    def __init__(self, runner: TaskRunner) -> None:
        super().__init__()
        self.runner = runner
        self._handle: TaskHandle | None = None
        # Children of the page from the start, so that neither can ever open as a window.
        self.banner = Banner(parent=self)
        self.banner.hide()
        self.busy_row = BusyRow(self)
        self.busy_row.stop_button.clicked.connect(self.cancel_task)

    # -- feedback -------------------------------------------------------------------------

    def show_message(self, tone: Tone, text: str) -> None:
        self.banner.show_message(tone, text)

    def hide_message(self) -> None:
        self.banner.hide()

    # -- the main task --------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._handle is not None

    def run_task(
        self,
        name: str,
        work: Work,
        *,
        succeeded: Receiver,
        failed: Receiver,
        cancelled: Callable[[], None],
        progress: Receiver | None = None,
    ) -> TaskHandle:
        handle = self.runner.submit(name, work)
        signals = handle.signals
        if progress is not None:
            signals.progress.connect(progress)
        signals.succeeded.connect(succeeded)
        signals.failed.connect(failed)
        signals.cancelled.connect(cancelled)
        signals.finished.connect(self._task_finished)
        self._handle = handle
        self.busy_row.show()
        self.task_started()
        return handle

    @Slot()
    def cancel_task(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    @Slot()
    def _task_finished(self) -> None:
        # Only the current task's end clears it: an older one can finish after a new start.
        if self._handle is not None and self.sender() is self._handle.signals:
            self._handle = None
            self.busy_row.hide()
            self.task_finished()

    def task_started(self) -> None:
        """Hook: show what else changes while work is under way."""

    def task_finished(self) -> None:
        """Hook: the task ended (after its succeeded, failed or cancelled signal)."""

    # -- side jobs ------------------------------------------------------------------------

    def run_side_job(
        self,
        name: str,
        work: Work,
        *,
        failure: str = "",
        succeeded: Receiver | None = None,
        failed: Receiver | None = None,
    ) -> TaskHandle:
        """Run ``work`` beside the main task. A failure goes to ``failed`` if given, else to the
        banner, as ``failure`` followed by the error's text."""
        handle = self.runner.submit(name, work)
        signals = handle.signals
        if succeeded is not None:
            signals.succeeded.connect(succeeded)
        if failed is not None:
            signals.failed.connect(failed)
        else:
            job = _SideJob(self, failure)
            signals.failed.connect(job.failed)
            signals.finished.connect(job.finished)
        return handle
