"""The workspace file: saved connection, schema versions, and files it must not touch."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from clearooms_wizard.core import workspace as workspace_module
from clearooms_wizard.core.appinfo import workspace_path
from clearooms_wizard.core.model import (
    CalendarAccess,
    NewOffice,
    Office,
    Room,
    RoomStatus,
    SavedConnection,
)
from clearooms_wizard.core.store import OfficeNameError, RoomWrite, TimeZoneError, UnknownOffice
from clearooms_wizard.core.workspace import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    Workspace,
    WorkspaceDamaged,
    WorkspaceError,
    WorkspaceForeign,
    open_workspace,
)
from tests.support.read_only import read_only

SAVED = SavedConnection(
    tenant="contoso.onmicrosoft.com",
    client_id="0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41",
    tenant_id="6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93",
    last_test_ok=True,
)


def test_connection_round_trips_and_updates(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ws.sqlite3"
    with Workspace(path) as workspace:
        assert workspace.load_connection() is None
        workspace.save_connection(SAVED)
    with Workspace(path) as workspace:
        assert workspace.load_connection() == SAVED
        workspace.save_connection(SavedConnection("contoso.com", SAVED.client_id, cloud="usgov"))
        loaded = workspace.load_connection()
    assert loaded is not None and loaded.cloud == "usgov" and loaded.tenant_id is None
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_newer_workspace_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(WorkspaceError, match="newer version"):
        Workspace(path)
    assert path.read_bytes() == before


def test_foreign_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    before = path.read_bytes()
    with pytest.raises(WorkspaceError, match="not a Clearooms workspace"):
        Workspace(path)
    assert path.read_bytes() == before


def test_unwritable_folder_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkspaceError, match="could not be created"):
        Workspace(blocker / "ws.sqlite3")


def test_path_comes_from_option_then_environment(tmp_path: Path) -> None:
    assert workspace_path(str(tmp_path / "a"), {"CLEAROOMS_WORKSPACE": "b"}) == tmp_path / "a"
    assert workspace_path(None, {"CLEAROOMS_WORKSPACE": str(tmp_path / "b")}) == tmp_path / "b"
    assert workspace_path(None, {}).name == "workspace.sqlite3"


# -- schema, robustness and the store (issue 3) -------------------------------------------------

ROOMS = [
    Room(
        f"room{i}@contoso.com",
        f"Room {i}",
        graph_id=f"id-{i}",
        capacity=i,
        building="HQ",
        floor_number=1,
        floor_label="1",
        room_lists=("rooms.hq@contoso.com",),
    )
    for i in range(1, 31)
]


def readable(rooms: list[Room]) -> list[RoomWrite]:
    return [RoomWrite(room, CalendarAccess.READABLE.value) for room in rooms]


def dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def room_rows(path: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT * FROM room ORDER BY email_key").fetchall()
    finally:
        db.close()


def test_a_version_1_workspace_is_migrated_keeping_its_connection(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    db = sqlite3.connect(path)
    workspace_module.MIGRATIONS[0](db)
    db.execute("INSERT INTO connection (id, tenant, client_id) VALUES (1, 'contoso.com', 'c')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Workspace(path) as workspace:
        loaded = workspace.load_connection()
        assert loaded is not None and loaded.tenant == "contoso.com"
        # Saved before certificates: it signs in with the secret.
        assert loaded.credential_kind == "secret" and loaded.certificate_thumbprint is None
        assert workspace.list_offices() == []
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


def test_offices_are_added_tidied_unique_ignoring_case_and_counted(tmp_path: Path) -> None:
    with Workspace(tmp_path / "ws.sqlite3") as workspace:
        london = workspace.add_office("  London\tHQ \n", "europe/london")
        assert (london.name, london.timezone) == ("London HQ", "Europe/London")
        with pytest.raises(OfficeNameError, match="already an office called “London HQ”"):
            workspace.add_office("LONDON  hq")
        workspace.add_office("Åre Lodge")
        assert workspace.find_office("london hq") == london
        assert workspace.find_office("nowhere") is None
        workspace.apply_import(london, readable(ROOMS[:3]), None)
        offices = workspace.list_offices()
    assert [(o.name, o.room_count) for o in offices] == [("London HQ", 3), ("Åre Lodge", 0)]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for the office"),
        ("   \t\n", "Enter a name for the office"),
        ("x" * 101, "101 characters long"),
        ("x" * 10_000, "far too long"),
    ],
)
def test_bad_office_names_are_refused_and_nothing_is_written(
    tmp_path: Path, name: str, message: str
) -> None:
    path = tmp_path / "ws.sqlite3"
    with Workspace(path) as workspace:
        before = dump(path)
        with pytest.raises(OfficeNameError, match=message) as raised:
            workspace.add_office(name)
        assert isinstance(raised.value, ValueError)  # usable where a ValueError is expected
        assert "x" * 60 not in str(raised.value)  # never quotes a wall of text back
    assert dump(path) == before


def test_a_bad_time_zone_is_refused(tmp_path: Path) -> None:
    with Workspace(tmp_path / "ws.sqlite3") as workspace:
        with pytest.raises(TimeZoneError, match="Europe/London"):
            workspace.add_office("Paris", "Mars/Olympus Mons")
        assert workspace.list_offices() == []


def test_apply_compares_inside_the_transaction_and_never_deletes(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    with Workspace(path) as workspace:
        hq = workspace.add_office("HQ")
        annex = workspace.add_office("Annex")
        first = workspace.apply_import(hq, readable(ROOMS[:5]), None)
        assert [w.status for w in first.written] == [RoomStatus.NEW] * 5
        again = workspace.apply_import(hq, readable(ROOMS[:5]), None)
        assert [w.status for w in again.written] == [RoomStatus.UNCHANGED] * 5
        renamed = Room(ROOMS[0].email.upper(), "Room One", graph_id="id-1", capacity=12,
                       building="HQ", floor_number=1, floor_label="1",
                       room_lists=("rooms.hq@contoso.com",))  # fmt: skip
        moved = workspace.apply_import(annex, readable([renamed]), None)
        (written,) = moved.written
        assert written.status is RoomStatus.UPDATED and written.moved_from == "HQ"
        assert {c.field for c in written.changes} == {"email", "name", "capacity", "office"}
        listed = frozenset(r.key for r in ROOMS[1:5])
        result = workspace.apply_import(hq, [], listed)
        assert [m.email for m in result.missing] == [renamed.email]
        rooms = {r.key: r for r in workspace.imported_rooms()}
    assert len(rooms) == 5  # the missing room is kept
    assert rooms[ROOMS[0].key].missing_since is not None
    assert rooms[ROOMS[0].key].first_imported_at is not None


def test_an_import_into_an_unknown_office_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    with Workspace(path) as workspace:
        workspace.add_office("HQ")
        before = dump(path)
        with pytest.raises(UnknownOffice, match="“HQ”"):
            workspace.apply_import(Office(99, "Gone"), readable(ROOMS[:2]), None)
    assert dump(path) == before


def test_a_full_disk_during_an_import_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    with Workspace(path) as workspace:
        hq = workspace.add_office("HQ")
        workspace.apply_import(hq, readable(ROOMS[:2]), None)
        before = room_rows(path)
        pages = workspace._db.execute("PRAGMA page_count").fetchone()[0]
        # SQLite's own limit on the file's size: the same error a full disk gives.
        workspace._db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(WorkspaceError, match="is full") as raised:
            workspace.apply_import(hq, readable(ROOMS), None)
        assert "nothing was changed" in str(raised.value)
        assert len(workspace.imported_rooms()) == 2
    assert room_rows(path) == before


def _read_only_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("uri", None)
        return real_connect(f"file:{database}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)


def test_a_read_only_workspace_is_explained_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.sqlite3"
    with Workspace(path) as workspace:
        workspace.add_office("HQ")
    before = dump(path)
    # As root, permissions cannot make a file read-only, so open it the way SQLite opens a
    # file it may not write: every write then fails with SQLITE_READONLY.
    _read_only_connect(monkeypatch)
    with Workspace(path) as workspace:
        assert [o.name for o in workspace.list_offices()] == ["HQ"]
        with pytest.raises(WorkspaceError, match="read-only") as raised:
            workspace.add_office("Annex")
        assert "--workspace" in str(raised.value)
    with pytest.raises(WorkspaceError, match="could not be opened"):
        Workspace(tmp_path / "new" / "ws.sqlite3")
    monkeypatch.undo()
    assert dump(path) == before


def test_a_read_only_folder_is_explained(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    with read_only(folder):
        with pytest.raises(WorkspaceError, match=r"could not be opened|read-only"):
            Workspace(folder / "ws.sqlite3")
        with Workspace(folder / "ws.sqlite3", read_only=True) as workspace:
            assert workspace.list_offices() == []
    assert list(folder.iterdir()) == []


def test_a_workspace_opened_read_only_needs_no_write_access(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    path = folder / "ws.sqlite3"
    with Workspace(path) as workspace:
        office = workspace.add_office("HQ")
        workspace.apply_import(office, readable([ROOMS[0]]), None)
    before = dump(path)
    with read_only(folder):
        with pytest.raises(WorkspaceError, match="cannot be changed") as raised:
            open_workspace(path)
        assert "--workspace" in str(raised.value)
        with open_workspace(path, read_only=True) as workspace:
            assert [o.name for o in workspace.list_offices()] == ["HQ"]
            assert [r.email for r in workspace.imported_rooms()] == [ROOMS[0].email]
            with pytest.raises(RuntimeError, match="read-only"):
                workspace.add_office("Annex")
    assert dump(path) == before and [p.name for p in folder.iterdir()] == ["ws.sqlite3"]


def test_a_workspace_busy_in_another_copy_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.sqlite3"
    Workspace(path).close()
    monkeypatch.setattr(workspace_module, "BUSY_TIMEOUT_MS", 200)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with Workspace(path) as workspace, pytest.raises(WorkspaceError, match="right now"):
            workspace.add_office("HQ")
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_many_copies_creating_the_workspace_at_once_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    errors: list[BaseException] = []

    def open_and_add(n: int) -> None:
        try:
            with Workspace(path) as workspace:
                workspace.add_office(f"Office {n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_add, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Workspace(path) as workspace:
        assert len(workspace.list_offices()) == 10


def test_one_workspace_can_be_used_from_worker_threads(tmp_path: Path) -> None:
    with Workspace(tmp_path / "ws.sqlite3") as workspace:
        hq = workspace.add_office("HQ")
        chunks = [ROOMS[i : i + 5] for i in range(0, 30, 5)]
        threads = [
            threading.Thread(target=workspace.apply_import, args=(hq, readable(c), None))
            for c in chunks
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(workspace.imported_rooms()) == 30


# -- damaged and foreign files ------------------------------------------------------------------


def _scramble(path: Path, seed: int = 3) -> None:
    data = bytearray(path.read_bytes())
    rnd = random.Random(seed)
    for offset in range(4096, len(data)):
        data[offset] = rnd.randrange(256)
    path.write_bytes(bytes(data))


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A real workspace whose pages after the first were overwritten."""
    path = tmp_path / "ws.sqlite3"
    with Workspace(path) as workspace:
        hq = workspace.add_office("HQ")
        workspace.apply_import(hq, readable(ROOMS), None)
    _scramble(path)
    return path


def test_a_damaged_workspace_is_set_aside_never_overwritten(damaged: Path) -> None:
    before = damaged.read_bytes()
    with pytest.raises(WorkspaceDamaged):
        Workspace(damaged)  # the plain constructor refuses, untouched
    assert damaged.read_bytes() == before
    with open_workspace(damaged) as workspace:
        assert workspace.set_aside_path is not None and workspace.notice is not None
        moved = workspace.set_aside_path
        assert str(moved) in workspace.notice and "fresh" in workspace.notice
        assert moved.name.startswith("ws.sqlite3.corrupt-")
        assert workspace.list_offices() == []
        workspace.add_office("HQ")
    assert moved.read_bytes() == before
    with open_workspace(damaged) as workspace:  # the fresh one is fine next time
        assert workspace.notice is None and len(workspace.list_offices()) == 1


def test_garbage_in_a_workspace_named_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    path.write_bytes(b"\x00" * 8192)
    (tmp_path / "ws.sqlite3-wal").write_bytes(b"stale journal")
    with open_workspace(path) as workspace:
        moved = workspace.set_aside_path
        assert moved is not None and moved.read_bytes() == b"\x00" * 8192
        assert Path(f"{moved}-wal").read_bytes() == b"stale journal"


def test_another_kind_of_file_is_never_moved(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my meeting notes\n" * 100)
    with pytest.raises(WorkspaceForeign, match="another kind of file"):
        open_workspace(path)
    assert path.read_text() == "my meeting notes\n" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("app_id", [0, 0x12345678])
def test_another_programs_database_is_refused_untouched(tmp_path: Path, app_id: int) -> None:
    path = tmp_path / "ws.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE bookmarks (url TEXT)")
    db.execute(f"PRAGMA application_id = {app_id}")
    db.execute("PRAGMA user_version = 1" if app_id else "PRAGMA user_version = 0")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(WorkspaceForeign, match="another program's database"):
        open_workspace(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.sqlite3"]


def test_a_newer_workspace_is_refused_even_by_open_workspace(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    with Workspace(path):
        pass
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(WorkspaceError, match="newer version"):
        open_workspace(path)
    assert path.read_bytes() == before


def test_a_damaged_file_that_cannot_be_moved_is_left_as_it_is(
    damaged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = damaged.read_bytes()

    def refuse(self: Path, target: Any) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "rename", refuse)
    with pytest.raises(WorkspaceError, match="could not be moved aside"):
        open_workspace(damaged)
    assert damaged.read_bytes() == before


def test_text_that_is_not_utf8_reads_as_replacement_characters(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite3"
    with open_workspace(path) as workspace:
        workspace.add_office("London HQ")
    db = sqlite3.connect(path)
    db.execute("UPDATE office SET name = CAST(X'4cff6e646f6e' AS TEXT)")
    db.commit()
    db.close()
    with open_workspace(path) as workspace:
        assert [office.name for office in workspace.list_offices()] == ["L\ufffdndon"]
        assert workspace.set_aside_path is None


def test_two_copies_adding_the_same_new_office_both_get_it(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite3"
    open_workspace(path).close()
    start = threading.Barrier(8)
    found: list[int] = []

    def add() -> None:
        with open_workspace(path) as workspace:
            start.wait()
            applied = workspace.apply_import(NewOffice(" london  hq "), [], None)
            found.append(applied.office.id)

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open_workspace(path) as workspace:
        offices = workspace.list_offices()
    assert [office.name for office in offices] == ["london hq"]
    assert found == [offices[0].id] * 8
