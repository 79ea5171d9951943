"""``register`` as an IT admin runs it: ``python -m clearooms_wizard register …`` in a process of
its own, against the demo tenant over loopback HTTPS, with the ``BROWSER`` variable naming the
scripted browser (Python's webbrowser runs it, as it would run Firefox)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clearooms_wizard.core.app_setup import APP_UNIQUE_NAME
from clearooms_wizard.core.checks import CHECK_IDS
from clearooms_wizard.demo import data
from clearooms_wizard.demo.registry import Application
from tests.conftest import Served, ServeDemo
from tests.support.browser_command import write_browser_script
from tests.support.canary import CANARY_SECRET, Leaks


def _env(tmp_path: Path, served: Served, **browser: object) -> dict[str, str]:
    script = write_browser_script(
        tmp_path,
        served.ca_bundle,
        record=tmp_path / "browser-visits.jsonl",
        **browser,  # type: ignore[arg-type]
    )
    return dict(
        os.environ,
        BROWSER=str(script),
        # No keyring here: the command must say so, and still never print the secret.
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )


def run_register(
    tmp_path: Path, served: Served, *words: str, **browser: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearooms_wizard", "register", *words, *served.cli_args()],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(tmp_path, served, **browser),
        stdin=subprocess.DEVNULL,
    )


def clearooms_apps(served: Served) -> list[Application]:
    return [a for a in served.tenant.registry.applications() if a.unique_name == APP_UNIQUE_NAME]


def test_global_administrator_end_to_end_and_the_secret_leaks_nowhere(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    done = run_register(tmp_path, served, "--all-mailboxes")
    assert done.returncode == 0, done.stderr
    visits = (tmp_path / "browser-visits.jsonl").read_text().splitlines()
    assert len(visits) == 1 and json.loads(visits[0])["delivered_to"].startswith("http://")
    assert "All set: the connection works." in done.stdout
    # Every check passes but mailbox_scope: the new app reaches every mailbox's calendar.
    assert done.stdout.count("[PASS]") == len(CHECK_IDS) - 1
    assert done.stdout.count("[WARN]") == 1
    # No keyring: the tenant and client ID are saved, and the command says the secret is not.
    assert "Saved the tenant and client ID in" in done.stdout
    [app] = clearooms_apps(served)
    check = subprocess.run(
        [sys.executable, "-m", "clearooms_wizard", "check", "--json", *served.cli_args()],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(tmp_path, served),
    )
    # Saved for the next command: check finds the app's client ID without being told it.
    assert json.loads(check.stdout)["client_id"] == app.app_id
    leaks = Leaks(secret=app.secrets[0].text)
    leaks.search_text("stdout", done.stdout)
    leaks.search_text("stderr", done.stderr)
    leaks.search_text("check's stdout", check.stdout)
    files = leaks.search_tree(tmp_path, "tmp")
    assert files >= 3  # the log, the workspace, the browser's record
    assert any(place.endswith("clearooms-wizard.log") for place in leaks.places)
    assert any(place.endswith("workspace.sqlite3") for place in leaks.places)
    assert leaks.found == []


def test_dry_run_creates_nothing(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    done = run_register(tmp_path, served, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "Dry run: nothing was created." in done.stdout
    changes = [
        r for r in served.tenant.request_log() if r.is_graph and r.method in ("POST", "PATCH")
    ]
    assert changes == []
    assert clearooms_apps(served) == []


def test_application_administrator_is_given_the_consent_link(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-app-admin")
    done = run_register(tmp_path, served)
    assert done.returncode == 0, done.stderr
    [app] = clearooms_apps(served)
    assert "[NEEDS APPROVAL] Granting its permissions" in done.stderr
    # Rooms only, the default: the page is not asked for Calendars.ReadWrite either.
    assert "approve the two permissions" in done.stderr
    link = next(line.strip() for line in done.stdout.splitlines() if "adminconsent" in line)
    assert link.startswith(f"{served.base_url}/{data.TENANT_ID}/v2.0/adminconsent?")
    assert f"client_id={app.app_id}" in link
    assert "run “clearooms-wizard register” again" in done.stdout


def test_no_rights_fails_plainly_and_creates_nothing(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("register-no-rights")
    done = run_register(tmp_path, served)
    assert done.returncode == 1
    assert "register apps" in done.stderr and "Nothing was created." in done.stderr
    assert "Traceback" not in done.stderr
    assert clearooms_apps(served) == []


def test_an_existing_app_is_reused(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("register-existing-app")
    [before] = clearooms_apps(served)
    done = run_register(tmp_path, served, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["outcome"] == "done" and payload["app"]["reused"] is True
    assert [a.id for a in clearooms_apps(served)] == [before.id]


def test_json_is_one_document_with_unchanged_exit_codes(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-no-rights")
    done = run_register(tmp_path, served, "--json")
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    assert payload["ok"] is False and payload["outcome"] == "failed"
    assert payload["review"]["account"]["username"] == "adele.vance@northwind-demo.com"
    assert payload["created"] == [] and "register apps" in payload["error"]
    assert [s["state"] for s in payload["steps"]] == ["done", "failed"]


@pytest.mark.parametrize(
    "words",
    [
        ["--secret-months", "48"],
        ["--app-name", CANARY_SECRET],
        ["--bogus-option", CANARY_SECRET],
    ],
)
def test_usage_errors_exit_2_without_echoing(
    serve_demo: ServeDemo, tmp_path: Path, words: list[str]
) -> None:
    served = serve_demo("healthy")
    done = run_register(tmp_path, served, *words)
    assert done.returncode == 2
    assert CANARY_SECRET[:8] not in done.stdout + done.stderr
    assert not (tmp_path / "browser-visits.jsonl").exists()


def test_show_secret_prints_it_exactly_once(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    done = run_register(tmp_path, served, "--show-secret")
    assert done.returncode == 0, done.stderr
    [app] = clearooms_apps(served)
    secret = app.secrets[0].text
    assert done.stdout.count(secret) == 1 and secret not in done.stderr
    leaks = Leaks(secret=secret)
    leaks.search_tree(tmp_path, "tmp")
    assert leaks.found == []


def test_device_code(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    served.tenant.sign_in.device_approval_delay = 0.0
    done = run_register(tmp_path, served, "--device-code")
    assert done.returncode == 0, done.stderr
    assert "/common/oauth2/deviceauth on any device and enter the code" in done.stderr
    assert not (tmp_path / "browser-visits.jsonl").exists()
    assert len(clearooms_apps(served)) == 1


def test_ctrl_c_while_waiting_for_the_sign_in_stops_cleanly(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    process = subprocess.Popen(
        [sys.executable, "-m", "clearooms_wizard", "register", *served.cli_args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=_env(tmp_path, served, finish=False),
    )
    assert process.stderr is not None
    try:
        lines: list[str] = []
        while not any("Opening the browser" in line for line in lines):
            line = process.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        # The browser was opened (and left alone): the command is waiting for its answer.
        record = tmp_path / "browser-visits.jsonl"
        deadline = time.monotonic() + 30
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Stopped." in err and "Nothing was created." in err
    assert "Traceback" not in err
    assert clearooms_apps(served) == []
