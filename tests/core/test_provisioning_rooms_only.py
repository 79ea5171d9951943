"""“Set it up for me” for rooms only, against the demo tenant over HTTPS on loopback: the app is
created without Microsoft Entra's Calendars.ReadWrite (neither granted nor listed), an earlier
app's listing of it is taken off, the journal and Undo still work, and with an administrator
signed in the tenant-wide grant can be removed afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearooms_wizard.core.app_setup import KNOWN_ROLE_IDS, CreatedKind, StepId
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.provisioning import RegistrationFailed
from clearooms_wizard.demo import data
from clearooms_wizard.demo.registry import EARLIER_RUN_APP_ID, GRAPH_SERVICE_PRINCIPAL_ID
from clearooms_wizard.demo.tenant import Fault
from tests.conftest import Served, ServeDemo
from tests.core.test_provisioning import (
    QUICK,
    Progress,
    admin_for,
    clearooms_apps,
    graph_calls,
    use_cases_for,
)

CALENDARS = KNOWN_ROLE_IDS["Calendars.ReadWrite"]


def listed(served: Served, app_id: str) -> set[str]:
    app = served.tenant.registry.application_by_app_id(app_id)
    assert app is not None
    return {str(a["id"]) for e in app.required_resource_access for a in e["resourceAccess"]}


def test_the_plan_and_the_app_leave_calendars_out(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served, "global-admin")
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken(), rooms_only=True)
    assert plan.rooms_only
    assert [p.name for p in plan.permissions] == ["Directory.Read.All", "Place.Read.All"]
    assert [p.name for p in plan.left_out] == ["Calendars.ReadWrite"]
    progress = Progress()
    app = use_cases.register_app(admin, plan, CancelToken(), progress)
    assert app.rooms_only and app.permissions_granted
    assert app.permission_names == ("Directory.Read.All", "Place.Read.All")
    assert "Granted the two permissions." in progress.details()
    assert served.tenant.registry.graph_roles_of(app.service_principal_id) == (
        "Directory.Read.All",
        "Place.Read.All",
    )
    assert CALENDARS not in listed(served, app.client_id)
    assert len(listed(served, app.client_id)) == 2


def test_an_earlier_apps_listing_of_calendars_is_taken_off(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-existing-app")
    assert CALENDARS in listed(served, EARLIER_RUN_APP_ID)
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken(), rooms_only=True)
    assert plan.existing is not None and plan.existing.missing_permissions == ()
    app = use_cases.register_app(admin, plan, CancelToken())
    assert app.reused and app.client_id == EARLIER_RUN_APP_ID
    # No consent can grant it again; the grant itself stays until it is removed on purpose.
    assert CALENDARS not in listed(served, EARLIER_RUN_APP_ID)
    assert "Calendars.ReadWrite" in served.tenant.registry.graph_roles_of(app.service_principal_id)


def test_a_rooms_only_run_that_fails_can_be_undone(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken(), rooms_only=True)
    # Microsoft's sign-in is down once everything is made: the wait for the first token fails.
    served.tenant.inject(Fault(r"/oauth2/v2\.0/token", method="POST", status=503))
    with pytest.raises(RegistrationFailed) as raised:
        use_cases.register_app(admin, plan, CancelToken())
    failed = raised.value
    assert failed.step is StepId.WAIT_FOR_MICROSOFT
    grants = [c.label for c in failed.created if c.kind is CreatedKind.PERMISSION_GRANT]
    assert sorted(grants) == ["Directory.Read.All", "Place.Read.All"]
    assert use_cases.unfinished_registration() == failed.journal
    served.tenant.clear_faults()
    removed: list[str] = []
    use_cases.undo_registration(admin, failed.journal, CancelToken(), removed.append)
    assert clearooms_apps(served) == []
    assert "Removed the permission Place.Read.All." in removed
    assert use_cases.unfinished_registration() is None


def test_removing_the_tenant_wide_grant(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("scoped-but-entra-grant")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    registry = served.tenant.registry
    assert "Calendars.ReadWrite" in registry.graph_roles_of(data.SERVICE_PRINCIPAL_ID)
    assert use_cases.remove_calendars_grant(admin, data.APP_ID, CancelToken()) is True
    assert registry.graph_roles_of(data.SERVICE_PRINCIPAL_ID) == (
        "Directory.Read.All",
        "Place.Read.All",
    )
    path = f"/v1.0/servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_ID}/appRoleAssignedTo/"
    assert graph_calls(served, "DELETE", "^" + path) == [204]
    # Off the app's list too, so that no later consent grants it again.
    assert CALENDARS not in listed(served, data.APP_ID)
    assert len(listed(served, data.APP_ID)) == 2
    # Again: nothing left to remove, and nothing deleted.
    assert use_cases.remove_calendars_grant(admin, data.APP_ID, CancelToken()) is False
    assert len(graph_calls(served, "DELETE", "")) == 1


def test_a_grant_gone_meanwhile_counts_as_removed_by_someone_else(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("scoped-but-entra-grant")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    gone = {
        "error": {
            "code": "Request_ResourceNotFound",
            "message": "Resource 'x' does not exist or one of its queried reference-property "
            "objects are not present.",
        }
    }
    served.tenant.inject(
        Fault(r"appRoleAssignedTo/", method="DELETE", status=404, body=gone, times=1)
    )
    assert use_cases.remove_calendars_grant(admin_for(served), data.APP_ID, CancelToken()) is False


def test_an_administrator_who_may_not_is_told_who_can(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("scoped-but-entra-grant")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served, "application-admin")
    with pytest.raises(ClearoomsError, match="only a Global Administrator or a Privileged Role"):
        use_cases.remove_calendars_grant(admin, data.APP_ID, CancelToken())
    assert "Calendars.ReadWrite" in served.tenant.registry.graph_roles_of(data.SERVICE_PRINCIPAL_ID)
