"""Signing in as the customer's app with MSAL's client-credentials flow."""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.errors import (
    AnswerTooLarge,
    ClearoomsError,
    SignInError,
    TechnicalDetails,
    UnexpectedResponse,
)
from clearooms_wizard.core.responses import IDENTITY_ANSWER_LIMIT, details_of, read_json
from clearooms_wizard.core.values import Credentials

if TYPE_CHECKING:
    import msal
    import requests

    from clearooms_wizard.core.http import MicrosoftSession

_AADSTS = re.compile(r"AADSTS(\d+)")
_HTTP_ERROR = re.compile(r"HTTP Error: (\d{3})")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Microsoft's access tokens are JWTs: three base64url parts. Anything else (a proxy's text, or
# characters that cannot go in an HTTP header) is not one of Microsoft's.
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# An app's token is one or two KB; one far larger would be refused with the request carrying it.
MAX_TOKEN_CHARS = 32_000
# MSAL treats a cached token with less than 5 minutes left as expired, so a shorter lifetime
# would mean one sign-in per request; such a token is kept here, for at least a minute.
_MSAL_RENEWS_BEFORE = 300.0
MIN_TOKEN_LIFETIME = 60.0
# Entra's app tokens last one to 24 hours; a longer promise is not kept past a day.
MAX_TOKEN_LIFETIME = 86_400.0
# What Entra gives when an answer does not say (an hour, less a second).
_DEFAULT_LIFETIME = 3599.0
# What MSAL raises when an answer it reads lacks a field or has one of the wrong type, is JSON
# nested too deeply to parse, or holds a number too large for it.
_MALFORMED_FOR_MSAL = (
    KeyError,
    AttributeError,
    TypeError,
    IndexError,
    RecursionError,
    OverflowError,
    # MSAL's own word for a tenant lookup answered with neither data nor an error (a redirect).
    RuntimeError,
)


class _RecordingClient:
    """Our session as MSAL's ``http_client``, remembering the latest failed answer. MSAL's
    throttling repeats a failed answer from its cache for a while without a request; the latest
    failure is then still the answer it repeats (acquiring is serialised)."""

    def __init__(self, session: MicrosoftSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._failure: requests.Response | None = None

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs["answer_limit"] = IDENTITY_ANSWER_LIMIT
        return self._remember(self._session.post(url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs["answer_limit"] = IDENTITY_ANSWER_LIMIT
        return self._remember(self._session.get(url, **kwargs))

    def close(self) -> None:
        """The session is ours, and outlives MSAL's application object."""

    def _remember(self, response: requests.Response) -> requests.Response:
        if response.status_code >= 400:
            with self._lock:
                self._failure = response
        return response

    def last_failure(self) -> requests.Response | None:
        with self._lock:
            return self._failure


@dataclass(frozen=True)
class TenantInfo:
    tenant_id: str
    cloud_instance_name: str | None


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float
    claims: dict[str, Any] = field(repr=False)

    @property
    def roles(self) -> tuple[str, ...] | None:
        """Granted application permissions; None when the token has no roles claim at all."""
        roles = self.claims.get("roles")
        if roles is None:
            return None
        if isinstance(roles, list):
            return tuple(str(role) for role in roles)
        return ()


def authority_url(cloud: Cloud, tenant: str) -> str:
    return f"{cloud.authority_host}/{tenant}"


def aadsts_of(payload: Mapping[str, Any]) -> int | None:
    """The AADSTS code of an error answer: its first ``error_codes`` entry, else the number in
    its description; None when it has neither."""
    codes = payload.get("error_codes")
    if isinstance(codes, list) and codes and isinstance(codes[0], int):
        return codes[0]
    match = _AADSTS.search(str(payload.get("error_description") or ""))
    return int(match.group(1)) if match else None


def _sign_in_error(payload: dict[str, Any], details: TechnicalDetails) -> SignInError:
    description = str(payload.get("error_description") or "")
    aadsts = aadsts_of(payload)
    merged = TechnicalDetails(
        correlation_id=_str_or_none(payload.get("correlation_id")),
        trace_id=_str_or_none(payload.get("trace_id")),
        timestamp=_str_or_none(payload.get("timestamp")) or details.timestamp,
        http_status=details.http_status,
        url=details.url,
        request_id=details.request_id,
    )
    return SignInError(str(payload.get("error") or "error"), aadsts, description, merged)


def _str_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def discover_tenant(session: MicrosoftSession, cloud: Cloud, tenant: str) -> TenantInfo:
    """OpenID discovery: proves the tenant exists in this cloud and gives its GUID.

    ``tenant`` has passed ``check_tenant``, so it is a GUID or a domain and safe in a path.
    """
    url = f"{authority_url(cloud, tenant)}/v2.0/.well-known/openid-configuration"
    response = session.request("GET", url, answer_limit=IDENTITY_ANSWER_LIMIT)
    payload = read_json(response)
    if response.status_code != 200:
        raise _sign_in_error(payload, details_of(response))
    endpoint = payload.get("token_endpoint")
    if not isinstance(endpoint, str):
        raise UnexpectedResponse(
            "Microsoft's answer about the tenant had no sign-in address.", details_of(response)
        )
    try:
        parts = urlsplit(endpoint)
        segments = [s for s in parts.path.split("/") if s] if parts.scheme == "https" else []
    except ValueError:
        segments = []
    # Entra's sign-in address is https://<host>/<tenant GUID>/oauth2/...
    if not segments or not _GUID.fullmatch(segments[0]):
        raise UnexpectedResponse(
            "Microsoft's answer about the tenant had an unexpected sign-in address.",
            details_of(response),
        )
    # MSAL reads the tenant's configuration again, and cannot do without this one either.
    if "authorization_endpoint" not in payload:
        raise UnexpectedResponse(
            "Microsoft's answer about the tenant had no authorization address.",
            details_of(response),
        )
    return TenantInfo(
        tenant_id=segments[0].lower(),
        cloud_instance_name=_str_or_none(payload.get("cloud_instance_name")),
    )


def decode_claims(token: str) -> dict[str, Any]:
    """The token's payload, for diagnostics only: Microsoft's tokens are not ours to validate."""
    try:
        payload = token.split(".")[1]
        padded = payload + "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (IndexError, ValueError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


class TokenProvider:
    """One MSAL app for one set of credentials. Build it off the GUI thread: MSAL's
    constructor fetches the tenant's configuration.

    MSAL remembers a failed sign-in (HTTP 400) for 60 s per app object, so after the admin fixes
    something, a new TokenProvider is needed; the checks build one per run.
    """

    def __init__(self, credentials: Credentials, cloud: Cloud, session: MicrosoftSession) -> None:
        self._credentials = credentials
        self._cloud = cloud
        self._session = session
        self._client = _RecordingClient(session)
        self._lock = threading.Lock()
        self._app: msal.ConfidentialClientApplication | None = None
        # The token most recently handed out, so that forget() drops only that one.
        self._latest: str | None = None
        # A token MSAL's cache would not give out again (see _MSAL_RENEWS_BEFORE).
        self._short_lived: AccessToken | None = None
        self._acquiring = threading.Lock()

    def _application(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    def _build(self) -> msal.ConfidentialClientApplication:
        import msal  # only when signing in: it is slow to import, and the wizard starts first

        certificate = self._credentials.certificate
        # With a certificate, MSAL signs a client assertion (a JWT) instead of sending a secret.
        credential = (
            self._credentials.client_secret
            if certificate is None
            else certificate.msal_credential()
        )
        try:
            return msal.ConfidentialClientApplication(
                self._credentials.client_id,
                client_credential=credential,
                authority=authority_url(self._cloud, self._credentials.tenant),
                http_client=self._client,
                # Instance discovery would ask login.microsoftonline.com about a host it does
                # not know; a custom or demo authority host must work on its own.
                instance_discovery=None if self._cloud.authority_is_well_known else False,
                token_cache=msal.TokenCache(),
                app_name="Clearooms Wizard",
            )
        except ClearoomsError:
            raise
        except ValueError as exc:
            raise self._construction_error(exc) from None
        except msal.exceptions.MsalServiceError as exc:
            raise self._service_trouble(exc) from None
        except _MALFORMED_FOR_MSAL as exc:
            raise UnexpectedResponse(
                f"Microsoft's answer about the tenant could not be used: {_what_was_wrong(exc)}.",
                TechnicalDetails(extra={"error": type(exc).__name__}),
            ) from None

    def _construction_error(self, exc: ValueError) -> ClearoomsError:
        # MSAL raises ValueError when tenant discovery fails; the server's body is in __context__.
        context = exc.__context__
        text = str(context) if context is not None else str(exc)
        match = _AADSTS.search(text)
        if match is None:
            return UnexpectedResponse(
                "Microsoft's answer about the tenant could not be read.", TechnicalDetails()
            )
        aadsts = int(match.group(1))
        return SignInError(
            "invalid_tenant", aadsts, f"AADSTS{aadsts}: tenant lookup failed", TechnicalDetails()
        )

    def _service_trouble(self, exc: Exception) -> ClearoomsError:
        """MSAL reports an HTTP error from the sign-in service as "HTTP Error: 500" and drops the
        body, where Entra puts its AADSTS code and correlation id: read them from the answer."""
        response = self._client.last_failure()
        if response is not None:
            # A body that is not Entra's JSON (a gateway's page) raises UnexpectedResponse here.
            return _sign_in_error(read_json(response), details_of(response))
        match = _HTTP_ERROR.search(str(exc))
        status = int(match.group(1)) if match else None
        return SignInError(
            "server_error",
            None,
            f"The sign-in service answered HTTP {status or 'with an error'}.",
            TechnicalDetails(http_status=status),
        )

    @property
    def tenant_id(self) -> str:
        tenant: str = self._application().authority.tenant
        return tenant.lower()

    def acquire(self) -> AccessToken:
        app = self._application()
        # One at a time: when the cached token has just been dropped, the first caller signs in
        # and the others wait for its token instead of each signing in again.
        with self._acquiring:
            held = self._short_lived
            if held is not None and time.time() < held.expires_at:
                return held
            token = _access_token(self._sign_in(app))
            self._latest = token.value
            lifetime = token.expires_at - time.time()
            self._short_lived = token if lifetime < _MSAL_RENEWS_BEFORE else None
            return token

    def _sign_in(self, app: msal.ConfidentialClientApplication) -> dict[str, Any]:
        import msal

        try:
            result: dict[str, Any] = app.acquire_token_for_client(scopes=[self._cloud.graph_scope])
        except ClearoomsError:
            raise
        except ValueError as exc:  # JSONDecodeError: not JSON from the token endpoint
            raise UnexpectedResponse(
                "The sign-in service sent an answer that is not valid data; a proxy may be in "
                "the way.",
                TechnicalDetails(extra={"error": type(exc).__name__}),
            ) from None
        except msal.exceptions.MsalServiceError as exc:
            raise self._service_trouble(exc) from None
        except _MALFORMED_FOR_MSAL as exc:
            raise UnexpectedResponse(
                f"The sign-in service's answer could not be used: {_what_was_wrong(exc)}.",
                TechnicalDetails(extra={"error": type(exc).__name__}),
            ) from None
        return result

    def forget(self, token: AccessToken) -> None:
        """Drop the cached token after Graph refused ``token``, unless a newer one has already
        replaced it: many requests in flight may be refused the same expired token, and each
        new sign-in counts towards Entra's limit on repeated sign-ins."""
        with self._acquiring:
            if self._app is not None and token.value == self._latest:
                self._app.remove_tokens_for_client()
                self._latest = None
                self._short_lived = None


def _access_token(result: dict[str, Any]) -> AccessToken:
    """The token in MSAL's result, once it is sure to be one Microsoft would send."""
    token = result.get("access_token")
    if token is None and isinstance(result.get("error"), str):
        raise _sign_in_error(result, TechnicalDetails())
    if token is None:
        raise UnexpectedResponse(
            "The sign-in service answered with neither a token nor an error.", TechnicalDetails()
        )
    if isinstance(token, str) and len(token) > MAX_TOKEN_CHARS:
        raise AnswerTooLarge(
            f"The sign-in service sent a token of {len(token) // 1000:,} KB; Microsoft's are a "
            "few KB.",
            TechnicalDetails(),
        )
    claims = decode_claims(token) if isinstance(token, str) and _JWT.fullmatch(token) else None
    if not isinstance(token, str) or not claims:
        raise UnexpectedResponse(
            "The sign-in service sent something that is not a Microsoft access token.",
            TechnicalDetails(),
        )
    return AccessToken(token, time.time() + _lifetime(result.get("expires_in")), claims)


def _lifetime(expires_in: object) -> float:
    """Seconds the token may be used for: a missing or unreadable lifetime is Entra's usual
    hour; a lifetime of zero or less (a clock or proxy gone wrong) is taken as short, not as
    already over, so that not every request signs in again. A token that did expire sooner is
    refused by Graph, and then replaced."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, str | int | float):
        return _DEFAULT_LIFETIME
    try:
        seconds = float(expires_in)
    except (ValueError, OverflowError):  # OverflowError: an integer of hundreds of digits
        return _DEFAULT_LIFETIME
    if not math.isfinite(seconds):
        return _DEFAULT_LIFETIME
    return min(max(seconds, MIN_TOKEN_LIFETIME), MAX_TOKEN_LIFETIME)


def _what_was_wrong(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        # MSAL's own field names, such as authorization_endpoint.
        return f"it had no {str(exc.args[0])[:40] if exc.args else 'expected field'}"
    if isinstance(exc, RecursionError):
        return "its data was nested far more deeply than Microsoft's ever is"
    if isinstance(exc, RuntimeError):
        return "it sent the request elsewhere or gave no data, which Microsoft's sign-in never does"
    return "a field held a value of the wrong kind"
