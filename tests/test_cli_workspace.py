"""The workspace commands: offices, rooms import and export, as support staff and scripts use
them; and what happens when two copies run at once or one is killed half-way."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.core.graph import MAX_TEXT
from clearooms_wizard.core.workspace import SCHEMA_VERSION, open_workspace
from clearooms_wizard.demo import Fault, data
from tests.conftest import Served, ServeDemo
from tests.support.read_only import read_only

ROOT = Path(__file__).resolve().parent.parent


def cli(*argv: str | Path, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def connection(served: Served) -> list[str]:
    scenario = served.tenant.scenario
    return ["--tenant", scenario.tenant, "--client-id", scenario.client_id, *served.cli_args()]


def served_cli(served: Served, *argv: str | Path) -> tuple[int, str, str]:
    return cli(
        *argv, *connection(served), "--secret-stdin", stdin=served.tenant.scenario.client_secret
    )


def workspace_file() -> Path:
    return Path(os.environ["CLEAROOMS_WORKSPACE"])


def dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def rooms_by_office(path: Path) -> dict[str, str]:
    with open_workspace(path) as workspace:
        assert workspace.notice is None
        return {r.email: r.office_name for r in workspace.imported_rooms()}


# -- offices ------------------------------------------------------------------------------------


def test_offices_add_list_and_suggest_on_the_demo() -> None:
    code, out, _ = cli("offices", "list", "--demo")
    assert code == 0 and "no offices yet" in out and "offices suggest --demo" in out
    code, out, _ = cli("offices", "suggest", "--demo", "--json")
    assert code == 0
    assert [s["name"] for s in json.loads(out)] == [
        "London HQ",
        "Manchester Hub",
        "London HQ - Level 4",
    ]
    code, out, _ = cli("offices", "add", "  London HQ ", "--timezone", "europe/london", "--demo")
    assert code == 0 and "Added the office “London HQ” (time zone Europe/London)" in out
    assert 'rooms import --office "London HQ" --all --demo' in out
    code, out, _ = cli("offices", "list", "--demo", "--json")
    assert json.loads(out) == [
        {
            "name": "London HQ",
            "timezone": "Europe/London",
            "room_count": 0,
            "created_at": json.loads(out)[0]["created_at"],
        }
    ]
    code, out, _ = cli("offices", "suggest", "--demo")
    assert code == 0 and "  London HQ  " not in out and "  Manchester Hub  " in out
    # The demo kept to its own workspace: the real one was never created.
    assert not workspace_file().exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["offices", "add", ""], "Enter a name for the office"),
        (["offices", "add", "x" * 10_000], "far too long"),
        (["offices", "add", "y" * 101], "101 characters long"),
        (["offices", "add", "Paris", "--timezone", "Paris"], "not a time zone name"),
        (["offices"], "Say what to do with offices"),
    ],
)
def test_bad_office_input_is_a_usage_error_and_writes_nothing(
    argv: list[str], message: str
) -> None:
    cli("offices", "add", "London HQ")
    before = dump(workspace_file())
    code, out, err = cli(*argv)
    assert code == 2 and message in err and out == ""
    assert "x" * 100 not in err
    assert dump(workspace_file()) == before


def test_an_office_that_exists_in_another_case_is_refused() -> None:
    assert cli("offices", "add", "London HQ")[0] == 0
    code, _, err = cli("offices", "add", "LONDON hq")
    assert code == 2 and "already an office called “London HQ”" in err


@pytest.mark.parametrize(
    "word", ["London HQ", "o'brien.sqlite3", 'say "hi"', "$HOME/x", "Café", "plain-word_1.db"]
)
def test_a_suggested_word_comes_back_whole_from_the_shell(word: str) -> None:
    from clearooms_wizard.cli.suggestions import quoted

    assert shlex.split(quoted(word)) == [word]


def test_the_suggested_next_command_works_on_the_same_workspace(tmp_path: Path) -> None:
    elsewhere = tmp_path / "other place" / "rooms.sqlite3"
    code, out, _ = cli("offices", "add", "Leeds", "--workspace", elsewhere, "--demo")
    assert code == 0
    suggested = out.splitlines()[-1].split("clearooms-wizard ", 1)[1]
    assert f'--workspace "{elsewhere}"' in suggested
    # Run as suggested, split as a shell would, it imports into that workspace.
    code, _, err = cli(*shlex.split(suggested))
    assert code == 0, err
    with open_workspace(elsewhere) as workspace:
        assert {room.office_name for room in workspace.imported_rooms()} == {"Leeds"}


# -- rooms import -------------------------------------------------------------------------------


def test_rooms_import_on_the_demo_twice_then_export() -> None:
    cli("offices", "add", "London HQ", "--demo")
    code, out, err = cli("rooms", "import", "--demo", "--office", "london hq", "--all")
    assert code == 0, err
    assert "Plan: 24 new." in out
    assert "Done: 24 new, 0 updated, 0 unchanged, 0 blocked, 0 failed." in out
    assert "export --output rooms.json --demo" in out

    code, out, _ = cli("rooms", "import", "--demo", "--office", "London HQ", "--all")
    assert code == 0
    assert "Plan: 24 unchanged." in out
    assert "Done: 0 new, 0 updated, 24 unchanged, 0 blocked, 0 failed." in out
    assert "Nothing changed" in out

    code, out, _ = cli("export", "--demo")
    document = json.loads(out)
    assert document["format"] == "clearooms-wizard-export" and document["version"] == 1
    (office,) = document["offices"]
    assert office["name"] == "London HQ" and office["room_count"] == 24
    thames = next(r for r in office["rooms"] if r["name"] == "Thames")
    assert thames["email"] == data.room_email("Thames") and thames["capacity"] == 12
    assert thames["calendar_access"] == "readable" and thames["calendar_readable"] is True
    assert thames["room_lists"] == ["rooms.london@northwind-demo.com"]

    code, out, _ = cli("export", "--demo", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 24 and {r["office"] for r in rows} == {"London HQ"}
    assert next(r for r in rows if r["name"] == "Thames")["calendar_readable"] == "yes"


def test_import_over_https_with_json_dry_run_and_saved_settings(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    cli("offices", "add", "Manchester Hub")
    before = dump(workspace_file())
    code, out, _ = served_cli(
        served, "rooms", "import", "--office", "Manchester Hub", "--room-list",
        "rooms.manchester@northwind-demo.com", "--dry-run",
    )  # fmt: skip
    assert code == 0 and "Plan: 8 new." in out and "nothing was written" in out
    assert dump(workspace_file()) == before

    # Saved settings (check --save) are used when no connection options are given.
    scenario = served.tenant.scenario
    code, _, _ = served_cli(served, "check", "--save")
    assert code == 0
    code, out, err = cli(
        "rooms", "import", "--office", "Manchester Hub", "--room",
        data.room_email("Ancoats"), data.room_email("Studio").upper(), "--json",
        "--ca-bundle", served.ca_bundle,
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert payload["plan"]["counts"]["new"] == 2
    assert payload["result"]["counts"] == {
        "new": 2, "updated": 0, "unchanged": 0, "blocked": 0, "failed": 0, "missing": 0,
    }  # fmt: skip
    assert {r["calendar"]["access"] for r in payload["result"]["rooms"]} == {"readable"}
    assert scenario.client_secret not in out

    output = tmp_path / "out" / "rooms.csv"
    code, _, err = cli("export", "--format", "csv", "--output", output)
    assert code == 1 and "does not exist" in err
    output.parent.mkdir()
    code, out, err = cli("export", "--format", "csv", "--output", output)
    assert code == 0 and out == "" and "1 office and 2 rooms" in err
    assert len(list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))) == 2


def test_a_50_mb_room_name_is_cut_and_a_broken_address_left_out(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("healthy")
    thames = data.room_email("Thames")
    huge = {"emailAddress": thames, "displayName": "Thames " + "x" * 50_000_000, "capacity": -3}
    broken = {"emailAddress": "BROKEN", "displayName": "Broken"}
    # Bytes that are not UTF-8 in the address: they arrive as U+FFFD, which is no address.
    body = json.dumps({"value": [huge, broken]}).encode()
    body = body.replace(b"BROKEN", b"bro\xffken@northwind-demo.com")
    served.tenant.inject(
        Fault(
            r"^/v1\.0/places/microsoft\.graph\.room\?",
            status=200,
            body=body,
            times=2,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
    )
    code, out, err = served_cli(served, "rooms", "list")
    assert code == 0, err
    assert "1 room was left out because Microsoft 365 sent an email address for it that is " in out
    assert "Exchange admin center" in out
    cli("offices", "add", "London HQ")
    code, out, err = served_cli(served, "rooms", "import", "--office", "London HQ", "--all")
    assert code == 0, err
    assert "1 room was left out because" in out and "What to do: Check those room" in out
    with open_workspace(workspace_file(), read_only=True) as workspace:
        stored = {room.email: room for room in workspace.imported_rooms()}
    assert len(stored[thames].name) == MAX_TEXT and stored[thames].name.endswith("…")
    assert stored[thames].capacity is None
    assert not any("ken@" in email for email in stored)
    assert workspace_file().stat().st_size < 1_000_000


def test_blocked_rooms_are_explained_and_imported_when_asked(serve_demo: ServeDemo) -> None:
    served = serve_demo("mixed-mailboxes")
    cli("offices", "add", "Northwind")
    args = ("rooms", "import", "--office", "Northwind", "--all")
    code, out, _ = served_cli(served, *args)
    assert code == 0
    assert "21 new, 0 updated, 0 unchanged, 3 blocked, 0 failed" in out
    assert "Not imported, because their calendars cannot be read (3)" in out
    assert out.count("What to do:") == 2  # one per reason, not one per room
    assert "Test-ApplicationAccessPolicy" in out and "--include-blocked" in out
    code, out, _ = served_cli(served, *args, "--include-blocked")
    assert code == 0 and "3 new, 0 updated, 21 unchanged, 0 blocked" in out
    assert "Imported, but their calendars cannot be read yet (3)" in out
    code, out, _ = cli("export")
    access = {r["email"]: r["calendar_access"] for r in json.loads(out)["offices"][0]["rooms"]}
    assert access[data.room_email("Old Post Room")] == "not_in_exchange_online"
    assert access[data.room_email("Deansgate")] == "blocked_by_policy"


def test_a_network_failure_during_the_checks_exits_1_and_keeps_what_was_there(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("healthy")
    cli("offices", "add", "London HQ")
    thames = data.room_email("Thames")
    assert served_cli(served, "rooms", "import", "--office", "London HQ", "--room", thames)[0] == 0
    before = dump(workspace_file())
    served.tenant.inject(Fault(r"/users/[^/]+/calendar", kind="reset", times=None))
    code, out, _ = served_cli(served, "rooms", "import", "--office", "London HQ", "--all")
    assert code == 1
    assert "0 new, 0 updated, 0 unchanged, 0 blocked, 24 failed" in out
    assert "The connection to Microsoft was cut off." in out
    assert "Rooms already imported are kept" in out
    assert dump(workspace_file()) == before


def test_signing_in_fails_before_anything_is_written(serve_demo: ServeDemo) -> None:
    served = serve_demo("wrong-secret")
    cli("offices", "add", "London HQ")
    before = dump(workspace_file())
    code, _, err = served_cli(served, "rooms", "import", "--office", "London HQ", "--all")
    assert code == 1 and "What to do:" in err and "Nothing was written" in err
    assert dump(workspace_file()) == before


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (["--room", "thames"], "“thames” is not an email address"),
        (["--room", "nobody@northwind-demo.com"], "no room with the email address nobody@"),
        (["--room-list", "rooms.paris@northwind-demo.com"], "no room list"),
        (["--room-list", "not a list"], "is not an email address"),
    ],
)
def test_bad_room_choices_are_usage_errors_and_write_nothing(
    choice: list[str], message: str
) -> None:
    cli("offices", "add", "London HQ", "--demo")
    code, _, err = cli("rooms", "import", "--demo", "--office", "London HQ", *choice)
    assert code == 2 and message in err and "Nothing was written" in err
    code, out, _ = cli("offices", "list", "--demo", "--json")
    assert json.loads(out)[0]["room_count"] == 0


def test_an_unknown_office_is_a_usage_error_naming_the_offices() -> None:
    cli("offices", "add", "London HQ", "--demo")
    code, _, err = cli("rooms", "import", "--demo", "--office", "Paris", "--all")
    assert code == 2 and "no office called “Paris”" in err and "“London HQ”" in err


def test_import_needs_exactly_one_choice_of_rooms(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--office", "X"], ["--office", "X", "--all", "--room", "a@b.com"]):
        with pytest.raises(SystemExit) as exited:
            main(["rooms", "import", "--demo", *argv])
        assert exited.value.code == 2
    assert "--all" in capsys.readouterr().err


# -- the workspace file -------------------------------------------------------------------------


def test_a_damaged_workspace_is_set_aside_with_a_note(tmp_path: Path) -> None:
    path = workspace_file()
    cli("offices", "add", "London HQ")
    damaged = bytearray(path.read_bytes())
    damaged[100:4096] = b"\xa5" * (4096 - 100)  # the schema page: nothing can be read
    path.write_bytes(bytes(damaged))
    # Listing only reads: it says what is wrong and leaves the file where it is.
    code, _, err = cli("offices", "list")
    assert code == 1 and "damaged" in err and "adding an office, moves it aside" in err
    assert path.read_bytes() == bytes(damaged)
    assert not list(tmp_path.glob("workspace.sqlite3.corrupt-*"))
    code, out, err = cli("offices", "add", "Leeds")
    assert code == 0 and "Added the office" in out
    assert "was damaged, so it was moved to" in err
    (moved,) = tmp_path.glob("workspace.sqlite3.corrupt-*")
    assert str(moved) in err and moved.read_bytes() == bytes(damaged)


def test_a_newer_or_foreign_workspace_is_refused_untouched() -> None:
    path = workspace_file()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    before = path.read_bytes()
    code, _, err = cli("offices", "add", "London HQ")
    assert code == 1 and "newer version" in err and path.read_bytes() == before
    path.unlink()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE moz_places (url TEXT)")
    db.commit()
    db.close()
    before = path.read_bytes()
    code, _, err = cli("export")
    assert code == 1 and "another program's database" in err and path.read_bytes() == before


def test_a_workspace_folder_that_cannot_be_created_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    code, _, err = cli("offices", "add", "Leeds", "--workspace", blocker / "sub" / "ws.sqlite3")
    assert code == 1 and "could not be created" in err
    # Nothing to read there: there are no offices, and nothing is created to say so.
    code, out, _ = cli("offices", "list", "--workspace", blocker / "sub" / "ws.sqlite3")
    assert code == 0 and "no offices yet" in out


def test_listing_creates_no_workspace(tmp_path: Path) -> None:
    code, out, _ = cli("offices", "list")
    assert code == 0 and "no offices yet" in out
    code, out, _ = cli("export")
    assert code == 0 and json.loads(out)["offices"] == []
    assert list(tmp_path.glob("workspace.sqlite3*")) == []


def test_a_workspace_in_a_read_only_folder_can_be_listed_and_exported(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    place = ["--workspace", str(folder / "ws.sqlite3"), "--demo"]
    cli("offices", "add", "London HQ", *place)
    code, _, err = cli("rooms", "import", "--office", "London HQ", "--all", *place)
    assert code == 0, err
    files = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert set(files) == {"ws.sqlite3"}
    with read_only(folder):
        code, out, err = cli("offices", "list", *place)
        assert (code, err) == (0, "") and "London HQ" in out and "24 rooms" in out
        code, out, _ = cli("offices", "list", "--json", *place)
        assert code == 0 and json.loads(out)[0]["room_count"] == 24
        code, out, _ = cli("export", *place)
        assert code == 0 and len(json.loads(out)["offices"][0]["rooms"]) == 24
        code, out, _ = cli("export", "--format", "csv", *place)
        assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 24
        code, _, err = cli("export", "--output", tmp_path / "rooms.json", *place)
        assert code == 0 and "1 office and 24 rooms" in err
        # Changing it says why it cannot, before signing in to Microsoft 365.
        code, out, err = cli("offices", "add", "Leeds", *place)
        assert code == 1 and out == "" and "Traceback" not in err
        assert "cannot be changed: it, or its folder, is read-only" in err
        assert "make the folder writable" in err
        code, _, err = cli("rooms", "import", "--office", "London HQ", "--all", *place)
        assert code == 1 and "cannot be changed" in err and "Checking room" not in err
        assert {path.name: path.read_bytes() for path in folder.iterdir()} == files


def test_an_older_read_only_workspace_is_read_without_changing_it(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "ws.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE connection (id INTEGER PRIMARY KEY, tenant TEXT, client_id TEXT)")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    before = path.read_bytes()
    with read_only(folder):
        code, out, err = cli("offices", "list", "--workspace", path)
        assert (code, err) == (0, "") and "no offices yet" in out
    assert path.read_bytes() == before and [p.name for p in folder.iterdir()] == ["ws.sqlite3"]


# -- several processes ---------------------------------------------------------------------------


def _environment(served: Served) -> dict[str, str]:
    return {
        **os.environ,
        "CLEAROOMS_CLIENT_SECRET": served.tenant.scenario.client_secret,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONPATH": str(ROOT),
    }


def _paused(marker: Path, where: str, seconds: float, served: Served,
            *argv: str | Path) -> subprocess.Popen[str]:  # fmt: skip
    command = [sys.executable, "-m", "tests.support.pause_in_apply", str(marker), where,
               str(seconds), "--", *map(str, argv), *connection(served)]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=_environment(served),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(marker: Path, process: subprocess.Popen[str], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not marker.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the import ended before its pause ({process.returncode}):\n{out}{err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the import never reached its pause")
        time.sleep(0.02)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
@pytest.mark.parametrize(
    ("where", "prepared", "expected"),
    [
        ("write:12", False, "before"),  # half-way through a first import
        ("write:1", True, "before"),  # the first of 24 moves
        ("write:24", True, "before"),  # every row written, not yet committed
        ("committed", True, "after"),
    ],
)
def test_killed_during_apply_the_workspace_is_before_or_after(
    serve_demo: ServeDemo, tmp_path: Path, where: str, prepared: bool, expected: str
) -> None:
    served = serve_demo("healthy")
    path = tmp_path / "killed.sqlite3"
    for office in ("London HQ", "Manchester Hub"):
        cli("offices", "add", office, "--workspace", path)
    if prepared:
        code, _, _ = served_cli(served, "rooms", "import", "--office", "London HQ", "--all",
                                "--workspace", path)  # fmt: skip
        assert code == 0
    before = dump(path)
    marker = tmp_path / "paused"
    process = _paused(marker, where, 60, served, "rooms", "import", "--office", "Manchester Hub",
                      "--all", "--workspace", path)  # fmt: skip
    try:
        _wait_for(marker, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()
    assert process.returncode == -signal.SIGKILL

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()
    offices = rooms_by_office(path)
    if expected == "before":
        assert dump(path) == before
        assert set(offices.values()) <= {"London HQ"}
        assert len(offices) == (24 if prepared else 0)
    else:
        assert len(offices) == 24 and set(offices.values()) == {"Manchester Hub"}


@pytest.mark.skipif(os.name != "posix", reason="uses a paused subprocess")
def test_two_processes_importing_at_once(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    path = tmp_path / "shared.sqlite3"
    cli("offices", "add", "London HQ", "--workspace", path)
    marker = tmp_path / "first-is-writing"
    args: list[str | Path] = ["rooms", "import", "--office", "London HQ", "--all", "--json",
                              "--workspace", path]  # fmt: skip
    # The first holds the write lock for two seconds, half-way through its transaction...
    first = _paused(marker, "write:1", 2.0, served, *args)
    _wait_for(marker, first)
    # ...while the second plans, checks, and then waits for the lock rather than failing.
    second = subprocess.Popen(
        [sys.executable, "-m", "clearooms_wizard", *map(str, args), *connection(served)],
        cwd=ROOT,
        env=_environment(served),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results: list[dict[str, Any]] = []
    for process in (first, second):
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out)["result"]["counts"])
    assert results[0]["new"] == 24
    assert results[1]["new"] == 0 and results[1]["unchanged"] == 24
    assert len(rooms_by_office(path)) == 24
