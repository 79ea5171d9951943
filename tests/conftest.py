"""Isolation for every test: no real keyring, no real settings folders, no network but loopback.

Tests that talk to Microsoft talk to the demo tenant over real HTTPS on 127.0.0.1, with a
trustme certificate authority handed to the product as its extra CA bundle (``--ca-bundle``).
"""

from __future__ import annotations

import io
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
import trustme

from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.values import ConnectionInput
from clearooms_wizard.demo import DemoServer, DemoTenant, get_scenario
from tests.support.memory_keyring import MemoryKeyring

# Before any QApplication exists: tests never need a screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail fast on any name lookup or connection that would leave this machine."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is None or _is_loopback(host if isinstance(host, str) else host.decode()):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"tests may not resolve {host!r}")

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise AssertionError(f"test tried to connect to {address!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "CLEAROOMS_TENANT_ID",
        "CLEAROOMS_CLIENT_ID",
        "CLEAROOMS_CLIENT_SECRET",
        "CLEAROOMS_CLOUD",
        "CLEAROOMS_AUTHORITY_HOST",
        "CLEAROOMS_GRAPH_URL",
        "CLEAROOMS_CA_BUNDLE",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / "xdg" / variable.lower()))
    monkeypatch.setenv("CLEAROOMS_WORKSPACE", str(tmp_path / "workspace.sqlite3"))
    previous = keyring.get_keyring()
    MemoryKeyring.store.clear()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


@dataclass(frozen=True)
class TLS:
    server_context: ssl.SSLContext
    ca_bundle: str


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLS:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    bundle = tmp_path_factory.mktemp("tls") / "test-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return TLS(context, str(bundle))


@dataclass
class Served:
    """A demo tenant on loopback HTTPS, and how the product should be pointed at it."""

    tenant: DemoTenant
    server: DemoServer
    ca_bundle: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def cloud(self) -> Cloud:
        return Cloud("custom", "Loopback demo", self.base_url, self.base_url, "https://portal.test")

    def connection(self, **overrides: str) -> ConnectionInput:
        scenario = self.tenant.scenario
        values = {
            "tenant": scenario.tenant,
            "client_id": scenario.client_id,
            "client_secret": scenario.client_secret,
        }
        values.update(overrides)
        return ConnectionInput(
            values["tenant"], values["client_id"], values["client_secret"], cloud=self.cloud
        )

    def cli_args(self) -> list[str]:
        return [
            "--authority-host",
            self.base_url,
            "--graph-url",
            self.base_url,
            "--ca-bundle",
            self.ca_bundle,
        ]

    def run_cli(self, *words: str) -> tuple[int, str, str]:
        """A command against this tenant, signed in as its app (the secret on standard input,
        as a user would give it): the exit code, stdout and stderr."""
        from clearooms_wizard.cli import main

        scenario = self.tenant.scenario
        out, err = io.StringIO(), io.StringIO()
        argv = [
            *words,
            "--tenant",
            scenario.tenant,
            "--client-id",
            scenario.client_id,
            "--secret-stdin",
            *self.cli_args(),
        ]
        code = main(argv, stdin=io.StringIO(scenario.client_secret + "\n"), stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()

    def paths(self) -> list[str]:
        return [record.path for record in self.tenant.request_log()]


ServeDemo = Callable[..., Served]


@pytest.fixture
def serve_demo(tls: TLS) -> Iterator[ServeDemo]:
    """Start a demo tenant over HTTPS: ``serve_demo("no-consent", latency=0.05)``."""
    servers: list[DemoServer] = []

    def start(scenario: str = "healthy", **tenant_options: Any) -> Served:
        tenant = DemoTenant(get_scenario(scenario), **tenant_options)
        server = DemoServer(tenant, tls.server_context)
        server.start()
        servers.append(server)
        return Served(tenant, server, tls.ca_bundle)

    yield start
    for server in servers:
        server.stop()
