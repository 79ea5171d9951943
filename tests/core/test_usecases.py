"""The use cases both front ends call, against the demo tenant over real HTTPS and a real SQLite
workspace: above all, that a new office is created by the import's own transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.checks import SettingsTest
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.model import NewOffice, RoomStatus
from clearooms_wizard.core.secrets import MemorySecretStore
from clearooms_wizard.core.usecases import ImportRequest, UseCases
from clearooms_wizard.core.values import Credentials
from clearooms_wizard.core.workspace import open_workspace
from tests.conftest import Served, ServeDemo


def use_cases_for(served: Served, path: Path) -> UseCases:
    def open_session(cancel: CancelToken) -> MicrosoftSession:
        return MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), cancel)

    return UseCases(open_session, path, MemorySecretStore())


def credentials_of(served: Served) -> Credentials:
    scenario = served.tenant.scenario
    return Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)


def request_for(served: Served, use_cases: UseCases, office: str, count: int) -> ImportRequest:
    credentials = credentials_of(served)
    directory = use_cases.load_rooms(credentials, served.cloud, CancelToken())
    rooms = tuple(sorted(directory.rooms, key=lambda r: r.name)[:count])
    return ImportRequest(office, True, rooms, directory, credentials, served.cloud)


def test_a_new_office_is_created_by_applying_the_import(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    request = request_for(served, use_cases, "Canary Wharf", 3)
    prepared = use_cases.prepare_import(request, None, None, CancelToken())
    # The plan says honestly that the office is new; preparing created nothing.
    assert prepared.plan.office == NewOffice("Canary Wharf")
    assert {p.status for p in prepared.plan.rooms} == {RoomStatus.NEW}
    assert use_cases.workspace_snapshot().offices == ()

    result = use_cases.apply_import(prepared, False, CancelToken())
    assert result.ok and len(result.new) == 3
    assert result.office.name == "Canary Wharf" and result.office.id > 0
    with open_workspace(use_cases.workspace_path) as workspace:
        (office,) = workspace.list_offices()
        assert (office.id, office.name, office.room_count) == (result.office.id, "Canary Wharf", 3)


def test_an_office_added_meanwhile_under_that_name_is_used(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    prepared = use_cases.prepare_import(
        request_for(served, use_cases, "Canary Wharf", 2), None, None, CancelToken()
    )
    with open_workspace(use_cases.workspace_path) as workspace:
        added = workspace.add_office("canary  wharf")
    result = use_cases.apply_import(prepared, False, CancelToken())
    assert result.office.id == added.id and len(result.new) == 2
    assert use_cases.workspace_snapshot().offices == ("canary wharf",)


def test_a_failed_apply_creates_no_office(
    serve_demo: ServeDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    prepared = use_cases.prepare_import(
        request_for(served, use_cases, "Canary Wharf", 2), None, None, CancelToken()
    )
    from clearooms_wizard.core import workspace as workspace_module

    def broken(*args: object) -> None:
        raise RuntimeError("the disk went away mid-import")

    monkeypatch.setattr(workspace_module.Workspace, "_write_room", broken)
    with pytest.raises(RuntimeError):
        use_cases.apply_import(prepared, False, CancelToken())
    assert use_cases.workspace_snapshot().offices == ()


def test_checking_again_only_some_rooms_keeps_the_other_checks(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    request = request_for(served, use_cases, "Canary Wharf", 4)
    first = use_cases.prepare_import(request, None, None, CancelToken())
    again_for = first.checks[1].email
    served.tenant.clear_request_log()
    again = use_cases.prepare_import(request, first, [again_for], CancelToken())
    assert [c.email for c in again.checks] == [c.email for c in first.checks]
    calendar_requests = [p for p in served.paths() if "/calendar" in p]
    assert len(calendar_requests) == 1


def test_export_writes_the_offices_and_rooms(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    prepared = use_cases.prepare_import(
        request_for(served, use_cases, "London HQ", 2), None, None, CancelToken()
    )
    use_cases.apply_import(prepared, False, CancelToken())
    target = tmp_path / "out" / "rooms.json"
    target.parent.mkdir()
    exported = use_cases.export(str(target), "json")
    assert (exported.path, exported.offices, exported.rooms) == (target, 1, 2)
    document = json.loads(target.read_text(encoding="utf-8"))
    assert [o["name"] for o in document["offices"]] == ["London HQ"]
    printed = use_cases.export(None, "csv")
    assert printed.path is None and prepared.plan.rooms[0].room.email in printed.text


def test_a_passed_test_is_saved_with_its_secret_in_the_secret_store(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    test = use_cases.test_connection(served.connection(), CancelToken())
    assert isinstance(test, SettingsTest)
    list(test.run())
    assert test.ok and test.signed_in is not None and test.tenant_id is not None
    assert test.signed_in.tenant == test.tenant_id
    assert use_cases.save_connection(test) is None
    with open_workspace(use_cases.workspace_path) as workspace:
        saved = workspace.load_connection()
    assert saved is not None and saved.tenant_id == test.tenant_id
    scenario = served.tenant.scenario
    stored = use_cases.secrets.load(test.tenant_id, scenario.client_id)
    assert stored == scenario.client_secret
