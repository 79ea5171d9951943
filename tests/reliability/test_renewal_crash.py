"""``secret renew`` as support staff run it, in a process of its own, against a demo tenant over
loopback HTTPS, with a keyring kept in a file (so that what one process saves is there for the
next). The rule the issue asks for: the old secret is never removed before the new one works and
is saved, so a process killed between any two steps leaves a working connection, and the next
run finishes or tidies what was left."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clearooms_wizard.core.secrets import SERVICE
from clearooms_wizard.demo import Fault, data
from clearooms_wizard.demo.key_credentials import DEMO_CERTIFICATE_KEY_ID
from tests.conftest import Served, ServeDemo
from tests.support.browser_command import ROOT, write_browser_script
from tests.support.canary import Leaks
from tests.support.file_keyring import VARIABLE, read_all

KEYRING_ENTRY = f"{SERVICE}|{data.TENANT_ID}/{data.APP_ID}"


def _env(tmp_path: Path, served: Served) -> dict[str, str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    script = write_browser_script(tmp_path, served.ca_bundle)
    env = dict(
        os.environ,
        BROWSER=str(script),
        PYTHON_KEYRING_BACKEND="tests.support.file_keyring.FileKeyring",
        CLEAROOMS_WORKSPACE=str(work / "workspace.sqlite3"),
        PYTHONPATH=str(ROOT),
    )
    env[VARIABLE] = str(tmp_path / "keyring.json")
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[variable] = str(work / variable.lower())
    return env


def _cli(
    tmp_path: Path, served: Served, *words: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearooms_wizard", *words, *served.cli_args()],
        capture_output=True,
        text=True,
        timeout=180,
        env=_env(tmp_path, served),
        input=stdin,
        cwd=ROOT,
    )


def _save_connection(tmp_path: Path, served: Served) -> None:
    """As an office manager leaves it: Test Settings passed and saved, the secret in the
    keyring."""
    saved = _cli(
        tmp_path,
        served,
        "check",
        "--save",
        "--tenant",
        data.INITIAL_DOMAIN,
        "--client-id",
        data.APP_ID,
        "--secret-stdin",
        stdin=data.APP_SECRET + "\n",
    )
    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert read_all(tmp_path / "keyring.json")[KEYRING_ENTRY] == data.APP_SECRET


def _journal_step(tmp_path: Path) -> str | None:
    path = tmp_path / "work" / "workspace.sqlite3"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            row = db.execute("SELECT body FROM renewal_journal WHERE id = 1").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(json.loads(row[0])["step"])


def _secret_keys(served: Served) -> set[str]:
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None
    return {s.key_id for s in app.secrets}


def _kill_at(tmp_path: Path, served: Served, step: str, *words: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "clearooms_wizard", "secret", "renew", *words, *served.cli_args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=_env(tmp_path, served),
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 90
        while _journal_step(tmp_path) != step:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"the renewal never reached {step}"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL


def _check_passes(tmp_path: Path, served: Served, *words: str) -> dict[str, Any]:
    done = _cli(tmp_path, served, "check", "--json", *words)
    payload: dict[str, Any] = json.loads(done.stdout)
    token = next(c for c in payload["checks"] if c["id"] == "token")
    assert token["status"] == "pass", done.stdout
    assert done.returncode == 0, done.stdout
    return payload


def test_killed_after_saving_the_new_secret_the_connection_works_and_the_next_run_finishes(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring")
    _save_connection(tmp_path, served)
    # Microsoft takes its time over removing the old secret: the process is killed meanwhile.
    served.tenant.inject(Fault(r"/removePassword$", "delay", method="POST", delay=6.0))
    _kill_at(tmp_path, served, "saved", "--yes")
    keyring = read_all(tmp_path / "keyring.json")
    new_secret = keyring[KEYRING_ENTRY]
    assert new_secret != data.APP_SECRET
    # Whatever happened to the old secret, the saved one signs the app in.
    _check_passes(tmp_path, served)
    status = _cli(tmp_path, served, "secret", "status")
    assert status.returncode == 0, status.stderr
    assert "stopped before it finished" in status.stdout
    assert "The new secret works and is saved" in status.stdout
    served.tenant.clear_faults()
    finished = _cli(tmp_path, served, "secret", "renew", "--yes")
    assert finished.returncode == 0, finished.stderr
    assert "Finished an earlier renewal" in finished.stdout
    assert data.APP_SECRET_KEY_ID not in _secret_keys(served)
    assert _journal_step(tmp_path) is None
    # It finished the earlier run: no third secret was made.
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None and [s.text for s in app.secrets].count(new_secret) == 1
    _check_passes(tmp_path, served)
    leaks = Leaks(secret=new_secret)
    for run in (status, finished):
        leaks.search_text("output", run.stdout + run.stderr)
    files = leaks.search_tree(tmp_path / "work", "work")
    assert files >= 2 and leaks.found == []


def test_killed_before_saving_the_old_secret_still_works_and_the_next_run_tidies(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    # A new secret takes seconds to be accepted: the process is killed while it waits.
    served = serve_demo("renewal-slow-propagation")
    _save_connection(tmp_path, served)
    before = _secret_keys(served)
    _kill_at(tmp_path, served, "added", "--yes")
    [orphan] = _secret_keys(served) - before
    assert read_all(tmp_path / "keyring.json")[KEYRING_ENTRY] == data.APP_SECRET
    assert data.APP_SECRET_KEY_ID in _secret_keys(served)
    _check_passes(tmp_path, served)
    status = _cli(tmp_path, served, "secret", "status", "--json")
    assert "nothing was removed" in json.loads(status.stdout)["unfinished_renewal"]
    renewed = _cli(tmp_path, served, "secret", "renew", "--yes")
    assert renewed.returncode == 0, renewed.stderr
    assert "that unused secret was removed" in renewed.stdout
    keys = _secret_keys(served)
    assert orphan not in keys and data.APP_SECRET_KEY_ID not in keys
    assert read_all(tmp_path / "keyring.json")[KEYRING_ENTRY] != data.APP_SECRET
    _check_passes(tmp_path, served)


# -- certificates -----------------------------------------------------------------------------

CERTIFICATE_ENTRY = f"{KEYRING_ENTRY}/certificate"

_KEEP_CERTIFICATE = """
import sys
from clearooms_wizard.core.certificates import credential_from_keyring_text
from clearooms_wizard.runtime import ConnectionOptions, build_runtime

tenant, client_id, base_url, ca_bundle = sys.argv[1:]
made = credential_from_keyring_text(sys.stdin.read())
runtime = build_runtime(ConnectionOptions(tenant=tenant, client_id=client_id,
    authority_host=base_url, graph_url=base_url, ca_bundle=ca_bundle))
print(runtime.use_cases.keep_certificate(tenant, client_id, runtime.connection.cloud, made))
"""


def save_certificate_connection(tmp_path: Path, served: Served) -> None:
    """As an office manager leaves a connection that signs in with the scenario's certificate
    (uploaded in the portal): kept as the Connect page keeps it, then Test Settings saved."""
    made = served.tenant.scenario.credential_certificate()
    assert made is not None
    kept = subprocess.run(
        [sys.executable, "-c", _KEEP_CERTIFICATE, data.INITIAL_DOMAIN, data.APP_ID,
         served.base_url, served.ca_bundle],
        capture_output=True, text=True, timeout=60, env=_env(tmp_path, served), cwd=ROOT,
        input=made.keyring_text(),
    )  # fmt: skip
    assert kept.returncode == 0, kept.stderr
    saved = _cli(tmp_path, served, "check", "--save", "--tenant", data.INITIAL_DOMAIN,
                 "--client-id", data.APP_ID)  # fmt: skip
    # 1: the certificate-expiring scenario warns; it is saved all the same.
    assert saved.returncode in (0, 1) and "Saved" in saved.stdout, saved.stdout + saved.stderr
    assert CERTIFICATE_ENTRY in read_all(tmp_path / "keyring.json"), (
        kept.stdout + saved.stdout + saved.stderr
    )


def _application(served: Served) -> Any:
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None
    return app


def certificate_keys(served: Served) -> set[str]:
    return {k.key_id for k in _application(served).key_credentials}


def saved_private_key(tmp_path: Path) -> str:
    entries = read_all(tmp_path / "keyring.json")
    first = entries[CERTIFICATE_ENTRY]
    count, _, text = first.partition(":")
    for part in range(2, int(count) + 1):
        text += entries[f"{CERTIFICATE_ENTRY}/{part}"]
    return text


def test_killed_after_saving_a_new_certificate_the_connection_works_and_the_next_run_finishes(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    """A connection with a secret moves to a certificate, and the process is killed after the
    certificate is saved, while the old secret is being removed."""
    served = serve_demo("secret-expiring")
    _save_connection(tmp_path, served)
    served.tenant.inject(Fault(r"/removePassword$", "delay", method="POST", delay=6.0))
    _kill_at(tmp_path, served, "saved", "--certificate", "--yes")
    key_text = saved_private_key(tmp_path)
    assert "PRIVATE KEY" in key_text
    [new_key] = certificate_keys(served)
    # The new certificate signs the app in: check uses it, not the secret still in the keyring.
    payload = _check_passes(tmp_path, served)
    assert (
        "signs in with a certificate"
        in next(c for c in payload["checks"] if c["id"] == "format")["detail"]
    )
    status = _cli(tmp_path, served, "secret", "status")
    assert "renewal of the certificate" in status.stdout, status.stdout
    assert "[IN USE" in next(line for line in status.stdout.splitlines() if "Certificate" in line)
    served.tenant.clear_faults()
    # Without --certificate: the connection signs in with one now, and the earlier run finishes.
    finished = _cli(tmp_path, served, "secret", "renew", "--yes")
    assert finished.returncode == 0, finished.stderr
    assert "Finished an earlier renewal" in finished.stdout
    assert "the old secret is now removed" in finished.stdout
    assert data.APP_SECRET_KEY_ID not in _secret_keys(served)
    assert certificate_keys(served) == {new_key} and _journal_step(tmp_path) is None
    assert saved_private_key(tmp_path) == key_text
    _check_passes(tmp_path, served)
    leaks = Leaks(private_keys=[key_text.split("-----BEGIN CERTIFICATE-----")[0]])
    for run in (status, finished):
        leaks.search_text("output", run.stdout + run.stderr)
    files = leaks.search_tree(tmp_path / "work", "work")
    assert files >= 2 and leaks.found == []


def test_killed_while_a_new_certificate_is_checked_the_old_one_still_works_and_is_tidied(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    # The new certificate takes seconds to reach the sign-in service: killed while it waits.
    served = serve_demo("certificate-expiring")
    save_certificate_connection(tmp_path, served)
    served.tenant.registry.replication_delay = 8.0
    old_key = saved_private_key(tmp_path)
    before = certificate_keys(served)
    _kill_at(tmp_path, served, "added", "--yes")
    [orphan] = certificate_keys(served) - before
    assert saved_private_key(tmp_path) == old_key
    _check_passes(tmp_path, served)
    # The next run comes later, when Graph lists the orphan (as it does within minutes).
    registry = served.tenant.registry
    deadline = time.monotonic() + 30
    while orphan not in {k.key_id for k in registry.visible_certificates(_application(served))}:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    renewed = _cli(tmp_path, served, "secret", "renew", "--yes")
    assert renewed.returncode == 0, renewed.stderr
    assert "unused certificate was removed" in renewed.stdout
    assert "so the certificate is renewed" in renewed.stderr
    keys = certificate_keys(served)
    assert orphan not in keys and not keys & before and len(keys) == 1
    assert saved_private_key(tmp_path) != old_key
    _check_passes(tmp_path, served)


def test_killed_after_saving_a_renewed_certificate_the_old_one_goes_on_the_next_run(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    """A certificate replaced by a certificate, killed after the new one is saved, while the old
    one is being taken off the app."""
    served = serve_demo("certificate-expiring")
    save_certificate_connection(tmp_path, served)
    old_key = saved_private_key(tmp_path)
    # Microsoft takes its time over every change to the app's certificates.
    served.tenant.inject(Fault(r"/applications/", "delay", method="PATCH", delay=4.0))
    _kill_at(tmp_path, served, "saved", "--certificate", "--yes")
    new_key = saved_private_key(tmp_path)
    assert new_key != old_key
    _check_passes(tmp_path, served)
    served.tenant.clear_faults()
    finished = _cli(tmp_path, served, "secret", "renew", "--yes")
    assert finished.returncode == 0, finished.stderr
    assert "the old certificate is now removed" in finished.stdout
    assert DEMO_CERTIFICATE_KEY_ID not in certificate_keys(served)
    assert len(certificate_keys(served)) == 1 and _journal_step(tmp_path) is None
    assert saved_private_key(tmp_path) == new_key
    _check_passes(tmp_path, served)
