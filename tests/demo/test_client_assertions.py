"""Certificates on the demo tenant over real HTTPS on loopback: the token endpoint takes a
client assertion (MSAL's, and hand-made ones that are wrong in one way each), keyCredentials
have Graph's shape, and a certificate is uploaded and removed through the administrator's
Graph without dropping the app's other certificates."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import replace
from typing import Any

import jwt
import pytest
import requests

from clearooms_wizard.core.certificate_upload import (
    CertificateUploadRefused,
    remove_certificate,
    upload_certificate,
)
from clearooms_wizard.core.certificates import CertificateCredential, create_certificate
from clearooms_wizard.core.checks import SettingsTest, Status
from clearooms_wizard.core.errors import GraphError, SignInError
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.provisioning import AdminGraph, app_token
from clearooms_wizard.core.tokens import TokenProvider
from clearooms_wizard.core.values import ConnectionInput, Credentials
from clearooms_wizard.demo import data
from clearooms_wizard.demo.key_credentials import (
    ASSERTION_TYPE,
    demo_certificate,
    demo_key_credential,
)
from clearooms_wizard.demo.tenant import Fault
from clearooms_wizard.runtime import open_session_factory
from tests.conftest import Served, ServeDemo
from tests.core.test_provisioning import admin_for


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token_url(served: Served) -> str:
    return f"{served.base_url}/{data.TENANT_ID}/oauth2/v2.0/token"


def _assertion(
    served: Served,
    signer: CertificateCredential,
    named: CertificateCredential,
    *,
    algorithm: str = "PS256",
    sha1: bool = False,
    **claims: Any,
) -> str:
    """A client assertion signed with ``signer``'s key, naming ``named``'s certificate."""
    now = time.time()
    payload = {
        "aud": _token_url(served),
        "iss": data.APP_ID,
        "sub": data.APP_ID,
        "exp": now + 600,
        "iat": now,
        "jti": "a1b2",
    }
    payload.update(claims)
    header = (
        {"x5t": _b64url(bytes.fromhex(named.sha1_thumbprint))}
        if sha1
        else {"x5t#S256": _b64url(bytes.fromhex(named.sha256_thumbprint))}
    )
    return jwt.encode(payload, signer.private_key_pem, algorithm=algorithm, headers=header)


def _post(served: Served, assertion: str) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": data.APP_ID,
        "scope": f"{served.base_url}/.default",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    return requests.post(_token_url(served), data=form, verify=served.ca_bundle, timeout=10)


def _code(response: requests.Response) -> int:
    codes = response.json()["error_codes"]
    assert isinstance(codes, list)
    return int(codes[0])


def _session(served: Served) -> MicrosoftSession:
    return MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle))


@pytest.fixture
def certified(serve_demo: ServeDemo) -> Served:
    return serve_demo("certificate")


def test_msal_signs_in_with_the_uploaded_certificate(certified: Served) -> None:
    cert = certified.tenant.scenario.credential_certificate()
    assert cert is not None
    credentials = Credentials(data.TENANT_ID, data.APP_ID, "", certificate=cert)
    session = _session(certified)
    token = TokenProvider(credentials, certified.cloud, session).acquire()
    assert set(data.REQUIRED_ROLES) <= set(token.roles or ())
    [request] = [r for r in certified.tenant.request_log() if r.path.endswith("/token")]
    # MSAL sent an assertion, not a secret.
    assert request.status == 200


@pytest.mark.parametrize("sha1", [False, True], ids=["PS256 x5t#S256", "RS256 x5t"])
def test_a_well_made_assertion_is_accepted_either_way_it_names_the_certificate(
    certified: Served, sha1: bool
) -> None:
    cert = demo_certificate(300.0)
    assertion = _assertion(certified, cert, cert, sha1=sha1, algorithm="RS256" if sha1 else "PS256")
    answer = _post(certified, assertion)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer"


def test_each_wrong_assertion_gets_entras_own_error(certified: Served) -> None:
    cert, stranger = demo_certificate(300.0), create_certificate(data.APP_ID)
    wrong_signature = _post(certified, _assertion(certified, stranger, cert))
    assert wrong_signature.status_code == 401 and _code(wrong_signature) == 700027
    assert "did not match the expected signature" in wrong_signature.json()["error_description"]
    unknown = _post(certified, _assertion(certified, stranger, stranger))
    assert _code(unknown) == 700027
    described = unknown.json()["error_description"]
    assert "not registered on application" in described
    assert stranger.sha1_thumbprint.upper() not in described  # it names the SHA-256 one
    assert stranger.sha256_thumbprint.upper() in described
    wrong_audience = _post(
        certified,
        _assertion(certified, cert, cert, aud=f"{certified.base_url}/common/oauth2/v2.0/token"),
    )
    assert _code(wrong_audience) == 700023
    expired = _post(certified, _assertion(certified, cert, cert, exp=time.time() - 3600))
    assert _code(expired) == 700024
    assert "not within its valid time range" in expired.json()["error_description"]
    not_yet = _post(certified, _assertion(certified, cert, cert, nbf=time.time() + 3600))
    assert _code(not_yet) == 700024
    other_app = _post(certified, _assertion(certified, cert, cert, iss="someone-else"))
    assert _code(other_app) == 700021
    for garbage in ("not.a.jwt", "x" * 20, ""):
        refused = _post(certified, garbage)
        assert refused.status_code in (400, 401)
    unsigned = jwt.encode({"aud": _token_url(certified)}, "", algorithm="none")
    assert _code(_post(certified, unsigned)) == 50027


def test_a_certificate_not_uploaded_fails_the_token_check_with_the_upload_fix(
    certified: Served,
) -> None:
    stranger = create_certificate(data.APP_ID)
    with pytest.raises(SignInError) as refused:
        app_token(_session(certified), certified.cloud, data.TENANT_ID, data.APP_ID, stranger)
    assert refused.value.aadsts == 700027
    connection = ConnectionInput(
        data.TENANT_ID, data.APP_ID, "", cloud=certified.cloud, certificate=stranger
    )
    test = SettingsTest(connection, open_session_factory(certified.ca_bundle))
    results = {r.id: r for r in test.run()}
    assert results["format"].status is Status.PASS
    assert "certificate" in results["format"].detail
    assert results["token"].status is Status.FAIL
    assert results["token"].code == "AADSTS700027"
    assert results["token"].fix is not None and "Certificates & secrets" in results["token"].fix


def test_test_settings_passes_with_a_certificate_and_reads_its_end_date(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("certificate-expiring")
    cert = served.tenant.scenario.credential_certificate()
    connection = ConnectionInput(
        served.tenant.scenario.tenant, data.APP_ID, "", cloud=served.cloud, certificate=cert
    )
    test = SettingsTest(connection, open_session_factory(served.ca_bundle))
    results = {r.id: r for r in test.run()}
    assert test.ok, [(r.id, r.detail) for r in results.values() if r.status is Status.FAIL]
    expiry = results["secret_expiry"]
    assert expiry.status is Status.WARN and expiry.code == "certificate_expiring"
    assert "in 10 days" in expiry.detail
    assert test.signed_in is not None and test.signed_in.certificate is cert


def test_key_credentials_have_graphs_shape_and_the_key_only_on_select(certified: Served) -> None:
    cert = demo_certificate(300.0)
    admin = admin_for(certified)
    graph = AdminGraph(_session(certified), certified.base_url, admin.bearer)
    listed = graph.get("/applications", {"$select": "id,keyCredentials"})["value"]
    [ours] = [a for a in listed if a["id"] == data.APP_OBJECT_ID]
    [key] = ours["keyCredentials"]
    assert key["key"] is None
    assert key["type"] == "AsymmetricX509Cert" and key["usage"] == "Verify"
    assert key["customKeyIdentifier"] == cert.sha1_thumbprint.upper()
    one = graph.get(f"/applications/{data.APP_OBJECT_ID}", {"$select": "keyCredentials"})
    assert base64.b64decode(one["keyCredentials"][0]["key"]) == cert.der


def test_a_certificate_is_uploaded_beside_the_others_then_removed(certified: Served) -> None:
    first, new = demo_certificate(300.0), create_certificate(data.APP_ID)
    graph = AdminGraph(_session(certified), certified.base_url, admin_for(certified).bearer)
    key_id = upload_certificate(graph, data.APP_OBJECT_ID, new)
    # Uploading the same certificate again changes nothing.
    assert upload_certificate(graph, data.APP_OBJECT_ID, new) == key_id
    app = certified.tenant.registry.application(data.APP_OBJECT_ID)
    assert app is not None
    assert {hashlib.sha1(k.der).hexdigest() for k in app.key_credentials} == {
        first.sha1_thumbprint,
        new.sha1_thumbprint,
    }
    for cert in (first, new):
        app_token(_session(certified), certified.cloud, data.TENANT_ID, data.APP_ID, cert)
    assert remove_certificate(graph, data.APP_OBJECT_ID, key_id)
    assert not remove_certificate(graph, data.APP_OBJECT_ID, key_id)
    with pytest.raises(SignInError):
        app_token(_session(certified), certified.cloud, data.TENANT_ID, data.APP_ID, new)
    app_token(_session(certified), certified.cloud, data.TENANT_ID, data.APP_ID, first)


def test_a_bad_key_is_refused_and_an_existing_one_never_dropped_silently(
    certified: Served,
) -> None:
    graph = AdminGraph(_session(certified), certified.base_url, admin_for(certified).bearer)
    bad = {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}
    with pytest.raises(GraphError, match="key"):
        graph.send("PATCH", f"/applications/{data.APP_OBJECT_ID}", body={"keyCredentials": [bad]})
    # Graph does not give an existing certificate back whole (its key is null): nothing is
    # changed rather than the certificate dropped.
    existing = demo_key_credential(300.0).to_graph(with_key=False)
    certified.tenant.inject(
        Fault(
            rf"/applications/{data.APP_OBJECT_ID}\?",
            method="GET",
            status=200,
            body={"id": data.APP_OBJECT_ID, "keyCredentials": [existing]},
        )
    )
    with pytest.raises(CertificateUploadRefused, match="Nothing was changed"):
        upload_certificate(graph, data.APP_OBJECT_ID, create_certificate(data.APP_ID))
    patches = [r for r in certified.tenant.request_log() if r.method == "PATCH"]
    assert [r.status for r in patches] == [400]
    app = certified.tenant.registry.application(data.APP_OBJECT_ID)
    assert app is not None and len(app.key_credentials) == 1


def test_a_key_that_does_not_belong_to_its_certificate_fails_the_format_check(
    certified: Served,
) -> None:
    cert, other = demo_certificate(300.0), create_certificate(data.APP_ID)
    mixed = replace(cert, private_key_pem=other.private_key_pem)
    connection = ConnectionInput(
        data.TENANT_ID, data.APP_ID, "", cloud=certified.cloud, certificate=mixed
    )
    test = SettingsTest(connection, open_session_factory(certified.ca_bundle))
    results = {r.id: r for r in test.run()}
    assert results["format"].status is Status.FAIL
    assert "does not belong" in results["format"].detail
    assert all(results[i].status is Status.SKIP for i in results if i != "format")
    # Nothing was sent to Microsoft.
    assert certified.tenant.request_log() == []


def test_a_certificate_the_app_does_not_list_skips_the_expiry_check(serve_demo: ServeDemo) -> None:
    served = serve_demo("certificate")
    cert = served.tenant.scenario.credential_certificate()
    connection = ConnectionInput(
        data.TENANT_ID, data.APP_ID, "", cloud=served.cloud, certificate=cert
    )
    # Graph lists the app's certificates without this one (another app's view, say).
    served.tenant.inject(
        Fault(
            r"/applications\(appId=",
            method="GET",
            status=200,
            body={"id": data.APP_OBJECT_ID, "passwordCredentials": [], "keyCredentials": []},
        )
    )
    test = SettingsTest(connection, open_session_factory(served.ca_bundle))
    results = {r.id: r for r in test.run()}
    assert results["token"].status is Status.PASS
    assert results["secret_expiry"].status is Status.SKIP
    assert "none of the app's certificates matched" in results["secret_expiry"].detail
