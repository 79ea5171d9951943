"""Renewing the app's client secret before it expires, with an administrator's (or owner's)
sign-in, in an order that never leaves the app without a working secret.

A renewal adds a new secret (``addPassword``), waits until Microsoft signs the app in with it (a
fresh client-credentials token), saves it (the keyring), and only then removes the secret it
replaces (``removePassword`` by its keyId). A journal in the workspace says how far a renewal
got, written before each step starts: a process stopped or killed between two steps is finished
or explained by the next run. The new secret's text is never written to the journal, a log or a
message; it goes to the keyring only.
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
from clearooms_wizard.core.safetext import printable

if TYPE_CHECKING:
    from clearooms_wizard.core.clouds import Cloud
    from clearooms_wizard.core.http import MicrosoftSession
    from clearooms_wizard.core.secrets import SaveOutcome

log = logging.getLogger(__name__)

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

    @property
    def ours(self) -> bool:
        """Made by this tool (the wizard or the command line)."""
        return self.kind is CredentialKind.SECRET and self.display_name.startswith(
            OUR_SECRET_PREFIX
        )

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


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
                _parse_time(item.get("startDateTime")),
                _parse_time(item.get("endDateTime")),
            )
        )
    return found


def credential_status(
    application: dict[str, Any],
    current_secret: str | None,
    *,
    saved_expiry: datetime | None = None,
    now: datetime | None = None,
) -> CredentialStatus:
    """The app's credentials from its Graph object, with the secret in use marked: the one whose
    hint (its first three characters) is the saved secret's, told apart by its end date when
    several share a hint. Sorted: secrets, then certificates, each by end date."""
    now = now or datetime.now(UTC)
    listed = _listed(application, "passwordCredentials", CredentialKind.SECRET)
    certificates = _listed(application, "keyCredentials", CredentialKind.CERTIFICATE)
    reason: str | None = None
    in_use: str | None = None
    if not current_secret:
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
    far = datetime.max.replace(tzinfo=UTC)

    def order(c: AppCredential) -> tuple[datetime, str]:
        return (c.end or far, c.key_id)

    credentials = (*sorted(marked, key=order), *sorted(certificates, key=order))
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
        }
    )


def journal_from_json(text: object) -> RenewalJournal | None:
    """The journal, or None when it cannot be read (never guessed at)."""
    try:
        raw = json.loads(str(text))
        started = _parse_time(raw["started_at"])
        step = RenewalStep(str(raw["step"]))
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
        new_expires_at=_parse_time(raw.get("new_expires_at")),
    )


class RenewalStore(Protocol):
    """Where the journal is kept (the workspace)."""

    def load(self) -> RenewalJournal | None: ...

    def save(self, journal: RenewalJournal) -> None: ...

    def clear(self) -> None: ...


def describe_unfinished(journal: RenewalJournal) -> str:
    """What an interrupted renewal left, in words, without signing in."""
    when = f"{journal.started_at:%d %B %Y %H:%M} UTC".lstrip("0")
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


@dataclass(frozen=True)
class RenewalUpdate:
    stage: RenewalStage
    state: StepState
    detail: str = ""


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
            f"organisation: set the connection up with a certificate instead.{unchanged}"
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

    def report(self, stage: RenewalStage, state: StepState, detail: str = "") -> None:
        self.stage = stage
        if self.progress is not None:
            self.progress(RenewalUpdate(stage, state, detail))

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

    def remove(self, app_object_id: str, key_id: str) -> bool:
        """Remove a secret by its keyId; False when it was gone already."""
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
) -> CredentialStatus:
    try:
        application = read_application(graph, client_id)
    except GraphError as exc:
        raise RenewalFailed(
            _graph_problem(exc, RenewalStage.FIND_APP, username, client_id), RenewalStage.FIND_APP
        ) from None
    if application is None:
        raise RenewalFailed(_not_found(client_id), RenewalStage.FIND_APP)
    return credential_status(application, current_secret, saved_expiry=saved_expiry)


def _tidy_unfinished(run: _Renewal, journal: RenewalJournal, current_hint: str | None) -> str:
    """Remove the unusable new secret an interrupted renewal made before saving it (its text
    was lost with the process). Returns what was done, in words."""
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


def finish_unfinished(
    graph: AdminGraph,
    store: RenewalStore,
    journal: RenewalJournal,
    username: str,
    current_secret: str | None,
    confirm_removal: ConfirmRemoval,
    progress: Callable[[RenewalUpdate], None] | None = None,
    policy: RetryPolicy | None = None,
) -> str:
    """Finish (the new secret was saved: remove the old one, as planned) or tidy (it was not:
    remove the unused new one) what an interrupted renewal left. Returns what was done."""
    run = _Renewal(graph, store, username, journal.client_id, progress, policy or RetryPolicy())
    try:
        if journal.step is not RenewalStep.SAVED:
            return _tidy_unfinished(run, journal, current_secret[:3] if current_secret else None)
        if current_secret is None or journal.new_key_id is None:
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
    if not journal.remove_old or journal.old_key_id is None:
        run.store.clear()
        return "An earlier renewal had finished all but its notes; the old secret was kept."
    old = AppCredential(CredentialKind.SECRET, journal.old_key_id, journal.old_name, None, None,
                        None)  # fmt: skip
    if not old.ours and not confirm(old):
        run.store.clear()
        return (
            "Finished an earlier renewal that had stopped: its new secret works and is saved, "
            f"and the old secret “{old.display_name}”, not made by Clearooms, was kept."
        )
    gone = not run.remove(journal.app_object_id, journal.old_key_id)
    run.store.clear()
    return (
        "Finished an earlier renewal that had stopped: its new secret works and is saved, and "
        + ("the old secret was gone already." if gone else "the old secret is now removed.")
    )


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
) -> RenewalOutcome:
    """Add a new secret, verify it with a fresh token, save it, then remove the one it
    replaces (asking first when this tool did not make it). Raises RenewalFailed, saying
    whether the old secret still works; Cancelled when stopped, with the journal as far as it
    got (the next run tidies or finishes it)."""
    months = check_secret_months(request.months)
    run = _Renewal(graph, store, username, request.client_id, progress, policy or RetryPolicy())
    try:
        return _renew(run, session, cloud, request, months, save, confirm_removal)
    except RenewalFailed:
        raise
    except GraphError as exc:
        raise run.graph_failure(exc) from None
    except ClearoomsError as exc:
        # The network, the keyring or the workspace: say plainly where that leaves the secrets.
        raise run.fail(f"{_text(str(exc), 300)} {_STOPPED_AT[run.stage]}") from None


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


def _renew(
    run: _Renewal,
    session: MicrosoftSession,
    cloud: Cloud,
    request: RenewalRequest,
    months: int,
    save: SaveSecret,
    confirm_removal: ConfirmRemoval,
) -> RenewalOutcome:
    graph, store = run.graph, run.store
    tidied: str | None = None
    try:
        unfinished = store.load()
        if unfinished is not None and unfinished.step is RenewalStep.SAVED:
            # A renewed secret is saved already: finish_unfinished completes that run.
            raise ClearoomsError(describe_unfinished(unfinished))
        if unfinished is not None and unfinished.client_id == request.client_id:
            hint = request.current_secret[:3] if request.current_secret else None
            tidied = _tidy_unfinished(run, unfinished, hint)
        run.report(RenewalStage.FIND_APP, StepState.RUNNING)
        application = read_application(graph, request.client_id)
        if application is None:
            raise run.fail(_not_found(request.client_id))
        status = credential_status(
            application, request.current_secret, saved_expiry=request.saved_expiry
        )
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
    run.report(RenewalStage.SAVE, StepState.DONE, "Saved in this computer's keyring."
               if outcome.kept_in_keyring else (outcome.message or ""))  # fmt: skip
    removed, because = _remove_old(run, journal, old, request.keep_old, confirm_removal)
    store.clear()
    log.info("renewed the client secret of app %s (new secret %s, old %s: %s)",
             request.client_id, made.key_id, old.key_id if old else "unknown",
             "removed" if removed else "kept")  # fmt: skip
    return RenewalOutcome(
        request.client_id, made.key_id, made.text, made.expires_at, months, shortened,
        outcome.kept_in_keyring, outcome.message, old, removed, because, tidied,
    )  # fmt: skip


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
    text: str,
    journal: RenewalJournal,
) -> None:
    run.report(RenewalStage.VERIFY, StepState.RUNNING)
    try:
        wait_for_roles(
            session, cloud, request.tenant_id, request.client_id, text, (), run.policy,
            on_still_waiting=lambda: run.report(
                RenewalStage.VERIFY, StepState.RUNNING,
                "Microsoft is still taking in the new secret; this usually takes under a minute.",
            ),
        )  # fmt: skip
    except (StillWaiting, SignInError) as exc:
        why = (
            "Microsoft had still not accepted the new secret after several minutes"
            if isinstance(exc, StillWaiting)
            else "Microsoft refused to sign the app in with the new secret "
            f"({_text(str(exc), 200)})"
        )
        try:
            run.remove(journal.app_object_id, made_key(journal))
            run.store.clear()
        except (GraphError, ClearoomsError):
            log.info("renewal: the unused new secret could not be removed now; noted for later")
        raise run.fail(
            f"{why}. Nothing was removed: the secret saved on this computer is unchanged and "
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
    if keep_old:
        run.report(RenewalStage.REMOVE_OLD, StepState.SKIPPED, "Kept, as asked.")
        return False, (
            "The old secret was kept, as asked: remove it under Certificates & secrets when "
            "nothing uses it any more."
        )
    if old is None:
        because = (
            "The secret in use could not be told apart from the app's others, so none was "
            "removed: remove old ones under Certificates & secrets when you are sure."
        )
        run.report(RenewalStage.REMOVE_OLD, StepState.SKIPPED, because)
        return False, because
    if not old.ours and not confirm(old):
        because = (
            f"The old secret “{old.display_name}” was not made by Clearooms, so it was kept: "
            "something else may use it. It stops working when it expires; remove it under "
            "Certificates & secrets sooner if nothing uses it."
        )
        run.report(RenewalStage.REMOVE_OLD, StepState.SKIPPED, because)
        return False, because
    run.report(RenewalStage.REMOVE_OLD, StepState.RUNNING)
    try:
        gone = not run.remove(journal.app_object_id, old.key_id)
    except GraphError as exc:
        problem = (
            "The new secret works and is saved, but the old one could not be removed: "
            + _graph_problem(exc, RenewalStage.REMOVE_OLD, run.username, run.client_id)
            + " Renew again, or remove it under Certificates & secrets."
        )
        raise run.fail(problem) from None
    run.report(RenewalStage.REMOVE_OLD, StepState.DONE,
               "It was gone already." if gone else "Removed the old secret.")  # fmt: skip
    return not gone, None
