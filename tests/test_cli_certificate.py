"""A certificate instead of a client secret, on the command line, against the demo tenant over
loopback HTTPS: ``certificate create`` keeps the key in the keyring and writes the .cer an
administrator uploads by hand; ``check`` then signs in with whichever credential is saved;
``register --certificate`` and a tenant that forbids secrets, in a process of their own. The
private key is in no file, log, report or output."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from clearooms_wizard.cli import main
from clearooms_wizard.core.certificates import credential_from_keyring_text
from clearooms_wizard.core.secrets import SERVICE, KeyringSecretStore
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.demo import data
from clearooms_wizard.demo.key_credentials import key_credential_for
from tests.conftest import Served, ServeDemo
from tests.support.canary import Leaks
from tests.support.memory_keyring import MemoryKeyring
from tests.test_cli_register_subprocess import clearooms_apps, run_register


def _cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _upload_by_hand(served: Served, cer: Path) -> None:
    """What the administrator does in the portal: Certificates & secrets, Upload certificate."""
    uploaded = key_credential_for(cer.read_bytes(), "5d3c8f8e-6d1e-4d53-9f43-2f1f6d0b6c11", None)
    served.tenant.registry.set_key_credentials(data.APP_OBJECT_ID, [uploaded])


def test_create_upload_check_and_save_with_a_certificate(
    serve_demo: ServeDemo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    served = serve_demo("healthy")
    connect = ["--tenant", data.INITIAL_DOMAIN, "--client-id", data.APP_ID, *served.cli_args()]
    cer = tmp_path / "for-the-admin.cer"
    runs = [_cli("certificate", "create", "--months", "6", "--output", str(cer), *connect)]
    code, out, err = runs[0]
    assert code == 0, err
    assert "holds no secret" in out and "Certificates & secrets" in out
    assert "The private key is in this computer's keyring." in out
    certificate = x509.load_der_x509_certificate(cer.read_bytes())
    assert certificate.subject.rfc4514_string() == f"CN=Clearooms booking {data.APP_ID}"
    kept = KeyringSecretStore().load_certificate(data.INITIAL_DOMAIN, data.APP_ID)
    assert kept is not None
    credential = credential_from_keyring_text(kept)
    with Workspace(tmp_path / "workspace.sqlite3") as workspace:
        saved = workspace.load_connection()
    assert saved is not None and saved.credential_kind == "certificate"
    assert saved.certificate_thumbprint == credential.sha1_thumbprint
    assert saved.last_tested_at is None

    # Not uploaded yet: Microsoft does not know the certificate.
    runs.append(_cli("check", "--json", *connect))
    code, out, _ = runs[-1]
    checks = {c["id"]: c for c in json.loads(out)["checks"]}
    assert code == 1 and checks["token"]["code"] == "AADSTS700027"
    assert "upload the .cer file" in checks["token"]["fix"]

    _upload_by_hand(served, cer)
    runs.append(_cli("check", "--json", "--save", *connect))
    code, out, _ = runs[-1]
    report = json.loads(out)
    assert code == 0 and report["ok"], out
    checks = {c["id"]: c for c in report["checks"]}
    assert "signs in with a certificate" in checks["format"]["detail"]
    # The report names the certificate by its public facts, as support needs.
    assert report["certificate"]["sha1_thumbprint"] == credential.sha1_thumbprint.upper()
    assert report["client_secret"]["entered"] is False
    assert checks["secret_expiry"]["status"] == "pass"
    assert "The certificate expires on" in checks["secret_expiry"]["detail"]
    assert "certificate's key is in this computer's keyring" in report["saved"]
    # Saved under the tenant's GUID now; no option needed to find it again.
    assert (SERVICE, f"{data.TENANT_ID}/{data.APP_ID}/certificate") in MemoryKeyring.store
    runs.append(_cli("check", *served.cli_args()))
    code, out, err = runs[-1]
    assert code == 0, out + err
    assert "All checks passed" in out and "Give the missing values" not in out

    # The key leaves only on request, wrapped with a passphrase.
    pfx = tmp_path / "backup.pfx"
    runs.append(
        _cli(
            "certificate", "export-key", "--output", str(pfx), "--passphrase-stdin",
            *served.cli_args(), stdin="a long passphrase here\n",
        )
    )  # fmt: skip
    assert runs[-1][0] == 0, runs[-1][2]
    assert pfx.stat().st_mode & 0o077 == 0
    refused = _cli(
        "certificate", "export-key", "--output", str(tmp_path / "weak.pfx"),
        "--passphrase-stdin", *served.cli_args(), stdin="short\n",
    )  # fmt: skip
    assert refused[0] == 2 and not (tmp_path / "weak.pfx").exists()

    leaks = Leaks(private_keys=[credential.private_key_pem])
    files = leaks.search_tree(tmp_path, "tmp")
    assert files >= 4
    for index, (_, out, err) in enumerate(runs):
        leaks.search_text(f"stdout {index}", out)
        leaks.search_text(f"stderr {index}", err)
    leaks.search_text("every log record", caplog.text)
    assert leaks.found == []


def test_create_refuses_bad_months_and_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "x.cer"
    target.write_bytes(b"kept")
    ids = ["--tenant", data.TENANT_ID, "--client-id", data.APP_ID]
    for months in ("0", "25", "twelve"):
        code, _, err = _cli("certificate", "create", "--months", months, *ids)
        assert code == 2 and "months" in err
    code, _, err = _cli("certificate", "create", "--output", str(target), *ids)
    assert code == 2 and "already exists" in err
    assert target.read_bytes() == b"kept"


def test_register_with_a_certificate_in_its_own_process(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    done = run_register(tmp_path, served, "--certificate")
    assert done.returncode == 0, done.stderr
    assert "Certificate:    lasts 24 months, no client secret" in done.stdout
    assert "Its certificate lasts until" in done.stdout
    assert "All set: the connection works." in done.stdout
    [app] = clearooms_apps(served)
    assert app.secrets == () and len(app.key_credentials) == 1
    _no_key_anywhere(done, tmp_path)


def test_a_tenant_that_forbids_secrets_gets_a_certificate_and_is_told(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secrets-forbidden")
    done = run_register(tmp_path, served, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["app"]["credential"] == "certificate"
    assert "does not allow client secrets" in report["app"]["credential_reason"]
    assert "does not allow client secrets" in done.stderr  # the step's own line
    [app] = clearooms_apps(served)
    assert app.secrets == () and len(app.key_credentials) == 1
    assert all(c["status"] != "fail" for c in report["checks"])
    _no_key_anywhere(done, tmp_path)


def _no_key_anywhere(done: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    leaks = Leaks()
    leaks.search_text("stdout", done.stdout)
    leaks.search_text("stderr", done.stderr)
    assert leaks.search_tree(tmp_path, "tmp") >= 2
    assert leaks.found == []


def test_the_module_runs_as_a_script() -> None:
    found = subprocess.run(
        [sys.executable, "-m", "clearooms_wizard", "certificate", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0 and "export-key" in found.stdout
