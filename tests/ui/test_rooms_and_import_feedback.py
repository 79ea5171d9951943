"""What a person sees on the Rooms and Import pages: the plan as a list, labels that follow what
is going on, a word for every empty state, columns that show their content, numbers in the
locale."""

from __future__ import annotations

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QApplication, QWizard
from pytestqt.qtbot import QtBot

from clearooms_wizard.core.model import Room
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.pages.rooms import NO_MATCH, TABLE
from clearooms_wizard.ui.rooms_model import (
    BUILDING,
    COLUMNS,
    IMPORTED,
    ROOM_LIST,
    RoomsModel,
    RoomTable,
)
from clearooms_wizard.ui.text import number
from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import Served, ServeDemo
from tests.ui.conftest import MakeWizard
from tests.ui.test_rooms_and_import import add_office, click_next, to_rooms


def choose(qtbot: QtBot, wizard: SetupWizard, search: str) -> None:
    """Tick the rooms the search finds, then clear the search."""
    page = wizard.rooms_page
    page.search.clear()
    qtbot.keyClicks(page.search, search)
    qtbot.mouseClick(page.select_all, Qt.MouseButton.LeftButton)
    page.search.clear()


def wait_for_plan(qtbot: QtBot, wizard: SetupWizard) -> None:
    importer = wizard.import_page

    def planned() -> None:
        # The banner says why, if the check failed.
        assert wizard.state.prepared is not None and not importer.busy, importer.banner.label.text()

    qtbot.waitUntil(planned, timeout=30_000)


def import_now(qtbot: QtBot, wizard: SetupWizard) -> None:
    importer = wizard.import_page
    qtbot.mouseClick(importer.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.state.result is not None and not importer.busy, timeout=30_000)


def click_back(qtbot: QtBot, wizard: SetupWizard) -> None:
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)


def plan_lines(wizard: SetupWizard) -> dict[str, str]:
    lines = wizard.import_page.lines
    return {lines.line(row)[0]: lines.line(row)[2] for row in range(lines.rowCount())}


def test_the_plan_lists_each_room_then_what_was_done_under_a_banner_sized_to_its_text(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    add_office(qtbot, wizard, "Thames Side")
    choose(qtbot, wizard, "huddle 2.1")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    importer = wizard.import_page
    assert importer.plan.isVisible()
    assert plan_lines(wizard) == dict.fromkeys(
        ["Huddle 2.14", "Huddle 2.15", "Huddle 2.16"], "Will be added"
    )
    # The counts on top, the list under them taking the page's spare height.
    assert importer.summary.geometry().bottom() < importer.plan.geometry().top()
    assert importer.plan.height() > importer.height() // 3
    assert not importer.problems.isVisible() and not importer.on_premises_note.isVisible()

    import_now(qtbot, wizard)
    assert set(plan_lines(wizard).values()) == {"Added"}
    banner = importer.banner
    assert banner.isVisible() and not importer.summary.isVisible()
    # Sized to its one line of text, above the list.
    assert banner.height() <= banner.sizeHint().height() + 2
    assert banner.geometry().bottom() < importer.plan.geometry().top()
    assert not importer.import_button.isVisible()
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()


def test_a_room_moving_from_another_office_says_from_where(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    add_office(qtbot, wizard, "First Home")
    choose(qtbot, wizard, "Thames")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    import_now(qtbot, wizard)
    click_back(qtbot, wizard)
    add_office(qtbot, wizard, "Second Home")
    # Enter added the office and did not also press Next.
    assert wizard.rooms_page.office.currentText() == "Second Home (new office)"
    assert wizard.currentId() == PageId.ROOMS
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    assert plan_lines(wizard) == {"Thames": "Will move here from “First Home”"}
    import_now(qtbot, wizard)
    assert plan_lines(wizard) == {"Thames": "Moved here from “First Home”"}


def test_after_importing_into_a_new_office_it_is_no_longer_offered_as_new(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    page.office.setCurrentIndex(0)  # the suggested "London HQ (new office)"
    assert page.office.currentText() == "London HQ (new office)"
    choose(qtbot, wizard, "Thames")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    import_now(qtbot, wizard)
    click_back(qtbot, wizard)
    items = [page.office.itemText(i) for i in range(page.office.count())]
    assert page.office.currentText() == "London HQ"
    assert "London HQ (new office)" not in items and items.count("London HQ") == 1
    # Now something is imported: the column saying where is shown, its header in full.
    table = page.table
    assert not table.isColumnHidden(IMPORTED)
    header = table.horizontalHeader()
    assert header.sectionSize(IMPORTED) >= header.sectionSizeHint(IMPORTED)
    choice = page.office_choice()
    assert choice is not None and choice.exists


def test_when_nothing_needs_importing_finish_is_open_at_once(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    wizard.rooms_page.office.setCurrentIndex(0)
    choose(qtbot, wizard, "huddle 2.1")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    import_now(qtbot, wizard)
    click_back(qtbot, wizard)
    click_next(qtbot, wizard)  # the same rooms again: all of them are up to date
    wait_for_plan(qtbot, wizard)
    importer = wizard.import_page
    assert ": 3 rooms unchanged." in importer.summary.text()
    assert set(plan_lines(wizard).values()) == {"Nothing to change"}
    assert not importer.import_button.isEnabled()
    assert importer.import_button.text() == "Nothing to import"
    assert "Nothing needs importing" in importer.next_steps.text()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.isEnabled() and wizard.state.result is None
    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert not wizard.isVisible()


def test_the_import_button_names_no_stale_count_while_the_calendars_are_checked(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    wizard.rooms_page.office.setCurrentIndex(0)
    choose(qtbot, wizard, "huddle 2.1")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    importer = wizard.import_page
    assert importer.import_button.text() == "&Import 3 rooms"
    click_back(qtbot, wizard)
    qtbot.mouseClick(wizard.rooms_page.select_all, Qt.MouseButton.LeftButton)
    healthy.tenant.latency = 0.2
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: importer.busy, timeout=10_000)
    assert importer.import_button.text() == "&Import"
    assert not importer.import_button.isEnabled()
    healthy.tenant.latency = 0.0
    wait_for_plan(qtbot, wizard)
    assert importer.import_button.text() == "&Import 24 rooms"


def test_rooms_from_several_buildings_are_pointed_out_before_the_import(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    wizard.rooms_page.office.setCurrentIndex(0)
    choose(qtbot, wizard, "Thames")
    choose(qtbot, wizard, "Ancoats")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    notes = wizard.import_page.notes
    assert notes.isVisible()
    assert "These rooms are in 2 buildings: London HQ, Manchester Hub." in notes.text()
    # Not a reason to stop: the import can go ahead.
    assert wizard.import_page.import_button.isEnabled()

    click_back(qtbot, wizard)
    qtbot.mouseClick(wizard.rooms_page.select_none, Qt.MouseButton.LeftButton)
    choose(qtbot, wizard, "Thames")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    assert not notes.isVisible()


def test_an_on_premises_room_is_explained_where_it_matters(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("mixed-mailboxes"))
    to_rooms(qtbot, wizard)
    wizard.rooms_page.office.setCurrentIndex(0)
    choose(qtbot, wizard, "Ada Lovelace")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    importer = wizard.import_page
    assert importer.problems.isVisible() and not importer.on_premises_note.isVisible()

    click_back(qtbot, wizard)
    choose(qtbot, wizard, "Old Post Room")
    choose(qtbot, wizard, "Thames")
    click_next(qtbot, wizard)
    wait_for_plan(qtbot, wizard)
    note = importer.on_premises_note
    assert note.isVisible()
    assert "only room mailboxes in Exchange Online" in note.text()
    assert "Hybrid Exchange" in note.text()
    import_now(qtbot, wizard)
    assert note.isVisible()


def test_a_search_that_matches_nothing_says_so(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    qtbot.keyClicks(page.search, "<b>zebra</b>")
    assert page.stack.currentIndex() == NO_MATCH
    assert page.no_match.isVisible()
    assert page.no_match.text().startswith("No rooms match “<b>zebra</b>”.")
    assert page.no_match.textFormat() == Qt.TextFormat.PlainText
    page.search.clear()
    assert page.stack.currentIndex() == TABLE and page.table.isVisible()


def test_with_no_rooms_there_is_nothing_to_search_or_choose(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    wizard = make_wizard(serve_demo("no-rooms"))
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    qtbot.mouseClick(wizard.connect_page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.connect_page.test is not None, timeout=30_000)
    wizard.connect_page._warnings_accepted = True  # the warning dialog is tested elsewhere
    click_next(qtbot, wizard)
    page = wizard.rooms_page
    qtbot.waitUntil(lambda: wizard.state.directory is not None and not page.busy, timeout=30_000)
    for widget in (page.search, page.select_all, page.select_none, page.office):
        assert not widget.isEnabled()
    assert page.count.text() == "No rooms to choose from."
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_numbers_are_written_the_same_way_everywhere(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    # A computer with no language set (the C locale) still groups thousands, as Microsoft's
    # messages do; another language groups its own way.
    assert number(1200) == "1,200"
    wizard = make_wizard(serve_demo("many-rooms"))
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    assert page.count.text() == "0 of 1,200 rooms selected"
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        assert number(1200) == "1.200"
        page.model.set_checked(range(1100), True)
        assert page.count.text().startswith("1.100 of 1.200 rooms")
    finally:
        QLocale.setDefault(QLocale.c())


def test_columns_show_their_content_and_give_spare_width_to_name_and_email(
    qtbot: QtBot, make_wizard: MakeWizard, healthy: Served
) -> None:
    wizard = make_wizard(healthy)
    wizard.resize(1280, 900)
    to_rooms(qtbot, wizard)
    page = wizard.rooms_page
    table, header = page.table, page.table.horizontalHeader()
    QApplication.processEvents()
    # Nothing imported yet: no empty "Imported into" column.
    assert table.isColumnHidden(IMPORTED)
    shown = [c for c in range(len(COLUMNS)) if not table.isColumnHidden(c)]
    assert sum(header.sectionSize(c) for c in shown) == table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()
    metrics = table.fontMetrics()
    for column in shown:
        assert header.sectionSize(column) >= header.sectionSizeHint(column), COLUMNS[column]
    for column in (BUILDING, ROOM_LIST):
        widest = max(
            metrics.horizontalAdvance(str(page.model.data(page.model.index(row, column))))
            for row in range(page.model.rowCount())
        )
        assert header.sectionSize(column) > widest, COLUMNS[column]
    # The narrow columns keep their width; the room's name and email get the rest.
    assert header.sectionSize(BUILDING) < header.sectionSize(0) < header.sectionSize(1)

    wizard.resize(800, 600)
    QApplication.processEvents()
    qtbot.waitUntil(lambda: table.viewport().width() < 800)
    assert sum(header.sectionSize(c) for c in shown) <= table.viewport().width()
    for column in shown:
        assert header.sectionSize(column) >= header.sectionSizeHint(column), COLUMNS[column]


def test_tooltips_show_the_full_value_as_plain_text(qapp: QApplication) -> None:
    room = Room("room.bold@example.com", "<b>Board</b> & co", building="Manchester Hub")
    model = RoomsModel()
    model.set_table(RoomTable.build([room], {}, {}))
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert isinstance(tip, str) and "&lt;b&gt;Board&lt;/b&gt; &amp; co" in tip
    building = model.data(model.index(0, BUILDING), Qt.ItemDataRole.ToolTipRole)
    assert isinstance(building, str) and "Manchester Hub" in building
    assert model.data(model.index(0, 0)) == "<b>Board</b> & co"
