"""The administrator's sign-in for “Set it up for me”, end to end over loopback HTTPS: the real
MSAL public client, our loopback listener, and a scripted browser that opens the demo tenant's
sign-in page and delivers its answer, as a person's browser would."""

from __future__ import annotations

import logging
import socket
import threading
import time
import webbrowser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from clearooms_wizard.core import admin_signin
from clearooms_wizard.core.admin_signin import (
    AdminSession,
    AdminSignInError,
    AdminSignInExpired,
    AdminSignInProblem,
)
from clearooms_wizard.core.app_setup import (
    GLOBAL_ADMINISTRATOR,
    DeviceCodePrompt,
    SetupClient,
    SignedInAdmin,
    SignInMethod,
)
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.errors import UnexpectedResponse
from clearooms_wizard.core.secrets import MemorySecretStore
from clearooms_wizard.core.usecases import OpenBrowser, UseCases
from clearooms_wizard.demo import Fault, data
from clearooms_wizard.runtime import open_session_factory
from tests.conftest import Served, ServeDemo
from tests.support.browser_command import write_browser_script
from tests.support.scripted_browser import ScriptedBrowser, registered


def use_cases(
    served: Served,
    tmp_path: Path,
    open_browser: OpenBrowser | None,
    setup_client_id: str | None = None,
) -> UseCases:
    return UseCases(
        open_session_factory(served.ca_bundle),
        tmp_path / "workspace.sqlite3",
        MemorySecretStore(),
        setup_client_id=setup_client_id,
        open_browser=open_browser,
    )


def browser_for(served: Served, **options: object) -> ScriptedBrowser:
    return ScriptedBrowser(served.ca_bundle, **options)  # type: ignore[arg-type]


def sign_in(
    served: Served, tmp_path: Path, browser: OpenBrowser | None, **options: object
) -> AdminSession:
    cases = use_cases(served, tmp_path, browser)
    return cases.sign_in_admin(served.cloud, SignInMethod.BROWSER, CancelToken(), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scenario", "username", "roles", "can_grant"),
    [
        ("healthy", "alex.wilber", ("Global Administrator",), True),
        ("register-app-admin", "diego.siciliani", ("Application Administrator",), False),
        ("register-no-rights", "adele.vance", (), False),
    ],
)
def test_the_browser_sign_in_says_who_signed_in_and_what_they_may_do(
    serve_demo: ServeDemo,
    tmp_path: Path,
    scenario: str,
    username: str,
    roles: tuple[str, ...],
    can_grant: bool,
) -> None:
    served = serve_demo(scenario)
    browser = browser_for(served)
    session = sign_in(served, tmp_path, browser)

    admin = session.admin
    assert admin.username == f"{username}@{data.PRIMARY_DOMAIN}"
    assert admin.tenant_id == data.TENANT_ID
    assert admin.tenant_name == data.TENANT_DISPLAY_NAME
    assert admin.role_names == roles
    assert admin.can_grant_permissions is can_grant
    # The token is the administrator's, for this Graph root, with the two permissions asked for.
    claims = _claims(session.bearer())
    assert claims["aud"] == served.base_url
    assert claims["scp"].split() == sorted(
        ["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"]
    )
    assert claims["appid"] == data.SETUP_CLIENT_ID
    # Microsoft's page was asked for PKCE (S256), a form_post answer and an account choice.
    query = parse_qs(urlsplit(browser.opened[0]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_mode"] == ["form_post"]
    assert query["prompt"] == ["select_account"]
    assert query["redirect_uri"][0].startswith("http://localhost:")
    assert [v.delivered_status for v in browser.visits] == [200]
    paths = [p.split("?")[0] for p in served.paths()]
    assert "/organizations/oauth2/v2.0/authorize" in paths
    assert "/organizations/oauth2/v2.0/token" in paths


def _claims(token: str) -> dict[str, str]:
    from clearooms_wizard.core.tokens import decode_claims

    return decode_claims(token)


def test_a_tenant_given_signs_in_there(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo()
    session = sign_in(served, tmp_path, browser_for(served), tenant=data.PRIMARY_DOMAIN)
    assert session.admin.tenant_id == data.TENANT_ID
    paths = {p.split("?")[0] for p in served.paths()}
    # The domain is looked up; the sign-in then goes to the organisation's own address.
    assert f"/{data.PRIMARY_DOMAIN}/v2.0/.well-known/openid-configuration" in paths
    assert f"/{data.TENANT_ID}/oauth2/v2.0/authorize" in paths


def test_the_administrator_the_browser_signs_in_as_is_the_one_returned(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()
    diego = data.ADMINISTRATORS["application-admin"].username
    session = sign_in(served, tmp_path, browser_for(served, sign_in_as=diego))
    assert session.admin.username == diego
    assert session.admin.display_name == "Diego Siciliani"


def test_cancelling_in_the_browser_is_a_plain_message(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-cancelled")
    with pytest.raises(AdminSignInError) as caught:
        sign_in(served, tmp_path, browser_for(served))
    assert caught.value.problem is AdminSignInProblem.CANCELLED
    assert caught.value.aadsts == 65004
    assert str(caught.value).startswith("The sign-in was cancelled in the browser")
    # No token was asked for.
    assert not any("/token" in p for p in served.paths())


def test_the_organisation_name_comes_from_graph(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo()
    organisation = {
        "value": [{"id": data.TENANT_ID, "displayName": "Northwind\x1b[2J Traders\n(demo)"}]
    }
    served.tenant.inject(Fault(r"^/v1\.0/organization", status=200, body=organisation))
    session = sign_in(served, tmp_path, browser_for(served))
    # Made safe to show: no terminal escape, on one line.
    assert session.admin.tenant_name == "Northwind[2J Traders (demo)"


def test_an_organisation_name_graph_refuses_is_none(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo()
    served.tenant.inject(
        Fault.graph(
            r"^/v1\.0/organization",
            status=403,
            code="Authorization_RequestDenied",
            message="Insufficient privileges to complete the operation.",
        )
    )
    session = sign_in(served, tmp_path, browser_for(served))
    assert session.admin.tenant_name is None
    assert session.admin.username.startswith("alex.wilber@")


def test_no_browser_suggests_a_code_instead(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo()
    with pytest.raises(AdminSignInError) as caught:
        sign_in(served, tmp_path, lambda url: False)
    assert caught.value.problem is AdminSignInProblem.NO_BROWSER
    assert "code instead" in str(caught.value)


def test_a_browser_launcher_that_raises_counts_as_no_browser(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()

    def broken(url: str) -> bool:
        raise OSError("no display")

    with pytest.raises(AdminSignInError) as caught:
        sign_in(served, tmp_path, broken)
    assert caught.value.problem is AdminSignInProblem.NO_BROWSER


def test_nobody_answering_in_time_is_a_plain_message(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo()
    browser = browser_for(served, finish=False)
    started = time.monotonic()
    with pytest.raises(AdminSignInError) as caught:
        admin_signin.sign_in_admin(
            open_session_factory(served.ca_bundle),
            SetupClient(data.SETUP_CLIENT_ID),
            served.cloud,
            SignInMethod.BROWSER,
            CancelToken(),
            open_browser=browser,
            browser_timeout=0.5,
        )
    assert caught.value.problem is AdminSignInProblem.NO_ANSWER
    assert str(caught.value).startswith("Nobody finished signing in within")
    assert time.monotonic() - started < 5


def test_an_unknown_sign_in_app_is_shown_in_the_browser(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()
    browser = browser_for(served)
    with pytest.raises(AdminSignInError) as caught:
        admin_signin.sign_in_admin(
            open_session_factory(served.ca_bundle),
            SetupClient(data.UNKNOWN_CLIENT_ID),
            served.cloud,
            SignInMethod.BROWSER,
            CancelToken(),
            open_browser=browser,
            browser_timeout=2,
        )
    # Entra shows its error on the page and sends nothing back, as here.
    assert caught.value.problem is AdminSignInProblem.NO_ANSWER
    assert [v.error_code for v in browser.wait_for_visits()] == ["AADSTS700016"]


def test_stop_ends_a_browser_sign_in_at_once_and_closes_the_listener(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()
    browser = browser_for(served, finish=False)
    cancel = CancelToken()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            sign_in_with(served, tmp_path, browser, cancel)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while not browser.opened and time.monotonic() < deadline:
        time.sleep(0.01)
    assert browser.opened, "the browser was never opened"
    port = urlsplit(parse_qs(urlsplit(browser.opened[0]).query)["redirect_uri"][0]).port
    cancel.cancel()
    stopped = time.monotonic()
    worker.join(5)
    assert not worker.is_alive()
    assert time.monotonic() - stopped < 1.0
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port or 0), timeout=1).close()


def sign_in_with(
    served: Served, tmp_path: Path, browser: OpenBrowser, cancel: CancelToken
) -> AdminSession:
    cases = use_cases(served, tmp_path, browser)
    return cases.sign_in_admin(served.cloud, SignInMethod.BROWSER, cancel)


# -- with a code --------------------------------------------------------------------------------


def test_a_device_code_typed_in_a_browser_signs_in(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("register-app-admin")
    served.tenant.sign_in.device_approval_delay = 3600
    browser = browser_for(served)
    prompts: list[DeviceCodePrompt] = []

    def show(prompt: DeviceCodePrompt) -> None:
        prompts.append(prompt)
        assert "You have signed in" in browser.enter_code(prompt).text

    cases = use_cases(served, tmp_path, None)
    session = cases.sign_in_admin(
        served.cloud, SignInMethod.DEVICE_CODE, CancelToken(), on_device_code=show
    )
    assert session.admin.role_names == ("Application Administrator",)
    (prompt,) = prompts
    assert prompt.verification_uri.startswith(served.base_url)
    assert len(prompt.user_code) == 9
    assert prompt.expires_at > time.time() + 800


def test_the_demo_approves_a_device_code_by_itself(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo()
    served.tenant.sign_in.device_approval_delay = 0
    cases = use_cases(served, tmp_path, None)
    session = cases.sign_in_admin(served.cloud, SignInMethod.DEVICE_CODE, CancelToken())
    assert session.admin.role_ids[0] == GLOBAL_ADMINISTRATOR


def test_a_declined_device_code_is_a_plain_message(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("register-cancelled")
    served.tenant.sign_in.device_approval_delay = 0
    cases = use_cases(served, tmp_path, None)
    with pytest.raises(AdminSignInError) as caught:
        cases.sign_in_admin(served.cloud, SignInMethod.DEVICE_CODE, CancelToken())
    assert caught.value.problem is AdminSignInProblem.CANCELLED
    assert "declined" in str(caught.value)


def test_an_expired_device_code_is_a_plain_message(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo()
    served.tenant.sign_in.device_approval_delay = 3600
    served.tenant.sign_in.device_code_lifetime = 1
    cases = use_cases(served, tmp_path, None)
    with pytest.raises(AdminSignInError) as caught:
        cases.sign_in_admin(served.cloud, SignInMethod.DEVICE_CODE, CancelToken())
    assert caught.value.problem is AdminSignInProblem.CODE_EXPIRED
    assert str(caught.value).startswith("The sign-in code expired")


def test_an_unknown_sign_in_app_is_refused_with_what_to_check(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()
    cases = use_cases(served, tmp_path, None, data.UNKNOWN_CLIENT_ID)
    with pytest.raises(AdminSignInError) as caught:
        cases.sign_in_admin(served.cloud, SignInMethod.DEVICE_CODE, CancelToken())
    assert caught.value.problem is AdminSignInProblem.REFUSED
    assert caught.value.code == "AADSTS700016"
    assert data.UNKNOWN_CLIENT_ID in str(caught.value)
    assert "--setup-client-id" in str(caught.value)


def test_stop_ends_a_device_code_sign_in_promptly(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo()
    served.tenant.sign_in.device_approval_delay = 3600
    cancel = CancelToken()
    shown = threading.Event()
    outcome: list[BaseException] = []
    cases = use_cases(served, tmp_path, None)

    def run() -> None:
        try:
            cases.sign_in_admin(
                served.cloud,
                SignInMethod.DEVICE_CODE,
                cancel,
                on_device_code=lambda prompt: shown.set(),
            )
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert shown.wait(10)
    # Let the first poll be answered "pending" and MSAL settle into its wait.
    deadline = time.monotonic() + 10
    while not any("/token" in p for p in served.paths()) and time.monotonic() < deadline:
        time.sleep(0.01)
    cancel.cancel()
    stopped = time.monotonic()
    worker.join(5)
    assert not worker.is_alive()
    assert time.monotonic() - stopped < 2.0
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)


# -- the token stays secret ---------------------------------------------------------------------


def test_no_token_or_code_reaches_the_log_or_the_session_repr(
    serve_demo: ServeDemo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    served = serve_demo()
    session = sign_in(served, tmp_path, browser_for(served))
    token = session.bearer()
    assert token not in caplog.text
    # The code, ID token and refresh token: none of the demo's tokens or codes appear.
    assert "1.AQ" not in caplog.text
    assert "eyJ" not in caplog.text
    assert token not in repr(session)
    assert token not in str(session)
    assert "administrator signed in (browser)" in caplog.text


def test_an_expired_sign_in_says_to_sign_in_again() -> None:
    admin = SignedInAdmin("a@example.com", None, data.TENANT_ID, None, ())
    from clearooms_wizard.core.clouds import get_cloud

    session = AdminSession(admin, get_cloud("global"), "token-value", time.time() + 30)
    with pytest.raises(AdminSignInExpired) as caught:
        session.bearer()
    assert "token-value" not in str(caught.value)
    assert str(caught.value).startswith("The administrator's sign-in has expired")
    fresh = AdminSession(admin, get_cloud("global"), "token-value", time.time() + 3600)
    assert fresh.bearer() == "token-value"


# -- Python's webbrowser: what the product uses when given no browser ----------------------------


def test_the_browser_registered_with_webbrowser_is_used(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()
    with registered(browser_for(served)) as browser:
        session = sign_in(served, tmp_path, None)
    assert session.admin.username.startswith("alex.wilber@")
    assert len(browser.opened) == 1


def test_the_browser_variable_is_honoured(
    serve_demo: ServeDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("register-app-admin")
    record = tmp_path / "visits.jsonl"
    script = write_browser_script(tmp_path, served.ca_bundle, record=record)
    monkeypatch.setenv("BROWSER", str(script))
    # webbrowser reads BROWSER once, on first use: start it afresh.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    session = sign_in(served, tmp_path, None)
    assert session.admin.username.startswith("diego.siciliani@")
    assert '"delivered_status": 200' in record.read_text()


# -- Microsoft's sign-in misbehaving ------------------------------------------------------------


def test_an_organisation_microsoft_does_not_know_is_named(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()
    browser = browser_for(served)
    with pytest.raises(AdminSignInError) as caught:
        sign_in(served, tmp_path, browser, tenant="nowhere.example")
    assert caught.value.code == "AADSTS90002"
    assert "nowhere.example" in str(caught.value)
    assert browser.opened == []


def test_a_server_error_at_the_token_endpoint_is_a_plain_refusal(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()
    served.tenant.inject(
        Fault.aadsts(
            r"/oauth2/v2\.0/token$",
            status=500,
            error="server_error",
            code=90033,
            text="A transient error has occurred. Please try again.",
        )
    )
    with pytest.raises(AdminSignInError) as caught:
        sign_in(served, tmp_path, browser_for(served))
    assert caught.value.problem is AdminSignInProblem.REFUSED
    assert caught.value.code == "AADSTS90033"
    assert str(caught.value) == (
        "Microsoft refused the sign-in: AADSTS90033: A transient error has occurred. Please try "
        "again."
    )
    assert caught.value.details.correlation_id


def test_a_proxy_page_instead_of_the_token_is_a_plain_error(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo()
    served.tenant.inject(Fault(r"/oauth2/v2\.0/token$", "html", times=1))
    with pytest.raises(UnexpectedResponse) as caught:
        sign_in(served, tmp_path, browser_for(served))
    assert str(caught.value).endswith("a proxy may be in the way.")
