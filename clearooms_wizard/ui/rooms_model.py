"""The rooms table: a checkable model over the rooms from Graph, and a proxy for search/sort."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)

from clearooms_wizard.core.graph import Room

ModelIndex = QModelIndex | QPersistentModelIndex

COLUMNS = ("Name", "Email", "Seats", "Building", "Floor", "Room list", "Already imported")
NAME, EMAIL, SEATS, BUILDING, FLOOR, ROOM_LIST, IMPORTED = range(len(COLUMNS))


def floor_text(room: Room) -> str:
    if room.floor_label:
        return room.floor_label
    return "" if room.floor_number is None else str(room.floor_number)


class RoomsModel(QAbstractTableModel):
    """Signals: selection_changed(): the set of ticked rooms changed."""

    selection_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rooms: list[Room] = []
        self._list_names: dict[str, str] = {}
        self._imported: dict[str, str] = {}
        self._checked: set[str] = set()
        self._search_text: list[str] = []

    # -- content --------------------------------------------------------------------------

    def set_rooms(
        self,
        rooms: Sequence[Room],
        list_names: Mapping[str, str],
        imported: Mapping[str, str],
    ) -> None:
        self.beginResetModel()
        self._rooms = sorted(rooms, key=lambda r: (r.name.casefold(), r.key))
        self._list_names = {k.casefold(): v for k, v in list_names.items()}
        self._imported = dict(imported)
        # Nothing is ticked for the user: ticking rooms imported into another office would
        # quietly move them to the office chosen now.
        self._checked = set()
        # Precomputed once so that filtering 10,000 rooms per keystroke stays cheap.
        self._search_text = [
            "\t".join(self._display(room, column) for column in range(len(COLUMNS))).casefold()
            for room in self._rooms
        ]
        self.endResetModel()
        self.selection_changed.emit()

    def set_imported(self, imported: Mapping[str, str]) -> None:
        self._imported = dict(imported)
        if self._rooms:
            self.dataChanged.emit(
                self.index(0, IMPORTED), self.index(len(self._rooms) - 1, IMPORTED)
            )

    def room(self, row: int) -> Room:
        return self._rooms[row]

    def search_text(self, row: int) -> str:
        return self._search_text[row]

    @property
    def rooms(self) -> list[Room]:
        return list(self._rooms)

    def checked_rooms(self) -> list[Room]:
        return [room for room in self._rooms if room.key in self._checked]

    def is_checked(self, row: int) -> bool:
        return self._rooms[row].key in self._checked

    @property
    def checked_count(self) -> int:
        return len(self._checked)

    def set_checked(self, rows: Iterable[int], checked: bool) -> None:
        """Tick or untick many rows with one change notification."""
        touched = [row for row in rows if 0 <= row < len(self._rooms)]
        if not touched:
            return
        for row in touched:
            key = self._rooms[row].key
            if checked:
                self._checked.add(key)
            else:
                self._checked.discard(key)
        self.dataChanged.emit(
            self.index(min(touched), NAME),
            self.index(max(touched), NAME),
            [Qt.ItemDataRole.CheckStateRole],
        )
        self.selection_changed.emit()

    # -- Qt model -------------------------------------------------------------------------

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rooms)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(COLUMNS[section])
        return None

    def _display(self, room: Room, column: int) -> str:
        if column == NAME:
            return room.name
        if column == EMAIL:
            return room.email
        if column == SEATS:
            return "" if room.capacity is None else str(room.capacity)
        if column == BUILDING:
            return room.building or ""
        if column == FLOOR:
            return floor_text(room)
        if column == ROOM_LIST:
            return ", ".join(self._list_names.get(e.casefold(), e) for e in room.room_lists)
        return self._imported.get(room.key, "")

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        room = self._rooms[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._display(room, column)
        if role == Qt.ItemDataRole.CheckStateRole and column == NAME:
            return Qt.CheckState.Checked if room.key in self._checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.UserRole:  # sort key
            if column == SEATS:
                return -1 if room.capacity is None else room.capacity
            if column == FLOOR:
                return (
                    room.floor_number if room.floor_number is not None else -999,
                    floor_text(room),
                )
            return self._display(room, column).casefold()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._display(room, column)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == NAME:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(
        self, index: ModelIndex, value: object, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or index.column() != NAME:
            return False
        checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2)
        self.set_checked([index.row()], checked)
        return True


class RoomsFilter(QSortFilterProxyModel):
    """Case-insensitive search over every column; numeric sorting for seats and floors."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setSortRole(Qt.ItemDataRole.UserRole)

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        assert isinstance(model, RoomsModel)
        return self._needle in model.search_text(source_row)

    def lessThan(self, left: ModelIndex, right: ModelIndex) -> bool:
        a = left.data(Qt.ItemDataRole.UserRole)
        b = right.data(Qt.ItemDataRole.UserRole)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)

    def visible_source_rows(self) -> list[int]:
        return [self.mapToSource(self.index(row, 0)).row() for row in range(self.rowCount())]
