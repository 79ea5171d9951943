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
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.fixes import explain_error
from clearooms_wizard.core.importer import ImportProgress, ImportResult
from clearooms_wizard.core.model import RoomStatus
from clearooms_wizard.core.usecases import Exported, ImportRequest, PreparedImport
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.pages.base import TaskPage, current_task_only
from clearooms_wizard.ui.widgets import Banner, Tone, plain_label
from clearooms_wizard.workers.runner import Progress, Work


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _counted(pairs: list[tuple[int, str, str]]) -> str:
    """ "3 new rooms, 1 room to update": the parts that are not zero, or "no rooms"."""
    shown = [_plural(count, one, many) for count, one, many in pairs if count]
    return ", ".join(shown) if shown else "no rooms"


class ImportPage(TaskPage):
    def __init__(self, context: WizardContext) -> None:
        super().__init__()
        self._context = context
        self.setTitle(self.tr("Import the rooms"))
        self.setSubTitle(
            self.tr("First we check that Clearooms can read each room's calendar, then import.")
        )
        self.summary = plain_label("")
        self.progress = QProgressBar()
        self.progress.setAccessibleName(self.tr("Progress"))
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.cancel)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.stop_button)
        self.banner = Banner()
        self.banner.hide()
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
        self.retry_button = QPushButton(self.tr("Check &again"))
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
        layout.addLayout(progress_row)
        layout.addWidget(self.banner)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.include_blocked)
        layout.addLayout(buttons)
        layout.addWidget(self.next_steps)
        self.prepared: PreparedImport | None = None
        self.result: ImportResult | None = None
        self._request: ImportRequest | None = None
        self._show_idle()

    # -- flow -----------------------------------------------------------------------------

    def initializePage(self) -> None:
        wizard = self.owner()
        choice = wizard.rooms_page.office_choice()
        directory = wizard.rooms_page.directory
        test = wizard.connect_page.test
        if choice is None or directory is None or test is None or test.signed_in is None:
            return
        self._request = ImportRequest(
            office=choice.name,
            create_office=not choice.exists,
            rooms=tuple(wizard.rooms_page.chosen_rooms()),
            directory=directory,
            credentials=test.signed_in,
            cloud=wizard.current_cloud(),
        )
        self.result = None
        self.prepared = None
        self._prepare(self._request, None)

    def _prepare(self, request: ImportRequest, only: list[str] | None) -> None:
        prepare = self._context.use_cases.prepare_import
        previous = self.prepared

        def work(cancel: CancelToken, progress: Progress) -> PreparedImport:
            return prepare(request, previous, only, cancel, progress)

        self.summary.setText(self.tr("Checking each room's calendar…"))
        self.progress.setRange(0, max(1, len(only) if only else len(request.rooms)))
        self.progress.setValue(0)
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

    @Slot()
    def cancel(self) -> None:
        self.cancel_task()

    def task_started(self) -> None:
        self.banner.hide()
        self._set_busy(True)

    def task_finished(self) -> None:
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.stop_button.setVisible(busy)
        self.import_button.setEnabled(
            not busy and self.prepared is not None and self.result is None
        )
        self.retry_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy)
        self.completeChanged.emit()

    @Slot(object)
    @current_task_only
    def _on_progress(self, update: object) -> None:
        if isinstance(update, ImportProgress):
            self.progress.setRange(0, update.total)
            self.progress.setValue(update.done)
            self.summary.setText(
                self.tr("Checking room calendars: %1 of %2 done…")
                .replace("%1", str(update.done))
                .replace("%2", str(update.total))
            )

    @Slot(object)
    @current_task_only
    def _on_prepared(self, prepared: object) -> None:
        assert isinstance(prepared, PreparedImport)
        self.prepared = prepared
        blocked = [c for c in prepared.checks if c.blocked]
        failed = [c for c in prepared.checks if c.failed]
        # The counts are of the rooms the Import button will write; the others are told apart.
        held_back = {c.email.casefold() for c in (*blocked, *failed)}
        ready = Counter(p.status for p in prepared.plan.rooms if p.room.key not in held_back)
        summary = _counted(
            [
                (ready[RoomStatus.NEW], "new room", "new rooms"),
                (ready[RoomStatus.UPDATED], "room to update", "rooms to update"),
                (ready[RoomStatus.MOVING], "room moving here", "rooms moving here"),
                (ready[RoomStatus.UNCHANGED], "room unchanged", "rooms unchanged"),
            ]
        )
        text = self.tr("Into “%1”: ").replace("%1", prepared.plan.office.name) + summary + "."
        movers = prepared.plan.with_status(RoomStatus.MOVING)
        if movers:
            origins = sorted({p.moving_from for p in movers if p.moving_from})
            text += " " + self.tr("%1 will move here from %2.").replace(
                "%1", _plural(len(movers), "room", "rooms")
            ).replace("%2", ", ".join(f"“{name}”" for name in origins) or "another office")
        if blocked or failed:
            text += " " + self.tr("%1 can't be imported yet; see below.").replace(
                "%1", _plural(len(blocked) + len(failed), "more room", "more rooms")
            )
        else:
            text += " " + self.tr("Every room's calendar can be read.")
        if prepared.plan.missing:
            text += " " + self.tr(
                "%1 imported before no longer in Microsoft 365 (kept, not deleted)."
            ).replace("%1", _plural(len(prepared.plan.missing), "room", "rooms"))
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
            self.tr("Also import the %1 whose calendars can't be read yet").replace(
                "%1", _plural(len(blocked), "room", "rooms")
            )
        )
        writable = len(prepared.checks) - len(blocked) - len(failed)
        self.import_button.setText(
            self.tr("&Import %1").replace("%1", _plural(writable, "room", "rooms"))
        )

    @Slot(bool)
    def _update_import_label(self, include: bool) -> None:
        if self.prepared is None:
            return
        blocked = sum(1 for c in self.prepared.checks if c.blocked)
        failed = sum(1 for c in self.prepared.checks if c.failed)
        writable = len(self.prepared.checks) - failed - (0 if include else blocked)
        self.import_button.setText(
            self.tr("&Import %1").replace("%1", _plural(writable, "room", "rooms"))
        )

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
        prepared = self.prepared
        if prepared is None or self.busy:
            return
        apply = self._context.use_cases.apply_import
        include = self.include_blocked.isChecked()

        def work(cancel: CancelToken, progress: Progress) -> ImportResult:
            return apply(prepared, include, cancel)

        self.summary.setText(self.tr("Importing…"))
        self.progress.setRange(0, 0)
        self._start("apply-import", work, self._on_imported)

    @Slot(object)
    @current_task_only
    def _on_imported(self, result: object) -> None:
        assert isinstance(result, ImportResult)
        self.result = result
        self.owner().rooms_page.model.set_imported(
            {
                **self.owner().rooms_page.snapshot.imported,
                **{o.email.casefold(): result.office.name for o in result.rooms if o.in_workspace},
            }
        )
        summary = _counted(
            [
                (len(result.new), "room added", "rooms added"),
                (len(result.updated), "room updated", "rooms updated"),
                (len(result.unchanged), "room already up to date", "rooms already up to date"),
            ]
        )
        left_out = result.blocked + result.failed
        tone = Tone.PASS if not left_out else Tone.WARN
        text = self.tr("Import finished into “%1”: ").replace("%1", result.office.name)
        text += summary + "."
        if left_out:
            text += " " + self.tr(
                "%1 not imported; the reasons and fixes are listed below."
            ).replace("%1", _plural(len(left_out), "room", "rooms"))
        self.banner.show_message(tone, text)
        self.banner.show()
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
        if self._request is None or self.busy:
            return
        if self.result is None:
            self._prepare(self._request, None)
            return
        again = [o.email for o in (*self.result.blocked, *self.result.failed)]
        self.result = None
        self.banner.hide()
        self._prepare(self._request, again)

    @Slot(object)
    @current_task_only
    def _on_failed(self, error: object) -> None:
        if isinstance(error, ClearoomsError):
            explanation, code = explain_error(error)
            text = str(error) if explanation.summary == str(error) else explanation.summary
            text += " " + explanation.fix + (f" ({code})" if code else "")
        else:
            text = str(error)
        self.banner.show_message(Tone.FAIL, text)
        self.banner.show()
        self.summary.setText(self.tr("Nothing was imported. Press Check again to retry."))

    @Slot()
    @current_task_only
    def _on_cancelled(self) -> None:
        self.banner.show_message(
            Tone.INFO, self.tr("Stopped. Nothing more was imported. Press Check again to go on.")
        )
        self.banner.show()
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

        handle = self.owner().runner.submit("export", work)
        handle.signals.succeeded.connect(self._on_exported)
        handle.signals.failed.connect(self._on_export_failed)

    @Slot(object)
    def _on_export_failed(self, error: object) -> None:
        self.banner.show_message(Tone.FAIL, self.tr("The export was not saved. ") + str(error))
        self.banner.show()

    @Slot(object)
    def _on_exported(self, exported: object) -> None:
        assert isinstance(exported, Exported)
        path = str(exported.path)
        self.banner.show_message(Tone.PASS, self.tr("Saved to %1.").replace("%1", path))
        self.banner.show()

    def _show_idle(self) -> None:
        self.retry_button.setVisible(False)
        self._set_busy(False)

    def isComplete(self) -> bool:
        return self.result is not None and not self.busy

    def cleanupPage(self) -> None:
        self.cancel()
        self.result = None
        self.prepared = None
        self.problems.hide()
        self.banner.hide()
        self.next_steps.setText("")
        self._show_idle()
