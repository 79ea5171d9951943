"""Test Settings against the demo tenant over HTTPS, through the product's MSAL and requests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace as dataclass_replace
from datetime import UTC, datetime

import pytest
import requests

from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.checks import CHECK_IDS, CheckResult, SettingsTest, Status
from clearooms_wizard.core.clouds import CLOUDS, Cloud
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.values import ConnectionInput
from clearooms_wizard.demo import DEMO_GRAPH_ROOT, DemoTenant, Fault, InProcessAdapter
from tests.conftest import Served, ServeDemo


def opener(
    ca_bundle: str | None, read_timeout: float = 30.0
) -> Callable[[CancelToken], MicrosoftSession]:
    def open_session(cancel: CancelToken) -> MicrosoftSession:
        options = HttpOptions(ca_bundle=ca_bundle, read_timeout=read_timeout)
        return MicrosoftSession(options, cancel)

    return open_session


def run(
    served: Served, connection: ConnectionInput | None = None, read_timeout: float = 30.0
) -> SettingsTest:
    test = SettingsTest(connection or served.connection(), opener(served.ca_bundle, read_timeout))
    results = list(test.run())
    # Each check once; a result may arrive out of turn, but the run keeps them in order.
    assert sorted(r.id for r in results) == sorted(CHECK_IDS)
    assert [r.id for r in test.results] == list(CHECK_IDS)
    return test


def statuses(test: SettingsTest) -> dict[str, str]:
    return {r.id: r.status.value for r in test.results}


def result(test: SettingsTest, check_id: str) -> CheckResult:
    return next(r for r in test.results if r.id == check_id)


SIGN_IN_FAILS = {
    "format": "pass",
    "tenant": "pass",
    "token": "fail",
    **dict.fromkeys(CHECK_IDS[3:], "skip"),
}


# Today's usual setup: Calendars.ReadWrite for every mailbox, which mailbox_scope points out.
HEALTHY = {**dict.fromkeys(CHECK_IDS, "pass"), "mailbox_scope": "warn"}


def test_healthy_tenant_passes_every_check(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    test = run(served)
    assert statuses(test) == HEALTHY
    assert test.ok
    assert test.tenant_id == "6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93"
    assert "its tenant ID is 6f0c2b8e" in result(test, "tenant").detail
    assert result(test, "rooms").detail == "Found 24 rooms."
    assert test.secret_expires_at is not None
    assert all(r.fix is None for r in test.results if r.id != "mailbox_scope")
    # Every Graph call carried a client-request-id, and the product named itself.
    graph_calls = [r for r in served.tenant.request_log() if r.is_graph]
    assert graph_calls and all("client-request-id" in r.headers for r in graph_calls)
    assert all(r.headers.get("User-Agent", "").startswith("ClearoomsWizard/") for r in graph_calls)


@pytest.mark.parametrize(
    ("scenario", "code", "words"),
    [
        ("wrong-secret", "AADSTS7000215", "did not accept the client secret"),
        ("secret-id-pasted", "AADSTS7000215", "Secret ID, not the secret's Value"),
        ("expired-secret", "AADSTS7000222", "has expired"),
        ("app-not-found", "AADSTS700016", "could not find an app"),
        ("no-service-principal", "AADSTS7000229", "not been added to your organisation"),
        ("conditional-access", "AADSTS53003", "Conditional Access"),
    ],
)
def test_sign_in_failures_have_their_specific_fix(
    serve_demo: ServeDemo, scenario: str, code: str, words: str
) -> None:
    test = run(serve_demo(scenario))
    expected = dict(SIGN_IN_FAILS)
    if scenario == "secret-id-pasted":
        expected["format"] = "warn"
    assert statuses(test) == expected
    token = result(test, "token")
    assert token.code == code
    assert words in token.detail
    assert token.fix
    assert token.details.get("correlation_id") and token.details.get("timestamp")
    skipped = result(test, "rooms")
    assert skipped.detail == "Skipped because the app could not sign in."


def test_unknown_tenant_stops_after_the_tenant_check(serve_demo: ServeDemo) -> None:
    test = run(serve_demo("tenant-not-found"))
    assert statuses(test) == {
        "format": "pass",
        "tenant": "fail",
        **dict.fromkeys(CHECK_IDS[2:], "skip"),
    }
    tenant = result(test, "tenant")
    assert tenant.code == "AADSTS90002"
    assert tenant.fix and "Directory (tenant) ID" in tenant.fix


def test_no_consent_is_named_and_graph_calls_explained(serve_demo: ServeDemo) -> None:
    test = run(serve_demo("no-consent"))
    assert statuses(test) == {
        "format": "pass",
        "tenant": "pass",
        "token": "pass",
        "permissions": "fail",
        "rooms": "fail",
        "directory": "fail",
        "calendars": "skip",
        "mailbox_scope": "skip",
        "secret_expiry": "skip",
    }
    permissions = result(test, "permissions")
    assert permissions.code == "no_roles"
    assert "Admin consent has not been granted" in permissions.detail
    assert result(test, "directory").code == "Authorization_RequestDenied"
    assert "Directory.Read.All" in (result(test, "secret_expiry").detail)


def test_missing_permission_is_named(serve_demo: ServeDemo) -> None:
    test = run(serve_demo("missing-permission"))
    permissions = result(test, "permissions")
    assert permissions.status is Status.FAIL
    assert permissions.detail.startswith("Missing: Calendars.ReadWrite.")
    calendars = result(test, "calendars")
    assert calendars.status is Status.FAIL
    assert calendars.code == "ErrorAccessDenied"
    assert calendars.fix and "Calendars.ReadWrite" in calendars.fix
    assert result(test, "rooms").status is Status.PASS
    assert result(test, "directory").status is Status.PASS


def test_access_policy_is_recognised(serve_demo: ServeDemo) -> None:
    test = run(serve_demo("access-policy"))
    calendars = result(test, "calendars")
    assert calendars.status is Status.FAIL
    assert "access policy" in calendars.detail
    assert calendars.fix and "Test-ApplicationAccessPolicy" in calendars.fix
    assert calendars.details["message"] == "Access to OData is disabled."


def test_no_rooms_is_a_warning_with_the_reasons(serve_demo: ServeDemo) -> None:
    test = run(serve_demo("no-rooms"))
    rooms = result(test, "rooms")
    assert rooms.status is Status.WARN
    for reason in ("hidden from the address list", "48 hours", "on-premises", "Places"):
        assert reason in rooms.detail
    assert result(test, "calendars").detail == "Skipped because there is no room to test with."
    assert test.ok


def test_secret_expiring_soon_is_a_warning(serve_demo: ServeDemo) -> None:
    test = run(serve_demo("secret-expiring"))
    expiry = result(test, "secret_expiry")
    assert expiry.status is Status.WARN
    assert "in 9 days" in expiry.detail or "in 10 days" in expiry.detail
    assert expiry.fix and "New client secret" not in expiry.detail


def test_throttling_waits_as_microsoft_asks(serve_demo: ServeDemo) -> None:
    served = serve_demo("throttling")
    started = time.monotonic()
    test = run(served)
    elapsed = time.monotonic() - started
    assert statuses(test) == HEALTHY
    assert served.tenant.throttled_count >= 3
    assert elapsed >= 1.0  # Retry-After: 1 was honoured before retrying


def test_retry_after_longer_than_we_wait_is_reported_not_waited(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            r"^/v1\.0/users$",
            status=429,
            code="TooManyRequests",
            message="Slow down",
            retry_after=600,
            times=None,
        )
    )
    started = time.monotonic()
    test = run(served)
    assert time.monotonic() - started < 10
    directory = result(test, "directory")
    assert directory.status is Status.FAIL
    assert directory.code == "TooManyRequests"
    assert "wait 600 seconds" in directory.detail


def test_retry_after_as_an_http_date_is_honoured(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    from email.utils import format_datetime

    when = format_datetime(datetime.fromtimestamp(time.time() + 2, UTC), usegmt=True)
    served.tenant.inject(
        Fault(
            r"^/v1\.0/users$",
            "response",
            times=1,
            status=503,
            headers={"Retry-After": when, "Content-Type": "application/json"},
            body={"error": {"code": "ServiceUnavailable", "message": "busy"}},
        )
    )
    started = time.monotonic()
    test = run(served)
    assert result(test, "directory").status is Status.PASS
    assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (50196, "temporarily_unavailable"),
        (90055, "temporarily_unavailable"),
        (53003, "access_denied"),
    ],
)
def test_more_sign_in_codes_are_mapped(serve_demo: ServeDemo, code: int, error: str) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.aadsts(r"/oauth2/v2\.0/token", code=code, error=error, text="Injected.", times=None)
    )
    token = result(run(served), "token")
    assert token.status is Status.FAIL
    assert token.code == f"AADSTS{code}"
    assert token.fix and "Check the three values" not in token.fix  # a specific fix, not generic


def test_malformed_tenant_answer_is_mapped(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.aadsts(
            r"openid-configuration",
            code=900023,
            error="invalid_request",
            text="Specified tenant identifier 'x' is neither a valid DNS name.",
        )
    )
    tenant = result(run(served), "tenant")
    assert tenant.code == "AADSTS900023"
    assert tenant.fix and "not a web address" in tenant.fix


def test_expired_token_during_graph_calls_is_renewed(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            r"^/v1\.0/users$",
            status=401,
            code="InvalidAuthenticationToken",
            message="Lifetime validation failed, the token is expired.",
            times=1,
        )
    )
    test = run(served)
    assert result(test, "directory").status is Status.PASS


def test_token_rejected_twice_is_explained(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            r"^/v1\.0/users$",
            status=401,
            code="InvalidAuthenticationToken",
            message="Access token validation failure. Invalid audience.",
            times=None,
        )
    )
    directory = result(run(served), "directory")
    assert directory.code == "InvalidAuthenticationToken"
    assert directory.fix and "cloud" in directory.fix


def test_rejected_values_send_no_request(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    for bad in ("../../x", "contoso.com/evil?x=#", "%2e%2e", "authorize"):
        test = run(served, served.connection(tenant=bad))
        assert result(test, "format").status is Status.FAIL
        assert all(r.status is Status.SKIP for r in test.results[1:])
    assert served.tenant.request_log() == []


def test_untrusted_certificate_is_refused_with_the_proxy_advice(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    test = SettingsTest(served.connection(), opener(None))
    list(test.run())
    tenant = result(test, "tenant")
    assert tenant.code == "network:tls"
    assert tenant.fix and "proxy" in tenant.fix and "--ca-bundle" in tenant.fix
    assert served.tenant.request_log() == []


def test_requests_ca_bundle_does_not_replace_our_trust(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    served = serve_demo("healthy")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca.pem")
    assert run(served).ok


def test_proxy_login_page_is_recognised(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(Fault(r"openid-configuration", "html", times=None))
    tenant = result(run(served), "tenant")
    assert tenant.code == "unexpected_response"
    assert "proxy" in (tenant.fix or "")


@pytest.mark.parametrize("kind", ["truncated", "empty"])
def test_broken_json_is_a_clear_failure(serve_demo: ServeDemo, kind: str) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(Fault(r"^/v1\.0/users$", kind, times=None))  # type: ignore[arg-type]
    directory = result(run(served), "directory")
    assert directory.status is Status.FAIL
    assert directory.code == "unexpected_response"


def test_timeout_is_reported(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(Fault(r"^/v1\.0/users$", "delay", times=None, delay=3.0))
    started = time.monotonic()
    test = run(served, read_timeout=0.5)
    directory = result(test, "directory")
    assert directory.code == "network:timeout"
    assert "did not answer in time" in directory.detail
    assert time.monotonic() - started < 6  # one read retry at most, no hang


def test_dns_failure_and_refused_connection(serve_demo: ServeDemo, tls: object) -> None:
    served = serve_demo("healthy")
    dns = served.connection()
    from clearooms_wizard.core.clouds import Cloud

    nowhere = Cloud(
        "custom", "x", "https://login.nowhere.invalid", "https://graph.nowhere.invalid", ""
    )
    test = run(served, ConnectionInput(dns.tenant, dns.client_id, dns.client_secret, cloud=nowhere))
    assert result(test, "tenant").code == "network:dns"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    closed = Cloud("custom", "x", f"https://127.0.0.1:{closed_port}", served.base_url, "")
    test = run(served, ConnectionInput(dns.tenant, dns.client_id, dns.client_secret, cloud=closed))
    assert result(test, "tenant").code == "network:refused"


def test_cancel_stops_the_run_promptly(serve_demo: ServeDemo) -> None:
    served = serve_demo("slow-network", latency=0.4)
    cancel = CancelToken()
    test = SettingsTest(served.connection(), opener(served.ca_bundle), cancel)
    seen: list[str] = []
    threading.Timer(0.6, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        for item in test.run():
            seen.append(item.id)
    assert time.monotonic() - started < 2.0
    assert "secret_expiry" not in seen


def test_cancel_stops_a_request_waiting_for_its_answer(serve_demo: ServeDemo) -> None:
    """Microsoft takes 4 s to answer; the read timeout is 30 s. Cancel ends the wait at once,
    and the request is not tried again."""
    served = serve_demo("healthy")
    served.tenant.inject(Fault(r"openid-configuration", "delay", delay=4.0, times=None))
    cancel = CancelToken()
    test = SettingsTest(served.connection(), opener(served.ca_bundle), cancel)
    seen: list[str] = []
    # The tenant lookup is the first request: by then it waits for its answer.
    threading.Timer(1.0, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        for item in test.run():
            seen.append(item.id)
    assert time.monotonic() - started < 2.5
    assert seen == ["format"]


def test_results_are_reported_live(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy", latency=0.05)
    test = SettingsTest(served.connection(), opener(served.ca_bundle))
    arrivals: list[float] = []
    for _ in test.run():
        arrivals.append(time.monotonic())
    # The first result (local) arrives long before the last (after several round trips).
    assert arrivals[-1] - arrivals[0] > 0.15


def test_on_premises_room_mailbox_is_explained(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            r"/calendar",
            status=404,
            code="MailboxNotEnabledForRESTAPI",
            message="REST API is not yet supported for this mailbox.",
            times=None,
        )
    )
    calendars = result(run(served), "calendars")
    assert calendars.status is Status.WARN
    assert calendars.code == "MailboxNotEnabledForRESTAPI"
    assert calendars.fix and "Exchange Online" in calendars.fix


def test_a_custom_authority_host_needs_no_other_host(serve_demo: ServeDemo) -> None:
    served = serve_demo("healthy")
    # The loopback guard in conftest fails any lookup of login.microsoftonline.com; all
    # requests, MSAL's included, must have reached this one server.
    test = run(served)
    assert test.ok
    hosts = {record.base_url for record in served.tenant.request_log()}
    assert hosts == {served.base_url}


def _discovery_naming(served: Served, instance_name: str) -> Fault:
    """Discovery as the tenant's cloud would answer it, naming ``instance_name``."""
    session = requests.Session()
    session.trust_env = False
    tenant = served.tenant.scenario.tenant
    url = f"{served.base_url}/{tenant}/v2.0/.well-known/openid-configuration"
    config = session.get(url, verify=served.ca_bundle).json()
    session.close()
    config["cloud_instance_name"] = instance_name
    return Fault(
        r"openid-configuration",
        status=200,
        headers={"Content-Type": "application/json"},
        body=config,
        times=None,
    )


def test_a_custom_authority_host_is_trusted_to_serve_the_chosen_cloud(
    serve_demo: ServeDemo,
) -> None:
    served = serve_demo("healthy")
    # As the command line builds it for --authority-host and --graph-url: the worldwide cloud,
    # on another host. Entra answers "microsoftonline.com" there, not the host's domain.
    cloud = CLOUDS["global"].with_overrides(served.base_url, served.base_url)
    test = run(served, _with_cloud(served, cloud))
    assert statuses(test) == HEALTHY


def _with_cloud(served: Served, cloud: Cloud) -> ConnectionInput:
    return dataclass_replace(served.connection(), cloud=cloud)


def test_every_worldwide_sign_in_host_is_the_worldwide_cloud() -> None:
    """login.microsoft.com answers discovery with "microsoftonline.com", as every worldwide
    host does (served here by the demo inside the session, under that host name)."""
    tenant = DemoTenant("healthy")
    cloud = CLOUDS["global"].with_overrides("https://login.microsoft.com", DEMO_GRAPH_ROOT)

    def open_session(cancel: CancelToken) -> MicrosoftSession:
        session = MicrosoftSession(HttpOptions(), cancel)
        adapter = InProcessAdapter(tenant)
        session.mount("https://login.microsoft.com/", adapter)
        session.mount(f"{DEMO_GRAPH_ROOT}/", adapter)
        return session

    scenario = tenant.scenario
    connection = ConnectionInput(
        scenario.tenant, scenario.client_id, scenario.client_secret, cloud=cloud
    )
    test = SettingsTest(connection, open_session)
    results = {r.id: r for r in test.run()}
    assert results["tenant"].status is Status.PASS, results["tenant"]
    assert test.ok
    assert {r.base_url for r in tenant.request_log()} == {
        "https://login.microsoft.com",
        DEMO_GRAPH_ROOT,
    }


@pytest.mark.parametrize(
    ("cloud_key", "answer", "named"),
    [
        ("global", "microsoftonline.us", "US Government"),
        ("global", "partner.microsoftonline.cn", "China"),
        ("usgov", "microsoftonline.com", "worldwide"),
        ("usgov-dod", "microsoftonline.com", "worldwide"),
        ("china", "microsoftonline.us", "US Government"),
    ],
)
def test_a_tenant_in_another_cloud_is_still_named(
    serve_demo: ServeDemo, cloud_key: str, answer: str, named: str
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(_discovery_naming(served, answer))
    cloud = CLOUDS[cloud_key].with_overrides(served.base_url, served.base_url)
    test = run(served, _with_cloud(served, cloud))
    tenant = result(test, "tenant")
    assert (tenant.status, tenant.code) == (Status.FAIL, "wrong_cloud")
    assert named in tenant.detail
    assert tenant.fix and "--cloud" in tenant.fix
    assert statuses(test)["token"] == "skip"


@pytest.mark.parametrize(
    ("cloud_key", "answer"),
    [
        ("usgov", "microsoftonline.us"),
        ("usgov-dod", "microsoftonline.us"),
        ("china", "partner.microsoftonline.cn"),
        ("china", "chinacloudapi.cn"),
        # Not a cloud we know (a test rig's own name): nothing to say about it.
        ("global", "rig.example.test"),
    ],
)
def test_the_chosen_cloud_answering_its_own_name_passes(
    serve_demo: ServeDemo, cloud_key: str, answer: str
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(_discovery_naming(served, answer))
    cloud = CLOUDS[cloud_key].with_overrides(served.base_url, served.base_url)
    tenant = result(run(served, _with_cloud(served, cloud)), "tenant")
    assert tenant.status is Status.PASS, tenant
