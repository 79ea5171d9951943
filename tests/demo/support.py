"""Helpers shared by the demo tests: TLS material, HTTPS sessions and a served tenant.

Kept out of conftest.py on purpose; each test module builds its own small fixtures from these.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import trustme

from clearooms_wizard.demo import DemoServer, DemoTenant, data


@dataclass(frozen=True)
class TLSMaterial:
    server_context: ssl.SSLContext
    ca_bundle: str


def make_tls(directory: Path) -> TLSMaterial:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    bundle = directory / "demo-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return TLSMaterial(context, str(bundle))


def https_session(ca_bundle: str) -> requests.Session:
    session = requests.Session()
    # REQUESTS_CA_BUNDLE in the environment would otherwise replace `verify`.
    session.trust_env = False
    session.verify = ca_bundle
    return session


@dataclass
class Served:
    tenant: DemoTenant
    server: DemoServer
    session: requests.Session

    @property
    def base(self) -> str:
        return self.server.base_url

    def token(
        self, overrides: Mapping[str, str | None] | None = None, *, tenant: str = data.TENANT_ID
    ) -> requests.Response:
        """POST the client-credentials form with the scenario's credentials.

        `overrides` replaces form fields; a None value leaves the field out.
        """
        scenario = self.tenant.scenario
        body: dict[str, str | None] = {
            "client_id": scenario.client_id,
            "client_secret": scenario.client_secret,
            "grant_type": "client_credentials",
            "scope": f"{self.base}/.default",
            "client_info": "1",
        }
        body.update(overrides or {})
        sent = {key: value for key, value in body.items() if value is not None}
        return self.session.post(f"{self.base}/{tenant}/oauth2/v2.0/token", data=sent)

    def bearer(self, roles: Any = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.tenant.mint_token(self.base, roles)}

    def graph(self, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", None) or self.bearer()
        return self.session.get(f"{self.base}/v1.0/{path}", headers=headers, **kwargs)


@contextmanager
def serve(tenant: DemoTenant, tls: TLSMaterial) -> Iterator[Served]:
    with DemoServer(tenant, tls.server_context) as server, https_session(tls.ca_bundle) as s:
        yield Served(tenant, server, s)


def assert_aadsts_shape(body: dict[str, Any], code: int, error: str) -> None:
    assert set(body) == {
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    }
    assert body["error"] == error
    assert body["error_codes"] == [code]
    description = body["error_description"]
    assert description.startswith(f"AADSTS{code}: ")
    lines = description.split("\r\n")
    assert lines[1] == f"Trace ID: {body['trace_id']}"
    assert lines[2] == f"Correlation ID: {body['correlation_id']}"
    assert lines[3] == f"Timestamp: {body['timestamp']}"
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"


def assert_graph_error(response: requests.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    inner = error["innerError"]
    assert inner["request-id"] == response.headers["request-id"]
    assert inner["client-request-id"] == response.headers["client-request-id"]
    assert "date" in inner
    return str(error["message"])
