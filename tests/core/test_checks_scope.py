"""The mailbox_scope check: can the app reach calendars that are not rooms? `check --json` against
the demo tenant over HTTPS, through the product's MSAL and requests."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.core.checks import CHECK_IDS, SettingsTest, Status
from clearooms_wizard.demo import Fault, data
from tests.conftest import Served, ServeDemo
from tests.core.test_checks import opener

SCOPE_SCRIPT = "clearooms-wizard scope script"


def check_json(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, dict[str, dict[str, Any]]]:
    """`clearooms-wizard check --json` against the served tenant: the exit code and each check."""
    scenario = served.tenant.scenario
    monkeypatch.setenv("CLEAROOMS_TENANT_ID", scenario.tenant)
    monkeypatch.setenv("CLEAROOMS_CLIENT_ID", scenario.client_id)
    monkeypatch.setenv("CLEAROOMS_CLIENT_SECRET", scenario.client_secret)
    monkeypatch.setenv("CLEAROOMS_AUTHORITY_HOST", served.base_url)
    monkeypatch.setenv("CLEAROOMS_GRAPH_URL", served.base_url)
    monkeypatch.setenv("CLEAROOMS_CA_BUNDLE", served.ca_bundle)
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", "--json"], stdin=io.StringIO(""), stdout=out, stderr=err)
    payload = json.loads(out.getvalue())
    assert [c["id"] for c in payload["checks"]] == list(CHECK_IDS)
    return code, {c["id"]: c for c in payload["checks"]}


def person_calendar_reads(served: Served) -> list[str]:
    """Every Graph request the tenant received for a person's mailbox (not a room's)."""
    rooms = {room.user_id for room in served.tenant.directory.rooms}
    rooms |= {room.email for room in served.tenant.directory.rooms}
    reads = []
    for record in served.tenant.request_log():
        parts = urlsplit(record.path).path.split("/")
        if record.is_graph and len(parts) > 3 and parts[2] == "users" and parts[3] not in rooms:
            reads.append(record.path)
    return reads


def assert_only_metadata_of_one_person(served: Served, mailbox: str) -> None:
    person = next(p for p in served.tenant.directory.people if p.email == mailbox)
    (read,) = person_calendar_reads(served)
    url = urlsplit(read)
    assert url.path == f"/v1.0/users/{person.id}/calendar"
    assert parse_qs(url.query) == {"$select": ["id"]}
    # No mailbox's events were asked for, the rooms' included.
    paths = [r.path.casefold() for r in served.tenant.request_log()]
    assert not [p for p in paths if "/events" in p or "/calendarview" in p]


def test_tenant_wide_access_is_a_warning_naming_the_script(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("healthy")
    code, checks = check_json(served, monkeypatch)
    assert code == 0
    scope = checks["mailbox_scope"]
    assert scope["status"] == "warn" and scope["code"] == "tenant_wide"
    assert scope["detail"].startswith(
        "Clearooms can read and change every mailbox's calendar in your organisation; you can "
        "limit it to rooms."
    )
    assert SCOPE_SCRIPT in scope["fix"]
    assert "remove the admin consent for Calendars.ReadWrite" in scope["fix"]
    mailbox = scope["details"]["mailbox"]
    assert mailbox not in {room.email for room in served.tenant.directory.rooms}
    assert "Only the calendar metadata" in scope["details"]["read"]
    assert_only_metadata_of_one_person(served, mailbox)
    assert {checks[i]["status"] for i in CHECK_IDS if i != "mailbox_scope"} == {"pass"}


def test_scoped_to_rooms_passes_and_permissions_do_not_fail(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("scoped-to-rooms")
    code, checks = check_json(served, monkeypatch)
    assert code == 0
    scope = checks["mailbox_scope"]
    assert scope["status"] == "pass"
    assert scope["detail"].startswith("Clearooms can reach room calendars only.")
    assert scope["details"]["message"] == "Access is denied. Check credentials and try again."
    permissions = checks["permissions"]
    assert permissions["status"] == "pass" and permissions["code"] == "rooms_only"
    assert "calendar access comes from Exchange (rooms only)" in permissions["detail"]
    assert "Calendars.ReadWrite" not in permissions["details"]["granted"]
    assert checks["calendars"]["status"] == "pass"
    assert_only_metadata_of_one_person(served, scope["details"]["mailbox"])


def test_exchange_scope_with_the_entra_grant_still_there_says_to_remove_the_grant(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, checks = check_json(serve_demo("scoped-but-entra-grant"), monkeypatch)
    assert code == 0
    scope = checks["mailbox_scope"]
    assert scope["status"] == "warn" and scope["code"] == "tenant_wide"
    assert "while that grant stays, Exchange's limit to rooms has no effect" in scope["fix"]
    assert checks["permissions"]["status"] == "pass"


def test_scope_not_in_effect_yet_says_to_test_again_later(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("scope-pending")
    code, checks = check_json(served, monkeypatch)
    assert code == 0
    scope = checks["mailbox_scope"]
    assert scope["status"] == "warn" and scope["code"] == "scope_pending"
    assert (
        "not in effect yet. Exchange takes 30 minutes to 2 hours; press Test Settings again later"
        in scope["detail"]
    )
    assert SCOPE_SCRIPT in scope["fix"]
    assert checks["permissions"]["code"] == "rooms_only"
    assert_only_metadata_of_one_person(served, scope["details"]["mailbox"])


def test_no_rooms_still_tests_a_person(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, checks = check_json(serve_demo("no-rooms"), monkeypatch)
    assert code == 0
    assert checks["calendars"]["status"] == "skip"
    assert checks["mailbox_scope"]["status"] == "warn"


def test_directory_refused_skips_with_the_reason(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            r"^/v1\.0/users$",
            status=403,
            code="Authorization_RequestDenied",
            message="Insufficient privileges to complete the operation.",
            times=None,
        )
    )
    code, checks = check_json(served, monkeypatch)
    assert code == 1
    assert checks["directory"]["status"] == "fail"
    scope = checks["mailbox_scope"]
    assert scope["status"] == "skip"
    assert scope["detail"] == (
        "Skipped because the directory could not be read, so there was no person's mailbox to "
        "test with."
    )
    assert person_calendar_reads(served) == []


def test_a_directory_of_rooms_only_skips(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("healthy")
    rooms_only = {
        "value": [
            {"id": room.user_id, "mail": room.email, "userType": "Member", "accountEnabled": False}
            for room in served.tenant.directory.rooms[:3]
        ]
    }
    served.tenant.inject(
        Fault(r"^/v1\.0/users$", "response", times=None, status=200, body=rooms_only)
    )
    code, checks = check_json(served, monkeypatch)
    assert code == 0
    scope = checks["mailbox_scope"]
    assert scope["status"] == "skip"
    assert "no person with a mailbox" in scope["detail"]
    assert person_calendar_reads(served) == []


def test_without_calendars_readwrite_and_no_room_calendar_permissions_still_fails(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("missing-permission")
    test = SettingsTest(served.connection(), opener(served.ca_bundle))
    yielded = [r.id for r in test.run()]
    # The permissions result waited for the room probe, and the report keeps the usual order.
    assert yielded.index("permissions") > yielded.index("rooms")
    assert [r.id for r in test.results] == list(CHECK_IDS)
    permissions = next(r for r in test.results if r.id == "permissions")
    assert permissions.status is Status.FAIL
    assert permissions.detail.startswith("Missing: Calendars.ReadWrite.")
    assert data.APP_SECRET not in json.dumps([r.to_json() for r in test.results])
