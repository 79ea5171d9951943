"""The product defects the reliability suites found, one regression test each (D1 and D11 live
beside their suites). All are fixed; each test states what must happen. Details:
tests/reliability/README.md.
"""

from __future__ import annotations

import io
import itertools
import logging
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import UnexpectedResponse
from clearooms_wizard.core.graph import MAX_PAGES_WITHOUT_NEW_ROOMS, GraphClient
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.logs import remember_secret
from clearooms_wizard.core.values import check_secret
from clearooms_wizard.core.workspace import WorkspaceError, open_workspace
from clearooms_wizard.demo import Fault, data
from tests.conftest import Served
from tests.reliability.conftest import ServeHooked
from tests.support.canary import CANARY_SECRET
from tests.support.reliability import ENDPOINTS, FixedToken, json_rewrite

THAMES = data.room_email("Thames")


def _import(served: Served, path: Path, *choice: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    assert (
        main(["offices", "add", "London HQ", "--workspace", str(path)], stdout=out, stderr=err) == 0
    )
    return served.run_cli(
        "rooms", "import", "--office", "London HQ", *choice, "--workspace", str(path)
    )


def _change_thames(served: Served, **fields: Any) -> None:
    def change(payload: dict[str, Any]) -> None:
        for item in payload.get("value", []):
            if isinstance(item, dict) and item.get("emailAddress") == THAMES:
                item.update(fields)

    tenant = served.tenant
    assert hasattr(tenant, "rewrite")
    tenant.rewrite(ENDPOINTS["rooms"], json_rewrite(change))


def test_a_huge_capacity_from_graph_does_not_crash_the_import(
    serve_hooked: ServeHooked, tmp_path: Path
) -> None:
    served = serve_hooked("healthy")
    _change_thames(served, capacity=10**20, floorNumber="99999999999999999999")
    code, _, err = _import(served, tmp_path / "w.sqlite3", "--room", THAMES)
    assert code in (0, 1) and "Traceback" not in err


def test_a_room_name_that_is_not_valid_unicode_does_not_crash_the_import(
    serve_hooked: ServeHooked, tmp_path: Path
) -> None:
    served = serve_hooked("healthy")
    _change_thames(served, displayName="Thames \ud800 room")
    code, _, err = _import(served, tmp_path / "w.sqlite3", "--room", THAMES)
    assert code in (0, 1) and "Traceback" not in err


def test_a_page_of_repeated_rooms_does_not_end_the_list(serve_hooked: ServeHooked) -> None:
    served = serve_hooked("healthy")
    base = served.base_url

    def page(index: int, email: str, next_page: int | None) -> Fault:
        body: dict[str, Any] = {"value": [{"emailAddress": email}]}
        if next_page is not None:
            body["@odata.nextLink"] = f"{base}/v1.0/places/microsoft.graph.room?page={next_page}"
        pattern = rf"[?&]page={index}(&|$)" if index else ENDPOINTS["rooms"]
        return Fault(
            pattern, status=200, headers={"Content-Type": "application/json"}, body=body, times=None
        )

    # Page 1 repeats page 0's room (in another case) and links on to page 2's new room.
    for fault in (page(1, "A@X.COM", 2), page(2, "b@x.com", None), page(0, "a@x.com", 1)):
        served.tenant.inject(fault)
    session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), CancelToken())
    try:
        graph = GraphClient(session, FixedToken(served.tenant.mint_token()), base)
        rooms, _ = graph.list_rooms()
    finally:
        session.close()
    assert sorted(room.key for room in rooms) == ["a@x.com", "b@x.com"]


def test_next_links_through_rooms_already_sent_end_with_a_message(
    serve_hooked: ServeHooked,
) -> None:
    """The other side of D4: next links (each a new address) that lead on and on through rooms
    already sent stop after MAX_PAGES_WITHOUT_NEW_ROOMS pages, with a message, not MAX_PAGES."""
    served = serve_hooked("healthy")
    base = served.base_url
    sent = itertools.count(1)

    def endless(payload: dict[str, Any]) -> None:
        payload["value"] = [{"emailAddress": "a@x.com"}]
        payload["@odata.nextLink"] = f"{base}/v1.0/places/microsoft.graph.room?page={next(sent)}"

    tenant = served.tenant
    assert hasattr(tenant, "rewrite")
    tenant.rewrite(ENDPOINTS["rooms"], json_rewrite(endless))
    session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), CancelToken())
    try:
        graph = GraphClient(session, FixedToken(tenant.mint_token()), base)
        with pytest.raises(UnexpectedResponse, match="already sent"):
            graph.list_rooms()
    finally:
        session.close()
    assert next(sent) <= MAX_PAGES_WITHOUT_NEW_ROOMS + 3


def test_a_foreign_database_with_a_negative_version_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE moz_places (url TEXT)")
    db.execute("INSERT INTO moz_places VALUES ('https://example.com')")
    db.execute("PRAGMA user_version = -1")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(WorkspaceError):
        open_workspace(path).close()
    assert path.read_bytes() == before


def test_one_odd_room_address_does_not_stop_the_whole_import(
    serve_hooked: ServeHooked, tmp_path: Path
) -> None:
    served = serve_hooked("healthy")

    def add(payload: dict[str, Any]) -> None:
        if isinstance(payload.get("value"), list) and payload["value"]:
            payload["value"].append({"emailAddress": "projector@localhost", "displayName": "P"})

    tenant = served.tenant
    assert hasattr(tenant, "rewrite")
    tenant.rewrite(ENDPOINTS["rooms"], json_rewrite(add))
    path = tmp_path / "w.sqlite3"
    code, _, err = _import(served, path, "--all")
    assert code != 2, err
    with open_workspace(path) as workspace:
        assert len(workspace.imported_rooms()) >= 24


def test_a_control_character_around_the_secret_is_tidied_or_explained() -> None:
    for edge in ("\x00", "\x1b", "\x7f"):
        checked = check_secret(CANARY_SECRET + edge)
        assert checked.value == CANARY_SECRET or "middle" not in (checked.problem or "")


def test_a_workspace_with_text_that_is_not_utf8_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "workspace.sqlite3"
    with open_workspace(path) as workspace:
        workspace.add_office("London HQ")
    damaged = path.read_bytes().replace(
        b"tableconnectionconnection", b"table\xffonnection\xffonnection"
    )
    path.write_bytes(damaged)
    try:
        workspace = open_workspace(path)
    except WorkspaceError:
        assert path.read_bytes() == damaged
        return
    with workspace:
        assert workspace.set_aside_path is not None
        assert workspace.set_aside_path.read_bytes() == damaged


def test_a_secret_in_the_tenant_variable_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEAROOMS_TENANT_ID", CANARY_SECRET)
    monkeypatch.setenv("CLEAROOMS_CLIENT_ID", data.APP_ID)
    monkeypatch.setenv("CLEAROOMS_CLIENT_SECRET", "another-value-entirely")
    out, err = io.StringIO(), io.StringIO()
    assert main(["check"], stdout=out, stderr=err) == 1
    assert CANARY_SECRET not in out.getvalue() + err.getvalue()


def test_a_traceback_in_a_log_record_is_redacted_for_every_handler() -> None:
    from clearooms_wizard.core.logs import configure_logging

    configure_logging("info")  # installs the redacting record factory
    remember_secret(CANARY_SECRET)
    try:
        raise RuntimeError(f"something held {CANARY_SECRET}")
    except RuntimeError:
        record = logging.getLogger("clearooms_wizard.test").makeRecord(
            "clearooms_wizard.test",
            logging.ERROR,
            __file__,
            1,
            "unexpected error",
            (),
            sys.exc_info(),
        )
    factory = logging.getLogRecordFactory()
    made = factory(
        "clearooms_wizard.test", logging.ERROR, __file__, 1, "unexpected error", (), record.exc_info
    )
    # What a console handler, or Python's last-resort printer, would write.
    assert CANARY_SECRET not in logging.Formatter().format(made)
