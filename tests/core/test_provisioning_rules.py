"""The rules of "Set it up for me" that need no network: how Microsoft's errors are sorted, how
long to wait between tries, the secret's end date, the permissions read from Microsoft Graph's
service principal, the consent link and the plan's checks."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from clearooms_wizard.core.app_setup import (
    KNOWN_ROLE_IDS,
    RegistrationJournal,
    RegistrationPlan,
    SignedInAdmin,
)
from clearooms_wizard.core.clouds import CLOUDS
from clearooms_wizard.core.errors import ClearoomsError, GraphError, TechnicalDetails
from clearooms_wizard.core.provisioning import (
    Failure,
    RetryPolicy,
    admin_consent_url,
    application_body,
    check_app_name,
    check_secret_months,
    classify,
    months_later,
    resolve_permissions,
    start_journal,
)
from clearooms_wizard.core.store import InvalidInput


def error(status: int, code: str, message: str = "") -> GraphError:
    return GraphError(status, code, message, TechnicalDetails(http_status=status))


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        # Microsoft's replication lag, in each of its forms.
        (
            400,
            "Request_BadRequest",
            "The appId 'x' of the service principal does not reference a valid application object.",
            Failure.NOT_YET_VISIBLE,
        ),
        (
            404,
            "Request_ResourceNotFound",
            "Resource 'x' does not exist or one of its queried reference-property objects are "
            "not present.",
            Failure.NOT_YET_VISIBLE,
        ),
        (400, "Request_BadRequest", "Not a valid reference update.", Failure.NOT_YET_VISIBLE),
        (
            403,
            "Authorization_RequestDenied",
            "When using this permission, the backing application of the service principal "
            "being created must in the local tenant",
            Failure.NOT_YET_VISIBLE,
        ),
        (
            400,
            "Request_BadRequest",
            "Permission being assigned already exists on the object",
            Failure.ALREADY_DONE,
        ),
        (
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
            Failure.DENIED,
        ),
        (
            400,
            "CredentialTypeNotAllowedAsPerAppPolicy",
            "Credential type not allowed as per assigned policy 'p'.",
            Failure.SECRETS_NOT_ALLOWED,
        ),
        (
            400,
            "CredentialInvalidLifetimeAsPerAppPolicy",
            "Credential lifetime exceeds the max value allowed as per assigned policy 'p'.",
            Failure.SECRET_TOO_LONG,
        ),
        (429, "TooManyRequests", "", Failure.THROTTLED),
        (503, "ServiceUnavailable", "", Failure.THROTTLED),
        (401, "InvalidAuthenticationToken", "Access token has expired.", Failure.SIGNED_OUT),
        (409, "Request_MultipleObjectsWithSameKeyValue", "", Failure.CONFLICT),
        # The message alone never decides: the same words under another status or code.
        (
            500,
            "InternalServerError",
            "Not a valid reference update. does not reference a valid application object",
            Failure.OTHER,
        ),
        (400, "Request_BadRequest", "Invalid value specified for property.", Failure.OTHER),
        (404, "Not_Here", "Resource does not exist", Failure.OTHER),
    ],
)
def test_errors_are_sorted_by_status_and_code(
    status: int, code: str, message: str, expected: Failure
) -> None:
    assert classify(error(status, code, message)) is expected


def test_the_pause_grows_from_two_seconds_to_fifteen_and_stays() -> None:
    delays = list(itertools.islice(RetryPolicy().delays(), 9))
    assert delays[0] == 2.0
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert delays[-3:] == [15.0, 15.0, 15.0]
    # Within Azure CLI's three minutes there are about a dozen tries.
    total, tries = 0.0, 0
    for delay in RetryPolicy().delays():
        if total + delay > RetryPolicy().object_deadline:
            break
        total, tries = total + delay, tries + 1
    assert 12 <= tries <= 20


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (datetime(2026, 3, 4, 9, 0, tzinfo=UTC), 24, datetime(2028, 3, 4, 9, 0, tzinfo=UTC)),
        (datetime(2026, 8, 31, tzinfo=UTC), 6, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2027, 8, 31, tzinfo=UTC), 6, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), 12, datetime(2027, 11, 15, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 3, datetime(2026, 4, 30, tzinfo=UTC)),
    ],
)
def test_months_later_keeps_the_day_or_takes_the_months_last(
    start: datetime, months: int, end: datetime
) -> None:
    assert months_later(start, months) == end


def graph_service_principal(**overrides: str) -> dict[str, object]:
    ids = {**KNOWN_ROLE_IDS, **overrides}
    roles: list[dict[str, object]] = [
        {"id": role_id, "value": name, "allowedMemberTypes": ["Application"], "isEnabled": True}
        for name, role_id in ids.items()
    ]
    # Delegated-only and disabled roles of the same name are not the application permission.
    roles.insert(
        0,
        {
            "id": "11111111-1111-4111-8111-111111111111",
            "value": "Place.Read.All",
            "allowedMemberTypes": ["User"],
        },
    )
    roles.insert(
        0,
        {
            "id": "22222222-2222-4222-8222-222222222222",
            "value": "Directory.Read.All",
            "allowedMemberTypes": ["Application"],
            "isEnabled": False,
        },
    )
    return {"id": "graph-sp", "appRoles": roles}


def test_role_ids_come_from_the_tenant_and_a_difference_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    resolved = resolve_permissions(graph_service_principal())
    assert {p.name: p.role_id for p in resolved} == KNOWN_ROLE_IDS
    assert not caplog.records

    other = "ABCDEF01-2345-4678-9abc-def012345678"
    with caplog.at_level(logging.WARNING, "clearooms_wizard.core.provisioning"):
        resolved = resolve_permissions(graph_service_principal(**{"Place.Read.All": other}))
    assert {p.name: p.role_id for p in resolved}["Place.Read.All"] == other.lower()
    assert "Place.Read.All" in caplog.text and other.lower() in caplog.text


def test_a_permission_graph_does_not_offer_stops_the_plan() -> None:
    sp = graph_service_principal()
    roles = sp["appRoles"]
    assert isinstance(roles, list)
    sp["appRoles"] = [r for r in roles if r["value"] != "Calendars.ReadWrite"]
    with pytest.raises(ClearoomsError, match=r"does not offer the permission Calendars\.ReadWrite"):
        resolve_permissions(sp)


def test_the_consent_link_is_microsofts_admin_consent_page() -> None:
    cloud = CLOUDS["global"]
    url = admin_consent_url(cloud, "tid-1", "client-1", "http://localhost:51234", "s&t=1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://login.microsoftonline.com/tid-1/v2.0/adminconsent"
    )
    assert parse_qs(parts.query) == {
        "client_id": ["client-1"],
        "scope": ["https://graph.microsoft.com/.default"],
        "redirect_uri": ["http://localhost:51234"],
        "state": ["s&t=1"],
    }
    china = admin_consent_url(CLOUDS["china"], "t", "c", "http://localhost", "s")
    assert china.startswith("https://login.partner.microsoftonline.cn/t/v2.0/adminconsent?")
    assert "microsoftgraph.chinacloudapi.cn%2F.default" in china


ADMIN = SignedInAdmin("alex@contoso.com", "Alex", "tenant-a", None, ())


def plan(**changes: object) -> RegistrationPlan:
    permissions = resolve_permissions(graph_service_principal())
    values: dict[str, object] = {
        "admin": ADMIN,
        "app_name": "Rooms",
        "secret_months": 24,
        "permissions": permissions,
        "graph_service_principal_id": "graph-sp",
        "existing": None,
        "grant_directly": True,
    }
    values.update(changes)
    return RegistrationPlan(**values)  # type: ignore[arg-type]


def test_the_app_is_single_tenant_tagged_and_lists_the_three_permissions() -> None:
    body = application_body(plan(), "2026-03-04")
    assert body["displayName"] == "Rooms"
    assert body["signInAudience"] == "AzureADMyOrg"
    assert body["tags"] == ["clearooms-booking", "created-by:clearooms-setup-wizard"]
    assert "2026-03-04" in body["notes"]
    (graph,) = body["requiredResourceAccess"]
    assert graph["resourceAppId"] == "00000003-0000-0000-c000-000000000000"
    assert sorted(a["id"] for a in graph["resourceAccess"]) == sorted(KNOWN_ROLE_IDS.values())
    assert {a["type"] for a in graph["resourceAccess"]} == {"Role"}
    assert "passwordCredentials" not in body and "uniqueName" not in body


@pytest.mark.parametrize(
    ("raw", "tidy"), [("  Clearooms\tRooms ", "Clearooms Rooms"), ("Rooms\x1b[2J", "Rooms[2J")]
)
def test_app_names_are_tidied(raw: str, tidy: str) -> None:
    assert check_app_name(raw) == tidy


@pytest.mark.parametrize("raw", ["", "   ", "x" * 121])
def test_bad_app_names_are_refused_plainly(raw: str) -> None:
    with pytest.raises(InvalidInput, match="name"):
        check_app_name(raw)


@pytest.mark.parametrize("months", [0, 25, -3, True])
def test_secret_lifetimes_beyond_microsofts_are_refused(months: int) -> None:
    with pytest.raises(InvalidInput, match="from 1 to 24 months"):
        check_secret_months(months)
    assert check_secret_months(24) == 24


def test_an_unfinished_run_of_the_same_organisation_is_carried_on() -> None:
    unfinished = RegistrationJournal("run-1", "TENANT-A", datetime(2026, 1, 1, tzinfo=UTC))
    assert start_journal(plan(admin=ADMIN), None).run_id != "run-1"
    same = SignedInAdmin("alex@contoso.com", "Alex", "tenant-a", None, ())
    assert start_journal(plan(admin=same), unfinished) is unfinished
    other = SignedInAdmin("sam@fabrikam.com", "Sam", "tenant-b", None, ())
    with pytest.raises(ClearoomsError, match="another organisation"):
        start_journal(plan(admin=other), unfinished)
