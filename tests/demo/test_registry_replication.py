"""The demo tenant's registry over real HTTPS: Microsoft's replication delays, the tenant's
secret policies, admin consent, the app an earlier run left, and a newly registered app going
through the product's own Test Settings and rooms listing."""

from __future__ import annotations

import functools
import io
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from clearooms_wizard.cli import main
from clearooms_wizard.core.app_setup import APP_TAGS, APP_UNIQUE_NAME, KNOWN_ROLE_IDS
from clearooms_wizard.demo import DemoTenant, data, decode_claims
from clearooms_wizard.demo.graph_apps import SECRET_POLICY_ID
from clearooms_wizard.demo.org import AdminKey
from tests.conftest import ServeDemo
from tests.demo.support import (
    Served,
    TLSMaterial,
    assert_aadsts_shape,
    assert_graph_error,
    https_session,
    make_tls,
    serve,
)
from tests.demo.test_app_registration_graph import Admin, app_body, client_token, grant

DELAY = 0.3


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return make_tls(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def slow(tls: TLSMaterial) -> Iterator[Served]:
    with serve(DemoTenant("healthy", latency=0, replication_delay=DELAY), tls) as served:
        yield served


@pytest.fixture
def healthy_tls(tls: TLSMaterial) -> Iterator[Served]:
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        yield served


def eventually(attempt: Callable[[], requests.Response], status: int) -> requests.Response:
    """Ask until Microsoft has caught up (well within a few times the delay)."""
    deadline = time.monotonic() + DELAY * 10
    while True:
        response = attempt()
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


def test_a_new_app_is_not_seen_at_once(slow: Served) -> None:
    admin = Admin(slow)
    started = time.monotonic()
    app = admin.post("applications", app_body()).json()
    message = assert_graph_error(
        admin.get(f"applications/{app['id']}"), 404, "Request_ResourceNotFound"
    )
    assert message == (
        f"Resource '{app['id']}' does not exist or one of its queried reference-property objects "
        "are not present."
    )
    early_secret = admin.post(f"applications/{app['id']}/addPassword", {})
    assert_graph_error(early_secret, 404, "Request_ResourceNotFound")
    early_patch = admin.patch(f"applications/{app['id']}", {"notes": "x"})
    assert_graph_error(early_patch, 404, "Request_ResourceNotFound")
    early_sp = admin.post("servicePrincipals", {"appId": app["appId"]})
    message = assert_graph_error(early_sp, 400, "Request_BadRequest")
    assert message == (
        f"The appId '{app['appId']}' of the service principal does not reference a valid "
        "application object."
    )
    assert_aadsts_shape(
        client_token(slow, app["appId"], "anything").json(), 700016, "unauthorized_client"
    )
    # Written by its unique name, the app is found at once: no second app.
    upsert = admin.patch(
        f"applications(uniqueName='{APP_UNIQUE_NAME}')",
        {"displayName": "Clearooms"},
        Prefer="create-if-missing",
    )
    assert upsert.status_code == 204
    assert time.monotonic() - started < DELAY, "the test machine was too slow to see the delay"
    found = eventually(lambda: admin.get(f"applications/{app['id']}"), 200)
    assert found.status_code == 200
    assert time.monotonic() - started >= DELAY
    assert found.json()["displayName"] == "Clearooms"
    assert eventually(lambda: admin.post("servicePrincipals", {"appId": app["appId"]}), 201)


def test_secret_service_principal_and_grants_each_take_their_time(slow: Served) -> None:
    admin = Admin(slow)
    app = admin.post("applications", app_body()).json()
    assert eventually(lambda: admin.get(f"applications/{app['id']}"), 200).status_code == 200
    secret = admin.post(f"applications/{app['id']}/addPassword", {}).json()["secretText"]
    sp = eventually(lambda: admin.post("servicePrincipals", {"appId": app["appId"]}), 201).json()
    # The new service principal is not a valid reference until it has replicated.
    early = grant(admin, sp["id"], "Place.Read.All")
    assert assert_graph_error(early, 400, "Request_BadRequest") == "Not a valid reference update."
    assert_graph_error(admin.get(f"servicePrincipals/{sp['id']}"), 404, "Request_ResourceNotFound")
    for role in ("Place.Read.All", "Calendars.ReadWrite", "Directory.Read.All"):
        granting = functools.partial(grant, admin, sp["id"], role)
        assert eventually(granting, 201).status_code == 201
    # Re-sent before it is seen, a grant is still known to be there.
    again = grant(admin, sp["id"], "Place.Read.All")
    message = assert_graph_error(again, 400, "Request_BadRequest")
    assert message == "Permission being assigned already exists on the object"
    first = eventually(lambda: client_token(slow, app["appId"], secret), 200)
    assert first.status_code == 200, first.text
    # Then the grants come through, and only the ones seen are in a token.
    roles: list[str] = []
    deadline = time.monotonic() + DELAY * 10
    while len(roles) < 3 and time.monotonic() < deadline:
        token = client_token(slow, app["appId"], secret).json()["access_token"]
        roles = decode_claims(token).get("roles", [])
        assert set(roles) <= {"Calendars.ReadWrite", "Directory.Read.All", "Place.Read.All"}
    assert roles == ["Calendars.ReadWrite", "Directory.Read.All", "Place.Read.All"]
    listed = admin.get(f"servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"]
    assert len(listed) == 3


def test_a_new_secret_is_refused_until_it_has_replicated(slow: Served) -> None:
    admin = Admin(slow)
    current = admin.post(f"applications/{data.APP_OBJECT_ID}/addPassword", {}).json()
    early = client_token(slow, data.APP_ID, current["secretText"])
    assert early.status_code == 401
    assert_aadsts_shape(early.json(), 7000215, "invalid_client")
    listed = admin.get(f"applications/{data.APP_OBJECT_ID}").json()["passwordCredentials"]
    assert current["keyId"] not in {c["keyId"] for c in listed}
    later = eventually(lambda: client_token(slow, data.APP_ID, current["secretText"]), 200)
    assert later.status_code == 200, later.text
    assert decode_claims(later.json()["access_token"])["roles"] == sorted(data.REQUIRED_ROLES)


def test_the_scenario_sets_the_delay(tls: TLSMaterial) -> None:
    assert DemoTenant("register-slow-replication").registry.replication_delay == 8.0
    assert DemoTenant("healthy").registry.replication_delay == 0.0
    override = DemoTenant("register-slow-replication", replication_delay=0)
    with serve(override, tls) as served:
        admin = Admin(served)
        app = admin.post("applications", app_body()).json()
        assert admin.get(f"applications/{app['id']}").status_code == 200


def test_racing_requests_make_one_app_one_service_principal_and_one_grant(
    healthy_tls: Served,
) -> None:
    admin = Admin(healthy_tls)
    path = f"applications(uniqueName='{APP_UNIQUE_NAME}')"
    body = {"displayName": "Clearooms"}
    with ThreadPoolExecutor(8) as pool:
        upserts = list(
            pool.map(lambda _: admin.patch(path, body, Prefer="create-if-missing"), range(8))
        )
    assert sorted(r.status_code for r in upserts) == [201] + [204] * 7
    app = next(r for r in upserts if r.status_code == 201).json()
    with ThreadPoolExecutor(8) as pool:
        made = list(
            pool.map(lambda _: admin.post("servicePrincipals", {"appId": app["appId"]}), range(8))
        )
    assert sorted(r.status_code for r in made) == [201] + [409] * 7
    sp = next(r for r in made if r.status_code == 201).json()
    with ThreadPoolExecutor(8) as pool:
        grants = list(pool.map(lambda _: grant(admin, sp["id"], "Place.Read.All"), range(8)))
    assert sorted(r.status_code for r in grants) == [201] + [400] * 7
    listed = admin.get(f"servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"]
    assert len(listed) == 1


# --- tenant policies -----------------------------------------------------------------------


def in_months(months: int, days: int = 0) -> str:
    moment = datetime.now(UTC) + timedelta(days=months * 30.5 + days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_policy_forbidding_secrets(tls: TLSMaterial) -> None:
    with serve(DemoTenant("register-no-secrets", latency=0), tls) as served:
        admin = Admin(served)
        app = admin.post("applications", app_body()).json()
        refused = admin.post(f"applications/{app['id']}/addPassword", {})
        message = assert_graph_error(refused, 400, "CredentialTypeNotAllowedAsPerAppPolicy")
        assert (
            message == f"Credential type not allowed as per assigned policy '{SECRET_POLICY_ID}'."
        )
        assert admin.get(f"applications/{app['id']}").json()["passwordCredentials"] == []


def test_a_policy_limiting_secrets_to_twelve_months(tls: TLSMaterial) -> None:
    with serve(DemoTenant("register-short-secrets", latency=0), tls) as served:
        admin = Admin(served)
        app = admin.post("applications", app_body()).json()
        path = f"applications/{app['id']}/addPassword"
        for too_long in ({}, {"passwordCredential": {"endDateTime": in_months(24)}}):
            refused = admin.post(path, too_long)
            message = assert_graph_error(refused, 400, "CredentialInvalidLifetimeAsPerAppPolicy")
            assert message == (
                "Credential lifetime exceeds the max value allowed as per assigned policy "
                f"'{SECRET_POLICY_ID}'."
            )
        a_year = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
        allowed = admin.post(path, {"passwordCredential": {"endDateTime": a_year}})
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["endDateTime"].startswith(a_year[:19])


def test_without_a_policy_secrets_default_to_two_years(healthy_tls: Served) -> None:
    admin = Admin(healthy_tls)
    app = admin.post("applications", app_body()).json()
    secret = admin.post(f"applications/{app['id']}/addPassword", {}).json()
    start = datetime.fromisoformat(secret["startDateTime"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(secret["endDateTime"].replace("Z", "+00:00"))
    assert end - start == timedelta(days=730)
    bad = admin.post(
        f"applications/{app['id']}/addPassword",
        {"passwordCredential": {"endDateTime": "next year"}},
    )
    assert_graph_error(bad, 400, "Request_BadRequest")


# --- admin consent -------------------------------------------------------------------------


def consent(served: Served, client_id: str, **extra: str) -> requests.Response:
    query = {
        "client_id": client_id,
        "scope": f"{served.base}/.default",
        "redirect_uri": "http://localhost:53117",
        "state": "s-123",
        **extra,
    }
    return served.session.get(
        f"{served.base}/{data.TENANT_ID}/v2.0/adminconsent?{urlencode(query)}",
        allow_redirects=False,
    )


def answered(response: requests.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.hostname, location.port) == ("http", "localhost", 53117)
    return parse_qs(location.query)


def app_needing_consent(served: Served) -> tuple[dict[str, Any], str]:
    """What an Application Administrator leaves: app, secret, a loopback redirect, no grants."""
    admin = Admin(served, "application-admin")
    app = admin.post("applications", app_body()).json()
    secret = admin.post(f"applications/{app['id']}/addPassword", {}).json()["secretText"]
    patched = admin.patch(
        f"applications/{app['id']}", {"web": {"redirectUris": ["http://localhost"]}}
    )
    assert patched.status_code == 204
    return app, secret


def test_admin_consent_adds_the_app_and_grants_what_it_asks_for(healthy_tls: Served) -> None:
    app, secret = app_needing_consent(healthy_tls)
    assert_aadsts_shape(
        client_token(healthy_tls, app["appId"], secret).json(), 7000229, "invalid_client"
    )
    answer = answered(consent(healthy_tls, app["appId"]))
    assert answer["admin_consent"] == ["True"]
    assert answer["tenant"] == [data.TENANT_ID]
    assert answer["state"] == ["s-123"]
    assert f"{healthy_tls.base}/.default" in answer["scope"][0].split()
    token = client_token(healthy_tls, app["appId"], secret).json()["access_token"]
    assert decode_claims(token)["roles"] == [
        "Calendars.ReadWrite",
        "Directory.Read.All",
        "Place.Read.All",
    ]
    # Consenting again changes nothing and says the same.
    assert answered(consent(healthy_tls, app["appId"]))["admin_consent"] == ["True"]
    sp = Admin(healthy_tls).get(f"servicePrincipals(appId='{app['appId']}')").json()
    granted = Admin(healthy_tls).get(f"servicePrincipals/{sp['id']}/appRoleAssignments")
    assert len(granted.json()["value"]) == 3


@pytest.mark.parametrize("who", ["application-admin", "no-rights"])
def test_admin_consent_refuses_someone_who_may_not_grant(
    healthy_tls: Served, who: AdminKey
) -> None:
    app, secret = app_needing_consent(healthy_tls)
    username = data.ADMINISTRATORS[who].username
    answer = answered(consent(healthy_tls, app["appId"], login_hint=username))
    assert answer["error"] == ["access_denied"]
    assert answer["error_description"][0].startswith("AADSTS90094: ")
    assert answer["state"] == ["s-123"]
    assert "admin_consent" not in answer
    assert_aadsts_shape(
        client_token(healthy_tls, app["appId"], secret).json(), 7000229, "invalid_client"
    )


def test_admin_consent_pages_for_bad_requests(healthy_tls: Served) -> None:
    app, _secret = app_needing_consent(healthy_tls)
    wrong_place = consent(healthy_tls, app["appId"], redirect_uri="https://evil.test/callback")
    assert wrong_place.status_code == 200
    assert "Location" not in wrong_place.headers
    assert (
        "AADSTS50011: The redirect URI &#x27;https://evil.test/callback&#x27;" in wrong_place.text
    )
    other_path = consent(healthy_tls, app["appId"], redirect_uri="http://localhost:8/elsewhere")
    assert "AADSTS50011" in other_path.text
    unknown = consent(healthy_tls, data.UNKNOWN_CLIENT_ID)
    assert unknown.status_code == 200
    assert "AADSTS700016" in unknown.text
    # The scenario's app lists no redirect address, so Microsoft will not answer to one.
    assert "AADSTS50011" in consent(healthy_tls, data.APP_ID).text


def test_admin_consent_cancelled(tls: TLSMaterial) -> None:
    with serve(DemoTenant("register-cancelled", latency=0), tls) as served:
        app, _secret = app_needing_consent(served)
        answer = answered(consent(served, app["appId"]))
        assert answer["error"] == ["access_denied"]
        assert answer["error_subcode"] == ["cancel"]


# --- an earlier run's app, and a new app through the product ---------------------------------


def test_an_earlier_run_left_its_app(tls: TLSMaterial) -> None:
    with serve(DemoTenant("register-existing-app", latency=0), tls) as served:
        admin = Admin(served, "application-admin")
        found = admin.get(f"applications(uniqueName='{APP_UNIQUE_NAME}')").json()
        assert found["tags"] == list(APP_TAGS)
        assert len(found["passwordCredentials"]) == 1
        by_tag = admin.get(
            "applications", params={"$filter": f"tags/any(t:t eq '{APP_TAGS[0]}')"}
        ).json()["value"]
        assert [a["id"] for a in by_tag] == [found["id"]]
        sp = admin.get(f"servicePrincipals(appId='{found['appId']}')").json()
        granted = admin.get(f"servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"]
        assert sorted(g["appRoleId"] for g in granted) == sorted(KNOWN_ROLE_IDS.values())
        # A new secret for it signs in with all three permissions.
        secret = admin.post(f"applications/{found['id']}/addPassword", {}).json()["secretText"]
        token = client_token(served, found["appId"], secret).json()["access_token"]
        assert decode_claims(token)["roles"] == sorted(KNOWN_ROLE_IDS)
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        missing = Admin(served).get(f"applications(uniqueName='{APP_UNIQUE_NAME}')")
        assert_graph_error(missing, 404, "Request_ResourceNotFound")


def test_a_new_app_passes_test_settings_and_lists_rooms(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    admin = Admin(Served(served.tenant, served.server, https_session(served.ca_bundle)))
    end = (datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    app = admin.post("applications", app_body()).json()
    secret = admin.post(
        f"applications/{app['id']}/addPassword", {"passwordCredential": {"endDateTime": end}}
    ).json()["secretText"]
    sp = admin.post("servicePrincipals", {"appId": app["appId"]}).json()
    for role in KNOWN_ROLE_IDS:
        assert grant(admin, sp["id"], role).status_code == 201
    for command in (["check"], ["rooms", "list"]):
        out, err = io.StringIO(), io.StringIO()
        argv = [*command, "--json", "--tenant", data.TENANT_ID, "--client-id", app["appId"]]
        code = main(
            [*argv, "--secret-stdin", *served.cli_args()],
            stdin=io.StringIO(secret + "\n"),
            stdout=out,
            stderr=err,
        )
        assert code == 0, out.getvalue() + err.getvalue()
        assert secret not in out.getvalue() + err.getvalue()
        payload = json.loads(out.getvalue())
        if command == ["check"]:
            statuses = {c["id"]: c["status"] for c in payload["checks"]}
            assert statuses["secret_expiry"] == "pass", payload
            # The new app reaches every mailbox's calendar, which mailbox_scope warns about.
            assert statuses.pop("mailbox_scope") == "warn", payload
            assert set(statuses.values()) == {"pass"}, payload
        else:
            assert len(payload) == 24, payload
