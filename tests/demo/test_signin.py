"""The demo's sign-in for people, over HTTPS, in Entra's shapes: the authorize page (form_post
and query), the authorization-code, refresh-token and device-code grants and their errors."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from clearooms_wizard.demo import data, decode_claims
from clearooms_wizard.demo.signin import DEVICE_CODE_GRANT, code_challenge_for
from clearooms_wizard.demo.tokens import b64url
from tests.conftest import Served, ServeDemo

REDIRECT = "http://localhost:50123"
SCOPES = (
    "{root}/Application.ReadWrite.All {root}/AppRoleAssignment.ReadWrite.All "
    "openid profile offline_access"
)


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values.get("action")
        if tag == "input" and values.get("type") == "hidden":
            self.fields[values.get("name") or ""] = values.get("value") or ""


def form_of(page: str) -> _Form:
    form = _Form()
    form.feed(page)
    return form


@pytest.fixture
def served(serve_demo: ServeDemo) -> Served:
    return serve_demo()


@pytest.fixture
def web(served: Served) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        session.verify = served.ca_bundle
        yield session


def authorize(
    served: Served, web: requests.Session, verifier: str, **overrides: str | None
) -> requests.Response:
    params: dict[str, str | None] = {
        "client_id": data.SETUP_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": SCOPES.format(root=served.base_url),
        "state": "st4te",
        "nonce": hashlib.sha256(b"our nonce").hexdigest(),
        "code_challenge": code_challenge_for(verifier),
        "code_challenge_method": "S256",
        "response_mode": "form_post",
        "client_info": "1",
    }
    params.update(overrides)
    return web.get(
        f"{served.base_url}/organizations/oauth2/v2.0/authorize",
        params={k: v for k, v in params.items() if v is not None},
        allow_redirects=False,
    )


def redeem(
    served: Served, web: requests.Session, code: str, verifier: str, **overrides: str
) -> requests.Response:
    form = {
        "client_id": data.SETUP_CLIENT_ID,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "scope": SCOPES.format(root=served.base_url),
    }
    form.update(overrides)
    return web.post(f"{served.base_url}/organizations/oauth2/v2.0/token", data=form)


def new_verifier() -> str:
    return b64url(secrets.token_bytes(32))


def test_the_authorize_page_posts_the_code_to_the_redirect_uri(
    served: Served, web: requests.Session
) -> None:
    page = authorize(served, web, new_verifier())
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    form = form_of(page.text)
    assert form.action == REDIRECT
    assert set(form.fields) == {"code", "client_info", "state", "session_state"}
    assert form.fields["state"] == "st4te"
    assert "document.forms[0].submit()" in page.text


def test_a_query_answer_is_a_redirect(served: Served, web: requests.Session) -> None:
    page = authorize(served, web, new_verifier(), response_mode="query")
    assert page.status_code == 302
    location = urlsplit(page.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == REDIRECT
    assert set(parse_qs(location.query)) == {"code", "client_info", "state", "session_state"}


def test_the_code_is_redeemed_once_for_the_administrators_tokens(
    served: Served, web: requests.Session
) -> None:
    verifier = new_verifier()
    code = form_of(authorize(served, web, verifier).text).fields["code"]
    answer = redeem(served, web, code, verifier)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"access_token", "id_token", "refresh_token", "client_info", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["scope"].split() == [
        f"{served.base_url}/Application.ReadWrite.All",
        f"{served.base_url}/AppRoleAssignment.ReadWrite.All",
    ]
    identity = decode_claims(body["id_token"])
    assert identity["aud"] == data.SETUP_CLIENT_ID
    assert identity["nonce"] == hashlib.sha256(b"our nonce").hexdigest()
    assert identity["preferred_username"] == data.ADMINISTRATORS["global-admin"].username
    assert identity["tid"] == data.TENANT_ID
    access = decode_claims(body["access_token"])
    assert access["aud"] == served.base_url
    assert access["idtyp"] == "user"
    assert data.GLOBAL_ADMINISTRATOR_ROLE in access["wids"]
    again = redeem(served, web, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert again.json()["error_codes"] == [54005]


def test_a_wrong_code_verifier_is_refused(served: Served, web: requests.Session) -> None:
    verifier = new_verifier()
    code = form_of(authorize(served, web, verifier).text).fields["code"]
    answer = redeem(served, web, code, new_verifier())
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert answer.json()["error_codes"] == [501481]


def test_another_redirect_uri_at_the_token_endpoint_is_refused(
    served: Served, web: requests.Session
) -> None:
    verifier = new_verifier()
    code = form_of(authorize(served, web, verifier).text).fields["code"]
    answer = redeem(served, web, code, verifier, redirect_uri="http://localhost:1")
    assert answer.json()["error_codes"] == [500112]


def test_a_missing_code_challenge_is_sent_back_as_an_error(
    served: Served, web: requests.Session
) -> None:
    page = authorize(served, web, new_verifier(), code_challenge=None)
    fields = form_of(page.text).fields
    assert fields["error"] == "invalid_request"
    assert fields["error_description"].startswith("AADSTS9002325")
    assert fields["state"] == "st4te"
    assert "code" not in fields


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://evil.example/callback", "http://localhost.evil.example:80", "http://10.0.0.1:80"],
)
def test_a_redirect_uri_that_is_not_loopback_gets_only_an_error_page(
    served: Served, web: requests.Session, redirect_uri: str
) -> None:
    page = authorize(served, web, new_verifier(), redirect_uri=redirect_uri)
    assert page.status_code == 200
    assert "AADSTS50011" in page.text
    assert "Location" not in page.headers
    assert form_of(page.text).action is None


def test_an_unknown_client_gets_an_error_page_and_a_refused_token(
    served: Served, web: requests.Session
) -> None:
    page = authorize(served, web, new_verifier(), client_id=data.UNKNOWN_CLIENT_ID)
    assert "AADSTS700016" in page.text
    assert form_of(page.text).action is None
    answer = redeem(served, web, "whatever", "v", client_id=data.UNKNOWN_CLIENT_ID)
    assert answer.status_code == 400
    assert answer.json()["error"] == "unauthorized_client"


def test_login_hint_chooses_the_administrator(served: Served, web: requests.Session) -> None:
    verifier = new_verifier()
    diego = data.ADMINISTRATORS["application-admin"].username
    code = form_of(authorize(served, web, verifier, login_hint=diego).text).fields["code"]
    body = redeem(served, web, code, verifier).json()
    assert decode_claims(body["id_token"])["preferred_username"] == diego
    assert decode_claims(body["access_token"])["wids"][0] == data.APPLICATION_ADMINISTRATOR_ROLE


def test_the_cancelling_scenario_sends_back_access_denied(serve_demo: ServeDemo) -> None:
    served = serve_demo("register-cancelled")
    with requests.Session() as web:
        web.verify = served.ca_bundle
        fields = form_of(authorize(served, web, new_verifier()).text).fields
    assert fields["error"] == "access_denied"
    assert fields["error_subcode"] == "cancel"
    assert fields["error_description"] == (
        "AADSTS65004: User declined to consent to access the app."
    )


def test_a_refresh_token_gets_a_new_access_token(served: Served, web: requests.Session) -> None:
    verifier = new_verifier()
    code = form_of(authorize(served, web, verifier).text).fields["code"]
    first = redeem(served, web, code, verifier).json()
    answer = web.post(
        f"{served.base_url}/organizations/oauth2/v2.0/token",
        data={
            "client_id": data.SETUP_CLIENT_ID,
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "scope": SCOPES.format(root=served.base_url),
        },
    )
    assert answer.status_code == 200
    assert answer.json()["access_token"] != first["access_token"]
    bad = web.post(
        f"{served.base_url}/organizations/oauth2/v2.0/token",
        data={
            "client_id": data.SETUP_CLIENT_ID,
            "grant_type": "refresh_token",
            "refresh_token": "not-one",
        },
    )
    assert bad.json()["error"] == "invalid_grant"


# -- device code --------------------------------------------------------------------------------


def device_code(served: Served, web: requests.Session) -> dict[str, Any]:
    answer = web.post(
        f"{served.base_url}/organizations/oauth2/v2.0/devicecode",
        data={"client_id": data.SETUP_CLIENT_ID, "scope": SCOPES.format(root=served.base_url)},
    )
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def poll(served: Served, web: requests.Session, code: str) -> requests.Response:
    return web.post(
        f"{served.base_url}/organizations/oauth2/v2.0/token",
        data={
            "client_id": data.SETUP_CLIENT_ID,
            "grant_type": DEVICE_CODE_GRANT,
            "device_code": code,
        },
    )


def test_a_device_code_is_pending_until_the_code_is_entered(
    served: Served, web: requests.Session
) -> None:
    served.tenant.sign_in.device_approval_delay = 3600
    flow = device_code(served, web)
    assert set(flow) == {
        "user_code",
        "device_code",
        "verification_uri",
        "expires_in",
        "interval",
        "message",
    }
    assert flow["interval"] == 5 and flow["expires_in"] == 900
    assert flow["user_code"] in flow["message"]
    pending = poll(served, web, flow["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"
    assert pending.json()["error_codes"] == [70016]
    assert web.get(flow["verification_uri"]).status_code == 200
    wrong = web.post(flow["verification_uri"], data={"otc": "WRONGCODE"})
    assert "didn't work" in wrong.text
    done = web.post(flow["verification_uri"], data={"otc": flow["user_code"].lower()})
    assert "You have signed in" in done.text
    signed_in = poll(served, web, flow["device_code"])
    assert signed_in.status_code == 200
    assert "access_token" in signed_in.json()
    used = poll(served, web, flow["device_code"])
    assert used.json()["error"] == "expired_token"


def test_a_device_code_is_approved_by_itself_after_a_while(
    served: Served, web: requests.Session
) -> None:
    served.tenant.sign_in.device_approval_delay = 0
    flow = device_code(served, web)
    assert poll(served, web, flow["device_code"]).status_code == 200


def test_a_device_code_expires(served: Served, web: requests.Session) -> None:
    served.tenant.sign_in.device_code_lifetime = 0
    served.tenant.sign_in.device_approval_delay = 3600
    flow = device_code(served, web)
    answer = poll(served, web, flow["device_code"])
    assert answer.json()["error"] == "expired_token"
    assert answer.json()["error_codes"] == [70020]


def test_a_device_code_is_declined_in_the_cancelling_scenario(serve_demo: ServeDemo) -> None:
    served = serve_demo("register-cancelled")
    served.tenant.sign_in.device_approval_delay = 0
    with requests.Session() as web:
        web.verify = served.ca_bundle
        flow = device_code(served, web)
        answer = poll(served, web, flow["device_code"])
    assert answer.json()["error"] == "authorization_declined"


def test_an_unknown_client_gets_no_device_code(served: Served, web: requests.Session) -> None:
    answer = web.post(
        f"{served.base_url}/organizations/oauth2/v2.0/devicecode",
        data={"client_id": data.UNKNOWN_CLIENT_ID, "scope": "openid"},
    )
    assert answer.status_code == 400
    assert answer.json()["error_codes"] == [700016]
