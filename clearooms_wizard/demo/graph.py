"""The demo's Microsoft Graph v1.0: the Places, directory and calendar calls the product makes."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from clearooms_wizard.demo import data
from clearooms_wizard.demo.data import Directory, Room
from clearooms_wizard.demo.graph_apps import AppRegistrationGraph
from clearooms_wizard.demo.graph_common import INSUFFICIENT_PRIVILEGES as INSUFFICIENT_PRIVILEGES
from clearooms_wizard.demo.graph_common import GraphCall as _Call
from clearooms_wizard.demo.graph_common import GraphProblem as GraphProblem
from clearooms_wizard.demo.graph_common import bad_request as _bad_request
from clearooms_wizard.demo.graph_common import check_options as _check_options
from clearooms_wizard.demo.graph_common import graph_error as graph_error
from clearooms_wizard.demo.graph_common import int_option as _int_option
from clearooms_wizard.demo.graph_common import ok
from clearooms_wizard.demo.graph_common import option as _option
from clearooms_wizard.demo.graph_common import project as _project
from clearooms_wizard.demo.graph_common import select as _select
from clearooms_wizard.demo.messages import DemoRequest, DemoResponse
from clearooms_wizard.demo.registry import Registry
from clearooms_wizard.demo.scenarios import Scenario
from clearooms_wizard.demo.tokens import IssuedToken, TokenStore

PLACES_PAGE_MAX = 100
USERS_PAGE_MAX = 999

ACCESS_DENIED = "Access is denied. Check credentials and try again."
ACCESS_POLICY_DENIED = "Access to OData is disabled."

PLACE_ROLES = frozenset({"Place.Read.All", "Place.ReadWrite.All"})
CALENDAR_ROLES = frozenset({"Calendars.Read", "Calendars.ReadWrite", "Calendars.ReadBasic.All"})
USER_ROLES = frozenset(
    {
        "User.Read.All",
        "User.ReadWrite.All",
        "User.ReadBasic.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
ORGANIZATION_ROLES = frozenset(
    {"Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)

ROOM_PROPERTIES = (
    "id",
    "emailAddress",
    "displayName",
    "address",
    "geoCoordinates",
    "phone",
    "nickname",
    "label",
    "capacity",
    "building",
    "floorNumber",
    "floorLabel",
    "bookingType",
    "audioDeviceName",
    "videoDeviceName",
    "displayDeviceName",
    "isWheelChairAccessible",
    "tags",
    "placeId",
    "parentId",
)
ROOM_LIST_PROPERTIES = ("id", "displayName", "emailAddress", "address", "geoCoordinates", "phone")
USER_PROPERTIES = (
    "id",
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "accountEnabled",
    "userType",
)
CALENDAR_PROPERTIES = (
    "id",
    "name",
    "color",
    "hexColor",
    "isDefaultCalendar",
    "changeKey",
    "canShare",
    "canViewPrivateItems",
    "canEdit",
    "allowedOnlineMeetingProviders",
    "defaultOnlineMeetingProvider",
    "isTallyingResponses",
    "isRemovable",
    "owner",
)

_WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    f'authorize", client_id="{data.GRAPH_APP_ID}"'
)
# A service principal or application by object id or by alternate key.
_SP = r"^servicePrincipals(?:\(appId='(?P<app_id>[^']*)'\)|/(?P<id>[^/()]+))"
_APP = (
    r"^applications(?:\(appId='(?P<app_id>[^']*)'\)"
    r"|\(uniqueName='(?P<unique_name>[^']*)'\)|/(?P<id>[^/()]+))"
)

Handler = Callable[[_Call, re.Match[str]], DemoResponse]


def throttled(request: DemoRequest | None, *, retry_after: int = 1) -> DemoResponse:
    return graph_error(
        request,
        429,
        "TooManyRequests",
        "Too many requests",
        extra_headers={"Retry-After": str(retry_after)},
    )


def mailbox_concurrency_exceeded(
    request: DemoRequest | None, *, retry_after: int = 1
) -> DemoResponse:
    # Exchange's real wording; the code is the generic one, the limit's name is in the message.
    return graph_error(
        request,
        429,
        "ApplicationThrottled",
        "Application is over its MailboxConcurrency limit.",
        extra_headers={"Retry-After": str(retry_after)},
    )


class GraphService:
    def __init__(
        self,
        scenario: Scenario,
        directory: Directory,
        registry: Registry,
        tokens: TokenStore,
    ) -> None:
        self._scenario = scenario
        self._directory = directory
        self._tokens = tokens
        self._registry = registry
        apps = AppRegistrationGraph(scenario, registry)
        self._lock = threading.Lock()
        self._throttled_paths: set[str] = set()
        self._throttled_count = 0
        # Built once: the directory never changes, and a tenant may hold 10,000 rooms.
        self._room_items = [room.to_graph() for room in directory.rooms]
        self._room_list_items = [rl.to_graph() for rl in directory.room_lists]
        self._member_items: dict[str, list[dict[str, Any]]] = {}
        self._user_list = [p.to_graph() for p in directory.people] + [
            data.room_user_graph(r) for r in directory.rooms
        ]
        self._users_by_key: dict[str, dict[str, Any]] = {}
        for item in reversed(self._user_list):
            self._users_by_key[str(item["id"]).lower()] = item
            self._users_by_key[str(item["userPrincipalName"]).lower()] = item
        # Every route the demo Graph serves, with the methods each answers (HEAD as GET).
        routes: list[tuple[str, Mapping[str, Handler]]] = [
            (r"^places/microsoft\.graph\.room$", {"GET": self._rooms}),
            (r"^places/microsoft\.graph\.roomlist$", {"GET": self._room_lists}),
            (r"^places/([^/]+)/microsoft\.graph\.roomlist/rooms$", {"GET": self._rooms_in_list}),
            (r"^users$", {"GET": self._users}),
            (r"^users/([^/]+)$", {"GET": self._user}),
            (r"^users/([^/]+)/(calendar)$", {"GET": self._calendar}),
            (r"^users/([^/]+)/(calendar/events|events)$", {"GET": self._events}),
            (r"^users/([^/]+)/(calendarview)$", {"GET": self._events}),
            (r"^me$", {"GET": self._me}),
            (r"^organization$", {"GET": self._organization}),
            (r"^applications$", {"GET": apps.list_applications, "POST": apps.create_application}),
            (
                _APP + "$",
                {
                    "GET": apps.get_application,
                    "PATCH": apps.update_application,
                    "DELETE": apps.delete_application,
                },
            ),
            (r"^applications/(?P<id>[^/()]+)/addPassword$", {"POST": apps.add_password}),
            (r"^applications/(?P<id>[^/()]+)/removePassword$", {"POST": apps.remove_password}),
            (
                r"^servicePrincipals$",
                {"GET": apps.list_service_principals, "POST": apps.create_service_principal},
            ),
            (
                _SP + "$",
                {"GET": apps.get_service_principal, "DELETE": apps.delete_service_principal},
            ),
            (
                _SP + "/appRoleAssignedTo$",
                {"GET": apps.list_assigned_to, "POST": apps.grant_assigned_to},
            ),
            (
                _SP + "/appRoleAssignments$",
                {"GET": apps.list_assignments, "POST": apps.grant_assignment},
            ),
            (
                _SP + "/(?P<nav>appRoleAssignedTo|appRoleAssignments)/(?P<grant>[^/]+)$",
                {"DELETE": apps.revoke},
            ),
        ]
        self._routes = [
            (re.compile(pattern, re.IGNORECASE), methods) for pattern, methods in routes
        ]

    @property
    def throttled_count(self) -> int:
        with self._lock:
            return self._throttled_count

    def handle(self, request: DemoRequest) -> DemoResponse:
        path = request.path
        if not path.startswith("/v1.0/"):
            return graph_error(
                request, 400, "BadRequest", "The demo tenant serves Microsoft Graph v1.0 only."
            )
        token = self._authenticate(request)
        if isinstance(token, DemoResponse):
            return token
        if self._scenario.throttle_first_graph_request and self._first_visit(path.lower()):
            return throttled(request)
        rest = path[len("/v1.0/") :].rstrip("/")
        call = _Call(request, token, rest.split("/"))
        try:
            for pattern, methods in self._routes:
                match = pattern.match(rest)
                if match:
                    handler = methods.get("GET" if request.method == "HEAD" else request.method)
                    if handler is None:
                        raise GraphProblem(
                            405,
                            "BadRequest",
                            "Specified HTTP method is not allowed for the request target.",
                        )
                    return handler(call, match)
            segment = self._unknown_segment(rest)
            raise _bad_request(f"Resource not found for the segment '{segment}'.")
        except GraphProblem as problem:
            return graph_error(request, problem.status, problem.code, problem.message)

    # --- plumbing ---------------------------------------------------------------------------

    def _authenticate(self, request: DemoRequest) -> IssuedToken | DemoResponse:
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else ""
        result = self._tokens.validate(token)
        if isinstance(result, IssuedToken):
            return result
        message = {
            "empty": "Access token is empty.",
            "invalid": "Access token validation failure.",
            "expired": "Lifetime validation failed, the token is expired.",
        }[result]
        return graph_error(
            request,
            401,
            "InvalidAuthenticationToken",
            message,
            extra_headers={"WWW-Authenticate": _WWW_AUTHENTICATE},
        )

    def _first_visit(self, path: str) -> bool:
        with self._lock:
            if path in self._throttled_paths:
                return False
            self._throttled_paths.add(path)
            self._throttled_count += 1
            return True

    def _unknown_segment(self, rest: str) -> str:
        segments = rest.split("/")
        known_first = {"places", "users", "applications", "organization", "serviceprincipals"}
        if segments[0].split("(")[0].lower() in known_first and len(segments) > 1:
            return segments[-1]
        return segments[0].split("(")[0]

    def _ok(self, call: _Call, payload: Mapping[str, Any]) -> DemoResponse:
        return ok(call, payload)

    def _require(self, call: _Call, roles: frozenset[str], code: str, message: str) -> None:
        if not (call.roles & roles):
            raise GraphProblem(403, code, message)

    def _next_link(self, call: _Call, changes: Mapping[str, str]) -> str:
        query = [(k, v) for k, v in call.request.query if k not in changes]
        query.extend(changes.items())
        encoded = urlencode(query, safe="$,'()", quote_via=quote)
        return f"{call.request.base}{call.request.raw_path}?{encoded}"

    def _places_page(
        self,
        call: _Call,
        items: list[dict[str, Any]],
        *,
        context: str,
        known: Iterable[str],
        type_name: str,
    ) -> DemoResponse:
        request = call.request
        _check_options(request, ("$top", "$skip", "$count", "$select"))
        top = min(_int_option(request, "$top", PLACES_PAGE_MAX), PLACES_PAGE_MAX)
        skip = _int_option(request, "$skip", 0)
        count_raw = (_option(request, "$count") or "false").lower()
        if count_raw not in ("true", "false"):
            raise _bad_request(
                f"Invalid value '{count_raw}' for $count query option found. "
                "Valid values are 'true' and 'false'."
            )
        selected = _select(request, known, type_name)
        page = [_project(item, selected) for item in items[skip : skip + top]]
        if selected:
            context = f"{context}({','.join(selected)})"
        payload: dict[str, Any] = {"@odata.context": f"{call.root}/$metadata#{context}"}
        if count_raw == "true":
            payload["@odata.count"] = len(items)
        more = skip + len(page) < len(items)
        # The known Places bug: a full page, more to come, and no link to it.
        if more and page and not self._scenario.places_paging_bug:
            payload["@odata.nextLink"] = self._next_link(call, {"$skip": str(skip + len(page))})
        payload["value"] = page
        return self._ok(call, payload)

    # --- places -----------------------------------------------------------------------------

    def _rooms(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        self._require(call, PLACE_ROLES, "ErrorAccessDenied", ACCESS_DENIED)
        return self._places_page(
            call,
            self._room_items,
            context="places/microsoft.graph.room",
            known=ROOM_PROPERTIES,
            type_name="microsoft.graph.room",
        )

    def _room_lists(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        self._require(call, PLACE_ROLES, "ErrorAccessDenied", ACCESS_DENIED)
        return self._places_page(
            call,
            self._room_list_items,
            context="places/microsoft.graph.roomList",
            known=ROOM_LIST_PROPERTIES,
            type_name="microsoft.graph.roomList",
        )

    def _rooms_in_list(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        self._require(call, PLACE_ROLES, "ErrorAccessDenied", ACCESS_DENIED)
        key = match.group(1)
        # Only the list's email address addresses it; its id does not (documented quirk).
        room_list = self._directory.room_list(key)
        if room_list is None:
            raise GraphProblem(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        members = self._members_of(room_list)
        quoted = quote(room_list.email, safe="")
        return self._places_page(
            call,
            members,
            context=f"places('{quoted}')/microsoft.graph.roomList/rooms",
            known=ROOM_PROPERTIES,
            type_name="microsoft.graph.room",
        )

    def _members_of(self, room_list: data.RoomList) -> list[dict[str, Any]]:
        key = room_list.email.lower()
        with self._lock:
            members = self._member_items.get(key)
            if members is None:
                members = [r.to_graph() for r in self._directory.rooms_in(room_list)]
                self._member_items[key] = members
            return members

    # --- directory --------------------------------------------------------------------------

    def _user_items(self) -> list[dict[str, Any]]:
        return self._user_list

    def _users(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        self._require(call, USER_ROLES, "Authorization_RequestDenied", INSUFFICIENT_PRIVILEGES)
        request = call.request
        _check_options(request, ("$top", "$select", "$skiptoken"), "Request_BadRequest")
        top = _int_option(request, "$top", 100)
        if not 1 <= top <= USERS_PAGE_MAX:
            raise _bad_request(
                f"Invalid page size specified: '{top}'. Must be between 1 and {USERS_PAGE_MAX} "
                "inclusive.",
                "Request_BadRequest",
            )
        skip = self._decode_skiptoken(_option(request, "$skiptoken"))
        selected = _select(request, USER_PROPERTIES, "microsoft.graph.user", "Request_BadRequest")
        items = self._user_items()
        page = [_project(item, selected) for item in items[skip : skip + top]]
        context = "users" if not selected else f"users({','.join(selected)})"
        payload: dict[str, Any] = {"@odata.context": f"{call.root}/$metadata#{context}"}
        if skip + len(page) < len(items):
            token = self._encode_skiptoken(skip + len(page))
            payload["@odata.nextLink"] = self._next_link(call, {"$skiptoken": token})
        payload["value"] = page
        return self._ok(call, payload)

    def _encode_skiptoken(self, offset: int) -> str:
        # Opaque to clients, as Graph's are; they must follow nextLink rather than build one.
        raw = f"RFNwdAIAAQAAAC{offset:08d}".encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def _decode_skiptoken(self, token: str | None) -> int:
        if token is None:
            return 0
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            return int(raw.removeprefix("RFNwdAIAAQAAAC"))
        except (ValueError, UnicodeDecodeError):
            raise _bad_request(
                "Skip token is null or empty, or the format is invalid.", "Request_BadRequest"
            ) from None

    def _find_user(self, key: str) -> dict[str, Any] | None:
        return self._users_by_key.get(key.lower())

    def _user(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        self._require(call, USER_ROLES, "Authorization_RequestDenied", INSUFFICIENT_PRIVILEGES)
        _check_options(call.request, ("$select",), "Request_BadRequest")
        key = match.group(1)
        user = self._find_user(key)
        if user is None:
            raise GraphProblem(
                404,
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        selected = _select(call.request, USER_PROPERTIES, "microsoft.graph.user")
        payload = {"@odata.context": f"{call.root}/$metadata#users/$entity"}
        payload.update(_project(user, selected))
        return self._ok(call, payload)

    def _me(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        if not call.token.is_delegated:
            raise _bad_request("/me request is only valid with delegated authentication flow.")
        _check_options(call.request, ("$select",), "Request_BadRequest")
        user = self._find_user(str(call.token.claims.get("oid", "")))
        if user is None:
            raise GraphProblem(
                404,
                "Request_ResourceNotFound",
                f"Resource '{call.token.claims.get('oid')}' does not exist or one of its queried "
                "reference-property objects are not present.",
            )
        selected = _select(call.request, USER_PROPERTIES, "microsoft.graph.user")
        payload = {"@odata.context": f"{call.root}/$metadata#users/$entity"}
        payload.update(_project(user, selected))
        return self._ok(call, payload)

    def _organization(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        # A signed-in person may read their own organisation's profile: the sign-in client's
        # pre-authorised permissions include User.Read, which is all that needs.
        if not call.token.is_delegated:
            self._require(
                call, ORGANIZATION_ROLES, "Authorization_RequestDenied", INSUFFICIENT_PRIVILEGES
            )
        org = {
            "id": data.TENANT_ID,
            "displayName": data.TENANT_DISPLAY_NAME,
            "countryLetterCode": "GB",
            "tenantType": "AAD",
            "verifiedDomains": [
                {
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": domain == data.PRIMARY_DOMAIN,
                    "isInitial": domain == data.INITIAL_DOMAIN,
                    "name": domain,
                    "type": "Managed",
                }
                for domain in data.DOMAINS
            ],
        }
        payload = {"@odata.context": f"{call.root}/$metadata#organization", "value": [org]}
        return self._ok(call, payload)

    # --- mailboxes --------------------------------------------------------------------------

    def _mailbox_owner(self, key: str) -> tuple[str, str, Room | None]:
        """(display name, email, room or None) of a mailbox addressed by email or user id."""
        lowered = key.lower()
        room = self._directory.room_by_email_or_user_id(key)
        if room is not None:
            return room.display_name, room.email, room
        for person in self._directory.people:
            if lowered in (person.email.lower(), person.id):
                return person.display_name, person.email, None
        raise GraphProblem(404, "ErrorInvalidUser", f"The requested user '{key}' is invalid.")

    def _open_mailbox(self, call: _Call, key: str) -> tuple[str, str]:
        name, email, room = self._mailbox_owner(key)
        if email.lower() in {e.lower() for e in self._scenario.on_premises_rooms}:
            raise GraphProblem(
                404,
                "MailboxNotEnabledForRESTAPI",
                "REST API is not yet supported for this mailbox.",
            )
        if not self._calendar_reachable(call, room is not None):
            raise GraphProblem(403, "ErrorAccessDenied", ACCESS_DENIED)
        blocked = {e.lower() for e in self._scenario.policy_blocked_rooms}
        if (
            room is not None and self._scenario.policy_blocks_all_rooms
        ) or email.lower() in blocked:
            raise GraphProblem(403, "ErrorAccessDenied", ACCESS_POLICY_DENIED)
        return name, email

    def _calendar_reachable(self, call: _Call, is_room: bool) -> bool:
        """The union of the Entra grant and Exchange's scope; while Exchange's cache is stale
        ("pending"), the grant it last saw still opens every mailbox."""
        scope = self._scenario.calendar_scope
        if call.roles & CALENDAR_ROLES or scope == "pending":
            return True
        principal = call.token.claims.get("oid")
        if isinstance(principal, str) and self._registry.still_cached(
            principal, "Calendars.ReadWrite"
        ):
            return True
        return is_room and scope in ("rooms", "rooms-and-entra")

    def _calendar(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        _check_options(call.request, ("$select",))
        name, email = self._open_mailbox(call, match.group(1))
        digest = hashlib.sha512(email.lower().encode()).digest()
        calendar = {
            # Shaped like an Exchange calendar id: opaque, long, base64url.
            "id": "AAMkAD" + base64.urlsafe_b64encode(digest + digest[:22]).decode().rstrip("="),
            "name": "Calendar",
            "color": "auto",
            "hexColor": "",
            "isDefaultCalendar": True,
            "changeKey": base64.b64encode(digest[:12]).decode("ascii"),
            "canShare": True,
            "canViewPrivateItems": True,
            "canEdit": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "isTallyingResponses": True,
            "isRemovable": False,
            "owner": {"name": name, "address": email},
        }
        selected = _select(call.request, CALENDAR_PROPERTIES, "microsoft.graph.calendar")
        quoted = quote(match.group(1), safe="")
        payload = {"@odata.context": f"{call.root}/$metadata#users('{quoted}')/calendar/$entity"}
        payload.update(_project(calendar, selected))
        return self._ok(call, payload)

    def _events(self, call: _Call, match: re.Match[str]) -> DemoResponse:
        request = call.request
        view = match.group(2).lower() == "calendarview"
        allowed = ["$select", "$top", "startDateTime", "endDateTime"]
        _check_options(request, allowed)
        self._open_mailbox(call, match.group(1))
        if view and not (_option(request, "startDateTime") and _option(request, "endDateTime")):
            raise _bad_request(
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
                "ErrorInvalidParameter",
            )
        quoted = quote(match.group(1), safe="")
        segment = "calendarView" if view else "events"
        payload = {
            "@odata.context": f"{call.root}/$metadata#users('{quoted}')/{segment}",
            # The demo keeps no bookings: every room is free.
            "value": [],
        }
        return self._ok(call, payload)
