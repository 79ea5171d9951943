"""Malformed answers from the sign-in service, over real HTTPS on loopback: each is a plain
"something answered instead of Microsoft" failure saying what was wrong, never a traceback, and
the command line exits 1."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.checks import CHECK_IDS, CheckResult, SettingsTest, Status
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from tests.conftest import Served
from tests.reliability.conftest import ServeHooked
from tests.support.fuzz import MALFORMED_IDENTITY_ANSWERS, IdentityAnswer
from tests.support.reliability import ENDPOINTS, HookedTenant

FAST = HttpOptions(connect_timeout=2.0, read_timeout=5.0, retries=0)
CHECK_OF = {"discovery": "tenant", "token": "token"}


def passed_as_healthy(result: CheckResult) -> bool:
    """Passed, or the healthy demo tenant's one warning: the app reaches every mailbox's
    calendar, as Clearooms' guide sets it up."""
    return result.status is Status.PASS or (result.id, result.code) == (
        "mailbox_scope",
        "tenant_wide",
    )


def answer_with(served: Served, answer: IdentityAnswer) -> HookedTenant:
    """Every successful answer of ``answer.endpoint`` replaced by the malformed one."""
    tenant = served.tenant
    assert isinstance(tenant, HookedTenant)
    tenant.rewrite(ENDPOINTS[answer.endpoint], answer.rewrite)
    return tenant


def run_check(served: Served) -> dict[str, CheckResult]:
    def open_session(cancel: CancelToken) -> MicrosoftSession:
        return MicrosoftSession(replace(FAST, ca_bundle=served.ca_bundle), cancel)

    test = SettingsTest(served.connection(), open_session)
    results = {result.id: result for result in test.run()}
    assert list(results) == list(CHECK_IDS)
    return results


@pytest.mark.parametrize("answer", MALFORMED_IDENTITY_ANSWERS, ids=repr)
def test_test_settings_names_a_malformed_answer(
    serve_hooked: ServeHooked, answer: IdentityAnswer
) -> None:
    served = serve_hooked()
    answer_with(served, answer)
    results = run_check(served)
    failed = results[CHECK_OF[answer.endpoint]]
    assert failed.status is Status.FAIL, failed
    assert failed.code == answer.code, failed
    if answer.code == "unexpected_response":
        assert "instead of Microsoft" in failed.detail
    assert failed.fix


@pytest.mark.parametrize("command", [["check"], ["rooms", "list"]])
@pytest.mark.parametrize("answer", MALFORMED_IDENTITY_ANSWERS, ids=repr)
def test_the_command_line_exits_1_without_a_traceback(
    serve_hooked: ServeHooked, answer: IdentityAnswer, command: list[str]
) -> None:
    served = serve_hooked()
    answer_with(served, answer)
    code, out, err = served.run_cli(*command, "--json")
    assert code == 1, (out, err)
    assert "Traceback" not in out + err
    printed = out + err
    assert answer.code in printed, printed[-2000:]


@pytest.mark.parametrize("expires_in", [0, -3600, 1, "-5", 10**30, 1e308])
def test_a_token_said_to_expire_at_once_is_used_for_a_while(
    serve_hooked: ServeHooked, expires_in: object
) -> None:
    """A lifetime of zero or less is taken as a short one: Test Settings and a listing of the
    rooms sign in once, not once per request."""
    served = serve_hooked()
    tenant = answer_with(
        served,
        IdentityAnswer(
            "token", f"expires_in {expires_in}", lambda a: {**a, "expires_in": expires_in}
        ),
    )
    results = run_check(served)
    assert all(passed_as_healthy(r) for r in results.values()), results
    assert len(tenant.issued_tokens) == 1
    code, out, err = served.run_cli("rooms", "list", "--json")
    assert code == 0, err
    assert len(json.loads(out)) == 24
    assert len(tenant.issued_tokens) == 2


def test_a_lifetime_too_large_for_a_number_is_a_plain_error(serve_hooked: ServeHooked) -> None:
    # MSAL's token cache cannot hold it (OverflowError): the answer is not Microsoft's.
    served = serve_hooked()
    answer_with(
        served,
        IdentityAnswer("token", "expires_in of 400 digits", lambda a: {**a, "expires_in": 10**400}),
    )
    for command in (["check"], ["rooms", "list"]):
        code, out, err = served.run_cli(*command, "--json")
        assert code == 1, (out, err)
        assert "Traceback" not in out + err
        assert "unexpected_response" in out + err


def test_a_short_lived_token_that_did_expire_is_replaced(serve_hooked: ServeHooked) -> None:
    served = serve_hooked()
    tenant = answer_with(
        served, IdentityAnswer("token", "expires_in 0", lambda a: {**a, "expires_in": 0})
    )
    # Graph refuses the first token as expired half-way: one more sign-in, and the run passes.
    tenant.before(ENDPOINTS["users"], tenant.expire_tokens)
    results = run_check(served)
    assert all(passed_as_healthy(r) for r in results.values()), results
    assert len(tenant.issued_tokens) == 2


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("no authorization_endpoint", "no authorization_endpoint"),
        ("access_token not a JWT", "not a Microsoft access token"),
        ("nested 100,000 deep", "nested far more deeply"),
    ],
)
def test_the_command_line_says_what_was_wrong(
    serve_hooked: ServeHooked, name: str, said: str
) -> None:
    served = serve_hooked()
    answer = next(a for a in MALFORMED_IDENTITY_ANSWERS if a.name == name)
    answer_with(served, answer)
    code, _, err = served.run_cli("rooms", "list")
    assert code == 1
    assert "answered instead of Microsoft" in err and said in err, err
