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
