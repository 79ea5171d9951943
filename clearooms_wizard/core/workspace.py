"""The local Clearooms workspace: one SQLite file holding what the wizard sets up.

It holds the saved connection (never the secret), the offices and the imported rooms, and
implements :class:`clearooms_wizard.core.store.Store`. The schema is versioned with
``PRAGMA user_version`` and migrated forward in one transaction; WAL mode and a busy timeout let
two running copies of the wizard share the file.

What it will not do: change a file written by a newer version of the wizard, or another program's
database (both are refused, untouched); overwrite a damaged workspace (``open_workspace`` moves it
aside, says where, and starts afresh). Disk trouble (read-only, full, locked) becomes a
``WorkspaceError`` that says what to do, after the transaction has been rolled back.

Opened ``read_only`` (for listing and exporting), it needs no write access at all: nothing is
created, migrated, journalled or moved aside, so a workspace in a read-only folder can still be
read.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clearooms_wizard.core.app_setup import CreatedKind, CreatedObject, RegistrationJournal
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.model import (
    ImportedRoom,
    NewOffice,
    Office,
    RoomStatus,
    SavedConnection,
    normal_room_lists,
    office_key,
    room_changes,
)
from clearooms_wizard.core.store import (
    AppliedImport,
    OfficeNameError,
    RoomWrite,
    UnknownOffice,
    WrittenRoom,
    check_office_name,
    check_timezone,
)

if TYPE_CHECKING:
    from clearooms_wizard.core.renewal import RenewalJournal

__all__ = [
    "SCHEMA_VERSION",
    "Workspace",
    "WorkspaceDamaged",
    "WorkspaceError",
    "WorkspaceForeign",
    "WorkspaceTooNew",
    "open_workspace",
    "set_aside",
]

# Another copy of the wizard may hold a write lock briefly; wait for it rather than fail.
BUSY_TIMEOUT_MS = 5_000
# "ClRm": marks the file as ours in the SQLite header (PRAGMA application_id).
APPLICATION_ID = 0x436C526D
_SQLITE_HEADER = b"SQLite format 3\x00"
# Names a damaged file may be moved aside under without surprising anyone.
_WORKSPACE_SUFFIXES = {".sqlite3", ".sqlite", ".db"}
_SIDECARS = ("-wal", "-shm", "-journal")


class WorkspaceError(ClearoomsError):
    pass


class WorkspaceDamaged(WorkspaceError):
    """The file cannot be read as a workspace: it is damaged (or not a database at all)."""


class WorkspaceForeign(WorkspaceError):
    """The file is another program's database, or another kind of file: never touched."""


class WorkspaceTooNew(WorkspaceError):
    pass


def _migrate_to_1(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE connection (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            tenant TEXT NOT NULL,
            tenant_id TEXT,
            client_id TEXT NOT NULL,
            cloud TEXT NOT NULL DEFAULT 'global',
            authority_host TEXT,
            graph_url TEXT,
            last_tested_at TEXT,
            last_test_ok INTEGER,
            secret_expires_at TEXT
        )
        """
    )


def _migrate_to_2(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE office (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            timezone TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE room (
            email_key TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            graph_id TEXT,
            name TEXT NOT NULL,
            capacity INTEGER,
            building TEXT,
            floor_number INTEGER,
            floor_label TEXT,
            room_lists TEXT NOT NULL DEFAULT '[]',
            office_id INTEGER NOT NULL REFERENCES office (id) ON DELETE RESTRICT,
            first_imported_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            calendar_access TEXT,
            calendar_code TEXT,
            calendar_access_since TEXT,
            missing_since TEXT
        )
        """
    )
    db.execute("CREATE INDEX room_by_office ON room (office_id)")


def _migrate_to_3(db: sqlite3.Connection) -> None:
    # What an unfinished "Set it up for me" run created in Microsoft Entra ID, so that it can
    # be resumed or undone (ids and names only: never a secret).
    db.execute(
        """
        CREATE TABLE registration_journal (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            run_id TEXT NOT NULL,
            tenant_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            created TEXT NOT NULL DEFAULT '[]',
            finished INTEGER NOT NULL DEFAULT 0
        )
        """
    )


def _migrate_to_4(db: sqlite3.Connection) -> None:
    # Which credential the app signs in with, and the certificate's public facts (never its
    # key), so that check and the wizard load the right one from the keyring.
    db.execute("ALTER TABLE connection ADD COLUMN credential_kind TEXT NOT NULL DEFAULT 'secret'")
    db.execute("ALTER TABLE connection ADD COLUMN certificate_thumbprint TEXT")
    db.execute("ALTER TABLE connection ADD COLUMN certificate_expires_at TEXT")


def _migrate_to_5(db: sqlite3.Connection) -> None:
    # Where an unfinished renewal of the client secret got to, so that the old secret is never
    # removed before the new one works and is saved (ids, dates and the step: never a secret).
    db.execute(
        """
        CREATE TABLE renewal_journal (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            body TEXT NOT NULL
        )
        """
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _migrate_to_1,
    _migrate_to_2,
    _migrate_to_3,
    _migrate_to_4,
    _migrate_to_5,
)
SCHEMA_VERSION = len(MIGRATIONS)
# The tables a file of each version must have to be one of ours.
_TABLES_BY_VERSION = {
    1: {"connection"},
    2: {"connection", "office", "room"},
    3: {"connection", "office", "room", "registration_journal"},
    4: {"connection", "office", "room", "registration_journal"},
    5: {"connection", "office", "room", "registration_journal", "renewal_journal"},
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _error_name(exc: sqlite3.Error) -> str:
    return str(getattr(exc, "sqlite_errorname", "") or "")


def _is_damage(exc: sqlite3.Error) -> bool:
    name = _error_name(exc)
    text = str(exc).lower()
    return (
        name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
        or "malformed" in text
        or "not a database" in text
    )


def _is_read_only(exc: sqlite3.Error) -> bool:
    name = _error_name(exc)
    text = str(exc).lower()
    return name.startswith(
        ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN", "SQLITE_AUTH")
    ) or ("readonly" in text or "read-only" in text or "unable to open" in text)


def storage_problem(exc: sqlite3.Error, path: Path, doing: str) -> WorkspaceError:
    """A SQLite failure as a sentence an office manager can act on."""
    name = _error_name(exc)
    text = str(exc).lower()
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return WorkspaceError(
            f"The disk holding the workspace ({path}) is full, so {doing} did not happen and "
            "nothing was changed. Free some space on that disk, then try again."
        )
    if _is_read_only(exc):
        return WorkspaceError(
            f"The workspace {path} cannot be written: it, or its folder, is read-only. "
            f"{doing[0].upper()}{doing[1:]} did not happen and nothing was changed. Make the "
            "folder writable, or choose another place for the workspace (--workspace)."
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return WorkspaceError(
            f"Another copy of the Clearooms wizard is using the workspace {path} right now, so "
            f"{doing} did not happen and nothing was changed. Wait a moment, then try again."
        )
    if _is_damage(exc):
        return WorkspaceDamaged(
            f"The workspace {path} is damaged, so {doing} did not happen. Open it again: the "
            "wizard will move the damaged file aside and start a fresh one."
        )
    if name.startswith("SQLITE_IOERR"):
        return WorkspaceError(
            f"The disk holding the workspace {path} reported an error, so {doing} did not happen "
            "and nothing was changed. If it is a network or USB drive, check it is connected, "
            "then try again."
        )
    return WorkspaceError(
        f"The workspace {path} could not be used ({exc}), so {doing} did not happen and nothing "
        "was changed."
    )


# Each ImportedRoom field and the column it is read from: the SELECT and the mapping of its rows
# are both made from this one list, so they cannot fall out of step.
_ROOM_FIELDS = (
    ("email", "room.email"),
    ("name", "room.name"),
    ("office_id", "room.office_id"),
    ("office_name", "office.name"),
    ("graph_id", "room.graph_id"),
    ("capacity", "room.capacity"),
    ("building", "room.building"),
    ("floor_number", "room.floor_number"),
    ("floor_label", "room.floor_label"),
    ("room_lists", "room.room_lists"),
    ("first_imported_at", "room.first_imported_at"),
    ("updated_at", "room.updated_at"),
    ("calendar_access", "room.calendar_access"),
    ("calendar_code", "room.calendar_code"),
    ("calendar_access_since", "room.calendar_access_since"),
    ("missing_since", "room.missing_since"),
)
_ROOM_COLUMNS = ", ".join(column for _, column in _ROOM_FIELDS)


def _room_from_row(row: Sequence[Any]) -> ImportedRoom:
    values = dict(zip((name for name, _ in _ROOM_FIELDS), row, strict=True))
    try:
        lists = json.loads(values["room_lists"])
    except (TypeError, ValueError):
        lists = []
    values["room_lists"] = tuple(str(x) for x in lists) if isinstance(lists, list) else ()
    return ImportedRoom(**values)


# The saved connection's columns, named as SavedConnection's fields.
_CONNECTION_FIELDS = (
    "tenant",
    "client_id",
    "cloud",
    "tenant_id",
    "authority_host",
    "graph_url",
    "last_tested_at",
    "last_test_ok",
    "secret_expires_at",
    "credential_kind",
    "certificate_thumbprint",
    "certificate_expires_at",
)


class Workspace:
    """An open workspace file. Use as a context manager, or call ``close()``.

    Safe to use from several threads (calls are serialised); the GUI may open it on one thread
    and use it from a worker. ``Workspace(path)`` refuses a damaged file; ``open_workspace``
    moves it aside instead.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        # Set by open_workspace when a damaged file was moved aside to open this one.
        self.set_aside_path: Path | None = None
        self.notice: str | None = None
        self._lock = threading.RLock()
        if not read_only:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkspaceError(
                    f"The workspace folder {path.parent} could not be created ({exc.strerror}). "
                    "Choose another place with --workspace."
                ) from None
        if not _looks_like_sqlite(path):
            # Not even SQLite's header: SQLite is not let near it (it would tidy up a journal
            # beside it), and nothing of ours touches it either.
            raise self._damaged()
        try:
            self._db = self._connect_for_reading() if read_only else self._connect(path)
        except sqlite3.Error as exc:
            if _is_damage(exc):
                raise self._damaged() from None
            raise WorkspaceError(
                f"The workspace {path} could not be opened ({exc}). Check that you may write "
                "to that folder, or choose another place with --workspace."
            ) from None
        # We only ever write UTF-8; text that is not (a damaged row) reads as "\ufffd" rather
        # than raising UnicodeDecodeError.
        self._db.text_factory = _tolerant_text
        try:
            self._prepare()
        except sqlite3.Error as exc:
            self._db.close()
            if _is_damage(exc):
                raise self._damaged() from None
            if _is_read_only(exc) and not read_only:
                raise self._cannot_change() from None
            raise storage_problem(exc, path, "opening it") from None
        except UnicodeDecodeError:
            # SQLite's message about a damaged schema quotes its bytes, which need not be UTF-8.
            self._db.close()
            raise self._damaged() from None
        except BaseException:
            self._db.close()
            raise

    @staticmethod
    def _connect(target: Path | str, uri: bool = False) -> sqlite3.Connection:
        return sqlite3.connect(
            target,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
            uri=uri,
        )

    def _connect_for_reading(self) -> sqlite3.Connection:
        """The file opened read-only, or an empty workspace in memory when there is no file yet
        (listing must not create one)."""
        try:
            empty = self.path.stat().st_size == 0
        except (FileNotFoundError, NotADirectoryError):
            empty = True
        except OSError as exc:
            raise WorkspaceError(
                f"The workspace {self.path} could not be read ({exc.strerror}). Check that you "
                "may open that folder, or choose another place with --workspace."
            ) from None
        if empty:
            return self._connect(":memory:")
        file_uri = self.path.resolve().as_uri()
        db = self._connect(f"{file_uri}?mode=ro", uri=True)
        try:
            db.execute("PRAGMA user_version").fetchone()
        except sqlite3.Error as exc:
            db.close()
            if not _is_read_only(exc):
                raise
            # A WAL file needs its shared-memory file beside it, which a read-only folder
            # cannot hold. Reading it as immutable needs none; a change another user makes
            # while this one read runs is not seen, which a list or an export can live with.
            db = self._connect(f"{file_uri}?mode=ro&immutable=1", uri=True)
        return db

    def _cannot_change(self) -> WorkspaceError:
        return WorkspaceError(
            f"The workspace {self.path} cannot be changed: it, or its folder, is read-only, so "
            "nothing was changed. Listing and exporting the offices still work. To change them, "
            "make the folder writable, or choose another place for the workspace (--workspace)."
        )

    def _damaged(self) -> WorkspaceError:
        if not _may_set_aside(self.path):
            return WorkspaceForeign(
                f"{self.path} is not a Clearooms workspace (it is another kind of file). It was "
                "left untouched; choose another place for the workspace with --workspace."
            )
        then = (
            " Opening the wizard, or adding an office, moves it aside (kept for Clearooms "
            "support) and starts a fresh workspace."
            if self.read_only
            else ""
        )
        return WorkspaceDamaged(
            f"{self.path} is not a Clearooms workspace that can be read: it is damaged, or it is "
            f"another kind of file. It was left untouched.{then}"
        )

    def _prepare(self) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # One read transaction, so another copy creating this workspace right now is seen
        # either not at all or complete (never tables without their version).
        db.execute("BEGIN")
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
            tables = {
                str(row[0])
                for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not str(row[0]).startswith("sqlite_")
            }
        finally:
            db.execute("ROLLBACK")
        if app_id not in (0, APPLICATION_ID) or version < 0:
            raise self._foreign()
        if version > SCHEMA_VERSION:
            raise WorkspaceTooNew(
                f"{self.path} was written by a newer version of the Clearooms wizard. Update "
                "the wizard to open it; it was left untouched."
            )
        if version == 0 and tables:
            raise self._foreign()
        if version > 0 and not _TABLES_BY_VERSION[version] <= tables:
            if app_id == APPLICATION_ID:
                raise self._damaged()
            raise self._foreign()
        if version > 0:
            problems = [str(row[0]) for row in db.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise self._damaged()
        db.execute("PRAGMA foreign_keys = ON")
        if self.read_only:
            if version < SCHEMA_VERSION:
                self._migrate_a_copy_in_memory()
            return
        db.execute("PRAGMA journal_mode = WAL")
        if version < SCHEMA_VERSION:
            with self._transaction():
                # Re-read inside the write lock: another copy may have migrated meanwhile.
                current = int(db.execute("PRAGMA user_version").fetchone()[0])
                for step in MIGRATIONS[current:]:
                    step(db)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _migrate_a_copy_in_memory(self) -> None:
        """An older (or empty) workspace read without changing it: its rows are copied into
        memory and brought up to date there."""
        copy = self._connect(":memory:")
        try:
            self._db.backup(copy)
            copy.text_factory = _tolerant_text
            copy.execute("PRAGMA foreign_keys = ON")
            version = int(copy.execute("PRAGMA user_version").fetchone()[0])
            for step in MIGRATIONS[version:]:
                step(copy)
            copy.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            copy.close()
            raise
        self._db.close()
        self._db = copy

    def _foreign(self) -> WorkspaceForeign:
        return WorkspaceForeign(
            f"{self.path} is another program's database, not a Clearooms workspace. It was left "
            "untouched; choose another place for the workspace with --workspace."
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            # A workspace read from memory (an older or missing file) would take the change
            # and lose it on close.
            raise RuntimeError(f"{self.path} was opened read-only, to list or export")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _writing(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A write transaction whose SQLite failures become plain-English WorkspaceErrors."""
        try:
            with self._transaction() as db:
                yield db
        except sqlite3.Error as exc:
            raise storage_problem(exc, self.path, doing) from None

    @contextmanager
    def _reading(self, doing: str) -> Iterator[sqlite3.Connection]:
        try:
            with self._lock:
                yield self._db
        except sqlite3.Error as exc:
            raise storage_problem(exc, self.path, doing) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the connection ------------------------------------------------------------------------

    def load_connection(self) -> SavedConnection | None:
        with self._reading("reading the saved connection") as db:
            row = db.execute(
                f"SELECT {', '.join(_CONNECTION_FIELDS)} FROM connection WHERE id = 1"
            ).fetchone()
        if row is None:
            return None
        values = dict(zip(_CONNECTION_FIELDS, row, strict=True))
        if values["last_test_ok"] is not None:
            values["last_test_ok"] = bool(values["last_test_ok"])
        return SavedConnection(**values)

    def save_connection(self, connection: SavedConnection) -> None:
        try:
            with self._transaction() as db:
                db.execute(
                    """
                    INSERT INTO connection (id, tenant, client_id, cloud, tenant_id,
                        authority_host, graph_url, last_tested_at, last_test_ok,
                        secret_expires_at, credential_kind, certificate_thumbprint,
                        certificate_expires_at)
                    VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        tenant = excluded.tenant, client_id = excluded.client_id,
                        cloud = excluded.cloud, tenant_id = excluded.tenant_id,
                        authority_host = excluded.authority_host,
                        graph_url = excluded.graph_url,
                        last_tested_at = excluded.last_tested_at,
                        last_test_ok = excluded.last_test_ok,
                        secret_expires_at = excluded.secret_expires_at,
                        credential_kind = excluded.credential_kind,
                        certificate_thumbprint = excluded.certificate_thumbprint,
                        certificate_expires_at = excluded.certificate_expires_at
                    """,
                    (
                        connection.tenant,
                        connection.client_id,
                        connection.cloud,
                        connection.tenant_id,
                        connection.authority_host,
                        connection.graph_url,
                        connection.last_tested_at,
                        None if connection.last_test_ok is None else int(connection.last_test_ok),
                        connection.secret_expires_at,
                        connection.credential_kind,
                        connection.certificate_thumbprint,
                        connection.certificate_expires_at,
                    ),
                )
        except sqlite3.Error as exc:
            raise storage_problem(exc, self.path, "saving the connection") from None

    # -- the registration journal --------------------------------------------------------------

    def load_registration_journal(self) -> RegistrationJournal | None:
        """What an unfinished "Set it up for me" run created, or None."""
        with self._reading("reading the unfinished setup") as db:
            row = db.execute(
                "SELECT run_id, tenant_id, started_at, created, finished "
                "FROM registration_journal WHERE id = 1"
            ).fetchone()
        if row is None:
            return None
        run_id, tenant_id, started_at, created, finished = row
        try:
            started = datetime.fromisoformat(str(started_at))
        except ValueError:
            started = datetime.fromtimestamp(0, UTC)
        return RegistrationJournal(
            run_id=str(run_id),
            tenant_id=str(tenant_id),
            started_at=started if started.tzinfo else started.replace(tzinfo=UTC),
            created=_created_from_json(created),
            finished=bool(finished),
        )

    def save_registration_journal(self, journal: RegistrationJournal) -> None:
        created = json.dumps(
            [
                {
                    "kind": entry.kind.value,
                    "object_id": entry.object_id,
                    "parent_id": entry.parent_id,
                    "label": entry.label,
                }
                for entry in journal.created
            ]
        )
        with self._writing("writing down what the setup created") as db:
            db.execute(
                """
                INSERT INTO registration_journal (id, run_id, tenant_id, started_at, created,
                    finished)
                VALUES (1, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    run_id = excluded.run_id, tenant_id = excluded.tenant_id,
                    started_at = excluded.started_at, created = excluded.created,
                    finished = excluded.finished
                """,
                (
                    journal.run_id,
                    journal.tenant_id,
                    journal.started_at.isoformat(timespec="seconds"),
                    created,
                    int(journal.finished),
                ),
            )

    def clear_registration_journal(self) -> None:
        with self._writing("clearing the finished setup's notes") as db:
            db.execute("DELETE FROM registration_journal")

    # -- the renewal journal -----------------------------------------------------------------

    def load_renewal_journal(self) -> RenewalJournal | None:
        """Where an unfinished renewal of the client secret got to, or None."""
        from clearooms_wizard.core.renewal import journal_from_json

        with self._reading("reading the unfinished renewal") as db:
            row = db.execute("SELECT body FROM renewal_journal WHERE id = 1").fetchone()
        return None if row is None else journal_from_json(row[0])

    def save_renewal_journal(self, journal: RenewalJournal) -> None:
        from clearooms_wizard.core.renewal import journal_to_json

        with self._writing("writing down how far the renewal got") as db:
            db.execute(
                "INSERT INTO renewal_journal (id, body) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                (journal_to_json(journal),),
            )

    def clear_renewal_journal(self) -> None:
        with self._writing("clearing the finished renewal's notes") as db:
            db.execute("DELETE FROM renewal_journal")

    # -- offices -------------------------------------------------------------------------------

    _OFFICE_QUERY = (
        "SELECT office.id, office.name, office.timezone, office.created_at, "
        "(SELECT count(*) FROM room WHERE room.office_id = office.id) FROM office"
    )

    @staticmethod
    def _office_from_row(row: Sequence[Any]) -> Office:
        return Office(id=row[0], name=row[1], timezone=row[2], created_at=row[3], room_count=row[4])

    def list_offices(self) -> list[Office]:
        with self._reading("listing the offices") as db:
            rows = db.execute(self._OFFICE_QUERY).fetchall()
        offices = [self._office_from_row(row) for row in rows]
        return sorted(offices, key=lambda o: (o.key, o.id))

    def find_office(self, name: str) -> Office | None:
        with self._reading("finding the office") as db:
            row = db.execute(
                self._OFFICE_QUERY + " WHERE office.name_key = ?", (office_key(name),)
            ).fetchone()
        return None if row is None else self._office_from_row(row)

    def add_office(self, name: str, timezone: str | None = None) -> Office:
        tidy = check_office_name(name)
        zone = check_timezone(timezone)
        created = _now()
        with self._writing("adding the office") as db:
            # Checked inside the write lock, so two copies cannot both add the same name.
            existing = db.execute(
                "SELECT name FROM office WHERE name_key = ?", (office_key(tidy),)
            ).fetchone()
            if existing is not None:
                raise OfficeNameError(
                    f"There is already an office called “{existing[0]}”. Choose it from the "
                    "list, or give the new office a different name."
                )
            cursor = db.execute(
                "INSERT INTO office (name, name_key, timezone, created_at) VALUES (?, ?, ?, ?)",
                (tidy, office_key(tidy), zone, created),
            )
            office_id = int(cursor.lastrowid or 0)
        return Office(office_id, tidy, zone, 0, created)

    def _find_or_add_office(self, db: sqlite3.Connection, tidy: str) -> Office:
        """The office called ``tidy``, added if there is none, inside the caller's write: two
        copies adding the same new office at once both end up with the one office."""
        row = db.execute(
            self._OFFICE_QUERY + " WHERE office.name_key = ?", (office_key(tidy),)
        ).fetchone()
        if row is not None:
            return self._office_from_row(row)
        created = _now()
        cursor = db.execute(
            "INSERT INTO office (name, name_key, timezone, created_at) VALUES (?, ?, ?, ?)",
            (tidy, office_key(tidy), None, created),
        )
        return Office(int(cursor.lastrowid or 0), tidy, None, 0, created)

    # -- rooms ---------------------------------------------------------------------------------

    def imported_rooms(self) -> list[ImportedRoom]:
        with self._reading("reading the imported rooms") as db:
            rows = db.execute(
                f"SELECT {_ROOM_COLUMNS} FROM room JOIN office ON office.id = room.office_id"
            ).fetchall()
        rooms = [_room_from_row(row) for row in rows]
        return sorted(rooms, key=lambda r: (office_key(r.office_name), r.name.casefold(), r.key))

    def _stored_room(self, db: sqlite3.Connection, key: str) -> ImportedRoom | None:
        row = db.execute(
            f"SELECT {_ROOM_COLUMNS} FROM room JOIN office ON office.id = room.office_id "
            "WHERE room.email_key = ?",
            (key,),
        ).fetchone()
        return None if row is None else _room_from_row(row)

    def apply_import(
        self,
        target: Office | NewOffice,
        writes: Sequence[RoomWrite],
        listed: frozenset[str] | None,
    ) -> AppliedImport:
        now = _now()
        written: list[WrittenRoom] = []
        if isinstance(target, NewOffice):
            tidy = check_office_name(target.name)
        with self._writing("the import") as db:
            if isinstance(target, NewOffice):
                office = self._find_or_add_office(db, tidy)
            else:
                row = db.execute(
                    "SELECT id, name FROM office WHERE id = ?", (target.id,)
                ).fetchone()
                if row is None:
                    names = [str(r[0]) for r in db.execute("SELECT name FROM office ORDER BY name")]
                    raise UnknownOffice(target.name, names)
                office = Office(row[0], row[1], target.timezone)
            done: set[str] = set()
            for write in writes:
                key = write.room.key
                if key in done:
                    continue
                done.add(key)
                existing = self._stored_room(db, key)
                changes = room_changes(existing, write.room, office, write.calendar_access)
                if existing is None:
                    self._write_room(db, write, office, now, now, now)
                    written.append(WrittenRoom(write.room.email, RoomStatus.NEW))
                elif changes:
                    since = existing.calendar_access_since
                    if existing.calendar_access != write.calendar_access or since is None:
                        since = now
                    first = existing.first_imported_at or now
                    self._write_room(db, write, office, first, now, since)
                    moved = existing.office_name if existing.office_id != office.id else None
                    written.append(
                        WrittenRoom(write.room.email, RoomStatus.UPDATED, changes, moved)
                    )
                else:
                    written.append(WrittenRoom(write.room.email, RoomStatus.UNCHANGED))
            missing = self._mark_missing(db, listed, now)
        return AppliedImport(office, tuple(written), missing)

    def _write_room(
        self,
        db: sqlite3.Connection,
        write: RoomWrite,
        office: Office,
        first_imported_at: str,
        updated_at: str,
        calendar_since: str,
    ) -> None:
        room = write.room
        db.execute(
            """
            INSERT INTO room (email_key, email, graph_id, name, capacity, building,
                floor_number, floor_label, room_lists, office_id, first_imported_at,
                updated_at, calendar_access, calendar_code, calendar_access_since,
                missing_since)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
            ON CONFLICT (email_key) DO UPDATE SET
                email = excluded.email, graph_id = excluded.graph_id, name = excluded.name,
                capacity = excluded.capacity, building = excluded.building,
                floor_number = excluded.floor_number, floor_label = excluded.floor_label,
                room_lists = excluded.room_lists, office_id = excluded.office_id,
                first_imported_at = excluded.first_imported_at,
                updated_at = excluded.updated_at, calendar_access = excluded.calendar_access,
                calendar_code = excluded.calendar_code,
                calendar_access_since = excluded.calendar_access_since,
                missing_since = NULL
            """,
            (
                room.key,
                room.email,
                room.graph_id,
                room.name,
                room.capacity,
                room.building,
                room.floor_number,
                room.floor_label,
                json.dumps(list(normal_room_lists(room.room_lists))),
                office.id,
                first_imported_at,
                updated_at,
                str(write.calendar_access),
                write.calendar_code,
                calendar_since,
            ),
        )

    def _mark_missing(
        self, db: sqlite3.Connection, listed: frozenset[str] | None, now: str
    ) -> tuple[ImportedRoom, ...]:
        rows = db.execute("SELECT email_key, missing_since FROM room").fetchall()
        if listed is None or not listed:
            # Microsoft listing no rooms at all is far more often a passing problem (or Places
            # not set up) than every room deleted: report nothing rather than alarm.
            return ()
        gone = [key for key, since in rows if key not in listed and since is None]
        back = [key for key, since in rows if key in listed and since is not None]
        db.executemany(
            "UPDATE room SET missing_since = ? WHERE email_key = ?", [(now, k) for k in gone]
        )
        db.executemany(
            "UPDATE room SET missing_since = NULL WHERE email_key = ?", [(k,) for k in back]
        )
        missing = [self._stored_room(db, key) for key, _ in rows if key not in listed]
        return tuple(
            sorted(
                (room for room in missing if room is not None),
                key=lambda r: (office_key(r.office_name), r.name.casefold()),
            )
        )


def _created_from_json(text: object) -> tuple[CreatedObject, ...]:
    """The journal's objects; an entry that cannot be read is left out (never guessed at)."""
    try:
        entries = json.loads(str(text))
    except (TypeError, ValueError, RecursionError):
        return ()
    created: list[CreatedObject] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        try:
            kind = CreatedKind(str(entry.get("kind")))
        except ValueError:
            continue
        object_id, parent_id, label = (
            entry.get("object_id"),
            entry.get("parent_id"),
            entry.get("label"),
        )
        if not isinstance(object_id, str) or not object_id:
            continue
        created.append(
            CreatedObject(
                kind,
                object_id,
                parent_id if isinstance(parent_id, str) else None,
                label if isinstance(label, str) else "",
            )
        )
    return tuple(created)


def _looks_like_sqlite(path: Path) -> bool:
    """True for a missing or empty file (a new workspace) and for a file with SQLite's header."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return True
    except OSError:
        return True  # let SQLite report what is wrong (a folder, no permission)
    return header in (b"", _SQLITE_HEADER)


def _may_set_aside(path: Path) -> bool:
    """A damaged file is moved aside only if it is plausibly a workspace: an SQLite file, or a
    file named like one. Anything else (a document picked by mistake) is never touched."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except OSError:
        return False
    if header == _SQLITE_HEADER:
        return True
    return path.suffix.lower() in _WORKSPACE_SUFFIXES


def set_aside(path: Path, when: datetime | None = None) -> Path:
    """Rename a damaged workspace (and its -wal/-shm files) to ``<name>.corrupt-<time>``."""
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 2
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
        counter += 1
    try:
        path.rename(target)
    except OSError as exc:
        raise WorkspaceError(
            f"The workspace {path} is damaged and could not be moved aside ({exc.strerror}). "
            "It was left as it is. Move or rename it yourself, or choose another place for "
            "the workspace with --workspace."
        ) from None
    for sidecar in _SIDECARS:
        source = path.with_name(path.name + sidecar)
        if source.exists():
            # A fresh workspace must not pick up the damaged one's journal; keep them together.
            with contextlib.suppress(OSError):
                source.rename(target.with_name(target.name + sidecar))
    return target


def _tolerant_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def open_workspace(
    path: Path, *, set_aside_damaged: bool = True, read_only: bool = False
) -> Workspace:
    """Open (or create) the workspace at ``path``; what the wizard and the commands call.

    A damaged workspace is moved aside (never overwritten) and a fresh one started; the
    returned workspace's ``notice`` then says where the old file went, for the user to read.
    A newer version's file or another program's database raises, untouched. ``read_only``
    (to list or export) needs no write access: it creates nothing and moves nothing aside,
    and a missing workspace reads as an empty one.
    """
    try:
        return Workspace(path, read_only=read_only)
    except WorkspaceDamaged:
        if read_only or not set_aside_damaged:
            raise
    try:
        moved = set_aside(path)
    except WorkspaceError:
        if path.exists():
            raise
        moved = None  # another copy of the wizard moved it first
    workspace = Workspace(path)
    if moved is not None:
        workspace.set_aside_path = moved
        workspace.notice = (
            f"The workspace {path} was damaged, so it was moved to {moved} and a fresh, empty "
            "workspace was started. Offices and rooms need to be set up again, and the "
            "connection saved again. Keep the old file: Clearooms support may be able to "
            "recover it."
        )
    return workspace
