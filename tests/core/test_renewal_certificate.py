"""Renewing a certificate through the use cases against the demo tenant over real HTTPS on
loopback: the same order as a secret (add, verify with a token signed by the new key, save,
then remove the old one by its keyId), moving a secret connection to a certificate, what a
failure leaves, the journal (which never holds the private key), and an interrupted run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.certificates import CertificateCredential
from clearooms_wizard.core.model import SavedConnection
from clearooms_wizard.core.renewal import (
    AppCredential,
    CredentialKind,
    RenewalFailed,
    RenewalJournal,
    RenewalOutcome,
    RenewalRequest,
    RenewalStage,
    RenewalStep,
    RenewalUpdate,
    credential_status,
    journal_from_json,
    journal_to_json,
    saved_already,
)
from clearooms_wizard.core.usecases import UseCases
from clearooms_wizard.core.workspace import open_workspace
from clearooms_wizard.demo import data
from clearooms_wizard.demo.key_credentials import DEMO_CERTIFICATE_KEY_ID
from clearooms_wizard.demo.tenant import Fault
from tests.conftest import Served, ServeDemo
from tests.core.test_provisioning import QUICK, admin_for, use_cases_for


def _certificate(served: Served) -> CertificateCredential:
    made = served.tenant.scenario.credential_certificate()
    assert made is not None
    return made


def _certificate_keys(served: Served) -> set[str]:
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None
    return {k.key_id for k in app.key_credentials}


def _secret_keys(served: Served) -> set[str]:
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None
    return {s.key_id for s in app.secrets}


def _yes(old: AppCredential) -> bool:
    return True


def _renew(
    use_cases: UseCases,
    served: Served,
    confirm: object = _yes,
    **changes: object,
) -> tuple[RenewalOutcome, list[RenewalUpdate]]:
    values: dict[str, object] = {
        "tenant_id": data.TENANT_ID,
        "client_id": data.APP_ID,
        "certificate": True,
        "months": 6,
    }
    values.update(changes)
    updates: list[RenewalUpdate] = []
    outcome = use_cases.renew_secret(
        admin_for(served),
        RenewalRequest(**values),  # type: ignore[arg-type]
        confirm,  # type: ignore[arg-type]
        CancelToken(),
        updates.append,
    )
    return outcome, updates


def _saved(use_cases: UseCases) -> SavedConnection | None:
    with open_workspace(use_cases.workspace_path, read_only=True) as workspace:
        return workspace.load_connection()


def _private_key_lines(made: CertificateCredential) -> list[str]:
    return [line for line in made.private_key_pem.splitlines() if line and "-----" not in line]


def test_a_certificate_is_replaced_in_order_and_the_old_one_removed(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("certificate-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    old = _certificate(served)
    outcome, updates = _renew(use_cases, served, current_certificate=old)
    assert [u.stage for u in updates if u.state.value == "done"] == list(RenewalStage)
    assert all(u.kind is CredentialKind.CERTIFICATE for u in updates)
    assert updates[0].title == "Finding the app and its certificates"
    made = outcome.new_certificate
    assert made is not None and outcome.new_secret == ""
    assert made.sha1_thumbprint != old.sha1_thumbprint
    assert outcome.old is not None and outcome.old.key_id == DEMO_CERTIFICATE_KEY_ID
    assert outcome.old_removed
    assert _certificate_keys(served) == {outcome.new_key_id}
    # The secrets are not touched when a certificate replaces a certificate.
    assert _secret_keys(served) == {data.PREVIOUS_SECRET_KEY_ID, data.APP_SECRET_KEY_ID}
    assert use_cases.secrets.load_certificate(data.TENANT_ID, data.APP_ID) == made.keyring_text()
    saved = _saved(use_cases)
    assert saved is not None and saved.credential_kind == "certificate"
    assert saved.certificate_thumbprint == made.sha1_thumbprint
    assert saved.certificate_expires_at == made.not_after.isoformat()
    assert use_cases.unfinished_renewal() is None
    # The upload, then a token signed with the new key, and only then the old one's removal.
    log = served.tenant.request_log()
    patches = [i for i, r in enumerate(log) if r.method == "PATCH"]
    tokens = [i for i, r in enumerate(log) if r.path.endswith("/oauth2/v2.0/token")]
    assert len(patches) == 2 and patches[0] < max(tokens) < patches[1]


def test_a_secret_connection_moves_to_a_certificate_and_the_old_secret_goes(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    outcome, _ = _renew(use_cases, served, current_secret=data.APP_SECRET)
    assert outcome.old is not None and outcome.old.kind is CredentialKind.SECRET
    assert outcome.old.key_id == data.APP_SECRET_KEY_ID and outcome.old_removed
    assert data.APP_SECRET_KEY_ID not in _secret_keys(served)
    assert outcome.new_key_id in _certificate_keys(served)
    # From now on the app signs in with the certificate: a fresh status marks it in use.
    made = outcome.new_certificate
    assert made is not None
    app = served.tenant.registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None
    status = credential_status(
        app.to_graph(served.tenant.registry.now())
        | {"keyCredentials": [k.to_graph() for k in app.key_credentials]},
        None,
        current_thumbprint=made.sha1_thumbprint,
    )
    assert status.in_use is not None and status.in_use.key_id == outcome.new_key_id
    assert status.in_use.thumbprint == made.sha1_thumbprint


def test_keep_old_keeps_the_old_secret(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("secret-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    outcome, updates = _renew(use_cases, served, current_secret=data.APP_SECRET, keep_old=True)
    assert not outcome.old_removed and outcome.old_kept_because
    assert "old secret was kept" in outcome.old_kept_because
    assert data.APP_SECRET_KEY_ID in _secret_keys(served)
    assert updates[-1].state.value == "skipped"


def test_a_secret_not_made_by_clearooms_is_asked_about(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("secret-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    asked: list[AppCredential] = []

    def no(old: AppCredential) -> bool:
        asked.append(old)
        return False

    # The previous secret ("Clearooms (first setup)") was made in the portal, not by us.
    # A connection using that secret (its hint is Kp4) moves to a certificate.
    outcome, _ = _renew(use_cases, served, no, current_secret="Kp4-the-portal-secret")
    assert outcome.old is not None and outcome.old.key_id == data.PREVIOUS_SECRET_KEY_ID
    assert [c.key_id for c in asked] == [data.PREVIOUS_SECRET_KEY_ID]
    assert not outcome.old_removed and outcome.old_kept_because
    assert "not made by Clearooms" in outcome.old_kept_because
    assert data.PREVIOUS_SECRET_KEY_ID in _secret_keys(served)


def test_microsoft_never_accepting_the_new_certificate_keeps_the_old_one(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("certificate-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    old = _certificate(served)
    # Every token request fails on the wire: the new certificate is never proven.
    served.tenant.inject(Fault(r"/oauth2/v2.0/token$", "reset", times=None))
    with pytest.raises(RenewalFailed) as failed:
        _renew(use_cases, served, current_certificate=old)
    assert failed.value.stage is RenewalStage.VERIFY
    assert "Nothing was removed" in failed.value.problem
    assert DEMO_CERTIFICATE_KEY_ID in _certificate_keys(served)
    assert use_cases.secrets.load_certificate(data.TENANT_ID, data.APP_ID) is None
    journal = use_cases.unfinished_renewal()
    assert journal is not None and journal.step is RenewalStep.ADDED
    assert journal.new_kind is CredentialKind.CERTIFICATE and journal.new_thumbprint
    # The journal (and the whole workspace) holds public facts only, never a private key.
    workspace_bytes = (tmp_path / "ws.sqlite3").read_bytes()
    assert b"PRIVATE KEY" not in workspace_bytes
    [orphan] = _certificate_keys(served) - {DEMO_CERTIFICATE_KEY_ID}
    served.tenant.clear_faults()
    outcome, _ = _renew(use_cases, served, current_certificate=old)
    assert outcome.tidied and "unused certificate was removed" in outcome.tidied
    assert _certificate_keys(served) == {outcome.new_key_id}
    assert orphan != outcome.new_key_id
    made = outcome.new_certificate
    assert made is not None
    for line in _private_key_lines(made):
        assert line.encode() not in (tmp_path / "ws.sqlite3").read_bytes()


def test_slow_propagation_of_a_new_certificate_is_waited_for(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("certificate", replication_delay=1.0)
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    outcome, _ = _renew(use_cases, served, current_certificate=_certificate(served))
    assert outcome.old_removed and outcome.new_certificate is not None
    # Until the new certificate reached the sign-in service, Microsoft said AADSTS700027.
    refused = [
        r
        for r in served.tenant.request_log()
        if r.path.endswith("/oauth2/v2.0/token") and r.status == 401
    ]
    assert refused, "the new certificate was accepted at once: nothing was waited for"


def test_a_run_killed_after_saving_is_finished_by_the_next(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    """The keyring took the new key but the journal still says VERIFIED: the key saved here
    tells that the run is to be finished (old removed), not tidied (new removed)."""
    served = serve_demo("certificate-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    made, _ = _renew(use_cases, served, current_certificate=_certificate(served), keep_old=True)
    new = made.new_certificate
    assert new is not None
    journal = RenewalJournal(
        run_id="run",
        tenant_id=data.TENANT_ID,
        client_id=data.APP_ID,
        app_object_id=data.APP_OBJECT_ID,
        started_at=datetime.now(UTC).replace(microsecond=0),
        step=RenewalStep.VERIFIED,
        old_key_id=DEMO_CERTIFICATE_KEY_ID,
        old_name="Clearooms booking",
        new_key_id=made.new_key_id,
        new_kind=CredentialKind.CERTIFICATE,
        old_kind=CredentialKind.CERTIFICATE,
        new_thumbprint=new.sha1_thumbprint,
    )
    assert saved_already(journal, None).step is RenewalStep.VERIFIED
    assert saved_already(journal, new.sha1_thumbprint.upper()).step is RenewalStep.SAVED
    with open_workspace(use_cases.workspace_path) as workspace:
        workspace.save_renewal_journal(journal)
    text = use_cases.finish_renewal(
        admin_for(served), journal, None, _yes, CancelToken(), None, new
    )
    assert "the old certificate is now removed" in text
    assert _certificate_keys(served) == {made.new_key_id}
    assert use_cases.unfinished_renewal() is None
    # Without the new certificate here, a saved run is not finished blind.
    with pytest.raises(RenewalFailed, match="no longer has it"):
        use_cases.finish_renewal(
            admin_for(served),
            journal.__class__(**{**journal.__dict__, "step": RenewalStep.SAVED}),
            None,
            _yes,
            CancelToken(),
        )


def test_the_journal_round_trips_its_kinds_and_reads_older_ones_as_secrets() -> None:
    journal = RenewalJournal(
        run_id="r",
        tenant_id="t",
        client_id="c",
        app_object_id="o",
        started_at=datetime(2026, 1, 2, tzinfo=UTC),
        step=RenewalStep.STARTED,
        new_kind=CredentialKind.CERTIFICATE,
        new_thumbprint="AB" * 20,
    )
    back = journal_from_json(journal_to_json(journal))
    assert back is not None and back.new_kind is CredentialKind.CERTIFICATE
    assert back.old_kind is CredentialKind.SECRET and back.new_thumbprint == "ab" * 20
    older = journal_from_json(
        '{"run_id": "r", "tenant_id": "t", "client_id": "c", "app_object_id": "o", '
        '"started_at": "2026-01-02T00:00:00+00:00", "step": "saved"}'
    )
    assert older is not None and older.new_kind is CredentialKind.SECRET
    assert journal_from_json(journal_to_json(journal).replace("certificate", "fax")) is None


def test_status_marks_the_certificate_in_use_by_thumbprint() -> None:
    thumb = "0123456789abcdef0123456789abcdef01234567"
    application = {
        "id": data.APP_OBJECT_ID,
        "appId": data.APP_ID,
        "displayName": "App",
        "passwordCredentials": [
            {"keyId": data.APP_SECRET_KEY_ID, "hint": "abc", "displayName": "Clearooms wizard"}
        ],
        "keyCredentials": [
            {
                "keyId": DEMO_CERTIFICATE_KEY_ID,
                "customKeyIdentifier": thumb.upper(),
                "displayName": "CN=Clearooms booking x",
                "endDateTime": "2027-01-01T00:00:00Z",
            },
            {
                "keyId": data.PREVIOUS_SECRET_KEY_ID,
                "customKeyIdentifier": "F" * 40,
                "displayName": "Someone else's",
            },
        ],
    }
    status = credential_status(application, "abcdef", current_thumbprint=thumb.upper())
    assert status.in_use is not None and status.in_use.key_id == DEMO_CERTIFICATE_KEY_ID
    assert status.in_use.ours and status.in_use.to_json(status.checked_at)["thumbprint"] == (
        thumb.upper()
    )
    assert [c.in_use for c in status.secrets] == [False]
    assert len(status.certificates) == 2
    other = credential_status(application, "abcdef", current_thumbprint="e" * 40)
    assert other.in_use is None
    assert other.in_use_unknown_because and "certificates" in other.in_use_unknown_because


def test_a_new_certificate_never_accepted_in_time_is_noted_and_tidied_once_listed(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    import time

    served = serve_demo("certificate-expiring")
    use_cases = use_cases_for(served, tmp_path / "ws.sqlite3")
    use_cases.registration_policy = QUICK
    old = _certificate(served)
    # From now on Microsoft takes longer to take in a certificate than the renewal waits.
    served.tenant.registry.replication_delay = 3.0
    with pytest.raises(RenewalFailed) as failed:
        _renew(use_cases, served, current_certificate=old)
    assert "had still not accepted the new certificate" in failed.value.problem
    assert "the certificate saved on this computer is unchanged" in failed.value.problem
    assert DEMO_CERTIFICATE_KEY_ID in _certificate_keys(served)
    # Graph did not list it yet, so it could not be taken off: the journal keeps it for later.
    journal = use_cases.unfinished_renewal()
    assert journal is not None and journal.new_key_id in _certificate_keys(served)
    registry = served.tenant.registry
    app = registry.application(data.APP_OBJECT_ID, visible=False)
    assert app is not None
    deadline = time.monotonic() + 30
    while journal.new_key_id not in {k.key_id for k in registry.visible_certificates(app)}:
        assert time.monotonic() < deadline
        time.sleep(0.1)
        app = registry.application(data.APP_OBJECT_ID, visible=False)
        assert app is not None
    registry.replication_delay = 0.0
    outcome, _ = _renew(use_cases, served, current_certificate=old)
    assert outcome.tidied and "unused certificate was removed" in outcome.tidied
    assert _certificate_keys(served) == {outcome.new_key_id}
