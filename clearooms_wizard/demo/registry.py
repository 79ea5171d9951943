"""The demo tenant's app registrations: applications, service principals, secrets and grants.

One mutable, thread-safe store that Graph's application routes, the token endpoint and the
admin-consent page all read and write, so an app registered through Graph signs in, and is
checked by Test Settings, exactly like the scenario's own.

Microsoft's directory is eventually consistent: an object written now is seen by every other
part of it only a few seconds later. Each record carries the moment it becomes visible
(`visible_at`, on the monotonic clock); readers that Microsoft serves from replicas ask for
visible records only, while writes that Microsoft checks against the object's home (a unique
name already taken, a grant already made) see everything.
"""

from __future__ import annotations

import base64
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from clearooms_wizard.core.app_setup import APP_TAGS, APP_UNIQUE_NAME, DEFAULT_APP_NAME
from clearooms_wizard.demo import data
from clearooms_wizard.demo.data import AppRegistration, graph_datetime, stable_guid
from clearooms_wizard.demo.key_credentials import KeyCredential
from clearooms_wizard.demo.messages import new_guid, utc_now

GRAPH_DISPLAY_NAME = "Microsoft Graph"
# Microsoft's own tenant: the owner of every first-party service principal.
MICROSOFT_SERVICES_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
GRAPH_SERVICE_PRINCIPAL_ID = stable_guid("service-principal", data.GRAPH_APP_ID)

EARLIER_RUN_APP_ID = stable_guid("app", "clearooms-booking-earlier-run")
EARLIER_RUN_OBJECT_ID = stable_guid("application", "clearooms-booking-earlier-run")
EARLIER_RUN_SERVICE_PRINCIPAL_ID = stable_guid("service-principal", EARLIER_RUN_APP_ID)
EARLIER_RUN_SECRET_KEY_ID = stable_guid("secret", "clearooms-booking-earlier-run")

# Entra's own default when addPassword is given no end date.
DEFAULT_SECRET_LIFETIME = timedelta(days=730)

_SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"


@dataclass(frozen=True)
class AppRole:
    """An application permission a resource (here Microsoft Graph) offers."""

    id: str
    value: str
    display_name: str
    description: str
    allowed_member_types: tuple[str, ...] = ("Application",)
    is_enabled: bool = True

    def to_graph(self) -> dict[str, Any]:
        return {
            "allowedMemberTypes": list(self.allowed_member_types),
            "description": self.description,
            "displayName": self.display_name,
            "id": self.id,
            "isEnabled": self.is_enabled,
            "origin": "Application",
            "value": self.value,
        }


# Microsoft Graph's application permissions, with the ids and wording Microsoft publishes.
GRAPH_APP_ROLES: tuple[AppRole, ...] = (
    AppRole(
        "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
        "Directory.Read.All",
        "Read directory data",
        "Allows the app to read data in your organization's directory, such as users, groups "
        "and apps, without a signed-in user.",
    ),
    AppRole(
        "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
        "Calendars.ReadWrite",
        "Read and write calendars in all mailboxes",
        "Allows the app to create, read, update, and delete events of all calendars without a "
        "signed-in user.",
    ),
    AppRole(
        "913b9306-0ce1-42b8-9137-6a7df690a760",
        "Place.Read.All",
        "Read all company places",
        "Allows the app to read company places (conference rooms and room lists) for calendar "
        "events and other applications, without a signed-in user.",
    ),
    AppRole(
        "97235f07-e226-4f63-ace3-39588e11d3a1",
        "User.ReadBasic.All",
        "Read all users' basic profiles",
        "Allows the app to read a basic set of profile properties of other users in your "
        "organization without a signed-in user. Includes display name, first and last name, "
        "email address, open extensions, and photo.",
    ),
    AppRole(
        "df021288-bdef-4463-88db-98f22de89214",
        "User.Read.All",
        "Read all users' full profiles",
        "Allows the app to read user profiles without a signed-in user.",
    ),
    AppRole(
        "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        "Application.Read.All",
        "Read all applications",
        "Allows the app to read all applications and service principals without a signed-in user.",
    ),
    AppRole(
        "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        "Application.ReadWrite.All",
        "Read and write all applications",
        "Allows the app to create, read, update and delete applications and service principals "
        "without a signed-in user. Does not allow management of consent grants.",
    ),
    AppRole(
        "06b708a9-e830-4db3-a914-8e69da51d44f",
        "AppRoleAssignment.ReadWrite.All",
        "Manage app permission grants and app role assignments",
        "Allows the app to manage permission grants for application permissions to any API "
        "(including Microsoft Graph) and application assignments for any app, without a "
        "signed-in user.",
    ),
    AppRole(
        "798ee544-9d2d-430c-a058-570e29e34338",
        "Calendars.Read",
        "Read calendars in all mailboxes",
        "Allows the app to read events of all calendars without a signed-in user.",
    ),
)
GRAPH_ROLE_BY_VALUE = {role.value: role for role in GRAPH_APP_ROLES}


@dataclass(frozen=True)
class Secret:
    """A client secret: its text is kept to check sign-ins, and shown only when created."""

    key_id: str
    display_name: str | None
    text: str = field(repr=False)
    start: datetime
    end: datetime
    visible_at: float = 0.0

    @property
    def hint(self) -> str:
        return self.text[:3]

    def to_graph(self, *, with_text: bool = False) -> dict[str, Any]:
        return {
            "customKeyIdentifier": None,
            "displayName": self.display_name,
            "endDateTime": graph_datetime(self.end),
            "hint": self.hint,
            "keyId": self.key_id,
            "secretText": self.text if with_text else None,
            "startDateTime": graph_datetime(self.start),
        }


@dataclass(frozen=True)
class Application:
    id: str
    app_id: str
    display_name: str
    created: datetime
    visible_at: float = 0.0
    unique_name: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    description: str | None = None
    sign_in_audience: str = "AzureADMyOrg"
    # As Graph sends it: [{"resourceAppId": ..., "resourceAccess": [{"id": ..., "type": ...}]}].
    required_resource_access: tuple[Mapping[str, Any], ...] = ()
    redirect_uris: tuple[str, ...] = ()
    secrets: tuple[Secret, ...] = ()
    # Object ids of the people who own it (may change it without an administrator role).
    owners: tuple[str, ...] = ()
    # Its certificates (keyCredentials): what a client assertion may be signed with.
    key_credentials: tuple[KeyCredential, ...] = ()

    def graph_role_ids(self) -> tuple[str, ...]:
        """The Microsoft Graph application permissions it asks for (type Role)."""
        ids: list[str] = []
        for resource in self.required_resource_access:
            if str(resource.get("resourceAppId", "")).lower() != data.GRAPH_APP_ID:
                continue
            for access in resource.get("resourceAccess") or ():
                if access.get("type") == "Role" and access.get("id") not in ids:
                    ids.append(str(access.get("id")))
        return tuple(ids)

    def to_graph(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "deletedDateTime": None,
            "appId": self.app_id,
            "applicationTemplateId": None,
            "createdDateTime": graph_datetime(self.created),
            "description": self.description,
            "disabledByMicrosoftStatus": None,
            "displayName": self.display_name,
            "groupMembershipClaims": None,
            "identifierUris": [],
            "isFallbackPublicClient": None,
            "notes": self.notes,
            "publisherDomain": data.INITIAL_DOMAIN,
            "signInAudience": self.sign_in_audience,
            "tags": list(self.tags),
            "uniqueName": self.unique_name,
            "keyCredentials": [k.to_graph() for k in self.key_credentials if k.visible_at <= now],
            "passwordCredentials": [s.to_graph() for s in self.secrets if s.visible_at <= now],
            "publicClient": {"redirectUris": []},
            "requiredResourceAccess": [
                {
                    "resourceAppId": r.get("resourceAppId"),
                    "resourceAccess": [dict(a) for a in r.get("resourceAccess") or ()],
                }
                for r in self.required_resource_access
            ],
            "web": {
                "homePageUrl": None,
                "logoutUrl": None,
                "redirectUris": list(self.redirect_uris),
                "implicitGrantSettings": {
                    "enableAccessTokenIssuance": False,
                    "enableIdTokenIssuance": False,
                },
            },
        }


@dataclass(frozen=True)
class ServicePrincipal:
    id: str
    app_id: str
    display_name: str
    created: datetime
    visible_at: float = 0.0
    app_owner_organization_id: str = data.TENANT_ID
    app_roles: tuple[AppRole, ...] = ()
    service_principal_names: tuple[str, ...] = ()
    sign_in_audience: str = "AzureADMyOrg"
    tags: tuple[str, ...] = ()

    def to_graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deletedDateTime": None,
            "accountEnabled": True,
            "appDisplayName": self.display_name,
            "appDescription": None,
            "appId": self.app_id,
            "appOwnerOrganizationId": self.app_owner_organization_id,
            "appRoleAssignmentRequired": False,
            "description": None,
            "displayName": self.display_name,
            "homepage": None,
            "notes": None,
            "preferredSingleSignOnMode": None,
            "servicePrincipalNames": list(self.service_principal_names or (self.app_id,)),
            "servicePrincipalType": "Application",
            "signInAudience": self.sign_in_audience,
            "tags": list(self.tags),
            "appRoles": [role.to_graph() for role in self.app_roles],
            "keyCredentials": [],
            "oauth2PermissionScopes": [],
            "passwordCredentials": [],
            "replyUrls": [],
        }


@dataclass(frozen=True)
class AppRoleAssignment:
    id: str
    app_role_id: str
    principal_id: str
    principal_display_name: str
    resource_id: str
    resource_display_name: str
    created: datetime
    visible_at: float = 0.0

    def to_graph(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deletedDateTime": None,
            "appRoleId": self.app_role_id,
            "createdDateTime": graph_datetime(self.created),
            "principalDisplayName": self.principal_display_name,
            "principalId": self.principal_id,
            "principalType": "ServicePrincipal",
            "resourceDisplayName": self.resource_display_name,
            "resourceId": self.resource_id,
        }


def new_secret_text() -> str:
    """40 characters shaped like Entra's: three, a version marker with `~`, then the rest."""
    head = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(3))
    return head + "8Q~" + "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(34))


def assignment_id(principal_id: str) -> str:
    # Graph's ids for app-role assignments are the principal's GUID bytes then 16 more, base64url.
    raw = uuid.UUID(principal_id).bytes_le + secrets.token_bytes(16)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class Conflict(Exception):
    """The object would duplicate one that exists (seen yet or not): a unique name, a service
    principal for the app, or the same grant. Checked under the registry's lock, so two
    requests racing each other cannot both succeed."""


class Registry:
    """Applications, service principals and grants, safe to use from many server threads."""

    def __init__(
        self,
        *,
        replication_delay: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        exchange_cache: float = 0.0,
    ) -> None:
        self.replication_delay = replication_delay
        # Seconds Exchange goes on answering from a grant it last saw, once it is removed.
        self.exchange_cache = exchange_cache
        self._clock = clock
        # (principal, role) of each grant removed, and when: Exchange's cache remembers them.
        self._removed: dict[tuple[str, str], float] = {}
        self._lock = threading.RLock()
        self._applications: dict[str, Application] = {}
        self._service_principals: dict[str, ServicePrincipal] = {}
        self._assignments: dict[str, AppRoleAssignment] = {}
        graph = ServicePrincipal(
            GRAPH_SERVICE_PRINCIPAL_ID,
            data.GRAPH_APP_ID,
            GRAPH_DISPLAY_NAME,
            created=datetime(2020, 8, 13, 9, 41, 2, tzinfo=utc_now().tzinfo),
            app_owner_organization_id=MICROSOFT_SERVICES_TENANT_ID,
            app_roles=GRAPH_APP_ROLES,
            service_principal_names=(
                "https://canary.graph.microsoft.com/",
                "https://graph.microsoft.com/",
                "https://graph.microsoft.com",
                data.GRAPH_APP_ID,
            ),
            sign_in_audience="AzureADMultipleOrgs",
        )
        self._service_principals[graph.id] = graph

    # --- time -------------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock()

    def _arrives(self) -> float:
        return self._clock() + self.replication_delay

    def _seen(self, visible_at: float) -> bool:
        return visible_at <= self._clock()

    # --- seeding ----------------------------------------------------------------------------

    def seed_scenario_app(
        self,
        app: AppRegistration,
        *,
        service_principal: bool,
        granted_roles: Sequence[str],
        certificates: Sequence[KeyCredential] = (),
    ) -> None:
        """The scenario's own app, as the administrator left it in the admin center."""
        secrets_ = tuple(
            Secret(c.key_id, c.display_name, c.secret, c.start, c.end)
            for c in app.password_credentials
        )
        with self._lock:
            self._applications[app.object_id] = Application(
                app.object_id,
                app.app_id,
                app.display_name,
                app.created,
                required_resource_access=(_graph_access(app.required_roles),),
                secrets=secrets_,
                key_credentials=tuple(certificates),
            )
            if service_principal:
                self._seed_service_principal(
                    data.SERVICE_PRINCIPAL_ID, app.app_id, app.display_name, app.created
                )
                self._seed_grants(data.SERVICE_PRINCIPAL_ID, app.display_name, granted_roles)

    def seed_earlier_run_app(self, now: datetime, roles: Sequence[str]) -> None:
        """The app an earlier "Set it up for me" made: unique name, tags, a secret, all grants."""
        created = (now - timedelta(days=200)).replace(microsecond=0)
        secret = Secret(
            EARLIER_RUN_SECRET_KEY_ID,
            "Clearooms setup wizard",
            new_secret_text(),
            created,
            created + DEFAULT_SECRET_LIFETIME,
        )
        name = DEFAULT_APP_NAME
        with self._lock:
            self._applications[EARLIER_RUN_OBJECT_ID] = Application(
                EARLIER_RUN_OBJECT_ID,
                EARLIER_RUN_APP_ID,
                name,
                created,
                unique_name=APP_UNIQUE_NAME,
                tags=APP_TAGS,
                notes=(
                    f"Created by the Clearooms setup wizard on {created:%Y-%m-%d}; used by the "
                    "Clearooms booking service (client credentials)."
                ),
                required_resource_access=(_graph_access(roles),),
                secrets=(secret,),
            )
            self._seed_service_principal(
                EARLIER_RUN_SERVICE_PRINCIPAL_ID, EARLIER_RUN_APP_ID, name, created
            )
            self._seed_grants(EARLIER_RUN_SERVICE_PRINCIPAL_ID, name, roles)

    def _seed_service_principal(
        self, object_id: str, app_id: str, name: str, created: datetime
    ) -> None:
        self._service_principals[object_id] = ServicePrincipal(object_id, app_id, name, created)

    def _seed_grants(self, principal_id: str, name: str, roles: Iterable[str]) -> None:
        for value in roles:
            role = GRAPH_ROLE_BY_VALUE[value]
            grant = AppRoleAssignment(
                assignment_id(principal_id),
                role.id,
                principal_id,
                name,
                GRAPH_SERVICE_PRINCIPAL_ID,
                GRAPH_DISPLAY_NAME,
                utc_now().replace(microsecond=0),
            )
            self._assignments[grant.id] = grant

    # --- applications -----------------------------------------------------------------------

    def applications(self) -> list[Application]:
        """Every application the directory's replicas know of, oldest first."""
        with self._lock:
            return [a for a in self._applications.values() if self._seen(a.visible_at)]

    def application(self, object_id: str, *, visible: bool = True) -> Application | None:
        with self._lock:
            found = self._applications.get(object_id.lower())
        if found is None or (visible and not self._seen(found.visible_at)):
            return None
        return found

    def application_by_app_id(self, app_id: str, *, visible: bool = True) -> Application | None:
        wanted = app_id.lower()
        with self._lock:
            found = next((a for a in self._applications.values() if a.app_id == wanted), None)
        if found is None or (visible and not self._seen(found.visible_at)):
            return None
        return found

    def application_by_unique_name(
        self, unique_name: str, *, visible: bool = True
    ) -> Application | None:
        wanted = unique_name.lower()
        with self._lock:
            found = next(
                (
                    a
                    for a in self._applications.values()
                    if a.unique_name is not None and a.unique_name.lower() == wanted
                ),
                None,
            )
        if found is None or (visible and not self._seen(found.visible_at)):
            return None
        return found

    def create_application(
        self, display_name: str, *, owner: str | None = None, **properties: Any
    ) -> Application:
        object_id, app_id = new_guid(), new_guid()
        app = Application(
            object_id,
            app_id,
            display_name,
            utc_now().replace(microsecond=0),
            visible_at=self._arrives(),
            owners=(owner,) if owner else (),
        )
        app = replace(app, **properties)
        with self._lock:
            if app.unique_name is not None and self.application_by_unique_name(
                app.unique_name, visible=False
            ):
                raise Conflict(app.unique_name)
            self._applications[object_id] = app
        return app

    def update_application(self, object_id: str, **properties: Any) -> Application:
        with self._lock:
            unique = properties.get("unique_name")
            taken = unique and self.application_by_unique_name(unique, visible=False)
            if taken and taken.id != object_id:
                raise Conflict(unique)
            app = replace(self._applications[object_id], **properties)
            self._applications[object_id] = app
            return app

    def delete_application(self, object_id: str) -> None:
        """Deleting an app deletes its service principal in this (its home) tenant too."""
        with self._lock:
            app = self._applications.pop(object_id)
            for sp in [s for s in self._service_principals.values() if s.app_id == app.app_id]:
                self._delete_service_principal(sp.id)

    def add_secret(
        self,
        object_id: str,
        *,
        display_name: str | None,
        start: datetime,
        end: datetime,
    ) -> Secret:
        secret = Secret(new_guid(), display_name, new_secret_text(), start, end, self._arrives())
        with self._lock:
            app = self._applications[object_id]
            self._applications[object_id] = replace(app, secrets=(*app.secrets, secret))
        return secret

    def remove_secret(self, object_id: str, key_id: str) -> bool:
        with self._lock:
            app = self._applications[object_id]
            kept = tuple(s for s in app.secrets if s.key_id != key_id.lower())
            if len(kept) == len(app.secrets):
                return False
            self._applications[object_id] = replace(app, secrets=kept)
            return True

    def set_key_credentials(self, object_id: str, given: Sequence[KeyCredential]) -> None:
        """Replace the app's certificates (a PATCH of keyCredentials). One it already had keeps
        its place in the replicas; a new one reaches them after the replication delay."""
        with self._lock:
            app = self._applications[object_id]
            had = {k.key_id: k for k in app.key_credentials}
            kept = tuple(
                replace(k, visible_at=had[k.key_id].visible_at)
                if k.key_id in had and had[k.key_id].der == k.der
                else replace(k, visible_at=self._arrives())
                for k in given
            )
            self._applications[object_id] = replace(app, key_credentials=kept)

    def visible_certificates(self, app: Application) -> tuple[KeyCredential, ...]:
        return tuple(k for k in app.key_credentials if self._seen(k.visible_at))

    # --- service principals -----------------------------------------------------------------

    @property
    def graph_service_principal(self) -> ServicePrincipal:
        with self._lock:
            return self._service_principals[GRAPH_SERVICE_PRINCIPAL_ID]

    def service_principals(self) -> list[ServicePrincipal]:
        with self._lock:
            return [s for s in self._service_principals.values() if self._seen(s.visible_at)]

    def service_principal(self, object_id: str, *, visible: bool = True) -> ServicePrincipal | None:
        with self._lock:
            found = self._service_principals.get(object_id.lower())
        if found is None or (visible and not self._seen(found.visible_at)):
            return None
        return found

    def service_principal_by_app_id(
        self, app_id: str, *, visible: bool = True
    ) -> ServicePrincipal | None:
        wanted = app_id.lower()
        with self._lock:
            found = next((s for s in self._service_principals.values() if s.app_id == wanted), None)
        if found is None or (visible and not self._seen(found.visible_at)):
            return None
        return found

    def create_service_principal(self, app: Application) -> ServicePrincipal:
        sp = ServicePrincipal(
            new_guid(),
            app.app_id,
            app.display_name,
            utc_now().replace(microsecond=0),
            visible_at=self._arrives(),
            tags=app.tags,
        )
        with self._lock:
            if self.service_principal_by_app_id(app.app_id, visible=False) is not None:
                raise Conflict(app.app_id)
            self._service_principals[sp.id] = sp
        return sp

    def delete_service_principal(self, object_id: str) -> None:
        with self._lock:
            self._delete_service_principal(object_id)

    def _delete_service_principal(self, object_id: str) -> None:
        self._service_principals.pop(object_id, None)
        for grant_id in [
            g.id for g in self._assignments.values() if object_id in (g.principal_id, g.resource_id)
        ]:
            del self._assignments[grant_id]

    # --- app-role assignments ---------------------------------------------------------------

    def assignments_to(self, resource_id: str) -> list[AppRoleAssignment]:
        with self._lock:
            return [
                g
                for g in self._assignments.values()
                if g.resource_id == resource_id.lower() and self._seen(g.visible_at)
            ]

    def assignments_of(self, principal_id: str) -> list[AppRoleAssignment]:
        with self._lock:
            return [
                g
                for g in self._assignments.values()
                if g.principal_id == principal_id.lower() and self._seen(g.visible_at)
            ]

    def existing_assignment(
        self, principal_id: str, resource_id: str, app_role_id: str
    ) -> AppRoleAssignment | None:
        """The same grant made before, seen or not yet (Microsoft checks at the object's home)."""
        key = (principal_id.lower(), resource_id.lower(), app_role_id.lower())
        with self._lock:
            return next(
                (
                    g
                    for g in self._assignments.values()
                    if (g.principal_id, g.resource_id, g.app_role_id) == key
                ),
                None,
            )

    def assign(
        self, principal: ServicePrincipal, resource: ServicePrincipal, app_role_id: str
    ) -> AppRoleAssignment:
        grant = AppRoleAssignment(
            assignment_id(principal.id),
            app_role_id.lower(),
            principal.id,
            principal.display_name,
            resource.id,
            resource.display_name,
            utc_now().replace(microsecond=0),
            visible_at=self._arrives(),
        )
        with self._lock:
            if self.existing_assignment(principal.id, resource.id, grant.app_role_id):
                raise Conflict(grant.app_role_id)
            self._assignments[grant.id] = grant
        return grant

    def assignment(self, assignment_id_: str, *, visible: bool = True) -> AppRoleAssignment | None:
        with self._lock:
            found = self._assignments.get(assignment_id_)
        if found is None or (visible and not self._seen(found.visible_at)):
            return None
        return found

    def delete_assignment(self, assignment_id_: str) -> None:
        with self._lock:
            removed = self._assignments.pop(assignment_id_, None)
            if removed is not None:
                key = (removed.principal_id, removed.app_role_id)
                self._removed[key] = self._clock()

    def still_cached(self, principal_id: str, role_value: str) -> bool:
        """Whether Exchange still answers as if the principal had this Microsoft Graph role:
        it was removed less than ``exchange_cache`` seconds ago."""
        role = GRAPH_ROLE_BY_VALUE[role_value]
        with self._lock:
            removed = self._removed.get((principal_id.lower(), role.id))
        return removed is not None and self._clock() - removed < self.exchange_cache

    # --- what the token endpoint needs ------------------------------------------------------

    def graph_roles_of(self, principal_id: str) -> tuple[str, ...]:
        """The Microsoft Graph permission names granted to a service principal, as seen now."""
        graph = self.graph_service_principal
        by_id = {role.id: role.value for role in graph.app_roles}
        return tuple(
            sorted(
                {
                    by_id[g.app_role_id]
                    for g in self.assignments_of(principal_id)
                    if g.resource_id == graph.id and g.app_role_id in by_id
                }
            )
        )

    def visible_secrets(self, app: Application) -> tuple[Secret, ...]:
        return tuple(s for s in app.secrets if self._seen(s.visible_at))


def _graph_access(roles: Iterable[str]) -> Mapping[str, Any]:
    return {
        "resourceAppId": data.GRAPH_APP_ID,
        "resourceAccess": [{"id": GRAPH_ROLE_BY_VALUE[r].id, "type": "Role"} for r in roles],
    }


__all__ = [
    "GRAPH_APP_ROLES",
    "GRAPH_SERVICE_PRINCIPAL_ID",
    "AppRole",
    "AppRoleAssignment",
    "Application",
    "Conflict",
    "Registry",
    "Secret",
    "ServicePrincipal",
]
