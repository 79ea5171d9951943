"""“Set it up for me”: what an administrator's sign-in creates, as plain data.

The wizard's Register page and the ``register`` command show the same review, the same steps and
the same outcome; the work itself is in ``admin_signin`` (signing the administrator in) and
``provisioning`` (the Microsoft Graph calls). Nothing here talks to the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from clearooms_wizard.core.registration import PERMISSIONS, SUGGESTED_APP_NAME, Permission

if TYPE_CHECKING:
    from clearooms_wizard.core.certificates import CertificateCredential

# What the created app is found by when the wizard runs again: never a second app.
APP_UNIQUE_NAME = "clearooms-booking"
APP_TAGS = ("clearooms-booking", "created-by:clearooms-setup-wizard")
DEFAULT_APP_NAME = SUGGESTED_APP_NAME

# Microsoft's own portal allows up to two years, and recommends less.
DEFAULT_SECRET_MONTHS = 24
SECRET_MONTHS_CHOICES = (3, 6, 12, 18, 24)

# Microsoft Graph, as every tenant knows it.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Cross-checks only: the ids are read from the tenant's Microsoft Graph service principal.
KNOWN_ROLE_IDS = {
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Calendars.ReadWrite": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Place.Read.All": "913b9306-0ce1-42b8-9137-6a7df690a760",
}

# The delegated permissions the administrator's sign-in asks for (on the cloud's Graph root).
ADMIN_SCOPES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All")

# Azure CLI's public client: present in every tenant, and what CLI for Microsoft 365's
# `m365 setup` signs in with for the same job, until Clearooms has a verified client of its own.
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
AZURE_CLI_NAME = "Microsoft Azure CLI"
# A vendor build puts its own public client's id in this file beside the package's modules
# (packaging/build.py --setup-client-id); it replaces Azure CLI's as the default.
PACKAGED_SETUP_CLIENT_FILE = "setup-client-id.txt"
_PACKAGE_FOLDER = Path(__file__).resolve().parents[1]

# Directory role template ids (the `wids` claim of the administrator's token).
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814"
APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7"
APPLICATION_DEVELOPER = "cf1c38e5-3621-4004-a7cb-879624dced7c"
ROLE_NAMES = {
    GLOBAL_ADMINISTRATOR: "Global Administrator",
    PRIVILEGED_ROLE_ADMINISTRATOR: "Privileged Role Administrator",
    APPLICATION_ADMINISTRATOR: "Application Administrator",
    CLOUD_APPLICATION_ADMINISTRATOR: "Cloud Application Administrator",
    APPLICATION_DEVELOPER: "Application Developer",
}
# Only these may grant Microsoft Graph's application permissions.
ROLES_THAT_GRANT = frozenset({GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR})


@dataclass(frozen=True)
class SetupClient:
    """The public client the administrator signs in with."""

    client_id: str

    @property
    def is_azure_cli(self) -> bool:
        return self.client_id.lower() == AZURE_CLI_CLIENT_ID

    @property
    def shown_as(self) -> str:
        """What Microsoft's sign-in page names the app asking for access."""
        return AZURE_CLI_NAME if self.is_azure_cli else f"the app {self.client_id}"


def setup_client_from(setting: str | None, package_folder: Path = _PACKAGE_FOLDER) -> SetupClient:
    """The public client a setting names; with none, the packaged default (a vendor build's
    own client, else Azure CLI's). InvalidInput when a value is not a client ID."""
    from clearooms_wizard.core.values import check_client_id

    where = "--setup-client-id or CLEAROOMS_SETUP_CLIENT_ID"
    if setting is None or not setting.strip():
        packaged = package_folder / PACKAGED_SETUP_CLIENT_FILE
        try:
            setting = packaged.read_text(encoding="utf-8", errors="replace")[:200]
        except FileNotFoundError:
            return SetupClient(AZURE_CLI_CLIENT_ID)
        except OSError as exc:
            from clearooms_wizard.core.store import InvalidInput

            raise InvalidInput(f"This build's setup client file cannot be read: {exc}") from None
        where = f"this build's {PACKAGED_SETUP_CLIENT_FILE}"
    checked = check_client_id(setting)
    if checked.value is None:
        from clearooms_wizard.core.store import InvalidInput

        raise InvalidInput(
            f"The setup client ID ({where}) must be an application (client) ID: 32 "
            f"hexadecimal digits in five groups, like {AZURE_CLI_CLIENT_ID}."
        )
    return SetupClient(checked.value)


class SignInMethod(StrEnum):
    BROWSER = "browser"
    DEVICE_CODE = "device-code"


@dataclass(frozen=True)
class DeviceCodePrompt:
    """What to tell someone signing in on another device."""

    verification_uri: str
    user_code: str
    # Seconds since the epoch.
    expires_at: float


@dataclass(frozen=True)
class SignedInAdmin:
    """Who signed in, and in which organisation."""

    username: str
    display_name: str | None
    tenant_id: str
    # From the organisation's profile, when the sign-in may read it.
    tenant_name: str | None
    # Directory role template ids (see ROLE_NAMES).
    role_ids: tuple[str, ...]

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(ROLE_NAMES[r] for r in self.role_ids if r in ROLE_NAMES)

    @property
    def can_grant_permissions(self) -> bool:
        return any(r in ROLES_THAT_GRANT for r in self.role_ids)


@dataclass(frozen=True)
class PermissionToGrant:
    permission: Permission
    # The application role's id, read from the tenant's Microsoft Graph service principal.
    role_id: str

    @property
    def name(self) -> str:
        return self.permission.name


@dataclass(frozen=True)
class ExistingApp:
    """A Clearooms app this tenant already has (found by its unique name or tags)."""

    object_id: str
    app_id: str
    display_name: str
    # None when it is not yet added to the organisation (no service principal).
    service_principal_id: str | None
    # Names of the permissions it still lacks.
    missing_permissions: tuple[str, ...]
    secret_count: int


@dataclass(frozen=True)
class RegistrationPlan:
    """What “Set it up for me” will create, for the user to confirm. Nothing exists yet."""

    admin: SignedInAdmin
    app_name: str
    secret_months: int
    permissions: tuple[PermissionToGrant, ...]
    graph_service_principal_id: str
    # Reused (with a new secret) rather than creating a second app.
    existing: ExistingApp | None
    # False: the permissions go to a Global Administrator as a consent link instead.
    grant_directly: bool
    # Sign in with a certificate instead of a client secret (its key stays on this computer).
    use_certificate: bool = False
    # When the organisation's policy refuses client secrets, use a certificate instead.
    certificate_fallback: bool = True
    # Rooms only: Calendars.ReadWrite is neither granted nor listed in Microsoft Entra ID; an
    # Exchange administrator gives it for the room mailboxes only (the scope script).
    rooms_only: bool = False
    # The permissions the app is set up without (Calendars.ReadWrite, for rooms only), with
    # the tenant's role ids: an earlier setup's listing of them is taken off the app.
    left_out: tuple[PermissionToGrant, ...] = ()


class StepId(StrEnum):
    FIND_GRAPH = "find-graph"
    CREATE_APP = "create-app"
    CREATE_SECRET = "create-secret"
    ADD_TO_ORGANISATION = "add-to-organisation"
    GRANT_PERMISSIONS = "grant-permissions"
    WAIT_FOR_MICROSOFT = "wait-for-microsoft"


STEP_TITLES = {
    StepId.FIND_GRAPH: "Finding Microsoft Graph in your organisation",
    StepId.CREATE_APP: "Creating the app",
    StepId.CREATE_SECRET: "Creating its client secret",
    StepId.ADD_TO_ORGANISATION: "Adding it to your organisation",
    StepId.GRANT_PERMISSIONS: "Granting its permissions",
    StepId.WAIT_FOR_MICROSOFT: "Waiting for Microsoft to finish (usually under a minute)",
}


class StepState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    # Nothing to do: it was there already.
    SKIPPED = "skipped"
    # Waits for a Global Administrator's approval.
    NEEDS_APPROVAL = "needs-approval"
    FAILED = "failed"


@dataclass(frozen=True)
class StepUpdate:
    step: StepId
    state: StepState
    # One plain sentence: what happened, or what it is waiting for.
    detail: str = ""


class CreatedKind(StrEnum):
    # Listed in the order they are created; undone in reverse.
    APPLICATION = "application"
    SECRET = "secret"
    SERVICE_PRINCIPAL = "service-principal"
    PERMISSION_GRANT = "permission-grant"
    # Last in this list though made where the secret is: undone first, as a certificate needs
    # its app (and an undo that stops half-way should leave the app, not a stray certificate).
    CERTIFICATE = "certificate"


@dataclass(frozen=True)
class CreatedObject:
    kind: CreatedKind
    object_id: str
    # The application's or service principal's object id it belongs to, for secrets and grants.
    parent_id: str | None = None
    label: str = ""


@dataclass(frozen=True)
class RegistrationJournal:
    """What one run created, written down as it goes, so a failure half-way can resume or undo."""

    run_id: str
    tenant_id: str
    started_at: datetime
    created: tuple[CreatedObject, ...] = ()
    finished: bool = False


@dataclass(frozen=True)
class RegisteredApp:
    """The outcome: the three values for Connect, and whether the permissions are granted."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    secret_expires_at: datetime
    app_object_id: str
    service_principal_id: str
    reused: bool
    permissions_granted: bool
    # For a Global Administrator to open when this sign-in could not grant the permissions.
    consent_url: str | None = None
    # When the app signs in with a certificate instead (then client_secret is ""): asked for,
    # or because the organisation's policy does not allow client secrets.
    certificate: CertificateCredential | None = field(default=None, repr=False)
    # Why a certificate was used although a secret was asked for; None otherwise.
    certificate_reason: str | None = None
    # Set up for room mailboxes only: Calendars.ReadWrite comes from Exchange (the scope
    # script), not Microsoft Entra ID.
    rooms_only: bool = False

    @property
    def permission_names(self) -> tuple[str, ...]:
        """What the app's token carries once its permissions are granted."""
        return tuple(p.name for p in permissions_for(rooms_only=self.rooms_only))


DEFAULT_PERMISSIONS: tuple[Permission, ...] = PERMISSIONS

# The permission Exchange gives for the room mailboxes only, when the app is set up that way.
CALENDARS_PERMISSION = "Calendars.ReadWrite"


def permissions_for(*, rooms_only: bool) -> tuple[Permission, ...]:
    """The Microsoft Graph permissions Microsoft Entra ID grants the app: all three, or for
    rooms only every one but Calendars.ReadWrite."""
    if not rooms_only:
        return DEFAULT_PERMISSIONS
    return tuple(p for p in DEFAULT_PERMISSIONS if p.name != CALENDARS_PERMISSION)
