"""Renewing the app's client secret (or its certificate) before it expires, with an
administrator's (or owner's) sign-in, in an order that never leaves the app without a working
credential.

A renewal adds a new secret (``addPassword``), waits until Microsoft signs the app in with it (a
fresh client-credentials token), saves it (the keyring), and only then removes the secret it
replaces (``removePassword`` by its keyId). A journal in the workspace says how far a renewal
got, written before each step starts: a process stopped or killed between two steps is finished
or explained by the next run. The new secret's text is never written to the journal, a log or a
message; it goes to the keyring only.

A certificate is renewed the same way and in the same order: a new key pair and certificate are
made here, the public half is added to the app's certificates (keeping the others), a token
signed with the new key proves Microsoft accepts it, the key goes to the keyring, and only then
is the old certificate (told by its thumbprint), or the old secret when a connection moves from
a secret to a certificate, removed. The journal holds the new certificate's thumbprint and keyId,
which are public, never its private key.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from clearooms_wizard.core.app_setup import DEFAULT_SECRET_MONTHS, StepState
from clearooms_wizard.core.errors import ClearoomsError, GraphError, SignInError
from clearooms_wizard.core.provisioning import (
    SECRET_NAME_PREFIX,
    AdminGraph,
    Failure,
    RetryPolicy,
    StillWaiting,
    add_password,
    check_secret_months,
    classify,
    retrying,
    shorter_secret_months,
    wait_for_roles,
)
from clearooms_wizard.core.responses import parse_graph_time
from clearooms_wizard.core.safetext import printable

if TYPE_CHECKING:
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.core.clouds import Cloud
    from clearooms_wizard.core.http import MicrosoftSession
    from clearooms_wizard.core.secrets import SaveOutcome

log = logging.getLogger(__name__)

# What the saving step says when the keyring took the new credential without a word.
KEPT_IN_KEYRING = "Saved in this computer's keyring."

# Whoever may add and remove an app's secrets, as Microsoft decides it.
WHO_CAN_RENEW = (
    "the app's owner, an Application Administrator, a Cloud Application Administrator or a "
    "Global Administrator"
)
# Secrets made by this tool carry this name (see provisioning.SECRET_NAME_PREFIX).
OUR_SECRET_PREFIX = SECRET_NAME_PREFIX
# A secret's dates as Graph sends them may differ from what was saved by a fraction of a second.
_SAME_MOMENT = timedelta(minutes=1)
# How far before a journal's start a secret of ours may say it started (clock skew).
_CLOCK_SKEW = timedelta(minutes=5)
_APP_FIELDS = "id,appId,displayName,passwordCredentials,keyCredentials"
# Certificates made by this tool are named so (certificate_upload.certificate_name and the
# certificate's subject, which the portal shows as its name).
_OUR_CERTIFICATE_PREFIXES = ("Clearooms booking", "CN=Clearooms booking")


class CredentialKind(StrEnum):
    SECRET = "secret"
    CERTIFICATE = "certificate"


@dataclass(frozen=True)
class AppCredential:
    """One of the app's secrets or certificates, as Microsoft lists it (never its value)."""

    kind: CredentialKind
    key_id: str
    display_name: str
    hint: str | None
    start: datetime | None
    end: datetime | None
    in_use: bool = False
    # A certificate's SHA-1 thumbprint (lower-case hex), from its customKeyIdentifier.
    thumbprint: str | None = None

    @property
    def ours(self) -> bool:
        """Made by this tool (the wizard or the command line)."""
        if self.kind is CredentialKind.CERTIFICATE:
            return self.display_name.startswith(_OUR_CERTIFICATE_PREFIXES)
        return self.display_name.startswith(OUR_SECRET_PREFIX)

    def expired(self, now: datetime) -> bool:
        return self.end is not None and self.end <= now

    def days_left(self, now: datetime) -> int | None:
        return None if self.end is None else (self.end - now).days

    def to_json(self, now: datetime) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "key_id": self.key_id,
            "display_name": self.display_name,
            "hint": self.hint,
            "thumbprint": self.thumbprint.upper() if self.thumbprint else None,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "expired": self.expired(now),
            "in_use": self.in_use,
            "made_by_clearooms": self.ours,
        }


@dataclass(frozen=True)
class CredentialStatus:
    """The app's secrets and certificates, and which secret this computer uses."""

    app_object_id: str
    client_id: str
    app_name: str
    credentials: tuple[AppCredential, ...]
    checked_at: datetime
    # Why no secret is marked as in use, when none is.
    in_use_unknown_because: str | None = None

    @property
    def in_use(self) -> AppCredential | None:
        return next((c for c in self.credentials if c.in_use), None)

    @property
    def secrets(self) -> tuple[AppCredential, ...]:
        return tuple(c for c in self.credentials if c.kind is CredentialKind.SECRET)

    @property
    def certificates(self) -> tuple[AppCredential, ...]:
        return tuple(c for c in self.credentials if c.kind is CredentialKind.CERTIFICATE)

    def to_json(self) -> dict[str, object]:
        now = self.checked_at
        in_use = self.in_use
        return {
            "app": {
                "name": self.app_name,
                "client_id": self.client_id,
                "object_id": self.app_object_id,
            },
            "checked_at": now.isoformat(timespec="seconds"),
            "credentials": [c.to_json(now) for c in self.credentials],
            "in_use": None if in_use is None else in_use.key_id,
            "in_use_expires": None
            if in_use is None or in_use.end is None
            else in_use.end.isoformat(),
            "in_use_days_left": None if in_use is None else in_use.days_left(now),
            "in_use_unknown_because": self.in_use_unknown_because,
        }


def _text(value: object, limit: int = 120) -> str:
    text = printable(value if isinstance(value, str) else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _listed(application: dict[str, Any], name: str, kind: CredentialKind) -> list[AppCredential]:
    from clearooms_wizard.core.certificates import thumbprint_from_key_identifier

    raw = application.get(name)
    found: list[AppCredential] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        key_id = _key_id(item.get("keyId"))
        if key_id is None:
            continue
        hint = item.get("hint") if kind is CredentialKind.SECRET else None
        found.append(
            AppCredential(
                kind,
                key_id,
                _text(item.get("displayName")),
                _text(hint, 8) if isinstance(hint, str) else None,
                parse_graph_time(item.get("startDateTime")),
                parse_graph_time(item.get("endDateTime")),
                thumbprint=thumbprint_from_key_identifier(item.get("customKeyIdentifier"))
                if kind is CredentialKind.CERTIFICATE
                else None,
            )
        )
    return found


def credential_status(
    application: dict[str, Any],
    current_secret: str | None,
    *,
    saved_expiry: datetime | None = None,
    now: datetime | None = None,
    current_thumbprint: str | None = None,
) -> CredentialStatus:
    """The app's credentials from its Graph object, with the one in use marked: the certificate
    whose thumbprint is ``current_thumbprint`` when the connection signs in with a certificate;
    else the secret whose hint (its first three characters) is the saved secret's, told apart by
    its end date when several share a hint. Sorted: secrets, then certificates, by end date."""
    now = now or datetime.now(UTC)
    listed = _listed(application, "passwordCredentials", CredentialKind.SECRET)
    certificates = _listed(application, "keyCredentials", CredentialKind.CERTIFICATE)
    reason: str | None = None
    in_use: str | None = None
    if current_thumbprint:
        wanted = current_thumbprint.lower()
        in_use = next((c.key_id for c in certificates if c.thumbprint == wanted), None)
        reason = "None of the app's certificates matches the one saved on this computer."
    elif not current_secret:
        reason = "No client secret is saved on this computer, so the one in use is unknown."
    else:
        matching = [c for c in listed if c.hint == current_secret[:3]]
        if saved_expiry is not None and len(matching) > 1:
            matching = [
                c
                for c in matching
                if c.end is not None and abs(c.end - saved_expiry) < _SAME_MOMENT
            ]
        if len(matching) == 1:
            in_use = matching[0].key_id
        elif not matching:
            reason = "None of the app's secrets matches the one saved on this computer."
        else:
            reason = (
                "Several of the app's secrets begin like the saved one, so it is not known which."
            )
    marked = [replace(c, in_use=c.key_id == in_use) for c in listed]
    marked_certificates = [replace(c, in_use=c.key_id == in_use) for c in certificates]
    far = datetime.max.replace(tzinfo=UTC)

    def order(c: AppCredential) -> tuple[datetime, str]:
        return (c.end or far, c.key_id)

    credentials = (*sorted(marked, key=order), *sorted(marked_certificates, key=order))
    return CredentialStatus(
        app_object_id=_text(application.get("id"), 64),
        client_id=_text(application.get("appId"), 64),
        app_name=_text(application.get("displayName")),
        credentials=credentials,
        checked_at=now,
        in_use_unknown_because=None if in_use else reason,
    )


# -- the journal -------------------------------------------------------------------------------


class RenewalStep(StrEnum):
    """How far a renewal got: each is written down before the next step starts."""

    # About to add the new secret (it may exist if the answer was lost).
    STARTED = "started"
    # Added; its text is known only to the process that added it.
    ADDED = "added"
    # Microsoft signs the app in with it; not saved yet.
    VERIFIED = "verified"
    # Saved (the keyring): from here on the old one may go.
    SAVED = "saved"


@dataclass(frozen=True)
class RenewalJournal:
    run_id: str
    tenant_id: str
    client_id: str
    app_object_id: str
    started_at: datetime
    step: RenewalStep
    # The secret being replaced, when it is known; kept when remove_old is False.
    old_key_id: str | None = None
    old_name: str = ""
    remove_old: bool = True
    new_key_id: str | None = None
    new_expires_at: datetime | None = None
    # What the new credential is, and what it replaces (a secret, or a certificate).
    new_kind: CredentialKind = CredentialKind.SECRET
    old_kind: CredentialKind = CredentialKind.SECRET
    # A new certificate's SHA-1 thumbprint (public): written before it is uploaded, so that a
    # run killed while uploading can still find it.
    new_thumbprint: str | None = None


def journal_to_json(journal: RenewalJournal) -> str:
    return json.dumps(
        {
            "run_id": journal.run_id,
            "tenant_id": journal.tenant_id,
            "client_id": journal.client_id,
            "app_object_id": journal.app_object_id,
            "started_at": journal.started_at.isoformat(),
            "step": journal.step.value,
            "old_key_id": journal.old_key_id,
            "old_name": journal.old_name,
            "remove_old": journal.remove_old,
            "new_key_id": journal.new_key_id,
            "new_expires_at": journal.new_expires_at.isoformat()
            if journal.new_expires_at
            else None,
            "new_kind": journal.new_kind.value,
            "old_kind": journal.old_kind.value,
            "new_thumbprint": journal.new_thumbprint,
        }
    )


def journal_from_json(text: object) -> RenewalJournal | None:
    """The journal, or None when it cannot be read (never guessed at)."""
    try:
        raw = json.loads(str(text))
        started = parse_graph_time(raw["started_at"])
        step = RenewalStep(str(raw["step"]))
        # Journals written before certificates were renewed name no kinds: secrets.
        new_kind = CredentialKind(str(raw.get("new_kind") or CredentialKind.SECRET.value))
        old_kind = CredentialKind(str(raw.get("old_kind") or CredentialKind.SECRET.value))
    except (TypeError, ValueError, KeyError, RecursionError):
        return None
    ids = {k: raw.get(k) for k in ("run_id", "tenant_id", "client_id", "app_object_id")}
    if started is None or not all(isinstance(v, str) and v for v in ids.values()):
        return None
    return RenewalJournal(
        run_id=str(ids["run_id"]),
        tenant_id=str(ids["tenant_id"]),
        client_id=str(ids["client_id"]),
        app_object_id=str(ids["app_object_id"]),
        started_at=started,
        step=step,
        old_key_id=_key_id(raw.get("old_key_id")),
        old_name=_text(raw.get("old_name")),
        remove_old=raw.get("remove_old") is not False,
        new_key_id=_key_id(raw.get("new_key_id")),
        new_expires_at=parse_graph_time(raw.get("new_expires_at")),
        new_kind=new_kind,
        old_kind=old_kind,
        new_thumbprint=_thumbprint(raw.get("new_thumbprint")),
    )


def _thumbprint(value: object) -> str | None:
    if not isinstance(value, str) or len(value) != 40:
        return None
    text = value.lower()
    return text if all(c in "0123456789abcdef" for c in text) else None


class RenewalStore(Protocol):
    """Where the journal is kept (the workspace)."""

    def load(self) -> RenewalJournal | None: ...

    def save(self, journal: RenewalJournal) -> None: ...

    def clear(self) -> None: ...


def describe_unfinished(journal: RenewalJournal) -> str:
    """What an interrupted renewal left, in words, without signing in."""
    when = f"{journal.started_at:%d %B %Y %H:%M} UTC".lstrip("0")
    if journal.new_kind is CredentialKind.CERTIFICATE:
        return _describe_unfinished_certificate(journal, when)
    if journal.step is RenewalStep.SAVED:
        keep = (
            "The new secret works and is saved; the old one is still in place, to be removed."
            if journal.remove_old and journal.old_key_id
            else "The new secret works and is saved."
        )
        return (
            f"A renewal of the client secret started {when} stopped before it finished. {keep} "
            "Run the renewal again (an administrator signs in) to finish it."
        )
    return (
        f"A renewal of the client secret started {when} stopped before the new secret was "
        "saved, so the secret saved on this computer is still the one in use; nothing was "
        "removed. Renewing again tidies up the unused new secret and starts afresh."
    )


def _describe_unfinished_certificate(journal: RenewalJournal, when: str) -> str:
    old = "secret" if journal.old_kind is CredentialKind.SECRET else "certificate"
    if journal.step is RenewalStep.SAVED:
        keep = (
            f"The new certificate works and is saved; the old {old} is still in place, to be "
            "removed."
            if journal.remove_old and journal.old_key_id
            else "The new certificate works and is saved."
        )
        return (
            f"A renewal of the certificate started {when} stopped before it finished. {keep} "
            "Run the renewal again (an administrator signs in) to finish it."
        )
    return (
        f"A renewal of the certificate started {when} stopped before the new certificate was "
        f"saved, so the {old} saved on this computer is still the one in use; nothing was "
        "removed. Renewing again tidies up the unused new certificate and starts afresh."
    )


# -- renewing ----------------------------------------------------------------------------------


class RenewalStage(StrEnum):
    FIND_APP = "find-app"
    ADD = "add"
    VERIFY = "verify"
    SAVE = "save"
    REMOVE_OLD = "remove-old"


STAGE_TITLES: dict[RenewalStage, str] = {
    RenewalStage.FIND_APP: "Finding the app and its secrets",
    RenewalStage.ADD: "Adding a new client secret",
    RenewalStage.VERIFY: "Checking that Microsoft accepts it",
    RenewalStage.SAVE: "Saving it on this computer",
    RenewalStage.REMOVE_OLD: "Removing the old secret",
}
CERTIFICATE_STAGE_TITLES: dict[RenewalStage, str] = {
    RenewalStage.FIND_APP: "Finding the app and its certificates",
    RenewalStage.ADD: "Adding a new certificate",
    RenewalStage.VERIFY: "Checking that Microsoft accepts it",
    RenewalStage.SAVE: "Saving its private key on this computer",
    RenewalStage.REMOVE_OLD: "Removing the old one",
}


@dataclass(frozen=True)
class RenewalUpdate:
    stage: RenewalStage
    state: StepState
    detail: str = ""
    # What is being renewed to: a secret, or a certificate.
    kind: CredentialKind = CredentialKind.SECRET

    @property
    def title(self) -> str:
        titles = STAGE_TITLES if self.kind is CredentialKind.SECRET else CERTIFICATE_STAGE_TITLES
        return titles[self.stage]


@dataclass(frozen=True)
class RenewalRequest:
    """What to renew: the app (by client ID, in the signed-in administrator's organisation)
    and the secret this computer has now, which is the one to replace."""

    tenant_id: str
    client_id: str
    current_secret: str | None = field(default=None, repr=False)
    saved_expiry: datetime | None = None
    months: int = DEFAULT_SECRET_MONTHS
    keep_old: bool = False
    # Without a keyring the new secret lives only in memory: removing the old one then is
    # safe only when the caller hands the new one over (--show-secret, the Connect page).
    remove_old_without_keyring: bool = False
    # Renew to a certificate: the certificate in use now, or, from a secret, switch to one.
    certificate: bool = False
    # The certificate this computer signs in with now (its thumbprint tells the old one).
    current_certificate: CertificateCredential | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RenewalOutcome:
    client_id: str
    new_key_id: str
    new_secret: str = field(repr=False)
    expires_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    months: int = DEFAULT_SECRET_MONTHS
    shortened: bool = False
    kept_in_keyring: bool = True
    save_message: str | None = None
    old: AppCredential | None = None
    old_removed: bool = False
    # Why the old secret is still there, when it is.
    old_kept_because: str | None = None
    # What an earlier, interrupted renewal left and this run tidied.
    tidied: str | None = None
    # The new certificate, when the renewal was to a certificate (new_secret is then "").
    new_certificate: CertificateCredential | None = field(default=None, repr=False)

    @property
    def kind(self) -> CredentialKind:
        return CredentialKind.SECRET if self.new_certificate is None else CredentialKind.CERTIFICATE


class RenewalFailed(ClearoomsError):
    """A renewal stopped: at which stage, and plainly, whether the old secret still works."""

    def __init__(self, problem: str, stage: RenewalStage) -> None:
        super().__init__(problem)
        self.problem = problem
        self.stage = stage


class SecretsNotAllowed(RenewalFailed):
    """The organisation's policy forbids client secrets: a certificate is the way."""


# Saves the new secret (keyring, and its end date in the workspace).
SaveSecret = Callable[[str, datetime], "SaveOutcome"]
# Saves the new certificate (its private key in the keyring, its public facts in the workspace).
SaveCertificate = Callable[["CertificateCredential"], "SaveOutcome"]
# Asked before removing a secret this tool did not make; True removes it.
ConfirmRemoval = Callable[[AppCredential], bool]


def _not_found(client_id: str) -> str:
    return (
        f"No app with the client ID {printable(client_id)} was found in the organisation the "
        "administrator signed in to. Check the Client ID on the Connect page, and that the "
        "administrator belongs to the app's organisation. Nothing was changed."
    )


def _who(username: str) -> str:
    return printable(username) or "this account"


def _graph_problem(error: GraphError, stage: RenewalStage, username: str, client_id: str) -> str:
    kind = classify(error)
    unchanged = (
        " Nothing was changed: the secret in use now is untouched."
        if stage in (RenewalStage.FIND_APP, RenewalStage.ADD)
        else ""
    )
    if kind is Failure.DENIED:
        return (
            f"Microsoft does not let {_who(username)} change this app's secrets. Ask "
            f"{WHO_CAN_RENEW} to sign in and renew it.{unchanged}"
        )
    if kind is Failure.SECRETS_NOT_ALLOWED:
        return (
            "Your organisation does not allow client secrets on apps (an app management "
            "policy), so a new one cannot be added. A certificate is the way for this "
            "organisation: renew with a certificate instead (Certificate on the Connect page, "
            f"or clearooms-wizard secret renew --certificate).{unchanged}"
        )
    if kind is Failure.SIGNED_OUT:
        return f"Microsoft no longer accepts the administrator's sign-in. Sign in again.{unchanged}"
    if kind is Failure.THROTTLED:
        return f"Microsoft is busy and asked us to slow down. Wait a few minutes.{unchanged}"
    if error.status == 404 and stage is RenewalStage.FIND_APP:
        return _not_found(client_id)
    return (
        f"Microsoft refused while {STAGE_TITLES[stage].lower()}: “{_text(error.message, 200)}” "
        f"({error.status} {_text(error.code, 60)}).{unchanged}"
    )


class _Renewal:
    """One renew_secret call."""

    def __init__(
        self,
        graph: AdminGraph,
        store: RenewalStore,
        username: str,
        client_id: str,
        progress: Callable[[RenewalUpdate], None] | None,
        policy: RetryPolicy,
    ) -> None:
        self.graph = graph
        self.store = store
        self.username = username
        self.client_id = client_id
        self.progress = progress
        self.policy = policy
        self.stage = RenewalStage.FIND_APP
        # What is being renewed to: the steps' titles and messages say so.
        self.kind = CredentialKind.SECRET

    def report(self, stage: RenewalStage, state: StepState, detail: str = "") -> None:
        self.stage = stage
        if self.progress is not None:
            self.progress(RenewalUpdate(stage, state, detail, self.kind))

    def fail(self, problem: str, cls: type[RenewalFailed] = RenewalFailed) -> RenewalFailed:
        self.report(self.stage, StepState.FAILED, problem)
        return cls(problem, self.stage)

    def graph_failure(self, error: GraphError) -> RenewalFailed:
        problem = _graph_problem(error, self.stage, self.username, self.client_id)
        cls = SecretsNotAllowed if classify(error) is Failure.SECRETS_NOT_ALLOWED else RenewalFailed
        return self.fail(problem, cls)

    def retry(self, call: Callable[[], Any]) -> Any:
        return retrying(call, self.policy.object_deadline, self.policy, self.graph.cancel,
                        f"renewal {self.stage.value}")  # fmt: skip

    def remove(
        self, app_object_id: str, key_id: str, kind: CredentialKind = CredentialKind.SECRET
    ) -> bool:
        """Remove a secret (or a certificate) by its keyId; False when it was gone already."""
        if kind is CredentialKind.CERTIFICATE:
            from clearooms_wizard.core.certificate_upload import remove_certificate

            removed = bool(
                self.retry(lambda: remove_certificate(self.graph, app_object_id, key_id))
            )
            log.info("removed certificate %s from app %s: %s", key_id, app_object_id, removed)
            return removed
        try:
            self.retry(
                lambda: self.graph.send(
                    "POST",
                    f"/applications/{app_object_id}/removePassword",
                    body={"keyId": key_id},
                )
            )
        except GraphError as exc:
            if exc.status in (400, 404):
                return False
            raise
        log.info("removed secret %s from app %s", key_id, app_object_id)
        return True


def read_application(graph: AdminGraph, client_id: str) -> dict[str, Any] | None:
    """The app's Graph object by its client ID, with its credentials; None when not found."""
    key = str(uuid.UUID(client_id))
    return graph.get_or_none(f"/applications(appId='{key}')", {"$select": _APP_FIELDS})


def status_with_admin(
    graph: AdminGraph,
    username: str,
    client_id: str,
    current_secret: str | None,
    saved_expiry: datetime | None = None,
    *,
    current_thumbprint: str | None = None,
) -> CredentialStatus:
    try:
        application = read_application(graph, client_id)
    except GraphError as exc:
        raise RenewalFailed(
            _graph_problem(exc, RenewalStage.FIND_APP, username, client_id), RenewalStage.FIND_APP
        ) from None
    if application is None:
        raise RenewalFailed(_not_found(client_id), RenewalStage.FIND_APP)
    return credential_status(
        application,
        current_secret,
        saved_expiry=saved_expiry,
        current_thumbprint=current_thumbprint,
    )


def _tidy_unfinished(run: _Renewal, journal: RenewalJournal, current_hint: str | None) -> str:
    """Remove the unusable new secret an interrupted renewal made before saving it (its text
    was lost with the process). Returns what was done, in words."""
    if journal.new_kind is CredentialKind.CERTIFICATE:
        return _tidy_unfinished_certificate(run, journal)
    removed = 0
    if journal.new_key_id is not None:
        removed += run.remove(journal.app_object_id, journal.new_key_id)
    else:
        # Stopped while adding: a secret of ours made since then, not the one in use, is it.
        application = read_application(run.graph, journal.client_id)
        since = journal.started_at - _CLOCK_SKEW
        for secret in _listed(application or {}, "passwordCredentials", CredentialKind.SECRET):
            if (
                secret.ours
                and secret.start is not None
                and secret.start >= since
                and secret.hint != current_hint
                and secret.key_id != journal.old_key_id
            ):
                removed += run.remove(journal.app_object_id, secret.key_id)
    run.store.clear()
    log.info("tidied an interrupted renewal (run %s): removed %d unused secret(s)",
             journal.run_id, removed)  # fmt: skip
    if removed:
        return (
            "An earlier renewal stopped before saving its new secret; that unused secret was "
            "removed."
        )
    return "An earlier renewal stopped before saving its new secret; nothing of it was left."


def _tidy_unfinished_certificate(run: _Renewal, journal: RenewalJournal) -> str:
    """Remove the new certificate an interrupted renewal uploaded but did not save (its private
    key was lost with the process): by its keyId, or, when the run stopped while uploading, by
    the thumbprint it wrote down first."""
    key_id = journal.new_key_id
    if key_id is None and journal.new_thumbprint is not None:
        application = read_application(run.graph, journal.client_id)
        listed = _listed(application or {}, "keyCredentials", CredentialKind.CERTIFICATE)
        key_id = next((c.key_id for c in listed if c.thumbprint == journal.new_thumbprint), None)
    removed = key_id is not None and run.remove(
        journal.app_object_id, key_id, CredentialKind.CERTIFICATE
    )
    run.store.clear()
    log.info("tidied an interrupted certificate renewal (run %s): removed %s",
             journal.run_id, key_id if removed else "nothing")  # fmt: skip
    if removed:
        return (
            "An earlier renewal stopped before saving its new certificate; that unused "
            "certificate was removed."
        )
    return "An earlier renewal stopped before saving its new certificate; nothing of it was left."


def saved_already(journal: RenewalJournal, current_thumbprint: str | None) -> RenewalJournal:
    """A certificate renewal killed after the keyring took the new key but before its journal
    said so: the key saved here is the new one, so the run is finished, not tidied."""
    if (
        journal.new_kind is CredentialKind.CERTIFICATE
        and journal.step is RenewalStep.VERIFIED
        and current_thumbprint is not None
        and journal.new_thumbprint == current_thumbprint.lower()
    ):
        return replace(journal, step=RenewalStep.SAVED)
    return journal


def finish_unfinished(
    graph: AdminGraph,
    store: RenewalStore,
    journal: RenewalJournal,
    username: str,
    current_secret: str | None,
    confirm_removal: ConfirmRemoval,
    progress: Callable[[RenewalUpdate], None] | None = None,
    policy: RetryPolicy | None = None,
    *,
    current_thumbprint: str | None = None,
) -> str:
    """Finish (the new secret was saved: remove the old one, as planned) or tidy (it was not:
    remove the unused new one) what an interrupted renewal left. Returns what was done. A
    certificate renewal is told by ``current_thumbprint``, the certificate saved here now."""
    run = _Renewal(graph, store, username, journal.client_id, progress, policy or RetryPolicy())
    run.kind = journal.new_kind
    journal = saved_already(journal, current_thumbprint)
    try:
        if journal.step is not RenewalStep.SAVED:
            return _tidy_unfinished(run, journal, current_secret[:3] if current_secret else None)
        if journal.new_kind is CredentialKind.CERTIFICATE:
            if current_thumbprint is None or current_thumbprint.lower() != journal.new_thumbprint:
                raise RenewalFailed(
                    "An earlier renewal saved a new certificate, but this computer no longer "
                    "has it, so the old one is kept. Check the connection with Test Settings.",
                    RenewalStage.REMOVE_OLD,
                )
        elif current_secret is None or journal.new_key_id is None:
            raise RenewalFailed(
                "An earlier renewal saved a new secret, but this computer no longer has it, so "
                "the old secret is kept. Check the connection with Test Settings.",
                RenewalStage.REMOVE_OLD,
            )
        run.report(RenewalStage.REMOVE_OLD, StepState.RUNNING)
        text = _finish_removal(run, journal, confirm_removal)
        run.report(RenewalStage.REMOVE_OLD, StepState.DONE, text)
        return text
    except GraphError as exc:
        raise run.graph_failure(exc) from None


def _finish_removal(run: _Renewal, journal: RenewalJournal, confirm: ConfirmRemoval) -> str:
    new = "secret" if journal.new_kind is CredentialKind.SECRET else "certificate"
    old_word = "secret" if journal.old_kind is CredentialKind.SECRET else "certificate"
    if not journal.remove_old or journal.old_key_id is None:
        run.store.clear()
        return f"An earlier renewal had finished all but its notes; the old {old_word} was kept."
    old = AppCredential(journal.old_kind, journal.old_key_id, journal.old_name, None, None,
                        None)  # fmt: skip
    if _ask_first(old) and not confirm(old):
        run.store.clear()
        return (
            f"Finished an earlier renewal that had stopped: its new {new} works and is saved, "
            f"and the old {old_word} “{old.display_name}”, not made by Clearooms, was kept."
        )
    gone = not run.remove(journal.app_object_id, journal.old_key_id, journal.old_kind)
    run.store.clear()
    return (
        f"Finished an earlier renewal that had stopped: its new {new} works and is saved, and "
        + (
            f"the old {old_word} was gone already."
            if gone
            else f"the old {old_word} is now removed."
        )
    )


def _ask_first(old: AppCredential) -> bool:
    """Whether removing ``old`` needs a yes first. A certificate is only ever replaced when its
    thumbprint is the one whose private key this computer holds, which only this tool made: it
    is not asked about. A secret not made by Clearooms may be used by something else."""
    return old.kind is CredentialKind.SECRET and not old.ours


def renew_secret(
    graph: AdminGraph,
    session: MicrosoftSession,
    cloud: Cloud,
    request: RenewalRequest,
    username: str,
    store: RenewalStore,
    save: SaveSecret,
    confirm_removal: ConfirmRemoval,
    progress: Callable[[RenewalUpdate], None] | None = None,
    policy: RetryPolicy | None = None,
    *,
    save_certificate: SaveCertificate | None = None,
) -> RenewalOutcome:
    """Add a new secret, verify it with a fresh token, save it, then remove the one it
    replaces (asking first when this tool did not make it). Raises RenewalFailed, saying
    whether the old secret still works; Cancelled when stopped, with the journal as far as it
    got (the next run tidies or finishes it). With ``request.certificate``, the same for a new
    certificate (saved with ``save_certificate``), which replaces the certificate in use or,
    from a secret, the secret."""
    months = check_secret_months(request.months)
    run = _Renewal(graph, store, username, request.client_id, progress, policy or RetryPolicy())
    if request.certificate:
        run.kind = CredentialKind.CERTIFICATE
    try:
        if request.certificate:
            if save_certificate is None:
                raise ClearoomsError("There is nowhere to save a new certificate.")
            return _renew_certificate(run, session, cloud, request, months, save_certificate,
                                      confirm_removal)  # fmt: skip
        return _renew(run, session, cloud, request, months, save, confirm_removal)
    except RenewalFailed:
        raise
    except GraphError as exc:
        raise run.graph_failure(exc) from None
    except ClearoomsError as exc:
        # The network, the keyring or the workspace: say plainly where that leaves the secrets.
        stopped = _STOPPED_AT if run.kind is CredentialKind.SECRET else _CERTIFICATE_STOPPED_AT
        raise run.fail(f"{_text(str(exc), 300)} {stopped[run.stage]}") from None


_STOPPED_AT = {
    RenewalStage.FIND_APP: "Nothing was changed: the secret in use now is untouched.",
    RenewalStage.ADD: "Nothing was removed: the secret in use now is untouched.",
    RenewalStage.VERIFY: (
        "Nothing was removed: the secret saved on this computer is unchanged and still works "
        "(unless it has expired). The next renewal removes the unused new secret."
    ),
    RenewalStage.SAVE: (
        "Nothing was removed: the secret saved on this computer is unchanged and still works "
        "(unless it has expired). The next renewal removes the unused new secret."
    ),
    RenewalStage.REMOVE_OLD: (
        "The new secret works and is saved; the old one is still there. Renew again to remove it."
    ),
}
_CERTIFICATE_STOPPED_AT = {
    RenewalStage.FIND_APP: "Nothing was changed: the credential in use now is untouched.",
    RenewalStage.ADD: "Nothing was removed: the credential in use now is untouched.",
    RenewalStage.VERIFY: (
        "Nothing was removed: the credential saved on this computer is unchanged and still "
        "works (unless it has expired). The next renewal removes the unused new certificate."
    ),
    RenewalStage.SAVE: (
        "Nothing was removed: the credential saved on this computer is unchanged and still "
        "works (unless it has expired). The next renewal removes the unused new certificate."
    ),
    RenewalStage.REMOVE_OLD: (
        "The new certificate works and is saved; the old one is still there. Renew again to "
        "remove it."
    ),
}


def _find_app(
    run: _Renewal, request: RenewalRequest, current_thumbprint: str | None
) -> tuple[CredentialStatus, str | None]:
    """The first step of every renewal: an earlier run left unfinished is refused (when its new
    credential is saved already: finish_unfinished completes it) or tidied, then the app and its
    credentials are read. Returns the status and what tidying did, if anything."""
    tidied: str | None = None
    unfinished = run.store.load()
    if unfinished is not None:
        unfinished = saved_already(unfinished, current_thumbprint)
    if unfinished is not None and unfinished.step is RenewalStep.SAVED:
        raise ClearoomsError(describe_unfinished(unfinished))
    if unfinished is not None and unfinished.client_id == request.client_id:
        hint = request.current_secret[:3] if request.current_secret else None
        tidied = _tidy_unfinished(run, unfinished, hint)
    run.report(RenewalStage.FIND_APP, StepState.RUNNING)
    application = read_application(run.graph, request.client_id)
    if application is None:
        raise run.fail(_not_found(request.client_id))
    status = credential_status(
        application,
        request.current_secret,
        saved_expiry=request.saved_expiry,
        current_thumbprint=current_thumbprint,
    )
    return status, tidied


def _renew(
    run: _Renewal,
    session: MicrosoftSession,
    cloud: Cloud,
    request: RenewalRequest,
    months: int,
    save: SaveSecret,
    confirm_removal: ConfirmRemoval,
) -> RenewalOutcome:
    store = run.store
    tidied: str | None = None
    try:
        status, tidied = _find_app(run, request, None)
        old = status.in_use
        count = len(status.secrets)
        found = f"Found “{status.app_name}” with {count} secret{'' if count == 1 else 's'}."
        run.report(RenewalStage.FIND_APP, StepState.DONE, found)
        journal = RenewalJournal(
            run_id=str(uuid.uuid4()),
            tenant_id=request.tenant_id,
            client_id=request.client_id,
            app_object_id=status.app_object_id,
            started_at=datetime.now(UTC).replace(microsecond=0),
            step=RenewalStep.STARTED,
            old_key_id=None if old is None else old.key_id,
            old_name="" if old is None else old.display_name,
            remove_old=not request.keep_old,
        )
        store.save(journal)
        run.report(RenewalStage.ADD, StepState.RUNNING)
        made, months = _add(run, status.app_object_id, months)
    except GraphError as exc:
        raise run.graph_failure(exc) from None
    shortened = months != request.months
    journal = replace(
        journal, step=RenewalStep.ADDED, new_key_id=made.key_id, new_expires_at=made.expires_at
    )
    store.save(journal)
    until = f"{made.expires_at:%d %B %Y}".lstrip("0")
    run.report(
        RenewalStage.ADD,
        StepState.DONE,
        (
            f"Your organisation allows client secrets of at most {months} months, so the new "
            f"one lasts until {until}."
            if shortened
            else f"Added a new secret that lasts until {until}."
        ),
    )
    _verify(run, session, cloud, request, made.text, journal)
    store.save(replace(journal, step=RenewalStep.VERIFIED))
    run.report(RenewalStage.SAVE, StepState.RUNNING)
    outcome = save(made.text, made.expires_at)
    if not outcome.kept_in_keyring and not request.remove_old_without_keyring:
        # Only in memory: the old secret stays, so that the connection survives this process.
        store.clear()
        run.report(RenewalStage.SAVE, StepState.DONE, outcome.message or "")
        run.report(RenewalStage.REMOVE_OLD, StepState.SKIPPED, "Kept: see above.")
        return RenewalOutcome(
            request.client_id, made.key_id, made.text, made.expires_at, months, shortened,
            False, outcome.message, old, False,
            "There is no keyring to keep the new secret in, so the old one was kept: it still "
            "works until it expires.",
            tidied,
        )  # fmt: skip
    journal = replace(journal, step=RenewalStep.SAVED)
    store.save(journal)
    run.report(RenewalStage.SAVE, StepState.DONE, outcome.message or KEPT_IN_KEYRING)
    removed, because = _remove_old(run, journal, old, request.keep_old, confirm_removal)
    store.clear()
    log.info("renewed the client secret of app %s (new secret %s, old %s: %s)",
             request.client_id, made.key_id, old.key_id if old else "unknown",
             "removed" if removed else "kept")  # fmt: skip
    return RenewalOutcome(
        request.client_id, made.key_id, made.text, made.expires_at, months, shortened,
        outcome.kept_in_keyring, outcome.message, old, removed, because, tidied,
    )  # fmt: skip


def _renew_certificate(
    run: _Renewal,
    session: MicrosoftSession,
    cloud: Cloud,
    request: RenewalRequest,
    months: int,
    save: SaveCertificate,
    confirm_removal: ConfirmRemoval,
) -> RenewalOutcome:
    from clearooms_wizard.core.certificate_upload import upload_certificate
    from clearooms_wizard.core.certificates import create_certificate

    graph, store = run.graph, run.store
    current = request.current_certificate
    current_thumbprint = current.sha1_thumbprint if current is not None else None
    status, tidied = _find_app(run, request, current_thumbprint)
    old = status.in_use
    found = (
        f"Found “{status.app_name}” with {_count(len(status.certificates), 'certificate')} "
        f"and {_count(len(status.secrets), 'secret')}."
    )
    run.report(RenewalStage.FIND_APP, StepState.DONE, found)
    made = create_certificate(request.client_id, months=months)
    # Written before the upload: a run killed meanwhile is found again by this thumbprint.
    journal = RenewalJournal(
        run_id=str(uuid.uuid4()),
        tenant_id=request.tenant_id,
        client_id=request.client_id,
        app_object_id=status.app_object_id,
        started_at=datetime.now(UTC).replace(microsecond=0),
        step=RenewalStep.STARTED,
        old_key_id=None if old is None else old.key_id,
        old_name="" if old is None else old.display_name,
        remove_old=not request.keep_old,
        new_kind=CredentialKind.CERTIFICATE,
        old_kind=CredentialKind.CERTIFICATE if current is not None else CredentialKind.SECRET,
        new_thumbprint=made.sha1_thumbprint,
        new_expires_at=made.not_after,
    )
    store.save(journal)
    run.report(RenewalStage.ADD, StepState.RUNNING)
    key_id = str(run.retry(lambda: upload_certificate(graph, status.app_object_id, made)))
    journal = replace(journal, step=RenewalStep.ADDED, new_key_id=key_id)
    store.save(journal)
    until = f"{made.not_after:%d %B %Y}".lstrip("0")
    run.report(RenewalStage.ADD, StepState.DONE,
               f"Added a new certificate that lasts until {until}.")  # fmt: skip
    _verify(run, session, cloud, request, made, journal)
    store.save(replace(journal, step=RenewalStep.VERIFIED))
    run.report(RenewalStage.SAVE, StepState.RUNNING)
    outcome = save(made)
    if not outcome.kept_in_keyring:
        # Only in memory: the old credential stays, so that the connection survives this process.
        store.clear()
        run.report(RenewalStage.SAVE, StepState.DONE, outcome.message or "")
        run.report(RenewalStage.REMOVE_OLD, StepState.SKIPPED, "Kept: see above.")
        return RenewalOutcome(
            request.client_id, key_id, "", made.not_after, months, False, False,
            outcome.message, old, False,
            "There is no keyring to keep the new certificate's private key in, so the old "
            "credential was kept: it still works until it expires.",
            tidied, new_certificate=made,
        )  # fmt: skip
    journal = replace(journal, step=RenewalStep.SAVED)
    store.save(journal)
    run.report(RenewalStage.SAVE, StepState.DONE, outcome.message or KEPT_IN_KEYRING)
    removed, because = _remove_old(run, journal, old, request.keep_old, confirm_removal)
    store.clear()
    log.info("renewed the certificate of app %s (new %s, key %s; old %s: %s)",
             request.client_id, made.sha1_thumbprint.upper(), key_id,
             old.key_id if old else "unknown", "removed" if removed else "kept")  # fmt: skip
    return RenewalOutcome(
        request.client_id, key_id, "", made.not_after, months, False, True, outcome.message,
        old, removed, because, tidied, new_certificate=made,
    )  # fmt: skip


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _add(run: _Renewal, app_object_id: str, months: int) -> tuple[Any, int]:
    while True:
        try:
            return add_password(run.graph, app_object_id, months, run.retry), months
        except GraphError as exc:
            shorter = shorter_secret_months(months)
            if classify(exc) is Failure.SECRET_TOO_LONG and shorter is not None:
                log.info("renewal: %d months is too long here; trying %d", months, shorter)
                months = shorter
                continue
            if classify(exc) is Failure.SECRET_TOO_LONG:
                raise run.fail(
                    f"Your organisation's policy allows only client secrets shorter than "
                    f"{months} months. Ask your IT admin how long a secret may last. Nothing "
                    "was changed: the secret in use now is untouched."
                ) from None
            raise


def _verify(
    run: _Renewal,
    session: MicrosoftSession,
    cloud: Cloud,
    request: RenewalRequest,
    text: str | CertificateCredential,
    journal: RenewalJournal,
) -> None:
    run.report(RenewalStage.VERIFY, StepState.RUNNING)
    new = "secret" if run.kind is CredentialKind.SECRET else "certificate"
    try:
        wait_for_roles(
            session, cloud, request.tenant_id, request.client_id, text, (), run.policy,
            on_still_waiting=lambda: run.report(
                RenewalStage.VERIFY, StepState.RUNNING,
                f"Microsoft is still taking in the new {new}; this usually takes under a minute.",
            ),
        )  # fmt: skip
    except (StillWaiting, SignInError) as exc:
        why = (
            f"Microsoft had still not accepted the new {new} after several minutes"
            if isinstance(exc, StillWaiting)
            else f"Microsoft refused to sign the app in with the new {new} ({_text(str(exc), 200)})"
        )
        try:
            removed = run.remove(journal.app_object_id, made_key(journal), run.kind)
            # A certificate Graph does not list yet cannot be taken off yet: the journal keeps
            # it for the next run to tidy.
            if removed or run.kind is CredentialKind.SECRET:
                run.store.clear()
        except (GraphError, ClearoomsError):
            log.info("renewal: the unused new %s could not be removed now; noted for later", new)
        saved = "secret" if journal.old_kind is CredentialKind.SECRET else "certificate"
        raise run.fail(
            f"{why}. Nothing was removed: the {saved} saved on this computer is unchanged and "
            "still works (unless it has expired already). Try again later."
        ) from None
    run.report(RenewalStage.VERIFY, StepState.DONE, "Microsoft signs the app in with it.")


def made_key(journal: RenewalJournal) -> str:
    if journal.new_key_id is None:
        raise ClearoomsError("The new secret's id is unknown.")
    return journal.new_key_id


def _remove_old(
    run: _Renewal,
    journal: RenewalJournal,
    old: AppCredential | None,
    keep_old: bool,
    confirm: ConfirmRemoval,
) -> tuple[bool, str | None]:
    old_word = "secret" if journal.old_kind is CredentialKind.SECRET else "certificate"
    new = "secret" if run.kind is CredentialKind.SECRET else "certificate"
    if keep_old:
        run.report(RenewalStage.REMOVE_OLD, StepState.SKIPPED, "Kept, as asked.")
        return False, (
            f"The old {old_word} was kept, as asked: remove it under Certificates & secrets "
            "when nothing uses it any more."
        )
    if old is None:
        because = (
            f"The {old_word} in use could not be told apart from the app's others, so none was "
            "removed: remove old ones under Certificates & secrets when you are sure."
        )
        run.report(RenewalStage.REMOVE_OLD, StepState.SKIPPED, because)
        return False, because
    if _ask_first(old) and not confirm(old):
        because = (
            f"The old secret “{old.display_name}” was not made by Clearooms, so it was kept: "
            "something else may use it. It stops working when it expires; remove it under "
            "Certificates & secrets sooner if nothing uses it."
        )
        run.report(RenewalStage.REMOVE_OLD, StepState.SKIPPED, because)
        return False, because
    run.report(RenewalStage.REMOVE_OLD, StepState.RUNNING)
    try:
        gone = not run.remove(journal.app_object_id, old.key_id, old.kind)
    except GraphError as exc:
        problem = (
            f"The new {new} works and is saved, but the old {old_word} could not be removed: "
            + _graph_problem(exc, RenewalStage.REMOVE_OLD, run.username, run.client_id)
            + " Renew again, or remove it under Certificates & secrets."
        )
        raise run.fail(problem) from None
    run.report(RenewalStage.REMOVE_OLD, StepState.DONE,
               "It was gone already." if gone else f"Removed the old {old_word}.")  # fmt: skip
    return not gone, None
