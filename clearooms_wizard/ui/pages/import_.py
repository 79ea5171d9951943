"""Page 5: check the rooms' calendars, import, and say what happened and what to do next.

The page is laid out for the usual case, where every room can be read: the counts, then one line
per room saying what the import will do to it (added, what is updated, which office it moves
from), then, after the import, the same list saying what was done. Rooms that cannot be imported
yet are listed under it with the reason and the fix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSizePolicy,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.fixes import explain_error
from clearooms_wizard.core.importer import (
    CalendarCheck,
    ImportProgress,
    ImportResult,
    PlannedRoom,
    RoomOutcome,
    buildings_of,
    import_writes_anything,
)
from clearooms_wizard.core.model import CalendarAccess, FieldChange, RoomStatus
from clearooms_wizard.core.usecases import Exported, ImportRequest, PreparedImport
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.pages.base import TaskPage, current_task_only, error_text
from clearooms_wizard.ui.state import WizardState
from clearooms_wizard.ui.text import number, plain_tooltip
from clearooms_wizard.ui.widgets import Tone, plain_label
from clearooms_wizard.workers.runner import Progress, TaskRunner, Work

ModelIndex = QModelIndex | QPersistentModelIndex

# The order the plan is listed in: what changes most first.
_STATUS_ORDER = {
    RoomStatus.NEW: 0,
    RoomStatus.MOVING: 1,
    RoomStatus.UPDATED: 2,
    RoomStatus.UNCHANGED: 3,
}
# Buildings named in the notice; more are counted.
_BUILDINGS_NAMED = 5


class RoomLines(QAbstractTableModel):
    """The rooms of the plan or the result, one line each: the room, and what happens to it.
    A model rather than a table widget, so that 10,000 rooms are shown without building an item
    per cell."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Per line: the room's name, its address, and what happens (or happened) to it.
        self._lines: list[tuple[str, str, str]] = []
        self._headers = ("", "")

    def set_lines(self, lines: Sequence[tuple[str, str, str]], what: str = "") -> None:
        """Show these lines, ``what`` heading the second column."""
        self.beginResetModel()
        self._lines = list(lines)
        self._headers = (self.tr("Room"), what)
        self.endResetModel()

    def line(self, row: int) -> tuple[str, str, str]:
        return self._lines[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        name, email, what = self._lines[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return name if index.column() == 0 else what
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(f"{name}\n{email}" if index.column() == 0 else what)
        return None


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
        # The counts; after the import, the banner tells the result in its place.
        self.summary = plain_label("")
        # Worth knowing before importing, never a reason to stop: the rooms are in several
        # buildings, rooms imported before are gone from Microsoft 365.
        self.notes = plain_label("")
        self.notes.hide()
        # Sized to its message: the list below takes the page's spare height.
        self.banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.lines = RoomLines(self)
        self.plan = QTableView()
        self.plan.setModel(self.lines)
        self.plan.setAccessibleName(self.tr("What the import does to each room"))
        self.plan.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.plan.setWordWrap(False)
        self.plan.setShowGrid(False)
        self.plan.setAlternatingRowColors(True)
        self.plan.verticalHeader().hide()
        self.plan.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        plan_header = self.plan.horizontalHeader()
        plan_header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        plan_header.setStretchLastSection(True)
        self.plan.hide()
        # Rooms whose calendars cannot be read (or whose check failed), with why and the fix.
        self.on_premises_note = plain_label("")
        self.on_premises_note.hide()
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
        # Its own line under the buttons, so that saving a file never hides the import's result.
        self.export_note = plain_label("")
        self.export_note.hide()
        self.next_steps = plain_label("")
        self.next_steps.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.banner)
        layout.addWidget(self.notes)
        layout.addWidget(self.busy_row)
        layout.addWidget(self.plan, 3)
        layout.addWidget(self.on_premises_note)
        layout.addWidget(self.problems, 2)
        layout.addWidget(self.include_blocked)
        layout.addLayout(buttons)
        layout.addWidget(self.export_note)
        layout.addWidget(self.next_steps)
        # Nothing to list (checking, or a failure): the buttons stay under the text.
        layout.addStretch(0)
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
        self._clear()
        self._prepare(self._request, None)

    def _prepare(self, request: ImportRequest, only: list[str] | None) -> None:
        prepare = self._context.use_cases.prepare_import
        previous = self._state.prepared

        def work(cancel: CancelToken, progress: Progress) -> PreparedImport:
            return prepare(request, previous, only, cancel, progress)

        # Nothing is known about the rooms until they are checked: no count on the button.
        self.import_button.setText(self.tr("&Import"))
        self._set_summary(self.tr("Checking each room's calendar…"))
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
        self.import_button.setEnabled(not busy and self._has_something_to_write())
        self.retry_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy)
        self.completeChanged.emit()

    def _has_something_to_write(self) -> bool:
        """A checked plan that has not been applied yet and would change something."""
        prepared = self._state.prepared
        return (
            prepared is not None
            and self._state.result is None
            and import_writes_anything(
                prepared.plan, prepared.checks, include_blocked=self.include_blocked.isChecked()
            )
        )

    def _set_summary(self, text: str) -> None:
        self.summary.setText(text)
        self.summary.setVisible(bool(text))

    def _set_notes(self, notes: list[str]) -> None:
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))

    @Slot(object)
    @current_task_only
    def _on_progress(self, update: object) -> None:
        if isinstance(update, ImportProgress):
            self.busy_row.show_progress(update.done, update.total)
            self._set_summary(
                self.tr("Checking room calendars: %1 of %2 done…")
                .replace("%1", number(update.done))
                .replace("%2", number(update.total))
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
        ready = [p for p in prepared.plan.rooms if p.room.key not in held_back]
        counts = Counter(p.status for p in ready)
        new, updated = counts[RoomStatus.NEW], counts[RoomStatus.UPDATED]
        moving, unchanged = counts[RoomStatus.MOVING], counts[RoomStatus.UNCHANGED]
        summary = self._counted(
            [
                (new, self.tr("%1 new room(s)", "", new)),
                (updated, self.tr("%1 room(s) to update", "", updated)),
                (moving, self.tr("%1 room(s) moving here", "", moving)),
                (unchanged, self.tr("%1 room(s) unchanged", "", unchanged)),
            ]
        )
        office = prepared.plan.office.name
        text = self.tr("Into “%1”: ").replace("%1", office) + summary + "."
        if blocked or failed:
            held = len(blocked) + len(failed)
            text += " " + self.tr(
                "%1 more room(s) can't be imported yet; see below.", "", held
            ).replace("%1", number(held))
        else:
            text += " " + self.tr("Every room's calendar can be read.")
        self._set_summary(text)
        self._set_notes(self._plan_notes(prepared))
        self._show_lines(
            [
                (p.room.name, p.room.email, self._planned_text(p))
                for p in sorted(ready, key=lambda p: _STATUS_ORDER[p.status])
            ],
            self.tr("What the import will do"),
        )
        self.import_button.show()
        self._show_problems([c for c in prepared.checks if c.blocked or c.failed])
        self.include_blocked.setVisible(bool(blocked))
        self.include_blocked.setText(
            self.tr(
                "Also import the %1 room(s) whose calendars can't be read yet", "", len(blocked)
            ).replace("%1", number(len(blocked)))
        )
        self.retry_button.setVisible(bool(blocked or failed))
        self._update_import_label(self.include_blocked.isChecked())

    def _plan_notes(self, prepared: PreparedImport) -> list[str]:
        notes: list[str] = []
        buildings = buildings_of(p.room for p in prepared.plan.rooms)
        if len(buildings) > 1:
            named = ", ".join(buildings[:_BUILDINGS_NAMED])
            if len(buildings) > _BUILDINGS_NAMED:
                more = len(buildings) - _BUILDINGS_NAMED
                named += self.tr(" and %1 more").replace("%1", number(more))
            notes.append(
                self.tr("These rooms are in %1 buildings: %2.")
                .replace("%1", number(len(buildings)))
                .replace("%2", named)
                + " "
                + self.tr("They will all be in “%1”.").replace("%1", prepared.plan.office.name)
            )
        missing = len(prepared.plan.missing)
        if missing:
            notes.append(
                self.tr(
                    "%1 room(s) imported before no longer in Microsoft 365 (kept, not deleted).",
                    "",
                    missing,
                ).replace("%1", number(missing))
            )
        return notes

    def _counted(self, parts: list[tuple[int, str]]) -> str:
        """ "3 new rooms, 1 room to update": the counted texts whose count is not zero, or
        "no rooms"."""
        shown = [text.replace("%1", number(count)) for count, text in parts if count]
        return ", ".join(shown) if shown else self.tr("no rooms")

    def _planned_text(self, planned: PlannedRoom) -> str:
        if planned.status is RoomStatus.NEW:
            return self.tr("Will be added")
        if planned.status is RoomStatus.MOVING:
            text = self.tr("Will move here from “%1”").replace(
                "%1", planned.moving_from or self.tr("another office")
            )
            return self._with_changes(text, planned.changes)
        if planned.status is RoomStatus.UPDATED:
            return self._with_changes(self.tr("Will be updated"), planned.changes)
        return self.tr("Nothing to change")

    def _with_changes(self, text: str, changes: tuple[FieldChange, ...]) -> str:
        """ "Updated: capacity 10 → 12; name Thames → Thames Suite" (the office is told
        already)."""
        described = [c.describe() for c in changes if c.field != "office"]
        return f"{text}: {'; '.join(described)}" if described else text

    def _outcome_text(self, outcome: RoomOutcome) -> str:
        if outcome.status is RoomStatus.NEW:
            text = self.tr("Added")
        elif outcome.status is RoomStatus.UPDATED and outcome.moved_from:
            moved = self.tr("Moved here from “%1”").replace("%1", outcome.moved_from)
            text = self._with_changes(moved, outcome.changes)
        elif outcome.status is RoomStatus.UPDATED:
            text = self._with_changes(self.tr("Updated"), outcome.changes)
        else:
            text = self.tr("Already up to date")
        if outcome.calendar_blocked:
            text += self.tr(" (its calendar can't be read yet)")
        return text

    def _show_lines(self, lines: list[tuple[str, str, str]], what: str) -> None:
        self.lines.set_lines(lines, what)
        if lines:
            self._fit_room_column()
        self.plan.setVisible(bool(lines))

    def _fit_room_column(self) -> None:
        """The room column as wide as its longest names (up to half the list), the rest for
        what happens. Measures only the longest few names: there may be 10,000."""
        names = sorted((self.lines.line(row)[0] for row in range(self.lines.rowCount())), key=len)[
            -20:
        ]
        metrics = self.plan.fontMetrics()
        header = self.plan.horizontalHeader()
        widest = max(
            [metrics.horizontalAdvance(name) for name in names]
            + [header.sectionSizeHint(0) - 2 * metrics.averageCharWidth()]
        )
        padding = 3 * metrics.averageCharWidth()
        limit = max(header.sectionSizeHint(0), self.plan.viewport().width() // 2, 200)
        header.resizeSection(0, min(widest + padding, limit))

    @Slot(bool)
    def _update_import_label(self, include: bool) -> None:
        prepared = self._state.prepared
        if prepared is None or self._state.result is not None:
            return
        if not import_writes_anything(prepared.plan, prepared.checks, include_blocked=include):
            self.import_button.setText(self.tr("Nothing to import"))
            self.next_steps.setText(
                self.tr(
                    "Nothing needs importing: these rooms are already up to date in “%1”. "
                    "Click Finish to close."
                ).replace("%1", prepared.plan.office.name)
            )
            self.next_steps.show()
        else:
            blocked = sum(1 for c in prepared.checks if c.blocked)
            failed = sum(1 for c in prepared.checks if c.failed)
            writable = len(prepared.checks) - failed - (0 if include else blocked)
            self.import_button.setText(
                self.tr("&Import %1 room(s)", "", writable).replace("%1", number(writable))
            )
            self.next_steps.setText("")
            self.next_steps.hide()
        self._set_busy(self.busy)

    def _room_name(self, email: str) -> str:
        request = self._request
        if request is not None:
            for room in request.rooms:
                if room.key == email.casefold():
                    return f"{room.name}\n{room.email}"
        return email

    def _show_problems(self, checks: list[CalendarCheck]) -> None:
        self._fill_problems(
            [
                (
                    self._room_name(c.email),
                    c.problem.summary if c.problem else "",
                    c.problem.fix if c.problem else "",
                )
                for c in checks
            ]
        )
        self._show_on_premises_note(
            any(c.access is CalendarAccess.NOT_IN_EXCHANGE_ONLINE for c in checks)
        )

    def _show_on_premises_note(self, shown: bool) -> None:
        """Said where it matters, instead of warning every office manager on the first page:
        Hybrid Exchange keeps some room mailboxes on the organisation's own servers."""
        self.on_premises_note.setText(
            self.tr(
                "Clearooms can connect only room mailboxes in Exchange Online (Microsoft 365). "
                "A room whose mailbox is still on your organisation's own Exchange server "
                "(Hybrid Exchange) can be connected once it is moved to Exchange Online."
            )
        )
        self.on_premises_note.setVisible(shown)

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
                item.setToolTip(plain_tooltip(value))
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

        self._set_summary(self.tr("Importing…"))
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
                (added, self.tr("%1 room(s) added", "", added)),
                (updated, self.tr("%1 room(s) updated", "", updated)),
                (unchanged, self.tr("%1 room(s) already up to date", "", unchanged)),
            ]
        )
        left_out = result.blocked + result.failed
        tone = Tone.PASS if not left_out else Tone.WARN
        text = self.tr("Import finished into “%1”: ").replace("%1", result.office.name)
        text += summary + "."
        if left_out:
            text += " " + self.tr(
                "%1 room(s) not imported; the reasons and fixes are listed below.",
                "",
                len(left_out),
            ).replace("%1", number(len(left_out)))
        # The result takes the counts' place, above the list that now says what was done.
        self._set_summary("")
        self._set_notes([])
        self.show_message(tone, text)
        written = [
            o for o in result.rooms if o.status not in (RoomStatus.BLOCKED, RoomStatus.FAILED)
        ]
        self._show_lines(
            [
                (o.name, o.email, self._outcome_text(o))
                for o in sorted(written, key=lambda o: _STATUS_ORDER.get(o.status, 9))
            ],
            self.tr("What the import did"),
        )
        rows = [(f"{o.name}\n{o.email}", o.reason or "", o.fix or "") for o in left_out]
        rows += [
            (f"{o.name}\n{o.email}", (o.reason or "") + self.tr(" (imported anyway)"), o.fix or "")
            for o in result.imported_but_blocked
        ]
        self._fill_problems(rows)
        self._show_on_premises_note(
            any(
                o.calendar is not None
                and o.calendar.access is CalendarAccess.NOT_IN_EXCHANGE_ONLINE
                for o in (*left_out, *result.imported_but_blocked)
            )
        )
        self.include_blocked.hide()
        # Done: Check again (for the rooms left out) and Finish are what is left to press.
        self.import_button.hide()
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
        self.next_steps.show()

    @Slot()
    def retry(self) -> None:
        result = self._state.result
        if self._request is None or self.busy:
            return
        self.next_steps.hide()
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
        self._set_summary(self.tr("Nothing was imported. Press Check again to retry."))
        self.retry_button.show()

    @Slot()
    @current_task_only
    def _on_cancelled(self) -> None:
        self.show_message(
            Tone.INFO, self.tr("Stopped. Nothing more was imported. Press Check again to go on.")
        )
        self._set_summary("")
        self.retry_button.show()

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

        self.export_note.hide()
        self.run_side_job(
            "export", work, succeeded=self._on_exported, failed=self._on_export_failed
        )

    @Slot(object)
    def _on_exported(self, exported: object) -> None:
        assert isinstance(exported, Exported)
        self._show_export_note(self.tr("Exported to %1.").replace("%1", str(exported.path)))

    @Slot(object)
    def _on_export_failed(self, error: object) -> None:
        self._show_export_note(self.tr("The export was not saved. ") + error_text(error))

    def _show_export_note(self, text: str) -> None:
        self.export_note.setText(text)
        self.export_note.show()

    def _show_idle(self) -> None:
        self.retry_button.setVisible(False)
        self._set_busy(False)

    def _clear(self) -> None:
        """Nothing from an earlier visit: the list, the problems, the result, the labels."""
        self.lines.set_lines([])
        self.plan.hide()
        self.problems.setRowCount(0)
        self.problems.hide()
        self.on_premises_note.hide()
        self.include_blocked.hide()
        self._set_notes([])
        self.hide_message()
        self.next_steps.setText("")
        self.next_steps.hide()
        self.export_note.hide()
        self.import_button.setText(self.tr("&Import"))
        self.import_button.show()
        self._show_idle()

    def isComplete(self) -> bool:
        if self.busy:
            return False
        # Done, or checked and nothing to write (every room already up to date).
        return self._state.result is not None or (
            self._state.prepared is not None and not self._has_something_to_write()
        )

    def cleanupPage(self) -> None:
        self.cancel_task()
        self._state.result = None
        self._state.prepared = None
        self._clear()
