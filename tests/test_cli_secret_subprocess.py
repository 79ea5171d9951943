"""``secret status``, ``secret renew`` and ``secret reminder`` in processes of their own, against
demo tenants over loopback HTTPS, an administrator signing in through the scripted browser."""

from __future__ import annotations

import json
from pathlib import Path

from clearooms_wizard.demo import data
from tests.conftest import ServeDemo
from tests.reliability.test_renewal_crash import (
    KEYRING_ENTRY,
    _check_passes,
    _cli,
    _save_connection,
    _secret_keys,
)
from tests.support.canary import Leaks
from tests.support.file_keyring import read_all


def test_renew_end_to_end_and_the_new_secret_leaks_nowhere(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring")
    _save_connection(tmp_path, served)
    status = _cli(tmp_path, served, "secret", "status", "--json")
    payload = json.loads(status.stdout)
    assert payload["in_use"] == data.APP_SECRET_KEY_ID and payload["in_use_days_left"] in (9, 10)
    # What a scheduled task runs: exit code 1 from 30 days out.
    assert _cli(tmp_path, served, "secret", "status", "--fail-within", "30").returncode == 1
    assert _cli(tmp_path, served, "secret", "status", "--fail-within", "5").returncode == 0
    renewed = _cli(tmp_path, served, "secret", "renew", "--yes", "--months", "12")
    assert renewed.returncode == 0, renewed.stderr
    assert "Renewed: the new client secret works" in renewed.stdout
    assert "saved in this computer's keyring" in renewed.stdout
    new_secret = read_all(tmp_path / "keyring.json")[KEYRING_ENTRY]
    assert new_secret != data.APP_SECRET
    keys = _secret_keys(served)
    # The one in use is gone; the long-expired one nobody uses was left alone.
    assert data.APP_SECRET_KEY_ID not in keys and data.PREVIOUS_SECRET_KEY_ID in keys
    assert _cli(tmp_path, served, "secret", "status", "--fail-within", "30").returncode == 0
    after = json.loads(_cli(tmp_path, served, "secret", "status", "--json").stdout)
    in_use = next(c for c in after["credentials"] if c["in_use"])
    assert in_use["made_by_clearooms"] is True and 360 <= after["in_use_days_left"] <= 366
    check = _check_passes(tmp_path, served)
    expiry = next(c for c in check["checks"] if c["id"] == "secret_expiry")
    assert expiry["status"] == "pass"
    reminder = _cli(tmp_path, served, "secret", "reminder", "--output", str(tmp_path / "r"))
    assert reminder.returncode == 0, reminder.stderr
    ics = (tmp_path / "r.ics").read_bytes()
    assert b"SUMMARY:Renew the Clearooms client secret\r\n" in ics
    leaks = Leaks(secret=new_secret)
    for run in (status, renewed, reminder):
        leaks.search_text("output", run.stdout + run.stderr)
    leaks.search_bytes("reminder", ics)
    files = leaks.search_tree(tmp_path / "work", "work")
    assert files >= 2
    assert any(place.endswith("clearooms-wizard.log") for place in leaks.places)
    assert leaks.found == []


def test_a_secret_not_made_by_clearooms_is_kept_unless_confirmed(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring")
    _save_connection(tmp_path, served)
    renewed = _cli(tmp_path, served, "secret", "renew", "--json")
    assert renewed.returncode == 0, renewed.stderr
    payload = json.loads(renewed.stdout)
    assert payload["old_secret"]["removed"] is False
    assert "was not made by Clearooms" in renewed.stderr
    assert data.APP_SECRET_KEY_ID in _secret_keys(served)


def test_lifetime_capped_by_policy_is_renewed_shorter(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-lifetime-capped")
    _save_connection(tmp_path, served)
    renewed = _cli(tmp_path, served, "secret", "renew", "--yes", "--json")
    assert renewed.returncode == 0, renewed.stderr
    payload = json.loads(renewed.stdout)
    assert payload["new_secret"]["months"] == 6
    assert payload["new_secret"]["shortened_by_policy"] is True
    _check_passes(tmp_path, served)


def test_secrets_forbidden_fails_plainly_and_changes_nothing(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-no-secrets")
    _save_connection(tmp_path, served)
    before = _secret_keys(served)
    renewed = _cli(tmp_path, served, "secret", "renew", "--yes")
    assert renewed.returncode == 1
    assert "does not allow client secrets" in renewed.stderr and "certificate" in renewed.stderr
    assert "Traceback" not in renewed.stderr
    assert _secret_keys(served) == before
    assert read_all(tmp_path / "keyring.json")[KEYRING_ENTRY] == data.APP_SECRET


def test_no_rights_says_who_can_renew(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("register-no-rights")
    _save_connection(tmp_path, served)
    renewed = _cli(tmp_path, served, "secret", "renew", "--yes")
    assert renewed.returncode == 1
    assert "Application Administrator" in renewed.stderr and "owner" in renewed.stderr
    assert "Nothing was changed" in renewed.stderr


def test_expired_secret_status_needs_an_administrator(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("expired-secret")
    args = ["--tenant", data.INITIAL_DOMAIN, "--client-id", data.APP_ID, "--secret-stdin"]
    status = _cli(tmp_path, served, "secret", "status", *args, stdin=data.APP_SECRET + "\n")
    assert status.returncode == 1
    assert "secret status --admin" in status.stderr
    admin = _cli(
        tmp_path, served, "secret", "status", "--admin", *args, stdin=data.APP_SECRET + "\n"
    )
    assert admin.returncode == 0, admin.stderr
    assert "has expired" in admin.stdout
    renewed = _cli(
        tmp_path, served, "secret", "renew", "--yes", *args, stdin=data.APP_SECRET + "\n"
    )
    assert renewed.returncode == 0, renewed.stderr
    # Nothing was saved before: the renewed secret is in the keyring, under the tenant's ID.
    _check_passes(tmp_path, served, "--tenant", data.TENANT_ID, "--client-id", data.APP_ID)


def test_usage_errors_exit_2(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    assert _cli(tmp_path, served, "secret", "renew", "--months", "48").returncode == 2
    assert _cli(tmp_path, served, "secret", "renew", "--yes", "--keep-old").returncode == 2
    assert _cli(tmp_path, served, "secret").returncode == 2
