"""Fixtures for the reliability and security suites, and the report they print.

Every suite here records what it tried in ``tests.support.reliability.REPORT``; the hook below
prints it at the end of the run, so the tables and counts show in CI logs even when every test
passes (and without ``-s``).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme

from clearooms_wizard.demo import DemoServer, data
from clearooms_wizard.demo import tenant as tenant_module
from clearooms_wizard.demo.scenarios import Scenario, get_scenario
from tests.conftest import TLS, Served
from tests.support.canary import CANARY_SECRET
from tests.support.reliability import REPORT, HookedTenant

# The real wizard, built as the GUI tests build it. (Their guard against network calls on the GUI
# thread is imported by the modules that drive the wizard: the other suites call the core from
# the main thread on purpose.)
from tests.ui.conftest import make_wizard, opened_urls, preferences_path  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Marked slow as a suite, so `-m "not slow"` leaves it out; .ci/run still runs it. pytest
    # hands every conftest the whole session's items, hence the folder test.
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = REPORT.render()
    if not lines:
        return
    terminalreporter.write_sep("=", "reliability and security suites: what was tried")
    for line in lines:
        terminalreporter.write_line(line)


class ServeHooked:
    """Start HookedTenants over HTTPS on loopback; every server stops at the end of the test."""

    def __init__(self, tls: TLS) -> None:
        self._tls = tls
        self.servers: list[DemoServer] = []

    def __call__(self, scenario: str = "healthy", **options: Any) -> Served:
        tenant = HookedTenant(get_scenario(scenario), **options)
        return self.serve(tenant)

    def serve(
        self, tenant: HookedTenant, context: ssl.SSLContext | None = None, port: int = 0
    ) -> Served:
        """Serve ``tenant`` (again, possibly with another certificate or on a given port)."""
        server = DemoServer(tenant, context or self._tls.server_context, port=port)
        server.start()
        self.servers.append(server)
        return Served(tenant, server, self._tls.ca_bundle)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def serve_hooked(tls: TLS) -> Iterator[ServeHooked]:
    serving = ServeHooked(tls)
    yield serving
    serving.stop()


@pytest.fixture(scope="session")
def rogue_tls() -> ssl.SSLContext:
    """A server certificate for 127.0.0.1 from a certificate authority nobody trusts."""
    rogue = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    rogue.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


# The demo app's own secret, before the canary takes its place.
NOT_THE_CANARY = data.APP_SECRET


@dataclass
class CanaryDemo:
    serve: ServeHooked
    monkeypatch: pytest.MonkeyPatch
    # The tenants the product built itself (--demo), with the tokens they issued.
    built: list[HookedTenant] = field(default_factory=list)

    def refusing(self) -> Served:
        """A healthy tenant whose app does not take the canary (as Microsoft refuses a wrong
        secret)."""
        self.monkeypatch.setattr(data, "APP_SECRET", NOT_THE_CANARY)
        try:
            return self.serve("healthy")
        finally:
            self.monkeypatch.setattr(data, "APP_SECRET", CANARY_SECRET)

    def tokens(self, *served: Served) -> list[str]:
        tenants = [s.tenant for s in served] + list(self.built)
        return [
            t
            for tenant in tenants
            if isinstance(tenant, HookedTenant)
            for t in tenant.issued_tokens
        ]


@pytest.fixture
def canary_demo(serve_hooked: ServeHooked, monkeypatch: pytest.MonkeyPatch) -> CanaryDemo:
    """From here on, demo tenants (served, or built in by --demo) accept only the canary secret
    and remember the tokens they issue."""
    monkeypatch.setattr(data, "APP_SECRET", CANARY_SECRET)
    demo = CanaryDemo(serve_hooked, monkeypatch)

    def demo_tenant(scenario: Scenario | str = "healthy", **options: Any) -> HookedTenant:
        tenant = HookedTenant(scenario, **options)
        demo.built.append(tenant)
        return tenant

    # The app builds its demo tenant from demo.tenant when the first session is opened.
    monkeypatch.setattr(tenant_module, "DemoTenant", demo_tenant)
    return demo
