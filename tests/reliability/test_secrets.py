"""The secret never leaks: a canary secret and the canary tokens through every command and the
whole wizard, healthy and failing, with debug logging on; then every place they could end up is
searched. Also: never a process argument, and certificates are always checked.
"""

from __future__ import annotations

import io
import logging
import os
import re
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

import clearooms_wizard
from clearooms_wizard.cli import main
from clearooms_wizard.core.checks import CheckResult, SettingsTest, Status
from clearooms_wizard.core.report import support_report
from clearooms_wizard.core.secrets import SERVICE
from clearooms_wizard.core.values import ConnectionInput
from clearooms_wizard.demo import Fault, data
from clearooms_wizard.demo import registry as registry_module
from clearooms_wizard.runtime import open_session_factory
from tests.conftest import TLS, Served, ServeDemo
from tests.reliability.conftest import CanaryDemo, ServeHooked
from tests.support.canary import (
    CANARY_RENEWED_SECRET,
    CANARY_SECRET,
    ExceptionCollector,
    Leaks,
    record,
)
from tests.support.memory_keyring import MemoryKeyring
from tests.support.reliability import ENDPOINTS, REPORT, HookedTenant
from tests.support.scripted_browser import ScriptedBrowser, registered

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    argv: list[str]
    code: int | str
    out: str
    err: str


@dataclass
class Commands:
    """The command line run in this process, every output kept for the search."""

    runs: list[Run] = field(default_factory=list)

    def __call__(self, *argv: str, stdin: str = "") -> Run:
        out, err = io.StringIO(), io.StringIO()
        try:
            code: int | str = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else str(exc.code)
        run = Run(list(argv), code, out.getvalue(), err.getvalue())
        self.runs.append(run)
        return run


def test_the_canary_through_every_command(
    serve_hooked: ServeHooked,
    canary_demo: CanaryDemo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    healthy = serve_hooked("healthy")
    # Tenants whose app does not take the canary, or where something in between misbehaves.
    wrong = canary_demo.refusing()
    proxy = serve_hooked("healthy")
    proxy.tenant.inject(Fault(ENDPOINTS["token"], "html", times=None))
    flaky = serve_hooked("healthy")
    flaky.tenant.inject(Fault(ENDPOINTS["calendar probe"], "reset", times=None))
    exports = tmp_path / "exports"
    exports.mkdir()
    run = Commands()
    debug = ["--log-level", "debug"]

    def connect(served: Served) -> list[str]:
        scenario = served.tenant.scenario
        return [
            "--tenant",
            scenario.tenant,
            "--client-id",
            scenario.client_id,
            *served.cli_args(),
            *debug,
        ]

    secret = CANARY_SECRET + "\n"
    with ExceptionCollector() as collector:
        # Healthy: test, save (secret to the keyring), then use the saved settings.
        for extra in ([], ["--json"], ["--save"]):
            assert run("check", *extra, *connect(healthy), "--secret-stdin", stdin=secret).code == 0
        for extra in ([], ["--json"], ["--csv"]):
            assert run("rooms", "list", *extra, *connect(healthy)).code == 0
        assert run("offices", "suggest", "--json", *connect(healthy)).code == 0
        assert run("offices", "add", "London HQ", *debug).code == 0
        importing = ["rooms", "import", "--office", "London HQ", "--all", *connect(healthy)]
        assert run(*importing, "--dry-run").code == 0
        assert run(*importing, "--json").code == 0
        assert run("offices", "list", "--json", *debug).code == 0
        assert run("export", *debug).code == 0
        for fmt in ("json", "csv"):
            target = str(exports / f"rooms.{fmt}")
            assert run("export", "--format", fmt, "--output", target, *debug).code == 0
        # The secret from the environment instead.
        monkeypatch.setenv("CLEAROOMS_CLIENT_SECRET", CANARY_SECRET)
        assert run("check", *connect(healthy)).code == 0
        monkeypatch.delenv("CLEAROOMS_CLIENT_SECRET")
        # Failing: a secret Microsoft does not accept, a proxy page, a network cut mid-import.
        for served in (wrong, proxy):
            for extra in ([], ["--json"]):
                assert (
                    run("check", *extra, *connect(served), "--secret-stdin", stdin=secret).code == 1
                )
            assert run("rooms", "list", *connect(served), "--secret-stdin", stdin=secret).code == 1
            assert run(*importing[:5], *connect(served), "--secret-stdin", stdin=secret).code == 1
        assert run(*importing[:5], *connect(flaky), "--secret-stdin", stdin=secret).code == 1
        # The built-in demo tenant, which takes the canary too.
        demo = ["--demo", *debug, "--secret-stdin"]
        assert run("check", "--json", *demo, stdin=secret).code == 0
        assert run("rooms", "list", *demo, stdin=secret).code == 0
        assert run("offices", "add", "Demo office", "--demo", *debug).code == 0
        assert (
            run("rooms", "import", "--office", "Demo office", "--all", *demo, stdin=secret).code
            == 0
        )
        assert run("export", "--demo", "--format", "csv", *debug).code == 0
        # The secret where it must never go: refused, and never echoed.
        for argv in (
            ["check", "--client-secret", CANARY_SECRET],
            ["check", "--secret", CANARY_SECRET],
            ["check", f"--secret={CANARY_SECRET}"],
            ["check", CANARY_SECRET],
            ["rooms", "list", f"--client-secret={CANARY_SECRET}"],
            ["check", "--secret-stdin", CANARY_SECRET],
        ):
            assert run(*argv, stdin=secret).code == 2
    assert MemoryKeyring.store[(SERVICE, f"{data.TENANT_ID}/{data.APP_ID}")] == CANARY_SECRET
    crashed = [r.argv for r in run.runs if "Traceback" in r.err]
    assert not crashed, crashed

    leaks = Leaks(tokens=canary_demo.tokens(healthy, wrong, proxy, flaky))
    assert leaks.tokens, "no token was issued: the canary token was never exercised"
    files = leaks.search_tree(
        tmp_path, "tmp (XDG config, data, cache and log folders, workspaces, exports)"
    )
    for index, done in enumerate(run.runs):
        leaks.search_text(f"stdout of command {index}", done.out)
        leaks.search_text(f"stderr of command {index}", done.err)
    leaks.search_text("every log record (debug)", caplog.text)
    errors = leaks.search_exceptions("an exception", collector.errors)
    record("every command (CLI)", leaks, files, 2 * len(run.runs) + 1, errors)
    assert files >= 5 and errors > 0
    assert leaks.found == [], sorted(set(leaks.found))[:20]


def test_the_canary_through_renewing_the_secret(
    serve_hooked: ServeHooked,
    canary_demo: CanaryDemo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``secret status``, ``secret renew`` (interrupted, then finished) and ``secret reminder``
    with debug logging: neither the old secret, the renewed one, nor any token (the
    administrator's too) reaches an output, a log record, a file or an exception."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(registry_module, "new_secret_text", lambda: CANARY_RENEWED_SECRET)
    served = serve_hooked("secret-expiring")
    run = Commands()
    scenario = served.tenant.scenario
    connect = ["--tenant", scenario.tenant, "--client-id", scenario.client_id]
    connect += [*served.cli_args(), "--log-level", "debug"]
    secret = CANARY_SECRET + "\n"
    with ExceptionCollector() as collector, registered(ScriptedBrowser(served.ca_bundle)):
        assert run("check", "--save", *connect, "--secret-stdin", stdin=secret).code == 0
        assert run("secret", "status", "--json", *connect).code == 0
        # Microsoft refuses to remove the old secret once: the run fails after saving the new.
        refusal = Fault.graph(
            r"/removePassword$", status=403, code="Authorization_RequestDenied",
            message="Insufficient privileges to complete the operation.",
        )  # fmt: skip
        served.tenant.inject(refusal)
        assert run("secret", "renew", "--yes", *connect).code == 1
        served.tenant.clear_faults()
        assert "stopped before it finished" in run("secret", "status", *connect).out
        finished = run("secret", "renew", "--yes", "--json", *connect)
        assert finished.code == 0 and '"outcome": "finished-earlier"' in finished.out
        assert run("secret", "reminder", "--output", str(tmp_path / "reminder"), *connect).code == 0
        assert run("check", "--json", *connect).code == 0
    saved = MemoryKeyring.store[(SERVICE, f"{data.TENANT_ID}/{data.APP_ID}")]
    assert saved == CANARY_RENEWED_SECRET
    crashed = [r.argv for r in run.runs if "Traceback" in r.err]
    assert not crashed, crashed
    tokens = canary_demo.tokens(served)
    assert tokens
    for found in (CANARY_SECRET, CANARY_RENEWED_SECRET):
        leaks = Leaks(secret=found, tokens=tokens)
        files = leaks.search_tree(tmp_path, "tmp (log, workspace, reminder)")
        for index, done in enumerate(run.runs):
            leaks.search_text(f"stdout of command {index}", done.out)
            leaks.search_text(f"stderr of command {index}", done.err)
        leaks.search_text("every log record (debug)", caplog.text)
        errors = leaks.search_exceptions("an exception", collector.errors)
        record("renewing the secret (CLI)", leaks, files, 2 * len(run.runs) + 1, errors)
        assert files >= 3
        assert leaks.found == [], sorted(set(leaks.found))[:20]


def test_the_secret_is_never_a_process_argument(tmp_path: Path) -> None:
    """The real command line, as a process: the secret goes in through standard input only,
    so /proc/<pid>/cmdline and /proc/<pid>/environ never hold it."""
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs /proc")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    seen: list[bytes] = []
    command = [
        sys.executable,
        "-m",
        "clearooms_wizard",
        "check",
        "--demo",
        "--secret-stdin",
        "--json",
        "--log-level",
        "debug",
    ]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        try:
            proc = Path(f"/proc/{process.pid}")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not seen:
                # Once it is the wizard (not still the fork of this test), while it waits for
                # the secret on standard input.
                cmdline = (proc / "cmdline").read_bytes()
                if b"clearooms_wizard" in cmdline:
                    seen += [cmdline, (proc / "environ").read_bytes()]
                time.sleep(0.01)
            assert process.stdin is not None and process.stdout and process.stderr
            process.stdin.write(CANARY_SECRET.encode() + b"\n")
            process.stdin.close()
            while process.poll() is None and time.monotonic() < deadline + 60:
                try:
                    seen.append((proc / "cmdline").read_bytes())
                except OSError:
                    break
                time.sleep(0.02)
            out, err = process.stdout.read(), process.stderr.read()
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    # The demo's app does not take the canary: a failing run, which is the one to search.
    assert process.returncode == 1, err
    leaks = Leaks()
    for index, blob in enumerate(seen):
        leaks.search_bytes(f"/proc/<pid> sample {index}", blob)
    leaks.search_bytes("stdout", out)
    leaks.search_bytes("stderr", err)
    files = leaks.search_tree(tmp_path, "tmp")
    record("process arguments (/proc)", leaks, files, len(seen) + 2, 0)
    assert len(seen) >= 2 and leaks.found == []


def test_the_report_shows_only_the_first_three_characters() -> None:
    from clearooms_wizard.core.clouds import CLOUDS

    connection = ConnectionInput(
        "contoso.onmicrosoft.com", data.APP_ID, f"  {CANARY_SECRET} ", cloud=CLOUDS["global"]
    )
    result = CheckResult("token", Status.FAIL, f"Microsoft echoed {CANARY_SECRET}")
    report = support_report(connection, [result])
    assert f"starts with “{CANARY_SECRET[:3]}” ({len(CANARY_SECRET)} characters)" in report
    leaks = Leaks()
    leaks.search_text("support report", report)
    assert leaks.found == [], sorted(set(leaks.found))[:20]


# -- certificates ---------------------------------------------------------------------------------

_INSECURE = [
    r"verify\s*=\s*False",
    r"CERT_NONE",
    r"check_hostname\s*=\s*False",
    r"_create_unverified_context",
    r"_create_default_https_context",
    r"disable_warnings",
    r"InsecureRequestWarning",
    r"assert_hostname\s*=\s*False",
    r"cert_reqs\s*=",
    r"verify_mode\s*=",
    r"PYTHONHTTPSVERIFY",
    r"REQUESTS_CA_BUNDLE\s*\]?\s*=",
]


def test_no_code_path_turns_certificate_checks_off() -> None:
    package = Path(clearooms_wizard.__file__).resolve().parent
    scanned, found = 0, []
    for path in sorted(package.rglob("*.py")):
        scanned += 1
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            found += [
                f"{path.relative_to(package)}:{number}: {line.strip()}"
                for pattern in _INSECURE
                if re.search(pattern, code)
            ]
    REPORT.add(
        "TLS",
        [
            f"source files scanned for ways to turn certificate checks off: {scanned}; "
            f"found: {len(found)}"
        ],
    )
    assert scanned > 20 and found == [], found


@dataclass(frozen=True)
class Certificates:
    other_ca_bundle: str
    untrusted: ssl.SSLContext  # 127.0.0.1, from a CA this computer does not trust
    wrong_name: ssl.SSLContext  # from the trusted test CA, but for another host name


@pytest.fixture(scope="module")
def certificates(tls: TLS, tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("certs")
    other = trustme.CA()
    untrusted = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.issue_cert("127.0.0.1", "localhost").configure_cert(untrusted)
    bundle = folder / "other-ca.pem"
    other.cert_pem.write_to_path(str(bundle))
    # A CA we do trust (passed with --ca-bundle), issuing for a name that is not this server's.
    trusted = trustme.CA()
    wrong_name = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trusted.issue_cert("login.microsoftonline.com").configure_cert(wrong_name)
    trusted_bundle = folder / "trusted-ca.pem"
    trusted.cert_pem.write_to_path(str(trusted_bundle))
    return Certificates(str(trusted_bundle), untrusted, wrong_name)


@pytest.mark.parametrize(
    "case", ["untrusted CA", "untrusted CA in REQUESTS_CA_BUNDLE", "name does not match"]
)
def test_a_certificate_that_is_not_trusted_is_refused(
    case: str,
    serve_hooked: ServeHooked,
    certificates: Certificates,
    tls: TLS,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    tenant = HookedTenant("healthy")
    ca_bundle = tls.ca_bundle
    if case == "name does not match":
        served = serve_hooked.serve(tenant, certificates.wrong_name)
        ca_bundle = certificates.other_ca_bundle
    else:
        served = serve_hooked.serve(tenant, certificates.untrusted)
    if "REQUESTS_CA_BUNDLE" in case:
        # Both point at a bundle that would trust the server: the product must ignore them.
        other = tmp_path / "trusts-the-server.pem"
        other.write_bytes(Path(ca_bundle).read_bytes())
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
        monkeypatch.setenv("CURL_CA_BUNDLE", str(other))
    test = SettingsTest(served.connection(), open_session_factory(ca_bundle))
    results = {r.id: r for r in test.run()}
    tenant_check = results["tenant"]
    assert tenant_check.status is Status.FAIL and tenant_check.code == "network:tls"
    assert tenant_check.fix and "Never turn certificate checks off" in tenant_check.fix
    assert tenant.received == [], "a request was answered over a connection not trusted"
    REPORT.count("TLS: untrusted certificates refused")
    # The same tenant behind a certificate that is trusted answers: it was the certificate.
    control = serve_hooked.serve(tenant)
    test = SettingsTest(control.connection(), open_session_factory(tls.ca_bundle))
    assert {r.id: r for r in test.run()}["tenant"].status is Status.PASS


def test_the_private_key_through_every_certificate_command(
    serve_demo: ServeDemo,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A certificate's private key, like the secret: made, kept, used, renewed and exported by
    every command that touches it, healthy and failing, with debug logging on; then searched
    for (the key made first, and the one its renewal made)."""
    from clearooms_wizard.core.certificates import credential_from_keyring_text
    from clearooms_wizard.core.secrets import KeyringSecretStore
    from clearooms_wizard.demo.key_credentials import demo_certificate, key_credential_for

    caplog.set_level(logging.DEBUG)
    served = serve_demo("healthy")
    run = Commands()
    debug = ["--log-level", "debug"]
    connect = ["--tenant", data.INITIAL_DOMAIN, "--client-id", data.APP_ID, *served.cli_args()]
    cer = tmp_path / "exports" / "clearooms.cer"
    cer.parent.mkdir()
    with ExceptionCollector() as collector, registered(ScriptedBrowser(served.ca_bundle)):
        assert run("certificate", "create", "--output", str(cer), *connect, *debug).code == 0
        # Not uploaded yet: refused by Microsoft (AADSTS700027), in every output form.
        for extra in ([], ["--json"]):
            assert run("check", *extra, *connect, *debug).code == 1
        assert run("rooms", "list", *connect, *debug).code == 1
        uploaded = key_credential_for(
            cer.read_bytes(), "3f2d9c1e-5a4b-4c3d-8e7f-6a5b4c3d2e1f", None
        )
        served.tenant.registry.set_key_credentials(data.APP_OBJECT_ID, [uploaded])
        assert run("check", "--json", "--save", *connect, *debug).code == 0
        first = KeyringSecretStore().load_certificate(data.TENANT_ID, data.APP_ID)
        assert first is not None
        # Renewed (an administrator signs in): a new key replaces the first, which is removed.
        renewing = ["secret", "renew", "--yes", *served.cli_args(), *debug]
        assert run(*renewing, "--certificate").code == 0
        assert run("secret", "status", "--json", *served.cli_args(), *debug).code == 0
        assert run("secret", "reminder", *served.cli_args(), *debug).code == 0
        assert run(*renewing, "--certificate", "--show-secret").code == 2
        for extra in ([], ["--json"], ["--csv"]):
            assert run("rooms", "list", *extra, *served.cli_args(), *debug).code == 0
        assert run("scope", "script", *served.cli_args(), *debug).code == 0
        pfx = str(tmp_path / "exports" / "backup.pfx")
        exporting = ["certificate", "export-key", "--output", pfx, "--passphrase-stdin"]
        assert run(*exporting, *served.cli_args(), *debug, stdin="short\n").code == 2
        assert run(*exporting, *served.cli_args(), *debug, stdin="a long passphrase\n").code == 0
        # The demo tenant's certificate scenario too.
        demo = ["--demo-scenario", "certificate", *debug]
        assert run("check", "--json", *demo).code == 0
        assert run("rooms", "list", *demo).code == 0
    crashed = [r.argv for r in run.runs if "Traceback" in r.err]
    assert not crashed, crashed
    kept = KeyringSecretStore().load_certificate(data.TENANT_ID, data.APP_ID)
    assert kept is not None
    assert kept != first
    keys = [
        credential_from_keyring_text(first).private_key_pem,
        credential_from_keyring_text(kept).private_key_pem,
        demo_certificate(300.0).private_key_pem,
    ]
    leaks = Leaks(private_keys=keys)
    files = leaks.search_tree(tmp_path, "tmp (XDG folders, workspace, .cer, .pfx)")
    for index, done in enumerate(run.runs):
        leaks.search_text(f"stdout of command {index}", done.out)
        leaks.search_text(f"stderr of command {index}", done.err)
    leaks.search_text("every log record (debug)", caplog.text)
    errors = leaks.search_exceptions("an exception", collector.errors)
    record("certificate commands (CLI)", leaks, files, 2 * len(run.runs) + 1, errors)
    assert files >= 4 and errors > 0
    assert leaks.found == [], sorted(set(leaks.found))[:20]
