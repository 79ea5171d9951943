"""A faithful stand-in for the Microsoft identity platform and the Graph calls the product makes.

`DemoTenant` holds one scenario's organisation; `mount_demo` serves it inside a requests
session for `--demo`, and `DemoServer` serves it over HTTPS on loopback for tests.

In-process use, with the credentials the scenario says the user would have typed::

    tenant = DemoTenant("no-consent")
    session = requests.Session()
    mount_demo(session, tenant)
    app = msal.ConfidentialClientApplication(
        tenant.scenario.client_id,
        client_credential=tenant.scenario.client_secret,
        authority=f"{DEMO_AUTHORITY_HOST}/{tenant.scenario.tenant}",
        instance_discovery=False,  # else MSAL asks login.microsoftonline.com about the host
        http_client=session,
    )
    app.acquire_token_for_client([f"{DEMO_GRAPH_ROOT}/.default"])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clearooms_wizard.demo.messages import DemoResponse
    from clearooms_wizard.demo.scenarios import (
        SCENARIO_NAMES,
        SCENARIOS,
        Scenario,
        get_scenario,
    )
    from clearooms_wizard.demo.server import DemoServer
    from clearooms_wizard.demo.tenant import DemoTenant, Fault, FaultKind, RequestRecord
    from clearooms_wizard.demo.tokens import decode_claims
    from clearooms_wizard.demo.transport import InProcessAdapter, mount_demo
    from clearooms_wizard.demo.urls import DEMO_AUTHORITY_HOST, DEMO_GRAPH_ROOT

# Each name is loaded from its module on first use, so that importing one small part of the
# demo (its addresses, say) does not build the whole tenant, and `--demo` does not load
# http.server, ssl or requests before its first page is on screen.
_HOMES = {
    "DEMO_AUTHORITY_HOST": "urls",
    "DEMO_GRAPH_ROOT": "urls",
    "SCENARIOS": "scenarios",
    "SCENARIO_NAMES": "scenarios",
    "DemoResponse": "messages",
    "DemoServer": "server",
    "DemoTenant": "tenant",
    "Fault": "tenant",
    "FaultKind": "tenant",
    "InProcessAdapter": "transport",
    "RequestRecord": "tenant",
    "Scenario": "scenarios",
    "decode_claims": "tokens",
    "get_scenario": "scenarios",
    "mount_demo": "transport",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "DEMO_AUTHORITY_HOST",
    "DEMO_GRAPH_ROOT",
    "SCENARIOS",
    "SCENARIO_NAMES",
    "DemoResponse",
    "DemoServer",
    "DemoTenant",
    "Fault",
    "FaultKind",
    "InProcessAdapter",
    "RequestRecord",
    "Scenario",
    "decode_claims",
    "get_scenario",
    "mount_demo",
]
