"""Crash safety: SIGKILL at random moments of an import, and several copies at once.

Every killed import leaves a workspace that opens, passes ``PRAGMA integrity_check`` and holds
either the state before the import or the state after it. Two imports at once both finish (or
one is told clearly that another copy has the workspace), and nothing is lost.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.core.workspace import open_workspace
from clearooms_wizard.demo import DemoTenant
from tests.support.reliability import REPORT, table

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and /proc")

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "many-rooms"
ROOM_LIST = "rooms.ldn-north@northwind-demo.com"  # 100 rooms
TRIALS_IN_WINDOW = 36  # killed at a random moment after the write has begun
TRIALS_ANYTIME = 14  # killed at a random moment of the whole run
KILLS = "Crash safety: SIGKILL at random moments of an import (many-rooms, 100 rooms)"


def dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def offices_of(path: Path) -> dict[str, str]:
    with open_workspace(path) as workspace:
        assert workspace.notice is None, workspace.notice
        return {room.email: room.office_name for room in workspace.imported_rooms()}


def integrity(path: Path) -> list[tuple[str]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def run_cli(*argv: str | Path) -> int:
    import io

    return main(
        [str(a) for a in argv], stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO()
    )


@dataclass(frozen=True)
class Before:
    path: Path
    dump: list[str]
    before: dict[str, str]
    after: dict[str, str]


@pytest.fixture
def before(tmp_path: Path) -> Before:
    """Half of the list's rooms imported into Office A; the import moves all into Office B."""
    path = tmp_path / "before.sqlite3"
    tenant = DemoTenant(SCENARIO)
    room_list = tenant.directory.room_list(ROOM_LIST)
    assert room_list is not None
    emails = sorted(room.email for room in tenant.directory.rooms_in(room_list))
    for office in ("Office A", "Office B"):
        assert run_cli("offices", "add", office, "--workspace", path) == 0
    code = run_cli(
        "rooms",
        "import",
        "--demo-scenario",
        SCENARIO,
        "--office",
        "Office A",
        "--room",
        *emails[:50],
        "--workspace",
        path,
    )
    assert code == 0
    return Before(path, dump(path), offices_of(path), dict.fromkeys(emails, "Office B"))


@dataclass
class Trial:
    mode: str
    delay: float
    outcome: str = ""
    landed: str = ""


def kill_trial(before: Before, folder: Path, number: int, trial: Trial) -> Trial:
    path = folder / f"trial-{number}.sqlite3"
    shutil.copyfile(before.path, path)
    marker = folder / f"trial-{number}"
    command = [
        sys.executable,
        "-m",
        "tests.support.kill_window",
        str(marker),
        "--",
        "rooms",
        "import",
        "--demo-scenario",
        SCENARIO,
        "--office",
        "Office B",
        "--room-list",
        ROOM_LIST,
        "--workspace",
        str(path),
        "--json",
    ]
    start = Path(f"{marker}.start")
    done = Path(f"{marker}.done")
    with subprocess.Popen(
        command, cwd=ROOT, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as process:
        deadline = time.monotonic() + 60
        if trial.mode == "window":
            while not start.exists() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.0005)
        if trial.mode == "finish":
            process.wait(timeout=60)
        time.sleep(trial.delay)
        killed_at_start, killed_at_done = start.exists(), done.exists()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    if process.returncode == 0:
        trial.landed = "after it ended"
    elif killed_at_done:
        trial.landed = "after the commit"
    elif killed_at_start:
        trial.landed = "during the write"
    else:
        trial.landed = "before the write"
    assert integrity(path) == [("ok",)], f"trial {number}: integrity check failed"
    state = offices_of(path)  # opens with the product: no "damaged" notice allowed
    if state == before.before and dump(path) == before.dump:
        trial.outcome = "before"
    elif state == {**before.before, **before.after}:
        trial.outcome = "after"
    else:
        trial.outcome = "NEITHER"
    return trial


def test_sigkill_at_random_moments_of_an_import(before: Before, tmp_path: Path) -> None:
    # One import left to finish: how long its write takes, and the whole run.
    began = time.monotonic()
    calibration = kill_trial(before, tmp_path, 0, Trial("finish", 0.0))
    whole = time.monotonic() - began
    assert calibration.outcome == "after" and calibration.landed == "after it ended"
    window = float(Path(f"{tmp_path}/trial-0.done").read_text()) - float(
        Path(f"{tmp_path}/trial-0.start").read_text()
    )
    seed = int(os.environ.get("CLEAROOMS_KILL_SEED", time.time()))
    rng = random.Random(seed)
    trials = [Trial("window", rng.uniform(0, window * 1.5)) for _ in range(TRIALS_IN_WINDOW)]
    trials += [Trial("anytime", rng.uniform(0, whole)) for _ in range(TRIALS_ANYTIME)]
    rng.shuffle(trials)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(
                lambda item: kill_trial(before, tmp_path, item[0], item[1]),
                enumerate(trials, start=1),
            )
        )
    elapsed = time.monotonic() - started
    outcomes = Counter((t.landed, t.outcome) for t in results)
    rows = [[landed, outcome, str(count)] for (landed, outcome), count in sorted(outcomes.items())]
    REPORT.add(
        KILLS,
        [
            f"{len(results)} trials in {elapsed:.0f} s (CLEAROOMS_KILL_SEED={seed}; the write took "
            f"{window * 1000:.0f} ms); every workspace opened and passed "
            "PRAGMA integrity_check:"
        ],
    )
    REPORT.add(KILLS, table(["killed", "workspace held the state", "trials"], rows))
    REPORT.count("crash safety: kill trials", len(results))
    REPORT.count(
        "crash safety: kill trials passed", sum(t.outcome in ("before", "after") for t in results)
    )
    assert len(results) >= 50
    assert all(t.outcome in ("before", "after") for t in results), outcomes
    # The trials did reach the moments that matter.
    assert any(t.landed == "during the write" for t in results), outcomes


# -- several copies at once -----------------------------------------------------------------------

CONCURRENCY = "Crash safety: several copies at once on one workspace"


def _spawn(*argv: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "clearooms_wizard", *map(str, argv)],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_imports_at_once_both_finish_and_nothing_is_lost(tmp_path: Path) -> None:
    outcomes: Counter[str] = Counter()
    for round_ in range(3):
        path = tmp_path / f"shared-{round_}.sqlite3"
        for office in ("Office A", "Office B"):
            assert run_cli("offices", "add", office, "--workspace", path) == 0
        processes = [
            _spawn(
                "rooms",
                "import",
                "--demo",
                "--office",
                office,
                "--all",
                "--json",
                "--workspace",
                path,
            )
            for office in ("Office A", "Office B")
        ]
        finished = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            if process.returncode == 0:
                finished.append(json.loads(out)["result"]["counts"])
                outcomes["finished"] += 1
            else:
                # The only acceptable failure: told clearly that another copy has it.
                assert process.returncode == 1 and "Another copy" in err, err
                outcomes["told another copy has the workspace"] += 1
        assert finished
        assert integrity(path) == [("ok",)]
        state = offices_of(path)
        assert len(state) == 24 and len(set(state.values())) == 1, state
        with open_workspace(path) as workspace:
            assert [o.name for o in workspace.list_offices()] == ["Office A", "Office B"]
    REPORT.add(
        CONCURRENCY,
        [
            f"two imports at once, 3 rounds: {dict(outcomes)}; all 24 rooms "
            "in one office each time, integrity ok"
        ],
    )


def test_offices_added_at_once_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "offices.sqlite3"
    assert run_cli("offices", "list", "--workspace", path) == 0
    names = [f"Office {n}" for n in range(8)]
    processes = [_spawn("offices", "add", name, "--workspace", path) for name in names]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    with open_workspace(path) as workspace:
        assert sorted(o.name for o in workspace.list_offices()) == names
    REPORT.add(
        CONCURRENCY, [f"{len(names)} processes adding an office at once: all {len(names)} kept"]
    )


def test_a_copy_that_waits_too_long_is_told_and_nothing_is_half_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.sqlite3"
    for office in ("Office A", "Office B"):
        assert run_cli("offices", "add", office, "--workspace", path) == 0
    marker = tmp_path / "holding-the-lock"
    # The first holds the write lock (half-way through its transaction) longer than the
    # second will wait for it (5 s).
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.pause_in_apply",
            str(marker),
            "write:1",
            "6.5",
            "--",
            "rooms",
            "import",
            "--demo",
            "--office",
            "Office A",
            "--all",
            "--json",
            "--workspace",
            str(path),
        ],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.02)
    second = _spawn(
        "rooms", "import", "--demo", "--office", "Office B", "--all", "--workspace", path
    )
    _, err = second.communicate(timeout=60)
    out, first_err = first.communicate(timeout=60)
    assert second.returncode == 1, err
    assert "Another copy of the Clearooms wizard is using the workspace" in err
    assert "nothing was changed" in err and "Traceback" not in err
    assert first.returncode == 0, first_err
    assert json.loads(out)["result"]["counts"]["new"] == 24
    assert integrity(path) == [("ok",)]
    assert set(offices_of(path).values()) == {"Office A"}
    REPORT.add(
        CONCURRENCY,
        [
            "a copy kept waiting past the busy timeout: exit 1, told "
            "“Another copy … is using the workspace”; the other finished; "
            "nothing half-written"
        ],
    )
