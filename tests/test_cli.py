"""The command line, as support staff and scripts use it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from clearooms_wizard import __version__
from clearooms_wizard.cli import main
from clearooms_wizard.core.checks import CHECK_IDS
from clearooms_wizard.core.secrets import SERVICE
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.demo import data
from tests.conftest import ServeDemo
from tests.support.memory_keyring import MemoryKeyring


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_check_demo_healthy_passes() -> None:
    code, out, _ = cli("check", "--demo")
    assert code == 0
    # The healthy tenant gives the app every mailbox's calendar: mailbox_scope warns.
    assert "All checks passed, with 1 warning." in out
    assert out.count("[PASS]") == 8
    assert out.count("[WARN]") == 1


def test_check_fail_within_lets_a_scheduled_task_notice_an_expiring_secret() -> None:
    # The demo's secret expires in 10 days: a warning, which alone exits 0.
    code, out, err = cli("check", "--demo-scenario", "secret-expiring")
    assert code == 0 and "[WARN] The client credential is not about to expire" in out
    code, _, err = cli("check", "--demo-scenario", "secret-expiring", "--fail-within", "30")
    assert code == 1
    assert "within 30 days" in err and "clearooms-wizard secret renew" in err
    code, _, err = cli("check", "--demo-scenario", "secret-expiring", "--fail-within", "5")
    assert code == 0 and err == ""
    # Whatever else warns (here, every mailbox's calendar), a far end date passes.
    code, _, _ = cli("check", "--demo", "--fail-within", "30")
    assert code == 0
    code, _, err = cli("check", "--demo", "--fail-within", "soon")
    assert code == 2 and "--fail-within: give a number of days" in err


def test_check_json_shape_and_exit_code_on_failure() -> None:
    code, out, _ = cli("check", "--demo-scenario", "wrong-secret", "--json")
    assert code == 1
    payload = json.loads(out)
    assert payload["ok"] is False
    assert payload["tenant_id"] == data.TENANT_ID
    assert [c["id"] for c in payload["checks"]] == list(CHECK_IDS)
    token = payload["checks"][2]
    assert set(token) >= {"id", "status", "title", "detail", "fix", "code"}
    assert token["status"] == "fail" and token["code"] == "AADSTS7000215"
    assert data.WRONG_SECRET not in out


def test_options_may_stand_before_the_command() -> None:
    code, out, _ = cli("--demo-scenario", "no-rooms", "check", "--json")
    assert code == 0
    assert json.loads(out)["checks"][4]["status"] == "warn"


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--client-secret", "Sup3r~Secret.Value"],
        ["check", "Sup3r~Secret.Value"],
        ["Sup3r~Secret.Value"],
        ["check", "--secret=Sup3r~Secret.Value"],
        ["check", "--demo=Sup3r~Secret.Value"],
        ["check", "--json=Sup3r~Secret.Value"],
        ["check", "--cloud", "Sup3r~Secret.Value"],
        ["rooms", "Sup3r~Secret.Value"],
    ],
)
def test_a_secret_given_as_an_argument_is_refused_and_never_echoed(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert "Sup3r~Secret.Value" not in captured.out + captured.err


def test_unknown_demo_scenario_is_a_usage_error() -> None:
    code, _, err = cli("check", "--demo-scenario", "nope")
    assert code == 2
    assert "--demo-scenario list" in err


def test_demo_scenarios_are_listed() -> None:
    code, out, _ = cli("--demo-scenario", "list")
    assert code == 0
    for name in ("healthy", "wrong-secret", "access-policy", "many-rooms", "slow-network"):
        assert name in out


def test_save_with_demo_is_refused() -> None:
    code, _, err = cli("check", "--demo", "--save")
    assert code == 2 and "--save cannot be used with --demo" in err


def test_bad_override_url_is_a_usage_error() -> None:
    code, _, err = cli("check", "--tenant", "contoso.com", "--graph-url", "http://graph.test")
    assert code == 2 and "https://" in err


def test_missing_ca_bundle_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = cli("check", "--ca-bundle", str(tmp_path / "nope.pem"))
    assert code == 2 and "does not exist" in err


def test_check_with_nothing_configured_says_what_to_enter() -> None:
    code, out, _ = cli("check")
    assert code == 1
    assert "Enter your tenant ID" in out and "Enter the client ID" in out
    assert "--tenant, --client-id and --secret-stdin" in out


def test_save_stores_secret_in_keyring_and_the_rest_in_the_workspace(
    serve_demo: ServeDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("healthy")
    scenario = served.tenant.scenario
    args = ["check", "--save", "--tenant", scenario.tenant, "--client-id", scenario.client_id]
    code, out, _ = cli(*args, "--secret-stdin", *served.cli_args(), stdin=scenario.client_secret)
    assert code == 0, out
    assert "Saved. The client secret is in this computer's keyring" in out
    account = f"{data.TENANT_ID}/{scenario.client_id}"
    assert MemoryKeyring.store[(SERVICE, account)] == scenario.client_secret
    workspace_file = Path(os.environ["CLEAROOMS_WORKSPACE"])
    with Workspace(workspace_file) as workspace:
        saved = workspace.load_connection()
    assert saved is not None and saved.tenant_id == data.TENANT_ID and saved.last_test_ok
    assert saved.graph_url == served.base_url
    assert scenario.client_secret.encode() not in workspace_file.read_bytes()

    # Next time, nothing needs to be given again except the CA bundle of this test server.
    code, out, _ = cli("check", "--ca-bundle", served.ca_bundle)
    assert code == 0, out


def test_save_without_a_keyring_says_so_and_keeps_the_rest(serve_demo: ServeDemo) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    served = serve_demo("healthy")
    scenario = served.tenant.scenario
    code, out, _ = cli(
        "check",
        "--save",
        "--tenant",
        scenario.tenant,
        "--client-id",
        scenario.client_id,
        "--secret-stdin",
        *served.cli_args(),
        stdin=scenario.client_secret,
    )
    assert code == 0
    assert "no secure password store" in out
    assert "CLEAROOMS_CLIENT_SECRET" in out
    workspace_file = Path(os.environ["CLEAROOMS_WORKSPACE"])
    assert scenario.client_secret.encode() not in workspace_file.read_bytes()


def test_failed_check_saves_nothing(serve_demo: ServeDemo) -> None:
    served = serve_demo("wrong-secret")
    scenario = served.tenant.scenario
    code, out, _ = cli(
        "check",
        "--save",
        "--tenant",
        scenario.tenant,
        "--client-id",
        scenario.client_id,
        "--secret-stdin",
        *served.cli_args(),
        stdin=scenario.client_secret,
    )
    assert code == 1
    assert "Not saved, because a check failed." in out
    assert not Path(os.environ["CLEAROOMS_WORKSPACE"]).exists()
    assert MemoryKeyring.store == {}


def test_environment_variables_supply_the_connection(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("healthy")
    scenario = served.tenant.scenario
    monkeypatch.setenv("CLEAROOMS_TENANT_ID", scenario.tenant)
    monkeypatch.setenv("CLEAROOMS_CLIENT_ID", scenario.client_id)
    monkeypatch.setenv("CLEAROOMS_CLIENT_SECRET", scenario.client_secret)
    monkeypatch.setenv("CLEAROOMS_AUTHORITY_HOST", served.base_url)
    monkeypatch.setenv("CLEAROOMS_GRAPH_URL", served.base_url)
    monkeypatch.setenv("CLEAROOMS_CA_BUNDLE", served.ca_bundle)
    code, out, _ = cli("check", "--json")
    assert code == 0, out


def test_rooms_list_json_and_csv() -> None:
    code, out, _ = cli("rooms", "list", "--demo", "--json")
    assert code == 0
    rooms = json.loads(out)
    assert len(rooms) == 24
    keys = {"email", "name", "capacity", "building", "floor_number", "floor_label", "room_lists"}
    assert all(keys <= set(room) for room in rooms)
    assert any(room["room_lists"] for room in rooms)

    code, out, _ = cli("rooms", "list", "--demo", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 24 and rows[0]["email"]


def test_rooms_list_failure_is_explained() -> None:
    code, _, err = cli("rooms", "list", "--demo-scenario", "no-consent")
    assert code == 1
    assert "What to do:" in err


def test_rooms_list_with_a_malformed_tenant_is_a_usage_error() -> None:
    code, _, err = cli("rooms", "list", "--demo", "--tenant", "../evil")
    assert code == 2 and "tenant ID looks like" in err


def test_csv_cells_cannot_run_as_formulas() -> None:
    from clearooms_wizard.cli.rooms import rooms_csv
    from clearooms_wizard.core.model import Room

    text = rooms_csv([Room(email="a@b.c", name='=HYPERLINK("http://x")')])
    assert "'=HYPERLINK" in text


def test_without_a_command_the_wizard_opens_with_the_options_given() -> None:
    from clearooms_wizard.runtime import ConnectionOptions

    opened: list[ConnectionOptions] = []

    def open_wizard(options: ConnectionOptions) -> int:
        opened.append(options)
        return 7

    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["--demo-scenario", "no-rooms", "--tenant", "contoso.com"],
        stdout=out,
        stderr=err,
        open_wizard=open_wizard,
    )
    assert code == 7 and out.getvalue() == err.getvalue() == ""
    (options,) = opened
    assert options.demo and options.demo_scenario == "no-rooms" and options.tenant == "contoso.com"


def test_an_unknown_demo_scenario_for_the_wizard_is_a_usage_error_not_a_traceback() -> None:
    from clearooms_wizard.runtime import ConnectionOptions

    opened: list[ConnectionOptions] = []

    def open_wizard(options: ConnectionOptions) -> int:
        opened.append(options)
        return 0

    out, err = io.StringIO(), io.StringIO()
    code = main(["--demo-scenario", "nope"], stdout=out, stderr=err, open_wizard=open_wizard)
    assert code == 2 and not opened
    assert "no demo scenario called “nope”" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_without_a_command_or_a_wizard_to_open_it_is_a_usage_error() -> None:
    code, out, err = cli("--demo")
    assert code == 2 and out == ""
    assert "Give a command (see --help)" in err


def test_console_script_runs_as_a_module() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "clearooms_wizard", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == f"clearooms-wizard {__version__}"
    check = subprocess.run(
        [sys.executable, "-m", "clearooms_wizard", "check", "--demo", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["ok"] is True


def _save_healthy(served: object) -> None:
    from tests.conftest import Served

    assert isinstance(served, Served)
    scenario = served.tenant.scenario
    code, out, _ = cli(
        "check",
        "--save",
        "--tenant",
        scenario.tenant,
        "--client-id",
        scenario.client_id,
        "--secret-stdin",
        *served.cli_args(),
        stdin=scenario.client_secret,
    )
    assert code == 0, out


def test_a_locked_keyring_is_explained_not_a_crash(serve_demo: ServeDemo) -> None:
    from tests.support.memory_keyring import LockedKeyring

    served = serve_demo("healthy")
    _save_healthy(served)
    keyring.set_keyring(LockedKeyring())
    code, out, err = cli("check", "--ca-bundle", served.ca_bundle)
    assert code == 1
    assert "Note: The secure password store (keyring)" in err and "unlock it" in err
    assert "refused to give back the saved client secret" in err and "--secret-stdin" in err
    assert "Traceback" not in err
    assert "Enter the client secret" in out


def test_a_keyring_backend_that_cannot_be_loaded_is_explained_not_a_crash(
    serve_demo: ServeDemo,
) -> None:
    # As a mistyped PYTHON_KEYRING_BACKEND does: keyring raises ModuleNotFoundError, not its own.
    served = serve_demo("healthy")
    _save_healthy(served)
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="no_such_module.Keyring")
    result = subprocess.run(
        [sys.executable, "-m", "clearooms_wizard", "check", "--ca-bundle", served.ca_bundle],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "refused to give back the saved client secret (ModuleNotFoundError)" in result.stderr


def test_choosing_another_cloud_drops_the_saved_addresses(serve_demo: ServeDemo) -> None:
    from clearooms_wizard.runtime import ConnectionOptions, build_runtime

    served = serve_demo("healthy")
    _save_healthy(served)
    saved = build_runtime(ConnectionOptions()).connection.cloud
    assert saved.authority_host == served.base_url
    usgov = build_runtime(ConnectionOptions(cloud="usgov")).connection.cloud
    assert usgov.authority_host == "https://login.microsoftonline.us"
    assert usgov.graph_root == "https://graph.microsoft.us"


def test_demo_throttling_is_waited_out_as_for_a_real_tenant() -> None:
    code, out, _ = cli("check", "--demo-scenario", "throttling", "--json")
    assert code == 0, out
    assert json.loads(out)["ok"] is True


def test_an_invalid_tenant_is_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEAROOMS_TENANT_ID", "Sup3r~Secret.Value/pasted")
    code, out, err = cli("check")
    assert code == 1
    assert "Sup3r~Secret.Value" not in out + err
    assert "(the tenant entered is not valid)" in out


def test_export_offers_exactly_the_exports_formats(capsys: pytest.CaptureFixture[str]) -> None:
    from clearooms_wizard.core.export import FORMATS

    with pytest.raises(SystemExit) as exited:
        cli("export", "--help")
    assert exited.value.code == 0
    assert f"--format {{{','.join(FORMATS)}}}" in capsys.readouterr().out
    for fmt in FORMATS:
        assert cli("export", "--demo", "--format", fmt)[0] == 0
    with pytest.raises(SystemExit) as exited:
        cli("export", "--demo", "--format", "xml")
    assert exited.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_secret_reminder_to_standard_output_is_a_calendar_file_with_crlf_lines() -> None:
    code, out, _ = cli("secret", "reminder", "--demo")
    assert code == 0
    lines = out.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    # No bare line feed, and no carriage return turned into a trailing space.
    assert "\n" not in out.replace("\r\n", "") and not any(line.endswith(" ") for line in lines)


def test_secret_reminder_says_plainly_why_it_cannot_write(tmp_path: Path) -> None:
    code, _, err = cli("secret", "reminder", "--demo-scenario", "expired-secret")
    assert code == 1
    assert "client secret has expired" in err and "secret renew" in err
    assert "AADSTS7000222" not in err and "aka.ms" not in err
    code, _, err = cli("secret", "reminder", "--demo", "--output", str(tmp_path / "no" / "r.ics"))
    assert code == 1 and "does not exist. Choose another place." in err
    target = tmp_path / "r.ics"
    target.write_text("mine")
    code, _, err = cli("secret", "reminder", "--demo", "--output", str(target))
    assert code == 2 and "Add --force to replace it" in err and target.read_text() == "mine"
    code, _, _ = cli("secret", "reminder", "--demo", "--output", str(target), "--force")
    assert code == 0 and target.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")


def test_a_demo_renewal_never_claims_the_keyring() -> None:
    code, out, err = cli("secret", "renew", "--demo-scenario", "secret-expiring", "--yes")
    assert code == 0, err
    said = out + err
    assert "Saved in this computer's keyring" not in said
    assert "Kept in the demo's memory" in said
