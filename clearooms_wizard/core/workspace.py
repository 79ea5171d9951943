"""The local Clearooms workspace: one SQLite file holding what the wizard sets up.

Version 1 holds the saved connection (never the secret). The schema is versioned with
``PRAGMA user_version`` and migrated forward in one transaction; a file from a newer version of
the wizard is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from clearooms_wizard.core.errors import ClearoomsError

APP_NAME = "ClearoomsWizard"
APP_AUTHOR = "Clearooms"
WORKSPACE_FILENAME = "workspace.sqlite3"
# Another copy of the wizard may hold a write lock briefly; wait for it rather than fail.
BUSY_TIMEOUT_MS = 5_000


class WorkspaceError(ClearoomsError):
    pass


@dataclass(frozen=True)
class SavedConnection:
    tenant: str
    client_id: str
    cloud: str = "global"
    tenant_id: str | None = None
    authority_host: str | None = None
    graph_url: str | None = None
    last_tested_at: str | None = None
    last_test_ok: bool | None = None
    secret_expires_at: str | None = None


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


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migrate_to_1,)
SCHEMA_VERSION = len(MIGRATIONS)


def default_workspace_path() -> Path:
    return platformdirs.user_data_path(APP_NAME, APP_AUTHOR) / WORKSPACE_FILENAME


def workspace_path(explicit: str | None, env: Mapping[str, str]) -> Path:
    chosen = explicit or env.get("CLEAROOMS_WORKSPACE")
    return Path(chosen).expanduser() if chosen else default_workspace_path()


class Workspace:
    """An open workspace file. Use as a context manager, or call ``close()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(
                f"The workspace folder {path.parent} could not be created ({exc.strerror}). "
                "Choose another place with --workspace."
            ) from None
        try:
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise WorkspaceError(
                f"The workspace {path} could not be opened ({exc}). Check that you may write "
                "to that folder, or choose another place with --workspace."
            ) from None
        try:
            self._prepare()
        except BaseException:
            self._db.close()
            raise

    def _prepare(self) -> None:
        try:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError:
            raise WorkspaceError(
                f"{self.path} is not a Clearooms workspace (it is damaged or another kind of "
                "file). It was left untouched; choose another place with --workspace."
            ) from None
        if version > SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.path} was written by a newer version of the Clearooms wizard. Update "
                "the wizard to open it; it was left untouched."
            )
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        if version < SCHEMA_VERSION:
            with self._transaction():
                # Re-read inside the write lock: another copy may have migrated meanwhile.
                current = int(self._db.execute("PRAGMA user_version").fetchone()[0])
                for step in MIGRATIONS[current:]:
                    step(self._db)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def load_connection(self) -> SavedConnection | None:
        row = self._db.execute(
            "SELECT tenant, client_id, cloud, tenant_id, authority_host, graph_url, "
            "last_tested_at, last_test_ok, secret_expires_at FROM connection WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return SavedConnection(
            tenant=row[0],
            client_id=row[1],
            cloud=row[2],
            tenant_id=row[3],
            authority_host=row[4],
            graph_url=row[5],
            last_tested_at=row[6],
            last_test_ok=None if row[7] is None else bool(row[7]),
            secret_expires_at=row[8],
        )

    def save_connection(self, connection: SavedConnection) -> None:
        try:
            with self._transaction() as db:
                db.execute(
                    """
                    INSERT INTO connection (id, tenant, client_id, cloud, tenant_id,
                        authority_host, graph_url, last_tested_at, last_test_ok,
                        secret_expires_at)
                    VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        tenant = excluded.tenant, client_id = excluded.client_id,
                        cloud = excluded.cloud, tenant_id = excluded.tenant_id,
                        authority_host = excluded.authority_host,
                        graph_url = excluded.graph_url,
                        last_tested_at = excluded.last_tested_at,
                        last_test_ok = excluded.last_test_ok,
                        secret_expires_at = excluded.secret_expires_at
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
                    ),
                )
        except sqlite3.OperationalError as exc:
            raise WorkspaceError(
                f"The connection could not be saved to {self.path} ({exc}). Nothing was changed."
            ) from None
