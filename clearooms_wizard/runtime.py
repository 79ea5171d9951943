"""The composition root's shared half: what the wizard and the command line connect with.

From the options, the environment, the saved settings and the keyring it decides the connection,
the workspace and the secret store, and how sessions are opened (to Microsoft, or to the demo
tenant); :attr:`Runtime.use_cases` binds the use cases to them. Both front ends start here: the
wizard through ``app.py``, the commands through the ``cli`` package. Qt is never imported here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from clearooms_wizard.core.appinfo import workspace_path
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import Cloud, get_cloud
from clearooms_wizard.core.usecases import OpenBrowser, UseCases
from clearooms_wizard.core.values import ConnectionInput, check_client_id, check_tenant
from clearooms_wizard.demo.org import SETUP_CLIENT_ID as DEMO_SETUP_CLIENT_ID
from clearooms_wizard.demo.urls import DEMO_AUTHORITY_HOST, DEMO_GRAPH_ROOT

if TYPE_CHECKING:
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.core.connection import SessionOpener
    from clearooms_wizard.core.http import MicrosoftSession
    from clearooms_wizard.core.model import SavedConnection
    from clearooms_wizard.core.secrets import SecretStore
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
    # The public client an administrator signs in with for "Set it up for me".
    setup_client_id: str | None = None


@dataclass(frozen=True)
class Runtime:
    """Everything a command needs to talk to Microsoft (or to the demo tenant)."""

    connection: ConnectionInput
    open_session: SessionOpener
    scenario: Scenario | None
    saved: SavedConnection | None
    workspace_path: Path
    secrets: SecretStore
    # Something the user should read before going on (for example: the keyring is locked).
    notice: str | None = None
    # The setup client's setting, as given; None for the packaged default.
    setup_client_id: str | None = None
    # With --demo: the one demo tenant the sessions and the demo's browser share.
    demo_tenant: Callable[[], DemoTenant] | None = None

    @property
    def use_cases(self) -> UseCases:
        return UseCases(
            self.open_session,
            self.workspace_path,
            self.secrets,
            setup_client_id=self.setup_client_id,
            open_browser=None if self.demo_tenant is None else _demo_browser(self.demo_tenant),
        )


class LazyDemoTenant:
    """The demo tenant for a scenario, made the first time it is asked for (the wizard starts
    before any demo data is built), then the same one every time."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._lock = threading.Lock()
        self._tenant: DemoTenant | None = None

    def __call__(self) -> DemoTenant:
        with self._lock:
            if self._tenant is None:
                from clearooms_wizard.demo.tenant import DemoTenant

                self._tenant = DemoTenant(self._scenario)
            return self._tenant


def _demo_browser(tenant: Callable[[], DemoTenant]) -> OpenBrowser:
    """The browser --demo plays: it signs the scenario's administrator in at the demo tenant
    (loaded when a sign-in starts, not with the wizard)."""

    def open_browser(url: str) -> bool:
        from clearooms_wizard.demo.browser import DemoBrowser

        return DemoBrowser.for_tenant(tenant)(url)

    return open_browser


def open_session_factory(
    ca_bundle: str | None,
    demo_tenant: DemoTenant | None = None,
    *,
    demo_scenario: Scenario | None = None,
    lazy_demo: Callable[[], DemoTenant] | None = None,
) -> SessionOpener:
    """Sessions to Microsoft, or to ``demo_tenant`` (or the tenant ``lazy_demo`` makes, or one
    for ``demo_scenario``, made when the first session is opened: the wizard starts before any
    demo data is built)."""
    if lazy_demo is None and demo_scenario is not None:
        lazy_demo = LazyDemoTenant(demo_scenario)

    def demo() -> DemoTenant | None:
        return lazy_demo() if lazy_demo is not None else demo_tenant

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


def demo_workspace_path() -> Path:
    from clearooms_wizard.core.appinfo import default_workspace_path

    return default_workspace_path().with_name("demo-workspace.sqlite3")


def chosen_workspace(options: ConnectionOptions, env: Mapping[str, str]) -> Path:
    """The workspace to use: the one asked for, else CLEAROOMS_WORKSPACE's, else the usual
    one. The demo keeps its own unless one is asked for, so that rehearsing with the demo
    tenant never puts demo rooms into the real workspace."""
    if options.demo and options.workspace is None:
        return demo_workspace_path()
    return workspace_path(options.workspace, env)


def workspace_use_cases(
    options: ConnectionOptions, env: Mapping[str, str] | None = None
) -> UseCases:
    """The use cases for commands that only read or write the workspace (offices, export):
    no connection is looked up for them, so the keyring is never asked for a secret."""
    from clearooms_wizard.core.secrets import KeyringSecretStore, MemorySecretStore

    env = os.environ if env is None else env
    secrets = MemorySecretStore() if options.demo else KeyringSecretStore()
    return UseCases(open_session_factory(None), chosen_workspace(options, env), secrets)


def setup_client_setting(options: ConnectionOptions, env: Mapping[str, str]) -> str | None:
    """The public client for an administrator's sign-in as set: the option, else
    CLEAROOMS_SETUP_CLIENT_ID; None for the packaged default. Checked when a sign-in needs it."""
    return _first(options.setup_client_id, env.get("CLEAROOMS_SETUP_CLIENT_ID"))


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
    """What to connect with and where to keep things: from the options, then the environment,
    then the saved settings and the keyring. The demo tenant never touches the real keyring."""
    from clearooms_wizard.core.secrets import (
        KeyringSecretStore,
        MemorySecretStore,
        SecretStoreError,
    )
    from clearooms_wizard.demo.scenarios import get_scenario

    env = os.environ if env is None else env
    secrets = secrets or (MemorySecretStore() if options.demo else KeyringSecretStore())
    path = chosen_workspace(options, env)
    if options.demo:
        scenario = get_scenario(options.demo_scenario)
        connection = ConnectionInput(
            _first(options.tenant, scenario.tenant) or "",
            _first(options.client_id, scenario.client_id) or "",
            _first(options.client_secret, scenario.client_secret) or "",
            cloud=DEMO_CLOUD,
            # A secret given on purpose is tried instead of the scenario's certificate.
            certificate=None if options.client_secret else scenario.credential_certificate(),
        )
        demo_tenant = LazyDemoTenant(scenario)
        return Runtime(
            connection,
            open_session_factory(None, lazy_demo=demo_tenant),
            scenario,
            None,
            path,
            secrets,
            # The demo's sign-in page knows its own public client, whatever a vendor build
            # packages: a setting given on purpose is still used (and refused, as Entra would).
            setup_client_id=setup_client_setting(options, env) or DEMO_SETUP_CLIENT_ID,
            demo_tenant=demo_tenant,
        )

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
    secret = options.client_secret or env.get("CLEAROOMS_CLIENT_SECRET")
    notice: str | None = None
    certificate: CertificateCredential | None = None
    if not secret and tenant and client_id and _uses_certificate(saved, tenant, client_id):
        certificate, notice = _saved_certificate(secrets, saved, tenant, client_id)
    elif not secret and tenant and client_id:
        try:
            secret = _saved_secret(secrets, saved, tenant, client_id)
        except SecretStoreError as exc:
            secret, notice = None, str(exc)
    ca_bundle = _first(options.ca_bundle, env.get("CLEAROOMS_CA_BUNDLE"))
    return Runtime(
        ConnectionInput(
            tenant or "", client_id or "", secret or "", cloud=cloud, certificate=certificate
        ),
        open_session_factory(ca_bundle),
        None,
        saved,
        path,
        secrets,
        notice,
        setup_client_setting(options, env),
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


def _keyring_names(
    saved: SavedConnection | None, tenant: str, client_id: str
) -> tuple[str, str] | None:
    tenant_value = check_tenant(tenant).value
    client_value = check_client_id(client_id).value
    if tenant_value is None or client_value is None:
        return None
    # The keyring entry is keyed by the tenant GUID, which is known once a test has resolved it.
    if saved is not None and saved.tenant == tenant_value and saved.tenant_id:
        tenant_value = saved.tenant_id
    return tenant_value, client_value


def _saved_secret(
    secrets: SecretStore, saved: SavedConnection | None, tenant: str, client_id: str
) -> str | None:
    names = _keyring_names(saved, tenant, client_id)
    return None if names is None else secrets.load(*names)


def _uses_certificate(saved: SavedConnection | None, tenant: str, client_id: str) -> bool:
    """Whether the saved connection for these values signs in with a certificate."""
    if saved is None or saved.credential_kind != "certificate":
        return False
    return check_client_id(client_id).value == saved.client_id and check_tenant(tenant).value in (
        saved.tenant,
        saved.tenant_id,
    )


NO_SAVED_CERTIFICATE = (
    "The saved connection signs in with a certificate, but its private key is not in this "
    "computer's keyring. Create a new certificate (clearooms-wizard certificate create) and "
    "upload its .cer file to the app, or give a client secret with --secret-stdin."
)


def _saved_certificate(
    secrets: SecretStore, saved: SavedConnection | None, tenant: str, client_id: str
) -> tuple[CertificateCredential | None, str | None]:
    """The saved certificate credential, or None and why not."""
    from clearooms_wizard.core.certificates import CertificateError, credential_from_keyring_text
    from clearooms_wizard.core.secrets import SecretStoreError

    names = _keyring_names(saved, tenant, client_id)
    if names is None:
        return None, None
    try:
        text = secrets.load_certificate(*names)
        if text is None:
            return None, NO_SAVED_CERTIFICATE
        return credential_from_keyring_text(text), None
    except (SecretStoreError, CertificateError) as exc:
        return None, str(exc)
