"""``register --rooms-only`` (the default) against the demo tenant over loopback HTTPS: the app
gets no Calendars.ReadWrite in Microsoft Entra (not even on its list), Test Settings says the
Exchange step is still to do rather than failing, and the state after that step passes."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from clearooms_wizard.cli import main
from clearooms_wizard.core.app_setup import KNOWN_ROLE_IDS
from clearooms_wizard.core.checks import CHECK_IDS
from clearooms_wizard.demo import data
from tests.conftest import Served, ServeDemo
from tests.support.scripted_browser import ScriptedBrowser
from tests.test_cli_register import clearooms_apps, register

CALENDARS_ROLE_ID = KNOWN_ROLE_IDS["Calendars.ReadWrite"]


def check_json(served: Served) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    main(["check", "--json", *served.cli_args()], stdin=io.StringIO(""), stdout=out, stderr=err)
    payload: dict[str, Any] = json.loads(out.getvalue())
    return payload


def by_id(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in payload["checks"]}


def listed_role_ids(served: Served, app_id: str) -> set[str]:
    app = served.tenant.registry.application_by_app_id(app_id)
    assert app is not None
    return {
        str(a["id"]).lower()
        for entry in app.required_resource_access
        for a in entry["resourceAccess"]
    }


def test_rooms_only_register_then_check_warns_for_the_exchange_step(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("healthy")
    code, out, err, _ = register(served, "--rooms-only", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["outcome"] == "done"
    assert payload["review"]["calendars"] == "rooms-only"
    assert [p["name"] for p in payload["review"]["permissions"]] == [
        "Directory.Read.All",
        "Place.Read.All",
    ]
    assert payload["app"]["calendars"] == "rooms-only"
    [app] = clearooms_apps(served)
    # Neither granted nor listed: no consent can give every mailbox back.
    assert served.tenant.registry.graph_roles_of(payload["app"]["service_principal_id"]) == (
        "Directory.Read.All",
        "Place.Read.All",
    )
    assert CALENDARS_ROLE_ID not in listed_role_ids(served, app.app_id)
    registered_checks = by_id(payload)
    assert registered_checks["calendars"]["status"] == "warn"

    # Saved: check finds the new app by itself, and blames nobody.
    checked = check_json(served)
    assert checked["client_id"] == app.app_id
    checks = by_id(checked)
    assert list(checks) == list(CHECK_IDS)
    assert checks["calendars"]["status"] == "warn"
    assert checks["calendars"]["code"] == "exchange_pending"
    assert "Exchange step" in checks["calendars"]["detail"]
    assert "scope script" in checks["calendars"]["fix"]
    assert checks["permissions"]["status"] == "pass"
    assert checks["permissions"]["code"] == "rooms_only"
    assert checks["mailbox_scope"]["status"] == "pass"
    assert [c["id"] for c in checked["checks"] if c["status"] == "fail"] == []


def test_once_exchange_is_done_every_check_passes(serve_demo: ServeDemo) -> None:
    served = serve_demo("scoped-to-rooms")
    code, out, err, _ = register(served, "--json")
    assert code == 0, err
    assert json.loads(out)["review"]["calendars"] == "rooms-only"
    checks = by_id(check_json(served))
    assert {c: r["status"] for c, r in checks.items()} == dict.fromkeys(CHECK_IDS, "pass")
    assert checks["permissions"]["code"] == "rooms_only"
    assert checks["mailbox_scope"]["code"] == "rooms_only"


def test_all_mailboxes_grants_calendars_in_entra(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    code, out, err, _ = register(served, "--all-mailboxes", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["review"]["calendars"] == "all-mailboxes"
    [app] = clearooms_apps(served)
    assert CALENDARS_ROLE_ID in listed_role_ids(served, app.app_id)
    checks = by_id(payload)
    assert checks["calendars"]["status"] == "pass"
    assert checks["mailbox_scope"]["code"] == "tenant_wide"


def test_the_dry_run_says_which(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    code, out, err, _ = register(served, "--dry-run")
    assert code == 0, err
    assert "Calendars:      room mailboxes only (recommended" in out
    assert "Calendars.ReadWrite:" not in out
    code, out, err, _ = register(served, "--dry-run", "--all-mailboxes")
    assert code == 0, err
    assert "Calendars:      all mailboxes (--all-mailboxes)" in out
    assert "Calendars.ReadWrite:" in out


def test_rooms_only_consent_link_does_not_grant_calendars(serve_demo: ServeDemo) -> None:
    """An Application Administrator gets Microsoft's consent page for a Global Administrator:
    it grants what the app lists (/.default), which for rooms only leaves Calendars out."""
    served = serve_demo("register-app-admin")
    code, out, err, _ = register(served, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["outcome"] == "needs-approval"
    link = payload["consent_url"]
    assert link.startswith(f"{served.base_url}/{data.TENANT_ID}/v2.0/adminconsent?")
    assert "scope=https" in link and "Calendars" not in link
    [app] = clearooms_apps(served)
    # A Global Administrator approves it in their own browser; the page's answer goes to
    # localhost, where nobody listens here.
    approver = ScriptedBrowser(served.ca_bundle)
    with contextlib.suppress(OSError):
        approver.visit(link)
    assert approver.opened == [link]
    sp = served.tenant.registry.service_principal_by_app_id(app.app_id)
    assert sp is not None
    assert served.tenant.registry.graph_roles_of(sp.id) == ("Directory.Read.All", "Place.Read.All")
