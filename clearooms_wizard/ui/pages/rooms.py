"""Page 4: choose the Clearooms office and tick the rooms to import."""

from __future__ import annotations

import gc
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.fixes import explain_rooms_error, rooms_left_out
from clearooms_wizard.core.model import Room, RoomDirectory, office_key
from clearooms_wizard.core.usecases import WorkspaceSnapshot
from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.pages.base import TaskPage, current_task_only, error_text
from clearooms_wizard.ui.rooms_model import (
    BUILDING,
    COLUMNS,
    EMAIL,
    IMPORTED,
    NAME,
    ROOM_LIST,
    RoomsFilter,
    RoomsModel,
    RoomTable,
)
from clearooms_wizard.ui.state import OfficeChoice, WizardState
from clearooms_wizard.ui.text import number
from clearooms_wizard.ui.widgets import Banner, Tone, plain_label
from clearooms_wizard.workers.runner import Progress, TaskRunner

EXISTING, SUGGESTED, NEW, ADD_NEW = "existing", "suggested", "new", "add-new"
# When the table is narrower than its columns' content, these give way in this order (their
# full text is in the tooltip), each down to about this many characters; the others keep their
# width.
SHRINKABLE = {EMAIL: 18, ROOM_LIST: 12, IMPORTED: 10, NAME: 14, BUILDING: 10}
# Spare width goes to these, the columns people read rooms by.
ROOMY = (NAME, EMAIL)
# The table's pages: the rooms, a message (none found, a failure), no room matching the search.
TABLE, MESSAGE, NO_MATCH = range(3)


@dataclass(frozen=True)
class LoadedRooms:
    snapshot: WorkspaceSnapshot
    directory: RoomDirectory
    # Prepared on the worker thread too, so that showing 10,000 rooms does not stall the GUI.
    table: RoomTable
    suggestions: tuple[str, ...]


class RoomsPage(TaskPage):
    def __init__(self, context: WizardContext, state: WizardState, runner: TaskRunner) -> None:
        super().__init__(runner)
        self.busy_row.describe(self.tr("Stop loading"), self.tr("Loading rooms"), 140)
        self._context = context
        self._state = state
        state.imported_changed.connect(self._imported_changed)
        self.setTitle(self.tr("Step 3: Choose your office and rooms"))
        self.setSubTitle(
            self.tr("Pick the Clearooms office, then tick the rooms to import into it.")
        )
        self.office = QComboBox()
        self.office.setAccessibleName(self.tr("Office in Clearooms"))
        self.office.setMinimumContentsLength(24)
        self.office.activated.connect(self._office_activated)
        self.new_office = QLineEdit()
        self.new_office.setPlaceholderText(self.tr("Name of the new office, e.g. London HQ"))
        self.new_office.setAccessibleName(self.tr("New office name"))
        # Enter adds the office, and only that: a QLineEdit passes Enter on to the wizard,
        # which would press Next as well.
        self.new_office.installEventFilter(self)
        self.add_office_button = QPushButton(self.tr("A&dd office"))
        self.add_office_button.clicked.connect(self._add_office)
        self.office_note = plain_label("")
        self.office_note.setStyleSheet("color: #c5221f;")
        self.office_note.hide()
        self.new_office_row = QWidget()
        new_row = QHBoxLayout(self.new_office_row)
        new_row.setContentsMargins(0, 0, 0, 0)
        new_row.addWidget(self.new_office, 1)
        new_row.addWidget(self.add_office_button)
        self.new_office_row.hide()
        office_label = QLabel(self.tr("&Office in Clearooms:"))
        office_label.setBuddy(self.office)
        office_row = QHBoxLayout()
        office_row.addWidget(office_label)
        office_row.addWidget(self.office, 1)

        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search rooms by name, email, building…"))
        self.search.setAccessibleName(self.tr("Search rooms"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search_changed)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)
        self.select_all = QPushButton(self.tr("Select a&ll shown"))
        self.select_none = QPushButton(self.tr("Select non&e shown"))
        self.select_all.clicked.connect(self._select_all)
        self.select_none.clicked.connect(self._select_none)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.select_all)
        search_row.addWidget(self.select_none)

        self.model = RoomsModel(self)
        self.model.selection_changed.connect(self._selection_changed)
        self.proxy = RoomsFilter(self.model, self)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName(self.tr("Rooms"))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Columns are sized to their content, and spare width goes to name and email.
        header.setStretchLastSection(False)
        header.sectionResized.connect(self._column_resized)
        self._fitting_columns = False
        self._columns_sized_by_user = False
        self.table.viewport().installEventFilter(self)
        self.table.activated.connect(self._toggle_row)

        self.message = Banner()
        self.retry_button = QPushButton(self.tr("&Retry"))
        self.retry_button.clicked.connect(self.load)
        message_panel = QWidget()
        message_layout = QVBoxLayout(message_panel)
        message_layout.addWidget(self.message)
        message_layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        message_layout.addStretch(1)
        self.no_match = plain_label("")
        no_match_panel = QFrame()
        no_match_panel.setFrameShape(QFrame.Shape.StyledPanel)
        no_match_layout = QVBoxLayout(no_match_panel)
        no_match_layout.addWidget(self.no_match)
        no_match_layout.addStretch(1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(message_panel)
        self.stack.addWidget(no_match_panel)

        self.count = plain_label("", wrap=False)
        status_row = QHBoxLayout()
        status_row.addWidget(self.count, 1)
        status_row.addWidget(self.busy_row)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(office_row)
        layout.addWidget(self.new_office_row)
        layout.addWidget(self.office_note)
        layout.addLayout(search_row)
        layout.addWidget(self.stack, 1)
        layout.addLayout(status_row)

        self._loaded_for: tuple[str, str, str] | None = None
        self._reload_pending = False
        self._set_loading(False)

    # -- loading --------------------------------------------------------------------------

    def initializePage(self) -> None:
        notice = self._state.take_notice()
        if notice:
            self.show_message(Tone.WARN, notice)
        connection = self._state.connection
        if connection is None:
            return
        if connection.key != self._loaded_for or self._state.directory is None:
            self.load()

    @Slot()
    def load(self) -> None:
        if self.busy:
            # Still stopping an earlier load (Back, then Next again): load once it has ended.
            self._reload_pending = True
            self.cancel_task()
            return
        self._reload_pending = False
        connection = self._state.connection
        if connection is None:
            return
        credentials, cloud = connection.credentials, connection.cloud
        self._loaded_for = connection.key
        # Rooms from an earlier load must never be imported with other credentials.
        self._state.directory = None
        self.model.set_table(RoomTable())
        # Everything alive now (Qt's wrappers, the loaded modules, the settings test) lives as
        # long as the wizard. Loading thousands of rooms allocates enough to set off a full
        # garbage collection, which walks all of that with the GIL held: tens of milliseconds
        # in which the GUI thread cannot run. Frozen objects are left out of collections.
        gc.freeze()
        snapshot, load_rooms = (
            self._context.use_cases.workspace_snapshot,
            self._context.use_cases.load_rooms,
        )
        suggest = self._context.use_cases.suggest_offices

        def work(cancel: CancelToken, progress: Progress) -> LoadedRooms:
            current = snapshot()
            directory = load_rooms(credentials, cloud, cancel, progress)
            list_names = {rl.email: rl.name for rl in directory.room_lists}
            table = RoomTable.build(directory.rooms, list_names, current.imported)
            cancel.raise_if_cancelled()
            suggestions = tuple(s.name for s in suggest(directory, current.offices))
            return LoadedRooms(current, directory, table, suggestions)

        self.run_task(
            "load-rooms",
            work,
            progress=self._on_progress,
            succeeded=self._on_loaded,
            failed=self._on_failed,
            cancelled=self._on_cancelled,
        )

    def task_started(self) -> None:
        self.count.setText(self.tr("Loading rooms from Microsoft 365…"))
        self._set_loading(True)

    def task_finished(self) -> None:
        self._set_loading(False)
        self._selection_changed()
        if self._reload_pending:
            self.load()

    def _set_loading(self, loading: bool) -> None:
        # With no rooms (none found, or the load failed) there is nothing to search or choose.
        usable = not loading and self.model.rowCount() > 0
        for widget in (self.search, self.select_all, self.select_none, self.office):
            widget.setEnabled(usable)
        if not usable:
            self.new_office_row.hide()
        self.completeChanged.emit()

    @Slot(object)
    @current_task_only
    def _on_progress(self, found: object) -> None:
        found_so_far = number(found) if isinstance(found, int) else str(found)
        self.count.setText(self.tr("Loading rooms… %1 found so far").replace("%1", found_so_far))

    @Slot(object)
    @current_task_only
    def _on_loaded(self, loaded: object) -> None:
        assert isinstance(loaded, LoadedRooms)
        self._state.directory = loaded.directory
        self._state.snapshot = loaded.snapshot
        notes = [loaded.snapshot.notice] if loaded.snapshot.notice else []
        if loaded.directory.skipped:
            left_out = rooms_left_out(loaded.directory.skipped)
            notes.append(f"{left_out.summary} {left_out.fix}")
        if notes:
            self.show_message(Tone.WARN, " ".join(notes))
        self.model.set_table(loaded.table)
        self._fill_offices([(SUGGESTED, name) for name in loaded.suggestions])
        if loaded.directory.rooms:
            self._columns_sized_by_user = False
            self._show_rooms()
            self._fit_columns()
        else:
            self.message.show_message(
                Tone.WARN,
                self.tr(
                    "Microsoft 365 did not list any rooms. The usual reasons: the room mailboxes "
                    "are hidden from the address list (Microsoft leaves those out); rooms created "
                    "in the last 48 hours have not appeared yet; the rooms' mailboxes are "
                    "on-premises rather than in Exchange Online; or Microsoft Places is not set "
                    "up. Check the rooms in the Exchange admin center, then press Retry."
                ),
            )
            self.stack.setCurrentIndex(MESSAGE)

    @Slot(object)
    @current_task_only
    def _on_failed(self, error: object) -> None:
        self.message.show_message(
            Tone.FAIL,
            self.tr("The rooms could not be loaded. ") + error_text(error, explain_rooms_error),
        )
        self.stack.setCurrentIndex(MESSAGE)

    @Slot()
    @current_task_only
    def _on_cancelled(self) -> None:
        self.message.show_message(
            Tone.INFO, self.tr("Loading stopped. Press Retry to load the rooms again.")
        )
        self.stack.setCurrentIndex(MESSAGE)
        self._loaded_for = None

    # -- offices --------------------------------------------------------------------------

    def _fill_offices(self, not_yet_created: list[tuple[str, str]]) -> None:
        """The workspace's offices, then the offices offered or added here (SUGGESTED or NEW,
        name) that do not exist yet, then "New office…"; the choice is kept."""
        previous = self.office_choice()
        self.office.clear()
        existing = self._state.snapshot.offices
        for name in existing:
            self.office.addItem(name, (EXISTING, name))
        taken = {office_key(name) for name in existing}
        for kind, name in not_yet_created:
            if office_key(name) not in taken:
                self.office.addItem(self.tr("%1 (new office)").replace("%1", name), (kind, name))
        self.office.addItem(self.tr("New office…"), (ADD_NEW, ""))
        if previous is not None:
            self._select_office(previous.name)
        self._office_activated(self.office.currentIndex())

    def _select_office(self, name: str) -> None:
        for index in range(self.office.count()):
            kind, value = self.office.itemData(index)
            if kind != ADD_NEW and value.casefold() == name.casefold():
                self.office.setCurrentIndex(index)
                return

    def office_choice(self) -> OfficeChoice | None:
        data = self.office.currentData()
        if not data or data[0] == ADD_NEW:
            return None
        return OfficeChoice(data[1], data[0] == EXISTING)

    @Slot(int)
    def _office_activated(self, index: int) -> None:
        data = self.office.itemData(index)
        adding = bool(data) and data[0] == ADD_NEW
        self.new_office_row.setVisible(adding)
        if adding:
            self.new_office.setFocus()
        else:
            self.office_note.hide()
        self.completeChanged.emit()

    @Slot()
    def _add_office(self) -> None:
        names = [self.office.itemData(i)[1] for i in range(self.office.count())]
        problem = self._context.use_cases.office_name_problem(self.new_office.text(), names)
        if problem:
            self.office_note.setText(problem)
            self.office_note.show()
            return
        name = " ".join(self.new_office.text().split())
        self.office.insertItem(
            self.office.count() - 1, self.tr("%1 (new office)").replace("%1", name), (NEW, name)
        )
        self.office.setCurrentIndex(self.office.count() - 2)
        self.new_office.clear()
        self.office_note.hide()
        self.new_office_row.hide()
        self.completeChanged.emit()

    # -- selection ------------------------------------------------------------------------

    @Slot(str)
    def _search_changed(self, text: str) -> None:
        self.proxy.set_search(text)
        if self.stack.currentIndex() in (TABLE, NO_MATCH):
            self._show_rooms()
        self._selection_changed()

    def _show_rooms(self) -> None:
        """The table, or a word when the search matches no room (rather than an empty grid)."""
        search = self.search.text().strip()
        if search and self.proxy.rowCount() == 0 and self.model.rowCount() > 0:
            self.no_match.setText(
                self.tr(
                    "No rooms match “%1”. Search by part of a room's name, email address, "
                    "building, floor or room list, or clear the search to see every room."
                ).replace("%1", search)
            )
            self.stack.setCurrentIndex(NO_MATCH)
        else:
            self.stack.setCurrentIndex(TABLE)

    # -- column widths --------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self._fit_columns()
        elif (
            watched is self.new_office
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._add_office()
            return True
        return super().eventFilter(watched, event)

    @Slot()
    def _column_resized(self) -> None:
        # Qt resizes sections itself too (a hidden column, a new layout after a search): only a
        # drag with the mouse on the header makes the widths the user's from then on.
        header = self.table.horizontalHeader()
        if (
            not self._fitting_columns
            and header.underMouse()
            and QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton
        ):
            self._columns_sized_by_user = True

    def _fit_columns(self) -> None:
        """Each column as wide as its content (and header); spare width to name and email; when
        there is too little, the long text columns give way (their tooltips show the rest)."""
        if self._columns_sized_by_user or self.model.rowCount() == 0:
            return
        header = self.table.horizontalHeader()
        self._fitting_columns = True
        try:
            self.table.setColumnHidden(IMPORTED, not self.model.anything_imported)
        finally:
            self._fitting_columns = False
        shown = [c for c in range(len(COLUMNS)) if not self.table.isColumnHidden(c)]
        metrics = self.table.fontMetrics()
        style = self.table.style()
        padding = 2 * style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 12
        check_box = style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth) + 8
        wanted: dict[int, int] = {}
        least: dict[int, int] = {}
        for column in shown:
            texts = self.model.longest_texts(column)
            content = max((metrics.horizontalAdvance(t) for t in texts), default=0) + padding
            if column == NAME:
                content += check_box
            # With room for the sort arrow, which may be on any column.
            title = header.sectionSizeHint(column)
            wanted[column] = max(content, title)
            chars = SHRINKABLE.get(column)
            least[column] = (
                wanted[column]
                if chars is None
                else min(wanted[column], max(title, chars * metrics.averageCharWidth()))
            )
        spare = self.table.viewport().width() - sum(wanted.values())
        widths = dict(wanted)
        if spare > 0:
            roomy = [c for c in ROOMY if c in widths]
            for index, column in enumerate(roomy):
                widths[column] += spare // len(roomy) + (1 if index < spare % len(roomy) else 0)
        # Too narrow: the columns give way in SHRINKABLE's order (email first: its domain is
        # the same in every row), each down to its least, until everything fits.
        for column in SHRINKABLE:
            if spare >= 0:
                break
            if column in widths:
                given = min(-spare, widths[column] - least[column])
                widths[column] -= given
                spare += given
        self._fitting_columns = True
        try:
            for column, width in widths.items():
                header.resizeSection(column, width)
        finally:
            self._fitting_columns = False

    @Slot()
    def _select_all(self) -> None:
        self.model.set_checked(self.proxy.visible_source_rows(), True)

    @Slot()
    def _select_none(self) -> None:
        self.model.set_checked(self.proxy.visible_source_rows(), False)

    @Slot()
    def _toggle_row(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            row = self.proxy.mapToSource(index).row()
            self.model.set_checked([row], not self.model.is_checked(row))

    @Slot()
    def _imported_changed(self) -> None:
        self.model.set_imported(self._state.snapshot.imported)
        # An office the import created is no longer "(new office)".
        self._fill_offices(
            [
                self.office.itemData(index)
                for index in range(self.office.count())
                if self.office.itemData(index)[0] in (SUGGESTED, NEW)
            ]
        )
        self._fit_columns()

    @Slot()
    def _selection_changed(self) -> None:
        total = self.model.rowCount()
        if self.busy:
            return
        if total == 0:
            self.count.setText(
                self.tr("No rooms to choose from.") if self._state.directory is not None else ""
            )
            self.completeChanged.emit()
            return
        shown = self.proxy.rowCount()
        text = self.tr("%1 of %2 room(s) selected", "", total)
        text = text.replace("%1", number(self.model.checked_count)).replace("%2", number(total))
        if shown != total:
            text += self.tr(" (%1 shown)").replace("%1", number(shown))
        self.count.setText(text)
        self.completeChanged.emit()

    def chosen_rooms(self) -> list[Room]:
        return self.model.checked_rooms()

    def isComplete(self) -> bool:
        return (
            not self.busy
            and self._state.directory is not None
            and self.office_choice() is not None
            and self.model.checked_count > 0
        )

    def validatePage(self) -> bool:
        self._state.office = self.office_choice()
        self._state.rooms = tuple(self.chosen_rooms())
        return self._state.office is not None and bool(self._state.rooms)

    def cleanupPage(self) -> None:
        self.cancel_task()
