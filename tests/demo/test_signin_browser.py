"""``--demo`` plays the browser itself: the administrator's sign-in finishes in-process, on the
same demo tenant the sessions use, and the wizard still starts without loading any of it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from clearooms_wizard.core.app_setup import SignInMethod
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.secrets import MemorySecretStore
from clearooms_wizard.demo import DemoTenant, data
from clearooms_wizard.demo.browser import DemoBrowser
from clearooms_wizard.runtime import DEMO_CLOUD, ConnectionOptions, build_runtime


@pytest.mark.parametrize(
    ("scenario", "who"),
    [("register-app-admin", "application-admin"), ("register-no-rights", "no-rights")],
)
def test_the_demo_signs_the_scenarios_administrator_in(scenario: str, who: str) -> None:
    runtime = build_runtime(
        ConnectionOptions(demo=True, demo_scenario=scenario), env={}, secrets=MemorySecretStore()
    )
    session = runtime.use_cases.sign_in_admin(DEMO_CLOUD, SignInMethod.BROWSER, CancelToken())
    assert session.admin.username == data.ADMINISTRATORS[who].username  # type: ignore[index]
    assert runtime.demo_tenant is not None
    # One tenant: the browser's sign-in page and the session's token request both reached it.
    paths = [r.path.split("?")[0] for r in runtime.demo_tenant().request_log()]
    assert "/organizations/oauth2/v2.0/authorize" in paths
    assert "/organizations/oauth2/v2.0/token" in paths


def test_the_demo_finishes_a_device_code_sign_in_by_itself() -> None:
    runtime = build_runtime(ConnectionOptions(demo=True), env={}, secrets=MemorySecretStore())
    assert runtime.demo_tenant is not None
    runtime.demo_tenant().sign_in.device_approval_delay = 0
    session = runtime.use_cases.sign_in_admin(DEMO_CLOUD, SignInMethod.DEVICE_CODE, CancelToken())
    assert session.admin.can_grant_permissions


def test_the_demo_browser_opens_nothing_but_the_demo_tenant() -> None:
    browser = DemoBrowser.for_tenant(DemoTenant("healthy"))
    assert browser("http://example.com/") is False
    with pytest.raises(requests.exceptions.InvalidURL):
        browser.visit("https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize")
    # The in-process sign-in page, with an address that is not loopback, is an error page.
    page = browser.visit(
        "https://login.demo.clearooms.invalid/organizations/oauth2/v2.0/authorize"
        f"?client_id={data.SETUP_CLIENT_ID}&redirect_uri=https://evil.example/&response_type=code"
    )
    assert page.delivered_to is None
    assert page.error_code == "AADSTS50011"


def test_the_wizard_starts_without_the_sign_in_code() -> None:
    probe = (
        "import json, sys\n"
        "from clearooms_wizard.core.secrets import MemorySecretStore\n"
        "from clearooms_wizard.runtime import ConnectionOptions, build_runtime\n"
        "runtime = build_runtime(ConnectionOptions(demo=True), env={}, "
        "secrets=MemorySecretStore())\n"
        "runtime.use_cases\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('msal', 'requests') or m.startswith(('clearooms_wizard.demo.browser', "
        "'clearooms_wizard.demo.signin', 'clearooms_wizard.core.admin_signin', "
        "'clearooms_wizard.core.loopback')))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(result.stdout) == []
