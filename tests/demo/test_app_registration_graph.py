"""Registering an app through the demo Graph, over real HTTPS, as an administrator's sign-in
would: applications, secrets, service principals, grants, and the new app's own sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from clearooms_wizard.core.app_setup import APP_TAGS, APP_UNIQUE_NAME, GRAPH_APP_ID, KNOWN_ROLE_IDS
from clearooms_wizard.demo import DemoTenant, data, decode_claims
from clearooms_wizard.demo.org import AdminKey
from clearooms_wizard.demo.registry import GRAPH_SERVICE_PRINCIPAL_ID
from tests.demo.support import (
    Served,
    TLSMaterial,
    assert_aadsts_shape,
    assert_graph_error,
    make_tls,
    serve,
)

INSUFFICIENT = "Insufficient privileges to complete the operation."
THREE_ROLES = ("Calendars.ReadWrite", "Directory.Read.All", "Place.Read.All")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return make_tls(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def healthy(tls: TLSMaterial) -> Iterator[Served]:
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        yield served


class Admin:
    """An administrator's signed-in session against the served tenant's Graph."""

    def __init__(
        self,
        served: Served,
        who: AdminKey | None = None,
        scopes: tuple[str, ...] = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"),
    ) -> None:
        self.served = served
        token = served.tenant.mint_delegated_token(who, scopes, audience=served.base)
        self.headers = {"Authorization": f"Bearer {token}"}

    def url(self, path: str) -> str:
        return f"{self.served.base}/v1.0/{path}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.served.session.get(self.url(path), headers=self.headers, **kwargs)

    def post(self, path: str, body: Any = None, **headers: str) -> requests.Response:
        return self.served.session.post(
            self.url(path), headers={**self.headers, **headers}, json=body
        )

    def patch(self, path: str, body: Any, **headers: str) -> requests.Response:
        return self.served.session.patch(
            self.url(path), headers={**self.headers, **headers}, json=body
        )

    def delete(self, path: str) -> requests.Response:
        return self.served.session.delete(self.url(path), headers=self.headers)


def app_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": "Clearooms room booking",
        "signInAudience": "AzureADMyOrg",
        "uniqueName": APP_UNIQUE_NAME,
        "tags": list(APP_TAGS),
        "notes": "Created by the Clearooms setup wizard.",
        "requiredResourceAccess": [
            {
                "resourceAppId": GRAPH_APP_ID,
                "resourceAccess": [{"id": i, "type": "Role"} for i in KNOWN_ROLE_IDS.values()],
            }
        ],
    }
    body.update(overrides)
    return body


def client_token(served: Served, client_id: str, secret: str) -> requests.Response:
    return served.session.post(
        f"{served.base}/{data.TENANT_ID}/oauth2/v2.0/token",
        data={
            "client_id": client_id,
            "client_secret": secret,
            "grant_type": "client_credentials",
            "scope": f"{served.base}/.default",
        },
    )


def register(admin: Admin, **overrides: Any) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Create the app, a secret and the service principal: (app, secret text, sp)."""
    created = admin.post("applications", app_body(**overrides))
    assert created.status_code == 201, created.text
    app = created.json()
    password = admin.post(
        f"applications/{app['id']}/addPassword",
        {"passwordCredential": {"displayName": "clearooms"}},
    )
    assert password.status_code == 200, password.text
    sp = admin.post("servicePrincipals", {"appId": app["appId"]})
    assert sp.status_code == 201, sp.text
    return app, password.json()["secretText"], sp.json()


def grant(admin: Admin, principal_id: str, role: str) -> requests.Response:
    return admin.post(
        f"servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo",
        {
            "principalId": principal_id,
            "resourceId": GRAPH_SERVICE_PRINCIPAL_ID,
            "appRoleId": KNOWN_ROLE_IDS[role],
        },
    )


def test_graph_service_principal_and_its_app_roles(healthy: Served) -> None:
    admin = Admin(healthy)
    response = admin.get(
        f"servicePrincipals(appId='{GRAPH_APP_ID}')?$select=id,appId,displayName,appRoles"
    )
    assert response.status_code == 200, response.text
    sp = response.json()
    assert sp["@odata.context"] == (
        f"{healthy.base}/v1.0/$metadata#servicePrincipals(id,appId,displayName,appRoles)/$entity"
    )
    assert set(sp) == {"@odata.context", "id", "appId", "displayName", "appRoles"}
    assert sp["id"] == GRAPH_SERVICE_PRINCIPAL_ID
    assert sp["displayName"] == "Microsoft Graph"
    roles = {role["value"]: role for role in sp["appRoles"]}
    for name, role_id in KNOWN_ROLE_IDS.items():
        assert roles[name]["id"] == role_id
        assert roles[name]["allowedMemberTypes"] == ["Application"]
        assert roles[name]["isEnabled"] is True
        assert roles[name]["displayName"] and roles[name]["description"]
    assert roles["User.ReadBasic.All"]["id"] == "97235f07-e226-4f63-ace3-39588e11d3a1"
    filtered = admin.get(f"servicePrincipals?$filter=appId eq '{GRAPH_APP_ID}'&$select=id")
    assert filtered.json()["value"] == [{"id": GRAPH_SERVICE_PRINCIPAL_ID}]


def test_a_new_app_signs_in_with_exactly_its_grants(healthy: Served) -> None:
    admin = Admin(healthy)
    app, secret, sp = register(admin)
    assert app["@odata.context"] == f"{healthy.base}/v1.0/$metadata#applications/$entity"
    assert app["uniqueName"] == APP_UNIQUE_NAME
    assert app["tags"] == list(APP_TAGS)
    assert app["passwordCredentials"] == []
    assert sp["appId"] == app["appId"]
    assert sp["@odata.context"] == f"{healthy.base}/v1.0/$metadata#servicePrincipals/$entity"
    no_roles = client_token(healthy, app["appId"], secret)
    assert no_roles.status_code == 200, no_roles.text
    claims = decode_claims(no_roles.json()["access_token"])
    assert "roles" not in claims
    assert claims["appid"] == app["appId"]
    assert claims["oid"] == sp["id"]
    for role in ("Place.Read.All", "Calendars.ReadWrite"):
        response = grant(admin, sp["id"], role)
        assert response.status_code == 201, response.text
    token = client_token(healthy, app["appId"], secret).json()["access_token"]
    assert decode_claims(token)["roles"] == ["Calendars.ReadWrite", "Place.Read.All"]
    rooms = healthy.session.get(
        f"{healthy.base}/v1.0/places/microsoft.graph.room",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert rooms.status_code == 200


def test_wrong_secret_for_a_new_app(healthy: Served) -> None:
    app, _secret, _sp = register(Admin(healthy))
    response = client_token(healthy, app["appId"], data.WRONG_SECRET)
    assert response.status_code == 401
    assert_aadsts_shape(response.json(), 7000215, "invalid_client")


def test_secret_text_is_shown_only_once(healthy: Served) -> None:
    admin = Admin(healthy)
    app = admin.post("applications", app_body()).json()
    end = (datetime.now(UTC) + timedelta(days=180)).strftime("%Y-%m-%dT%H:%M:%SZ")
    password = admin.post(
        f"applications/{app['id']}/addPassword",
        {"passwordCredential": {"displayName": "six months", "endDateTime": end}},
    ).json()
    assert password["@odata.context"] == (
        f"{healthy.base}/v1.0/$metadata#microsoft.graph.passwordCredential"
    )
    assert len(password["secretText"]) == 40
    assert password["hint"] == password["secretText"][:3]
    assert password["endDateTime"].startswith(end[:19])
    listed = admin.get(f"applications/{app['id']}").json()["passwordCredentials"]
    assert [(c["keyId"], c["secretText"]) for c in listed] == [(password["keyId"], None)]
    by_app_id = admin.get(f"applications(appId='{app['appId']}')").json()
    assert by_app_id["id"] == app["id"]


# --- who may do what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "create", "add_to_organisation", "grant_graph_role"),
    [
        ("global-admin", 201, 201, 201),
        ("application-admin", 201, 201, 403),
        ("no-rights", 403, 403, 403),
    ],
)
def test_what_each_administrator_may_do(
    healthy: Served, who: AdminKey, create: int, add_to_organisation: int, grant_graph_role: int
) -> None:
    admin = Admin(healthy, who)
    created = admin.post("applications", app_body())
    assert created.status_code == create, created.text
    if create == 403:
        assert assert_graph_error(created, 403, "Authorization_RequestDenied") == INSUFFICIENT
        # What a Global Administrator made, this person may not add to the organisation either.
        app = Admin(healthy, "global-admin").post("applications", app_body()).json()
    else:
        app = created.json()
    sp = admin.post("servicePrincipals", {"appId": app["appId"]})
    assert sp.status_code == add_to_organisation, sp.text
    if add_to_organisation == 403:
        assert_graph_error(sp, 403, "Authorization_RequestDenied")
        sp = Admin(healthy, "global-admin").post("servicePrincipals", {"appId": app["appId"]})
    granted = grant(admin, sp.json()["id"], "Place.Read.All")
    assert granted.status_code == grant_graph_role, granted.text
    if grant_graph_role == 403:
        assert assert_graph_error(granted, 403, "Authorization_RequestDenied") == INSUFFICIENT


def test_the_signed_in_scopes_matter_too(healthy: Served) -> None:
    reader = Admin(healthy, "global-admin", scopes=("User.Read",))
    assert_graph_error(reader.post("applications", app_body()), 403, "Authorization_RequestDenied")
    assert_graph_error(reader.get("applications"), 403, "Authorization_RequestDenied")
    maker = Admin(healthy, "global-admin", scopes=("Application.ReadWrite.All",))
    app, _secret, sp = register(maker)
    assert_graph_error(grant(maker, sp["id"], "Place.Read.All"), 403, "Authorization_RequestDenied")
    assert grant(Admin(healthy), sp["id"], "Place.Read.All").status_code == 201
    assert maker.get(f"applications/{app['id']}").status_code == 200


def test_app_tokens_follow_their_roles(healthy: Served) -> None:
    writer = {
        "Authorization": "Bearer "
        + healthy.tenant.mint_token(healthy.base, ["Application.ReadWrite.All"])
    }
    created = healthy.session.post(
        f"{healthy.base}/v1.0/applications", headers=writer, json=app_body()
    )
    assert created.status_code == 201, created.text
    reader = healthy.bearer(["Application.Read.All"])
    refused = healthy.session.post(
        f"{healthy.base}/v1.0/applications", headers=reader, json=app_body(uniqueName="other")
    )
    assert_graph_error(refused, 403, "Authorization_RequestDenied")
    listed = healthy.graph(
        f"applications?$filter=tags/any(t:t eq '{APP_TAGS[0]}')&$select=id,appId",
        headers=reader,
    )
    assert listed.json()["value"] == [
        {"id": created.json()["id"], "appId": created.json()["appId"]}
    ]


def test_me_and_organization_answer_a_signed_in_administrator(healthy: Served) -> None:
    admin = Admin(healthy, "application-admin")
    me = admin.get("me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["@odata.context"] == f"{healthy.base}/v1.0/$metadata#users/$entity"
    administrator = data.ADMINISTRATORS["application-admin"]
    assert (body["id"], body["userPrincipalName"], body["displayName"]) == (
        administrator.id,
        administrator.username,
        administrator.display_name,
    )
    organization = admin.get("organization").json()["value"][0]
    assert (organization["id"], organization["displayName"]) == (
        data.TENANT_ID,
        data.TENANT_DISPLAY_NAME,
    )
    app_only = healthy.graph("me")
    message = assert_graph_error(app_only, 400, "BadRequest")
    assert message == "/me request is only valid with delegated authentication flow."


# --- finding, updating and removing ------------------------------------------------------------


def test_unique_name_upsert_creates_once_then_updates(healthy: Served) -> None:
    admin = Admin(healthy)
    path = f"applications(uniqueName='{APP_UNIQUE_NAME}')"
    missing = admin.patch(path, {"displayName": "Clearooms"})
    assert_graph_error(missing, 404, "Request_ResourceNotFound")
    body = app_body()
    del body["uniqueName"]
    first = admin.patch(path, body, Prefer="create-if-missing")
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["uniqueName"] == APP_UNIQUE_NAME
    again = admin.patch(path, {**body, "notes": "second run"}, Prefer="create-if-missing")
    assert again.status_code == 204
    assert again.content == b""
    found = admin.get(path).json()
    assert (found["id"], found["notes"]) == (created["id"], "second run")
    assert len(admin.get("applications").json()["value"]) == 2  # the scenario's and this one
    duplicate = admin.post("applications", app_body())
    message = assert_graph_error(duplicate, 400, "Request_MultipleObjectsWithSameKeyValue")
    assert message == "Another object with the same value for property uniqueName already exists."
    renamed = admin.patch(f"applications/{created['id']}", {"uniqueName": "something-else"})
    assert_graph_error(renamed, 400, "Request_BadRequest")


def test_filters_find_apps_by_tag_and_app_id(healthy: Served) -> None:
    admin = Admin(healthy)
    app = admin.post("applications", app_body()).json()
    by_tag = admin.get(
        "applications", params={"$filter": f"tags/any(t:t eq '{APP_TAGS[1]}')", "$select": "id"}
    ).json()
    assert by_tag["@odata.context"] == f"{healthy.base}/v1.0/$metadata#applications(id)"
    assert by_tag["value"] == [{"id": app["id"]}]
    by_app_id = admin.get("applications", params={"$filter": f"appId eq '{data.APP_ID}'"})
    assert [a["id"] for a in by_app_id.json()["value"]] == [data.APP_OBJECT_ID]
    unknown = admin.get("applications", params={"$filter": "startswith(displayName,'C')"})
    assert_graph_error(unknown, 400, "Request_BadRequest")


def test_patch_changes_an_app_and_rejects_what_graph_rejects(healthy: Served) -> None:
    admin = Admin(healthy)
    app = admin.post("applications", app_body()).json()
    changed = admin.patch(
        f"applications/{app['id']}", {"web": {"redirectUris": ["http://localhost/consent"]}}
    )
    assert changed.status_code == 204, changed.text
    after = admin.get(f"applications/{app['id']}?$select=id,web").json()
    assert after["web"]["redirectUris"] == ["http://localhost/consent"]
    unknown = admin.patch(f"applications/{app['id']}", {"colour": "blue"})
    message = assert_graph_error(unknown, 400, "Request_BadRequest")
    assert message == (
        "Property 'colour' does not exist as a declared property or extension property."
    )
    broken = healthy.session.patch(
        admin.url(f"applications/{app['id']}"),
        headers={**admin.headers, "Content-Type": "application/json"},
        data=b"{not json",
    )
    assert_graph_error(broken, 400, "BadRequest")
    nameless = admin.post("applications", {"signInAudience": "AzureADMyOrg"})
    message = assert_graph_error(nameless, 400, "Request_BadRequest")
    assert (
        message == "Invalid value specified for property 'displayName' of resource 'Application'."
    )
    not_there = admin.patch(f"applications/{data.UNKNOWN_CLIENT_ID}", {"notes": "x"})
    message = assert_graph_error(not_there, 404, "Request_ResourceNotFound")
    assert message == (
        f"Resource '{data.UNKNOWN_CLIENT_ID}' does not exist or one of its queried "
        "reference-property objects are not present."
    )


def test_a_service_principal_is_made_once_and_only_for_a_real_app(healthy: Served) -> None:
    admin = Admin(healthy)
    app, _secret, sp = register(admin)
    twice = admin.post("servicePrincipals", {"appId": app["appId"]})
    assert_graph_error(twice, 409, "Request_MultipleObjectsWithSameKeyValue")
    nothing = admin.post("servicePrincipals", {"appId": data.UNKNOWN_CLIENT_ID})
    message = assert_graph_error(nothing, 400, "Request_BadRequest")
    assert message == (
        f"The appId '{data.UNKNOWN_CLIENT_ID}' of the service principal does not reference a "
        "valid application object."
    )
    by_app_id = admin.get(f"servicePrincipals(appId='{app['appId']}')?$select=id,appId").json()
    assert by_app_id["id"] == sp["id"]
    listed = admin.get("servicePrincipals", params={"$filter": f"appId eq '{app['appId']}'"})
    assert [s["id"] for s in listed.json()["value"]] == [sp["id"]]
    graph = admin.delete(f"servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}")
    assert_graph_error(graph, 403, "Authorization_RequestDenied")


def test_grants_are_listed_refused_twice_and_revoked(healthy: Served) -> None:
    admin = Admin(healthy)
    app, secret, sp = register(admin)
    made = grant(admin, sp["id"], "Place.Read.All")
    assignment = made.json()
    assert assignment["@odata.context"] == (
        f"{healthy.base}/v1.0/$metadata#servicePrincipals('{GRAPH_SERVICE_PRINCIPAL_ID}')"
        "/appRoleAssignedTo/$entity"
    )
    assert assignment["principalType"] == "ServicePrincipal"
    assert assignment["resourceDisplayName"] == "Microsoft Graph"
    assert (assignment["principalId"], assignment["appRoleId"]) == (
        sp["id"],
        KNOWN_ROLE_IDS["Place.Read.All"],
    )
    again = grant(admin, sp["id"], "Place.Read.All")
    message = assert_graph_error(again, 400, "Request_BadRequest")
    assert message == "Permission being assigned already exists on the object"
    mine = admin.get(f"servicePrincipals/{sp['id']}/appRoleAssignments").json()
    assert mine["@odata.context"] == (
        f"{healthy.base}/v1.0/$metadata#servicePrincipals('{sp['id']}')/appRoleAssignments"
    )
    assert [a["id"] for a in mine["value"]] == [assignment["id"]]
    to_graph = admin.get(f"servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo")
    assert assignment["id"] in {a["id"] for a in to_graph.json()["value"]}
    no_such_role = admin.post(
        f"servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo",
        {
            "principalId": sp["id"],
            "resourceId": GRAPH_SERVICE_PRINCIPAL_ID,
            "appRoleId": data.UNKNOWN_CLIENT_ID,
        },
    )
    message = assert_graph_error(no_such_role, 400, "Request_BadRequest")
    assert message == f"Permission being assigned was not found on application '{GRAPH_APP_ID}'."
    nobody = admin.post(
        f"servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo",
        {
            "principalId": data.UNKNOWN_CLIENT_ID,
            "resourceId": GRAPH_SERVICE_PRINCIPAL_ID,
            "appRoleId": KNOWN_ROLE_IDS["Place.Read.All"],
        },
    )
    assert assert_graph_error(nobody, 400, "Request_BadRequest") == "Not a valid reference update."
    revoked = admin.delete(
        f"servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo/{assignment['id']}"
    )
    assert revoked.status_code == 204
    token = client_token(healthy, app["appId"], secret).json()["access_token"]
    assert "roles" not in decode_claims(token)
    gone = admin.delete(
        f"servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo/{assignment['id']}"
    )
    assert_graph_error(gone, 404, "Request_ResourceNotFound")


def test_removing_a_secret_and_deleting_the_app(healthy: Served) -> None:
    admin = Admin(healthy)
    app, secret, _sp = register(admin)
    key_id = admin.get(f"applications/{app['id']}").json()["passwordCredentials"][0]["keyId"]
    removed = admin.post(f"applications/{app['id']}/removePassword", {"keyId": key_id})
    assert removed.status_code == 204
    refused = client_token(healthy, app["appId"], secret)
    assert_aadsts_shape(refused.json(), 7000215, "invalid_client")
    twice = admin.post(f"applications/{app['id']}/removePassword", {"keyId": key_id})
    assert_graph_error(twice, 404, "Request_ResourceNotFound")
    deleted = admin.delete(f"applications/{app['id']}")
    assert deleted.status_code == 204
    assert_graph_error(admin.get(f"applications/{app['id']}"), 404, "Request_ResourceNotFound")
    gone = admin.get(f"servicePrincipals(appId='{app['appId']}')")
    assert_graph_error(gone, 404, "Request_ResourceNotFound")
    unknown = client_token(healthy, app["appId"], secret)
    assert_aadsts_shape(unknown.json(), 700016, "unauthorized_client")


def test_the_scenario_app_is_in_the_registry(healthy: Served) -> None:
    admin = Admin(healthy)
    sp = admin.get(f"servicePrincipals(appId='{data.APP_ID}')").json()
    assert sp["id"] == data.SERVICE_PRINCIPAL_ID
    granted = admin.get(f"servicePrincipals/{sp['id']}/appRoleAssignments").json()["value"]
    assert sorted(a["appRoleId"] for a in granted) == sorted(KNOWN_ROLE_IDS.values())
    deleted = admin.delete(f"servicePrincipals/{data.SERVICE_PRINCIPAL_ID}")
    assert deleted.status_code == 204
    response = healthy.token()
    assert_aadsts_shape(response.json(), 7000229, "invalid_client")
