"""What the benchmark rows share: the 10,000-room demo tenant over HTTPS, and small helpers.

The tenant is served exactly as the tests serve theirs (``tests/conftest.py``): a ``DemoServer``
on 127.0.0.1 with a trustme certificate authority whose PEM file is the product's extra CA
bundle, so every request goes through the product's real TLS, requests and MSAL code.
"""

from __future__ import annotations

import os
import ssl
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import trustme

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.tokens import AccessToken, decode_claims
from clearooms_wizard.core.values import ConnectionInput
from clearooms_wizard.demo import DemoServer, DemoTenant, Scenario, get_scenario
from clearooms_wizard.demo.data import HUGE_ROOM_COUNT

LATENCY = 0.030


def huge_scenario() -> Scenario:
    """The healthy tenant, with 10,000 rooms in 100 room lists."""
    return replace(
        get_scenario("healthy"),
        name="huge",
        title="10,000 rooms",
        description=f"A healthy organisation with {HUGE_ROOM_COUNT:,} rooms in 100 room lists.",
        rooms="huge",
    )


@dataclass(frozen=True)
class TLS:
    server_context: ssl.SSLContext
    ca_bundle: str


def make_tls(directory: Path) -> TLS:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    bundle = directory / "benchmark-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return TLS(context, str(bundle))


@dataclass
class Served:
    tenant: DemoTenant
    server: DemoServer
    ca_bundle: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def cloud(self) -> Cloud:
        return Cloud("custom", "Loopback demo", self.base_url, self.base_url, "https://portal.test")

    def connection(self) -> ConnectionInput:
        scenario = self.tenant.scenario
        return ConnectionInput(
            scenario.tenant, scenario.client_id, scenario.client_secret, cloud=self.cloud
        )

    def session(self, cancel: CancelToken | None = None) -> MicrosoftSession:
        return MicrosoftSession(HttpOptions(ca_bundle=self.ca_bundle), cancel or CancelToken())

    def tokens(self) -> StaticTokens:
        return StaticTokens(self.tenant.mint_token(self.base_url))


@contextmanager
def serve(tenant: DemoTenant, tls: TLS) -> Iterator[Served]:
    with DemoServer(tenant, tls.server_context) as server:
        yield Served(tenant, server, tls.ca_bundle)


class StaticTokens:
    """A token minted by the tenant itself: the listing rows measure Graph calls, not sign-in."""

    def __init__(self, token: str) -> None:
        self.token = AccessToken(token, time.time() + 3600, decode_claims(token))

    def acquire(self) -> AccessToken:
        return self.token

    def forget(self, token: AccessToken) -> None:
        return None


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def resident_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB, from /proc/self/status (0 where there is none)."""
    found = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in found:
                    found[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found["VmRSS"], found["VmHWM"]


def isolated_environment(home: Path) -> dict[str, str]:
    """The environment for a child process: offscreen, and every data folder under ``home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CLEAROOMS_") and key not in {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
    }
    env["QT_QPA_PLATFORM"] = "offscreen"
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        folder = home / variable.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[variable] = str(folder)
    env["HOME"] = str(home)
    # Nothing a run does may reach the real keyring.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    # Compiled bytecode is cached (outside the source tree), as an installed copy has it:
    # pip compiles a wheel on install. With PYTHONDONTWRITEBYTECODE, as some shells set, every
    # start would compile the wizard's own modules from source again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    return env
