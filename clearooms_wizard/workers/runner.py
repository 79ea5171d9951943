"""Run core work on a thread pool and report back on the GUI thread.

The runner owns each task's signals object and keeps both alive until the task has finished, so
nothing is garbage-collected or deleted under a running thread. Receivers must be bound ``@Slot``
methods of QObjects living in the GUI thread: PySide6 queues those calls to the GUI thread, which
it does not reliably do for lambdas.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.errors import ClearoomsError

Progress = Callable[[object], None]
Work = Callable[[CancelToken, Progress], object]


class TaskSignals(QObject):
    """Signals:
    progress(object): whatever the work reports as it goes.
    succeeded(object): the work's return value.
    failed(object): a ClearoomsError: an expected failure the page explains inline.
    crashed(object): any other exception: a bug, shown in the crash dialog.
    cancelled(): the work stopped because Cancel was pressed.
    finished(): always last.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    crashed = Signal(object)
    cancelled = Signal()
    finished = Signal()


class TaskHandle:
    def __init__(self, name: str, signals: TaskSignals) -> None:
        self.name = name
        self.signals = signals
        self.cancel_token = CancelToken()
        self.done = threading.Event()

    def cancel(self) -> None:
        self.cancel_token.cancel()

    @property
    def running(self) -> bool:
        return not self.done.is_set()


class _Task(QRunnable):
    def __init__(self, work: Work, handle: TaskHandle) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._work = work
        self.handle = handle

    def run(self) -> None:  # on a pool thread: emit only, never touch a widget
        handle, signals = self.handle, self.handle.signals
        try:
            result = self._work(handle.cancel_token, signals.progress.emit)
            # The work completed, so report what it did even if Cancel came too late to stop
            # it: an import that was written must not be reported as stopped.
            signals.succeeded.emit(result)
        except Cancelled:
            signals.cancelled.emit()
        except ClearoomsError as exc:
            if handle.cancel_token.cancelled:
                signals.cancelled.emit()
            else:
                signals.failed.emit(exc)
        except BaseException as exc:  # a bug: report it, never let it vanish with the thread
            signals.crashed.emit(exc)
        finally:
            handle.done.set()
            signals.finished.emit()


class TaskRunner(QObject):
    """Owns the pool and every running task. Signals: crashed(object) for unexpected errors."""

    crashed = Signal(object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._running: dict[int, tuple[_Task, TaskHandle]] = {}
        self._waiting: list[_Task] = []

    def submit(self, name: str, work: Work) -> TaskHandle:
        """Start ``work(cancel, progress)``; connect to ``handle.signals`` before returning to
        the event loop (signals are delivered through it, so none can be missed)."""
        signals = TaskSignals(self)
        handle = TaskHandle(name, signals)
        task = _Task(work, handle)
        self._running[id(handle)] = (task, handle)
        signals.crashed.connect(self.crashed)
        signals.finished.connect(self._forget)
        # Started on the next turn of the event loop, after the caller has connected its
        # receivers: a task that finished at once would otherwise report to nobody.
        self._waiting.append(task)
        QTimer.singleShot(0, self._start_waiting)
        return handle

    @Slot()
    def _start_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for task in waiting:
            if task.handle.cancel_token.cancelled:
                task.handle.signals.cancelled.emit()
                task.handle.done.set()
                task.handle.signals.finished.emit()
            else:
                self._pool.start(task)

    @Slot()
    def _forget(self) -> None:
        signals = self.sender()
        for key, (_task, handle) in list(self._running.items()):
            if handle.signals is signals:
                del self._running[key]
                signals.deleteLater()

    @property
    def busy(self) -> bool:
        return any(handle.running for _task, handle in self._running.values())

    def cancel_all(self) -> None:
        for _task, handle in self._running.values():
            handle.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait for the threads; True when all have stopped."""
        self.cancel_all()
        self._start_waiting()  # the not-yet-started report their cancellation now
        return bool(self._pool.waitForDone(timeout_ms))
