"""The composition root: the one place that builds the real parts and wires them together."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from clearooms_wizard.core.checks import ConnectionInput, SessionOpener
from clearooms_wizard.core.clouds import Cloud, get_cloud
from clearooms_wizard.core.errors import CancelToken
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession, build_ssl_context
from clearooms_wizard.core.secrets import KeyringSecretStore, SecretStore
from clearooms_wizard.core.values import check_client_id, check_tenant
from clearooms_wizard.core.workspace import SavedConnection, Workspace, workspace_path
from clearooms_wizard.demo import DEMO_AUTHORITY_HOST, DEMO_GRAPH_ROOT, DemoTenant, mount_demo
from clearooms_wizard.demo.scenarios import Scenario, get_scenario

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


def open_session_factory(
    ca_bundle: str | None, demo_tenant: DemoTenant | None = None
) -> SessionOpener:
    if ca_bundle:
        build_ssl_context(ca_bundle)  # refuse a bad file now, before any work starts

    def open_session(cancel: CancelToken) -> requests.Session:
        session = MicrosoftSession(HttpOptions(ca_bundle=ca_bundle), cancel)
        if demo_tenant is not None:
            mount_demo(session, demo_tenant)
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
            open_session_factory(None, DemoTenant(scenario)),
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
    cloud = get_cloud(
        _first(options.cloud, env.get("CLEAROOMS_CLOUD"), saved.cloud if saved else None)
        or "global"
    )
    cloud = cloud.with_overrides(
        _first(
            options.authority_host,
            env.get("CLEAROOMS_AUTHORITY_HOST"),
            saved.authority_host if saved else None,
        ),
        _first(
            options.graph_url, env.get("CLEAROOMS_GRAPH_URL"), saved.graph_url if saved else None
        ),
    )
    secret, source = options.client_secret, "stdin" if options.client_secret else None
    if not secret and env.get("CLEAROOMS_CLIENT_SECRET"):
        secret, source = env["CLEAROOMS_CLIENT_SECRET"], "environment"
    if not secret and tenant and client_id:
        secret = _saved_secret(secrets or KeyringSecretStore(), saved, tenant, client_id)
        source = "keyring" if secret else None
    ca_bundle = _first(options.ca_bundle, env.get("CLEAROOMS_CA_BUNDLE"))
    return Runtime(
        ConnectionInput(tenant or "", client_id or "", secret or "", cloud=cloud),
        open_session_factory(ca_bundle),
        None,
        saved,
        source,
        path,
    )


def _load_saved(path: Path) -> SavedConnection | None:
    if not path.exists():
        return None
    with Workspace(path) as workspace:
        return workspace.load_connection()


def _saved_secret(
    secrets: SecretStore, saved: SavedConnection | None, tenant: str, client_id: str
) -> str | None:
    tenant_value = check_tenant(tenant).value
    client_value = check_client_id(client_id).value
    if tenant_value is None or client_value is None:
        return None
    # The keyring entry is keyed by the tenant GUID, which is known once a test has resolved it.
    if saved is not None and saved.tenant == tenant_value and saved.tenant_id:
        tenant_value = saved.tenant_id
    return secrets.load(tenant_value, client_value)
