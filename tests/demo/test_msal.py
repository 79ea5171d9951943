"""The real MSAL ConfidentialClientApplication against the demo, over HTTPS and in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msal
import pytest
import requests

from clearooms_wizard.demo import (
    DEMO_AUTHORITY_HOST,
    DEMO_GRAPH_ROOT,
    DemoTenant,
    data,
    decode_claims,
    mount_demo,
)
from tests.demo.support import TLSMaterial, make_tls, serve


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return make_tls(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def in_process() -> Iterator[tuple[DemoTenant, requests.Session]]:
    tenant = DemoTenant("healthy", latency=0)
    with requests.Session() as session:
        session.trust_env = False
        mount_demo(session, tenant)
        yield tenant, session


def make_app(
    tenant: DemoTenant, authority: str, http_client: requests.Session
) -> msal.ConfidentialClientApplication:
    scenario = tenant.scenario
    return msal.ConfidentialClientApplication(
        scenario.client_id,
        client_credential=scenario.client_secret,
        authority=f"{authority}/{scenario.tenant}",
        instance_discovery=False,
        http_client=http_client,
    )


def test_msal_over_loopback_https(tls: TLSMaterial) -> None:
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        app = make_app(served.tenant, served.base, served.session)
        assert app.authority.tenant == data.TENANT_ID
        result = app.acquire_token_for_client([f"{served.base}/.default"])
        assert result["token_type"] == "Bearer"
        assert result["token_source"] == "identity_provider"
        claims = decode_claims(result["access_token"])
        assert claims["tid"] == data.TENANT_ID
        assert "Place.Read.All" in claims["roles"]
        # MSAL's own cache answers the second call: no second token request.
        again = app.acquire_token_for_client([f"{served.base}/.default"])
        assert again["token_source"] == "cache"
        paths = [r.path for r in served.tenant.request_log()]
        assert paths == [
            "/northwind-demo.onmicrosoft.com/v2.0/.well-known/openid-configuration",
            f"/{data.TENANT_ID}/oauth2/v2.0/token",
        ]
        token_request = served.tenant.request_log()[1]
        assert token_request.method == "POST"
        assert "client-request-id" in {k.lower() for k in token_request.headers}
        # The token works against the demo's Graph on the same server.
        rooms = served.session.get(
            f"{served.base}/v1.0/places/microsoft.graph.room",
            headers={"Authorization": f"Bearer {result['access_token']}"},
        )
        assert rooms.status_code == 200
        assert len(rooms.json()["value"]) == 24


def test_msal_in_process(in_process: tuple[DemoTenant, requests.Session]) -> None:
    tenant, session = in_process
    app = make_app(tenant, DEMO_AUTHORITY_HOST, session)
    assert app.authority.tenant == data.TENANT_ID
    assert app.authority.token_endpoint == (
        f"{DEMO_AUTHORITY_HOST}/{data.TENANT_ID}/oauth2/v2.0/token"
    )
    result = app.acquire_token_for_client([f"{DEMO_GRAPH_ROOT}/.default"])
    assert result["token_type"] == "Bearer"
    assert decode_claims(result["access_token"])["aud"] == DEMO_GRAPH_ROOT
    response = session.get(
        f"{DEMO_GRAPH_ROOT}/v1.0/users/room.boardroom@northwind-demo.com/calendar",
        headers={"Authorization": f"Bearer {result['access_token']}"},
    )
    assert response.status_code == 200
    assert response.json()["owner"]["address"] == "room.boardroom@northwind-demo.com"


def test_msal_with_instance_discovery_pointed_at_the_demo(tls: TLSMaterial) -> None:
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        app = msal.ConfidentialClientApplication(
            data.APP_ID,
            client_credential=data.APP_SECRET,
            authority=f"{served.base}/northwind-demo.com",
            instance_discovery=f"{served.base}/common/discovery/instance",
            http_client=served.session,
        )
        assert app.authority.tenant == data.TENANT_ID


def test_msal_unknown_tenant_fails_at_construction(
    in_process: tuple[DemoTenant, requests.Session],
) -> None:
    _, session = in_process
    with pytest.raises(ValueError, match="double check your tenant name") as caught:
        msal.ConfidentialClientApplication(
            data.APP_ID,
            client_credential=data.APP_SECRET,
            authority=f"{DEMO_AUTHORITY_HOST}/contoso-typo.onmicrosoft.com",
            instance_discovery=False,
            http_client=session,
        )
    assert "AADSTS90002" in str(caught.value.__context__)


@pytest.mark.parametrize(
    ("scenario", "code"),
    [
        ("wrong-secret", 7000215),
        ("secret-id-pasted", 7000215),
        ("expired-secret", 7000222),
        ("app-not-found", 700016),
        ("no-service-principal", 7000229),
        ("conditional-access", 53003),
    ],
)
def test_msal_passes_aadsts_errors_through(scenario: str, code: int) -> None:
    tenant = DemoTenant(scenario, latency=0)
    with requests.Session() as session:
        session.trust_env = False
        mount_demo(session, tenant)
        app = make_app(tenant, DEMO_AUTHORITY_HOST, session)
        result = app.acquire_token_for_client([f"{DEMO_GRAPH_ROOT}/.default"])
    assert "access_token" not in result
    assert result["error_codes"] == [code]
    assert result["error_description"].startswith(f"AADSTS{code}:")


def test_msal_no_consent_still_gets_a_token() -> None:
    tenant = DemoTenant("no-consent", latency=0)
    with requests.Session() as session:
        session.trust_env = False
        mount_demo(session, tenant)
        result = make_app(tenant, DEMO_AUTHORITY_HOST, session).acquire_token_for_client(
            ["https://graph.microsoft.com/.default"]
        )
    assert "roles" not in decode_claims(result["access_token"])
