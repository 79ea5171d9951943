"""“Set it up for me” against the demo tenant over real HTTPS on loopback: the administrator's
Graph calls, Microsoft's replication lag and tenant policies, the journal's resume and undo,
Stop, and the secret kept out of every log, file and message."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from clearooms_wizard.core.admin_signin import AdminSession
from clearooms_wizard.core.app_setup import (
    APP_TAGS,
    APP_UNIQUE_NAME,
    CreatedKind,
    SignedInAdmin,
    SignInMethod,
    StepId,
    StepState,
    StepUpdate,
)
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.checks import Status
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.provisioning import RegistrationFailed, RetryPolicy
from clearooms_wizard.core.secrets import MemorySecretStore
from clearooms_wizard.core.usecases import UseCases
from clearooms_wizard.core.values import ConnectionInput
from clearooms_wizard.demo import data
from clearooms_wizard.demo.org import AdminKey
from clearooms_wizard.demo.registry import Application
from clearooms_wizard.demo.tenant import Fault
from tests.conftest import Served, ServeDemo
from tests.support.canary import ExceptionCollector, Leaks
from tests.support.scripted_browser import ScriptedBrowser
from tests.support.scripted_browser import registered as registered_browser

# Quick tries for the tests that wait on purpose; Microsoft's own times otherwise.
QUICK = RetryPolicy(first_delay=0.1, max_delay=0.5, token_deadline=1.0, object_deadline=3.0)


def use_cases_for(served: Served, path: Path) -> UseCases:
    def open_session(cancel: CancelToken) -> MicrosoftSession:
        return MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), cancel)

    return UseCases(open_session, path, MemorySecretStore())


def admin_for(served: Served, key: AdminKey | None = None) -> AdminSession:
    """The administrator's sign-in, as the sign-in page would have given it."""
    person = data.ADMINISTRATORS[key or served.tenant.scenario.administrator]
    admin = SignedInAdmin(
        username=person.username,
        display_name=person.display_name,
        tenant_id=data.TENANT_ID,
        tenant_name=None,
        role_ids=person.role_ids,
    )
    token = served.tenant.mint_delegated_token(person.key, audience=served.base_url)
    return AdminSession(admin, served.cloud, token, time.time() + 3600)


def clearooms_apps(served: Served) -> list[Application]:
    return [
        app
        for app in served.tenant.registry.applications()
        if app.unique_name == APP_UNIQUE_NAME or APP_TAGS[0] in app.tags
    ]


def graph_calls(served: Served, method: str, pattern: str) -> list[int | None]:
    import re

    return [
        record.status
        for record in served.tenant.request_log()
        if record.method == method and re.search(pattern, record.path)
    ]


class Progress:
    def __init__(self) -> None:
        self.updates: list[StepUpdate] = []
        self._lock = threading.Lock()

    def __call__(self, update: StepUpdate) -> None:
        with self._lock:
            self.updates.append(update)

    def states(self, step: StepId) -> list[StepState]:
        return [u.state for u in self.updates if u.step is step]

    def details(self) -> str:
        return "\n".join(u.detail for u in self.updates)


def test_a_global_administrator_gets_everything_and_test_settings_passes(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served, "global-admin")
    before = len(served.tenant.registry.applications())

    plan = use_cases.plan_registration(admin, "Clearooms Rooms", 24, CancelToken())
    assert plan.existing is None and plan.grant_directly
    assert [p.name for p in plan.permissions] == [
        "Directory.Read.All",
        "Calendars.ReadWrite",
        "Place.Read.All",
    ]
    # Planning created nothing.
    assert len(served.tenant.registry.applications()) == before
    assert not graph_calls(served, "POST", r"^/v1\.0/") and not graph_calls(
        served, "PATCH", r"^/v1\.0/"
    )

    progress = Progress()
    registered = use_cases.register_app(admin, plan, CancelToken(), progress)
    assert registered.permissions_granted and registered.consent_url is None
    assert not registered.reused and registered.tenant_id == data.TENANT_ID
    for step in (StepId.CREATE_APP, StepId.CREATE_SECRET, StepId.ADD_TO_ORGANISATION,
                 StepId.GRANT_PERMISSIONS, StepId.WAIT_FOR_MICROSOFT):  # fmt: skip
        assert progress.states(step)[-1] is StepState.DONE, step
    (app,) = clearooms_apps(served)
    assert (app.id, app.app_id) == (registered.app_object_id, registered.client_id)
    assert app.display_name == "Clearooms Rooms" and app.unique_name == APP_UNIQUE_NAME
    assert app.sign_in_audience == "AzureADMyOrg" and set(APP_TAGS) <= set(app.tags)
    (secret,) = app.secrets
    assert secret.display_name is not None
    assert secret.display_name.startswith("Clearooms setup wizard 20")
    days = (secret.end - secret.start).days
    assert 725 <= days <= 735
    sp = served.tenant.registry.service_principal_by_app_id(registered.client_id)
    assert sp is not None and sp.id == registered.service_principal_id
    assert sorted(served.tenant.registry.graph_roles_of(sp.id)) == [
        "Calendars.ReadWrite",
        "Directory.Read.All",
        "Place.Read.All",
    ]
    # The run is over: nothing is left to resume or undo.
    assert use_cases.unfinished_registration() is None

    test = use_cases.test_connection(
        ConnectionInput(
            registered.tenant_id,
            registered.client_id,
            registered.client_secret,
            cloud=served.cloud,
        ),
        CancelToken(),
    )
    results = {result.id: result.status for result in test.run()}
    assert Status.FAIL not in results.values(), results
    assert results["permissions"] is Status.PASS
    assert test.ok


def test_an_application_administrator_gets_a_consent_link_for_a_global_administrator(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-app-admin")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    assert not plan.grant_directly

    progress = Progress()
    registered = use_cases.register_app(admin, plan, CancelToken(), progress)
    assert not registered.permissions_granted and registered.consent_url is not None
    assert progress.states(StepId.GRANT_PERMISSIONS)[-1] is StepState.NEEDS_APPROVAL
    assert StepId.WAIT_FOR_MICROSOFT not in {u.step for u in progress.updates}
    (app,) = clearooms_apps(served)
    assert len(app.secrets) == 1
    sp = served.tenant.registry.service_principal_by_app_id(registered.client_id)
    assert sp is not None and served.tenant.registry.graph_roles_of(sp.id) == ()
    assert registered.consent_url.startswith(
        f"{served.base_url}/{data.TENANT_ID}/v2.0/adminconsent?"
    )
    assert f"client_id={registered.client_id}" in registered.consent_url
    assert use_cases.unfinished_registration() is None
    assert not use_cases.check_permissions_granted(registered, served.cloud, CancelToken())

    # A Global Administrator opens the link (and Microsoft sends them back to this computer).
    answer = requests.get(
        registered.consent_url, verify=served.ca_bundle, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    assert "admin_consent=True" in answer.headers["Location"]
    assert use_cases.check_permissions_granted(registered, served.cloud, CancelToken())

    # The approval page needed a loopback redirect address on the app; once approved, it goes.
    def redirects() -> tuple[str, ...]:
        current = served.tenant.registry.application(registered.app_object_id)
        assert current is not None
        return current.redirect_uris

    assert redirects() == ("http://localhost",)
    assert use_cases.tidy_after_approval(admin, registered, CancelToken())
    assert redirects() == ()
    assert not use_cases.tidy_after_approval(admin, registered, CancelToken())
    assert use_cases.check_permissions_granted(registered, served.cloud, CancelToken())


def test_someone_without_rights_is_told_plainly_and_nothing_is_created(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-no-rights")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    before = served.tenant.registry.applications()
    with pytest.raises(ClearoomsError) as raised:
        plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
        use_cases.register_app(admin, plan, CancelToken())
    message = str(raised.value)
    assert "adele.vance@northwind-demo.com" in message
    assert "Global Administrator" in message and "Nothing was created" in message
    assert "Traceback" not in message and "Authorization_RequestDenied" not in message
    if isinstance(raised.value, RegistrationFailed):
        assert raised.value.step is StepId.CREATE_APP and raised.value.created == ()
    assert served.tenant.registry.applications() == before
    assert use_cases.unfinished_registration() is None


def test_an_existing_app_is_reused_with_a_new_secret_and_never_duplicated(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-existing-app")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    (existing,) = clearooms_apps(served)
    applications = len(served.tenant.registry.applications())
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    assert plan.existing is not None and plan.existing.object_id == existing.id
    assert plan.existing.service_principal_id is not None

    progress = Progress()
    registered = use_cases.register_app(admin, plan, CancelToken(), progress)
    assert registered.reused and registered.permissions_granted
    assert registered.client_id == existing.app_id
    assert progress.states(StepId.CREATE_APP)[-1] is StepState.SKIPPED
    assert len(served.tenant.registry.applications()) == applications
    (app,) = clearooms_apps(served)
    assert len(app.secrets) == len(existing.secrets) + 1
    assert not graph_calls(served, "POST", r"^/v1\.0/servicePrincipals$")

    # Again: still the one app, one more secret.
    plan = use_cases.plan_registration(admin, "Clearooms", 12, CancelToken())
    use_cases.register_app(admin, plan, CancelToken())
    (app,) = clearooms_apps(served)
    assert len(app.secrets) == len(existing.secrets) + 2
    assert len(served.tenant.registry.applications()) == applications


def test_a_policy_against_secrets_is_explained_and_the_app_can_be_undone(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-no-secrets")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    # Without the fallback to a certificate (see the next test).
    plan = replace(plan, certificate_fallback=False)
    progress = Progress()
    with pytest.raises(RegistrationFailed) as raised:
        use_cases.register_app(admin, plan, CancelToken(), progress)
    failed = raised.value
    assert failed.step is StepId.CREATE_SECRET
    assert "does not allow apps to have client secrets" in str(failed)
    assert "Undo" in str(failed) and "CredentialTypeNotAllowed" not in str(failed)
    assert progress.states(StepId.CREATE_SECRET)[-1] is StepState.FAILED
    assert [c.kind for c in failed.created] == [CreatedKind.APPLICATION]
    assert use_cases.unfinished_registration() == failed.journal

    removed: list[str] = []
    use_cases.undo_registration(admin, failed.journal, CancelToken(), removed.append)
    assert clearooms_apps(served) == []
    assert removed == ["Deleted the app “Clearooms”."]
    assert use_cases.unfinished_registration() is None


def test_a_policy_against_secrets_gets_a_certificate_instead_and_says_so(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-no-secrets")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    progress = Progress()
    registered = use_cases.register_app(admin, plan, CancelToken(), progress)
    assert registered.permissions_granted and registered.client_secret == ""
    assert registered.certificate is not None
    assert registered.certificate_reason is not None
    assert "does not allow client secrets" in registered.certificate_reason
    assert graph_calls(served, "POST", r"/addPassword$") == [400]
    (app,) = clearooms_apps(served)
    assert app.secrets == ()
    (key,) = app.key_credentials
    assert key.sha1 == registered.certificate.sha1_thumbprint
    done = [u for u in progress.updates if u.step is StepId.CREATE_SECRET][-1]
    assert done.state is StepState.DONE
    assert "signs in with a certificate instead" in done.detail
    # Kept for Test Settings like a secret: the key in the keyring, its facts in the workspace.
    kept = use_cases.keep_until_approved(registered, served.cloud)
    assert kept.secret_in_keyring
    stored = use_cases.secrets.load_certificate(registered.tenant_id, registered.client_id)
    assert stored == registered.certificate.keyring_text()


def test_a_twelve_month_policy_gets_a_twelve_month_secret_and_says_so(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-short-secrets")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    progress = Progress()
    registered = use_cases.register_app(admin, plan, CancelToken(), progress)
    assert registered.permissions_granted
    assert graph_calls(served, "POST", r"/addPassword$") == [400, 200]
    (app,) = clearooms_apps(served)
    (secret,) = app.secrets
    assert 360 <= (secret.end - secret.start).days <= 370
    assert abs((registered.secret_expires_at - secret.end).total_seconds()) < 2
    done = [u for u in progress.updates if u.step is StepId.CREATE_SECRET][-1]
    assert done.state is StepState.DONE and "at most 12 months" in done.detail


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(RetryPolicy(first_delay=0.25, max_delay=1.0), id="quick"),
        pytest.param(RetryPolicy(), id="microsofts-pace", marks=pytest.mark.slow),
    ],
)
def test_slow_replication_is_waited_out_with_retries(
    serve_demo: ServeDemo, tmp_path: Path, policy: RetryPolicy
) -> None:
    served = serve_demo("healthy", replication_delay=1.0)
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = policy
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    started = time.monotonic()
    registered = use_cases.register_app(admin, plan, CancelToken())
    assert registered.permissions_granted
    assert time.monotonic() - started < 30
    # Microsoft said "not yet" (400 or 404) and was asked again rather than given up on.
    service_principals = graph_calls(served, "POST", r"^/v1\.0/servicePrincipals$")
    grants = graph_calls(served, "POST", r"/appRoleAssignedTo$")
    secrets = graph_calls(served, "POST", r"/addPassword$")
    not_yet = [
        s for calls in (service_principals, grants, secrets) for s in calls if s in (400, 404)
    ]
    assert not_yet, (service_principals, grants, secrets)
    assert service_principals.count(201) == 1 and grants.count(201) == 3
    assert len(clearooms_apps(served)) == 1


def fail_service_principal(served: Served, times: int | None = 1) -> None:
    served.tenant.inject(
        Fault.graph(
            r"^/v1\.0/servicePrincipals$",
            method="POST",
            status=500,
            code="InternalServerError",
            message="An internal server error occurred.",
            times=times,
        )
    )


def test_a_failure_half_way_resumes_without_duplicates(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    fail_service_principal(served)
    with pytest.raises(RegistrationFailed) as raised:
        use_cases.register_app(admin, plan, CancelToken())
    failed = raised.value
    assert failed.step is StepId.ADD_TO_ORGANISATION
    assert [c.kind for c in failed.created] == [CreatedKind.APPLICATION, CreatedKind.SECRET]
    assert "Try again" in str(failed) and "Undo" in str(failed)
    assert use_cases.unfinished_registration() == failed.journal
    (app,) = clearooms_apps(served)
    (lost,) = app.secrets

    # Try again, as the wizard does after a new sign-in: the plan now sees the app.
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    registered = use_cases.register_app(admin, plan, CancelToken())
    assert registered.permissions_granted and registered.app_object_id == app.id
    (app,) = clearooms_apps(served)
    # The first try's secret (its text never kept) was replaced, not left behind.
    (secret,) = app.secrets
    assert secret.key_id != lost.key_id
    assert graph_calls(served, "PATCH", r"uniqueName") == [201]
    assert graph_calls(served, "POST", r"^/v1\.0/servicePrincipals$") == [500, 201]
    assert use_cases.unfinished_registration() is None


def test_a_resumed_app_not_visible_for_a_moment_stays_this_runs(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    fail_service_principal(served)
    with pytest.raises(RegistrationFailed) as raised:
        use_cases.register_app(admin, plan, CancelToken())
    (app_entry, _) = raised.value.created
    # On Try again, Microsoft answers once as if the app were not there yet.
    served.tenant.inject(
        Fault.graph(
            rf"^/v1\.0/applications/{app_entry.object_id}$",
            method="GET",
            status=404,
            code="Request_ResourceNotFound",
            message=f"Resource '{app_entry.object_id}' does not exist or one of its queried "
            "reference-property objects are not present.",
        )
    )
    progress = Progress()
    registered = use_cases.register_app(admin, plan, CancelToken(), progress)
    assert registered.app_object_id == app_entry.object_id and not registered.reused
    assert graph_calls(served, "PATCH", r"uniqueName") == [201, 204]
    assert len(clearooms_apps(served)) == 1
    assert "earlier try" in progress.details()


def test_undo_removes_exactly_what_the_run_created(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    admin = admin_for(served)
    registry = served.tenant.registry
    applications = {a.id for a in registry.applications()}
    service_principals = {sp.id for sp in registry.service_principals()}
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    # The new secret never works: the run fails while waiting for Microsoft, with every object
    # made.
    served.tenant.inject(
        Fault.aadsts(
            r"/oauth2/v2\.0/token$",
            code=7000215,
            error="invalid_client",
            text="Invalid client secret provided.",
            times=None,
        )
    )
    with pytest.raises(RegistrationFailed) as raised:
        use_cases.register_app(admin, plan, CancelToken())
    failed = raised.value
    assert failed.step is StepId.WAIT_FOR_MICROSOFT
    kinds = [c.kind for c in failed.created]
    assert kinds == [CreatedKind.APPLICATION, CreatedKind.SECRET, CreatedKind.SERVICE_PRINCIPAL,
                     *[CreatedKind.PERMISSION_GRANT] * 3]  # fmt: skip
    served.tenant.clear_faults()
    served.tenant.clear_request_log()

    removed: list[str] = []
    journal = use_cases.unfinished_registration()
    assert journal is not None
    use_cases.undo_registration(admin, journal, CancelToken(), removed.append)
    assert {a.id for a in registry.applications()} == applications
    assert {sp.id for sp in registry.service_principals()} == service_principals
    assert len(removed) == 6 and removed[-1] == "Deleted the app “Clearooms”."
    # Newest first: grants, the service principal, the secret, the app.
    deletes = [(r.method, r.path.split("?")[0]) for r in served.tenant.request_log()]
    assert [m for m, _ in deletes] == ["DELETE"] * 4 + ["POST", "DELETE"]
    assert all("appRoleAssignedTo" in p for _, p in deletes[:3])
    assert use_cases.unfinished_registration() is None
    # Undoing again finds everything gone already, and says so without failing.
    use_cases.undo_registration(admin, journal, CancelToken())


def test_undo_after_reusing_an_app_keeps_the_app(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("register-existing-app")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    admin = admin_for(served)
    (existing,) = clearooms_apps(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    served.tenant.inject(
        Fault.aadsts(
            r"/oauth2/v2\.0/token$",
            code=7000215,
            error="invalid_client",
            text="Invalid client secret provided.",
            times=None,
        )
    )
    with pytest.raises(RegistrationFailed) as raised:
        use_cases.register_app(admin, plan, CancelToken())
    assert [c.kind for c in raised.value.created] == [CreatedKind.SECRET]
    use_cases.undo_registration(admin, raised.value.journal, CancelToken())
    (app,) = clearooms_apps(served)
    assert app.id == existing.id and app.secrets == existing.secrets
    assert served.tenant.registry.service_principal_by_app_id(existing.app_id) is not None


def test_undo_after_reusing_an_app_takes_off_the_certificate_it_uploaded(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-existing-app")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    admin = admin_for(served)
    (existing,) = clearooms_apps(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken(), use_certificate=True)
    served.tenant.inject(
        Fault.aadsts(
            r"/oauth2/v2\.0/token$",
            code=700024,
            error="invalid_client",
            text="Client assertion is not within its valid time range.",
            times=None,
        )
    )
    with pytest.raises(RegistrationFailed) as raised:
        use_cases.register_app(admin, plan, CancelToken())
    [entry] = raised.value.created
    assert entry.kind is CreatedKind.CERTIFICATE and entry.parent_id == existing.id
    (uploaded,) = clearooms_apps(served)
    assert entry.object_id in {k.key_id for k in uploaded.key_credentials}
    assert "a certificate" in str(raised.value)
    served.tenant.clear_faults()
    removed: list[str] = []
    use_cases.undo_registration(admin, raised.value.journal, CancelToken(), removed.append)
    assert removed == ["Removed the certificate."]
    (app,) = clearooms_apps(served)
    assert app.id == existing.id and app.key_credentials == existing.key_credentials
    assert app.secrets == existing.secrets
    assert use_cases.unfinished_registration() is None
    # Undoing again finds it gone already, without failing.
    use_cases.undo_registration(admin, raised.value.journal, CancelToken())


def test_stop_ends_the_run_promptly_and_leaves_the_journal(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy", replication_delay=60.0)
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    cancel = CancelToken()
    pressed: list[float] = []

    def progress(update: StepUpdate) -> None:
        # Microsoft takes a minute to see the new app, so the secret waits for it.
        if update.step is StepId.CREATE_SECRET and update.state is StepState.RUNNING:

            def press() -> None:
                pressed.append(time.monotonic())
                cancel.cancel()

            threading.Timer(0.3, press).start()

    with pytest.raises(Cancelled):
        use_cases.register_app(admin, plan, cancel, progress)
    assert pressed and time.monotonic() - pressed[0] < 1.0
    journal = use_cases.unfinished_registration()
    assert journal is not None
    assert [c.kind for c in journal.created] == [CreatedKind.APPLICATION]


def test_the_secret_never_reaches_a_log_a_file_or_a_message(
    serve_demo: ServeDemo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    served = serve_demo("healthy")
    workspace = tmp_path / "workspace"
    use_cases = use_cases_for(served, workspace / "ws.sqlite3")
    admin = admin_for(served)
    failures: list[BaseException] = []
    caplog.set_level(logging.DEBUG)
    with ExceptionCollector() as collector:
        plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
        # A failure after the secret is made: the journal is in the workspace now.
        fail_service_principal(served)
        try:
            use_cases.register_app(admin, plan, CancelToken())
        except RegistrationFailed as exc:
            failures.append(exc)
        (app,) = clearooms_apps(served)
        (first,) = app.secrets
        half_way = Leaks(secret=first.text, tokens=[admin.bearer()])
        assert half_way.search_tree(workspace, "workspace") >= 1
        assert half_way.found == []
        # Then the run that finishes.
        registered = use_cases.register_app(admin, plan, CancelToken())
    assert failures and use_cases.unfinished_registration() is None
    for secret in (first.text, registered.client_secret):
        leaks = Leaks(secret=secret, tokens=[admin.bearer()])
        leaks.search_text("the log", caplog.text)
        leaks.search_tree(workspace, "workspace")
        leaks.search_exceptions("exceptions", [*collector.errors, *failures])
        leaks.search_text("repr", repr(registered) + repr(admin) + repr(failures))
        assert leaks.found == []
    # The log says what happened, with the objects' ids.
    assert registered.app_object_id in caplog.text and "registered app" in caplog.text
    assert len(collector.errors) > 0


def test_the_approval_page_is_opened_and_its_answer_awaited(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("register-app-admin")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    plan = use_cases.plan_registration(admin, "Clearooms", 24, CancelToken())
    registered = use_cases.register_app(admin, plan, CancelToken())
    assert not registered.permissions_granted

    # The Application Administrator opens the link themselves: Microsoft refuses them.
    use_cases.open_browser = ScriptedBrowser(
        served.ca_bundle, sign_in_as="diego.siciliani@northwind-demo.com"
    )
    with pytest.raises(ClearoomsError, match="only a Global Administrator or a Privileged Role"):
        use_cases.wait_for_admin_consent(registered, served.cloud, CancelToken())
    assert not use_cases.check_permissions_granted(registered, served.cloud, CancelToken())

    # A Global Administrator approves, in the browser Python's webbrowser module opens.
    use_cases.open_browser = None
    with registered_browser(ScriptedBrowser(served.ca_bundle)) as browser:
        assert use_cases.wait_for_admin_consent(registered, served.cloud, CancelToken())
    assert len(browser.opened) == 1
    assert use_cases.check_permissions_granted(registered, served.cloud, CancelToken())
    pages = [r.path for r in served.tenant.request_log() if "/adminconsent?" in r.path]
    assert len(pages) == 2 and all("redirect_uri=http%3A%2F%2Flocalhost%3A" in p for p in pages)


def test_no_browser_means_sending_the_link_instead(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("register-app-admin")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    admin = admin_for(served)
    registered = use_cases.register_app(
        admin, use_cases.plan_registration(admin, "Clearooms", 24, CancelToken()), CancelToken()
    )
    use_cases.open_browser = lambda url: False
    with pytest.raises(ClearoomsError, match="send it to a Global Administrator"):
        use_cases.wait_for_admin_consent(registered, served.cloud, CancelToken())


def test_the_whole_path_from_the_browser_sign_in_to_test_settings(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.open_browser = ScriptedBrowser(served.ca_bundle)
    admin = use_cases.sign_in_admin(served.cloud, SignInMethod.BROWSER, CancelToken())
    assert admin.admin.username == "alex.wilber@northwind-demo.com"
    assert admin.admin.can_grant_permissions
    plan = use_cases.plan_registration(admin, "Clearooms", 6, CancelToken())
    registered = use_cases.register_app(admin, plan, CancelToken())
    assert registered.permissions_granted
    test = use_cases.test_connection(
        ConnectionInput(
            registered.tenant_id, registered.client_id, registered.client_secret, cloud=served.cloud
        ),
        CancelToken(),
    )
    assert all(result.status is not Status.FAIL for result in test.run())
    assert test.ok
