"""“Set it up for me”: the Microsoft Graph calls that register the app, as the administrator.

The order is Microsoft's own: read Microsoft Graph's service principal (the three permissions'
ids come from its ``appRoles``), find a Clearooms app from an earlier run (by ``uniqueName``,
then by tags), create or update the application, add a client secret, add the app to the
organisation (its service principal), grant the three application permissions, and wait until a
client-credentials token made with the new secret carries all three.

Microsoft is eventually consistent: an object just created is not visible everywhere at once.
The errors that say so are retried with a growing pause under an overall deadline; every other
error stops the run. Each object is written down in a journal (the workspace) as it is created,
before the next step starts, so a failure half-way can be resumed (nothing is made twice) or
undone (only what this run created, newest first).

The administrator's token goes only to the chosen Graph root, on the one MicrosoftSession, so
timeouts, deadlines, size limits and Stop apply to every call. No secret text and no token ever
reaches a log line, a message or the journal.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlencode

from clearooms_wizard.core.app_setup import (
    APP_TAGS,
    APP_UNIQUE_NAME,
    CALENDARS_PERMISSION,
    DEFAULT_PERMISSIONS,
    GRAPH_APP_ID,
    KNOWN_ROLE_IDS,
    STEP_TITLES,
    CreatedKind,
    CreatedObject,
    ExistingApp,
    PermissionToGrant,
    RegisteredApp,
    RegistrationJournal,
    RegistrationPlan,
    SignedInAdmin,
    StepId,
    StepState,
    StepUpdate,
    permissions_for,
)
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.errors import (
    ClearoomsError,
    GraphError,
    NetworkError,
    SignInError,
    TechnicalDetails,
    UnexpectedResponse,
)
from clearooms_wizard.core.http import BearerFor
from clearooms_wizard.core.logs import remember_secret
from clearooms_wizard.core.responses import graph_error, parse_graph_time, read_json
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.core.store import InvalidInput

if TYPE_CHECKING:
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.core.http import MicrosoftSession
    from clearooms_wizard.core.tokens import AccessToken

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_SECRET_MONTHS = 24
# What a tenant's lifetime policy most often allows, and Microsoft recommends at most.
SHORTER_SECRET_MONTHS = 12
# What to try, longest first, when a tenant's lifetime policy refuses a secret.
SECRET_LIFETIME_STEPS = (SHORTER_SECRET_MONTHS, 6, 3)
MAX_APP_NAME = 120
# Graph object ids are GUIDs; app role assignment ids are base64url. Anything else in a path
# would be a request we did not mean to make.
_OBJECT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# How the secret shows in the app's list of secrets in the admin center.
SECRET_NAME_PREFIX = "Clearooms setup wizard"


class JournalStore(Protocol):
    """Where the journal is written as each object is created (the workspace)."""

    def save(self, journal: RegistrationJournal) -> None: ...

    def clear(self) -> None: ...


# -- waiting for Microsoft ---------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between tries while Microsoft makes a new object visible everywhere."""

    first_delay: float = 2.0
    max_delay: float = 15.0
    growth: float = 1.5
    # Azure CLI waits three minutes for a new service principal; the first token with a new
    # secret has been seen to take longer.
    object_deadline: float = 180.0
    token_deadline: float = 300.0
    # When the step's detail starts saying that Microsoft is still at it.
    still_working_after: float = 20.0

    def delays(self) -> Iterator[float]:
        delay = self.first_delay
        while True:
            yield delay
            delay = min(delay * self.growth, self.max_delay)


class Failure(StrEnum):
    """What an error answer from Microsoft Graph means for a run."""

    # Not visible everywhere yet: the same request works a little later.
    NOT_YET_VISIBLE = "not-yet-visible"
    THROTTLED = "throttled"
    # What the request asks for is already so (a grant made before).
    ALREADY_DONE = "already-done"
    # Another object holds that key (a service principal already made for the app).
    CONFLICT = "conflict"
    DENIED = "denied"
    SIGNED_OUT = "signed-out"
    SECRETS_NOT_ALLOWED = "secrets-not-allowed"
    SECRET_TOO_LONG = "secret-too-long"
    OTHER = "other"


_THROTTLING = frozenset({429, 503, 504})
# Microsoft gives these errors only the generic code Request_BadRequest (or a 403), so the
# message tells them apart: always together with the status and the code, never alone.
_NO_BACKING_APPLICATION = re.compile(
    r"does not reference a valid application object|NoBackingApplicationObject", re.IGNORECASE
)
_NOT_A_VALID_REFERENCE = re.compile(r"not a valid reference update", re.IGNORECASE)
_ALREADY_ASSIGNED = re.compile(r"permission being assigned already exists", re.IGNORECASE)
_NOT_LOCAL_YET = re.compile(r"backing application of the service principal", re.IGNORECASE)
_ALREADY_PRESENT = re.compile(r"already (exists|present|in use)", re.IGNORECASE)


def classify(error: GraphError) -> Failure:
    """Sort an error answer by its status and code (and its message only where Microsoft gives
    nothing more specific than Request_BadRequest)."""
    status, code, message = error.status, error.code, error.message
    if status in _THROTTLING:
        return Failure.THROTTLED
    if code == "CredentialTypeNotAllowedAsPerAppPolicy":
        return Failure.SECRETS_NOT_ALLOWED
    if code == "CredentialInvalidLifetimeAsPerAppPolicy":
        return Failure.SECRET_TOO_LONG
    if status == 401:
        return Failure.SIGNED_OUT
    if status == 404 and code in ("Request_ResourceNotFound", "ResourceNotFound"):
        return Failure.NOT_YET_VISIBLE
    if status == 400 and code == "Request_BadRequest":
        if _NO_BACKING_APPLICATION.search(message) or _NOT_A_VALID_REFERENCE.search(message):
            return Failure.NOT_YET_VISIBLE
        if _ALREADY_ASSIGNED.search(message):
            return Failure.ALREADY_DONE
        if _ALREADY_PRESENT.search(message):
            return Failure.CONFLICT
    if status == 403 and _NOT_LOCAL_YET.search(message):
        # Terraform's finding: misleading, and it means the application is not replicated yet.
        return Failure.NOT_YET_VISIBLE
    if status == 403:
        return Failure.DENIED
    if status == 409:
        return Failure.CONFLICT
    return Failure.OTHER


# The sign-in service's answers while a new secret or app is not visible to it yet: invalid
# secret, app not found, "keys expired" right after creation, no service principal yet.
SECRET_NOT_YET_VISIBLE = frozenset({7000215, 700016, 7000222, 7000229})
CERTIFICATE_NOT_FOUND = 700027


def retrying(
    call: Callable[[], T],
    deadline: float,
    policy: RetryPolicy,
    cancel: CancelToken,
    doing: str,
    on_still_working: Callable[[], None] | None = None,
    retry_on: frozenset[Failure] = frozenset({Failure.NOT_YET_VISIBLE, Failure.THROTTLED}),
) -> T:
    """``call``, tried again while Microsoft says the object is not visible yet (or asks us to
    slow down), with a growing pause (at least Retry-After), until ``deadline`` seconds have
    passed; ``on_still_working`` is told once the wait gets long."""
    started = time.monotonic()
    delays = policy.delays()
    tries = 1
    while True:
        try:
            return call()
        except GraphError as exc:
            kind = classify(exc)
            if kind not in retry_on:
                raise
            wait = next(delays)
            if kind is Failure.THROTTLED and exc.retry_after is not None:
                wait = max(wait, exc.retry_after)
            waited = time.monotonic() - started
            if waited + wait > deadline:
                raise
            log.info(
                "%s: not ready yet after %d tries (HTTP %d %s); trying again in %.1f s",
                doing,
                tries,
                exc.status,
                _shown(exc.code),
                wait,
            )
            if waited + wait >= policy.still_working_after and on_still_working is not None:
                on_still_working()
            cancel.sleep(wait)
            tries += 1


def shorter_secret_months(months: int) -> int | None:
    """The next lifetime to try when the organisation's policy refuses ``months``; None when
    there is no shorter one worth asking for."""
    shorter = [m for m in SECRET_LIFETIME_STEPS if m < months]
    return shorter[0] if shorter else None


# -- the administrator's Graph -----------------------------------------------------------------


@dataclass(frozen=True)
class GraphAnswer:
    status: int
    body: dict[str, Any] | None


class AdminGraph:
    """Microsoft Graph as the signed-in administrator. The token is put on each request by
    BearerFor, which refuses any address but the Graph root's; every call goes through the
    MicrosoftSession (its timeouts, deadline, size limit and Stop)."""

    def __init__(
        self, session: MicrosoftSession, graph_root: str, bearer: Callable[[], str]
    ) -> None:
        self._session = session
        self._root = graph_root.rstrip("/")
        self._bearer = bearer

    @property
    def cancel(self) -> CancelToken:
        return self._session.cancel

    def send(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
        prefer: str | None = None,
    ) -> GraphAnswer:
        self._session.cancel.raise_if_cancelled()
        url = f"{self._root}/v1.0{path}"
        if query:
            url += "?" + urlencode(query, safe="$(),'/:=")
        headers = {"client-request-id": str(uuid.uuid4()), "Accept": "application/json"}
        if prefer is not None:
            headers["Prefer"] = prefer
        response = self._session.request(
            method, url, json=body, headers=headers, auth=BearerFor(self._bearer(), self._root)
        )
        if response.status_code >= 400:
            raise graph_error(response)
        if response.status_code == 204 or not response.content:
            return GraphAnswer(response.status_code, None)
        return GraphAnswer(response.status_code, read_json(response))

    def get(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        answer = self.send("GET", path, query=query)
        if answer.body is None:
            raise UnexpectedResponse(
                "Microsoft Graph answered without the data asked for.", TechnicalDetails(url=path)
            )
        return answer.body

    def get_or_none(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any] | None:
        """The object, or None when Graph says there is none (404)."""
        try:
            return self.get(path, query)
        except GraphError as exc:
            if exc.status == 404:
                return None
            raise


def _object_id(value: object, what: str = "an object id") -> str:
    if isinstance(value, str) and _OBJECT_ID.fullmatch(value):
        return value
    raise UnexpectedResponse(
        f"Microsoft Graph sent {what} in an unexpected shape.", TechnicalDetails()
    )


def _guid(value: object, what: str) -> str:
    if isinstance(value, str) and _GUID.fullmatch(value):
        return value.lower()
    raise UnexpectedResponse(
        f"Microsoft Graph sent {what} in an unexpected shape.", TechnicalDetails()
    )


def _shown(value: object, limit: int = 80) -> str:
    """A name from Microsoft, safe and short enough to show or log."""
    text = printable(value if isinstance(value, str) else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _values(payload: dict[str, Any]) -> list[dict[str, Any]]:
    items = payload.get("value")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


# -- plain words -------------------------------------------------------------------------------


def _microsoft_said(error: GraphError) -> str:
    return f"Microsoft said: “{_shown(error.message, 200)}” ({error.status} {_shown(error.code)})."


def _created_words(created: tuple[CreatedObject, ...]) -> str:
    names = {
        CreatedKind.APPLICATION: "the app",
        CreatedKind.SECRET: "a client secret",
        CreatedKind.SERVICE_PRINCIPAL: "the app's place in your organisation",
        CreatedKind.PERMISSION_GRANT: "some of its permissions",
        CreatedKind.CERTIFICATE: "a certificate",
    }
    kinds = [k for k in CreatedKind if any(c.kind == k for c in created)]
    if not kinds:
        return "Nothing was created in your organisation."
    parts = [names[k] for k in kinds]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (
        f"So far this run created {listed}. Press Try again to carry on from there, or Undo to "
        "remove what this run created."
    )


class RegistrationFailed(ClearoomsError):
    """A run stopped: at which step, what exists now (the journal), and what to do."""

    def __init__(self, problem: str, step: StepId, journal: RegistrationJournal) -> None:
        super().__init__(f"{problem} {_created_words(journal.created)}")
        self.problem = problem
        self.step = step
        self.journal = journal

    @property
    def created(self) -> tuple[CreatedObject, ...]:
        return self.journal.created


def _problem(error: GraphError, step: StepId, admin: SignedInAdmin) -> str:
    """What went wrong at ``step``, for an office manager."""
    kind = classify(error)
    who = _shown(admin.username)
    if kind is Failure.SIGNED_OUT:
        return (
            "Microsoft no longer accepts the administrator's sign-in (it may have expired). "
            "Sign in again."
        )
    if kind is Failure.THROTTLED:
        return "Microsoft is busy and asked us to slow down. Wait a few minutes."
    if kind is Failure.DENIED and step is StepId.CREATE_APP:
        return (
            f"Your organisation does not let {who} register apps. Ask a Global Administrator "
            "or an Application Administrator to sign in instead."
        )
    if kind is Failure.DENIED and step is StepId.ADD_TO_ORGANISATION:
        return (
            f"Microsoft refused to add the app to your organisation: {who} may not do that. "
            "Ask a Global Administrator or an Application Administrator to sign in instead."
        )
    if kind is Failure.DENIED:
        return f"Microsoft refused: {who} may not do this. " + _microsoft_said(error)
    if kind is Failure.NOT_YET_VISIBLE:
        return (
            "Microsoft had still not finished setting up the new app after several minutes. "
            "This is usually temporary."
        )
    step_words = STEP_TITLES[step].split(" (", 1)[0].lower()
    return f"Something went wrong while {step_words}. " + _microsoft_said(error)


# -- the plan ----------------------------------------------------------------------------------


def check_app_name(raw: str) -> str:
    name = printable(raw).strip()
    if not name:
        raise InvalidInput("Give the app a name, such as “Clearooms Calendar Integration”.")
    if len(name) > MAX_APP_NAME:
        raise InvalidInput(f"The app's name can be at most {MAX_APP_NAME} characters long.")
    return name


def check_secret_months(months: int) -> int:
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 24:
        raise InvalidInput(
            f"The client secret can last from 1 to {MAX_SECRET_MONTHS} months; Microsoft allows "
            "no longer."
        )
    return months


def _graph_service_principal(graph: AdminGraph) -> dict[str, Any]:
    query = {"$select": "id,appId,displayName,appRoles"}
    found = graph.get_or_none(f"/servicePrincipals(appId='{GRAPH_APP_ID}')", query)
    if found is None:
        listed = graph.get("/servicePrincipals", {"$filter": f"appId eq '{GRAPH_APP_ID}'", **query})
        matches = _values(listed)
        found = matches[0] if matches else None
    if found is None:
        raise ClearoomsError(
            "Microsoft Graph could not be found in your organisation, which should never "
            "happen. Contact Clearooms support."
        )
    return found


def resolve_permissions(graph_sp: dict[str, Any]) -> tuple[PermissionToGrant, ...]:
    """The three permissions' application role ids, as the tenant's Microsoft Graph has them."""
    roles = graph_sp.get("appRoles")
    by_value: dict[str, str] = {}
    for role in roles if isinstance(roles, list) else []:
        if not isinstance(role, dict) or role.get("isEnabled") is False:
            continue
        members = role.get("allowedMemberTypes")
        if not isinstance(members, list) or "Application" not in members:
            continue
        value, role_id = role.get("value"), role.get("id")
        if isinstance(value, str) and isinstance(role_id, str) and _GUID.fullmatch(role_id):
            by_value[value] = role_id.lower()
    resolved: list[PermissionToGrant] = []
    for permission in DEFAULT_PERMISSIONS:
        role_id = by_value.get(permission.name)
        if role_id is None:
            raise ClearoomsError(
                f"Microsoft Graph in your organisation does not offer the permission "
                f"{permission.name}, so the app cannot be set up for you. Contact Clearooms "
                "support."
            )
        known = KNOWN_ROLE_IDS.get(permission.name)
        if known is not None and known != role_id:
            log.warning(
                "Microsoft Graph's role id for %s is %s here, not %s as usual; using the tenant's",
                permission.name,
                role_id,
                known,
            )
        resolved.append(PermissionToGrant(permission, role_id))
    return tuple(resolved)


_APP_FIELDS = "id,appId,displayName,passwordCredentials,requiredResourceAccess,tags,web"


def find_existing_app(graph: AdminGraph) -> dict[str, Any] | None:
    """A Clearooms app from an earlier run: by its unique name, else by its tag."""
    found = graph.get_or_none(
        f"/applications(uniqueName='{APP_UNIQUE_NAME}')", {"$select": _APP_FIELDS}
    )
    if found is not None:
        return found
    tagged = _values(
        graph.get(
            "/applications",
            {"$filter": f"tags/any(t:t eq '{APP_TAGS[0]}')", "$select": _APP_FIELDS},
        )
    )
    if len(tagged) > 1:
        log.warning("%d apps carry the Clearooms tag; reusing the first", len(tagged))
    return tagged[0] if tagged else None


def _service_principal_of(graph: AdminGraph, app_id: str) -> str | None:
    found = graph.get_or_none(f"/servicePrincipals(appId='{app_id}')", {"$select": "id,appId"})
    return None if found is None else _object_id(found.get("id"), "a service principal id")


def _granted_role_ids(graph: AdminGraph, sp_id: str, graph_sp_id: str) -> set[str]:
    listed = graph.get(f"/servicePrincipals/{sp_id}/appRoleAssignments")
    return {
        str(row.get("appRoleId", "")).lower()
        for row in _values(listed)
        if str(row.get("resourceId", "")).lower() == graph_sp_id.lower()
    }


def plan_registration(
    graph: AdminGraph,
    admin: SignedInAdmin,
    app_name: str,
    secret_months: int,
    *,
    rooms_only: bool = False,
) -> RegistrationPlan:
    """What a run will do: reads only, creates nothing. ``rooms_only``: without the Microsoft
    Entra grant of Calendars.ReadWrite (Exchange then gives it for the room mailboxes)."""
    name = check_app_name(app_name)
    months = check_secret_months(secret_months)
    try:
        return _plan(graph, admin, name, months, rooms_only)
    except GraphError as exc:
        kind = classify(exc)
        if kind is Failure.DENIED:
            problem = (
                f"Microsoft does not let {_shown(admin.username)} look at your organisation's "
                "apps, so nothing can be set up with this sign-in. Ask a Global Administrator "
                "or an Application Administrator to sign in instead."
            )
        elif kind is Failure.SIGNED_OUT:
            problem = "Microsoft no longer accepts the administrator's sign-in. Sign in again."
        elif kind is Failure.THROTTLED:
            problem = (
                "Microsoft is busy and asked us to slow down. Wait a few minutes, then try again."
            )
        else:
            problem = "Your organisation's apps could not be read. " + _microsoft_said(exc)
        raise ClearoomsError(f"{problem} Nothing was created.") from None


def _plan(
    graph: AdminGraph, admin: SignedInAdmin, name: str, months: int, rooms_only: bool
) -> RegistrationPlan:
    graph_sp = _graph_service_principal(graph)
    graph_sp_id = _object_id(graph_sp.get("id"), "Microsoft Graph's id")
    resolved = resolve_permissions(graph_sp)
    wanted = {p.name for p in permissions_for(rooms_only=rooms_only)}
    permissions = tuple(p for p in resolved if p.name in wanted)
    left_out = tuple(p for p in resolved if p.name not in wanted)
    existing: ExistingApp | None = None
    found = find_existing_app(graph)
    if found is not None:
        object_id = _object_id(found.get("id"), "the app's id")
        app_id = _guid(found.get("appId"), "the app's client ID")
        sp_id = _service_principal_of(graph, app_id)
        granted = _granted_role_ids(graph, sp_id, graph_sp_id) if sp_id else set()
        secrets_now = found.get("passwordCredentials")
        existing = ExistingApp(
            object_id=object_id,
            app_id=app_id,
            display_name=_shown(found.get("displayName")) or name,
            service_principal_id=sp_id,
            missing_permissions=tuple(p.name for p in permissions if p.role_id not in granted),
            secret_count=len(secrets_now) if isinstance(secrets_now, list) else 0,
        )
    log.info(
        "planned the registration in tenant %s: Microsoft Graph %s, existing app %s, "
        "permissions granted directly: %s",
        admin.tenant_id,
        graph_sp_id,
        existing.object_id if existing else "none",
        "yes" if admin.can_grant_permissions else "no",
    )
    return RegistrationPlan(
        admin=admin,
        app_name=name,
        secret_months=months,
        permissions=permissions,
        graph_service_principal_id=graph_sp_id,
        existing=existing,
        grant_directly=admin.can_grant_permissions,
        rooms_only=rooms_only,
        left_out=left_out,
    )


# -- the run -----------------------------------------------------------------------------------


def months_later(start: datetime, months: int) -> datetime:
    """``start`` plus whole calendar months (the 31st becomes the month's last day)."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    for day in range(start.day, 27, -1):
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return start.replace(year=year, month=month, day=min(start.day, 28))


def application_body(plan: RegistrationPlan, today: str) -> dict[str, Any]:
    return {
        "displayName": plan.app_name,
        "signInAudience": "AzureADMyOrg",
        "tags": list(APP_TAGS),
        "notes": (
            f"Created by the Clearooms setup wizard on {today}; used by the Clearooms booking "
            "service (client credentials)."
        ),
        "requiredResourceAccess": [_graph_access(plan, [])],
    }


def _graph_access(plan: RegistrationPlan, current: list[Any]) -> dict[str, Any]:
    """Microsoft Graph's entry of requiredResourceAccess: what it lists now, plus ours, less
    what the plan leaves out.

    For rooms only, Calendars.ReadWrite is not listed at all, not merely left ungranted:
    Exchange's limit to rooms adds to what Microsoft Entra ID grants (a union), and both the
    admin center's "Grant admin consent" button and Microsoft's consent page (scope /.default)
    grant everything listed, which would give every mailbox's calendar back."""
    dropped = {p.role_id for p in plan.left_out}
    access = [
        dict(a)
        for a in current
        if isinstance(a, dict)
        and not (a.get("type") == "Role" and str(a.get("id", "")).lower() in dropped)
    ]
    have = {(str(a.get("id", "")).lower(), a.get("type")) for a in access}
    for permission in plan.permissions:
        if (permission.role_id, "Role") not in have:
            access.append({"id": permission.role_id, "type": "Role"})
    return {"resourceAppId": GRAPH_APP_ID, "resourceAccess": access}


def admin_consent_url(
    cloud: Cloud, tenant_id: str, client_id: str, redirect_uri: str, state: str
) -> str:
    """Microsoft's page where a Global Administrator grants the app its permissions."""
    query = urlencode(
        {
            "client_id": client_id,
            "scope": cloud.graph_scope,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{cloud.authority_host.rstrip('/')}/{tenant_id}/v2.0/adminconsent?{query}"


# The redirect address the app needs for Microsoft's consent page to send the answer back to
# this computer; for localhost, Microsoft ignores the port when matching.
CONSENT_REDIRECT_URI = "http://localhost"


@dataclass
class _Secret:
    key_id: str
    expires_at: datetime
    text: str = field(repr=False)


@dataclass
class _Certificate:
    credential: CertificateCredential
    # Why a certificate although a secret was asked for.
    reason: str | None


class _SecretsForbidden(Exception):
    """addPassword was refused by the organisation's policy; a certificate is used instead."""


SECRETS_FORBIDDEN_FALLBACK = (
    "Your organisation does not allow client secrets, so the app signs in with a certificate "
    "instead."
)


def add_password(
    graph: AdminGraph,
    oid: str,
    months: int,
    retry: Callable[[Callable[[], GraphAnswer]], GraphAnswer],
) -> _Secret:
    """A new client secret on the app ``oid`` that lasts ``months`` (its text remembered, so
    that no log line can carry it); ``retry`` tries again while Microsoft catches up."""
    now = datetime.now(UTC)
    end = months_later(now, months).replace(microsecond=0)
    body = {
        "passwordCredential": {
            "displayName": _secret_name(now),
            "endDateTime": end.isoformat().replace("+00:00", "Z"),
        }
    }
    answer = retry(lambda: graph.send("POST", f"/applications/{oid}/addPassword", body=body))
    made = answer.body or {}
    text = made.get("secretText")
    if not isinstance(text, str) or not 8 <= len(text) <= 1000:
        raise UnexpectedResponse(
            "Microsoft made the client secret but did not send it back.", TechnicalDetails()
        )
    # Before anything else: every log line from here on has it removed, whatever happens.
    remember_secret(text)
    key_id = _guid(made.get("keyId"), "the secret's id")
    return _Secret(key_id, parse_graph_time(made.get("endDateTime")) or end, text)


class _Run:
    """One register_app call: the plan, the journal so far, and how to report progress."""

    def __init__(
        self,
        graph: AdminGraph,
        cloud: Cloud,
        plan: RegistrationPlan,
        journal: RegistrationJournal,
        store: JournalStore,
        progress: Callable[[StepUpdate], None] | None,
        policy: RetryPolicy,
    ) -> None:
        self.graph = graph
        self.cloud = cloud
        self.plan = plan
        self.journal = journal
        self.store = store
        self.progress = progress
        self.policy = policy
        self.step = StepId.FIND_GRAPH
        self.cancel = graph.cancel
        self.app_made_again = False

    # -- bookkeeping

    def report(self, step: StepId, state: StepState, detail: str = "") -> None:
        self.step = step
        if self.progress is not None:
            self.progress(StepUpdate(step, state, detail))

    def created(self, kind: CreatedKind) -> list[CreatedObject]:
        return [c for c in self.journal.created if c.kind is kind]

    def write_down(self, entry: CreatedObject) -> None:
        """Journal an object before going on: a failure from here on can undo it."""
        self.journal = replace(self.journal, created=(*self.journal.created, entry))
        self.store.save(self.journal)
        log.info("created %s %s (run %s)", entry.kind.value, entry.object_id, self.journal.run_id)

    def strike_out(self, entry: CreatedObject) -> None:
        self.journal = replace(
            self.journal, created=tuple(c for c in self.journal.created if c != entry)
        )
        self.store.save(self.journal)

    def fail(self, problem: str) -> RegistrationFailed:
        self.report(self.step, StepState.FAILED, problem)
        return RegistrationFailed(problem, self.step, self.journal)

    def retrying(
        self,
        call: Callable[[], T],
        deadline: float,
        retry_on: frozenset[Failure] = frozenset({Failure.NOT_YET_VISIBLE, Failure.THROTTLED}),
    ) -> T:
        """``call``, tried again while Microsoft says the object is not visible yet (or asks us
        to slow down), with a growing pause, until ``deadline`` seconds have passed."""
        return retrying(
            call,
            deadline,
            self.policy,
            self.cancel,
            self.step.value,
            lambda: self.report(
                self.step,
                StepState.RUNNING,
                "Microsoft is still setting this up; this usually takes under a minute.",
            ),
            retry_on,
        )

    # -- the steps

    def application(self) -> tuple[str, str, bool]:
        """The app's object id and client ID, and whether it was there before this run."""
        self.report(StepId.CREATE_APP, StepState.RUNNING)
        journalled = self.created(CreatedKind.APPLICATION)
        if journalled:
            entry = journalled[0]
            found = self.graph.get_or_none(f"/applications/{_object_id(entry.object_id)}")
            if found is not None:
                app_id = _guid(found.get("appId"), "the app's client ID")
                self.reconcile_permissions(entry.object_id)
                self.report(
                    StepId.CREATE_APP,
                    StepState.SKIPPED,
                    "The app was created by the earlier try; carrying on with it.",
                )
                return entry.object_id, app_id, False
            # Deleted since, or not visible yet: asking for it by its unique name tells.
            return self.create_application(entry)
        existing = self.plan.existing
        if existing is not None:
            self.reconcile_permissions(existing.object_id)
            self.report(
                StepId.CREATE_APP,
                StepState.SKIPPED,
                f"Found “{existing.display_name}” from an earlier setup; using it again "
                "rather than creating a second app.",
            )
            return existing.object_id, existing.app_id, True
        return self.create_application()

    def create_application(self, journalled: CreatedObject | None = None) -> tuple[str, str, bool]:
        """Create the app by its unique name (or find it); ``journalled`` is this run's app
        from an earlier try that could not be seen just now."""
        today = datetime.now(UTC).date().isoformat()
        body = application_body(self.plan, today)
        path = f"/applications(uniqueName='{APP_UNIQUE_NAME}')"
        lost_answer = False
        try:
            answer = self.graph.send("PATCH", path, body=body, prefer="create-if-missing")
        except NetworkError:
            # Microsoft may have made the app and the answer got lost on the way: asking again
            # is safe (the unique name makes it the same app), and tells which it was.
            log.info("create-app: the answer was lost; asking again")
            lost_answer = True
            answer = self.graph.send("PATCH", path, body=body, prefer="create-if-missing")
        if answer.status == 201 and answer.body is not None:
            object_id = _object_id(answer.body.get("id"), "the app's id")
            app_id = _guid(answer.body.get("appId"), "the app's client ID")
            ours = True
        else:
            # 204: an app with our unique name was there already and has been updated.
            found = self.retrying(
                lambda: self.graph.get(path, {"$select": "id,appId"}), self.policy.object_deadline
            )
            object_id = _object_id(found.get("id"), "the app's id")
            app_id = _guid(found.get("appId"), "the app's client ID")
            # Ours when our own first request's answer was lost, or it is the app an earlier try
            # of this run made.
            ours = lost_answer or (journalled is not None and journalled.object_id == object_id)
        if journalled is not None and journalled.object_id == object_id:
            self.report(
                StepId.CREATE_APP,
                StepState.SKIPPED,
                "The app was created by the earlier try; carrying on with it.",
            )
            return object_id, app_id, False
        if journalled is not None:
            # Deleted since (in the admin center, say): nothing of it is left to undo, and what
            # the earlier try made for it (still noted, for Undo) is not this app's.
            self.strike_out(journalled)
            self.app_made_again = True
        if ours:
            self.write_down(
                CreatedObject(CreatedKind.APPLICATION, object_id, label=self.plan.app_name)
            )
            self.report(StepId.CREATE_APP, StepState.DONE, f"Created “{self.plan.app_name}”.")
        else:
            self.report(
                StepId.CREATE_APP,
                StepState.SKIPPED,
                "Found the Clearooms app from an earlier setup; using it again.",
            )
        return object_id, app_id, not ours

    def reconcile_permissions(self, object_id: str) -> None:
        """The app lists the three permissions it needs (the admin center's consent button,
        and Microsoft's consent page, grant what is listed)."""
        oid = _object_id(object_id)
        app = self.retrying(
            lambda: self.graph.get(
                f"/applications/{oid}", {"$select": "id,requiredResourceAccess"}
            ),
            self.policy.object_deadline,
        )
        current = app.get("requiredResourceAccess")
        entries = [e for e in current if isinstance(e, dict)] if isinstance(current, list) else []
        others = [e for e in entries if e.get("resourceAppId") != GRAPH_APP_ID]
        graph_entry = next((e for e in entries if e.get("resourceAppId") == GRAPH_APP_ID), {})
        listed = graph_entry.get("resourceAccess")
        wanted = _graph_access(self.plan, listed if isinstance(listed, list) else [])
        if graph_entry and wanted["resourceAccess"] == listed:
            return
        self.retrying(
            lambda: self.graph.send(
                "PATCH", f"/applications/{oid}", body={"requiredResourceAccess": [*others, wanted]}
            ),
            self.policy.object_deadline,
        )
        log.info("listed the permissions on app %s (rooms only: %s)", oid, self.plan.rooms_only)

    def secret(self, object_id: str) -> _Secret:
        self.report(StepId.CREATE_SECRET, StepState.RUNNING)
        oid = _object_id(object_id)
        # A secret from an earlier try cannot be read back: its text was never kept. It is
        # removed rather than left behind unused.
        for stale in self.created(CreatedKind.SECRET):
            self.remove_secret(stale)
            self.strike_out(stale)
        months = self.plan.secret_months
        shortened = False
        while True:
            try:
                made = self.add_password(oid, months)
                break
            except GraphError as exc:
                kind = classify(exc)
                shorter = shorter_secret_months(months)
                if kind is Failure.SECRET_TOO_LONG and shorter is not None:
                    log.info(
                        "create-secret: %d months is too long here; trying %d", months, shorter
                    )
                    months, shortened = shorter, True
                    continue
                if kind is Failure.SECRET_TOO_LONG:
                    raise self.fail(
                        f"Your organisation's policy allows only client secrets shorter than "
                        f"{months} months. Choose a shorter lifetime, or ask your IT admin "
                        "how long a secret may last, then try again."
                    ) from None
                if kind is Failure.SECRETS_NOT_ALLOWED and self.plan.certificate_fallback:
                    raise _SecretsForbidden() from None
                if kind is Failure.SECRETS_NOT_ALLOWED:
                    raise self.fail(
                        "Your organisation's policy does not allow apps to have client secrets, "
                        "and Clearooms needs one. Ask your IT admin to allow a client secret "
                        "for this app (an app management policy exemption)."
                    ) from None
                raise
        self.write_down(
            CreatedObject(
                CreatedKind.SECRET, made.key_id, parent_id=oid, label=_secret_name(datetime.now())
            )
        )
        until = f"{made.expires_at:%d %B %Y}".lstrip("0")
        detail = (
            f"Your organisation allows client secrets of at most {months} months, "
            f"so this one lasts {months} months, until {until}."
            if shortened
            else f"Created a client secret that lasts until {until}."
        )
        self.report(StepId.CREATE_SECRET, StepState.DONE, detail)
        return made

    def credential(self, object_id: str, app_id: str) -> _Secret | _Certificate:
        """A client secret, or a certificate: when asked for, or when the organisation's policy
        does not allow secrets (then the step says so)."""
        if self.plan.use_certificate:
            return self.certificate(object_id, app_id, None)
        try:
            return self.secret(object_id)
        except _SecretsForbidden:
            log.info("create-secret: secrets are not allowed here; using a certificate")
            return self.certificate(object_id, app_id, SECRETS_FORBIDDEN_FALLBACK)

    def certificate(self, object_id: str, app_id: str, reason: str | None) -> _Certificate:
        from clearooms_wizard.core.certificate_upload import upload_certificate
        from clearooms_wizard.core.certificates import create_certificate

        self.report(StepId.CREATE_SECRET, StepState.RUNNING, reason or "")
        oid = _object_id(object_id)
        # A certificate from an earlier try is of no use: its private key was never kept.
        for stale in self.created(CreatedKind.CERTIFICATE):
            self.remove_certificate(stale)
            self.strike_out(stale)
        made = create_certificate(app_id, months=min(self.plan.secret_months, 24))
        key_id = self.retrying(
            lambda: upload_certificate(self.graph, oid, made), self.policy.object_deadline
        )
        # By its keyId, so that Undo takes it off an app that was reused (and kept).
        self.write_down(
            CreatedObject(
                CreatedKind.CERTIFICATE, key_id, parent_id=oid, label=made.sha1_thumbprint.upper()
            )
        )
        until = f"{made.not_after:%d %B %Y}".lstrip("0")
        done = (
            f"Added a certificate that lasts until {until}; its private key stays on this computer."
        )
        self.report(StepId.CREATE_SECRET, StepState.DONE, f"{reason} {done}" if reason else done)
        return _Certificate(made, reason)

    def add_password(self, oid: str, months: int) -> _Secret:
        return add_password(
            self.graph, oid, months, lambda call: self.retrying(call, self.policy.object_deadline)
        )

    def remove_certificate(self, entry: CreatedObject) -> None:
        from clearooms_wizard.core.certificate_upload import remove_certificate

        parent = _object_id(entry.parent_id or "")
        self.retrying(
            lambda: remove_certificate(self.graph, parent, entry.object_id),
            self.policy.object_deadline,
        )

    def remove_secret(self, entry: CreatedObject) -> None:
        parent = _object_id(entry.parent_id or "")
        try:
            self.graph.send(
                "POST", f"/applications/{parent}/removePassword", body={"keyId": entry.object_id}
            )
        except GraphError as exc:
            if exc.status not in (400, 404):
                raise
        log.info("removed secret %s from app %s", entry.object_id, parent)

    def service_principal(self, app_id: str) -> tuple[str, bool]:
        """The app's service principal id, and whether this call created it."""
        self.report(StepId.ADD_TO_ORGANISATION, StepState.RUNNING)
        journalled = [] if self.app_made_again else self.created(CreatedKind.SERVICE_PRINCIPAL)
        existing = self.plan.existing
        known = journalled[0].object_id if journalled else None
        if known is None and existing is not None and existing.app_id == app_id:
            known = existing.service_principal_id
        if known is not None:
            self.report(
                StepId.ADD_TO_ORGANISATION, StepState.SKIPPED, "It is in your organisation already."
            )
            return _object_id(known), False
        try:
            answer = self.retrying(
                lambda: self.graph.send("POST", "/servicePrincipals", body={"appId": app_id}),
                self.policy.object_deadline,
            )
            sp_id = _object_id((answer.body or {}).get("id"), "the service principal's id")
        except GraphError as exc:
            if classify(exc) is not Failure.CONFLICT:
                raise
            # Made already (by an earlier request whose answer was lost, or by someone else).
            found = _service_principal_of(self.graph, app_id)
            if found is None:
                raise
            self.report(
                StepId.ADD_TO_ORGANISATION, StepState.SKIPPED, "It is in your organisation already."
            )
            return found, False
        self.write_down(
            CreatedObject(CreatedKind.SERVICE_PRINCIPAL, sp_id, label=self.plan.app_name)
        )
        self.report(StepId.ADD_TO_ORGANISATION, StepState.DONE, "Added to your organisation.")
        return sp_id, True

    def grants(self, sp_id: str, sp_is_new: bool) -> bool:
        """Grant the permissions still missing; False when this sign-in may not grant them."""
        self.report(StepId.GRANT_PERMISSIONS, StepState.RUNNING)
        graph_sp = _object_id(self.plan.graph_service_principal_id)
        granted: set[str] = set()
        if not sp_is_new:
            granted = self.retrying(
                lambda: _granted_role_ids(self.graph, sp_id, graph_sp),
                self.policy.object_deadline,
            )
        missing = [p for p in self.plan.permissions if p.role_id not in granted]
        if not missing:
            self.report(
                StepId.GRANT_PERMISSIONS,
                StepState.SKIPPED,
                f"The {_how_many(self.plan)} were granted already.",
            )
            return True
        if not self.plan.grant_directly:
            return False
        for permission in missing:
            try:
                answer = self.retrying(
                    functools.partial(self.grant, sp_id, graph_sp, permission.role_id),
                    self.policy.object_deadline,
                )
            except GraphError as exc:
                kind = classify(exc)
                if kind is Failure.ALREADY_DONE:
                    log.info("grant-permissions: %s was granted already", permission.name)
                    continue
                if kind is Failure.DENIED:
                    log.info("grant-permissions: refused (HTTP 403); a consent link instead")
                    return False
                raise
            assignment = _object_id((answer.body or {}).get("id"), "the permission's id")
            self.write_down(
                CreatedObject(
                    CreatedKind.PERMISSION_GRANT,
                    assignment,
                    parent_id=graph_sp,
                    label=permission.name,
                )
            )
        self.report(
            StepId.GRANT_PERMISSIONS, StepState.DONE, f"Granted the {_how_many(self.plan)}."
        )
        return True

    def grant(self, sp_id: str, graph_sp: str, role_id: str) -> GraphAnswer:
        body = {"principalId": sp_id, "resourceId": graph_sp, "appRoleId": role_id}
        return self.graph.send(
            "POST", f"/servicePrincipals/{graph_sp}/appRoleAssignedTo", body=body
        )

    def consent_link(self, object_id: str, app_id: str) -> str:
        """Microsoft's consent page for a Global Administrator; the app must list a loopback
        redirect address for the page to answer this computer."""
        oid = _object_id(object_id)
        app = self.retrying(
            lambda: self.graph.get(f"/applications/{oid}", {"$select": "id,web"}),
            self.policy.object_deadline,
        )
        current = _redirect_uris(app)
        if CONSENT_REDIRECT_URI not in current:
            self.retrying(
                lambda: self.graph.send(
                    "PATCH",
                    f"/applications/{oid}",
                    body={"web": {"redirectUris": [*current, CONSENT_REDIRECT_URI]}},
                ),
                self.policy.object_deadline,
            )
        return admin_consent_url(
            self.cloud,
            self.plan.admin.tenant_id,
            app_id,
            CONSENT_REDIRECT_URI,
            secrets.token_urlsafe(16),
        )


def _redirect_uris(app: dict[str, Any]) -> list[str]:
    web = app.get("web")
    uris = web.get("redirectUris") if isinstance(web, dict) else None
    return [u for u in uris if isinstance(u, str)] if isinstance(uris, list) else []


def remove_consent_redirect(graph: AdminGraph, app_object_id: str) -> bool:
    """Take the loopback address the approval page needed off the app again, once its
    permissions are approved: an app that signs in with a secret has no use for it. True when
    there was one to take off."""
    oid = _object_id(app_object_id)
    app = graph.get(f"/applications/{oid}", {"$select": "id,web"})
    current = _redirect_uris(app)
    if CONSENT_REDIRECT_URI not in current:
        return False
    remaining = [uri for uri in current if uri != CONSENT_REDIRECT_URI]
    graph.send("PATCH", f"/applications/{oid}", body={"web": {"redirectUris": remaining}})
    log.info("took the approval page's redirect address off app %s", oid)
    return True


def remove_calendars_grant(graph: AdminGraph, admin: SignedInAdmin, client_id: str) -> bool:
    """Take the tenant-wide Calendars.ReadWrite grant (Microsoft Entra's admin consent) off
    the app, and the permission off its list so that no later consent grants it again. Then
    only Exchange's limit to rooms gives the app calendars. True when there was a grant to
    remove; ClearoomsError in plain words when Microsoft refuses."""
    app_id = _guid(client_id, "the app's client ID")
    try:
        graph_sp = _graph_service_principal(graph)
        graph_sp_id = _object_id(graph_sp.get("id"), "Microsoft Graph's id")
        role_id = _role_id(graph_sp, CALENDARS_PERMISSION)
        sp_id = _service_principal_of(graph, app_id)
        removed = False
        if sp_id is not None:
            listed = graph.get(f"/servicePrincipals/{sp_id}/appRoleAssignments")
            for row in _values(listed):
                if (
                    str(row.get("resourceId", "")).lower() != graph_sp_id.lower()
                    or str(row.get("appRoleId", "")).lower() != role_id
                ):
                    continue
                assignment = _object_id(row.get("id"), "the permission's id")
                try:
                    graph.send(
                        "DELETE", f"/servicePrincipals/{graph_sp_id}/appRoleAssignedTo/{assignment}"
                    )
                except GraphError as exc:
                    if exc.status != 404:
                        raise
                    continue
                removed = True
                log.info("removed the Calendars.ReadWrite grant %s of app %s", assignment, app_id)
        _unlist_role(graph, app_id, role_id)
    except GraphError as exc:
        kind = classify(exc)
        if kind is Failure.DENIED:
            problem = (
                f"Microsoft does not let {_shown(admin.username)} remove the permission: only a "
                "Global Administrator or a Privileged Role Administrator can."
            )
        elif kind is Failure.SIGNED_OUT:
            problem = "Microsoft no longer accepts the administrator's sign-in. Sign in again."
        else:
            problem = "The permission could not be removed. " + _microsoft_said(exc)
        raise ClearoomsError(problem) from None
    return removed


def _role_id(graph_sp: dict[str, Any], value: str) -> str:
    roles = graph_sp.get("appRoles")
    for role in roles if isinstance(roles, list) else []:
        if isinstance(role, dict) and role.get("value") == value:
            return _guid(role.get("id"), f"the id of {value}")
    return KNOWN_ROLE_IDS[value]


def _unlist_role(graph: AdminGraph, app_id: str, role_id: str) -> None:
    """The app's registration no longer asks for the role (the admin center's "Grant admin
    consent" and Microsoft's consent page grant whatever it asks for)."""
    app = graph.get_or_none(
        f"/applications(appId='{app_id}')", {"$select": "id,requiredResourceAccess"}
    )
    current = app.get("requiredResourceAccess") if app is not None else None
    if app is None or not isinstance(current, list):
        return
    changed = False
    entries: list[Any] = []
    for entry in current:
        if isinstance(entry, dict) and isinstance(entry.get("resourceAccess"), list):
            kept = [
                a
                for a in entry["resourceAccess"]
                if not (
                    isinstance(a, dict)
                    and a.get("type") == "Role"
                    and str(a.get("id", "")).lower() == role_id
                )
            ]
            changed = changed or len(kept) != len(entry["resourceAccess"])
            entry = {**entry, "resourceAccess": kept}
        entries.append(entry)
    if changed:
        oid = _object_id(app.get("id"), "the app's id")
        graph.send("PATCH", f"/applications/{oid}", body={"requiredResourceAccess": entries})
        log.info("took Calendars.ReadWrite off the permissions app %s asks for", oid)


def _how_many(plan: RegistrationPlan) -> str:
    count = len(plan.permissions)
    return f"{_COUNT_WORDS.get(count, str(count))} permission{'s' if count != 1 else ''}"


_COUNT_WORDS = {1: "one", 2: "two", 3: "three"}


def _secret_name(when: datetime) -> str:
    return f"{SECRET_NAME_PREFIX} {when:%Y-%m-%d}"


def start_journal(
    plan: RegistrationPlan, unfinished: RegistrationJournal | None
) -> RegistrationJournal:
    """The journal to carry on with: an unfinished one of this organisation, else a new one."""
    if unfinished is not None and not unfinished.finished:
        if unfinished.tenant_id.lower() != plan.admin.tenant_id.lower():
            raise ClearoomsError(
                f"An earlier setup in another organisation (tenant {unfinished.tenant_id}) did "
                "not finish. Sign in to that organisation to finish or undo it first."
            )
        return unfinished
    # Whole seconds, as the workspace keeps it: the journal read back is the one written.
    started = datetime.now(UTC).replace(microsecond=0)
    return RegistrationJournal(
        run_id=str(uuid.uuid4()), tenant_id=plan.admin.tenant_id, started_at=started
    )


def register_app(
    graph: AdminGraph,
    session: MicrosoftSession,
    cloud: Cloud,
    plan: RegistrationPlan,
    store: JournalStore,
    unfinished: RegistrationJournal | None = None,
    progress: Callable[[StepUpdate], None] | None = None,
    policy: RetryPolicy | None = None,
) -> RegisteredApp:
    """Create (or reuse) the app, its secret, its service principal and its permissions, then
    wait until Microsoft signs the app in with the new secret and all three permissions.

    Raises RegistrationFailed (with the journal) when a step fails; Cancelled when stopped, with
    the journal saved as far as it got."""
    journal = start_journal(plan, unfinished)
    run = _Run(graph, cloud, plan, journal, store, progress, policy or RetryPolicy())
    log.info(
        "registering the app in tenant %s (run %s, %s)",
        plan.admin.tenant_id,
        journal.run_id,
        f"resuming with {len(journal.created)} objects" if journal.created else "new",
    )
    run.report(StepId.FIND_GRAPH, StepState.DONE, "Found Microsoft Graph and its permissions.")
    try:
        object_id, app_id, reused = run.application()
        secret = run.credential(object_id, app_id)
        sp_id, sp_is_new = run.service_principal(app_id)
        granted = run.grants(sp_id, sp_is_new)
        consent_url: str | None = None
        if not granted:
            consent_url = run.consent_link(object_id, app_id)
            run.report(
                StepId.GRANT_PERMISSIONS,
                StepState.NEEDS_APPROVAL,
                f"A Global Administrator needs to approve the {_how_many(plan)} with the link "
                "below.",
            )
        else:
            run.report(StepId.WAIT_FOR_MICROSOFT, StepState.RUNNING)
            wait_for_roles(
                session,
                cloud,
                plan.admin.tenant_id,
                app_id,
                secret.text if isinstance(secret, _Secret) else secret.credential,
                tuple(p.name for p in plan.permissions),
                run.policy,
                on_still_waiting=lambda: run.report(
                    StepId.WAIT_FOR_MICROSOFT,
                    StepState.RUNNING,
                    "Microsoft is still finishing; this usually takes under a minute.",
                ),
            )
            run.report(
                StepId.WAIT_FOR_MICROSOFT,
                StepState.DONE,
                f"Microsoft signs the app in with its {_how_many(plan)}.",
            )
    except RegistrationFailed:
        raise
    except GraphError as exc:
        raise run.fail(_problem(exc, run.step, plan.admin)) from None
    except StillWaiting as exc:
        raise run.fail(str(exc)) from None
    except ClearoomsError as exc:
        raise run.fail(_shown(str(exc), 400)) from None
    store.clear()
    log.info(
        "registered app %s (client ID %s, service principal %s); permissions granted: %s",
        object_id,
        app_id,
        sp_id,
        "yes" if granted else "waiting for a Global Administrator",
    )
    if isinstance(secret, _Certificate):
        return RegisteredApp(
            tenant_id=plan.admin.tenant_id,
            client_id=app_id,
            client_secret="",
            secret_expires_at=secret.credential.not_after,
            app_object_id=object_id,
            service_principal_id=sp_id,
            reused=reused,
            permissions_granted=granted,
            consent_url=consent_url,
            certificate=secret.credential,
            certificate_reason=secret.reason,
            rooms_only=plan.rooms_only,
        )
    return RegisteredApp(
        tenant_id=plan.admin.tenant_id,
        client_id=app_id,
        client_secret=secret.text,
        secret_expires_at=secret.expires_at,
        app_object_id=object_id,
        service_principal_id=sp_id,
        reused=reused,
        permissions_granted=granted,
        consent_url=consent_url,
        rooms_only=plan.rooms_only,
    )


# -- a Global Administrator's approval ---------------------------------------------------------

# How long the consent page may take to answer: a Global Administrator may have to be found.
CONSENT_ANSWER_TIMEOUT = 600.0


def consent_given(answer: dict[str, str]) -> bool:
    """Whether Microsoft's consent page answered with approval; a refusal is explained."""
    error = answer.get("error")
    if error:
        description = answer.get("error_description", "")
        code = re.search(r"AADSTS\d+", description)
        log.info("the consent page answered %s %s", _shown(error, 40), code.group() if code else "")
        if error == "access_denied":
            raise ClearoomsError(
                "The permissions were not approved: the person who signed in on Microsoft's "
                "page declined, or is not allowed to (only a Global Administrator or a "
                "Privileged Role Administrator can). Send the link to a Global Administrator, "
                "then press Check again."
            )
        raise ClearoomsError(
            f"Microsoft's approval page answered with an error ({_shown(error, 40)}"
            f"{', ' + code.group() if code else ''}). Send the link to a Global Administrator, "
            "then press Check again."
        )
    return answer.get("admin_consent", "").lower() == "true"


# -- the first token ---------------------------------------------------------------------------


class StillWaiting(ClearoomsError):
    """Microsoft had not finished within the deadline."""


def app_token(session: MicrosoftSession, cloud: Cloud, tenant_id: str, client_id: str,
              secret: str | CertificateCredential) -> AccessToken:  # fmt: skip
    """A client-credentials token from a fresh MSAL app (its cache would give an old one),
    signed in with the client secret or the certificate."""
    from clearooms_wizard.core.tokens import TokenProvider
    from clearooms_wizard.core.values import Credentials

    credentials = (
        Credentials(tenant_id, client_id, secret)
        if isinstance(secret, str)
        else Credentials(tenant_id, client_id, "", certificate=secret)
    )
    return TokenProvider(credentials, cloud, session).acquire()


def roles_granted(
    session: MicrosoftSession,
    cloud: Cloud,
    tenant_id: str,
    client_id: str,
    secret: str | CertificateCredential,
    wanted: tuple[str, ...],
) -> bool:
    """Whether a fresh token for the app carries every permission in ``wanted``. False while
    Microsoft does not know the new secret yet; other sign-in errors are raised."""
    try:
        token = app_token(session, cloud, tenant_id, client_id, secret)
    except SignInError as exc:
        if exc.aadsts in SECRET_NOT_YET_VISIBLE or (
            # A new certificate is "not found" until it reaches the sign-in service.
            not isinstance(secret, str) and exc.aadsts == CERTIFICATE_NOT_FOUND
        ):
            log.info("the app's sign-in is not ready yet (AADSTS%s)", exc.aadsts)
            return False
        raise
    have = set(token.roles or ())
    missing = [role for role in wanted if role not in have]
    if missing:
        log.info("the app's token lacks %s so far", ", ".join(missing))
    return not missing


def wait_for_roles(
    session: MicrosoftSession,
    cloud: Cloud,
    tenant_id: str,
    client_id: str,
    secret: str | CertificateCredential,
    wanted: tuple[str, ...],
    policy: RetryPolicy,
    on_still_waiting: Callable[[], None] | None = None,
    deadline: float | None = None,
) -> None:
    """Until a fresh client-credentials token carries every permission in ``wanted``."""
    started = time.monotonic()
    limit = policy.token_deadline if deadline is None else deadline
    delays = policy.delays()
    told = False
    while not roles_granted(session, cloud, tenant_id, client_id, secret, wanted):
        wait = next(delays)
        waited = time.monotonic() - started
        if waited + wait > limit:
            raise StillWaiting(
                f"Microsoft had still not finished setting up the app's sign-in after "
                f"{limit / 60:.0f} minutes. This is usually temporary."
            )
        if not told and waited + wait >= policy.still_working_after and on_still_waiting:
            on_still_waiting()
            told = True
        session.cancel.sleep(wait)


# -- undo --------------------------------------------------------------------------------------

_UNDO_WORDS = {
    CreatedKind.PERMISSION_GRANT: "Removed the permission {label}.",
    CreatedKind.SERVICE_PRINCIPAL: "Removed the app from your organisation.",
    CreatedKind.SECRET: "Removed the client secret.",
    CreatedKind.CERTIFICATE: "Removed the certificate.",
    CreatedKind.APPLICATION: "Deleted the app “{label}”.",
}


def undo_registration(
    graph: AdminGraph,
    admin: SignedInAdmin,
    journal: RegistrationJournal,
    store: JournalStore,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Remove what the journal's run created, newest first; an object already gone counts as
    removed. The journal is kept up to date as it goes, so a stop half-way can carry on."""
    if journal.tenant_id.lower() != admin.tenant_id.lower():
        raise ClearoomsError(
            f"The unfinished setup is in another organisation (tenant {journal.tenant_id}). "
            "Sign in to that organisation to undo it."
        )
    remaining = list(journal.created)
    order = list(CreatedKind)
    for entry in sorted(journal.created, key=lambda c: order.index(c.kind), reverse=True):
        graph.cancel.raise_if_cancelled()
        oid = _object_id(entry.object_id)
        try:
            if entry.kind is CreatedKind.PERMISSION_GRANT:
                parent = _object_id(entry.parent_id or "")
                graph.send("DELETE", f"/servicePrincipals/{parent}/appRoleAssignedTo/{oid}")
            elif entry.kind is CreatedKind.SERVICE_PRINCIPAL:
                graph.send("DELETE", f"/servicePrincipals/{oid}")
            elif entry.kind is CreatedKind.SECRET:
                parent = _object_id(entry.parent_id or "")
                graph.send("POST", f"/applications/{parent}/removePassword", body={"keyId": oid})
            elif entry.kind is CreatedKind.CERTIFICATE:
                from clearooms_wizard.core.certificate_upload import remove_certificate

                remove_certificate(graph, _object_id(entry.parent_id or ""), oid)
            else:
                graph.send("DELETE", f"/applications/{oid}")
        except GraphError as exc:
            if exc.status != 404:
                raise ClearoomsError(
                    f"Undo stopped: {_undo_problem(exc, admin)} What is left is still noted; "
                    "press Undo to try again."
                ) from None
            log.info("undo: %s %s was gone already", entry.kind.value, oid)
        else:
            log.info("undo: removed %s %s (run %s)", entry.kind.value, oid, journal.run_id)
        remaining.remove(entry)
        if remaining:
            store.save(replace(journal, created=tuple(remaining)))
        if progress is not None:
            progress(_UNDO_WORDS[entry.kind].format(label=_shown(entry.label)))
    store.clear()


def _undo_problem(error: GraphError, admin: SignedInAdmin) -> str:
    kind = classify(error)
    if kind is Failure.DENIED:
        return f"Microsoft does not let {_shown(admin.username)} remove it."
    if kind is Failure.SIGNED_OUT:
        return "the administrator's sign-in has expired; sign in again."
    return _microsoft_said(error)
