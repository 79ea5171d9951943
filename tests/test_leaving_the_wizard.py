"""Every way out of the wizard ends the process, through the real entry point and event loop.

pytest-qt never runs ``app.exec()``, so it cannot see a process that outlives its window. These
tests start ``clearooms-wizard`` in a subprocess (offscreen, its own workspace and settings, the
keyring in memory), drive it from inside with tests/support/leave_wizard.py, and time the exit
from the moment the way out was taken.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from clearooms_wizard.core.workspace import open_workspace
from tests.conftest import ServeDemo

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 2.0  # seconds from the way out to the end of the process
REACH_LIMIT = 120.0  # seconds to start, go through the pages and import, on a loaded machine
HEALTHY_ROOMS = 24


@dataclass(frozen=True)
class Exit:
    code: int
    seconds: float  # from the way out to the end of the process
    stderr: str


def leave_wizard(way: str, tmp_path: Path, *args: str, stdin: str = "") -> Exit:
    """Open the wizard with ``args``, leave it by ``way``; fail if it outlives DEADLINE."""
    marker = tmp_path / "left-at"
    stderr_path = tmp_path / "stderr.txt"
    # The test's isolation (XDG folders, no CLEAROOMS_ settings) is in os.environ already.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "tests.support.leave_wizard", way, str(marker), "--", *args]
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdin is not None
        process.stdin.write(stdin)
        process.stdin.close()
        give_up = time.monotonic() + REACH_LIMIT
        while not marker.exists() and process.poll() is None:
            if time.monotonic() > give_up:
                pytest.fail(f"did not get to {way} in {REACH_LIMIT:.0f} s")
            time.sleep(0.02)
        if not marker.exists():
            pytest.fail(
                f"ended ({process.returncode}) before {way}:\n{stderr_path.read_text()[-3000:]}"
            )
        left_at = float(marker.read_text())
        try:
            process.wait(timeout=max(0.0, left_at + DEADLINE - time.time()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {DEADLINE:.0f} s after {way}, with no window")
        return Exit(process.returncode, time.time() - left_at, stderr_path.read_text())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def assert_intact(workspace: Path) -> int:
    """The workspace passes SQLite's integrity check and opens; how many rooms it holds."""
    if not workspace.exists():
        return 0
    db = sqlite3.connect(workspace)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        db.close()
    with open_workspace(workspace) as opened:
        assert opened.notice is None, opened.notice
        return len(opened.imported_rooms())


@pytest.mark.parametrize(
    "way",
    [
        "cancel",
        "escape",
        "close",
        "finish",  # after importing every room of the demo tenant
        "close-while-importing",  # while the import's transaction is being written
    ],
)
def test_each_way_out_of_the_demo_wizard_ends_the_process(way: str, tmp_path: Path) -> None:
    workspace = tmp_path / "demo.sqlite3"
    left = leave_wizard(way, tmp_path, "--demo", "--workspace", str(workspace))
    assert left.code == 0, left.stderr
    assert left.seconds <= DEADLINE
    rooms = assert_intact(workspace)
    if way == "finish":
        assert rooms == HEALTHY_ROOMS
    elif way == "close-while-importing":
        # One transaction: closing never leaves part of an import behind.
        assert rooms in (0, HEALTHY_ROOMS)
    else:
        assert rooms == 0


def test_closing_while_settings_are_tested_ends_the_process(
    tmp_path: Path, serve_demo: ServeDemo
) -> None:
    # Every answer would come long after the deadline: only stopping the request in flight
    # (as Stop does) lets the process end in time.
    served = serve_demo("healthy", latency=4.0)
    scenario = served.tenant.scenario
    workspace = tmp_path / "workspace.sqlite3"
    left = leave_wizard(
        "close-while-testing",
        tmp_path,
        "--tenant",
        scenario.tenant,
        "--client-id",
        scenario.client_id,
        "--secret-stdin",
        *served.cli_args(),
        "--workspace",
        str(workspace),
        stdin=scenario.client_secret + "\n",
    )
    assert left.code == 0, left.stderr
    assert left.seconds <= DEADLINE
    assert assert_intact(workspace) == 0
