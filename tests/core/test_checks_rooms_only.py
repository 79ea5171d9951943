"""An app set up for rooms only, over HTTPS against the demo tenant: before Exchange's part is
done Test Settings warns (the Exchange step is to do), it never fails; an app that merely lacks
its consent still fails; and once Microsoft Entra's grant is removed from an app Exchange limits
to rooms, the check says "not in effect yet" until Exchange's cache catches up, then passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.checks import CHECK_IDS
from clearooms_wizard.demo import data
from tests.conftest import ServeDemo
from tests.core.test_checks_scope import SCOPE_SCRIPT, check_json
from tests.core.test_provisioning import admin_for, use_cases_for


def test_rooms_only_before_the_exchange_step_warns_and_blames_nobody(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("rooms-only-exchange-pending")
    code, checks = check_json(served, monkeypatch)
    assert code == 0
    assert [c for c in CHECK_IDS if checks[c]["status"] == "fail"] == []
    calendars = checks["calendars"]
    assert (calendars["status"], calendars["code"]) == ("warn", "exchange_pending")
    assert calendars["detail"].startswith("Room calendars cannot be read yet")
    assert SCOPE_SCRIPT in calendars["fix"]
    permissions = checks["permissions"]
    assert (permissions["status"], permissions["code"]) == ("pass", "rooms_only")
    assert "as it should not be" in permissions["detail"]
    assert (checks["mailbox_scope"]["status"], checks["mailbox_scope"]["code"]) == (
        "pass",
        "rooms_only",
    )


def test_an_app_that_asks_for_calendars_without_consent_still_fails(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Calendars.ReadWrite is on the app's list but not granted: a missing consent, not a choice.
    served = serve_demo("missing-permission")
    code, checks = check_json(served, monkeypatch)
    assert code != 0
    assert checks["calendars"]["status"] == "fail"
    assert checks["permissions"]["code"] == "missing_permissions"


class StoppedClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_removing_the_grant_turns_scoped_but_entra_grant_into_scoped_to_rooms(
    serve_demo: ServeDemo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clock = StoppedClock()
    served = serve_demo("scoped-but-entra-grant", clock=clock)
    assert served.tenant.registry.exchange_cache == 30.0
    _, checks = check_json(served, monkeypatch)
    assert checks["mailbox_scope"]["code"] == "tenant_wide"
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    assert use_cases.remove_calendars_grant(admin_for(served), data.APP_ID, CancelToken())
    # Exchange still answers from the grant it last saw.
    _, checks = check_json(served, monkeypatch)
    assert (checks["mailbox_scope"]["status"], checks["mailbox_scope"]["code"]) == (
        "warn",
        "scope_pending",
    )
    assert checks["permissions"]["code"] == "rooms_only"
    clock.now += 30.0
    _, checks = check_json(served, monkeypatch)
    assert {c: checks[c]["status"] for c in CHECK_IDS} == dict.fromkeys(CHECK_IDS, "pass")
    assert checks["mailbox_scope"]["code"] == "rooms_only"
