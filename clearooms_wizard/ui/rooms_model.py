"""The rooms table: a checkable model over the rooms from Graph, and a view of it for search/sort.

Built for 10,000 rooms without stalling the GUI thread:

- :class:`RoomTable` holds everything slow to compute (rooms in name order, the search text of
  each row) and is plain data, so the Rooms page builds it on its worker thread.
- :class:`RoomsModel` holds all rooms and which are ticked; installing a table is a model reset.
- :class:`RoomsFilter` is what the table view shows: the rows that match the search, in the
  chosen sort order. It filters and sorts whole Python lists at once (a couple of milliseconds
  for 10,000 rooms), where a QSortFilterProxyModel calls back into Python for every row it
  filters and for every comparison it sorts with. The view asks only for the rows it paints.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)

from clearooms_wizard.core.model import Room
from clearooms_wizard.ui.text import plain_tooltip

ModelIndex = QModelIndex | QPersistentModelIndex
SortKey = str | int | tuple[int, str]

# Roles as plain ints (ItemDataRole is an IntEnum): the view asks for about ten roles per cell on
# every paint, and most of them are answered with None straight away.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_SHOWN_ROLES = frozenset(
    {_DISPLAY, int(Qt.ItemDataRole.ToolTipRole), int(Qt.ItemDataRole.AccessibleTextRole)}
)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_CHECK = int(Qt.ItemDataRole.CheckStateRole)
_SORT = int(Qt.ItemDataRole.UserRole)
_ANSWERED = _SHOWN_ROLES | {_CHECK, _SORT}

COLUMNS = ("Name", "Email", "Seats", "Building", "Floor", "Room list", "Imported into")
NAME, EMAIL, SEATS, BUILDING, FLOOR, ROOM_LIST, IMPORTED = range(len(COLUMNS))
# How many of each column's longest texts are kept for sizing the column: measuring every row's
# text would stall the GUI for 10,000 rooms, and the longest by characters are nearly always the
# widest on screen.
LONGEST_KEPT = 8


def floor_text(room: Room) -> str:
    if room.floor_label:
        return room.floor_label
    return "" if room.floor_number is None else str(room.floor_number)


def display_text(
    room: Room, column: int, list_names: Mapping[str, str], imported: Mapping[str, str]
) -> str:
    """What a cell shows; ``list_names`` is keyed by case-folded room list email."""
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
        return ", ".join(list_names.get(e.casefold(), e) for e in room.room_lists)
    return imported.get(room.key, "")


def sort_key(room: Room, column: int, text: str) -> SortKey:
    """Seats and floors sort as numbers; everything else as text, ignoring case."""
    if column == SEATS:
        return -1 if room.capacity is None else room.capacity
    if column == FLOOR:
        return (room.floor_number if room.floor_number is not None else -999, floor_text(room))
    return text.casefold()


@dataclass(frozen=True)
class RoomTable:
    """The rooms ready to show: sorted by name, each with its search text. Plain data, no Qt."""

    rooms: tuple[Room, ...] = ()
    # Case-folded room list email -> the list's name.
    list_names: Mapping[str, str] = field(default_factory=dict)
    # Case-folded room email -> the office it was imported into.
    imported: Mapping[str, str] = field(default_factory=dict)
    # Per row: every column but "Imported into", case-folded, tab-separated.
    search_texts: tuple[str, ...] = ()
    # Per column but "Imported into": its longest texts, to size the column by.
    longest: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def build(
        cls, rooms: Sequence[Room], list_names: Mapping[str, str], imported: Mapping[str, str]
    ) -> RoomTable:
        """Slow for 10,000 rooms (tens of milliseconds): call it off the GUI thread."""
        ordered = tuple(sorted(rooms, key=lambda r: (r.name.casefold(), r.key)))
        names = {k.casefold(): v for k, v in list_names.items()}
        cells = [
            [display_text(room, column, names, {}) for column in range(IMPORTED)]
            for room in ordered
        ]
        texts = tuple("\t".join(row).casefold() for row in cells)
        longest = tuple(
            tuple(heapq.nlargest(LONGEST_KEPT, {row[column] for row in cells if row[column]}, len))
            for column in range(IMPORTED)
        )
        return cls(ordered, names, dict(imported), texts, longest)


class RoomsModel(QAbstractTableModel):
    """Every room, in name order, and which are ticked.

    Signals: selection_changed(): the set of ticked rooms changed.
    """

    selection_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._table = RoomTable()
        self._rooms: tuple[Room, ...] = ()
        self._imported: dict[str, str] = {}
        self._checked: set[str] = set()
        self._search_text: list[str] = []
        self._sort_keys: dict[int, list[SortKey]] = {}

    # -- content --------------------------------------------------------------------------

    def set_table(self, table: RoomTable) -> None:
        """Show these rooms (quick: the table did the slow part), none of them ticked."""
        self.beginResetModel()
        self._table = table
        self._rooms = table.rooms
        self._imported = dict(table.imported)
        # Nothing is ticked for the user: ticking rooms imported into another office would
        # quietly move them to the office chosen now.
        self._checked = set()
        self._sort_keys = {}
        self._refresh_search_text()
        self.endResetModel()
        self.selection_changed.emit()

    def _refresh_search_text(self) -> None:
        imported = self._imported
        self._search_text = [
            f"{text}\t{imported[room.key].casefold()}" if room.key in imported else text
            for room, text in zip(self._rooms, self._table.search_texts, strict=True)
        ]

    def set_imported(self, imported: Mapping[str, str]) -> None:
        self._imported = dict(imported)
        self._sort_keys.pop(IMPORTED, None)
        self._refresh_search_text()
        if self._rooms:
            self.dataChanged.emit(
                self.index(0, IMPORTED), self.index(len(self._rooms) - 1, IMPORTED)
            )

    def room(self, row: int) -> Room:
        return self._rooms[row]

    def longest_texts(self, column: int) -> tuple[str, ...]:
        """The column's longest texts (a few), to size it by; none when it is empty."""
        if column == IMPORTED:
            return tuple(heapq.nlargest(LONGEST_KEPT, set(self._imported.values()), len))
        longest = self._table.longest
        return longest[column] if column < len(longest) else ()

    @property
    def anything_imported(self) -> bool:
        return bool(self._imported) and any(room.key in self._imported for room in self._rooms)

    def search_texts(self) -> list[str]:
        """Every row's search text, case-folded (do not change the list)."""
        return self._search_text

    def sort_keys(self, column: int) -> list[SortKey]:
        """Every row's sort key for ``column``, computed once per content."""
        keys = self._sort_keys.get(column)
        if keys is None:
            keys = [sort_key(room, column, self._display(room, column)) for room in self._rooms]
            self._sort_keys[column] = keys
        return keys

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
        count = len(self._rooms)
        touched = [row for row in rows if 0 <= row < count]
        if not touched:
            return
        keys = [self._rooms[row].key for row in touched]
        if checked:
            self._checked.update(keys)
        else:
            self._checked.difference_update(keys)
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
        return display_text(room, column, self._table.list_names, self._imported)

    def value(self, row: int, column: int, role: int) -> object:
        """``data()`` by row and column, for the filter view (no index needed)."""
        if role in _SHOWN_ROLES:
            text = self._display(self._rooms[row], column)
            # Room names and buildings come from Microsoft 365: never taken for rich text.
            return plain_tooltip(text) if role == _TOOLTIP else text
        if role == _CHECK:
            if column != NAME:
                return None
            checked = self._rooms[row].key in self._checked
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        if role == _SORT:
            room = self._rooms[row]
            return sort_key(room, column, self._display(room, column))
        return None

    def data(self, index: ModelIndex, role: int = _DISPLAY) -> object:
        if role not in _ANSWERED or not index.isValid():
            return None
        return self.value(index.row(), index.column(), role)

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


class RoomsFilter(QAbstractTableModel):
    """The rooms the table shows: those matching the search (case-insensitive, every column),
    in the chosen order (seats and floors as numbers). Rows here map to rows of the
    :class:`RoomsModel` given as ``source`` through :meth:`mapToSource`."""

    def __init__(self, source: RoomsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._needle = ""
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._order: list[int] = []  # every source row, in sort order
        self._rows: list[int] = []  # the source rows shown, in sort order
        self._position: list[int] = []  # source row -> row here, or -1 when hidden
        source.modelAboutToBeReset.connect(self._source_about_to_reset)
        source.modelReset.connect(self._source_reset)
        source.dataChanged.connect(self._source_data_changed)
        source.headerDataChanged.connect(self.headerDataChanged)
        self._source_reset_now()

    # -- search and sort ------------------------------------------------------------------

    def set_search(self, text: str) -> None:
        needle = text.strip().casefold()
        if needle == self._needle:
            return
        self._needle = needle
        self._show(self._matching(self._order))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column = column
        self._sort_order = order
        self._order = self._sorted()
        self._show(self._matching(self._order))

    def _sorted(self) -> list[int]:
        count = self._source.rowCount()
        if not 0 <= self._sort_column < len(COLUMNS):
            return list(range(count))
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        if self._sort_column == NAME and not descending:
            return list(range(count))  # the model's own order (RoomTable sorts by name)
        keys = self._source.sort_keys(self._sort_column)
        # Stable either way, so rooms that tie keep their name order.
        return sorted(range(count), key=keys.__getitem__, reverse=descending)

    def _matching(self, order: list[int]) -> list[int]:
        needle = self._needle
        if not needle:
            return list(order)
        texts = self._source.search_texts()
        return [row for row in order if needle in texts[row]]

    def _show(self, rows: list[int]) -> None:
        """Show ``rows``, keeping the current item and selection where they are still shown."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        old_rows = self._rows
        sources = [
            old_rows[index.row()] if 0 <= index.row() < len(old_rows) else -1 for index in before
        ]
        self._set_rows(rows)
        after = [
            self.index(self._position[source], index.column())
            if source >= 0 and self._position[source] >= 0
            else QModelIndex()
            for source, index in zip(sources, before, strict=True)
        ]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def _set_rows(self, rows: list[int]) -> None:
        self._rows = rows
        position = [-1] * self._source.rowCount()
        for row, source in enumerate(rows):
            position[source] = row
        self._position = position

    def visible_source_rows(self) -> list[int]:
        return list(self._rows)

    # -- following the source -------------------------------------------------------------

    @Slot()
    def _source_about_to_reset(self) -> None:
        self.beginResetModel()

    @Slot()
    def _source_reset(self) -> None:
        self._source_reset_now()
        self.endResetModel()

    def _source_reset_now(self) -> None:
        self._order = self._sorted()
        self._set_rows(self._matching(self._order))

    def _source_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: list[int]
    ) -> None:
        shown = [p for p in self._position[top_left.row() : bottom_right.row() + 1] if p >= 0]
        if shown:
            self.dataChanged.emit(
                self.index(min(shown), top_left.column()),
                self.index(max(shown), bottom_right.column()),
                roles,
            )
        if top_left.column() <= IMPORTED <= bottom_right.column():
            # "Imported into" changed: it is sorted on and searched too.
            if self._sort_column == IMPORTED:
                self.sort(self._sort_column, self._sort_order)
            elif self._needle:
                self._show(self._matching(self._order))

    # -- Qt model -------------------------------------------------------------------------

    def mapToSource(self, index: ModelIndex) -> QModelIndex:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return QModelIndex()
        return self._source.index(self._rows[index.row()], index.column())

    def mapFromSource(self, index: ModelIndex) -> QModelIndex:
        if not index.isValid() or not 0 <= index.row() < len(self._position):
            return QModelIndex()
        row = self._position[index.row()]
        return QModelIndex() if row < 0 else self.index(row, index.column())

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal:
            return self._source.headerData(section, orientation, role)
        return None

    def data(self, index: ModelIndex, role: int = _DISPLAY) -> object:
        if role not in _ANSWERED:
            return None
        row = index.row()
        if not 0 <= row < len(self._rows) or not index.isValid():
            return None
        return self._source.value(self._rows[row], index.column(), role)

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == NAME:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(
        self, index: ModelIndex, value: object, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        return self._source.setData(self.mapToSource(index), value, role)
