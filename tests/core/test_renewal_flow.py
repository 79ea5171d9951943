"""Renewing the secret through the use cases against the demo tenant over real HTTPS on
loopback: the order (add, verify, save, remove), what a failure at each step leaves, the
journal, Stop, and the keyring's part."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.provisioning import RetryPolicy
from clearooms_wizard.core.renewal import (
    AppCredential,
    RenewalFailed,
    RenewalOutcome,
    RenewalRequest,
    RenewalStage,
    RenewalStep,
    RenewalUpdate,
    SecretsNotAllowed,
)
from clearooms_wizard.core.secrets import SaveOutcome
from clearooms_wizard.core.usecases import UseCases
from clearooms_wizard.core.values import Credentials
from clearooms_wizard.demo import data
from clearooms_wizard.demo.tenant import Fault
from tests.conftest import Served, ServeDemo
from tests.core.test_provisioning import QUICK, admin_for, use_cases_for


class NoKeyring:
    """A secret store on a computer without a keyring: kept in memory only."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}

    def load(self, tenant_id: str, client_id: str) -> str | None:
        return self.saved.get(client_id)

    def save(self, tenant_id: str, client_id: str, secret: str) -> SaveOutcome:
        self.saved[client_id] = secret
        return SaveOutcome(False, "no keyring here")

    def load_certificate(self, tenant_id: str, client_id: str) -> str | None:
        return self.saved.get(f"{client_id}/certificate")

    def save_certificate(self, tenant_id: str, client_id: str, text: str) -> SaveOutcome:
        self.saved[f"{client_id}/certificate"] = text
        return SaveOutcome(False, "no keyring here")


def _request(**changes: object) -> RenewalRequest:
    values: dict[str, object] = {
        "tenant_id": data.TENANT_ID,
        "client_id": data.APP_ID,
        "current_secret": data.APP_SECRET,
    }
    values.update(changes)
    return RenewalRequest(**values)  # type: ignore[arg-type]


def _keys(served: Served) -> set[str]:
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None
    return {s.key_id for s in app.secrets}


def _yes(old: AppCredential) -> bool:
    return True


def _renew(
    use_cases: UseCases, served: Served, **changes: object
) -> tuple[RenewalOutcome, list[RenewalUpdate]]:
    updates: list[RenewalUpdate] = []
    outcome = use_cases.renew_secret(
        admin_for(served), _request(**changes), _yes, CancelToken(), updates.append
    )
    return outcome, updates


def test_the_order_is_add_verify_save_then_remove(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("secret-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    updates: list[RenewalUpdate] = []
    outcome = use_cases.renew_secret(
        admin_for(served), _request(months=6), _yes, CancelToken(), updates.append
    )
    done = [u.stage for u in updates if u.state.value == "done"]
    assert done == list(RenewalStage)
    assert outcome.old_removed and outcome.months == 6 and not outcome.shortened
    assert data.APP_SECRET_KEY_ID not in _keys(served) and outcome.new_key_id in _keys(served)
    assert use_cases.secrets.load(data.TENANT_ID, data.APP_ID) == outcome.new_secret
    assert use_cases.unfinished_renewal() is None
    # The graph calls in that order: the remove only after the token with the new secret.
    log = served.tenant.request_log()
    add = next(i for i, r in enumerate(log) if r.path.endswith("/addPassword"))
    remove = next(i for i, r in enumerate(log) if r.path.endswith("/removePassword"))
    tokens = [i for i, r in enumerate(log) if r.path.endswith("/oauth2/v2.0/token")]
    assert add < max(tokens) < remove


def test_a_network_failure_while_verifying_removes_nothing_and_the_next_run_tidies(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    served.tenant.inject(Fault(r"/oauth2/v2.0/token$", "reset", times=None))
    with pytest.raises(RenewalFailed) as failed:
        _renew(use_cases, served)
    assert failed.value.stage is RenewalStage.VERIFY
    assert "Nothing was removed" in failed.value.problem
    assert data.APP_SECRET_KEY_ID in _keys(served) and len(_keys(served)) == 3
    journal = use_cases.unfinished_renewal()
    assert journal is not None and journal.step is RenewalStep.ADDED
    assert use_cases.secrets.load(data.TENANT_ID, data.APP_ID) is None
    served.tenant.clear_faults()
    outcome, _ = _renew(use_cases, served)
    assert outcome.tidied and "unused secret was removed" in outcome.tidied
    assert _keys(served) == {data.PREVIOUS_SECRET_KEY_ID, outcome.new_key_id}


def test_microsoft_never_accepting_the_new_secret_removes_only_that_one(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring", replication_delay=30.0)
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    with pytest.raises(RenewalFailed) as failed:
        _renew(use_cases, served)
    assert "had still not accepted" in failed.value.problem
    assert "still works" in failed.value.problem
    assert _keys(served) == {data.PREVIOUS_SECRET_KEY_ID, data.APP_SECRET_KEY_ID}
    assert use_cases.unfinished_renewal() is None


def test_slow_propagation_is_waited_for(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("renewal-slow-propagation", replication_delay=1.0)
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = RetryPolicy(first_delay=0.2, max_delay=0.5)
    outcome, _ = _renew(use_cases, served)
    refused = [
        r for r in served.tenant.request_log() if r.path.endswith("/token") and r.status == 401
    ]
    assert refused and outcome.old_removed


def test_keep_old_and_no_keyring_keep_the_old_secret(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("secret-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    outcome, _ = _renew(use_cases, served, keep_old=True)
    assert not outcome.old_removed and data.APP_SECRET_KEY_ID in _keys(served)
    bare = UseCases(use_cases.open_session, tmp_path / "bare.sqlite3", NoKeyring())
    outcome, _ = _renew(bare, served, current_secret=outcome.new_secret)
    assert not outcome.kept_in_keyring and not outcome.old_removed
    assert "no keyring" in str(outcome.old_kept_because)


def test_a_secret_not_made_by_clearooms_is_asked_about(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    asked: list[AppCredential] = []

    def no(old: AppCredential) -> bool:
        asked.append(old)
        return False

    first = use_cases.renew_secret(admin_for(served), _request(), no, CancelToken())
    assert [a.key_id for a in asked] == [data.APP_SECRET_KEY_ID]
    assert not first.old_removed and "not made by Clearooms" in str(first.old_kept_because)
    # The next renewal replaces the wizard's own secret without asking.
    second = use_cases.renew_secret(
        admin_for(served), _request(current_secret=first.new_secret), no, CancelToken()
    )
    assert len(asked) == 1 and second.old_removed and first.new_key_id not in _keys(served)


def test_policies_and_rights_fail_plainly_and_change_nothing(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    for scenario, error, words in (
        ("register-no-secrets", SecretsNotAllowed, "certificate"),
        ("register-no-rights", RenewalFailed, "Cloud Application Administrator"),
    ):
        served = serve_demo(scenario)
        use_cases = use_cases_for(served, tmp_path / f"{scenario}.sqlite3")
        before = _keys(served)
        with pytest.raises(error) as failed:
            _renew(use_cases, served)
        assert words in failed.value.problem and "Nothing was changed" in failed.value.problem
        assert _keys(served) == before
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "other.sqlite3")
    with pytest.raises(RenewalFailed, match="No app with the client ID"):
        _renew(use_cases, served, client_id="0b7d5c1e-0000-4f38-b6e1-3c9a7d2f8e41")


def test_stop_while_verifying_leaves_the_journal_for_the_next_run(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring", replication_delay=30.0)
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    cancel = CancelToken()

    def progress(update: RenewalUpdate) -> None:
        if update.stage is RenewalStage.VERIFY:
            cancel.cancel()

    with pytest.raises(Cancelled):
        use_cases.renew_secret(admin_for(served), _request(), _yes, cancel, progress)
    journal = use_cases.unfinished_renewal()
    assert journal is not None and journal.step is RenewalStep.ADDED
    assert data.APP_SECRET_KEY_ID in _keys(served)


def test_status_as_the_app_and_as_an_administrator(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("secret-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    credentials = Credentials(data.TENANT_ID, data.APP_ID, data.APP_SECRET)
    as_app = use_cases.secret_status(credentials, served.cloud, CancelToken())
    as_admin = use_cases.secret_status(credentials, served.cloud, CancelToken(), admin_for(served))
    for status in (as_app, as_admin):
        assert status.in_use is not None and status.in_use.key_id == data.APP_SECRET_KEY_ID
        assert [c.key_id for c in status.credentials] == [
            data.PREVIOUS_SECRET_KEY_ID,
            data.APP_SECRET_KEY_ID,
        ]
