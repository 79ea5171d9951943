"""The registration journal in the workspace: schema version 3, written as a run goes, read back
for Try again and Undo, cleared when a run finishes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from clearooms_wizard.core import workspace as workspace_module
from clearooms_wizard.core.app_setup import CreatedKind, CreatedObject, RegistrationJournal
from clearooms_wizard.core.workspace import SCHEMA_VERSION, Workspace, open_workspace

JOURNAL = RegistrationJournal(
    run_id="3f1d0c1e-0000-4000-8000-000000000001",
    tenant_id="6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93",
    started_at=datetime(2026, 3, 4, 9, 30, 15, tzinfo=UTC),
    created=(
        CreatedObject(
            CreatedKind.APPLICATION, "a1b2c3d4-0000-4000-8000-00000000000a", None, "Rooms"
        ),
        CreatedObject(
            CreatedKind.SECRET,
            "5e6f7a8b-0000-4000-8000-00000000000b",
            "a1b2c3d4-0000-4000-8000-00000000000a",
            "Clearooms setup wizard 2026-03-04",
        ),
        CreatedObject(
            CreatedKind.PERMISSION_GRANT, "47nZsM8O_UuNq5Jz3QVal", "graph-sp", "Place.Read.All"
        ),
    ),
)


def test_the_journal_round_trips_and_is_cleared(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    with Workspace(path) as workspace:
        assert workspace.load_registration_journal() is None
        workspace.save_registration_journal(JOURNAL)
    with Workspace(path) as workspace:
        assert workspace.load_registration_journal() == JOURNAL
        shorter = RegistrationJournal(
            JOURNAL.run_id, JOURNAL.tenant_id, JOURNAL.started_at, JOURNAL.created[:1]
        )
        workspace.save_registration_journal(shorter)
        assert workspace.load_registration_journal() == shorter
        workspace.clear_registration_journal()
        assert workspace.load_registration_journal() is None


def test_a_version_2_workspace_gains_the_journal_and_keeps_its_offices(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    db = sqlite3.connect(path)
    for step in workspace_module.MIGRATIONS[:2]:
        step(db)
    db.execute(
        "INSERT INTO office (name, name_key, created_at) VALUES ('London', 'london', '2025-01-01')"
    )
    db.execute(f"PRAGMA application_id = {workspace_module.APPLICATION_ID}")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    # Read-only (listing) leaves the file as it was, yet reads it as version 3.
    with open_workspace(path, read_only=True) as workspace:
        assert workspace.load_registration_journal() is None
        assert [o.name for o in workspace.list_offices()] == ["London"]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()
    with open_workspace(path) as workspace:
        workspace.save_registration_journal(JOURNAL)
        assert [o.name for o in workspace.list_offices()] == ["London"]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    db.close()


def test_entries_that_cannot_be_read_are_left_out_rather_than_guessed(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite3"
    with Workspace(path) as workspace:
        workspace.save_registration_journal(JOURNAL)
    db = sqlite3.connect(path)
    db.execute(
        "UPDATE registration_journal SET created = ?",
        (
            '[{"kind": "application", "object_id": "app-1"}, {"kind": "spaceship", '
            '"object_id": "x"}, {"kind": "secret"}, "junk", {"kind": "secret", '
            '"object_id": "key-1", "parent_id": 7}]',
        ),
    )
    db.commit()
    db.close()
    with Workspace(path) as workspace:
        loaded = workspace.load_registration_journal()
    assert loaded is not None
    assert loaded.created == (
        CreatedObject(CreatedKind.APPLICATION, "app-1"),
        CreatedObject(CreatedKind.SECRET, "key-1"),
    )
    db = sqlite3.connect(path)
    db.execute("UPDATE registration_journal SET created = 'not json'")
    db.commit()
    db.close()
    with Workspace(path) as workspace:
        loaded = workspace.load_registration_journal()
    assert loaded is not None and loaded.created == ()
