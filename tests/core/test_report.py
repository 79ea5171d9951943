"""The support report never carries the secret or a token."""

from __future__ import annotations

from clearooms_wizard.core.checks import CheckResult, Status
from clearooms_wizard.core.clouds import CLOUDS
from clearooms_wizard.core.redaction import SECRET_REMOVED, TOKEN_REMOVED, redact
from clearooms_wizard.core.report import support_report
from clearooms_wizard.core.values import ConnectionInput

SECRET = "Nw8~Qe5Rt.Yk2vLp9_Hs3Dj6Fg1Zx4Cb7Nm0Wa3U"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJl"


def test_report_shows_the_hint_but_never_the_secret_or_a_token() -> None:
    connection = ConnectionInput(
        "contoso.onmicrosoft.com", "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41", f" {SECRET} ",
        cloud=CLOUDS["global"],
    )  # fmt: skip
    leaky = CheckResult(
        "token",
        Status.FAIL,
        f"echoed {SECRET} and Bearer {TOKEN}",
        code="AADSTS7000215",
        details={"correlation_id": "abc", "raw": TOKEN},
    )
    report = support_report(connection, [leaky], tenant_id="6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93")
    assert SECRET not in report and TOKEN not in report
    assert "starts with “Nw8” (40 characters)" in report
    assert SECRET_REMOVED in report and TOKEN_REMOVED in report
    assert "correlation_id: abc" in report and "AADSTS7000215" in report


def test_redact_removes_bearer_values() -> None:
    assert (
        redact("Authorization: Bearer abcdefghijkl", []) == f"Authorization: Bearer {TOKEN_REMOVED}"
    )


def test_a_secret_pasted_into_the_wrong_box_stays_out() -> None:
    connection = ConnectionInput("contoso.com", SECRET, "", cloud=CLOUDS["global"])
    failed = CheckResult("format", Status.FAIL, "Client ID: That doesn't look like a client ID.")
    report = support_report(connection, [failed])
    assert SECRET not in report
    assert "Client ID: not valid (40 characters)" in report
    assert "Tenant: contoso.com" in report
