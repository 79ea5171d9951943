"""The demo identity platform over real HTTPS: discovery, token errors, token claims."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from clearooms_wizard.demo import DemoTenant, InProcessAdapter, data, decode_claims
from tests.demo.support import Served, TLSMaterial, assert_aadsts_shape, make_tls, serve

GUID = data.TENANT_ID


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return make_tls(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def healthy(tls: TLSMaterial) -> Iterator[Served]:
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        yield served


def discovery(served: Served, tenant: str) -> tuple[int, dict[str, object]]:
    response = served.session.get(f"{served.base}/{tenant}/v2.0/.well-known/openid-configuration")
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "tenant", [GUID, GUID.upper(), "northwind-demo.com", "NorthWind-Demo.OnMicrosoft.com"]
)
def test_discovery_resolves_the_tenant_to_its_guid(healthy: Served, tenant: str) -> None:
    status, config = discovery(healthy, tenant)
    assert status == 200
    base = healthy.base
    assert config["token_endpoint"] == f"{base}/{GUID}/oauth2/v2.0/token"
    assert config["authorization_endpoint"] == f"{base}/{GUID}/oauth2/v2.0/authorize"
    assert config["issuer"] == f"{base}/{GUID}/v2.0"
    assert config["jwks_uri"] == f"{base}/{GUID}/discovery/v2.0/keys"
    assert config["tenant_region_scope"] == "EU"
    assert config["msgraph_host"] == base.removeprefix("https://")


def test_discovery_uses_the_host_the_client_addressed(healthy: Served) -> None:
    url = f"https://localhost:{healthy.server.port}/{GUID}/v2.0/.well-known/openid-configuration"
    config = healthy.session.get(url).json()
    assert config["token_endpoint"].startswith(f"https://localhost:{healthy.server.port}/")


@pytest.mark.parametrize(
    ("host", "instance_name"),
    [
        ("login.demo.clearooms.invalid", "microsoftonline.com"),
        ("login.microsoft.com", "microsoftonline.com"),
        ("login.windows.net", "microsoftonline.com"),
        ("login.microsoftonline.us", "microsoftonline.us"),
        ("login.partner.microsoftonline.cn", "partner.microsoftonline.cn"),
    ],
)
def test_discovery_names_the_cloud_not_the_host(host: str, instance_name: str) -> None:
    """As Entra does: every worldwide host (and any other serving the demo) answers with the
    worldwide cloud's name."""
    tenant = DemoTenant("healthy", latency=0)
    session = requests.Session()
    mount = InProcessAdapter(tenant)
    session.mount(f"https://{host}/", mount)
    config = session.get(f"https://{host}/{GUID}/v2.0/.well-known/openid-configuration").json()
    assert config["cloud_instance_name"] == instance_name
    assert config["token_endpoint"] == f"https://{host}/{GUID}/oauth2/v2.0/token"


def test_discovery_over_loopback_names_the_worldwide_cloud(healthy: Served) -> None:
    assert discovery(healthy, GUID)[1]["cloud_instance_name"] == "microsoftonline.com"


def test_unknown_tenant_is_aadsts90002(healthy: Served) -> None:
    status, body = discovery(healthy, "contoso-typo.onmicrosoft.com")
    assert status == 400
    assert_aadsts_shape(body, 90002, "invalid_tenant")
    assert "Tenant 'contoso-typo.onmicrosoft.com' not found" in str(body["error_description"])
    status, body = discovery(healthy, "11111111-2222-3333-4444-555555555555")
    assert (status, body["error_codes"]) == (400, [90002])


@pytest.mark.parametrize(
    "tenant",
    ["authorize", "{{tenantid}}", "undefined", GUID[:-1], "oauth2 v2.0", "https:"],
)
def test_malformed_tenant_is_aadsts900023(healthy: Served, tenant: str) -> None:
    status, body = discovery(healthy, tenant)
    assert status == 400
    assert_aadsts_shape(body, 900023, "invalid_request")
    assert (
        f"Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid "
        "external domain." in str(body["error_description"])
    )


def test_organizations_discovery_has_a_placeholder_issuer(healthy: Served) -> None:
    status, config = discovery(healthy, "organizations")
    assert status == 200
    assert config["issuer"] == f"{healthy.base}/{{tenantid}}/v2.0"


def test_token_success(healthy: Served) -> None:
    response = healthy.token()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == body["ext_expires_in"] == 3599
    claims = decode_claims(body["access_token"])
    assert claims["aud"] == healthy.base
    assert claims["iss"] == f"https://sts.windows.net/{GUID}/"
    assert claims["tid"] == GUID
    assert claims["appid"] == data.APP_ID
    assert claims["appidacr"] == "1"
    assert claims["ver"] == "1.0"
    assert claims["oid"] == claims["sub"] == data.SERVICE_PRINCIPAL_ID
    assert claims["idp"] == claims["iss"]
    assert claims["nbf"] <= claims["iat"] < claims["exp"]
    assert claims["exp"] - claims["iat"] == 3599
    assert claims["roles"] == ["Calendars.ReadWrite", "Directory.Read.All", "Place.Read.All"]


def test_token_endpoint_accepts_a_domain_too(healthy: Served) -> None:
    assert healthy.token(tenant="northwind-demo.com").status_code == 200


@pytest.mark.parametrize(
    "scope",
    ["https://graph.microsoft.com/.default", "https://graph.demo.clearooms.invalid/.default"],
)
def test_token_accepts_known_graph_roots(healthy: Served, scope: str) -> None:
    response = healthy.token({"scope": scope})
    assert response.status_code == 200
    assert decode_claims(response.json()["access_token"])["aud"] == scope.removesuffix("/.default")


@pytest.mark.parametrize(
    ("scenario", "status", "error", "code", "fragment"),
    [
        ("wrong-secret", 401, "invalid_client", 7000215, "Invalid client secret provided."),
        (
            "secret-id-pasted",
            401,
            "invalid_client",
            7000215,
            "client secret value, not the client secret ID",
        ),
        ("expired-secret", 401, "invalid_client", 7000222, "are expired"),
        (
            "app-not-found",
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{data.APP_OBJECT_ID}' was not found in the "
            "directory 'Northwind Traders (demo)'",
        ),
        ("no-service-principal", 401, "invalid_client", 7000229, "missing service principal"),
        ("conditional-access", 400, "access_denied", 53003, "Conditional Access"),
    ],
)
def test_scenario_token_errors(
    tls: TLSMaterial, scenario: str, status: int, error: str, code: int, fragment: str
) -> None:
    with serve(DemoTenant(scenario, latency=0), tls) as served:
        response = served.token()
        assert response.status_code == status
        body = response.json()
        assert_aadsts_shape(body, code, error)
        assert fragment in body["error_description"]
        assert served.tenant.issued_token_count == 0


def test_correlation_id_echoes_client_request_id(healthy: Served) -> None:
    response = healthy.session.post(
        f"{healthy.base}/{GUID}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": data.APP_ID, "scope": "x"},
        headers={"client-request-id": "0f0e0d0c-0b0a-0908-0706-050403020100"},
    )
    body = response.json()
    assert body["correlation_id"] == "0f0e0d0c-0b0a-0908-0706-050403020100"
    assert response.headers["client-request-id"] == "0f0e0d0c-0b0a-0908-0706-050403020100"


@pytest.mark.parametrize(
    ("form", "status", "error", "code"),
    [
        ({"scope": "https://graph.microsoft.com/User.Read"}, 400, "invalid_scope", 1002012),
        ({"scope": "openid profile"}, 400, "invalid_scope", 1002012),
        (
            {"scope": "https://graph.microsoft.com/.default https://x.example/.default"},
            400,
            "invalid_scope",
            70011,
        ),
        ({"scope": "https://graph.example.com/.default"}, 400, "invalid_resource", 500011),
        ({"scope": None}, 400, "invalid_request", 900144),
        ({"grant_type": None}, 400, "invalid_request", 900144),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"client_id": None}, 400, "invalid_request", 900144),
        ({"client_secret": None}, 401, "invalid_client", 7000218),
        ({"client_secret": data.PREVIOUS_SECRET}, 401, "invalid_client", 7000222),
    ],
)
def test_token_request_validation(
    healthy: Served, form: dict[str, str | None], status: int, error: str, code: int
) -> None:
    response = healthy.token(form)
    assert response.status_code == status
    assert_aadsts_shape(response.json(), code, error)


def test_token_for_unknown_and_malformed_tenants(healthy: Served) -> None:
    response = healthy.token(tenant="contoso-typo.onmicrosoft.com")
    assert response.status_code == 400
    assert_aadsts_shape(response.json(), 90002, "invalid_request")
    response = healthy.token(tenant="undefined")
    assert_aadsts_shape(response.json(), 900023, "invalid_request")
    response = healthy.token(tenant="organizations")
    assert_aadsts_shape(response.json(), 50059, "invalid_request")


def test_token_endpoint_rejects_get(healthy: Served) -> None:
    response = healthy.session.get(f"{healthy.base}/{GUID}/oauth2/v2.0/token")
    assert response.status_code == 400
    assert_aadsts_shape(response.json(), 900561, "invalid_request")


def test_no_consent_token_has_no_roles_claim(tls: TLSMaterial) -> None:
    with serve(DemoTenant("no-consent", latency=0), tls) as served:
        response = served.token()
        assert response.status_code == 200
        claims = decode_claims(response.json()["access_token"])
        assert "roles" not in claims
        assert claims["tid"] == GUID


def test_missing_permission_token_lacks_calendars(tls: TLSMaterial) -> None:
    with serve(DemoTenant("missing-permission", latency=0), tls) as served:
        claims = decode_claims(served.token().json()["access_token"])
        assert claims["roles"] == ["Directory.Read.All", "Place.Read.All"]


def test_unknown_identity_path_is_an_html_404(healthy: Served) -> None:
    response = healthy.session.get(f"{healthy.base}/{GUID}/saml2")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


def test_instance_discovery(healthy: Served) -> None:
    response = healthy.session.get(
        f"{healthy.base}/common/discovery/instance",
        params={
            "authorization_endpoint": f"https://127.0.0.1/{GUID}/oauth2/v2.0/authorize",
            "api-version": "1.0",
        },
    )
    assert response.status_code == 200
    assert response.json()["tenant_discovery_endpoint"] == (
        f"{healthy.base}/{GUID}/v2.0/.well-known/openid-configuration"
    )
    response = healthy.session.get(
        f"{healthy.base}/common/discovery/instance",
        params={"authorization_endpoint": "https://login.evil.example/x/oauth2/v2.0/authorize"},
    )
    assert_aadsts_shape(response.json(), 50049, "invalid_instance")
