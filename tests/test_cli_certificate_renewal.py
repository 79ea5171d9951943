"""``secret status``, ``secret renew`` and ``secret reminder`` for a connection that signs in with
a certificate, and ``secret renew --certificate`` moving one from a secret, in processes of their
own against demo tenants over loopback HTTPS (an administrator signs in through the scripted
browser; the keyring is kept in a file, as the OS keeps it between processes)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from clearooms_wizard.demo import data
from clearooms_wizard.demo.key_credentials import DEMO_CERTIFICATE_KEY_ID
from tests.conftest import ServeDemo
from tests.reliability.test_renewal_crash import (
    KEYRING_ENTRY,
    _check_passes,
    _cli,
    _save_connection,
    _secret_keys,
    certificate_keys,
    save_certificate_connection,
    saved_private_key,
)
from tests.support.canary import Leaks
from tests.support.file_keyring import read_all


def test_an_expiring_certificate_is_renewed_end_to_end(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("certificate-expiring")
    save_certificate_connection(tmp_path, served)
    old_key = saved_private_key(tmp_path)
    status = _cli(tmp_path, served, "secret", "status", "--json")
    payload = json.loads(status.stdout)
    assert payload["in_use"] == DEMO_CERTIFICATE_KEY_ID and payload["in_use_days_left"] in (9, 10)
    in_use = next(c for c in payload["credentials"] if c["in_use"])
    assert in_use["kind"] == "certificate" and len(in_use["thumbprint"]) == 40
    assert _cli(tmp_path, served, "secret", "status", "--fail-within", "30").returncode == 1
    words = _cli(tmp_path, served, "secret", "status")
    assert "The certificate in use expires on" in words.stdout
    reminder = _cli(tmp_path, served, "secret", "reminder", "--output", str(tmp_path / "r"))
    assert reminder.returncode == 0, reminder.stderr
    assert b"SUMMARY:Renew the Clearooms certificate\r\n" in (tmp_path / "r.ics").read_bytes()
    assert "before the certificate expires" in reminder.stderr
    # Without --certificate: the connection uses one, so the certificate is what is renewed.
    renewed = _cli(tmp_path, served, "secret", "renew", "--yes", "--months", "12")
    assert renewed.returncode == 0, renewed.stderr
    assert "so the certificate is renewed" in renewed.stderr
    assert "Renewed: the new certificate" in renewed.stdout
    assert "Its private key is saved in this computer's keyring" in renewed.stdout
    new_key = saved_private_key(tmp_path)
    assert new_key != old_key and "PRIVATE KEY" in new_key
    # No secret was added; the old certificate is gone, the new one is the app's only one.
    assert len(_secret_keys(served)) == 2
    [new_id] = certificate_keys(served)
    assert new_id != DEMO_CERTIFICATE_KEY_ID
    assert _cli(tmp_path, served, "secret", "status", "--fail-within", "30").returncode == 0
    after = json.loads(_cli(tmp_path, served, "secret", "status", "--json").stdout)
    assert after["in_use"] == new_id and 360 <= after["in_use_days_left"] <= 366
    check = _check_passes(tmp_path, served)
    expiry = next(c for c in check["checks"] if c["id"] == "secret_expiry")
    assert expiry["status"] == "pass"
    later = _cli(tmp_path, served, "secret", "reminder")
    expires = datetime.fromisoformat(after["in_use_expires"])
    assert f"{expires:%Y}" in later.stdout and "certificate" in later.stdout
    leaks = Leaks(private_keys=[old_key, new_key])
    for run in (status, words, reminder, renewed, later):
        leaks.search_text("output", run.stdout + run.stderr)
    leaks.search_bytes("reminder", (tmp_path / "r.ics").read_bytes())
    files = leaks.search_tree(tmp_path / "work", "work")
    assert files >= 2 and leaks.found == []


def test_a_tenant_that_forbids_secrets_moves_to_a_certificate(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-no-secrets")
    _save_connection(tmp_path, served)
    refused = _cli(tmp_path, served, "secret", "renew", "--yes")
    assert refused.returncode == 1 and "secret renew --certificate" in refused.stderr
    renewed = _cli(tmp_path, served, "secret", "renew", "--certificate", "--yes", "--json")
    assert renewed.returncode == 0, renewed.stderr
    report = json.loads(renewed.stdout)
    assert report["credential"] == "certificate" and report["outcome"] == "renewed"
    assert report["old_credential"]["kind"] == "secret" and report["old_credential"]["removed"]
    assert data.APP_SECRET_KEY_ID not in _secret_keys(served)
    assert report["new_certificate"]["key_id"] in certificate_keys(served)
    # The secret left in the keyring is no longer used: check signs in with the certificate.
    assert read_all(tmp_path / "keyring.json")[KEYRING_ENTRY] == data.APP_SECRET
    check = _check_passes(tmp_path, served)
    assert "signs in with a certificate" in check["checks"][0]["detail"]
    assert "PRIVATE KEY" not in renewed.stdout + renewed.stderr


def test_the_demo_certificate_scenario_renews_and_refuses_to_print_a_key(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("certificate")
    shown = _cli(tmp_path, served, "secret", "renew", "--certificate", "--show-secret")
    assert shown.returncode == 2 and "never printed" in shown.stderr
    demo = _cli(tmp_path, served, "secret", "renew", "--demo", "--demo-scenario", "certificate")
    assert demo.returncode == 0, demo.stderr
    assert "Renewed: the new certificate" in demo.stdout
    assert "kept in the demo's memory only" in demo.stdout
