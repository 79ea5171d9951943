"""The rooms table's models: search and sort over whole lists, ticks kept by room, 10,000 rooms."""

from __future__ import annotations

import time

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.model import Room
from clearooms_wizard.ui.rooms_model import (
    EMAIL,
    FLOOR,
    IMPORTED,
    NAME,
    SEATS,
    RoomsFilter,
    RoomsModel,
    RoomTable,
)

LISTS = {"Rooms.London@contoso.com": "London HQ"}


def room(
    name: str, capacity: int | None = None, floor: int | None = None, building: str | None = None
) -> Room:
    email = f"{name.lower().replace(' ', '.')}@contoso.com"
    return Room(email, name, capacity=capacity, floor_number=floor, building=building)


ROOMS = [
    room("Thames", 12, 3, building="London HQ"),
    room("boardroom", 20, 3, building="London HQ"),
    room("Ancoats", 14, 1, building="Manchester Hub"),
    room("Huddle 2", 4, None),
    Room(
        "deansgate@contoso.com", "Deansgate", capacity=8, room_lists=("rooms.london@contoso.com",)
    ),
]


def models(
    rooms: list[Room] | None = None, imported: dict[str, str] | None = None
) -> tuple[RoomsModel, RoomsFilter]:
    model = RoomsModel()
    shown = RoomsFilter(model)
    model.set_table(RoomTable.build(rooms or ROOMS, LISTS, imported or {}))
    shown.sort(NAME, Qt.SortOrder.AscendingOrder)
    return model, shown


def names(shown: RoomsFilter) -> list[str]:
    return [str(shown.data(shown.index(row, NAME))) for row in range(shown.rowCount())]


def test_rooms_are_in_name_order_ignoring_case(qtbot: QtBot) -> None:
    model, shown = models()
    assert [model.room(row).name for row in range(model.rowCount())] == [
        "Ancoats",
        "boardroom",
        "Deansgate",
        "Huddle 2",
        "Thames",
    ]
    assert names(shown) == [model.room(row).name for row in range(model.rowCount())]


def test_search_matches_any_column_ignoring_case(qtbot: QtBot) -> None:
    _model, shown = models(imported={"thames@contoso.com": "Old Office"})
    shown.set_search("LONDON")  # building, and a room list's name
    assert names(shown) == ["boardroom", "Deansgate", "Thames"]
    shown.set_search(" old office ")  # the office a room was imported into
    assert names(shown) == ["Thames"]
    shown.set_search("ancoats@")  # email
    assert names(shown) == ["Ancoats"]
    shown.set_search("nothing like it")
    assert shown.rowCount() == 0
    shown.set_search("")
    assert shown.rowCount() == 5


def test_seats_and_floors_sort_as_numbers(qtbot: QtBot) -> None:
    _model, shown = models()
    shown.sort(SEATS, Qt.SortOrder.AscendingOrder)
    assert names(shown) == ["Huddle 2", "Deansgate", "Thames", "Ancoats", "boardroom"]
    shown.sort(SEATS, Qt.SortOrder.DescendingOrder)
    assert names(shown) == ["boardroom", "Ancoats", "Thames", "Deansgate", "Huddle 2"]
    shown.sort(FLOOR, Qt.SortOrder.AscendingOrder)
    assert names(shown)[-2:] == ["boardroom", "Thames"]  # floor 3, then name order
    shown.sort(EMAIL, Qt.SortOrder.DescendingOrder)
    assert names(shown)[0] == "Thames"


def test_sorting_keeps_the_search(qtbot: QtBot) -> None:
    _model, shown = models()
    shown.set_search("london")
    shown.sort(SEATS, Qt.SortOrder.DescendingOrder)
    assert names(shown) == ["boardroom", "Thames", "Deansgate"]


def test_rows_map_to_the_model_and_ticks_follow_the_room(qtbot: QtBot) -> None:
    model, shown = models()
    shown.set_search("london")
    seen: list[tuple[int, int]] = []
    shown.dataChanged.connect(lambda a, b, roles: seen.append((a.row(), b.row())))
    first = shown.index(0, NAME)
    assert shown.setData(first, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert model.checked_rooms() == [model.room(shown.mapToSource(first).row())]
    assert shown.data(first, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert seen and seen[-1] == (0, 0)
    model.set_checked(shown.visible_source_rows(), True)
    assert sorted(r.name for r in model.checked_rooms()) == ["Deansgate", "Thames", "boardroom"]
    shown.set_search("")
    assert [shown.data(shown.index(r, NAME), Qt.ItemDataRole.CheckStateRole) for r in range(5)] == [
        Qt.CheckState.Unchecked,
        Qt.CheckState.Checked,
        Qt.CheckState.Checked,
        Qt.CheckState.Unchecked,
        Qt.CheckState.Checked,
    ]
    assert shown.mapFromSource(model.index(4, NAME)).row() == 4
    assert not shown.mapToSource(QModelIndex()).isValid()


def test_the_current_room_stays_current_while_searching(qtbot: QtBot) -> None:
    _model, shown = models()
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(shown)
    thames = shown.index(4, NAME)
    view.selectionModel().setCurrentIndex(thames, QItemSelectionModel.SelectionFlag.Select)
    shown.set_search("london")
    assert shown.data(view.currentIndex(), Qt.ItemDataRole.DisplayRole) == "Thames"
    assert view.currentIndex().row() == 2
    shown.set_search("manchester")
    assert not view.currentIndex().isValid()


def test_imported_offices_are_shown_searched_and_sorted(qtbot: QtBot) -> None:
    model, shown = models()
    shown.set_search("new office")
    assert shown.rowCount() == 0
    model.set_imported({"ancoats@contoso.com": "New Office"})
    assert names(shown) == ["Ancoats"]
    assert shown.data(shown.index(0, IMPORTED)) == "New Office"
    shown.set_search("")
    shown.sort(IMPORTED, Qt.SortOrder.DescendingOrder)
    assert names(shown)[0] == "Ancoats"


def test_a_new_table_unticks_everything(qtbot: QtBot) -> None:
    model, shown = models()
    model.set_checked(range(5), True)
    shown.set_search("london")
    model.set_table(RoomTable.build(ROOMS[:2], {}, {}))
    assert model.checked_count == 0
    assert names(shown) == ["boardroom", "Thames"]
    model.set_table(RoomTable())
    assert shown.rowCount() == 0 and model.rowCount() == 0


def test_ten_thousand_rooms_filter_in_a_few_milliseconds(qtbot: QtBot) -> None:
    many = [room(f"Room {n:05d}", n % 20, n % 10, building=f"Site {n % 7}") for n in range(10_000)]
    _model, shown = models(many)
    start = time.perf_counter()
    shown.set_search("site 3")
    shown.set_search("room 0")
    shown.set_search("")
    elapsed = time.perf_counter() - start
    assert shown.rowCount() == 10_000
    # Generous for a loaded CI machine; a per-row Python callback took tens of ms per search.
    assert elapsed < 0.5
