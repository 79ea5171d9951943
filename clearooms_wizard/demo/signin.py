"""The demo's Microsoft sign-in for people: the authorize page, the authorization-code,
refresh-token and device-code grants, and the device-code verification page.

Shaped as Entra ID shapes them for a public client (a desktop app signing an administrator in
with PKCE on a loopback redirect, or with a code typed on another device), so that MSAL and the
product's own loopback listener meet exactly what they meet at login.microsoftonline.com:
answers delivered to ``redirect_uri`` as an auto-submitting form (``response_mode=form_post``)
or a 302 with a query, one-time codes, PKCE checked, the ``nonce`` echoed in the ID token, and
AADSTS errors in Entra's words. Nobody types a password: the scenario's administrator (or the
one named by ``login_hint``) signs in at once, or cancels when the scenario says so.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from clearooms_wizard.demo import data
from clearooms_wizard.demo.identity import (
    aadsts_error,
    classify_tenant,
    post_only,
    resource_not_found,
)
from clearooms_wizard.demo.messages import DemoRequest, DemoResponse, json_response, new_guid
from clearooms_wizard.demo.scenarios import Scenario
from clearooms_wizard.demo.tokens import TokenStore, b64url

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# The grants a person's sign-in uses; the identity service hands these to this module.
DELEGATED_GRANTS = frozenset({"authorization_code", "refresh_token", DEVICE_CODE_GRANT})
SIGN_IN_PATHS = frozenset({"oauth2/v2.0/authorize", "oauth2/v2.0/devicecode", "oauth2/deviceauth"})

# Entra's lifetimes: an authorization code lasts ten minutes, a device code fifteen.
CODE_LIFETIME = 600.0
DEVICE_CODE_LIFETIME = 900
DEVICE_CODE_INTERVAL = 5
# The demo's stand-in for someone typing the code on their phone: approved this long after it
# was issued, so that ``--demo --device-code`` finishes by itself.
DEVICE_APPROVAL_DELAY = 3.0

# Scopes every token answer leaves out of `scope` (they are about the sign-in, not a resource).
_OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
# What ".default" stands for with Azure CLI's pre-authorised Microsoft Graph permissions.
_DEFAULT_SCOPES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "User.Read")
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_CANCELLED_TEXT = "User declined to consent to access the app."

_HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store, no-cache",
    "Pragma": "no-cache",
    "Expires": "-1",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "x-ms-ests-server": "2.1.19566.4 - WEULR1 ProdSlices",
}


@dataclass
class _Grant:
    """What an authorization code stands for until it is redeemed."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    scopes: tuple[str, ...]
    nonce: str | None
    user: data.Administrator
    expires_at: float
    redeemed: bool = False


@dataclass(frozen=True)
class _Refresh:
    client_id: str
    scopes: tuple[str, ...]
    user: data.Administrator


@dataclass
class _DeviceCode:
    client_id: str
    user_code: str
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float
    approved_by: data.Administrator | None = None
    declined: bool = False
    redeemed: bool = False


@dataclass(frozen=True)
class _Answer:
    """Where and how an authorize request is answered, once its redirect URI is trusted."""

    redirect_uri: str
    response_mode: str
    fields: Mapping[str, str] = field(default_factory=dict)


def code_challenge_for(verifier: str) -> str:
    """PKCE S256: base64url(SHA-256(verifier)) without padding."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _is_loopback_redirect(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        host = (parts.hostname or "").lower()
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and host in _LOOPBACK_HOSTS
        and not parts.username
        and not parts.password
        and not parts.query
        and not parts.fragment
    )


def _split_scopes(scope: str) -> tuple[str, ...]:
    return tuple(s for s in scope.split() if s)


class SignInService:
    """The sign-in pages and person grants of one demo tenant. Thread-safe."""

    # What the identity service hands over: these paths, and these grants at its token endpoint.
    paths = SIGN_IN_PATHS
    grants = DELEGATED_GRANTS

    def __init__(self, scenario: Scenario, tokens: TokenStore, graph_roots: Sequence[str]) -> None:
        self._scenario = scenario
        self._tokens = tokens
        self._graph_roots = tuple(graph_roots)
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}
        self._refresh_tokens: dict[str, _Refresh] = {}
        self._device_codes: dict[str, _DeviceCode] = {}
        self.device_approval_delay = DEVICE_APPROVAL_DELAY
        self.device_code_lifetime = DEVICE_CODE_LIFETIME

    def handle(self, request: DemoRequest, tenant: str, rest: str) -> DemoResponse:
        if rest == "oauth2/v2.0/authorize":
            return self._authorize(request, tenant)
        if rest == "oauth2/v2.0/devicecode":
            return self._device_code(request, tenant)
        return self._device_page(request)

    # --- the authorize page -----------------------------------------------------------------

    def _authorize(self, request: DemoRequest, tenant: str) -> DemoResponse:
        if request.method not in ("GET", "POST"):
            return _error_page("AADSTS900561", "The endpoint only accepts GET and POST requests.")
        params = self._authorize_params(request)
        kind = classify_tenant(tenant)
        if kind == "malformed":
            return _error_page(
                "AADSTS900023",
                f"Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a "
                "valid external domain.",
            )
        if kind == "unknown":
            return _error_page(
                "AADSTS90002",
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant "
                "ID and are signing into the correct cloud.",
            )
        client_id = params.get("client_id", "")
        if not client_id:
            return _error_page(
                "AADSTS900144",
                "The request body must contain the following parameter: 'client_id'.",
            )
        if client_id.lower() != data.SETUP_CLIENT_ID:
            return _error_page("AADSTS700016", _unknown_application(client_id))
        redirect_uri = params.get("redirect_uri", "")
        if not _is_loopback_redirect(redirect_uri):
            # Never redirected to: an address the app did not register gets only this page.
            return _error_page(
                "AADSTS50011",
                f"The redirect URI '{redirect_uri}' specified in the request does not match the "
                f"redirect URIs configured for the application '{client_id}'. Make sure the "
                "redirect URI sent in the request matches one added to your application in the "
                "Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more "
                "about how to fix this.",
            )
        response_mode = params.get("response_mode") or "query"
        if response_mode not in ("query", "form_post"):
            return _error_page(
                "AADSTS900144",
                f"The response_mode '{response_mode}' is not supported for this request.",
            )
        state = params.get("state")
        answer = _Answer(redirect_uri, response_mode)
        problem = self._authorize_problem(params)
        if problem is not None:
            error, text = problem
            return _deliver(answer, _error_fields(error, text, state))
        if self._scenario.sign_in_cancelled:
            fields = _error_fields("access_denied", f"AADSTS65004: {_CANCELLED_TEXT}", state)
            fields["error_subcode"] = "cancel"
            return _deliver(answer, fields)
        user = self._signing_in(params.get("login_hint"))
        code = "1.AQ" + b64url(secrets.token_bytes(96))
        with self._lock:
            self._codes[code] = _Grant(
                client_id=client_id.lower(),
                redirect_uri=redirect_uri,
                code_challenge=params["code_challenge"],
                scopes=_split_scopes(params.get("scope", "")),
                nonce=params.get("nonce"),
                user=user,
                expires_at=time.time() + CODE_LIFETIME,
            )
        fields = {"code": code}
        if params.get("client_info") == "1":
            fields["client_info"] = _client_info(user)
        if state is not None:
            fields["state"] = state
        fields["session_state"] = new_guid()
        return _deliver(answer, fields)

    def _authorize_params(self, request: DemoRequest) -> dict[str, str]:
        params: dict[str, str] = {}
        for key, value in request.query:
            params.setdefault(key, value)
        if request.method == "POST":
            try:
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                body = ""
            for key, value in parse_qsl(body, keep_blank_values=True):
                params.setdefault(key, value)
        return params

    def _authorize_problem(self, params: Mapping[str, str]) -> tuple[str, str] | None:
        """An error Entra sends back to the (trusted) redirect URI, as (error, description)."""
        if params.get("response_type") != "code":
            return (
                "unsupported_response_type",
                "AADSTS700054: response_type 'id_token' is not enabled for the application."
                if "id_token" in params.get("response_type", "")
                else "AADSTS900144: The request body must contain the following parameter: "
                "'response_type'.",
            )
        if not params.get("scope"):
            return (
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'scope'.",
            )
        if not params.get("code_challenge"):
            return (
                "invalid_request",
                "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin "
                "authorization code redemption.",
            )
        if params.get("code_challenge_method", "plain") != "S256":
            return (
                "invalid_request",
                "AADSTS501491: Invalid size of Code_Challenge parameter or the code challenge "
                "method is not supported. Use S256.",
            )
        return None

    def _signing_in(self, login_hint: str | None) -> data.Administrator:
        if login_hint:
            for admin in data.ADMINISTRATORS.values():
                if admin.username.lower() == login_hint.strip().lower():
                    return admin
        return data.ADMINISTRATORS[self._scenario.administrator]

    # --- the token endpoint -----------------------------------------------------------------

    def token(self, request: DemoRequest, form: Mapping[str, str]) -> DemoResponse:
        """The person grants of the token endpoint (the tenant in the path is already known)."""
        client_id = form.get("client_id", "")
        if not client_id:
            return _missing(request, "client_id")
        if client_id.lower() != data.SETUP_CLIENT_ID:
            return aadsts_error(
                request,
                status=400,
                error="unauthorized_client",
                code=700016,
                text=_unknown_application(client_id),
            )
        grant_type = form["grant_type"]
        if grant_type == "authorization_code":
            return self._redeem_code(request, form)
        if grant_type == "refresh_token":
            return self._redeem_refresh_token(request, form)
        return self._redeem_device_code(request, form)

    def _redeem_code(self, request: DemoRequest, form: Mapping[str, str]) -> DemoResponse:
        code = form.get("code", "")
        if not code:
            return _missing(request, "code")
        with self._lock:
            grant = self._codes.get(code)
            already = grant is not None and grant.redeemed
            if grant is not None:
                grant.redeemed = True
        if grant is None:
            return _invalid_grant(
                request, 9002313, "Invalid request. Request is malformed or invalid."
            )
        if already:
            return _invalid_grant(
                request,
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid "
                "code or use an existing refresh token.",
            )
        if grant.expires_at <= time.time():
            return _invalid_grant(
                request,
                70008,
                "The provided authorization code or refresh token has expired due to "
                "inactivity. Send a new interactive authorization request for this user and "
                "resource.",
            )
        if grant.client_id != form["client_id"].lower():
            return _invalid_grant(
                request, 9002313, "Invalid request. Request is malformed or invalid."
            )
        if form.get("redirect_uri", "") != grant.redirect_uri:
            return aadsts_error(
                request,
                status=400,
                error="invalid_client",
                code=500112,
                text=(
                    f"The reply address '{form.get('redirect_uri', '')}' does not match the "
                    f"reply address '{grant.redirect_uri}' provided when requesting "
                    "Authorization code."
                ),
            )
        verifier = form.get("code_verifier")
        if not verifier:
            return _missing(request, "code_verifier")
        if code_challenge_for(verifier) != grant.code_challenge:
            return _invalid_grant(
                request,
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the "
                "authorization request.",
            )
        scopes = _split_scopes(form["scope"]) if form.get("scope") else grant.scopes
        return self._tokens_for(request, grant.user, scopes, nonce=grant.nonce)

    def _redeem_refresh_token(self, request: DemoRequest, form: Mapping[str, str]) -> DemoResponse:
        token = form.get("refresh_token", "")
        if not token:
            return _missing(request, "refresh_token")
        with self._lock:
            held = self._refresh_tokens.get(token)
        if held is None or held.client_id != form["client_id"].lower():
            return _invalid_grant(
                request,
                9002313,
                "Invalid request. Request is malformed or invalid.",
            )
        scopes = _split_scopes(form["scope"]) if form.get("scope") else held.scopes
        return self._tokens_for(request, held.user, scopes, nonce=None)

    def _tokens_for(
        self,
        request: DemoRequest,
        user: data.Administrator,
        scopes: Sequence[str],
        *,
        nonce: str | None,
    ) -> DemoResponse:
        resource_scopes = [s for s in scopes if s.lower() not in _OIDC_SCOPES]
        resources = {s.rsplit("/", 1)[0].rstrip("/").lower() for s in resource_scopes if "/" in s}
        if len(resources) > 1:
            return aadsts_error(
                request,
                status=400,
                error="invalid_scope",
                code=28000,
                text=(
                    "Provided value for the input parameter scope is not valid because it "
                    "contains more than one resource. Scope "
                    f"{' '.join(scopes)} is not valid."
                ),
            )
        resource = resources.pop() if resources else self._graph_roots[0].rstrip("/")
        accepted = {root.rstrip("/").lower() for root in self._graph_roots}
        accepted.add(request.base.lower())
        if resource not in accepted:
            return resource_not_found(request, resource)
        names = [s.rsplit("/", 1)[-1] for s in resource_scopes] or ["User.Read"]
        granted: list[str] = []
        for name in names:
            for one in _DEFAULT_SCOPES if name == ".default" else (name,):
                if one not in granted:
                    granted.append(one)
        audience = next(
            (
                root.rstrip("/")
                for root in self._graph_roots
                if root.rstrip("/").lower() == resource
            ),
            request.base if resource == request.base.lower() else resource,
        )
        issued = self._tokens.issue_delegated(audience=audience, scopes=granted, user=user)
        refresh = "1.AQ" + b64url(secrets.token_bytes(192))
        with self._lock:
            self._refresh_tokens[refresh] = _Refresh(data.SETUP_CLIENT_ID, tuple(scopes), user)
        payload: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(f"{audience}/{name}" for name in granted),
            "expires_in": self._tokens.lifetime,
            "ext_expires_in": self._tokens.lifetime,
            "access_token": issued.token,
            "refresh_token": refresh,
        }
        if any(s.lower() == "openid" for s in scopes):
            payload["id_token"] = _id_token(request, user, nonce)
        if any(s.lower() in ("openid", "profile") for s in scopes):
            payload["client_info"] = _client_info(user)
        return json_response(200, payload, headers=_token_headers(request))

    # --- device code ------------------------------------------------------------------------

    def _device_code(self, request: DemoRequest, tenant: str) -> DemoResponse:
        if request.method != "POST":
            return post_only(request)
        kind = classify_tenant(tenant)
        if kind in ("malformed", "unknown"):
            return aadsts_error(
                request,
                status=400,
                error="invalid_request",
                code=90002,
                text=f"Tenant '{tenant}' not found.",
            )
        form = _form(request)
        client_id = form.get("client_id", "")
        if not client_id:
            return _missing(request, "client_id")
        if client_id.lower() != data.SETUP_CLIENT_ID:
            return aadsts_error(
                request,
                status=400,
                error="unauthorized_client",
                code=700016,
                text=_unknown_application(client_id),
            )
        if not form.get("scope"):
            return _missing(request, "scope")
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
        device_code = "DAQABIQEAAAB" + b64url(secrets.token_bytes(120))
        now = time.time()
        with self._lock:
            self._device_codes[device_code] = _DeviceCode(
                client_id=client_id.lower(),
                user_code=user_code,
                scopes=_split_scopes(form["scope"]),
                issued_at=now,
                expires_at=now + self.device_code_lifetime,
            )
        verification_uri = f"{request.base}/common/oauth2/deviceauth"
        payload = {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": self.device_code_lifetime,
            "interval": DEVICE_CODE_INTERVAL,
            "message": (
                f"To sign in, use a web browser to open the page {verification_uri} and enter "
                f"the code {user_code} to authenticate."
            ),
        }
        return json_response(200, payload, headers=_token_headers(request))

    def _redeem_device_code(self, request: DemoRequest, form: Mapping[str, str]) -> DemoResponse:
        device_code = form.get("device_code", "")
        if not device_code:
            return _missing(request, "device_code")
        now = time.time()
        with self._lock:
            pending = self._device_codes.get(device_code)
            due = pending is not None and now >= pending.issued_at + self.device_approval_delay
            if pending is not None and due and not (pending.approved_by or pending.declined):
                self._settle(pending, None)
            redeemed = pending is not None and pending.redeemed
            if pending is not None and pending.approved_by is not None:
                pending.redeemed = True
        if pending is None or pending.client_id != form["client_id"].lower():
            return _invalid_grant(
                request, 9002313, "Invalid request. Request is malformed or invalid."
            )
        if pending.expires_at <= now or redeemed:
            return aadsts_error(
                request,
                status=400,
                error="expired_token",
                code=70020,
                text=(
                    "The provided value for the input parameter 'device_code' is not valid. "
                    "This device code has expired."
                ),
            )
        if pending.declined:
            return aadsts_error(
                request,
                status=400,
                error="authorization_declined",
                code=65004,
                text=_CANCELLED_TEXT,
            )
        if pending.approved_by is None:
            return aadsts_error(
                request,
                status=400,
                error="authorization_pending",
                code=70016,
                text="OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        return self._tokens_for(request, pending.approved_by, pending.scopes, nonce=None)

    def _settle(self, pending: _DeviceCode, user: data.Administrator | None) -> None:
        """Approve (or, in the cancelling scenario, decline) a device code. Holds the lock."""
        if self._scenario.sign_in_cancelled:
            pending.declined = True
        else:
            pending.approved_by = user or data.ADMINISTRATORS[self._scenario.administrator]

    def _device_page(self, request: DemoRequest) -> DemoResponse:
        """microsoft.com/devicelogin: a form for the code, and its answer when submitted."""
        if request.method == "GET":
            return _page(
                200,
                "Enter code",
                "<p>Enter the code displayed on your app or device.</p>"
                f'<form method="post" action="{html.escape(request.base)}'
                '/common/oauth2/deviceauth">'
                '<input name="otc" autocomplete="off"><input name="login_hint" type="hidden">'
                '<input type="submit" value="Next"></form>',
            )
        if request.method != "POST":
            return _page(405, "Sign in to your account", "<p>Method not allowed.</p>")
        form = _form(request)
        user_code = form.get("otc", "").strip().upper()
        now = time.time()
        with self._lock:
            pending = next(
                (
                    c
                    for c in self._device_codes.values()
                    if c.user_code == user_code and c.expires_at > now
                ),
                None,
            )
            if pending is not None and not (pending.approved_by or pending.declined):
                self._settle(pending, self._hinted(form.get("login_hint")))
        if pending is None:
            return _page(
                200,
                "Enter code",
                "<p>That code didn't work. Check the code and try again.</p>",
            )
        if pending.declined:
            return _page(200, "Sign in to your account", f"<p>AADSTS65004: {_CANCELLED_TEXT}</p>")
        return _page(
            200,
            data.SETUP_CLIENT_NAME,
            f"<p>You have signed in to the {data.SETUP_CLIENT_NAME} application on your device. "
            "You may now close this window.</p>",
        )

    def _hinted(self, login_hint: str | None) -> data.Administrator | None:
        return self._signing_in(login_hint) if login_hint else None


# --- shapes ---------------------------------------------------------------------------------


def _unknown_application(client_id: str) -> str:
    return (
        f"Application with identifier '{client_id}' was not found in the directory "
        f"'{data.TENANT_DISPLAY_NAME}'. This can happen if the application has not been "
        "installed by the administrator of the tenant or consented to by any user in the "
        "tenant. You may have sent your authentication request to the wrong tenant."
    )


def _error_fields(error: str, description: str, state: str | None) -> dict[str, str]:
    fields = {"error": error, "error_description": description}
    if state is not None:
        fields["state"] = state
    return fields


def _deliver(answer: _Answer, fields: Mapping[str, str]) -> DemoResponse:
    """The answer to the redirect URI, as the request asked for it."""
    if answer.response_mode == "form_post":
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}" />'
            for k, v in fields.items()
        )
        body = (
            "<html><head><title>Working...</title></head><body>"
            f'<form method="POST" name="hiddenform" action="{html.escape(answer.redirect_uri)}">'
            f"{inputs}<noscript><p>Script is disabled. Click Submit to continue.</p>"
            '<input type="submit" value="Submit" /></noscript></form>'
            '<script language="javascript">document.forms[0].submit();</script>'
            "</body></html>"
        )
        return DemoResponse(200, dict(_HTML_HEADERS), body.encode("utf-8"))
    separator = "&" if "?" in answer.redirect_uri else "?"
    location = f"{answer.redirect_uri}{separator}{urlencode(dict(fields))}"
    headers = dict(_HTML_HEADERS)
    headers["Location"] = location
    body = (
        "<html><head><title>Object moved</title></head><body><h2>Object moved to "
        f'<a href="{html.escape(location)}">here</a>.</h2></body></html>'
    )
    return DemoResponse(302, headers, body.encode("utf-8"))


def _page(status: int, title: str, content: str) -> DemoResponse:
    body = (
        '<!DOCTYPE html><html dir="ltr" lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{content}</body></html>"
    )
    return DemoResponse(status, dict(_HTML_HEADERS), body.encode("utf-8"))


def _error_page(code: str, text: str) -> DemoResponse:
    """Entra's "Sign in to your account" page with the error, for problems it will not send to
    a redirect URI it cannot trust."""
    trace = new_guid()
    content = (
        "<h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p id="error-message">{html.escape(code)}: {html.escape(text)}</p>'
        f"<p>Request Id: {trace}</p>"
    )
    return _page(200, "Sign in to your account", content)


def _missing(request: DemoRequest, name: str) -> DemoResponse:
    return aadsts_error(
        request,
        status=400,
        error="invalid_request",
        code=900144,
        text=f"The request body must contain the following parameter: '{name}'.",
    )


def _invalid_grant(request: DemoRequest, code: int, text: str) -> DemoResponse:
    return aadsts_error(request, status=400, error="invalid_grant", code=code, text=text)


def _form(request: DemoRequest) -> dict[str, str]:
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return dict(parse_qsl(text, keep_blank_values=True))


def _client_info(user: data.Administrator) -> str:
    return b64url(json.dumps({"uid": user.id, "utid": data.TENANT_ID}).encode())


def _id_token(request: DemoRequest, user: data.Administrator, nonce: str | None) -> str:
    """An ID token (v2.0) for the setup client: unsigned, as every demo token is."""
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "kid": "DemoKey0Northwind0Unsigned0"}
    claims: dict[str, Any] = {
        "aud": data.SETUP_CLIENT_ID,
        "iss": f"{request.base}/{data.TENANT_ID}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": user.display_name,
        "oid": user.id,
        "preferred_username": user.username,
        "rh": "0." + b64url(secrets.token_bytes(24)) + ".",
        "sid": new_guid(),
        "sub": b64url(hashlib.sha256(user.id.encode()).digest()),
        "tid": data.TENANT_ID,
        "uti": b64url(secrets.token_bytes(16)),
        "ver": "2.0",
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return ".".join(
        (
            b64url(json.dumps(header, separators=(",", ":")).encode()),
            b64url(json.dumps(claims, separators=(",", ":")).encode()),
            b64url(secrets.token_bytes(256)),
        )
    )


def _token_headers(request: DemoRequest) -> dict[str, str]:
    headers = {
        "Cache-Control": "no-store, no-cache",
        "Pragma": "no-cache",
        "x-ms-request-id": new_guid(),
        "x-ms-ests-server": "2.1.19566.4 - WEULR1 ProdSlices",
    }
    client_request_id = request.header("client-request-id")
    if client_request_id:
        headers["client-request-id"] = client_request_id
    return headers


__all__ = [
    "DELEGATED_GRANTS",
    "DEVICE_CODE_GRANT",
    "SIGN_IN_PATHS",
    "SignInService",
    "code_challenge_for",
]
