"""``scope script``: the script for an Exchange administrator, from the demo tenant over loopback
HTTPS, to standard output or a file, never with the secret in it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from clearooms_wizard.demo import org
from tests.conftest import ServeDemo


def test_the_script_goes_to_standard_output(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    code, out, err = served.run_cli("scope", "script")
    assert code == EXIT_OK
    assert f"$ServicePrincipalId = '{org.SERVICE_PRINCIPAL_ID}'" in out
    assert f"$AppId = '{org.APP_ID}'" in out
    assert "New-ManagementRoleAssignment" in out and "Connect-ExchangeOnline" in out
    assert served.tenant.scenario.client_secret not in out + err
    assert "An Exchange administrator runs it" in err


def test_the_secret_never_reaches_the_script(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    secret = served.tenant.scenario.client_secret
    target = tmp_path / "limit.ps1"
    code, out, err = served.run_cli("scope", "script", "--output", str(target))
    assert code == EXIT_OK, err
    text = target.read_text(encoding="utf-8")
    assert f"$ServicePrincipalId = '{org.SERVICE_PRINCIPAL_ID}'" in text
    # Not even eight characters of it in a row.
    for start in range(len(secret) - 7):
        assert secret[start : start + 8] not in text + out + err
    assert f"Wrote the script to {target}." in err


def test_an_existing_file_is_kept_unless_force(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    target = tmp_path / "limit.ps1"
    target.write_text("mine", encoding="utf-8")
    code, _out, err = served.run_cli("scope", "script", "--output", str(target))
    assert code == EXIT_USAGE
    assert "already exists. Add --force" in err
    assert target.read_text(encoding="utf-8") == "mine"
    code, _out, err = served.run_cli("scope", "script", "--output", str(target), "--force")
    assert code == EXIT_OK, err
    assert "New-ManagementScope" in target.read_text(encoding="utf-8")


def test_a_folder_that_does_not_exist_fails_plainly(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    code, _out, err = served.run_cli("scope", "script", "--output", str(tmp_path / "no" / "x.ps1"))
    assert code == EXIT_FAILED
    assert "does not exist" in err


def test_values_it_cannot_read_are_left_to_fill_in(serve_demo: ServeDemo) -> None:
    served = serve_demo("no-consent")
    code, out, err = served.run_cli("scope", "script")
    assert code == EXIT_OK
    assert "$ServicePrincipalId = ''" in out and "# >>> FILL IN" in out
    assert "To fill in (marked FILL IN in the script): The app may not read" in err


def test_a_wrong_secret_fails_with_its_fix(serve_demo: ServeDemo) -> None:
    served = serve_demo("wrong-secret")
    code, out, err = served.run_cli("scope", "script")
    assert code == EXIT_FAILED
    assert out == "" and "What to do:" in err


def test_usage_errors() -> None:
    code = main(["scope"], stdout=io.StringIO(), stderr=(err := io.StringIO()))
    assert code == EXIT_USAGE and "clearooms-wizard scope script" in err.getvalue()
    with pytest.raises(SystemExit) as ended:
        main(["scope", "script", "--bogus"], stdout=io.StringIO(), stderr=io.StringIO())
    assert ended.value.code == EXIT_USAGE
    code = main(["scope", "script"], stdout=io.StringIO(), stderr=(err := io.StringIO()))
    assert code == EXIT_USAGE and "tenant" in err.getvalue().lower()
