"""Page 5: check the rooms' calendars, import, and say what happened and what to do next."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.fixes import explain_error
from clearooms_wizard.core.importer import ImportProgress, ImportResult
from clearooms_wizard.core.model import RoomStatus
from clearooms_wizard.core.usecases import Exported, ImportRequest, PreparedImport
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.pages.base import TaskPage, current_task_only, error_text
from clearooms_wizard.ui.state import WizardState
from clearooms_wizard.ui.widgets import Tone, plain_label
from clearooms_wizard.workers.runner import Progress, TaskRunner, Work


class ImportPage(TaskPage):
    def __init__(self, context: WizardContext, state: WizardState, runner: TaskRunner) -> None:
        super().__init__(runner)
        self.busy_row.describe(self.tr("Stop"), self.tr("Progress"))
        self._context = context
        self._state = state
        self.setTitle(self.tr("Import the rooms"))
        self.setSubTitle(
            self.tr("First we check that Clearooms can read each room's calendar, then import.")
        )
        self.summary = plain_label("")
        self.problems = QTableWidget(0, 3)
        self.problems.setHorizontalHeaderLabels(
            [self.tr("Room"), self.tr("Why"), self.tr("What to do")]
        )
        self.problems.setAccessibleName(self.tr("Rooms that need attention"))
        self.problems.verticalHeader().hide()
        self.problems.setWordWrap(True)
        self.problems.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # A reason shared by many rooms makes a tall row: scroll smoothly through it.
        self.problems.setVerticalScrollMode(QTableWidget.ScrollMode.ScrollPerPixel)
        header = self.problems.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.problems.hide()
        self.include_blocked = QCheckBox()
        self.include_blocked.toggled.connect(self._update_import_label)
        self.include_blocked.hide()
        self.import_button = QPushButton(self.tr("&Import"))
        self.import_button.clicked.connect(self.start_import)
        self.retry_button = QPushButton(self.tr("Chec&k again"))
        self.retry_button.setToolTip(self.tr("Check the rooms that could not be imported again"))
        self.retry_button.clicked.connect(self.retry)
        self.export_button = QPushButton(self.tr("&Export…"))
        self.export_button.setToolTip(self.tr("Save the offices and rooms as a file for Clearooms"))
        self.export_button.clicked.connect(self.export)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        self.next_steps = plain_label("")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.busy_row)
        layout.addWidget(self.banner)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.include_blocked)
        layout.addLayout(buttons)
        layout.addWidget(self.next_steps)
        self._request: ImportRequest | None = None
        self._show_idle()

    # -- flow -----------------------------------------------------------------------------

    def initializePage(self) -> None:
        state = self._state
        choice, directory, connection = state.office, state.directory, state.connection
        if choice is None or directory is None or connection is None:
            return
        self._request = ImportRequest(
            office=choice.name,
            create_office=not choice.exists,
            rooms=state.rooms,
            directory=directory,
            credentials=connection.credentials,
            cloud=connection.cloud,
        )
        state.result = None
        state.prepared = None
        self._prepare(self._request, None)

    def _prepare(self, request: ImportRequest, only: list[str] | None) -> None:
        prepare = self._context.use_cases.prepare_import
        previous = self._state.prepared

        def work(cancel: CancelToken, progress: Progress) -> PreparedImport:
            return prepare(request, previous, only, cancel, progress)

        self.summary.setText(self.tr("Checking each room's calendar…"))
        self.busy_row.show_progress(0, max(1, len(only) if only else len(request.rooms)))
        self._start("prepare-import", work, self._on_prepared)

    def _start(self, name: str, work: Work, on_success: Callable[[object], None]) -> None:
        self.run_task(
            name,
            work,
            progress=self._on_progress,
            succeeded=on_success,
            failed=self._on_failed,
            cancelled=self._on_cancelled,
        )

    def task_started(self) -> None:
        self.hide_message()
        self._set_busy(True)

    def task_finished(self) -> None:
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.import_button.setEnabled(
            not busy and self._state.prepared is not None and self._state.result is None
        )
        self.retry_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy)
        self.completeChanged.emit()

    @Slot(object)
    @current_task_only
    def _on_progress(self, update: object) -> None:
        if isinstance(update, ImportProgress):
            self.busy_row.show_progress(update.done, update.total)
            self.summary.setText(
                self.tr("Checking room calendars: %1 of %2 done…")
                .replace("%1", str(update.done))
                .replace("%2", str(update.total))
            )

    @Slot(object)
    @current_task_only
    def _on_prepared(self, prepared: object) -> None:
        assert isinstance(prepared, PreparedImport)
        self._state.prepared = prepared
        blocked = [c for c in prepared.checks if c.blocked]
        failed = [c for c in prepared.checks if c.failed]
        # The counts are of the rooms the Import button will write; the others are told apart.
        held_back = {c.email.casefold() for c in (*blocked, *failed)}
        ready = Counter(p.status for p in prepared.plan.rooms if p.room.key not in held_back)
        new, updated = ready[RoomStatus.NEW], ready[RoomStatus.UPDATED]
        moving, unchanged = ready[RoomStatus.MOVING], ready[RoomStatus.UNCHANGED]
        summary = self._counted(
            [
                (new, self.tr("%n new room(s)", "", new)),
                (updated, self.tr("%n room(s) to update", "", updated)),
                (moving, self.tr("%n room(s) moving here", "", moving)),
                (unchanged, self.tr("%n room(s) unchanged", "", unchanged)),
            ]
        )
        text = self.tr("Into “%1”: ").replace("%1", prepared.plan.office.name) + summary + "."
        movers = prepared.plan.with_status(RoomStatus.MOVING)
        if movers:
            origins = sorted({p.moving_from for p in movers if p.moving_from})
            text += " " + self.tr("%n room(s) will move here from %1.", "", len(movers)).replace(
                "%1", ", ".join(f"“{name}”" for name in origins) or self.tr("another office")
            )
        if blocked or failed:
            text += " " + self.tr(
                "%n more room(s) can't be imported yet; see below.", "", len(blocked) + len(failed)
            )
        else:
            text += " " + self.tr("Every room's calendar can be read.")
        if prepared.plan.missing:
            text += " " + self.tr(
                "%n room(s) imported before no longer in Microsoft 365 (kept, not deleted).",
                "",
                len(prepared.plan.missing),
            )
        self.summary.setText(text)
        self._fill_problems(
            [
                (
                    self._room_name(c.email),
                    c.problem.summary if c.problem else "",
                    c.problem.fix if c.problem else "",
                )
                for c in (*blocked, *failed)
            ]
        )
        self.include_blocked.setVisible(bool(blocked))
        self.include_blocked.setText(
            self.tr(
                "Also import the %n room(s) whose calendars can't be read yet", "", len(blocked)
            )
        )
        self._update_import_label(self.include_blocked.isChecked())

    def _counted(self, parts: list[tuple[int, str]]) -> str:
        """ "3 new rooms, 1 room to update": the counted texts whose count is not zero, or
        "no rooms"."""
        shown = [text for count, text in parts if count]
        return ", ".join(shown) if shown else self.tr("no rooms")

    @Slot(bool)
    def _update_import_label(self, include: bool) -> None:
        prepared = self._state.prepared
        if prepared is None:
            return
        blocked = sum(1 for c in prepared.checks if c.blocked)
        failed = sum(1 for c in prepared.checks if c.failed)
        writable = len(prepared.checks) - failed - (0 if include else blocked)
        self.import_button.setText(self.tr("&Import %n room(s)", "", writable))

    def _room_name(self, email: str) -> str:
        request = self._request
        if request is not None:
            for room in request.rooms:
                if room.key == email.casefold():
                    return f"{room.name}\n{room.email}"
        return email

    def _fill_problems(self, rooms: list[tuple[str, str, str]]) -> None:
        """One row per reason, listing its rooms: the fix for many rooms is read once."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for room, why, fix in rooms:
            grouped.setdefault((why, fix), []).append(room)
        rows = [("\n\n".join(names), why, fix) for (why, fix), names in grouped.items()]
        self.problems.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)  # item views show text as plain text
                item.setToolTip(value)
                self.problems.setItem(row, column, item)
        self.problems.resizeRowsToContents()
        self.problems.setVisible(bool(rows))

    @Slot()
    def start_import(self) -> None:
        prepared = self._state.prepared
        if prepared is None or self.busy:
            return
        apply = self._context.use_cases.apply_import
        include = self.include_blocked.isChecked()

        def work(cancel: CancelToken, progress: Progress) -> ImportResult:
            return apply(prepared, include, cancel)

        self.summary.setText(self.tr("Importing…"))
        self.busy_row.show_working()
        self._start("apply-import", work, self._on_imported)

    @Slot(object)
    @current_task_only
    def _on_imported(self, result: object) -> None:
        assert isinstance(result, ImportResult)
        self._state.record_import(result)
        added, updated, unchanged = len(result.new), len(result.updated), len(result.unchanged)
        summary = self._counted(
            [
                (added, self.tr("%n room(s) added", "", added)),
                (updated, self.tr("%n room(s) updated", "", updated)),
                (unchanged, self.tr("%n room(s) already up to date", "", unchanged)),
            ]
        )
        left_out = result.blocked + result.failed
        tone = Tone.PASS if not left_out else Tone.WARN
        text = self.tr("Import finished into “%1”: ").replace("%1", result.office.name)
        text += summary + "."
        if left_out:
            text += " " + self.tr(
                "%n room(s) not imported; the reasons and fixes are listed below.",
                "",
                len(left_out),
            )
        self.show_message(tone, text)
        self.summary.setText("")
        rows = [(f"{o.name}\n{o.email}", o.reason or "", o.fix or "") for o in left_out]
        rows += [
            (f"{o.name}\n{o.email}", (o.reason or "") + self.tr(" (imported anyway)"), o.fix or "")
            for o in result.imported_but_blocked
        ]
        self._fill_problems(rows)
        self.include_blocked.hide()
        self.retry_button.setVisible(bool(left_out))
        self.next_steps.setText(
            self.tr(
                "What next: in Clearooms, open Settings, Meeting Rooms, and check the rooms in "
                "“%1”. Use Export to save the list for Clearooms support if they ask for it. "
                "Fix the rooms listed above, then press Check again. Click Finish to close."
            ).replace("%1", result.office.name)
            if left_out
            else self.tr(
                "What next: in Clearooms, open Settings, Meeting Rooms, and check the rooms in "
                "“%1”; bookings will start to appear within a few minutes. Click Finish to close."
            ).replace("%1", result.office.name)
        )

    @Slot()
    def retry(self) -> None:
        result = self._state.result
        if self._request is None or self.busy:
            return
        if result is None:
            self._prepare(self._request, None)
            return
        again = [o.email for o in (*result.blocked, *result.failed)]
        self._state.result = None
        self.hide_message()
        self._prepare(self._request, again)

    @Slot(object)
    @current_task_only
    def _on_failed(self, error: object) -> None:
        self.show_message(Tone.FAIL, error_text(error, explain_error))
        self.summary.setText(self.tr("Nothing was imported. Press Check again to retry."))

    @Slot()
    @current_task_only
    def _on_cancelled(self) -> None:
        self.show_message(
            Tone.INFO, self.tr("Stopped. Nothing more was imported. Press Check again to go on.")
        )
        self.summary.setText("")

    @Slot()
    def export(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Export offices and rooms"),
            "clearooms-rooms.csv",
            self.tr("CSV for spreadsheets (*.csv);;JSON (*.json)"),
        )
        if path:
            self.export_to(path, "json" if path.lower().endswith(".json") else "csv")

    def export_to(self, path: str, fmt: str) -> None:
        export = self._context.use_cases.export

        def work(cancel: CancelToken, progress: Progress) -> Exported:
            return export(path, fmt)

        self.run_side_job(
            "export",
            work,
            failure=self.tr("The export was not saved. "),
            succeeded=self._on_exported,
        )

    @Slot(object)
    def _on_exported(self, exported: object) -> None:
        assert isinstance(exported, Exported)
        self.show_message(Tone.PASS, self.tr("Saved to %1.").replace("%1", str(exported.path)))

    def _show_idle(self) -> None:
        self.retry_button.setVisible(False)
        self._set_busy(False)

    def isComplete(self) -> bool:
        return self._state.result is not None and not self.busy

    def cleanupPage(self) -> None:
        self.cancel_task()
        self._state.result = None
        self._state.prepared = None
        self.problems.hide()
        self.hide_message()
        self.next_steps.setText("")
        self._show_idle()
