"""The use cases: what the wizard and the command line do, each written once.

The composition root builds one :class:`UseCases` (``runtime.py``); the wizard's pages and the
commands call it, and differ only in how they show progress and results. Each method that talks
to Microsoft, the workspace or the keyring is slow: the wizard calls those on a worker thread.

Start-up is paid for here, and only here: this module is loaded before the wizard's first page
is painted, so it imports nothing slow at the top. The SQLite workspace, the HTTP session
(requests, truststore), MSAL and the import code are imported by the methods that use them, the
first time one runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import CLOUDS, Cloud

# What happened, one line per event, whichever front end asked: support reads these.
log = logging.getLogger(__name__)

# Opens a web address in the user's browser; False when no browser could be started.
OpenBrowser = Callable[[str], bool]

if TYPE_CHECKING:
    from clearooms_wizard.core.admin_signin import AdminSession
    from clearooms_wizard.core.app_setup import (
        DeviceCodePrompt,
        RegisteredApp,
        RegistrationJournal,
        RegistrationPlan,
        SetupClient,
        SignInMethod,
        StepUpdate,
    )
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.core.checks import SettingsTest
    from clearooms_wizard.core.connection import SessionOpener
    from clearooms_wizard.core.graph import GraphClient
    from clearooms_wizard.core.importer import (
        CalendarCheck,
        ImportPlan,
        ImportProgress,
        ImportResult,
        OfficeSuggestion,
    )
    from clearooms_wizard.core.model import Office, Room, RoomDirectory, SavedConnection
    from clearooms_wizard.core.provisioning import RetryPolicy
    from clearooms_wizard.core.renewal import (
        AppCredential,
        CredentialStatus,
        RenewalJournal,
        RenewalOutcome,
        RenewalRequest,
        RenewalUpdate,
    )
    from clearooms_wizard.core.scope_script import ScopeScript
    from clearooms_wizard.core.secrets import SaveOutcome, SecretStore
    from clearooms_wizard.core.values import ConnectionInput, Credentials


@dataclass(frozen=True)
class WorkspaceSnapshot:
    """What the workspace holds that the Rooms page shows: offices, and rooms already imported
    (email, case-folded -> office name)."""

    offices: tuple[str, ...]
    imported: Mapping[str, str]
    # Set when a damaged workspace was moved aside: says where, for the user to read.
    notice: str | None = None

    def after_import(self, result: ImportResult) -> WorkspaceSnapshot:
        """What the workspace holds once ``result`` is written: its rooms in the result's
        office, which exists now (the import may have created it)."""
        from clearooms_wizard.core.model import office_key

        imported = dict(self.imported)
        imported.update(
            {
                room.email.casefold(): result.office.name
                for room in result.rooms
                if room.in_workspace
            }
        )
        offices = self.offices
        if result.office.key not in {office_key(name) for name in offices}:
            offices = tuple(sorted((*offices, result.office.name), key=office_key))
        return replace(self, offices=offices, imported=imported)


@dataclass(frozen=True)
class ImportRequest:
    """What to import and where, and the signed-in app to check the calendars with."""

    office: str
    # Create the office when the import is applied, if there is none of that name by then.
    create_office: bool
    rooms: tuple[Room, ...]
    directory: RoomDirectory
    # With the tenant's GUID, as Test Settings found it.
    credentials: Credentials
    cloud: Cloud


@dataclass(frozen=True)
class PreparedImport:
    """The plan and each chosen room's calendar check, ready to apply."""

    request: ImportRequest
    plan: ImportPlan
    checks: tuple[CalendarCheck, ...]


@dataclass(frozen=True)
class Exported:
    text: str
    # Where it was written; None when the caller prints ``text`` itself.
    path: Path | None
    offices: int
    rooms: int


@dataclass(frozen=True)
class SavedAwaiting:
    """How a new app's values were kept while its permissions wait for approval."""

    secret_in_keyring: bool
    # Set when the workspace had to be started afresh: says where the old one went.
    notice: str | None = None


def _override(value: str, default: str | None) -> str | None:
    return None if value == default else value


def _connection_to_save(
    tenant: str,
    client_id: str,
    tenant_id: str,
    cloud: Cloud,
    secret_expires_at: datetime | None,
    *,
    tested_at: datetime | None,
    certificate: CertificateCredential | None = None,
) -> SavedConnection:
    """What the workspace keeps of a connection (never the secret). Untested (``tested_at``
    None) while a new app waits for its permissions to be approved."""
    from clearooms_wizard.core.model import SavedConnection

    defaults = CLOUDS.get(cloud.key)
    return SavedConnection(
        tenant=tenant,
        client_id=client_id,
        cloud=cloud.key,
        tenant_id=tenant_id,
        authority_host=_override(
            cloud.authority_host, defaults.authority_host if defaults else None
        ),
        graph_url=_override(cloud.graph_root, defaults.graph_root if defaults else None),
        last_tested_at=None if tested_at is None else tested_at.isoformat(timespec="seconds"),
        last_test_ok=None if tested_at is None else True,
        secret_expires_at=secret_expires_at.isoformat() if secret_expires_at else None,
        # Public facts only: which credential, and the certificate's thumbprint and end date.
        credential_kind="secret" if certificate is None else "certificate",
        certificate_thumbprint=None if certificate is None else certificate.sha1_thumbprint,
        certificate_expires_at=None if certificate is None else certificate.not_after.isoformat(),
    )


def _keep_credential(
    secrets: SecretStore,
    tenant_id: str,
    client_id: str,
    secret: str,
    certificate: CertificateCredential | None,
) -> SaveOutcome:
    """The secret, or the certificate's private key, into the keyring (or memory)."""
    if certificate is not None:
        return secrets.save_certificate(tenant_id, client_id, certificate.keyring_text())
    return secrets.save(tenant_id, client_id, secret)


class UseCases:
    """Every use case, bound to the parts the composition root chose: how sessions to Microsoft
    are opened (or to the demo tenant), which workspace, which secret store, and for an
    administrator's sign-in, which public client and how a browser is opened."""

    def __init__(
        self,
        open_session: SessionOpener,
        workspace_path: Path,
        secrets: SecretStore,
        *,
        setup_client_id: str | None = None,
        open_browser: OpenBrowser | None = None,
    ) -> None:
        self.open_session = open_session
        self.workspace_path = workspace_path
        self.secrets = secrets
        # As given (an option or CLEAROOMS_SETUP_CLIENT_ID); None for the packaged default.
        self._setup_client_id = setup_client_id
        self._setup_client: SetupClient | None = None
        # None: Python's webbrowser module, so that the BROWSER variable is honoured.
        self.open_browser = open_browser
        # How long "Set it up for me" waits for Microsoft (None: Microsoft's usual times).
        self.registration_policy: RetryPolicy | None = None

    @property
    def setup_client(self) -> SetupClient:
        """The public client an administrator signs in with. Checked when first needed (the
        wizard builds its use cases before its first paint); raises InvalidInput when the
        setting is not a client ID."""
        if self._setup_client is None:
            from clearooms_wizard.core.app_setup import setup_client_from

            self._setup_client = setup_client_from(self._setup_client_id)
        return self._setup_client

    # -- the connection ----------------------------------------------------------------------

    def test_connection(self, values: ConnectionInput, cancel: CancelToken) -> SettingsTest:
        """A Test Settings run; iterate its ``run()`` (slow) for each check as it completes."""
        from clearooms_wizard.core.checks import SettingsTest

        return SettingsTest(values, self.open_session, cancel)

    def save_connection(self, test: SettingsTest) -> str | None:
        """Store a passed test's values: the secret in the keyring, the rest in the workspace.

        Returns a message for the user when the secret could not go to the keyring (or the
        workspace had to be started afresh).
        """
        from clearooms_wizard.core.errors import ClearoomsError
        from clearooms_wizard.core.workspace import open_workspace

        credentials, cloud = test.credentials, test.connection.cloud
        if credentials is None or test.tenant_id is None or not test.ok:
            raise ClearoomsError("Only settings whose checks all passed can be saved.")
        connection = _connection_to_save(
            credentials.tenant,
            credentials.client_id,
            test.tenant_id,
            cloud,
            test.secret_expires_at,
            tested_at=datetime.now(UTC),
            certificate=credentials.certificate,
        )
        with open_workspace(self.workspace_path) as workspace:
            workspace.save_connection(connection)
            notice = workspace.notice
        outcome = _keep_credential(
            self.secrets,
            test.tenant_id,
            credentials.client_id,
            credentials.client_secret,
            credentials.certificate,
        )
        log.info(
            "saved the connection (cloud %s); the client secret is in the keyring: %s",
            cloud.key,
            "yes" if outcome.kept_in_keyring else "no",
        )
        messages = [m for m in (notice, None if outcome.kept_in_keyring else outcome.message) if m]
        return " ".join(messages) or None

    def new_certificate(self, client_id: str, months: int = 12) -> CertificateCredential:
        """A new key pair and self-signed certificate for the app (a moment's work: call it on a
        worker). Nothing is kept until the connection is saved."""
        from clearooms_wizard.core.certificates import create_certificate

        return create_certificate(client_id, months=months)

    def write_certificate_file(self, certificate: CertificateCredential, path: Path) -> None:
        """The public .cer file (DER) an administrator uploads; it holds no secret."""
        from clearooms_wizard.core.errors import ClearoomsError

        try:
            path.write_bytes(certificate.der)
        except OSError as exc:
            raise ClearoomsError(
                f"Could not write {path.name}: {exc.strerror or type(exc).__name__}."
            ) from None

    def keep_certificate(
        self,
        tenant: str,
        client_id: str,
        cloud: Cloud,
        certificate: CertificateCredential,
        *,
        keyring_only: bool = False,
    ) -> str | None:
        """Make ``certificate`` the saved connection's credential: its private key in the
        keyring, its public facts in the workspace (marked untested until Test Settings passes).
        Returns a message when the key could not go to the keyring. With ``keyring_only`` (a
        command, whose memory ends with it) a key the keyring cannot keep raises
        SecretStoreError instead, and the saved connection is left as it was."""
        from clearooms_wizard.core.secrets import SecretStoreError
        from clearooms_wizard.core.workspace import open_workspace

        if keyring_only:
            with open_workspace(self.workspace_path) as workspace:
                saved = workspace.load_connection()
            same = saved is not None and saved.tenant == tenant and saved.client_id == client_id
            key_tenant = saved.tenant_id if same and saved is not None else None
            outcome = self.secrets.save_certificate(
                key_tenant or tenant, client_id, certificate.keyring_text()
            )
            if not outcome.kept_in_keyring:
                raise SecretStoreError(outcome.message or "The keyring did not keep the key.")
        with open_workspace(self.workspace_path) as workspace:
            saved = workspace.load_connection()
            # The keyring entry is keyed by the tenant GUID once a test has resolved it.
            tenant_id = (
                saved.tenant_id
                if saved is not None and saved.tenant == tenant and saved.client_id == client_id
                else None
            )
            connection = _connection_to_save(
                tenant, client_id, tenant_id or tenant, cloud, None,
                tested_at=None, certificate=certificate,
            )  # fmt: skip
            workspace.save_connection(replace(connection, tenant_id=tenant_id))
            notice = workspace.notice
        if keyring_only:
            return notice
        outcome = self.secrets.save_certificate(
            tenant_id or tenant, client_id, certificate.keyring_text()
        )
        log.info(
            "kept a new certificate for the connection; its key is in the keyring: %s",
            "yes" if outcome.kept_in_keyring else "no",
        )
        messages = [m for m in (notice, None if outcome.kept_in_keyring else outcome.message) if m]
        return " ".join(messages) or None

    # -- "Set it up for me" ------------------------------------------------------------------

    def sign_in_admin(
        self,
        cloud: Cloud,
        method: SignInMethod,
        cancel: CancelToken,
        *,
        tenant: str | None = None,
        on_device_code: Callable[[DeviceCodePrompt], None] | None = None,
    ) -> AdminSession:
        """An administrator's sign-in, in the browser or with a code; slow (it waits for them).
        Raises AdminSignInError with a plain message when it ends without one."""
        from clearooms_wizard.core.admin_signin import sign_in_admin

        return sign_in_admin(
            self.open_session,
            self.setup_client,
            cloud,
            method,
            cancel,
            tenant=tenant,
            on_device_code=on_device_code,
            open_browser=self.open_browser,
        )

    def keep_until_approved(self, registered: RegisteredApp, cloud: Cloud) -> SavedAwaiting:
        """Keep a new app's values while its permissions wait for a Global Administrator: the
        secret in the keyring, the rest in the workspace marked as not yet tested, so that Test
        Settings (the wizard's Connect page, or ``check --save``) can finish the job later."""
        from clearooms_wizard.core.workspace import open_workspace

        connection = _connection_to_save(
            registered.tenant_id,
            registered.client_id,
            registered.tenant_id,
            cloud,
            registered.secret_expires_at,
            tested_at=None,
            certificate=registered.certificate,
        )
        outcome = _keep_credential(
            self.secrets,
            registered.tenant_id,
            registered.client_id,
            registered.client_secret,
            registered.certificate,
        )
        with open_workspace(self.workspace_path) as workspace:
            workspace.save_connection(connection)
            notice = workspace.notice
        log.info(
            "kept the new app's connection until its permissions are approved; the client "
            "secret is in the keyring: %s",
            "yes" if outcome.kept_in_keyring else "no",
        )
        return SavedAwaiting(outcome.kept_in_keyring, notice)

    @contextmanager
    def graph(
        self, credentials: Credentials, cloud: Cloud, cancel: CancelToken
    ) -> Iterator[GraphClient]:
        """A Graph client signed in as the app, for several calls on one session."""
        from clearooms_wizard.core.connection import graph_connection

        with graph_connection(self.open_session, credentials, cloud, cancel) as client:
            yield client

    def load_rooms(
        self,
        credentials: Credentials,
        cloud: Cloud,
        cancel: CancelToken,
        progress: Callable[[int], None] | None = None,
    ) -> RoomDirectory:
        """Every room and room list Microsoft 365 has; ``progress`` gets the rooms so far."""
        with self.graph(credentials, cloud, cancel) as client:
            directory = client.load_rooms(progress)
        log.info(
            "loaded rooms %d, room lists %d, left out %d",
            len(directory.rooms),
            len(directory.room_lists),
            directory.skipped,
        )
        return directory

    def scope_script(
        self, credentials: Credentials, cloud: Cloud, cancel: CancelToken
    ) -> ScopeScript:
        """The PowerShell script that limits the app to the room mailboxes, with this
        organisation's values read with the app's own sign-in: its Enterprise application's
        Object ID, one room and one person. A value that cannot be read is left for the
        administrator to fill in, and ``missing`` says why and where to find it. Slow."""
        from clearooms_wizard.core.errors import GraphError
        from clearooms_wizard.core.scope_script import (
            ScopeScript,
            ScopeValues,
            render_scope_script,
            usable_address,
        )

        missing: list[str] = []
        with self.graph(credentials, cloud, cancel) as client:
            try:
                sp_id = client.service_principal_id(credentials.client_id)
            except GraphError as exc:
                sp_id = None
                missing.append(
                    "The app may not read its Enterprise application's Object ID "
                    + ("(it needs Directory.Read.All)" if exc.status == 403 else f"({exc.code})")
                    + ". Copy it from Enterprise applications > the Clearooms app > Overview."
                )
            else:
                if sp_id is None:
                    missing.append(
                        "Microsoft Entra ID has no Enterprise application for this app yet: "
                        "grant it admin consent first, then copy the Object ID from Enterprise "
                        "applications > the Clearooms app > Overview."
                    )
            try:
                sample = client.sample_rooms(top=100)
                rooms = [room.email for room in sample.rooms if usable_address(room.email)]
            except GraphError:
                rooms = []
                missing.append("The rooms could not be listed, so no room address is filled in.")
            else:
                if not rooms:
                    missing.append("No room mailbox was found, so no room address is filled in.")
            room_keys = {room.casefold() for room in rooms}
            try:
                people = [
                    address
                    for address in client.mailbox_addresses()
                    if address.casefold() not in room_keys and usable_address(address)
                ]
            except GraphError:
                people = []
                missing.append(
                    "The directory could not be read, so no person's address is filled in."
                )
            else:
                if not people:
                    missing.append("No person with a mailbox was found among the first users.")
        values = ScopeValues(
            client_id=credentials.client_id,
            tenant=credentials.tenant,
            service_principal_id=sp_id,
            room=rooms[0] if rooms else None,
            person=people[0] if people else None,
            cloud=cloud.key,
        )
        log.info(
            "wrote the script that limits the app to room mailboxes; values left to fill in: %d",
            len(missing),
        )
        return ScopeScript(render_scope_script(values), values, tuple(missing))

    def remove_calendars_grant(
        self, admin: AdminSession, client_id: str, cancel: CancelToken
    ) -> bool:
        """With the administrator "Set it up for me" signed in: take Microsoft Entra's
        tenant-wide Calendars.ReadWrite grant off the app (and off its list of permissions), so
        that only Exchange's limit to rooms gives it calendars. True when there was one. Slow."""
        from clearooms_wizard.core.provisioning import AdminGraph, remove_calendars_grant

        session = self.open_session(cancel)
        try:
            graph = AdminGraph(session, admin.cloud.graph_root, admin.bearer)
            return remove_calendars_grant(graph, admin.admin, client_id)
        finally:
            session.close()

    # -- the workspace -----------------------------------------------------------------------

    def workspace_snapshot(self) -> WorkspaceSnapshot:
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self.workspace_path) as workspace:
            offices = tuple(office.name for office in workspace.list_offices())
            imported = {room.key: room.office_name for room in workspace.imported_rooms()}
            return WorkspaceSnapshot(offices, imported, workspace.notice)

    def suggest_offices(
        self, directory: RoomDirectory, existing: Iterable[Office | str]
    ) -> list[OfficeSuggestion]:
        """Fast and local."""
        from clearooms_wizard.core.importer import suggest_offices

        return suggest_offices(directory, existing)

    def office_name_problem(self, raw: str, existing: Sequence[str]) -> str | None:
        """What is wrong with a new office's name, in a sentence, or None. Fast and local."""
        from clearooms_wizard.core.store import office_name_problem

        return office_name_problem(raw, existing)

    def export(self, target: str | Path | None, fmt: str) -> Exported:
        """The offices and their rooms for Clearooms, as ``fmt`` (json or csv): written to
        ``target``, or (None) as text cleaned for a terminal, for the caller to print."""
        from clearooms_wizard.core.export import render_export, write_export_file
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self.workspace_path, read_only=True) as workspace:
            text = render_export(workspace, fmt, for_terminal=target is None)
            offices = workspace.list_offices()
        path = None if target is None else Path(target).expanduser()
        if path is not None:
            write_export_file(text, path)
        rooms = sum(o.room_count for o in offices)
        log.info(
            "exported as %s to %s: offices %d, rooms %d",
            fmt,
            path or "standard output",
            len(offices),
            rooms,
        )
        return Exported(text, path, len(offices), rooms)

    # -- importing ---------------------------------------------------------------------------

    def plan_import(self, request: ImportRequest) -> ImportPlan:
        """What importing the request would do. Fast and local; raises InvalidInput."""
        from clearooms_wizard.core.importer import new_office, plan_import
        from clearooms_wizard.core.model import NewOffice
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self.workspace_path) as workspace:
            office: NewOffice | str = request.office
            if request.create_office and workspace.find_office(request.office) is None:
                # Created only when the import is applied: backing out leaves nothing behind.
                office = new_office(workspace, request.office)
            return plan_import(workspace, request.directory, office, request.rooms)

    def check_calendars(
        self,
        graph: GraphClient,
        request: ImportRequest,
        plan: ImportPlan,
        cancel: CancelToken,
        progress: Callable[[ImportProgress], None] | None = None,
        *,
        previous: PreparedImport | None = None,
        only: Sequence[str] | None = None,
    ) -> PreparedImport:
        """Check each planned room's calendar (or just ``only`` of them again, keeping the
        ``previous`` checks of the others). Slow."""
        from clearooms_wizard.core.importer import check_calendars

        emails = list(only) if only is not None else [p.room.email for p in plan.rooms]
        checks = check_calendars(graph, emails, cancel, progress)
        if only is not None and previous is not None:
            fresh = {check.email.casefold(): check for check in checks}
            checks = [fresh.get(check.email.casefold(), check) for check in previous.checks]
        return PreparedImport(request, plan, tuple(checks))

    def prepare_import(
        self,
        request: ImportRequest,
        previous: PreparedImport | None,
        only: list[str] | None,
        cancel: CancelToken,
        progress: Callable[[ImportProgress], None] | None = None,
    ) -> PreparedImport:
        """Plan the import and check the chosen rooms' calendars. Slow."""
        plan = self.plan_import(request)
        with self.graph(request.credentials, request.cloud, cancel) as client:
            return self.check_calendars(
                client, request, plan, cancel, progress, previous=previous, only=only
            )

    def apply_import(
        self, prepared: PreparedImport, include_blocked: bool, cancel: CancelToken
    ) -> ImportResult:
        """Write the prepared import in one transaction (creating a new office in it)."""
        from clearooms_wizard.core.importer import apply_import
        from clearooms_wizard.core.model import NewOffice
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self.workspace_path) as workspace:
            result = apply_import(
                workspace,
                prepared.plan,
                prepared.checks,
                include_blocked=include_blocked,
                cancel=cancel,
            )
        if isinstance(prepared.plan.office, NewOffice):
            log.info("created the office “%s”", result.office.name)
        log.info(
            "imported into the office “%s”: %s",
            result.office.name,
            ", ".join(f"{status} {count}" for status, count in result.counts().items()),
        )
        return result

    # -- "Set it up for me" --------------------------------------------------------------------

    def plan_registration(
        self,
        admin: AdminSession,
        app_name: str,
        secret_months: int,
        cancel: CancelToken,
        *,
        use_certificate: bool = False,
        rooms_only: bool = False,
    ) -> RegistrationPlan:
        """What registering the app will create or reuse, for the user to confirm. Reads only:
        creates nothing. Slow. With ``use_certificate``, the app gets a certificate instead of
        a client secret. ``rooms_only``: without Microsoft Entra's Calendars.ReadWrite grant
        (Exchange gives it for the room mailboxes: the scope script)."""
        from clearooms_wizard.core.provisioning import AdminGraph, plan_registration

        session = self.open_session(cancel)
        try:
            graph = AdminGraph(session, admin.cloud.graph_root, admin.bearer)
            plan = plan_registration(
                graph, admin.admin, app_name, secret_months, rooms_only=rooms_only
            )
        finally:
            session.close()
        return replace(plan, use_certificate=True) if use_certificate else plan

    def register_app(
        self,
        admin: AdminSession,
        plan: RegistrationPlan,
        cancel: CancelToken,
        progress: Callable[[StepUpdate], None] | None = None,
    ) -> RegisteredApp:
        """Create (or reuse) the app, its secret, service principal and permissions, carrying
        on from an unfinished run of the same organisation. Raises RegistrationFailed (what
        exists now, and what to do). Slow: up to several minutes while Microsoft catches up."""
        from clearooms_wizard.core.provisioning import AdminGraph, register_app

        store = _WorkspaceJournal(self.workspace_path)
        unfinished = store.load()
        session = self.open_session(cancel)
        try:
            graph = AdminGraph(session, admin.cloud.graph_root, admin.bearer)
            return register_app(
                graph,
                session,
                admin.cloud,
                plan,
                store,
                unfinished,
                progress,
                self.registration_policy,
            )
        finally:
            session.close()

    def tidy_after_approval(
        self, admin: AdminSession, registered: RegisteredApp, cancel: CancelToken
    ) -> bool:
        """Once a Global Administrator has approved the app, take off the redirect address the
        approval page needed (with the administrator still signed in). True when one was."""
        from clearooms_wizard.core.provisioning import AdminGraph, remove_consent_redirect

        session = self.open_session(cancel)
        try:
            graph = AdminGraph(session, admin.cloud.graph_root, admin.bearer)
            return remove_consent_redirect(graph, registered.app_object_id)
        finally:
            session.close()

    def unfinished_registration(self) -> RegistrationJournal | None:
        """What a "Set it up for me" run that did not finish created, if any."""
        return _WorkspaceJournal(self.workspace_path).load()

    def undo_registration(
        self,
        admin: AdminSession,
        journal: RegistrationJournal,
        cancel: CancelToken,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Remove what an unfinished run created, newest first (never anything it found)."""
        from clearooms_wizard.core.provisioning import AdminGraph, undo_registration

        session = self.open_session(cancel)
        try:
            graph = AdminGraph(session, admin.cloud.graph_root, admin.bearer)
            undo_registration(
                graph, admin.admin, journal, _WorkspaceJournal(self.workspace_path), progress
            )
        finally:
            session.close()

    def check_permissions_granted(
        self, registered: RegisteredApp, cloud: Cloud, cancel: CancelToken
    ) -> bool:
        """Whether Microsoft now signs the app in with all its permissions (a fresh token)."""
        from clearooms_wizard.core.provisioning import roles_granted

        session = self.open_session(cancel)
        try:
            granted = roles_granted(
                session,
                cloud,
                registered.tenant_id,
                registered.client_id,
                registered.client_secret,
                registered.permission_names,
            )
        finally:
            session.close()
        log.info("the app's permissions are granted: %s", "yes" if granted else "not yet")
        return granted

    def wait_for_admin_consent(
        self, registered: RegisteredApp, cloud: Cloud, cancel: CancelToken
    ) -> bool:
        """Open Microsoft's approval page in the browser for a Global Administrator, wait for
        its answer on this computer, then until the app's token carries the three permissions.
        False when Microsoft has not finished within a few minutes (Check again later);
        a refusal raises ClearoomsError with what to do."""
        import secrets

        from clearooms_wizard.core.errors import ClearoomsError
        from clearooms_wizard.core.loopback import NoAnswer, RedirectListener
        from clearooms_wizard.core.provisioning import (
            CONSENT_ANSWER_TIMEOUT,
            RetryPolicy,
            StillWaiting,
            admin_consent_url,
            consent_given,
            wait_for_roles,
        )

        state = secrets.token_urlsafe(16)
        with RedirectListener(expected_state=state) as listener:
            url = admin_consent_url(
                cloud, registered.tenant_id, registered.client_id, listener.redirect_uri, state
            )
            if not self._open_in_browser(url):
                raise ClearoomsError(
                    "The browser could not be opened. Copy the approval link and send it to a "
                    "Global Administrator, then press Check again."
                )
            log.info("opened the approval page for app %s; waiting", registered.client_id)
            try:
                answer = listener.wait(cancel, CONSENT_ANSWER_TIMEOUT)
            except NoAnswer:
                raise ClearoomsError(
                    f"No answer came from Microsoft's approval page within "
                    f"{CONSENT_ANSWER_TIMEOUT / 60:.0f} minutes. Send the link to a Global "
                    "Administrator, then press Check again."
                ) from None
        if not consent_given(answer):
            return False
        session = self.open_session(cancel)
        try:
            wait_for_roles(
                session,
                cloud,
                registered.tenant_id,
                registered.client_id,
                registered.client_secret,
                registered.permission_names,
                self.registration_policy or RetryPolicy(),
            )
        except StillWaiting:
            log.info("approved, but Microsoft has not finished yet")
            return False
        finally:
            session.close()
        log.info("the permissions of app %s were approved", registered.client_id)
        return True

    # -- renewing the client secret -------------------------------------------------------------

    def secret_status(
        self,
        credentials: Credentials,
        cloud: Cloud,
        cancel: CancelToken,
        admin: AdminSession | None = None,
    ) -> CredentialStatus:
        """The app's secrets and certificates, and which secret is the one saved here: read as
        the app itself (it may read its own registration), or as ``admin`` when given (when
        the app cannot sign in, say because its secret expired). Slow."""
        from clearooms_wizard.core.provisioning import AdminGraph
        from clearooms_wizard.core.renewal import credential_status, status_with_admin

        saved_expiry = self._saved_expiry(credentials.client_id)
        certificate = credentials.certificate
        thumbprint = certificate.sha1_thumbprint if certificate is not None else None
        if admin is not None:
            session = self.open_session(cancel)
            try:
                graph = AdminGraph(session, admin.cloud.graph_root, admin.bearer)
                return status_with_admin(
                    graph,
                    admin.admin.username,
                    credentials.client_id,
                    credentials.client_secret,
                    saved_expiry,
                    current_thumbprint=thumbprint,
                )
            finally:
                session.close()
        with self.graph(credentials, cloud, cancel) as client:
            # The certificates too: status lists them, and one of them may be the one in use.
            application = client.get_application(credentials.client_id, certificates=True)
        return credential_status(
            application,
            credentials.client_secret,
            saved_expiry=saved_expiry,
            current_thumbprint=thumbprint,
        )

    def renew_secret(
        self,
        admin: AdminSession,
        request: RenewalRequest,
        confirm_removal: Callable[[AppCredential], bool],
        cancel: CancelToken,
        progress: Callable[[RenewalUpdate], None] | None = None,
    ) -> RenewalOutcome:
        """Add a new client secret, check that Microsoft signs the app in with it, save it (the
        keyring, and its end date in the workspace), and only then remove the one it replaces;
        ``confirm_removal`` is asked first when that one was not made by this tool. Raises
        RenewalFailed (saying whether the old secret still works). Slow. With
        ``request.certificate``, a new certificate replaces the certificate (or the secret) in
        use, and becomes the saved connection's credential."""
        from clearooms_wizard.core.provisioning import AdminGraph
        from clearooms_wizard.core.renewal import renew_secret

        if request.saved_expiry is None:
            request = replace(request, saved_expiry=self._saved_expiry(request.client_id))
        session = self.open_session(cancel)
        try:
            graph = AdminGraph(session, admin.cloud.graph_root, admin.bearer)
            return renew_secret(
                graph,
                session,
                admin.cloud,
                request,
                admin.admin.username,
                _RenewalJournalStore(self.workspace_path),
                self._secret_saver(request.tenant_id, request.client_id),
                confirm_removal,
                progress,
                self.registration_policy,
                save_certificate=self._certificate_saver(
                    request.tenant_id, request.client_id, admin.cloud
                ),
            )
        finally:
            session.close()

    def unfinished_renewal(self) -> RenewalJournal | None:
        """Where a renewal that was stopped or killed got to, if one was."""
        return _RenewalJournalStore(self.workspace_path).load()

    def finish_renewal(
        self,
        admin: AdminSession,
        journal: RenewalJournal,
        current_secret: str | None,
        confirm_removal: Callable[[AppCredential], bool],
        cancel: CancelToken,
        progress: Callable[[RenewalUpdate], None] | None = None,
        current_certificate: CertificateCredential | None = None,
    ) -> str:
        """Finish a renewal that stopped after saving its new secret (remove the old one), or
        tidy one that stopped before (remove its unused new secret). Returns what was done.
        ``current_certificate``: the certificate saved here now, when the connection uses one."""
        from clearooms_wizard.core.provisioning import AdminGraph
        from clearooms_wizard.core.renewal import finish_unfinished

        session = self.open_session(cancel)
        try:
            graph = AdminGraph(session, admin.cloud.graph_root, admin.bearer)
            return finish_unfinished(
                graph,
                _RenewalJournalStore(self.workspace_path),
                journal,
                admin.admin.username,
                current_secret,
                confirm_removal,
                progress,
                self.registration_policy,
                current_thumbprint=current_certificate.sha1_thumbprint
                if current_certificate is not None
                else None,
            )
        finally:
            session.close()

    def save_reminder(
        self,
        expires_at: datetime,
        client_id: str,
        app_name: str,
        path: Path,
        certificate: bool = False,
    ) -> Path:
        """Write a calendar reminder (.ics) to renew the secret (or the certificate) 30 days
        before it expires."""
        from clearooms_wizard.core.reminder import Reminder, save_reminder

        written = save_reminder(Reminder(expires_at, client_id, app_name, certificate), path)
        log.info("saved a reminder to renew the client secret")
        return written

    def _saved_expiry(self, client_id: str) -> datetime | None:
        from clearooms_wizard.core.workspace import open_workspace

        if not self.workspace_path.exists():
            return None
        with open_workspace(self.workspace_path, read_only=True) as workspace:
            saved = workspace.load_connection()
        if saved is None or saved.client_id != client_id or not saved.secret_expires_at:
            return None
        try:
            return datetime.fromisoformat(saved.secret_expires_at)
        except ValueError:
            return None

    def _secret_saver(
        self, tenant_id: str, client_id: str
    ) -> Callable[[str, datetime], SaveOutcome]:
        def save(secret: str, expires_at: datetime) -> SaveOutcome:
            from clearooms_wizard.core.workspace import open_workspace

            outcome = self.secrets.save(tenant_id, client_id, secret)
            with open_workspace(self.workspace_path) as workspace:
                saved = workspace.load_connection()
                if saved is not None and saved.client_id == client_id:
                    workspace.save_connection(
                        replace(saved, secret_expires_at=expires_at.isoformat())
                    )
            log.info(
                "saved the renewed client secret; in the keyring: %s",
                "yes" if outcome.kept_in_keyring else "no",
            )
            return outcome

        return save

    def _certificate_saver(
        self, tenant_id: str, client_id: str, cloud: Cloud
    ) -> Callable[[CertificateCredential], SaveOutcome]:
        """Saves a renewed certificate as Test Settings' save does: its private key in the
        keyring, and the saved connection's credential, thumbprint and end date (a secret
        connection becomes a certificate one)."""

        def save(certificate: CertificateCredential) -> SaveOutcome:
            from clearooms_wizard.core.workspace import open_workspace

            outcome = self.secrets.save_certificate(
                tenant_id, client_id, certificate.keyring_text()
            )
            with open_workspace(self.workspace_path) as workspace:
                saved = workspace.load_connection()
                if saved is not None and saved.client_id == client_id:
                    connection = replace(
                        saved,
                        secret_expires_at=certificate.not_after.isoformat(),
                        credential_kind="certificate",
                        certificate_thumbprint=certificate.sha1_thumbprint,
                        certificate_expires_at=certificate.not_after.isoformat(),
                    )
                else:
                    connection = _connection_to_save(
                        tenant_id, client_id, tenant_id, cloud, certificate.not_after,
                        tested_at=None, certificate=certificate,
                    )  # fmt: skip
                workspace.save_connection(connection)
            log.info(
                "saved the renewed certificate %s; its key is in the keyring: %s",
                certificate.sha1_thumbprint.upper(),
                "yes" if outcome.kept_in_keyring else "no",
            )
            return outcome

        return save

    def _open_in_browser(self, url: str) -> bool:
        try:
            if self.open_browser is not None:
                return bool(self.open_browser(url))
            import webbrowser  # honours the BROWSER variable

            return webbrowser.open(url)
        except Exception:
            # Whatever a launcher raises, the way on is the same: send the link instead.
            log.warning("the browser could not be started for the approval page")
            return False


class _WorkspaceJournal:
    """The registration journal, in the workspace: opened for each write, so that a run of
    several minutes holds no file open."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> RegistrationJournal | None:
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self._path, read_only=True) as workspace:
            return workspace.load_registration_journal()

    def save(self, journal: RegistrationJournal) -> None:
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self._path) as workspace:
            workspace.save_registration_journal(journal)

    def clear(self) -> None:
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self._path) as workspace:
            workspace.clear_registration_journal()


class _RenewalJournalStore:
    """The renewal journal, in the workspace: opened for each write."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> RenewalJournal | None:
        from clearooms_wizard.core.workspace import open_workspace

        if not self._path.exists():
            return None
        with open_workspace(self._path, read_only=True) as workspace:
            return workspace.load_renewal_journal()

    def save(self, journal: RenewalJournal) -> None:
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self._path) as workspace:
            workspace.save_renewal_journal(journal)

    def clear(self) -> None:
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(self._path) as workspace:
            workspace.clear_renewal_journal()
