"""What the pages share: a typed way to reach the wizard, and one running task at a time."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QWizardPage

from clearooms_wizard.workers.runner import TaskHandle, Work

if TYPE_CHECKING:
    from clearooms_wizard.ui.wizard import SetupWizard

Receiver = Callable[[object], None]
Method = TypeVar("Method", bound=Callable[..., None])


def current_task_only(method: Method) -> Method:
    """For a page's task receivers: ignore signals from a task that a newer one replaced
    (the page was left and entered again, or Retry was pressed)."""

    @functools.wraps(method)
    def receiver(self: TaskPage, *args: object) -> None:
        handle = self._handle
        if handle is not None and self.sender() is handle.signals:
            method(self, *args)

    return cast(Method, receiver)


class TaskPage(QWizardPage):
    """A wizard page that runs its main work on the wizard's runner, one task at a time.

    Receivers passed to ``run_task`` must be bound ``@Slot`` methods of the page, so that Qt
    delivers them on the GUI thread.
    """

    def __init__(self) -> None:
        super().__init__()
        self._handle: TaskHandle | None = None

    def owner(self) -> SetupWizard:
        from clearooms_wizard.ui.wizard import SetupWizard

        wizard = self.wizard()
        assert isinstance(wizard, SetupWizard)
        return wizard

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
        handle = self.owner().runner.submit(name, work)
        signals = handle.signals
        if progress is not None:
            signals.progress.connect(progress)
        signals.succeeded.connect(succeeded)
        signals.failed.connect(failed)
        signals.cancelled.connect(cancelled)
        signals.finished.connect(self._task_finished)
        self._handle = handle
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
            self.task_finished()

    def task_started(self) -> None:
        """Hook: show that work is under way."""

    def task_finished(self) -> None:
        """Hook: the task ended (after its succeeded, failed or cancelled signal)."""
