"""The demo Graph's app registration calls: applications, their secrets, service principals and
app-role assignments, with Microsoft's permission rules, answers and replication delays.

The routes themselves are listed in graph.py's routing table; this module answers them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from clearooms_wizard.core.app_setup import (
    APPLICATION_ADMINISTRATOR,
    APPLICATION_DEVELOPER,
    CLOUD_APPLICATION_ADMINISTRATOR,
    GLOBAL_ADMINISTRATOR,
    PRIVILEGED_ROLE_ADMINISTRATOR,
)
from clearooms_wizard.demo import data
from clearooms_wizard.demo.data import stable_guid
from clearooms_wizard.demo.graph_common import (
    INSUFFICIENT_PRIVILEGES,
    GraphCall,
    GraphProblem,
    bad_request,
    check_options,
    no_content,
    ok,
    option,
    select,
)
from clearooms_wizard.demo.key_credentials import (
    KeyCredential,
    KeyCredentialsInvalid,
    parse_key_credentials,
)
from clearooms_wizard.demo.messages import DemoResponse, new_guid, utc_now
from clearooms_wizard.demo.registry import (
    DEFAULT_SECRET_LIFETIME,
    Application,
    AppRoleAssignment,
    Conflict,
    Registry,
    ServicePrincipal,
)
from clearooms_wizard.demo.scenarios import Scenario

# An app token may read app registrations with any of these (Graph's documented list).
APPLICATION_ROLES = frozenset(
    {
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Application.ReadWrite.OwnedBy",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
READ_SCOPES = frozenset(
    {
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
    }
)
WRITE_SCOPES = frozenset({"Application.ReadWrite.All", "Directory.AccessAsUser.All"})
GRANT_SCOPES = frozenset({"AppRoleAssignment.ReadWrite.All"})
# This tenant does not let ordinary users register apps: one of these roles is needed.
ROLES_THAT_CREATE = frozenset(
    {
        GLOBAL_ADMINISTRATOR,
        APPLICATION_ADMINISTRATOR,
        CLOUD_APPLICATION_ADMINISTRATOR,
        APPLICATION_DEVELOPER,
    }
)
# Manage every app and service principal, owned or not.
ROLES_THAT_MANAGE = frozenset(
    {GLOBAL_ADMINISTRATOR, APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR}
)
# Application Administrators may grant any API's app roles except Microsoft Graph's.
ROLES_THAT_GRANT_GRAPH = frozenset({GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR})
ROLES_THAT_GRANT_OTHERS = ROLES_THAT_GRANT_GRAPH | ROLES_THAT_MANAGE

_Replicated = TypeVar("_Replicated", Application, ServicePrincipal)

SECRET_POLICY_ID = stable_guid("app-management-policy", "default")

_TAG_FILTER = re.compile(r"^\s*tags/any\(\s*(\w+)\s*:\s*\1\s+eq\s+'([^']*)'\s*\)\s*$", re.I)
_EQ_FILTER = re.compile(r"^\s*(\w+)\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)
_SIGN_IN_AUDIENCES = frozenset(
    {
        "AzureADMyOrg",
        "AzureADMultipleOrgs",
        "AzureADandPersonalMicrosoftAccount",
        "PersonalMicrosoftAccount",
    }
)
_APPLICATION_PROPERTIES = frozenset(
    {
        "displayName",
        "uniqueName",
        "tags",
        "notes",
        "description",
        "signInAudience",
        "requiredResourceAccess",
        "web",
    }
)
_BAD_JSON = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload "
    "is of valid JSON format."
)


def not_found(key: str) -> GraphProblem:
    return GraphProblem(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects are "
        "not present.",
    )


def _denied() -> GraphProblem:
    return GraphProblem(403, "Authorization_RequestDenied", INSUFFICIENT_PRIVILEGES)


def _unique_name_taken() -> GraphProblem:
    return bad_request(
        "Another object with the same value for property uniqueName already exists.",
        "Request_MultipleObjectsWithSameKeyValue",
    )


def _already_granted() -> GraphProblem:
    return bad_request(
        "Permission being assigned already exists on the object", "Request_BadRequest"
    )


def _invalid(prop: str, resource: str) -> GraphProblem:
    return bad_request(
        f"Invalid value specified for property '{prop}' of resource '{resource}'.",
        "Request_BadRequest",
    )


def _body(call: GraphCall) -> dict[str, Any]:
    raw = call.request.body
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad_request(_BAD_JSON) from None
    if not isinstance(value, dict):
        raise bad_request(_BAD_JSON)
    return value


def _parse_time(value: Any, prop: str) -> datetime:
    if not isinstance(value, str):
        raise _invalid(prop, "PasswordCredential")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(prop, "PasswordCredential") from None
    if moment.tzinfo is None:
        raise _invalid(prop, "PasswordCredential")
    return moment


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def _strings(value: Any, prop: str, resource: str = "Application") -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(prop, resource)
    return tuple(value)


def _required_resource_access(value: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list):
        raise _invalid("requiredResourceAccess", "Application")
    result = []
    for resource in value:
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceAppId"), str):
            raise _invalid("requiredResourceAccess", "Application")
        accesses = resource.get("resourceAccess") or []
        if not isinstance(accesses, list):
            raise _invalid("requiredResourceAccess", "Application")
        cleaned = []
        for access in accesses:
            if (
                not isinstance(access, dict)
                or not isinstance(access.get("id"), str)
                or access.get("type") not in ("Role", "Scope")
            ):
                raise _invalid("requiredResourceAccess", "Application")
            cleaned.append({"id": access["id"].lower(), "type": access["type"]})
        result.append(
            {"resourceAppId": resource["resourceAppId"].lower(), "resourceAccess": cleaned}
        )
    return tuple(result)


def _redirect_uris(value: Any) -> tuple[str, ...]:
    if not isinstance(value, dict):
        raise _invalid("web", "Application")
    uris = _strings(value.get("redirectUris", []), "redirectUris")
    for uri in uris:
        lowered = uri.lower()
        local = lowered.startswith(("http://localhost", "http://127.0.0.1"))
        if not (lowered.startswith("https://") or local) or len(uri) > 256:
            raise _invalid("redirectUris", "Application")
    return uris


def application_properties(body: Mapping[str, Any]) -> dict[str, Any]:
    """The registry's fields for the Graph properties of a POST or PATCH body."""
    fields: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("@"):
            continue
        if key not in _APPLICATION_PROPERTIES:
            raise bad_request(
                f"Property '{key}' does not exist as a declared property or extension property."
                if key[:1].islower() and key not in ("passwordCredentials", "keyCredentials")
                else f"Property '{key}' is read-only or is not supported by the demo tenant.",
                "Request_BadRequest",
            )
        if key == "displayName":
            if not isinstance(value, str) or not value.strip() or len(value) > 256:
                raise _invalid("displayName", "Application")
            fields["display_name"] = value
        elif key == "uniqueName":
            if not isinstance(value, str) or not value.strip() or len(value) > 256:
                raise _invalid("uniqueName", "Application")
            fields["unique_name"] = value
        elif key == "tags":
            fields["tags"] = _strings(value, "tags")
        elif key in ("notes", "description"):
            if value is not None and not isinstance(value, str):
                raise _invalid(key, "Application")
            fields[key] = value
        elif key == "signInAudience":
            if value not in _SIGN_IN_AUDIENCES:
                raise _invalid("signInAudience", "Application")
            fields["sign_in_audience"] = value
        elif key == "requiredResourceAccess":
            fields["required_resource_access"] = _required_resource_access(value)
        else:
            fields["redirect_uris"] = _redirect_uris(value)
    return fields


class AppRegistrationGraph:
    """Answers Graph's app registration routes from the tenant's registry."""

    def __init__(self, scenario: Scenario, registry: Registry) -> None:
        self._scenario = scenario
        self._registry = registry

    # --- who may do what --------------------------------------------------------------------

    def _scopes(self, call: GraphCall) -> frozenset[str]:
        return frozenset(call.token.scopes)

    def _wids(self, call: GraphCall) -> frozenset[str]:
        return frozenset(call.token.role_ids)

    def _user_id(self, call: GraphCall) -> str:
        return str(call.token.claims.get("oid", ""))

    def require_read(self, call: GraphCall) -> None:
        if call.token.is_delegated:
            if not self._scopes(call) & READ_SCOPES:
                raise _denied()
        elif not call.roles & APPLICATION_ROLES:
            raise _denied()

    def _require_write_scope(self, call: GraphCall) -> None:
        if call.token.is_delegated:
            if not self._scopes(call) & WRITE_SCOPES:
                raise _denied()
        elif "Application.ReadWrite.All" not in call.roles:
            raise _denied()

    def _require_manage(self, call: GraphCall, app: Application | None) -> None:
        """Change an app (or its service principal): an app administrator, or its owner."""
        self._require_write_scope(call)
        if not call.token.is_delegated:
            return
        if self._wids(call) & ROLES_THAT_MANAGE:
            return
        if app is not None and self._user_id(call) in app.owners:
            return
        raise _denied()

    def _require_create(self, call: GraphCall) -> None:
        self._require_write_scope(call)
        if call.token.is_delegated and not self._wids(call) & ROLES_THAT_CREATE:
            raise _denied()

    def _require_grant(self, call: GraphCall, resource: ServicePrincipal | None) -> None:
        if call.token.is_delegated:
            if not self._scopes(call) & GRANT_SCOPES:
                raise _denied()
            if resource is None:
                return
            allowed = (
                ROLES_THAT_GRANT_GRAPH
                if resource.id == self._registry.graph_service_principal.id
                else ROLES_THAT_GRANT_OTHERS
            )
            if not self._wids(call) & allowed:
                raise _denied()
        elif "AppRoleAssignment.ReadWrite.All" not in call.roles:
            raise _denied()

    # --- applications -----------------------------------------------------------------------

    def _application_entity(
        self, call: GraphCall, app: Application, *, status: int = 200
    ) -> DemoResponse:
        check_options(call.request, ("$select",), "Request_BadRequest")
        now = self._registry.now()
        item = app.to_graph(now)
        selected = select(call.request, item, "microsoft.graph.application", "Request_BadRequest")
        if selected and "keyCredentials" in selected:
            # Graph gives a certificate's key only to a $select of one object's keyCredentials.
            item["keyCredentials"] = [
                k.to_graph(with_key=True) for k in app.key_credentials if k.visible_at <= now
            ]
        context = "applications" if not selected else f"applications({','.join(selected)})"
        payload: dict[str, Any] = {"@odata.context": f"{call.root}/$metadata#{context}/$entity"}
        payload.update(_only(item, selected))
        return ok(call, payload, status=status)

    def _app_by_key(self, kind: str, key: str, *, visible: bool = True) -> Application | None:
        if kind == "appId":
            return self._registry.application_by_app_id(key, visible=visible)
        if kind == "uniqueName":
            return self._registry.application_by_unique_name(key, visible=visible)
        return self._registry.application(key, visible=visible)

    def list_applications(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self.require_read(call)
        request = call.request
        check_options(request, ("$select", "$filter", "$top"), "Request_BadRequest")
        apps = self._registry.applications()
        raw_filter = option(request, "$filter")
        if raw_filter is not None:
            apps = [a for a in apps if _application_matches(a, raw_filter)]
        top = option(request, "$top")
        if top is not None:
            if not top.isdigit() or not 1 <= int(top) <= 999:
                raise bad_request(
                    f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
                    "Request_BadRequest",
                )
            apps = apps[: int(top)]
        now = self._registry.now()
        known = apps[0].to_graph(now) if apps else _application_property_names()
        selected = select(request, known, "microsoft.graph.application", "Request_BadRequest")
        context = "applications" if not selected else f"applications({','.join(selected)})"
        value = [_only(app.to_graph(now), selected) for app in apps]
        return ok(call, {"@odata.context": f"{call.root}/$metadata#{context}", "value": value})

    def create_application(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self._require_create(call)
        fields = application_properties(_body(call))
        try:
            return self._create(call, fields)
        except Conflict:
            raise _unique_name_taken() from None

    def _create(self, call: GraphCall, fields: dict[str, Any]) -> DemoResponse:
        if "display_name" not in fields:
            raise _invalid("displayName", "Application")
        owner = self._user_id(call) if call.token.is_delegated else None
        display_name = fields.pop("display_name")
        app = self._registry.create_application(display_name, owner=owner, **fields)
        # A 201 carries the object as created: the caller's own write is visible to it.
        return self._application_entity(call, _as_seen_now(app), status=201)

    def get_application(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self.require_read(call)
        kind, key = _key(match)
        app = self._app_by_key(kind, key)
        if app is None:
            raise not_found(key)
        return self._application_entity(call, app)

    def update_application(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        kind, key = _key(match)
        upsert = kind == "uniqueName" and "create-if-missing" in (
            call.request.header("Prefer") or ""
        ).lower().replace(" ", "").split(",")
        self._require_write_scope(call)
        # Microsoft answers a write by unique name at the object's home, so a just-created app
        # is found there; by id, only once its copy has reached the replica asked.
        app = self._app_by_key(kind, key, visible=kind == "id")
        body = _body(call)
        # keyCredentials replace the app's certificates as a whole (after the checks below).
        certificates = (
            self._key_credentials(body.pop("keyCredentials"))
            if ("keyCredentials" in body)
            else None
        )
        fields = application_properties(body)
        if app is None:
            if not upsert:
                raise not_found(key)
            self._require_create(call)
            if fields.setdefault("unique_name", key) != key:
                raise _invalid("uniqueName", "Application")
            try:
                return self._create(call, dict(fields))
            except Conflict:
                # Made by a request racing this one: then this one updates it, as Graph would.
                app = self._app_by_key(kind, key, visible=False)
                if app is None:
                    raise _unique_name_taken() from None
                fields.pop("unique_name")
        self._require_manage(call, app)
        if "unique_name" in fields and app.unique_name not in (None, fields["unique_name"]):
            # Set once, then immutable.
            raise _invalid("uniqueName", "Application")
        try:
            self._registry.update_application(app.id, **fields)
        except Conflict:
            raise _unique_name_taken() from None
        if certificates is not None:
            self._registry.set_key_credentials(app.id, certificates)
        return no_content(call)

    def _key_credentials(self, value: object) -> list[KeyCredential]:
        try:
            return parse_key_credentials(value, new_guid)
        except KeyCredentialsInvalid as exc:
            resource = "Application" if str(exc) == "keyCredentials" else "KeyCredential"
            raise _invalid(str(exc), resource) from None

    def delete_application(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        kind, key = _key(match)
        self._require_write_scope(call)
        # Deleting happens at the object's home, so even a copy still on its way is found.
        app = self._app_by_key(kind, key, visible=False)
        if app is None:
            raise not_found(key)
        self._require_manage(call, app)
        self._registry.delete_application(app.id)
        return no_content(call)

    def add_password(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self._require_write_scope(call)
        key = match.group(1)
        app = self._registry.application(key)
        if app is None:
            raise not_found(key)
        self._require_manage(call, app)
        body = _body(call)
        credential = body.get("passwordCredential") or {}
        if not isinstance(credential, dict):
            raise _invalid("passwordCredential", "PasswordCredential")
        now = utc_now()
        start = now
        if credential.get("startDateTime") is not None:
            start = _parse_time(credential["startDateTime"], "startDateTime")
        end = start + DEFAULT_SECRET_LIFETIME
        if credential.get("endDateTime") is not None:
            end = _parse_time(credential["endDateTime"], "endDateTime")
        if end <= start:
            raise _invalid("endDateTime", "PasswordCredential")
        name = credential.get("displayName")
        if name is not None and (not isinstance(name, str) or len(name) > 256):
            raise _invalid("displayName", "PasswordCredential")
        self._check_secret_policy(start, end)
        secret = self._registry.add_secret(app.id, display_name=name, start=start, end=end)
        payload = {"@odata.context": f"{call.root}/$metadata#microsoft.graph.passwordCredential"}
        payload.update(secret.to_graph(with_text=True))
        return ok(call, payload)

    def _check_secret_policy(self, start: datetime, end: datetime) -> None:
        policy = self._scenario.secret_policy
        if policy == "no-secrets":
            raise bad_request(
                f"Credential type not allowed as per assigned policy '{SECRET_POLICY_ID}'.",
                "CredentialTypeNotAllowedAsPerAppPolicy",
            )
        # Measured from now as well as from the start, so a start in the past does not help.
        cap = {"max-12-months": 12, "max-6-months": 6}.get(policy)
        if cap is not None and end > _add_months(max(start, utc_now()), cap):
            raise bad_request(
                "Credential lifetime exceeds the max value allowed as per assigned policy "
                f"'{SECRET_POLICY_ID}'.",
                "CredentialInvalidLifetimeAsPerAppPolicy",
            )

    def remove_password(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self._require_write_scope(call)
        key = match.group(1)
        app = self._registry.application(key)
        if app is None:
            raise not_found(key)
        self._require_manage(call, app)
        key_id = _body(call).get("keyId")
        if not isinstance(key_id, str) or not key_id:
            raise _invalid("keyId", "PasswordCredential")
        if not self._registry.remove_secret(app.id, key_id):
            raise not_found(key_id)
        return no_content(call)

    # --- service principals -----------------------------------------------------------------

    def _sp_entity(
        self, call: GraphCall, sp: ServicePrincipal, *, status: int = 200
    ) -> DemoResponse:
        check_options(call.request, ("$select",), "Request_BadRequest")
        item = sp.to_graph()
        kind = "microsoft.graph.servicePrincipal"
        selected = select(call.request, item, kind, "Request_BadRequest")
        context = (
            "servicePrincipals" if not selected else f"servicePrincipals({','.join(selected)})"
        )
        payload: dict[str, Any] = {"@odata.context": f"{call.root}/$metadata#{context}/$entity"}
        payload.update(_only(item, selected))
        return ok(call, payload, status=status)

    def _sp_by_key(self, match: re.Match[str], *, visible: bool = True) -> ServicePrincipal:
        kind, key = _key(match)
        if kind == "appId":
            sp = self._registry.service_principal_by_app_id(key, visible=visible)
        else:
            sp = self._registry.service_principal(key, visible=visible)
        if sp is None:
            raise not_found(key)
        return sp

    def list_service_principals(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self.require_read(call)
        request = call.request
        check_options(request, ("$select", "$filter", "$top"), "Request_BadRequest")
        sps = self._registry.service_principals()
        raw_filter = option(request, "$filter")
        if raw_filter is not None:
            wanted = _EQ_FILTER.match(raw_filter)
            if wanted is None or wanted.group(1).lower() not in ("appid", "displayname"):
                raise bad_request(
                    "The demo tenant supports only $filter=appId eq '<id>' or displayName eq "
                    "'<name>' on servicePrincipals.",
                    "Request_BadRequest",
                )
            prop, value = wanted.group(1).lower(), wanted.group(2)
            sps = [
                s
                for s in sps
                if (s.app_id == value.lower() if prop == "appid" else s.display_name == value)
            ]
        top = option(request, "$top")
        if top is not None and top.isdigit():
            sps = sps[: int(top)]
        known = self._registry.graph_service_principal.to_graph()
        kind = "microsoft.graph.servicePrincipal"
        selected = select(request, known, kind, "Request_BadRequest")
        context = (
            "servicePrincipals" if not selected else f"servicePrincipals({','.join(selected)})"
        )
        value = [_only(s.to_graph(), selected) for s in sps]
        return ok(call, {"@odata.context": f"{call.root}/$metadata#{context}", "value": value})

    def get_service_principal(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self.require_read(call)
        return self._sp_entity(call, self._sp_by_key(match))

    def create_service_principal(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self._require_write_scope(call)
        app_id = _body(call).get("appId")
        if not isinstance(app_id, str) or not app_id:
            raise _invalid("appId", "ServicePrincipal")
        app = self._registry.application_by_app_id(app_id)
        if call.token.is_delegated and not self._wids(call) & ROLES_THAT_MANAGE:
            # An Application Developer may add apps they own; nobody else without a role.
            owner = app is not None and self._user_id(call) in app.owners
            if not (owner and APPLICATION_DEVELOPER in self._wids(call)):
                raise _denied()
        if app is None:
            raise bad_request(
                f"The appId '{app_id}' of the service principal does not reference a valid "
                "application object.",
                "Request_BadRequest",
            )
        try:
            sp = self._registry.create_service_principal(app)
        except Conflict:
            raise GraphProblem(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "The service principal cannot be created, updated, or restored because the "
                f"service principal name {app.app_id} is already in use.",
            ) from None
        return self._sp_entity(call, _as_seen_now(sp), status=201)

    def delete_service_principal(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self._require_write_scope(call)
        sp = self._sp_by_key(match, visible=False)
        if sp.app_owner_organization_id != data.TENANT_ID:
            # Microsoft's own service principals are not the tenant's to delete.
            raise _denied()
        self._require_manage(call, self._registry.application_by_app_id(sp.app_id, visible=False))
        self._registry.delete_service_principal(sp.id)
        return no_content(call)

    # --- app-role assignments ---------------------------------------------------------------

    def _assignment_list(
        self, call: GraphCall, sp: ServicePrincipal, grants: Iterable[AppRoleAssignment], nav: str
    ) -> DemoResponse:
        check_options(call.request, ("$select", "$top"), "Request_BadRequest")
        items = [g.to_graph() for g in grants]
        known = AppRoleAssignment("", "", "", "", "", "", utc_now()).to_graph()
        selected = select(call.request, known, "microsoft.graph.appRoleAssignment")
        context = f"servicePrincipals('{sp.id}')/{nav}"
        if selected:
            context += f"({','.join(selected)})"
        payload = {
            "@odata.context": f"{call.root}/$metadata#{context}",
            "value": [_only(item, selected) for item in items],
        }
        return ok(call, payload)

    def list_assigned_to(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self.require_read(call)
        sp = self._sp_by_key(match)
        return self._assignment_list(
            call, sp, self._registry.assignments_to(sp.id), "appRoleAssignedTo"
        )

    def list_assignments(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        self.require_read(call)
        sp = self._sp_by_key(match)
        return self._assignment_list(
            call, sp, self._registry.assignments_of(sp.id), "appRoleAssignments"
        )

    def grant_assigned_to(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        """POST /servicePrincipals/{resource}/appRoleAssignedTo: the resource grants a role."""
        self._require_grant(call, None)
        resource = self._sp_by_key(match)
        body = _body(call)
        if str(body.get("resourceId", "")).lower() != resource.id:
            raise _invalid("resourceId", "AppRoleAssignment")
        return self._grant(call, resource, body, "appRoleAssignedTo")

    def grant_assignment(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        """POST /servicePrincipals/{principal}/appRoleAssignments: the client asks for one."""
        self._require_grant(call, None)
        principal = self._sp_by_key(match)
        body = _body(call)
        if str(body.get("principalId", "")).lower() != principal.id:
            raise _invalid("principalId", "AppRoleAssignment")
        resource = self._registry.service_principal(str(body.get("resourceId", "")))
        if resource is None:
            raise bad_request("Not a valid reference update.", "Request_BadRequest")
        return self._grant(call, resource, body, "appRoleAssignments", path_sp=principal)

    def _grant(
        self,
        call: GraphCall,
        resource: ServicePrincipal,
        body: Mapping[str, Any],
        nav: str,
        *,
        path_sp: ServicePrincipal | None = None,
    ) -> DemoResponse:
        self._require_grant(call, resource)
        principal_id, role_id = body.get("principalId"), body.get("appRoleId")
        if not isinstance(principal_id, str) or not principal_id:
            raise _invalid("principalId", "AppRoleAssignment")
        if not isinstance(role_id, str) or not role_id:
            raise _invalid("appRoleId", "AppRoleAssignment")
        role = next(
            (
                r
                for r in resource.app_roles
                if r.id == role_id.lower() and "Application" in r.allowed_member_types
            ),
            None,
        )
        if role is None:
            raise bad_request(
                f"Permission being assigned was not found on application '{resource.app_id}'.",
                "Request_BadRequest",
            )
        if self._registry.existing_assignment(principal_id, resource.id, role.id) is not None:
            raise _already_granted()
        principal = self._registry.service_principal(principal_id)
        if principal is None:
            # Also what a service principal created seconds ago gets, until it has replicated.
            raise bad_request("Not a valid reference update.", "Request_BadRequest")
        try:
            grant = self._registry.assign(principal, resource, role.id)
        except Conflict:
            raise _already_granted() from None
        sp_id = (path_sp or resource).id
        payload = {
            "@odata.context": f"{call.root}/$metadata#servicePrincipals('{sp_id}')/{nav}/$entity"
        }
        payload.update(grant.to_graph())
        return ok(call, payload, status=201)

    def revoke(self, call: GraphCall, match: re.Match[str]) -> DemoResponse:
        """DELETE …/appRoleAssignedTo/{id} (on the resource) or …/appRoleAssignments/{id}."""
        self._require_grant(call, None)
        sp = self._sp_by_key(match, visible=False)
        nav, grant_id = match.group("nav").lower(), match.group("grant")
        grant = self._registry.assignment(grant_id, visible=False)
        on_sp = grant is not None and (
            grant.resource_id == sp.id
            if nav == "approleassignedto"
            else grant.principal_id == sp.id
        )
        if grant is None or not on_sp:
            raise not_found(grant_id)
        resource = self._registry.service_principal(grant.resource_id, visible=False)
        self._require_grant(call, resource)
        self._registry.delete_assignment(grant.id)
        return no_content(call)


def _key(match: re.Match[str]) -> tuple[str, str]:
    """(kind, value) of an addressed object: "id", "appId" or "uniqueName"."""
    groups = match.groupdict()
    if groups.get("app_id") is not None:
        return "appId", groups["app_id"]
    if groups.get("unique_name") is not None:
        return "uniqueName", groups["unique_name"]
    return "id", groups["id"]


def _only(item: Mapping[str, Any], selected: list[str] | None) -> dict[str, Any]:
    if selected is None:
        return dict(item)
    wanted = {name.lower() for name in selected}
    return {k: v for k, v in item.items() if k.lower() in wanted}


def _as_seen_now(record: _Replicated) -> _Replicated:
    return replace(record, visible_at=0.0)


def _application_property_names() -> dict[str, Any]:
    return Application("", "", "", utc_now()).to_graph(0.0)


def _application_matches(app: Application, raw_filter: str) -> bool:
    tag = _TAG_FILTER.match(raw_filter)
    if tag is not None:
        return tag.group(2) in app.tags
    equal = _EQ_FILTER.match(raw_filter)
    if equal is not None and equal.group(1).lower() in ("appid", "uniquename", "displayname"):
        prop, value = equal.group(1).lower(), equal.group(2)
        if prop == "appid":
            return app.app_id == value.lower()
        if prop == "uniquename":
            return (app.unique_name or "").lower() == value.lower()
        return app.display_name == value
    raise bad_request(
        "The demo tenant supports only $filter=appId eq '<id>', uniqueName eq '<name>', "
        "displayName eq '<name>' or tags/any(t:t eq '<tag>') on applications.",
        "Request_BadRequest",
    )
