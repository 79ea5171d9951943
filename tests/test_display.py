"""When Qt cannot open a window on Linux, one plain line says what to check or install, instead
of Qt's dump about platform plugins and an aborted process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clearooms_wizard.display import LINUX_PACKAGES, display_problem

ROOT = Path(__file__).resolve().parent.parent


def loads_everything(library: str) -> bool:
    return True


def loads_nothing(library: str) -> bool:
    return False


def test_no_display_is_said_plainly() -> None:
    problem = display_problem({}, "linux", loads_everything)
    assert problem is not None and "no display was found (DISPLAY is not set)" in problem


def test_missing_xcb_libraries_are_named_with_the_command_that_installs_them() -> None:
    problem = display_problem({"DISPLAY": ":0"}, "linux", loads_nothing)
    assert problem is not None and f"sudo apt install {LINUX_PACKAGES}" in problem
    assert "libxcb-cursor0" in problem and "libegl1" in problem
    assert display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", loads_nothing)


@pytest.mark.parametrize(
    ("env", "platform"),
    [
        ({"DISPLAY": ":0"}, "linux"),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
        ({"QT_QPA_PLATFORM": "wayland"}, "linux"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
        ({}, "win32"),
        ({}, "darwin"),
    ],
)
def test_nothing_is_said_where_qt_can_open_a_window_or_answers_for_itself(
    env: dict[str, str], platform: str
) -> None:
    assert display_problem(env, platform, loads_everything) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb platform is Linux's")
def test_the_wizard_without_a_display_says_so_in_one_line_and_exits(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env.update(
        CLEAROOMS_WORKSPACE=str(tmp_path / "workspace.sqlite3"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    done = subprocess.run(
        [sys.executable, "-m", "clearooms_wizard", "--demo"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("clearooms-wizard: ")
    assert "DISPLAY is not set" in done.stderr
    assert "qt.qpa" not in done.stderr and "plugin" not in done.stderr
