"""``register`` in-process, against the demo tenant over loopback HTTPS: an administrator signs
in through a scripted browser (Python's webbrowser, as the product uses it) and the command
creates, reuses, stops half-way, undoes, or only plans."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import requests

from clearooms_wizard.cli import main
from clearooms_wizard.core.app_setup import APP_UNIQUE_NAME, StepId
from clearooms_wizard.core.checks import CHECK_IDS
from clearooms_wizard.core.logs import default_log_path
from clearooms_wizard.core.secrets import SERVICE
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.demo import data
from clearooms_wizard.demo.registry import Application
from clearooms_wizard.demo.tenant import Fault
from tests.conftest import Served, ServeDemo
from tests.support.canary import Leaks
from tests.support.memory_keyring import MemoryKeyring
from tests.support.scripted_browser import ScriptedBrowser, registered


def register(
    served: Served, *words: str, sign_in_as: str | None = None, finish: bool = True
) -> tuple[int, str, str, ScriptedBrowser]:
    browser = ScriptedBrowser(served.ca_bundle, sign_in_as=sign_in_as, finish=finish)
    out, err = io.StringIO(), io.StringIO()
    with registered(browser):
        code = main(
            ["register", *words, *served.cli_args()],
            stdin=io.StringIO(""),
            stdout=out,
            stderr=err,
        )
    return code, out.getvalue(), err.getvalue(), browser


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def clearooms_apps(served: Served) -> list[Application]:
    return [a for a in served.tenant.registry.applications() if a.unique_name == APP_UNIQUE_NAME]


def graph_changes(served: Served) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for r in served.tenant.request_log()
        if r.is_graph and r.method in ("POST", "PATCH", "PUT", "DELETE")
    ]


def test_a_global_administrator_sets_everything_up_and_the_secret_is_never_shown(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    code, out, err, browser = register(served, "--all-mailboxes")
    assert code == 0, out + err
    # Microsoft's page, named as it will show, then the review, steps, Test Settings, saved.
    assert "“Microsoft Azure CLI”" in err and browser.opened
    assert "Signed in as:   Alex Wilber <alex.wilber@northwind-demo.com>, Global Administrator" in (
        out
    )
    assert f"Organisation:   {data.TENANT_DISPLAY_NAME} (tenant ID {data.TENANT_ID})" in out
    assert "No Clearooms app was found, so a new one is created." in out
    for step in ("Creating the app", "Creating its client secret", "Granting its permissions"):
        assert f"[DONE] {step}" in err
    # Every check passes but mailbox_scope: the new app reaches every mailbox's calendar.
    assert out.count("[PASS]") == len(CHECK_IDS) - 1 and out.count("[WARN]") == 1
    assert "All set: the connection works. Saved. The client secret is in this computer's" in out
    [app] = clearooms_apps(served)
    [secret] = app.secrets
    with Workspace(Path(str(tmp_path / "workspace.sqlite3"))) as workspace:
        saved = workspace.load_connection()
    assert saved is not None and saved.client_id == app.app_id
    assert saved.tenant_id == data.TENANT_ID and saved.last_test_ok
    assert secret.text in MemoryKeyring.store.values()
    # The canary: the new secret is nowhere it could leak from.
    leaks = Leaks(secret=secret.text)
    leaks.search_text("stdout", out)
    leaks.search_text("stderr", err)
    assert default_log_path().is_file()
    assert leaks.search_tree(tmp_path, "tmp") >= 2  # the log and the workspace at least
    assert leaks.found == []


def test_a_dry_run_signs_in_and_plans_but_creates_nothing(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    code, out, err, _ = register(served, "--dry-run", "--secret-months", "12")
    assert code == 0, err
    assert "Client secret:  lasts 12 months" in out
    assert "Dry run: nothing was created." in out
    assert "[DONE]" not in err and "[PASS]" not in out
    assert graph_changes(served) == []
    assert clearooms_apps(served) == []


def test_an_application_administrator_gets_the_approval_link_and_exit_code_0(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("register-app-admin")
    code, out, err, _ = register(served, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["ok"] is True and payload["outcome"] == "needs-approval"
    assert payload["review"]["needs_global_admin_approval"] is True
    assert payload["review"]["account"]["roles"] == ["Application Administrator"]
    [app] = clearooms_apps(served)
    assert payload["app"]["client_id"] == app.app_id
    assert payload["app"]["permissions_granted"] is False
    url = payload["consent_url"]
    assert f"/{data.TENANT_ID}/v2.0/adminconsent?" in url and f"client_id={app.app_id}" in url
    states = {s["step"]: s["state"] for s in payload["steps"]}
    assert states[StepId.GRANT_PERMISSIONS] == "needs-approval"
    assert "checks" not in payload
    assert payload["saved"].startswith("Kept until approved")
    # The human words, on standard error with --json, say what to do next.
    assert "send them this link" in err and url in err
    assert "run “clearooms-wizard check --save”" in err

    # The values wait on this computer, untested: the secret in the keyring, never the file.
    workspace_file = Path(os.environ["CLEAROOMS_WORKSPACE"])
    with Workspace(workspace_file) as workspace:
        kept = workspace.load_connection()
    assert kept is not None and kept.client_id == app.app_id and kept.last_test_ok is None
    secret = MemoryKeyring.store[(SERVICE, f"{data.TENANT_ID}/{app.app_id}")]
    assert secret.encode() not in workspace_file.read_bytes()

    # Before approval the saved values sign in but read nothing; after it, check --save passes.
    code, out, _ = cli("check", "--ca-bundle", served.ca_bundle)
    assert code == 1, out
    answer = requests.get(url, verify=served.ca_bundle, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "admin_consent=True" in answer.headers["Location"]
    code, out, _ = cli("check", "--save", "--ca-bundle", served.ca_bundle)
    assert code == 0, out
    with Workspace(workspace_file) as workspace:
        ready = workspace.load_connection()
    assert ready is not None and ready.client_id == app.app_id and ready.last_test_ok


def test_without_rights_nothing_is_created_and_it_says_so_plainly(serve_demo: ServeDemo) -> None:
    served = serve_demo("register-no-rights")
    code, out, err, _ = register(served)
    assert code == 1
    assert "Adele Vance <adele.vance@northwind-demo.com>, no administrator role" in out
    assert "may refuse to create the app" in out
    assert "It stopped at “Creating the app”." in err
    assert "does not let adele.vance@northwind-demo.com register apps" in err
    assert "Nothing was created." in err
    assert "Traceback" not in err
    assert clearooms_apps(served) == []


def test_an_existing_app_is_reused_never_doubled(serve_demo: ServeDemo) -> None:
    served = serve_demo("register-existing-app")
    [before] = clearooms_apps(served)
    code, out, err, _ = register(served, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["review"]["existing_app"]["client_id"] == before.app_id
    assert payload["app"]["reused"] is True
    [after] = clearooms_apps(served)
    assert after.id == before.id and len(after.secrets) == len(before.secrets) + 1
    # And once more: still the one app.
    code, _, err, _ = register(served)
    assert code == 0, err
    assert [a.id for a in clearooms_apps(served)] == [before.id]


def test_the_json_document_has_the_review_steps_and_outcome_without_the_secret(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("healthy")
    code, out, err, _ = register(
        served, "--json", "--all-mailboxes", "--app-name", "Rooms for Clearooms"
    )
    assert code == 0, err
    payload = json.loads(out)  # one document, nothing else on standard output
    assert list(payload)[:2] == ["ok", "outcome"] and payload["outcome"] == "done"
    review = payload["review"]
    assert review["organisation"] == {"name": data.TENANT_DISPLAY_NAME, "tenant_id": data.TENANT_ID}
    assert review["app_name"] == "Rooms for Clearooms" and review["secret_months"] == 24
    assert [p["name"] for p in review["permissions"]] == [
        "Directory.Read.All",
        "Calendars.ReadWrite",
        "Place.Read.All",
    ]
    assert review["existing_app"] is None and review["needs_global_admin_approval"] is False
    assert [s["step"] for s in payload["steps"]] == [s.value for s in StepId]
    assert {s["state"] for s in payload["steps"]} == {"done"}
    assert [c["id"] for c in payload["checks"]] == list(CHECK_IDS)
    [app] = clearooms_apps(served)
    assert app.display_name == "Rooms for Clearooms"
    assert payload["app"]["client_id"] == app.app_id
    assert "client_secret" not in payload
    assert app.secrets[0].text not in out + err
    # No step lines or review on standard error with --json: only the sign-in's words.
    assert "[DONE]" not in err


def test_show_secret_prints_it_exactly_once_and_labelled(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    code, out, err, _ = register(served, "--show-secret")
    assert code == 0, err
    [app] = clearooms_apps(served)
    secret = app.secrets[0].text
    assert out.count(secret) == 1 and secret not in err
    before = out[: out.index(secret)].rsplit("\n", 2)[-2]
    assert before.startswith("Client secret (shown this once because you asked")
    leaks = Leaks(secret=secret)
    leaks.search_tree(tmp_path, "tmp")
    assert leaks.found == []


def test_show_secret_with_json_puts_it_in_the_document_once(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    code, out, err, _ = register(served, "--show-secret", "--json")
    assert code == 0, err
    [app] = clearooms_apps(served)
    secret = app.secrets[0].text
    assert json.loads(out)["client_secret"] == secret
    assert out.count(secret) == 1 and secret not in err


def test_a_failure_half_way_says_what_was_created_and_undo_removes_it(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("healthy")
    # Microsoft refuses the secret for a reason no retry helps with.
    served.tenant.inject(
        Fault(
            r"/addPassword$",
            status=400,
            body={"error": {"code": "Request_BadRequest", "message": "Something went wrong."}},
        )
    )
    code, out, err, _ = register(served)
    assert code == 1
    assert "It stopped at “Creating its client secret”." in err
    [app] = clearooms_apps(served)
    assert "Created so far" in err and app.id in err
    assert "clearooms-wizard register --undo" in err
    # Run again: it carries on from the journal, with the same app.
    code, out, err, _ = register(served)
    assert code == 1
    assert "An earlier run stopped half-way: this one carries on from it" in out
    assert [a.id for a in clearooms_apps(served)] == [app.id]
    code, out, err, _ = register(served, "--undo", "--dry-run")
    assert code == 0 and app.id in out and "Dry run: nothing was removed." in out
    assert clearooms_apps(served) != []
    code, out, err, _ = register(served, "--undo")
    assert code == 0, err
    assert "to remove what the unfinished run created" in err
    assert "Removed what the unfinished run created." in out
    assert clearooms_apps(served) == []
    code, out, _, _ = register(served, "--undo")
    assert code == 0 and "Nothing to undo" in out


def test_a_sign_in_cancelled_in_the_browser_is_plain_and_creates_nothing(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("register-cancelled")
    code, out, err, _ = register(served, "--json")
    assert code == 1
    payload = json.loads(out)
    assert payload["outcome"] == "failed" and payload["review"] is None
    assert "cancelled" in payload["error"]
    assert "Nothing was created." in err
    assert graph_changes(served) == []


def test_device_code_prints_the_address_and_code_on_standard_error(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("healthy")
    served.tenant.sign_in.device_approval_delay = 0.0
    code, out, err, browser = register(served, "--device-code")
    assert code == 0, err
    assert browser.opened == []
    assert f"{served.base_url}/common/oauth2/deviceauth on any device and enter the code" in err
    assert "deviceauth" not in out
    assert "All set: the connection works." in out


@pytest.mark.parametrize("months", ["3", "18"])
def test_the_secret_lasts_as_long_as_asked(serve_demo: ServeDemo, months: str) -> None:
    served = serve_demo("healthy")
    code, out, err, _ = register(served, "--json", "--secret-months", months)
    assert code == 0, err
    assert json.loads(out)["review"]["secret_months"] == int(months)
    [app] = clearooms_apps(served)
    [secret] = app.secrets
    days = (secret.end - secret.start).days
    assert int(months) * 28 <= days <= int(months) * 31 + 1


# What each rehearsal of "Set it up for me" ends in on the command line: exit code, outcome,
# and whether a Clearooms app exists afterwards.
EVERY_SCENARIO = {
    "healthy": (0, "done", True),
    "register-app-admin": (0, "needs-approval", True),
    "register-no-rights": (1, "failed", False),
    "register-existing-app": (0, "done", True),
    # The policy forbids secrets: the app gets a certificate instead.
    "register-no-secrets": (0, "done", True),
    "register-short-secrets": (0, "done", True),
    "register-cancelled": (1, "failed", False),
    "register-slow-replication": (0, "done", True),
}


def test_every_registration_scenario_is_covered_here() -> None:
    from clearooms_wizard.demo import SCENARIO_NAMES

    assert {n for n in SCENARIO_NAMES if n.startswith("register-")} | {"healthy"} == set(
        EVERY_SCENARIO
    )


@pytest.mark.parametrize("scenario", sorted(EVERY_SCENARIO))
def test_each_scenario_ends_plainly_with_its_exit_code_and_no_secret_shown(
    serve_demo: ServeDemo, scenario: str
) -> None:
    expected_code, expected_outcome, app_exists = EVERY_SCENARIO[scenario]
    served = serve_demo(scenario)
    code, out, err, _ = register(served, "--json")
    payload = json.loads(out)
    assert (code, payload["outcome"]) == (expected_code, expected_outcome), err
    assert bool(clearooms_apps(served)) is app_exists
    assert "Traceback" not in out + err
    secrets = [
        secret.text
        for app in served.tenant.registry.applications()
        for secret in app.secrets
        if secret.text
    ]
    assert secrets and not any(secret in out + err for secret in secrets)
    if expected_outcome == "failed":
        assert payload["error"]
    if scenario == "register-short-secrets":
        details = [s["detail"] for s in payload["steps"] if s["step"] == StepId.CREATE_SECRET]
        assert any("12 months" in detail for detail in details), details
