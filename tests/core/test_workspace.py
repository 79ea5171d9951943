"""The workspace file: saved connection, schema versions, and files it must not touch."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clearooms_wizard.core.workspace import (
    SCHEMA_VERSION,
    SavedConnection,
    Workspace,
    WorkspaceError,
    workspace_path,
)

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
