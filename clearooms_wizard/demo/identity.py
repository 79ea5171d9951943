"""The demo's Microsoft identity platform: OpenID discovery and the client-credentials token."""

from __future__ import annotations

import contextlib
import html
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

from clearooms_wizard.core.app_setup import PRIVILEGED_ROLE_ADMINISTRATOR
from clearooms_wizard.demo import data
from clearooms_wizard.demo.messages import (
    DemoRequest,
    DemoResponse,
    json_response,
    new_guid,
    utc_now,
)
from clearooms_wizard.demo.registry import Application, Conflict, Registry
from clearooms_wizard.demo.scenarios import Scenario
from clearooms_wizard.demo.tokens import TokenStore
from clearooms_wizard.demo.urls import DEMO_AUTHORITY_HOST, DEMO_GRAPH_ROOT

GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
DNS_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE
)
SPECIAL_TENANTS = frozenset({"common", "organizations", "consumers"})

_ESTS_HEADERS = {
    "Cache-Control": "no-store, no-cache",
    "Pragma": "no-cache",
    "Expires": "-1",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "P3P": 'CP="DSP CUR OTPi IND OTRi ONL FIN"',
    "x-ms-ests-server": "2.1.19566.4 - WEULR1 ProdSlices",
    "X-XSS-Protection": "0",
}

# What Entra's discovery answers as `cloud_instance_name`: the name of the cloud, never the
# host's own domain. Every worldwide host (login.microsoft.com, login.windows.net...) answers
# "microsoftonline.com", and so does any other host serving the demo (its own, loopback, a proxy
# in front of it); the hosts of the national clouds answer with their cloud's name.
_WORLDWIDE_INSTANCE = "microsoftonline.com"
_CLOUD_INSTANCE_BY_HOST = {
    "login.microsoftonline.us": "microsoftonline.us",
    "login-us.microsoftonline.com": "microsoftonline.us",
    "login.usgovcloudapi.net": "microsoftonline.us",
    "login.partner.microsoftonline.cn": "partner.microsoftonline.cn",
    "login.chinacloudapi.cn": "partner.microsoftonline.cn",
}

_TENANT_NOT_FOUND = (
    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
    "signing into the correct cloud. Check with your subscription administrator, this may "
    "happen if there are no active subscriptions for the tenant."
)


def ests_timestamp(moment: datetime) -> str:
    # Entra's own format: space separator, whole seconds, trailing Z.
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def aadsts_error(
    request: DemoRequest | None,
    *,
    status: int,
    error: str,
    code: int,
    text: str,
    extra_headers: Mapping[str, str] | None = None,
) -> DemoResponse:
    """An error exactly in the shape the identity platform sends (see
    https://learn.microsoft.com/entra/identity-platform/reference-error-codes)."""
    trace_id = new_guid()
    # Entra reuses the caller's client-request-id (MSAL always sends one) as correlation id.
    correlation_id = (request.header("client-request-id") if request else None) or new_guid()
    stamp = ests_timestamp(utc_now())
    payload = {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {text}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    headers = dict(_ESTS_HEADERS)
    headers["x-ms-request-id"] = trace_id
    if request and request.header("client-request-id"):
        headers["client-request-id"] = correlation_id
    headers.update(extra_headers or {})
    return json_response(status, payload, headers=headers)


def post_only(request: DemoRequest) -> DemoResponse:
    """Entra's answer to a GET (or any other method) at an endpoint that takes only POST."""
    return aadsts_error(
        request,
        status=400,
        error="invalid_request",
        code=900561,
        text=(
            f"The endpoint only accepts POST, OPTIONS requests. Received a {request.method} "
            "request."
        ),
    )


def resource_not_found(request: DemoRequest, resource: str) -> DemoResponse:
    """Entra's answer to a token asked for a resource the tenant does not have."""
    return aadsts_error(
        request,
        status=400,
        error="invalid_resource",
        code=500011,
        text=(
            f"The resource principal named {resource} was not found in the tenant named "
            f"{data.TENANT_DISPLAY_NAME}. This can happen if the application has not been "
            "installed by the administrator of the tenant or consented to by any user in the "
            "tenant. You might have sent your authentication request to the wrong tenant."
        ),
    )


def classify_tenant(name: str) -> str:
    """ "ours", "special" (common/organizations/consumers), "unknown" or "malformed"."""
    lowered = name.lower()
    if lowered == data.TENANT_ID or lowered in data.DOMAINS:
        return "ours"
    if lowered in SPECIAL_TENANTS:
        return "special"
    if GUID_RE.match(name) or DNS_RE.match(name):
        return "unknown"
    return "malformed"


def graph_root_for(base: str) -> str:
    """The Graph root that pairs with an identity host, as `msgraph_host` advertises it."""
    return DEMO_GRAPH_ROOT if base.lower() == DEMO_AUTHORITY_HOST else base


class IdentityService:
    def __init__(
        self,
        scenario: Scenario,
        registry: Registry,
        tokens: TokenStore,
        graph_roots: Sequence[str],
    ) -> None:
        self._scenario = scenario
        self._registry = registry
        self._tokens = tokens
        self._graph_roots = tuple(root.rstrip("/").lower() for root in graph_roots)
        from clearooms_wizard.demo.signin import SignInService  # it builds on this module

        self.sign_in = SignInService(scenario, tokens, graph_roots)

    def handle(self, request: DemoRequest) -> DemoResponse:
        segments = request.path.split("/")[1:]
        if not segments or not segments[0]:
            return self._not_found()
        tenant, rest = segments[0], "/".join(segments[1:])
        if tenant.lower() == "common" and rest == "discovery/instance":
            return self._instance_discovery(request)
        if rest in ("v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"):
            return self._openid_configuration(request, tenant, v2=rest.startswith("v2.0"))
        if rest in ("discovery/v2.0/keys", "discovery/keys"):
            return self._keys(request, tenant)
        if rest == "oauth2/v2.0/token":
            return self._token(request, tenant)
        if rest in self.sign_in.paths:
            return self.sign_in.handle(request, tenant, rest)
        if rest == "v2.0/adminconsent":
            return self._admin_consent(request, tenant)
        return self._not_found()

    # --- discovery --------------------------------------------------------------------------

    def _tenant_problem(self, request: DemoRequest, tenant: str) -> DemoResponse | None:
        kind = classify_tenant(tenant)
        if kind == "malformed":
            return aadsts_error(
                request,
                status=400,
                error="invalid_request",
                code=900023,
                text=(
                    f"Specified tenant identifier '{tenant}' is neither a valid DNS name, "
                    "nor a valid external domain."
                ),
            )
        if kind == "unknown":
            return aadsts_error(
                request,
                status=400,
                error="invalid_tenant",
                code=90002,
                text=_TENANT_NOT_FOUND.format(tenant=tenant),
            )
        return None

    def _openid_configuration(self, request: DemoRequest, tenant: str, *, v2: bool) -> DemoResponse:
        if request.method not in ("GET", "HEAD"):
            return self._not_found()
        problem = self._tenant_problem(request, tenant)
        if problem is not None:
            return problem
        base = request.base
        special = classify_tenant(tenant) == "special"
        path_tenant = tenant.lower() if special else data.TENANT_ID
        issuer_tenant = "{tenantid}" if special else data.TENANT_ID
        graph = urlsplit(graph_root_for(base))
        root = f"{base}/{path_tenant}"
        if v2:
            config: dict[str, object] = {
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{root}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/{issuer_tenant}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{graph.scheme}://{graph.netloc}/oidc/userinfo",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            }
        else:
            config = {
                "token_endpoint": f"{root}/oauth2/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/common/discovery/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
                "scopes_supported": ["openid"],
                "issuer": f"https://sts.windows.net/{issuer_tenant}/",
                "authorization_endpoint": f"{root}/oauth2/authorize",
                "device_authorization_endpoint": f"{root}/oauth2/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{root}/oauth2/logout",
            }
        config.update(
            {
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "ver"],
                "kerberos_endpoint": f"{root}/kerberos",
                "tenant_region_scope": None if special else data.TENANT_REGION_SCOPE,
                "cloud_instance_name": _CLOUD_INSTANCE_BY_HOST.get(
                    request.hostname, _WORLDWIDE_INSTANCE
                ),
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": graph.netloc,
                "rbac_url": "https://pas.windows.net",
            }
        )
        return json_response(200, config, headers=self._ok_headers(request))

    def _keys(self, request: DemoRequest, tenant: str) -> DemoResponse:
        problem = self._tenant_problem(request, tenant)
        if problem is not None:
            return problem
        # Demo tokens are unsigned, so there is honestly no key to publish.
        return json_response(200, {"keys": []}, headers=self._ok_headers(request))

    def _instance_discovery(self, request: DemoRequest) -> DemoResponse:
        host = request.hostname
        metadata = [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]
        endpoint = request.query_value("authorization_endpoint")
        tenant = "common"
        if endpoint:
            parts = urlsplit(endpoint)
            # MSAL sends the authority host without its port, so compare host names only.
            if (parts.hostname or "").lower() != host:
                return aadsts_error(
                    request,
                    status=400,
                    error="invalid_instance",
                    code=50049,
                    text="Unknown or invalid instance.",
                )
            tenant = [*parts.path.split("/"), "", ""][1] or "common"
        payload = {
            "tenant_discovery_endpoint": (
                f"{request.base}/{tenant}/v2.0/.well-known/openid-configuration"
            ),
            "api-version": request.query_value("api-version") or "1.1",
            "metadata": metadata,
        }
        return json_response(200, payload, headers=self._ok_headers(request))

    # --- token ------------------------------------------------------------------------------

    def _token(self, request: DemoRequest, tenant: str) -> DemoResponse:
        if request.method != "POST":
            return post_only(request)
        kind = classify_tenant(tenant)
        if kind == "malformed":
            return self._tenant_problem(request, tenant) or self._not_found()
        if kind == "unknown":
            return aadsts_error(
                request,
                status=400,
                error="invalid_request",
                code=90002,
                text=_TENANT_NOT_FOUND.format(tenant=tenant),
            )
        form = self._form(request)
        if form.get("grant_type") in self.sign_in.grants:
            return self.sign_in.token(request, form)
        missing = next((p for p in ("grant_type", "client_id", "scope") if not form.get(p)), None)
        if missing == "grant_type":
            return self._missing_parameter(request, "grant_type")
        if form["grant_type"] != "client_credentials":
            return aadsts_error(
                request,
                status=400,
                error="unsupported_grant_type",
                code=70003,
                text=f"The app requested an unsupported grant type '{form['grant_type']}'.",
            )
        if missing:
            return self._missing_parameter(request, missing)
        if kind == "special":
            return aadsts_error(
                request,
                status=400,
                error="invalid_request",
                code=50059,
                text=(
                    "No tenant-identifying information found in either the request or implied "
                    "by any provided credentials."
                ),
            )
        scope_problem, resource = self._check_scope(request, form["scope"])
        if scope_problem is not None:
            return scope_problem
        client_id = form["client_id"]
        # Only what has reached the sign-in service: a new app, secret or grant is seen here
        # some seconds after Graph accepted it.
        app = self._registry.application_by_app_id(client_id)
        if app is None:
            return aadsts_error(
                request,
                status=400,
                error="unauthorized_client",
                code=700016,
                text=(
                    f"Application with identifier '{client_id}' was not found in the directory "
                    f"'{data.TENANT_DISPLAY_NAME}'. This can happen if the application has not "
                    "been installed by the administrator of the tenant or consented to by any "
                    "user in the tenant. You may have sent your authentication request to the "
                    "wrong tenant."
                ),
            )
        service_principal = self._registry.service_principal_by_app_id(app.app_id)
        if service_principal is None:
            return aadsts_error(
                request,
                status=401,
                error="invalid_client",
                code=7000229,
                text=(
                    f"The client application {client_id} is missing service principal in the "
                    f"tenant {data.TENANT_ID}. See instructions here: "
                    "https://go.microsoft.com/fwlink/?linkid=2225119"
                ),
            )
        if form.get("client_assertion") or form.get("client_assertion_type"):
            secret_problem = self._check_assertion(request, form, tenant, app)
        else:
            secret_problem = self._check_secret(request, form.get("client_secret"), client_id, app)
        if secret_problem is not None:
            return secret_problem
        if resource.rstrip("/").lower() not in self._accepted_resources(request):
            return resource_not_found(request, resource)
        if self._scenario.conditional_access_block:
            return aadsts_error(
                request,
                status=400,
                error="access_denied",
                code=53003,
                text=(
                    "Access has been blocked by Conditional Access policies. The access policy "
                    "does not allow token issuance."
                ),
            )
        issued = self._tokens.issue(
            audience=resource.rstrip("/"),
            roles=self._registry.graph_roles_of(service_principal.id),
            app_id=app.app_id,
            app_display_name=app.display_name,
            service_principal_id=service_principal.id,
        )
        payload = {
            "token_type": "Bearer",
            "expires_in": self._tokens.lifetime,
            "ext_expires_in": self._tokens.lifetime,
            "access_token": issued.token,
        }
        return json_response(200, payload, headers=self._ok_headers(request))

    def _form(self, request: DemoRequest) -> dict[str, str]:
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            # Entra reads only form bodies; JSON bodies look like no parameters at all.
            return {}
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        return dict(parse_qsl(text, keep_blank_values=True))

    def _missing_parameter(self, request: DemoRequest, name: str) -> DemoResponse:
        return aadsts_error(
            request,
            status=400,
            error="invalid_request",
            code=900144,
            text=f"The request body must contain the following parameter: '{name}'.",
        )

    def _check_scope(self, request: DemoRequest, scope: str) -> tuple[DemoResponse | None, str]:
        scopes = scope.split()
        if any(not s.endswith("/.default") for s in scopes):
            return (
                aadsts_error(
                    request,
                    status=400,
                    error="invalid_scope",
                    code=1002012,
                    text=(
                        f"The provided value for scope {scope} is not valid. Client credential "
                        "flows must have a scope value with /.default suffixed to the resource "
                        "identifier (application ID URI)."
                    ),
                ),
                "",
            )
        if len(scopes) != 1:
            return (
                aadsts_error(
                    request,
                    status=400,
                    error="invalid_scope",
                    code=70011,
                    text=(
                        "The provided value for the input parameter 'scope' is not valid. "
                        f"The scope {scope} is not valid."
                    ),
                ),
                "",
            )
        return None, scopes[0].removesuffix("/.default")

    def _accepted_resources(self, request: DemoRequest) -> set[str]:
        accepted = set(self._graph_roots)
        accepted.add(request.base.lower())
        accepted.add(data.GRAPH_APP_ID)
        return accepted

    def _check_secret(
        self, request: DemoRequest, secret: str | None, client_id: str, app: Application
    ) -> DemoResponse | None:
        if not secret:
            return aadsts_error(
                request,
                status=401,
                error="invalid_client",
                code=7000218,
                text=(
                    "The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'."
                ),
            )
        visible = self._registry.visible_secrets(app)
        match = next(
            (c for c in visible if secrets.compare_digest(c.text.encode(), secret.encode())), None
        )
        if match is None:
            return aadsts_error(
                request,
                status=401,
                error="invalid_client",
                code=7000215,
                text=(
                    "Invalid client secret provided. Ensure the secret being sent in the "
                    "request is the client secret value, not the client secret ID, for a "
                    f"secret added to app '{client_id}'."
                ),
            )
        if match.end <= utc_now():
            return aadsts_error(
                request,
                status=401,
                error="invalid_client",
                code=7000222,
                text=(
                    f"The provided client secret keys for app '{client_id}' are expired. "
                    "Visit the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate "
                    "credentials for added security: https://aka.ms/certCreds."
                ),
            )
        return None

    def _check_assertion(
        self, request: DemoRequest, form: Mapping[str, str], tenant: str, app: Application
    ) -> DemoResponse | None:
        """A certificate sign-in: the client assertion, checked as Entra checks it."""
        from clearooms_wizard.demo.key_credentials import ASSERTION_TYPE, check_assertion

        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return aadsts_error(
                request,
                status=400,
                error="invalid_request",
                code=50027,
                text="JWT token is invalid or malformed.",
            )
        audiences = {
            f"{request.base}/{name}/oauth2/{version}token"
            for name in (data.TENANT_ID, *data.DOMAINS, tenant.lower())
            for version in ("v2.0/", "")
        }
        problem = check_assertion(
            form.get("client_assertion") or "",
            form["client_id"],
            app.app_id,
            self._registry.visible_certificates(app),
            audiences,
            utc_now(),
        )
        if problem is None:
            return None
        return aadsts_error(
            request,
            status=problem.status,
            error=problem.error,
            code=problem.code,
            text=problem.text,
        )

    # --- admin consent ----------------------------------------------------------------------

    def _admin_consent(self, request: DemoRequest, tenant: str) -> DemoResponse:
        """Microsoft's admin-consent page: an administrator signs in and grants the app every
        Microsoft Graph application permission it lists, then the answer goes to redirect_uri."""
        if request.method not in ("GET", "HEAD"):
            return self._not_found()
        kind = classify_tenant(tenant)
        if kind in ("malformed", "unknown"):
            text = (
                _TENANT_NOT_FOUND.format(tenant=tenant)
                if kind == "unknown"
                else f"Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a "
                "valid external domain."
            )
            return consent_error_page(90002 if kind == "unknown" else 900023, text)
        client_id = request.query_value("client_id") or ""
        app = self._registry.application_by_app_id(client_id) if client_id else None
        if app is None:
            return consent_error_page(
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{data.TENANT_DISPLAY_NAME}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the "
                "tenant. You may have sent your authentication request to the wrong tenant.",
            )
        redirect_uri = request.query_value("redirect_uri") or (app.redirect_uris or ("",))[0]
        if not any(redirect_matches(redirect_uri, known) for known in app.redirect_uris):
            return consent_error_page(
                50011,
                f"The redirect URI '{redirect_uri}' specified in the request does not match the "
                f"redirect URIs configured for the application '{app.app_id}'. Make sure the "
                "redirect URI sent in the request matches one added to your application in the "
                "Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more "
                "about how to fix this.",
            )
        state = request.query_value("state")
        scope = request.query_value("scope") or ""
        if not scope:
            return consent_redirect(
                redirect_uri,
                state,
                error="invalid_request",
                error_description=(
                    "AADSTS900144: The request body must contain the following parameter: 'scope'."
                ),
            )
        if self._scenario.sign_in_cancelled:
            return consent_redirect(
                redirect_uri,
                state,
                error="access_denied",
                error_subcode="cancel",
                error_description="AADSTS65004: User declined to consent to access the app.",
            )
        admin = self._consenting_administrator(request.query_value("login_hint"))
        if not set(admin.role_ids) & CONSENT_ROLES:
            return consent_redirect(
                redirect_uri,
                state,
                error="access_denied",
                error_description="AADSTS90094: The grant requires admin permission.",
            )
        granted = self._grant_requested_roles(app)
        resource = scope.split()[0].rsplit("/", 1)[0]
        scopes = [f"{resource}/{value}" for value in granted] + [scope]
        return consent_redirect(
            redirect_uri,
            state,
            admin_consent="True",
            tenant=data.TENANT_ID,
            scope=" ".join(scopes),
        )

    def _consenting_administrator(self, login_hint: str | None) -> data.Administrator:
        if login_hint:
            for admin in data.ADMINISTRATORS.values():
                if admin.username.lower() == login_hint.lower():
                    return admin
        return data.ADMINISTRATORS["global-admin"]

    def _grant_requested_roles(self, app: Application) -> list[str]:
        """Add the app to the organisation if needed and grant what it lists; the names of the
        permissions it holds afterwards."""
        registry = self._registry
        graph = registry.graph_service_principal
        with contextlib.suppress(Conflict):
            registry.create_service_principal(app)
        sp = registry.service_principal_by_app_id(app.app_id, visible=False)
        names = []
        for role_id in app.graph_role_ids():
            role = next((r for r in graph.app_roles if r.id == role_id.lower()), None)
            if sp is None or role is None:
                continue
            with contextlib.suppress(Conflict):
                registry.assign(sp, graph, role.id)
            names.append(role.value)
        return names

    # --- helpers ----------------------------------------------------------------------------

    def _ok_headers(self, request: DemoRequest) -> dict[str, str]:
        headers = dict(_ESTS_HEADERS)
        headers["x-ms-request-id"] = new_guid()
        client_request_id = request.header("client-request-id")
        if client_request_id:
            headers["client-request-id"] = client_request_id
        return headers

    def _not_found(self) -> DemoResponse:
        # Entra answers unknown paths with an HTML error page, not JSON.
        body = (
            b"<!DOCTYPE html><html><head><title>Sign in to your account</title></head>"
            b"<body><p>We can't find the page you're looking for.</p></body></html>"
        )
        return DemoResponse(
            status=404,
            headers={"Content-Type": "text/html; charset=utf-8", **_ESTS_HEADERS},
            body=body,
        )


# Only these may consent to Microsoft Graph's application permissions for the organisation.
CONSENT_ROLES = frozenset({data.GLOBAL_ADMINISTRATOR_ROLE, PRIVILEGED_ROLE_ADMINISTRATOR})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store, no-cache",
    "Pragma": "no-cache",
    "Expires": "-1",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "x-ms-ests-server": "2.1.19566.4 - WEULR1 ProdSlices",
}


def redirect_matches(asked: str, registered: str) -> bool:
    """Entra's rule: exact, except that a loopback address matches whatever its port."""
    a, r = urlsplit(asked), urlsplit(registered)
    if (a.scheme.lower(), a.query) != (r.scheme.lower(), r.query) or a.fragment:
        return False
    if (a.path or "/") != (r.path or "/"):
        return False
    a_host, r_host = (a.hostname or "").lower(), (r.hostname or "").lower()
    if a_host != r_host:
        return False
    if a_host in _LOOPBACK_HOSTS:
        return True
    return a.port == r.port


def consent_error_page(code: int, text: str) -> DemoResponse:
    """Entra's "Sign in to your account" page with an error it will not send to the app."""
    content = (
        "<h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p id="error-message">AADSTS{code}: {html.escape(text)}</p>'
        f"<p>Request Id: {new_guid()}</p>"
    )
    body = (
        '<!DOCTYPE html><html dir="ltr" lang="en"><head><meta charset="utf-8">'
        f"<title>Sign in to your account</title></head><body>{content}</body></html>"
    )
    return DemoResponse(200, dict(_PAGE_HEADERS), body.encode("utf-8"))


def consent_redirect(redirect_uri: str, state: str | None, **fields: str) -> DemoResponse:
    if state is not None:
        fields["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    location = f"{redirect_uri}{separator}{urlencode(fields)}"
    headers = dict(_PAGE_HEADERS)
    headers["Location"] = location
    body = (
        "<html><head><title>Object moved</title></head><body><h2>Object moved to "
        f'<a href="{html.escape(location)}">here</a>.</h2></body></html>'
    )
    return DemoResponse(302, headers, body.encode("utf-8"))


__all__ = [
    "IdentityService",
    "aadsts_error",
    "classify_tenant",
    "graph_root_for",
    "post_only",
    "resource_not_found",
]
