"""The composition root: the one place that builds the real parts and wires them together."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import CLOUDS, Cloud, get_cloud
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.logs import log_path
from clearooms_wizard.core.preferences import PreferencesFile
from clearooms_wizard.demo.urls import DEMO_AUTHORITY_HOST, DEMO_GRAPH_ROOT
from clearooms_wizard.ui.context import (
    ImportRequest,
    InitialValues,
    PreparedImport,
    WizardContext,
    WorkspaceSnapshot,
)

if TYPE_CHECKING:
    from clearooms_wizard.core.checks import SettingsTest
    from clearooms_wizard.core.connection import SessionOpener
    from clearooms_wizard.core.http import MicrosoftSession
    from clearooms_wizard.core.importer import ImportResult
    from clearooms_wizard.core.model import Office, RoomDirectory, SavedConnection
    from clearooms_wizard.core.secrets import SecretStore
    from clearooms_wizard.core.values import ConnectionInput, Credentials
    from clearooms_wizard.demo.scenarios import Scenario
    from clearooms_wizard.demo.tenant import DemoTenant

DEMO_CLOUD = Cloud(
    "demo",
    "Demo tenant (built in, no real Microsoft 365)",
    DEMO_AUTHORITY_HOST,
    DEMO_GRAPH_ROOT,
    "https://entra.microsoft.com",
)


@dataclass(frozen=True)
class ConnectionOptions:
    """What the command line or the wizard was told; anything left None comes from elsewhere."""

    tenant: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    cloud: str | None = None
    authority_host: str | None = None
    graph_url: str | None = None
    ca_bundle: str | None = None
    workspace: str | None = None
    demo: bool = False
    demo_scenario: str = "healthy"


@dataclass(frozen=True)
class Runtime:
    """Everything a command needs to talk to Microsoft (or to the demo tenant)."""

    connection: ConnectionInput
    open_session: SessionOpener
    scenario: Scenario | None
    saved: SavedConnection | None
    secret_source: str | None
    workspace_path: Path
    # Something the user should read before going on (for example: the keyring is locked).
    notice: str | None = None


def open_session_factory(
    ca_bundle: str | None,
    demo_tenant: DemoTenant | None = None,
    *,
    demo_scenario: Scenario | None = None,
) -> SessionOpener:
    """Sessions to Microsoft, or to ``demo_tenant`` (or a tenant for ``demo_scenario``, made
    when the first session is opened: the wizard starts before any demo data is built)."""
    tenants: list[DemoTenant] = [demo_tenant] if demo_tenant is not None else []
    lock = threading.Lock()

    def demo() -> DemoTenant | None:
        if demo_scenario is None:
            return tenants[0] if tenants else None
        with lock:
            if not tenants:
                from clearooms_wizard.demo.tenant import DemoTenant

                tenants.append(DemoTenant(demo_scenario))
            return tenants[0]

    # requests, urllib3 and truststore load only once a session is opened (on a worker
    # thread, after the first page is on screen): they are slow to import.
    if ca_bundle:
        from clearooms_wizard.core.http import build_ssl_context

        build_ssl_context(ca_bundle)  # refuse a bad file now, before any work starts

    def open_session(cancel: CancelToken) -> MicrosoftSession:
        from clearooms_wizard.core.http import HttpOptions, MicrosoftSession

        session = MicrosoftSession(HttpOptions(ca_bundle=ca_bundle), cancel)
        tenant = demo()
        if tenant is not None:
            from clearooms_wizard.demo.transport import mount_demo

            mount_demo(session, tenant)
        return session

    return open_session


def _first(*values: str | None) -> str | None:
    for value in values:
        if value:
            return value
    return None


def build_runtime(
    options: ConnectionOptions,
    env: Mapping[str, str] | None = None,
    secrets: SecretStore | None = None,
) -> Runtime:
    from clearooms_wizard.core.appinfo import workspace_path
    from clearooms_wizard.core.secrets import KeyringSecretStore, SecretStoreError
    from clearooms_wizard.core.values import ConnectionInput
    from clearooms_wizard.demo.scenarios import get_scenario

    env = os.environ if env is None else env
    if options.demo:
        scenario = get_scenario(options.demo_scenario)
        connection = ConnectionInput(
            _first(options.tenant, scenario.tenant) or "",
            _first(options.client_id, scenario.client_id) or "",
            _first(options.client_secret, scenario.client_secret) or "",
            cloud=DEMO_CLOUD,
        )
        return Runtime(
            connection,
            open_session_factory(None, demo_scenario=scenario),
            scenario,
            None,
            "demo",
            workspace_path(options.workspace, env),
        )

    path = workspace_path(options.workspace, env)
    saved = _load_saved(path)
    tenant = _first(options.tenant, env.get("CLEAROOMS_TENANT_ID"), saved.tenant if saved else None)
    client_id = _first(
        options.client_id, env.get("CLEAROOMS_CLIENT_ID"), saved.client_id if saved else None
    )
    cloud_key = _first(options.cloud, env.get("CLEAROOMS_CLOUD"), saved.cloud if saved else None)
    cloud = get_cloud(cloud_key or "global")
    # Saved address overrides belong to the saved cloud; choosing another cloud drops them.
    overrides = saved if saved is not None and saved.cloud == cloud.key else None
    cloud = cloud.with_overrides(
        _first(
            options.authority_host,
            env.get("CLEAROOMS_AUTHORITY_HOST"),
            overrides.authority_host if overrides else None,
        ),
        _first(
            options.graph_url,
            env.get("CLEAROOMS_GRAPH_URL"),
            overrides.graph_url if overrides else None,
        ),
    )
    secret, source = options.client_secret, "stdin" if options.client_secret else None
    notice: str | None = None
    if not secret and env.get("CLEAROOMS_CLIENT_SECRET"):
        secret, source = env["CLEAROOMS_CLIENT_SECRET"], "environment"
    if not secret and tenant and client_id:
        try:
            secret = _saved_secret(secrets or KeyringSecretStore(), saved, tenant, client_id)
        except SecretStoreError as exc:
            secret, notice = None, str(exc)
        source = "keyring" if secret else None
    ca_bundle = _first(options.ca_bundle, env.get("CLEAROOMS_CA_BUNDLE"))
    return Runtime(
        ConnectionInput(tenant or "", client_id or "", secret or "", cloud=cloud),
        open_session_factory(ca_bundle),
        None,
        saved,
        source,
        path,
        notice,
    )


def _load_saved(path: Path) -> SavedConnection | None:
    from clearooms_wizard.core.workspace import Workspace, WorkspaceDamaged

    if not path.exists():
        return None
    try:
        with Workspace(path) as workspace:
            return workspace.load_connection()
    except WorkspaceDamaged:
        # Left where it is for now: the first write sets it aside and says where it went.
        return None


def _saved_secret(
    secrets: SecretStore, saved: SavedConnection | None, tenant: str, client_id: str
) -> str | None:
    from clearooms_wizard.core.values import check_client_id, check_tenant

    tenant_value = check_tenant(tenant).value
    client_value = check_client_id(client_id).value
    if tenant_value is None or client_value is None:
        return None
    # The keyring entry is keyed by the tenant GUID, which is known once a test has resolved it.
    if saved is not None and saved.tenant == tenant_value and saved.tenant_id:
        tenant_value = saved.tenant_id
    return secrets.load(tenant_value, client_value)


def _override(value: str, default: str | None) -> str | None:
    return None if value == default else value


def save_tested_connection(
    test: SettingsTest, cloud: Cloud, path: Path, secrets: SecretStore
) -> str | None:
    """Store a passed test's values: the secret in the keyring, the rest in the workspace.

    Returns a message for the user when the secret could not go to the keyring.
    """
    from clearooms_wizard.core.model import SavedConnection
    from clearooms_wizard.core.workspace import open_workspace

    credentials = test.credentials
    if credentials is None or test.tenant_id is None or not test.ok:
        raise ClearoomsError("Only settings whose checks all passed can be saved.")
    defaults = CLOUDS.get(cloud.key)
    connection = SavedConnection(
        tenant=credentials.tenant,
        client_id=credentials.client_id,
        cloud=cloud.key,
        tenant_id=test.tenant_id,
        authority_host=_override(
            cloud.authority_host, defaults.authority_host if defaults else None
        ),
        graph_url=_override(cloud.graph_root, defaults.graph_root if defaults else None),
        last_tested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        last_test_ok=True,
        secret_expires_at=test.secret_expires_at.isoformat() if test.secret_expires_at else None,
    )
    with open_workspace(path) as workspace:
        workspace.save_connection(connection)
        notice = workspace.notice
    outcome = secrets.save(test.tenant_id, credentials.client_id, credentials.client_secret)
    messages = [m for m in (notice, None if outcome.kept_in_keyring else outcome.message) if m]
    return " ".join(messages) or None


def load_rooms(
    open_session: SessionOpener,
    credentials: Credentials,
    cloud: Cloud,
    cancel: CancelToken,
    progress: Callable[[object], None],
) -> RoomDirectory:
    from clearooms_wizard.core.graph import GraphClient
    from clearooms_wizard.core.tokens import TokenProvider

    session = open_session(cancel)
    try:
        tokens = TokenProvider(credentials, cloud, session)
        return GraphClient(session, tokens, cloud.graph_root, cancel).load_rooms(progress)
    finally:
        session.close()


def prepare_import(
    open_session: SessionOpener,
    path: Path,
    request: ImportRequest,
    previous: PreparedImport | None,
    only: list[str] | None,
    cancel: CancelToken,
    progress: Callable[[object], None],
) -> PreparedImport:
    """Plan the import and check the chosen rooms' calendars (or just ``only`` of them again)."""
    from clearooms_wizard.core.graph import GraphClient
    from clearooms_wizard.core.importer import check_calendars, plan_import, planned_office
    from clearooms_wizard.core.tokens import TokenProvider
    from clearooms_wizard.core.values import Credentials
    from clearooms_wizard.core.workspace import open_workspace

    with open_workspace(path) as workspace:
        office: Office | str = request.office
        if request.create_office and workspace.find_office(request.office) is None:
            # Created only when the user presses Import: backing out leaves nothing behind.
            office = planned_office(workspace, request.office)
        plan = plan_import(workspace, request.directory, office, request.rooms)
    credentials = Credentials(request.tenant_id, request.client_id, request.client_secret)
    emails = only if only is not None else [planned.room.email for planned in plan.rooms]
    session = open_session(cancel)
    try:
        tokens = TokenProvider(credentials, request.cloud, session)
        graph = GraphClient(session, tokens, request.cloud.graph_root, cancel)
        checks = check_calendars(graph, emails, cancel, progress)
    finally:
        session.close()
    if only is not None and previous is not None:
        fresh = {check.email.casefold(): check for check in checks}
        checks = [fresh.get(check.email.casefold(), check) for check in previous.checks]
    return PreparedImport(request, plan, tuple(checks))


def demo_workspace_path() -> Path:
    # The demo keeps its own workspace so that rehearsing never touches the real one.
    from clearooms_wizard.core.appinfo import default_workspace_path

    return default_workspace_path().with_name("demo-workspace.sqlite3")


def wizard_clouds(options: ConnectionOptions, runtime: Runtime) -> dict[str, Cloud]:
    if runtime.scenario is not None:
        return {DEMO_CLOUD.key: DEMO_CLOUD}
    clouds = dict(CLOUDS)
    chosen = runtime.connection.cloud
    if chosen.key in clouds and clouds[chosen.key] != chosen:
        clouds[chosen.key] = chosen  # keep --authority-host / --graph-url overrides
    return clouds


def build_wizard_context(
    options: ConnectionOptions,
    open_url: Callable[[str], bool],
    env: Mapping[str, str] | None = None,
    secrets: SecretStore | None = None,
    preferences: PreferencesFile | None = None,
) -> WizardContext:
    """Everything the wizard needs, built from the real parts (or the demo tenant's).

    Each callable imports what it uses when it first runs (on a worker thread), so that the
    wizard's first page is on screen before the workspace, Graph and import code is loaded.
    """
    from clearooms_wizard.core.secrets import KeyringSecretStore, MemorySecretStore

    secrets = secrets or (MemorySecretStore() if options.demo else KeyringSecretStore())
    runtime = build_runtime(options, env, secrets)
    if runtime.scenario is not None and options.workspace is None:
        path = demo_workspace_path()
    else:
        path = runtime.workspace_path
    clouds = wizard_clouds(options, runtime)
    connection = runtime.connection
    open_session = runtime.open_session
    preferences = preferences or PreferencesFile()

    def settings_test(values: ConnectionInput, cancel: CancelToken) -> SettingsTest:
        from clearooms_wizard.core.checks import SettingsTest

        return SettingsTest(values, open_session, cancel)

    def save_connection(test: SettingsTest) -> str | None:
        return save_tested_connection(test, test.connection.cloud, path, secrets)

    def rooms(
        credentials: Credentials,
        cloud: Cloud,
        cancel: CancelToken,
        progress: Callable[[object], None],
    ) -> RoomDirectory:
        return load_rooms(open_session, credentials, cloud, cancel, progress)

    def snapshot() -> WorkspaceSnapshot:
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(path) as workspace:
            offices = tuple(office.name for office in workspace.list_offices())
            imported = {room.key: room.office_name for room in workspace.imported_rooms()}
            return WorkspaceSnapshot(offices, imported, workspace.notice)

    def suggestions(directory: RoomDirectory, existing: Sequence[str]) -> list[str]:
        from clearooms_wizard.core.importer import suggest_offices

        return [s.name for s in suggest_offices(directory, existing)]

    def prepare(
        request: ImportRequest,
        previous: PreparedImport | None,
        only: list[str] | None,
        cancel: CancelToken,
        progress: Callable[[object], None],
    ) -> PreparedImport:
        return prepare_import(open_session, path, request, previous, only, cancel, progress)

    def apply(prepared: PreparedImport, include_blocked: bool, cancel: CancelToken) -> ImportResult:
        from clearooms_wizard.core.importer import NEW_OFFICE_ID, apply_import, plan_import
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(path) as workspace:
            plan = prepared.plan
            if plan.office.id == NEW_OFFICE_ID:
                # Another wizard may be adding the same office right now: both get the one.
                office = workspace.find_or_add_office(plan.office.name)
                request = prepared.request
                plan = plan_import(workspace, request.directory, office, request.rooms)
            return apply_import(
                workspace, plan, prepared.checks, include_blocked=include_blocked, cancel=cancel
            )

    def export(target: str, fmt: str) -> str:
        from clearooms_wizard.core.export import render_export, write_export_file
        from clearooms_wizard.core.workspace import open_workspace

        with open_workspace(path) as workspace:
            text = render_export(workspace, fmt)
        write_export_file(text, Path(target))
        return target

    def name_problem(raw: str, existing: Sequence[str]) -> str | None:
        from clearooms_wizard.core.store import office_name_problem

        return office_name_problem(raw, existing)

    return WizardContext(
        clouds=clouds,
        initial=InitialValues(
            connection.tenant, connection.client_id, connection.client_secret, connection.cloud.key
        ),
        preferences=preferences,
        preferences_state=preferences.load(),
        settings_test=settings_test,
        save_connection=save_connection,
        load_rooms=rooms,
        open_url=open_url,
        workspace_snapshot=snapshot,
        suggest_offices=suggestions,
        office_name_problem=name_problem,
        prepare_import=prepare,
        apply_import=apply,
        export_workspace=export,
        demo_scenario=runtime.scenario.name if runtime.scenario else None,
        demo_title=runtime.scenario.title if runtime.scenario else None,
        report_environment={
            "Workspace": str(path),
            "Log file": str(log_path() or "not written (the log folder cannot be used)"),
        },
        startup_notice=runtime.notice,
    )


def run_wizard(options: ConnectionOptions) -> int:
    """Open the wizard. Qt is imported only here, so the command line never loads it."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication

    from clearooms_wizard.ui.wizard import SetupWizard, install_crash_hooks

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Clearooms setup")
    app.setOrganizationName("Clearooms")
    from clearooms_wizard.resources import APP_ID, app_icon

    app.setDesktopFileName(APP_ID)
    context = build_wizard_context(options, lambda url: bool(QDesktopServices.openUrl(QUrl(url))))
    wizard = SetupWizard(context)
    # After the first paint: the SVG icon loads Qt's SVG icon engine (about 10 ms).
    wizard.first_painted.connect(lambda: app.setWindowIcon(app_icon()))
    install_crash_hooks(wizard)
    # The process lives exactly as long as the wizard, whichever window is left open (a dialog
    # without a parent would otherwise keep app.exec() going with the wizard gone).
    wizard.finished.connect(app.quit)
    wizard.show()
    return int(app.exec())
