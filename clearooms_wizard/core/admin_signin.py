"""Signing an administrator in for “Set it up for me”: MSAL's public-client flows, in the
system browser (authorization code with PKCE, answered on our own loopback listener) or with a
code typed on another device.

What comes out is an :class:`AdminSession`: who signed in, in which organisation, and their
access token for Microsoft Graph, which is never shown, logged or put in a message. Every way a
sign-in can end without one (cancelled in the browser, refused by Microsoft, no browser, nobody
answering, a code left to expire) is an :class:`AdminSignInError` with a plain sentence.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from clearooms_wizard.core.app_setup import (
    ADMIN_SCOPES,
    DeviceCodePrompt,
    SetupClient,
    SignedInAdmin,
    SignInMethod,
)
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.errors import ClearoomsError, TechnicalDetails, UnexpectedResponse
from clearooms_wizard.core.safetext import printable

if TYPE_CHECKING:
    import msal

    from clearooms_wizard.core.connection import SessionOpener
    from clearooms_wizard.core.http import MicrosoftSession
    from clearooms_wizard.core.tokens import _RecordingClient

log = logging.getLogger(__name__)

# How long the browser sign-in may take before the wizard stops waiting for it.
BROWSER_SIGN_IN_TIMEOUT = 300.0
# A token this close to its end is not handed out: a Graph call made with it could fail midway.
_EXPIRY_MARGIN = 60.0
_DEFAULT_LIFETIME = 3599.0
_MAX_TOKEN_CHARS = 32_000
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_AADSTS = re.compile(r"AADSTS(\d+)")
_USER_CODE = re.compile(r"[A-Za-z0-9-]{4,32}")
# The longest organisation name, user name or address worth showing.
_MAX_SHOWN = 256

OpenBrowser = Callable[[str], bool]


class AdminSignInProblem(StrEnum):
    CANCELLED = "cancelled"
    REFUSED = "refused"
    NO_BROWSER = "no-browser"
    NO_ANSWER = "no-answer"
    CODE_EXPIRED = "code-expired"


class AdminSignInError(ClearoomsError):
    """The administrator's sign-in ended without a signed-in administrator."""

    def __init__(
        self,
        problem: AdminSignInProblem,
        message: str,
        *,
        aadsts: int | None = None,
        details: TechnicalDetails | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.aadsts = aadsts
        self.details = details or TechnicalDetails()

    @property
    def code(self) -> str:
        return f"AADSTS{self.aadsts}" if self.aadsts is not None else str(self.problem)


class AdminSignInExpired(ClearoomsError):
    """The administrator's sign-in is over: they must sign in again to go on."""

    def __init__(self) -> None:
        super().__init__(
            "The administrator's sign-in has expired. Sign in again to go on; nothing done so "
            "far is lost."
        )


class AdminSession:
    """A signed-in administrator and their Microsoft Graph token (kept out of every repr)."""

    __slots__ = ("_expires_at", "_token", "admin", "cloud")

    def __init__(self, admin: SignedInAdmin, cloud: Cloud, token: str, expires_at: float) -> None:
        self.admin = admin
        self.cloud = cloud
        self._token = token
        self._expires_at = expires_at

    @property
    def expires_at(self) -> float:
        """Seconds since the epoch."""
        return self._expires_at

    def bearer(self) -> str:
        """The access token for ``cloud.graph_root``, and for nowhere else."""
        if time.time() >= self._expires_at - _EXPIRY_MARGIN:
            raise AdminSignInExpired()
        return self._token

    def __repr__(self) -> str:
        return f"AdminSession(admin={self.admin!r}, cloud={self.cloud.key!r})"

    __str__ = __repr__


def admin_scopes(cloud: Cloud) -> list[str]:
    return [f"{cloud.graph_root}/{scope}" for scope in ADMIN_SCOPES]


def sign_in_admin(
    open_session: SessionOpener,
    setup_client: SetupClient,
    cloud: Cloud,
    method: SignInMethod,
    cancel: CancelToken,
    *,
    tenant: str | None = None,
    on_device_code: Callable[[DeviceCodePrompt], None] | None = None,
    open_browser: OpenBrowser | None = None,
    browser_timeout: float = BROWSER_SIGN_IN_TIMEOUT,
) -> AdminSession:
    """Sign an administrator in, in the browser or with a code; slow, and cancellable.

    ``tenant`` (a GUID or domain) signs in to that organisation; None lets the administrator's
    account decide. ``on_device_code`` is told the code to type (device code only).
    """
    from clearooms_wizard.core.tokens import _RecordingClient

    cancel.raise_if_cancelled()
    session = open_session(cancel)
    try:
        client = _RecordingClient(session)
        app = _application(client, setup_client, cloud, tenant)
        scopes = admin_scopes(cloud)
        if method is SignInMethod.DEVICE_CODE:
            result = _by_device_code(app, client, scopes, cancel, on_device_code, setup_client)
        else:
            result = _by_browser(
                app, client, scopes, cancel, open_browser, setup_client, browser_timeout
            )
        signed_in = _session_from(result, session, cloud, cancel)
    except AdminSignInError as exc:
        log.warning("administrator sign-in (%s) ended: %s", method, exc.code)
        raise
    finally:
        session.close()
    admin = signed_in.admin
    log.info(
        "administrator signed in (%s) to tenant %s, roles: %s",
        method,
        admin.tenant_id,
        ", ".join(admin.role_names) or "none of the administrator roles",
    )
    return signed_in


# --- MSAL -------------------------------------------------------------------------------------


def _application(
    client: _RecordingClient, setup_client: SetupClient, cloud: Cloud, tenant: str | None
) -> msal.PublicClientApplication:
    import msal  # only when signing in: slow to import

    # MSAL's debug lines write out each token request's form, the one-time code with it; the
    # log may be at debug level for support, and must still hold no code or token.
    msal_log = logging.getLogger("msal")
    if msal_log.getEffectiveLevel() < logging.INFO:
        msal_log.setLevel(logging.INFO)
    try:
        return msal.PublicClientApplication(
            setup_client.client_id,
            authority=f"{cloud.authority_host}/{tenant or 'organizations'}",
            http_client=client,
            # A custom or demo authority host must work without asking Microsoft about it.
            instance_discovery=None if cloud.authority_is_well_known else False,
            token_cache=msal.TokenCache(),
            app_name="Clearooms Wizard",
        )
    except (ClearoomsError, Cancelled):
        raise
    except ValueError as exc:
        # Tenant discovery failed; Entra's answer (with its AADSTS code) is the context.
        raise _refused_from_text(str(exc.__context__ or exc), setup_client, tenant) from None
    except Exception as exc:
        raise _unusable(client, exc, setup_client) from None


def _by_browser(
    app: msal.PublicClientApplication,
    client: _RecordingClient,
    scopes: list[str],
    cancel: CancelToken,
    open_browser: OpenBrowser | None,
    setup_client: SetupClient,
    timeout: float,
) -> dict[str, Any]:
    from clearooms_wizard.core.loopback import NoAnswer, RedirectListener

    state = secrets.token_urlsafe(24)
    with RedirectListener(expected_state=state) as listener:
        flow = _msal_call(
            lambda: app.initiate_auth_code_flow(
                scopes,
                redirect_uri=listener.redirect_uri,
                state=state,
                prompt="select_account",
                response_mode="form_post",
            ),
            client,
            setup_client,
        )
        cancel.raise_if_cancelled()
        if not _open(open_browser, flow["auth_uri"]):
            raise AdminSignInError(
                AdminSignInProblem.NO_BROWSER,
                "No web browser could be opened on this computer. Sign in with a code instead "
                "(“Use a code instead”, or --device-code on the command line).",
            )
        log.info("administrator sign-in: browser opened, waiting for the answer")
        try:
            answer = listener.wait(cancel, timeout)
        except NoAnswer:
            raise AdminSignInError(
                AdminSignInProblem.NO_ANSWER,
                f"Nobody finished signing in within {timeout / 60:.0f} minutes. Sign in again, "
                "and finish in the browser window that opens.",
            ) from None
    if answer.get("error"):
        raise _refusal(answer, setup_client)
    result = _msal_call(
        lambda: app.acquire_token_by_auth_code_flow(flow, answer), client, setup_client
    )
    return result if isinstance(result, dict) else {}


def _open(open_browser: OpenBrowser | None, url: str) -> bool:
    try:
        if open_browser is not None:
            return bool(open_browser(url))
        import webbrowser  # honours the BROWSER variable

        return webbrowser.open(url)
    except Exception:
        # Whatever a browser launcher raises, the answer is the same: use a code instead.
        log.warning("administrator sign-in: the browser could not be started", exc_info=False)
        return False


def _by_device_code(
    app: msal.PublicClientApplication,
    client: _RecordingClient,
    scopes: list[str],
    cancel: CancelToken,
    on_device_code: Callable[[DeviceCodePrompt], None] | None,
    setup_client: SetupClient,
) -> dict[str, Any]:
    flow = _msal_call(lambda: app.initiate_device_flow(scopes=scopes), client, setup_client)
    if not isinstance(flow, dict) or "user_code" not in flow:
        raise _refusal(flow if isinstance(flow, dict) else {}, setup_client)
    prompt = _prompt_from(flow)
    cancel.raise_if_cancelled()
    if on_device_code is not None:
        on_device_code(prompt)
    log.info("administrator sign-in: waiting for the code to be used")
    result = _msal_call(
        lambda: app.acquire_token_by_device_flow(
            flow,
            exit_condition=lambda f: cancel.cancelled or f.get("expires_at", 0) < time.time(),
        ),
        client,
        setup_client,
    )
    cancel.raise_if_cancelled()
    if isinstance(result, dict) and result.get("error") in ("authorization_pending", "slow_down"):
        result = {"error": "expired_token"}
    return result if isinstance(result, dict) else {}


def _prompt_from(flow: Mapping[str, Any]) -> DeviceCodePrompt:
    uri, code = flow.get("verification_uri"), flow.get("user_code")
    expires_at = flow.get("expires_at")
    if (
        not isinstance(uri, str)
        or not uri.startswith("https://")
        or len(uri) > _MAX_SHOWN
        or printable(uri) != uri
        or not isinstance(code, str)
        or not _USER_CODE.fullmatch(code)
        or not isinstance(expires_at, int | float)
    ):
        raise UnexpectedResponse(
            "Microsoft's answer with the sign-in code could not be used.", TechnicalDetails()
        )
    return DeviceCodePrompt(verification_uri=uri, user_code=code, expires_at=float(expires_at))


def _msal_call(call: Callable[[], Any], client: _RecordingClient, setup_client: SetupClient) -> Any:
    try:
        return call()
    except (ClearoomsError, Cancelled):
        raise
    except Exception as exc:
        raise _unusable(client, exc, setup_client) from None


def _unusable(client: _RecordingClient, exc: Exception, setup_client: SetupClient) -> Exception:
    """What MSAL raised (a server error, an answer it could not read) as our own error. The
    exception's text is not used: MSAL's can quote the answer it choked on."""
    from clearooms_wizard.core.responses import details_of, read_json

    failure = client.last_failure()
    if failure is not None and failure.status_code >= 400:
        try:
            payload = read_json(failure)
        except UnexpectedResponse as unexpected:
            return unexpected
        return _refusal(payload, setup_client, details_of(failure))
    return UnexpectedResponse(
        "Microsoft's sign-in answered in a way that could not be used "
        f"({type(exc).__name__}); a proxy may be in the way.",
        TechnicalDetails(extra={"error": type(exc).__name__}),
    )


# --- the outcome ------------------------------------------------------------------------------


def _session_from(
    result: Mapping[str, Any], session: MicrosoftSession, cloud: Cloud, cancel: CancelToken
) -> AdminSession:
    if result.get("error"):
        raise _refusal(result, None)
    from clearooms_wizard.core.tokens import decode_claims

    token = result.get("access_token")
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS or not _JWT.fullmatch(token):
        raise UnexpectedResponse(
            "Microsoft's sign-in did not send an administrator's access token.",
            TechnicalDetails(),
        )
    claims = decode_claims(token)
    id_claims = result.get("id_token_claims")
    identity: Mapping[str, Any] = id_claims if isinstance(id_claims, dict) else {}
    tenant_id = _text(identity.get("tid")) or _text(claims.get("tid"))
    username = (
        _text(identity.get("preferred_username"))
        or _text(claims.get("upn"))
        or _text(claims.get("unique_name"))
    )
    if not tenant_id or not _GUID.fullmatch(tenant_id) or not username:
        raise UnexpectedResponse(
            "Microsoft's sign-in did not say who signed in, or in which organisation.",
            TechnicalDetails(),
        )
    wids = claims.get("wids") or identity.get("wids") or []
    roles = (
        tuple(str(r).lower() for r in wids if isinstance(r, str) and _GUID.fullmatch(r))
        if isinstance(wids, list)
        else ()
    )
    expires_at = time.time() + _lifetime(result.get("expires_in"))
    name = _organisation_name(session, cloud, token, cancel)
    admin = SignedInAdmin(
        username=username,
        display_name=_text(identity.get("name")) or _text(claims.get("name")),
        tenant_id=tenant_id.lower(),
        tenant_name=name,
        role_ids=roles,
    )
    return AdminSession(admin, cloud, token, expires_at)


def _organisation_name(
    session: MicrosoftSession, cloud: Cloud, token: str, cancel: CancelToken
) -> str | None:
    """The organisation's name from Microsoft Graph, or None when this sign-in may not read it
    (or Graph does not answer: the name is only shown, never needed)."""
    from clearooms_wizard.core.http import BearerFor
    from clearooms_wizard.core.responses import read_json

    url = f"{cloud.graph_root}/v1.0/organization?$select=id,displayName"
    try:
        response = session.get(url, auth=BearerFor(token, cloud.graph_root))
        if response.status_code != 200:
            log.info("the organisation's name could not be read (HTTP %s)", response.status_code)
            return None
        payload = read_json(response)
    except ClearoomsError as exc:
        cancel.raise_if_cancelled()
        log.info("the organisation's name could not be read: %s", type(exc).__name__)
        return None
    value = payload.get("value")
    first = value[0] if isinstance(value, list) and value else None
    return _text(first.get("displayName")) if isinstance(first, dict) else None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = printable(value).strip()
    return cleaned[:_MAX_SHOWN] or None


def _lifetime(expires_in: object) -> float:
    if isinstance(expires_in, bool) or not isinstance(expires_in, str | int | float):
        return _DEFAULT_LIFETIME
    try:
        seconds = float(expires_in)
    except (ValueError, OverflowError):
        return _DEFAULT_LIFETIME
    return min(max(seconds, 60.0), 86_400.0) if math.isfinite(seconds) else _DEFAULT_LIFETIME


# --- refusals ---------------------------------------------------------------------------------

_CANCELLED = (
    "The sign-in was cancelled in the browser, so nothing was changed. Sign in again when you "
    "are ready."
)
_DECLINED = (
    "The sign-in was declined on the device where the code was typed, so nothing was changed. "
    "Sign in again when you are ready."
)
_CODE_EXPIRED = "The sign-in code expired before it was used. Start again to get a new code."

# Microsoft's codes, each with what to do; {app} is the sign-in app as Microsoft names it.
_REFUSALS: dict[int, str] = {
    50011: (
        "The sign-in app ({app}) does not accept this computer's sign-in address. If it is your "
        "own app, add http://localhost as a “Mobile and desktop applications” redirect URI."
    ),
    50020: (
        "That account is not in the organisation being set up. Sign in with an administrator "
        "account of that organisation."
    ),
    50034: "Microsoft does not know that account. Check the user name and sign in again.",
    50053: (
        "That account is locked after too many attempts. Wait a few minutes, or ask your IT "
        "administrator to unlock it."
    ),
    50057: "That account is disabled. Sign in with another administrator account.",
    50076: (
        "Your organisation needs a second sign-in step (multi-factor authentication). Sign in "
        "again and finish every step in the browser."
    ),
    50105: (
        "Your organisation lets only chosen people use {app}, and this account is not one of "
        "them. Ask your IT administrator to assign you, or sign in with an account that is "
        "allowed."
    ),
    50126: "The user name or password was wrong. Sign in again.",
    53003: (
        "Your organisation's Conditional Access policies blocked this sign-in. Ask your IT "
        "administrator, or sign in from a device your organisation trusts."
    ),
    530084: (
        "Your organisation's Conditional Access policies do not let {app} sign in (token "
        "protection). Ask your IT administrator, or follow the checklist yourself instead."
    ),
    65001: (
        "Your organisation has not approved {app} for this sign-in. A Global Administrator "
        "can approve it by signing in once, or follow the checklist instead."
    ),
    65002: (
        "The sign-in app ({app}) may not ask for the permissions this needs. Use Clearooms' "
        "own sign-in app, or follow the checklist instead."
    ),
    700016: (
        "Microsoft does not know the sign-in app {client_id} in this organisation. Check the "
        "setup client ID (--setup-client-id or CLEAROOMS_SETUP_CLIENT_ID)."
    ),
    7000218: (
        "The sign-in app ({app}) does not allow signing in with a code. Sign in with the "
        "browser instead, or turn on “Allow public client flows” for that app."
    ),
    90002: (
        "Microsoft could not find the organisation {tenant}. Check the tenant ID or domain, "
        "and the cloud under Advanced."
    ),
    900023: (
        "“{tenant}” is not an organisation's ID or domain. Check it, or leave it empty to let "
        "the sign-in find the organisation."
    ),
}
_REFUSALS[50079] = _REFUSALS[50072] = _REFUSALS[50076]
_REFUSALS[70011] = _REFUSALS[65002]


def _refusal(
    answer: Mapping[str, Any],
    setup_client: SetupClient | None,
    details: TechnicalDetails | None = None,
    tenant: str | None = None,
) -> AdminSignInError:
    """An error answer (from the browser's redirect or the token endpoint) as a plain one."""
    error = _text(answer.get("error")) or "error"
    from clearooms_wizard.core.tokens import aadsts_of

    description = str(answer.get("error_description") or "")
    aadsts = aadsts_of(answer)
    extra = TechnicalDetails(
        correlation_id=_text(answer.get("correlation_id")),
        trace_id=_text(answer.get("trace_id")),
        timestamp=_text(answer.get("timestamp")),
        http_status=details.http_status if details else None,
        url=details.url if details else None,
        request_id=details.request_id if details else None,
    )
    if error == "access_denied" and (answer.get("error_subcode") == "cancel" or aadsts == 65004):
        return AdminSignInError(
            AdminSignInProblem.CANCELLED, _CANCELLED, aadsts=aadsts, details=extra
        )
    if error == "authorization_declined":
        return AdminSignInError(
            AdminSignInProblem.CANCELLED, _DECLINED, aadsts=aadsts, details=extra
        )
    if error in ("expired_token", "code_expired"):
        return AdminSignInError(
            AdminSignInProblem.CODE_EXPIRED, _CODE_EXPIRED, aadsts=aadsts, details=extra
        )
    return AdminSignInError(
        AdminSignInProblem.REFUSED,
        _refused_text(aadsts, error, description, setup_client, tenant),
        aadsts=aadsts,
        details=extra,
    )


def _refused_text(
    aadsts: int | None,
    error: str,
    description: str,
    setup_client: SetupClient | None,
    tenant: str | None,
) -> str:
    template = _REFUSALS.get(aadsts) if aadsts is not None else None
    if template is not None:
        return template.format(
            app=setup_client.shown_as if setup_client else "the sign-in app",
            client_id=setup_client.client_id if setup_client else "",
            tenant=_text(tenant) or "you chose",
        )
    # Microsoft's own first line (without its trace and correlation ids), made safe to show.
    said = _text(description.splitlines()[0] if description else "") or error
    return f"Microsoft refused the sign-in: {said[:300]}"


def _refused_from_text(
    text: str, setup_client: SetupClient, tenant: str | None
) -> AdminSignInError:
    match = _AADSTS.search(text)
    if match is None:
        return AdminSignInError(
            AdminSignInProblem.REFUSED,
            "Microsoft's sign-in could not be reached for this organisation; check the tenant "
            "and the cloud under Advanced.",
        )
    aadsts = int(match.group(1))
    return AdminSignInError(
        AdminSignInProblem.REFUSED,
        _refused_text(aadsts, "invalid_tenant", f"AADSTS{aadsts}", setup_client, tenant),
        aadsts=aadsts,
    )
