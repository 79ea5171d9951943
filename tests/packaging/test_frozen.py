"""The frozen (PyInstaller) app: build it on Linux, then run it as support staff and users would.

Needs the ``packaging`` extra (``pip install -e ".[packaging]"``); ``.ci/run`` installs it.
"""

from __future__ import annotations

import faulthandler
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clearooms_wizard import __version__
from tests.packaging.support import PACKAGING, environment_without_test_cache

pytestmark = [pytest.mark.slow, pytest.mark.frozen]

NAME = "clearooms-wizard"
# A vendor build's own public client for administrator sign-ins (any id will do here).
VENDOR_SETUP_CLIENT = "5c3e8a1f-7d2b-4e69-b0a4-9f1c6d8e2b37"
BUILD_TIMEOUT = 900  # seconds; about 20 on a 2-core machine


@pytest.fixture(scope="module")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip('PyInstaller is not installed: pip install -e ".[packaging]" to run this test')
    if not sys.platform.startswith("linux"):
        pytest.skip("the frozen build test runs on Linux (see packaging/README.md elsewhere)")
    # The build outlasts pytest's 120-second hang detector; the timeout below takes its place.
    faulthandler.cancel_dump_traceback_later()
    out = tmp_path_factory.mktemp("frozen")
    result = subprocess.run(
        [
            sys.executable,
            str(PACKAGING / "build.py"),
            f"--dist={out / 'dist'}",
            f"--work={out / 'work'}",
            f"--setup-client-id={VENDOR_SETUP_CLIENT}",
        ],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        env=environment_without_test_cache(),
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    app = out / "dist" / NAME
    assert (app / NAME).is_file()
    return app


def _run(app: Path, *words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(app / NAME), *words], capture_output=True, text=True, timeout=120)


def test_frozen_version(frozen_app: Path) -> None:
    result = _run(frozen_app, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{NAME} {__version__}\n"


def test_frozen_check_on_the_demo_tenant(frozen_app: Path) -> None:
    result = _run(frozen_app, "check", "--demo", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [check["id"] for check in report["checks"]] == [
        "format",
        "tenant",
        "token",
        "permissions",
        "rooms",
        "directory",
        "calendars",
        "mailbox_scope",
        "secret_expiry",
    ]


def test_frozen_app_carries_icons_and_keyring_backends(frozen_app: Path) -> None:
    internal = frozen_app / "_internal"
    assets = internal / "clearooms_wizard" / "assets" / "icons"
    assert (assets / "clearooms-wizard.svg").is_file()
    assert not (assets / "status").exists()  # the status set was never drawn, and is gone
    (keyring_metadata,) = internal.glob("keyring-*.dist-info")
    assert "keyring.backends" in (keyring_metadata / "entry_points.txt").read_text()
    assert not list(internal.glob("PySide6/Qt/translations/*.qm"))


def test_frozen_app_carries_the_vendors_setup_client(frozen_app: Path) -> None:
    packaged = frozen_app / "_internal" / "clearooms_wizard" / "setup-client-id.txt"
    assert packaged.read_text(encoding="utf-8").strip() == VENDOR_SETUP_CLIENT


def test_frozen_wizard_starts(frozen_app: Path) -> None:
    # The wizard on the offscreen platform: proves Qt and its plugins load from the bundle.
    process = subprocess.Popen(
        [str(frozen_app / NAME), "--demo"],
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        running = process.poll() is None
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)
    assert running, f"the wizard exited with {process.returncode}: {err[-3000:]}"
