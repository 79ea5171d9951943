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


def test_the_json_and_the_text_come_from_one_builder_and_say_the_same() -> None:
    from clearooms_wizard import __version__
    from clearooms_wizard.core.report import build_support_report

    connection = ConnectionInput(
        " Contoso.onmicrosoft.com", "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41", SECRET,
        cloud=CLOUDS["usgov"],
    )  # fmt: skip
    passed = CheckResult("token", Status.PASS, "Signed in.")
    environment = {"Workspace": "/data/ws.sqlite3", "Log file": "/logs/clearooms.log"}
    report = build_support_report(
        connection, [passed], tenant_id="6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93",
        environment=environment,
    )  # fmt: skip
    data, text = report.to_json(), report.text()
    assert data["version"] == __version__ and f"Wizard version: {__version__}" in text
    assert data["qt_binding"].startswith("PySide6") and f"Qt binding: {data['qt_binding']}" in text
    assert f"Python: {data['python']} on {data['os']}" in text
    assert data["workspace"] == "/data/ws.sqlite3" and "Workspace: /data/ws.sqlite3" in text
    assert data["log_file"] == "/logs/clearooms.log" and "Log file: /logs/clearooms.log" in text
    assert data["tenant"] == "contoso.onmicrosoft.com" and "Tenant: contoso.onmicrosoft.com" in text
    assert data["tenant_id"] == "6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93"
    assert data["client_id"] == "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41"
    cloud = CLOUDS["usgov"]
    assert data["cloud"]["key"] == "usgov" and data["cloud"]["graph_root"] == cloud.graph_root
    assert data["cloud"]["authority_host"] == cloud.authority_host
    assert f"Sign-in host: {cloud.authority_host}" in text and f"Graph: {cloud.graph_root}" in text
    assert data["client_secret"] == {"entered": True, "hint": "Nw8", "length": len(SECRET)}
    assert "starts with “Nw8”" in text
    assert [c["id"] for c in data["checks"]] == ["token"] and "[PASS] token" in text
    assert SECRET[:4] not in str(data) + text


def test_a_short_secret_gets_no_hint() -> None:
    from clearooms_wizard.core.report import build_support_report

    connection = ConnectionInput("contoso.com", "", "abcdef", cloud=CLOUDS["global"])
    report = build_support_report(connection, [])
    assert report.to_json()["client_secret"] == {"entered": True, "hint": None, "length": 6}
    assert "Client secret: entered (6 characters)" in report.text()
    assert "abc" not in report.text()
