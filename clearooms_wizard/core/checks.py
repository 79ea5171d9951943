"""Test Settings: the nine checks, each reported the moment it completes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from clearooms_wizard.core.app_setup import GRAPH_APP_ID, KNOWN_ROLE_IDS
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.connection import SessionOpener
from clearooms_wizard.core.errors import (
    ClearoomsError,
    GraphError,
    NetworkError,
    SignInError,
    UnexpectedResponse,
)
from clearooms_wizard.core.fixes import (
    NO_ROOMS,
    POLICY_FIX,
    POLICY_REPLACED_NOTE,
    ROOMS_FORBIDDEN,
    ROOMS_ONLY_NOTE,
    ROOMS_ONLY_PENDING_NOTE,
    SCOPE_WARNINGS,
    Explanation,
    explain_error,
    explain_graph,
    permission_fix,
)
from clearooms_wizard.core.graph import CalendarProbe, DirectoryUser, GraphClient
from clearooms_wizard.core.model import CalendarAccess
from clearooms_wizard.core.responses import parse_graph_time
from clearooms_wizard.core.tokens import AccessToken, TokenProvider, discover_tenant
from clearooms_wizard.core.values import ConnectionInput, Credentials, check_secret, check_values

if TYPE_CHECKING:
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.core.http import MicrosoftSession

log = logging.getLogger(__name__)

REQUIRED_PERMISSIONS = ("Directory.Read.All", "Calendars.ReadWrite", "Place.Read.All")
CALENDARS_ROLE = "Calendars.ReadWrite"
EXPIRY_WARNING_DAYS = 30
# People whose calendars are tried, in turn, until one has a mailbox in Exchange Online.
PEOPLE_TO_TRY = 3


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


CHECK_TITLES: dict[str, str] = {
    "format": "The three values are filled in correctly",
    "tenant": "Your Microsoft 365 tenant exists",
    "token": "The app can sign in",
    "permissions": "The app has the permissions it needs, with admin consent",
    "rooms": "Rooms can be read",
    "directory": "The directory can be read",
    "calendars": "Room calendars can be read",
    "mailbox_scope": "Which calendars the app can reach",
    "secret_expiry": "The client credential is not about to expire",
}
CHECK_IDS = tuple(CHECK_TITLES)


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: Status
    detail: str
    fix: str | None = None
    code: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def title(self) -> str:
        return CHECK_TITLES[self.id]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "title": self.title,
            "detail": self.detail,
            "fix": self.fix,
            "code": self.code,
            "timestamp": self.timestamp,
            "details": dict(self.details),
        }


def _failure(
    check_id: str, exc: ClearoomsError, explanation: Explanation | None = None
) -> CheckResult:
    """A failed check from one of our typed errors, with the fix that fits it."""
    found, code = explain_error(exc)
    found = explanation or found
    detail = found.summary
    details: dict[str, str] = {}
    if isinstance(exc, SignInError):
        details = {**exc.details.as_dict(), "error": exc.error, "message": str(exc)}
    elif isinstance(exc, GraphError):
        details = {**exc.details.as_dict(), "message": exc.message}
        if exc.retry_after:
            detail += f" Microsoft asked us to wait {round(exc.retry_after)} seconds."
    elif isinstance(exc, NetworkError):
        detail = f"{found.summary} ({exc})"
        details = {"host": exc.host}
    elif isinstance(exc, UnexpectedResponse):
        detail = f"{found.summary} {exc}"
        details = exc.details.as_dict()
    return CheckResult(check_id, Status.FAIL, detail, found.fix, code, details)


def _skipped_after_tenant(tenant_result: CheckResult) -> str:
    """Why the checks after a failed tenant check did not run, in words that fit the failure:
    a tenant that Microsoft was never asked about (the network failed) was not "not found"."""
    code = tenant_result.code or ""
    if code.startswith("network:"):
        return "Skipped because Microsoft could not be reached."
    if code == "wrong_cloud":
        return "Skipped until the Microsoft cloud your organisation uses is chosen."
    if code in ("AADSTS90002", "AADSTS900023"):
        return "Skipped because the tenant was not found."
    return "Skipped because the tenant could not be checked."


_CONSENT_FIX = (
    "In the Microsoft Entra admin center open App registrations, your Clearooms app, then API "
    "permissions, and click “Grant admin consent”. You need to be a Global Administrator (or "
    "Privileged Role Administrator) to do this."
)


class SettingsTest:
    """One run of Test Settings. ``run()`` yields each check's result as it completes.

    Cancel through the token; a cancelled run raises ``Cancelled`` from ``run()``.
    """

    def __init__(
        self,
        connection: ConnectionInput,
        open_session: SessionOpener,
        cancel: CancelToken | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.connection = connection
        self._open_session = open_session
        self.cancel = cancel or CancelToken()
        self._clock = clock
        self.credentials: Credentials | None = None
        self.tenant_id: str | None = None
        # The credentials with the tenant's GUID, once the tenant is found: what later work
        # (loading rooms, checking calendars) signs in with.
        self.signed_in: Credentials | None = None
        self.secret_expires_at: datetime | None = None
        self.results: list[CheckResult] = []
        self._no_consent = False
        self._roles: frozenset[str] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.status is not Status.FAIL for r in self.results)

    def run(self) -> Iterator[CheckResult]:
        for result in self._run():
            self.results.append(result)
            # A check may finish out of turn (permissions waits for the calendar probe when
            # only Calendars.ReadWrite is missing); reports list them in their usual order.
            self.results.sort(key=lambda r: CHECK_IDS.index(r.id))
            log.info(
                "check %s: %s%s %s",
                result.id,
                result.status.value,
                f" ({result.code})" if result.code else "",
                " ".join(f"{k}={v}" for k, v in sorted(result.details.items())),
            )
            yield result

    def _skip_rest(self, after: str, reason: str) -> Iterator[CheckResult]:
        for check_id in CHECK_IDS[CHECK_IDS.index(after) + 1 :]:
            yield CheckResult(check_id, Status.SKIP, reason)

    def _run(self) -> Iterator[CheckResult]:
        self.cancel.raise_if_cancelled()
        format_result, credentials = self._check_format()
        yield format_result
        if credentials is None:
            yield from self._skip_rest("format", "Skipped until the values above are corrected.")
            return
        self.credentials = credentials
        cloud = self.connection.cloud
        session = self._open_session(self.cancel)
        try:
            tenant_result = self._check_tenant(session, cloud, credentials)
            yield tenant_result
            if tenant_result.status is Status.FAIL or self.tenant_id is None:
                yield from self._skip_rest("tenant", _skipped_after_tenant(tenant_result))
                return
            signed_in = replace(credentials, tenant=self.tenant_id)
            self.signed_in = signed_in
            tokens = TokenProvider(signed_in, cloud, session)
            token_result, token = self._check_token(tokens)
            yield token_result
            if token is None:
                yield from self._skip_rest("token", "Skipped because the app could not sign in.")
                return
            permissions_result = self._check_permissions(token)
            # Without the Entra grant of Calendars.ReadWrite, Exchange may still give the app
            # room calendars (RBAC for Applications): the room probe decides.
            held = permissions_result if self._only_calendars_missing(permissions_result) else None
            if held is None:
                yield permissions_result
            graph = GraphClient(session, tokens, cloud.graph_root, self.cancel)
            yield from self._graph_checks(graph, signed_in, held)
        finally:
            session.close()

    # -- the checks ------------------------------------------------------------------------

    def _check_format(self) -> tuple[CheckResult, Credentials | None]:
        checked = check_values(self.connection)
        credentials = checked.credentials
        if credentials is None:
            return (
                CheckResult(
                    "format",
                    Status.FAIL,
                    " ".join(f"{label}: {problem}" for label, problem in checked.problems()),
                    "Correct the values, then test again.",
                    "format",
                ),
                None,
            )
        tidied = checked.tidied
        note = f" We tidied the pasted text ({'; '.join(tidied)})." if tidied else ""
        if credentials.certificate is not None:
            result = _certificate_format(credentials.certificate, note)
            return result, None if result.status is Status.FAIL else credentials
        if checked.client_secret.warnings:
            return (
                CheckResult(
                    "format",
                    Status.WARN,
                    "The client secret looks like a Secret ID." + note,
                    checked.client_secret.warnings[0],
                    "secret_looks_like_id",
                ),
                credentials,
            )
        return CheckResult(
            "format", Status.PASS, "All three values look right." + note
        ), credentials

    def _check_tenant(
        self, session: MicrosoftSession, cloud: Cloud, credentials: Credentials
    ) -> CheckResult:
        try:
            info = discover_tenant(session, cloud, credentials.tenant)
        except ClearoomsError as exc:
            return _failure("tenant", exc)
        other_cloud = cloud.other_cloud_named(info.cloud_instance_name)
        if other_cloud is not None:
            instance = (info.cloud_instance_name or "").lower()
            return CheckResult(
                "tenant",
                Status.FAIL,
                f"Your tenant is in a different Microsoft cloud: {other_cloud}.",
                "Choose the cloud your organisation uses (under Advanced in the wizard, or --cloud "
                "on the command line), then test again.",
                "wrong_cloud",
                {"tenant_id": info.tenant_id, "cloud_instance_name": instance},
            )
        self.tenant_id = info.tenant_id
        if info.tenant_id != credentials.tenant:
            detail = f"Found {credentials.tenant}; its tenant ID is {info.tenant_id}."
        else:
            detail = f"Found tenant {info.tenant_id}."
        return CheckResult("tenant", Status.PASS, detail, details={"tenant_id": info.tenant_id})

    def _check_token(self, tokens: TokenProvider) -> tuple[CheckResult, AccessToken | None]:
        try:
            token = tokens.acquire()
        except SignInError as exc:
            result = _failure("token", exc)
            if exc.aadsts == 7000215 and self._secret_looks_like_id():
                result = CheckResult(
                    result.id,
                    result.status,
                    "Microsoft did not accept the client secret: what was entered is the "
                    "Secret ID, not the secret's Value.",
                    result.fix,
                    result.code,
                    result.details,
                )
            return result, None
        except ClearoomsError as exc:
            return _failure("token", exc), None
        app_name = token.claims.get("app_displayname")
        who = f" as “{app_name}”" if isinstance(app_name, str) and app_name else ""
        return CheckResult("token", Status.PASS, f"The app signed in{who}."), token

    def _secret_looks_like_id(self) -> bool:
        return bool(check_secret(self.connection.client_secret).warnings)

    def _check_permissions(self, token: AccessToken) -> CheckResult:
        roles = token.roles
        self._roles = None if roles is None else frozenset(role.casefold() for role in roles)
        if roles is None:
            self._no_consent = True
            return CheckResult(
                "permissions",
                Status.FAIL,
                "Admin consent has not been granted: the app signed in without any permissions.",
                _CONSENT_FIX,
                "no_roles",
            )
        granted = {role.casefold() for role in roles}
        missing = [p for p in REQUIRED_PERMISSIONS if p.casefold() not in granted]
        if missing:
            names = ", ".join(missing)
            detail = f"Missing: {names}."
            if "Calendars.ReadWrite" in missing and "calendars.read" in granted:
                detail += " The app has Calendars.Read, but Clearooms needs Calendars.ReadWrite."
            return CheckResult(
                "permissions",
                Status.FAIL,
                detail,
                permission_fix(" and ".join(missing)),
                "missing_permissions",
                {"granted": ", ".join(sorted(roles)) or "(none)"},
            )
        return CheckResult(
            "permissions",
            Status.PASS,
            "Directory.Read.All, Calendars.ReadWrite and Place.Read.All are granted.",
            details={"granted": ", ".join(sorted(roles))},
        )

    def _only_calendars_missing(self, result: CheckResult) -> bool:
        if result.code != "missing_permissions" or self._roles is None:
            return False
        missing = {p for p in REQUIRED_PERMISSIONS if p.casefold() not in self._roles}
        return missing == {"Calendars.ReadWrite"}

    def _permissions_after_calendars(
        self, held: CheckResult, calendars_result: CheckResult
    ) -> CheckResult:
        # Set up for rooms only and waiting for Exchange: the calendars check says so, and
        # Microsoft Entra holds exactly what it should.
        exchange_pending = calendars_result.code == "exchange_pending"
        if calendars_result.status is not Status.PASS and not exchange_pending:
            return held
        return CheckResult(
            "permissions",
            Status.PASS,
            ROOMS_ONLY_PENDING_NOTE if exchange_pending else ROOMS_ONLY_NOTE,
            code="rooms_only",
            details=held.details,
        )

    def _not_allowed(self, summary: str, permission: str) -> Explanation:
        if self._no_consent:
            return Explanation(
                summary, "Grant admin consent first (see the permissions check above)."
            )
        return Explanation(summary, permission_fix(permission))

    def _graph_checks(
        self, graph: GraphClient, credentials: Credentials, held: CheckResult | None
    ) -> Iterator[CheckResult]:
        # Rooms, directory and expiry are independent; the room's calendar probe needs a room,
        # the person's a person from the directory (and the rooms, to leave them out). The two
        # calendar probes run side by side.
        pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-settings")
        try:
            rooms_future = pool.submit(self._check_rooms, graph)
            directory_future = pool.submit(self._check_directory, graph)
            expiry_future = pool.submit(self._check_secret_expiry, graph, credentials)
            rooms_result, room_emails = rooms_future.result()
            yield rooms_result
            first_room = room_emails[0] if room_emails else None
            calendars_future = pool.submit(self._check_calendars, graph, first_room, rooms_result)
            directory_result, users = directory_future.result()
            yield directory_result
            person_future = (
                pool.submit(self._probe_person, graph, users, room_emails)
                if users is not None
                else None
            )
            calendars_result = calendars_future.result()
            if held is not None:
                yield self._permissions_after_calendars(held, calendars_result)
            yield calendars_result
            yield self._check_mailbox_scope(person_future, calendars_result)
            yield expiry_future.result()
        finally:
            # After Cancel, do not wait for requests still in flight: they end by their timeout.
            pool.shutdown(wait=not self.cancel.cancelled, cancel_futures=True)

    def _check_rooms(self, graph: GraphClient) -> tuple[CheckResult, tuple[str, ...]]:
        try:
            sample = graph.sample_rooms()
        except GraphError as exc:
            if exc.status == 403:
                cannot_read = self._not_allowed(ROOMS_FORBIDDEN.summary, "Place.Read.All")
                return _failure("rooms", exc, cannot_read), ()
            return _failure("rooms", exc), ()
        except ClearoomsError as exc:
            return _failure("rooms", exc), ()
        if not sample.rooms:
            return (
                CheckResult("rooms", Status.WARN, NO_ROOMS.summary, NO_ROOMS.fix, "no_rooms"),
                (),
            )
        if sample.total is not None:
            detail = f"Found {sample.total} room{'s' if sample.total != 1 else ''}."
        elif sample.more:
            detail = f"Found rooms (more than {len(sample.rooms)})."
        else:
            count = len(sample.rooms)
            detail = f"Found {count} room{'s' if count != 1 else ''}."
        return CheckResult("rooms", Status.PASS, detail), tuple(r.email for r in sample.rooms)

    def _check_directory(
        self, graph: GraphClient
    ) -> tuple[CheckResult, tuple[DirectoryUser, ...] | None]:
        try:
            users = graph.sample_users()
        except GraphError as exc:
            if exc.status == 403:
                return _failure(
                    "directory",
                    exc,
                    self._not_allowed(
                        "The app is not allowed to read your directory.", "Directory.Read.All"
                    ),
                ), None
            return _failure("directory", exc), None
        except ClearoomsError as exc:
            return _failure("directory", exc), None
        return CheckResult("directory", Status.PASS, "The app can read users and groups."), users

    def _check_calendars(
        self, graph: GraphClient, room_email: str | None, rooms_result: CheckResult
    ) -> CheckResult:
        if room_email is None:
            reason = (
                "Skipped because there is no room to test with."
                if rooms_result.status is not Status.FAIL
                else "Skipped because rooms could not be read."
            )
            return CheckResult("calendars", Status.SKIP, reason)
        try:
            probe = graph.probe_calendar(room_email)
        except ClearoomsError as exc:
            return _failure("calendars", exc)
        details = {**probe.details.as_dict(), "room": room_email}
        if probe.access is CalendarAccess.READABLE:
            return CheckResult(
                "calendars", Status.PASS, f"Read the calendar of {room_email}.", details=details
            )
        if probe.message:
            details["message"] = probe.message
        if probe.access is CalendarAccess.BLOCKED_BY_POLICY:
            return CheckResult(
                "calendars",
                Status.FAIL,
                f"An access policy stops the app from reading the calendar of {room_email}.",
                POLICY_FIX,
                probe.code,
                details,
            )
        if probe.access is CalendarAccess.NO_PERMISSION and self._rooms_only_by_design(graph):
            pending = SCOPE_WARNINGS["exchange_pending"]
            return CheckResult(
                "calendars",
                Status.WARN,
                f"{pending.summary} (tested with {room_email})",
                pending.fix,
                "exchange_pending",
                details,
            )
        if probe.access is CalendarAccess.NO_PERMISSION:
            not_allowed = self._not_allowed(
                "The app is not allowed to read room calendars.", "Calendars.ReadWrite"
            )
            return CheckResult(
                "calendars",
                Status.FAIL,
                not_allowed.summary,
                not_allowed.fix,
                probe.code,
                details,
            )
        explanation = explain_graph(probe.code or "", probe.message or "")
        status = Status.WARN if probe.access is not CalendarAccess.FAILED else Status.FAIL
        return CheckResult(
            "calendars",
            status,
            f"{explanation.summary} (tested with {room_email})",
            explanation.fix,
            probe.code,
            details,
        )

    def _rooms_only_by_design(self, graph: GraphClient) -> bool:
        """Whether the app is meant to get calendars from Exchange, for rooms only: its token
        lacks Calendars.ReadWrite and its registration does not even ask for it (as "Set it up
        for me" leaves it for rooms only, so that no consent can grant it tenant-wide). An app
        that asks for it without the grant is missing its admin consent instead."""
        if (
            self._roles is None
            or CALENDARS_ROLE.casefold() in self._roles
            or self.credentials is None
        ):
            return False
        try:
            application = graph.get_application(self.credentials.client_id)
        except ClearoomsError:
            return False
        entries = application.get("requiredResourceAccess")
        asked: set[str] = set()
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("resourceAppId") != GRAPH_APP_ID:
                continue
            access = entry.get("resourceAccess")
            for item in access if isinstance(access, list) else []:
                if isinstance(item, dict) and item.get("type") == "Role":
                    asked.add(str(item.get("id", "")).lower())
        return bool(asked) and KNOWN_ROLE_IDS[CALENDARS_ROLE] not in asked

    def _probe_person(
        self, graph: GraphClient, users: tuple[DirectoryUser, ...], room_emails: tuple[str, ...]
    ) -> tuple[str, CalendarProbe] | None:
        """One person's calendar metadata (never events): (their address, the answer); None when
        the directory shows no one to try. Raises ClearoomsError when Graph cannot be reached."""
        rooms = {email.casefold() for email in room_emails}
        people = [
            user
            for user in users
            if user.looks_like_a_person and (user.mail or "").casefold() not in rooms
        ]
        tried: tuple[str, CalendarProbe] | None = None
        for person in people[:PEOPLE_TO_TRY]:
            probe = graph.probe_calendar(person.id)
            tried = (person.mail or person.id, probe)
            if probe.access not in (
                CalendarAccess.NOT_FOUND,
                CalendarAccess.NOT_IN_EXCHANGE_ONLINE,
            ):
                break
        return tried

    def _check_mailbox_scope(
        self, person_future: Future[tuple[str, CalendarProbe] | None] | None, calendars: CheckResult
    ) -> CheckResult:
        if person_future is None:
            return CheckResult(
                "mailbox_scope",
                Status.SKIP,
                "Skipped because the directory could not be read, so there was no person's "
                "mailbox to test with.",
            )
        try:
            tried = person_future.result()
        except ClearoomsError as exc:
            found, code = explain_error(exc)
            return CheckResult(
                "mailbox_scope",
                Status.SKIP,
                f"Skipped: a person's calendar could not be checked. {found.summary}",
                code=code,
            )
        if tried is None:
            return CheckResult(
                "mailbox_scope",
                Status.SKIP,
                "Skipped: no person with a mailbox was found in the directory to test with.",
            )
        address, probe = tried
        details = {
            **probe.details.as_dict(),
            "mailbox": address,
            "read": "Only the calendar metadata (its id) of this one mailbox was read, never "
            "its events.",
        }
        if probe.message:
            details["message"] = probe.message
        if probe.access in (CalendarAccess.NOT_FOUND, CalendarAccess.NOT_IN_EXCHANGE_ONLINE):
            return CheckResult(
                "mailbox_scope",
                Status.SKIP,
                "Skipped: none of the people tried has a mailbox in Exchange Online to test with.",
                code=probe.code,
                details=details,
            )
        if probe.access is CalendarAccess.FAILED:
            return CheckResult(
                "mailbox_scope",
                Status.SKIP,
                f"Skipped: the calendar of {address} could not be checked ({probe.code}).",
                code=probe.code,
                details=details,
            )
        if probe.access is CalendarAccess.READABLE:
            entra_grant = self._roles is not None and "calendars.readwrite" in self._roles
            code = "tenant_wide" if entra_grant else "scope_pending"
            found = SCOPE_WARNINGS[code]
            return CheckResult(
                "mailbox_scope",
                Status.WARN,
                f"{found.summary} (tested with {address})",
                found.fix,
                code,
                details,
            )
        if probe.access is CalendarAccess.BLOCKED_BY_POLICY:
            details["note"] = POLICY_REPLACED_NOTE
        detail = (
            "Clearooms can reach room calendars only."
            if calendars.status is Status.PASS
            else "Clearooms cannot read people's calendars."
        )
        return CheckResult(
            "mailbox_scope",
            Status.PASS,
            f"{detail} The calendar of {address} was refused.",
            code="rooms_only",
            details=details,
        )

    def _check_secret_expiry(self, graph: GraphClient, credentials: Credentials) -> CheckResult:
        try:
            application = graph.get_application(
                credentials.client_id, certificates=credentials.certificate is not None
            )
        except GraphError as exc:
            reason = (
                "Skipped: the app is not allowed to read its own registration (it needs "
                "Directory.Read.All), so the expiry date is unknown."
                if exc.status in (401, 403)
                else f"Skipped: the app's registration could not be read ({exc.code})."
            )
            return CheckResult("secret_expiry", Status.SKIP, reason, code=exc.code)
        except ClearoomsError as exc:
            return CheckResult(
                "secret_expiry",
                Status.SKIP,
                f"Skipped: the app's registration could not be read. {exc}",
            )
        if credentials.certificate is not None:
            return self._certificate_expiry(application, credentials.certificate)
        hint = credentials.client_secret[:3]
        ends: list[datetime] = []
        credentials_list = application.get("passwordCredentials")
        for item in credentials_list if isinstance(credentials_list, list) else []:
            if isinstance(item, dict) and item.get("hint") == hint:
                end = parse_graph_time(item.get("endDateTime"))
                if end is not None:
                    ends.append(end)
        return self._expiry_result(
            ends,
            "secret",
            "Skipped: none of the app's secrets matched the one entered, so its expiry date is "
            "unknown.",
            "Before then, press Renew the secret… (or run “clearooms-wizard secret renew”), or "
            "create a new client secret in Certificates & secrets and enter its Value here, or "
            "Clearooms will stop seeing your room bookings.",
            "secret_expiring",
            {},
        )

    def _certificate_expiry(
        self, application: dict[str, Any], certificate: CertificateCredential
    ) -> CheckResult:
        """The end date of the app's keyCredential for our certificate, found by thumbprint."""
        from clearooms_wizard.core.certificates import thumbprint_from_key_identifier

        ends: list[datetime] = []
        listed = application.get("keyCredentials")
        for item in listed if isinstance(listed, list) else []:
            if not isinstance(item, dict):
                continue
            if thumbprint_from_key_identifier(item.get("customKeyIdentifier")) == (
                certificate.sha1_thumbprint
            ):
                end = parse_graph_time(item.get("endDateTime"))
                if end is not None:
                    ends.append(end)
        return self._expiry_result(
            ends,
            "certificate",
            "Skipped: none of the app's certificates matched this one, so its expiry date is "
            "unknown.",
            "Before then, press Renew the certificate… (or run “clearooms-wizard secret renew”): "
            "an administrator signs in and the wizard replaces it. Otherwise Clearooms will stop "
            "seeing your room bookings.",
            "certificate_expiring",
            {"thumbprint": certificate.sha1_thumbprint.upper()},
        )

    def _expiry_result(
        self,
        ends: list[datetime],
        credential: str,
        unmatched: str,
        fix: str,
        code: str,
        details: dict[str, Any],
    ) -> CheckResult:
        """The expiry check from the end dates of the app's entries that match the credential
        in use (the earliest counts): pass, or warn from EXPIRY_WARNING_DAYS out."""
        if not ends:
            return CheckResult("secret_expiry", Status.SKIP, unmatched)
        end = min(ends)
        self.secret_expires_at = end
        days = (end - self._clock()).days
        when = f"{end:%d %B %Y}".lstrip("0")
        details = {"expires": end.isoformat(), **details}
        if days > EXPIRY_WARNING_DAYS:
            return CheckResult(
                "secret_expiry",
                Status.PASS,
                f"The {credential} expires on {when}, in {days} days.",
                details=details,
            )
        return CheckResult(
            "secret_expiry",
            Status.WARN,
            f"The {credential} expires on {when}, in {max(days, 0)} day{'s' if days != 1 else ''}.",
            fix,
            code,
            details,
        )


def _certificate_format(certificate: CertificateCredential, note: str) -> CheckResult:
    """The format check of a certificate credential: its key and certificate still parse and
    belong together."""
    from clearooms_wizard.core.certificates import CertificateError, credential_from_keyring_text

    try:
        credential_from_keyring_text(certificate.keyring_text())
    except CertificateError as exc:
        return CheckResult(
            "format",
            Status.FAIL,
            f"Certificate: {exc}",
            "Create a new certificate and upload it, then test again.",
            "certificate_unreadable",
        )
    until = f"{certificate.not_after:%d %B %Y}".lstrip("0")
    return CheckResult(
        "format",
        Status.PASS,
        "The tenant and client ID look right, and the app signs in with a certificate "
        f"(thumbprint {certificate.sha1_thumbprint.upper()}, valid until {until})." + note,
        details={
            "credential": "certificate",
            # What the sign-in names it by (x5t#S256); the portal shows the SHA-1 one.
            "sha256_thumbprint": certificate.sha256_thumbprint.upper(),
        },
    )
