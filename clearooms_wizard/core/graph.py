"""Microsoft Graph: the few calls the wizard makes, with paging, errors and polite concurrency."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import requests

from clearooms_wizard.core.errors import (
    CancelToken,
    GraphError,
    TechnicalDetails,
    UnexpectedResponse,
)
from clearooms_wizard.core.responses import graph_error, read_json
from clearooms_wizard.core.tokens import AccessToken

PAGE_SIZE = 100
# Far beyond any real tenant (10,000 rooms is 100 pages); stops a service that never ends a list.
MAX_PAGES = 2_000
# Exchange Online allows 4 concurrent requests per mailbox before answering 429 (facts §4).
MAILBOX_CONCURRENCY = 4


class TokenSource(Protocol):
    def acquire(self) -> AccessToken: ...

    def forget(self) -> None: ...


@dataclass(frozen=True)
class Room:
    email: str
    name: str
    graph_id: str | None = None
    capacity: int | None = None
    building: str | None = None
    floor_number: int | None = None
    floor_label: str | None = None
    booking_type: str | None = None
    wheelchair_accessible: bool | None = None
    audio_device: str | None = None
    video_device: str | None = None
    display_device: str | None = None
    tags: tuple[str, ...] = ()
    room_lists: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.email.casefold()

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "id": self.graph_id,
            "capacity": self.capacity,
            "building": self.building,
            "floor_number": self.floor_number,
            "floor_label": self.floor_label,
            "booking_type": self.booking_type,
            "wheelchair_accessible": self.wheelchair_accessible,
            "audio_device": self.audio_device,
            "video_device": self.video_device,
            "display_device": self.display_device,
            "tags": list(self.tags),
            "room_lists": list(self.room_lists),
        }


@dataclass(frozen=True)
class RoomList:
    email: str
    name: str
    graph_id: str | None = None


@dataclass(frozen=True)
class RoomDirectory:
    rooms: tuple[Room, ...]
    room_lists: tuple[RoomList, ...]
    # Entries Graph sent that could not be used (no email address), so they can be reported.
    skipped: int = 0


def _text(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        # A lone surrogate (invalid UTF-16 from the service) would break writing it anywhere.
        text = str(value).encode("utf-8", "replace").decode("utf-8").strip()
        return text or None
    return None


def _int(value: object) -> int | None:
    # Graph has sent capacity both as 50 and as "50" (facts §1).
    number: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            return None
    # Capacities and floors are small; anything beyond this is garbage, and SQLite could not
    # store it anyway.
    return number if number is not None and abs(number) < 2**31 else None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def parse_room(item: Mapping[str, Any]) -> Room | None:
    email = _text(item.get("emailAddress"))
    if email is None or "@" not in email:
        return None
    wheelchair = item.get("isWheelChairAccessible", item.get("isWheelchairAccessible"))
    tags = item.get("tags")
    return Room(
        email=email,
        name=_text(item.get("displayName")) or email,
        graph_id=_text(item.get("id")),
        capacity=_int(item.get("capacity")),
        building=_text(item.get("building")),
        floor_number=_int(item.get("floorNumber")),
        floor_label=_text(item.get("floorLabel")),
        booking_type=_text(item.get("bookingType")),
        wheelchair_accessible=_bool(wheelchair),
        audio_device=_text(item.get("audioDeviceName")),
        video_device=_text(item.get("videoDeviceName")),
        display_device=_text(item.get("displayDeviceName") or item.get("displayDevice")),
        tags=tuple(t for t in (_text(x) for x in tags) if t) if isinstance(tags, list) else (),
    )


def parse_room_list(item: Mapping[str, Any]) -> RoomList | None:
    email = _text(item.get("emailAddress"))
    if email is None or "@" not in email:
        return None
    return RoomList(email, _text(item.get("displayName")) or email, _text(item.get("id")))


@dataclass(frozen=True)
class RoomSample:
    """The first page of rooms: enough to prove rooms can be read, and one to probe."""

    rooms: tuple[Room, ...]
    total: int | None
    more: bool


class CalendarAccess(StrEnum):
    READABLE = "readable"
    BLOCKED_BY_POLICY = "blocked_by_policy"
    NO_PERMISSION = "no_permission"
    NOT_IN_EXCHANGE_ONLINE = "not_in_exchange_online"
    NOT_FOUND = "not_found"
    FAILED = "failed"


@dataclass(frozen=True)
class CalendarProbe:
    email: str
    access: CalendarAccess
    code: str | None = None
    message: str | None = None
    details: TechnicalDetails = field(default_factory=TechnicalDetails)


def calendar_access_for(error: GraphError) -> CalendarAccess:
    if error.code == "ErrorAccessDenied" and "OData is disabled" in error.message:
        return CalendarAccess.BLOCKED_BY_POLICY
    if error.status == 403:
        return CalendarAccess.NO_PERMISSION
    if error.code == "MailboxNotEnabledForRESTAPI":
        return CalendarAccess.NOT_IN_EXCHANGE_ONLINE
    if error.status == 404:
        return CalendarAccess.NOT_FOUND
    return CalendarAccess.FAILED


class GraphClient:
    def __init__(
        self,
        session: requests.Session,
        tokens: TokenSource,
        graph_root: str,
        cancel: CancelToken | None = None,
    ) -> None:
        self._session = session
        self._tokens = tokens
        self._root = graph_root.rstrip("/")
        self._cancel = cancel or CancelToken()
        self._mailbox_lock = threading.Lock()
        self._mailbox_slots: defaultdict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(MAILBOX_CONCURRENCY)
        )

    # -- plumbing --------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self._root}/v1.0{path}"

    def _follows_root(self, link: str) -> bool:
        # The bearer token must only ever go to the Graph host we chose, whatever a page says.
        root, target = urlsplit(self._root), urlsplit(link)
        try:
            ports = (root.port or 443, target.port or 443)
        except ValueError:
            return False
        return (
            target.scheme == "https"
            and (target.hostname or "") == (root.hostname or "")
            and ports[0] == ports[1]
        )

    def _send(self, url: str, params: Mapping[str, str | int] | None) -> requests.Response:
        token = self._tokens.acquire()
        headers = {
            "Authorization": f"Bearer {token.value}",
            "client-request-id": str(uuid.uuid4()),
            "Accept": "application/json",
        }
        return self._session.get(url, params=params, headers=headers)

    def get(self, url: str, params: Mapping[str, str | int] | None = None) -> dict[str, Any]:
        self._cancel.raise_if_cancelled()
        response = self._send(url, params)
        if response.status_code == 401:
            # A token can be revoked or expire early on Microsoft's side; one fresh token is
            # worth a try before reporting the app's sign-in as broken.
            self._tokens.forget()
            response = self._send(url, params)
        if response.status_code >= 400:
            raise graph_error(response)
        return read_json(response)

    def iter_pages(
        self, path: str, params: Mapping[str, str | int] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, following next links, and ``$skip`` where Graph forgets them.

        Places often answers a full page with no ``@odata.nextLink`` (facts §1), so a full page
        without one means "ask for the next page yourself" until a short page arrives.
        """
        base = dict(params or {})
        base.setdefault("$top", PAGE_SIZE)
        page_size = int(base["$top"])
        url: str = self._url(path)
        query: dict[str, str | int] | None = base
        fetched = 0
        visited: set[str] = set()
        for _ in range(MAX_PAGES):
            page = self.get(url, query)
            items = page.get("value")
            if not isinstance(items, list):
                raise UnexpectedResponse(
                    "Microsoft Graph sent a list in an unexpected shape.",
                    TechnicalDetails(url=url.split("?", 1)[0]),
                )
            good = [item for item in items if isinstance(item, dict)]
            yield good
            fetched += len(items)
            next_link = page.get("@odata.nextLink")
            if isinstance(next_link, str) and next_link:
                # Stopping quietly would make the rooms after this page look deleted.
                if not self._follows_root(next_link):
                    raise UnexpectedResponse(
                        "Microsoft Graph pointed the next page of the list at another address; "
                        "the list was not read to the end.",
                        TechnicalDetails(url=url.split("?", 1)[0]),
                    )
                if next_link in visited:
                    raise UnexpectedResponse(
                        "Microsoft Graph sent the same page of the list twice; the list was not "
                        "read to the end.",
                        TechnicalDetails(url=url.split("?", 1)[0]),
                    )
                visited.add(next_link)
                url, query = next_link, None
                continue
            total = _int(page.get("@odata.count"))
            if not items or len(items) < page_size or (total is not None and fetched >= total):
                return
            url, query = self._url(path), {**base, "$skip": fetched}
        raise UnexpectedResponse(
            f"Microsoft Graph kept sending more pages after {MAX_PAGES}; stopped reading.",
            TechnicalDetails(url=self._url(path)),
        )

    # -- rooms -----------------------------------------------------------------------------

    def _collect(
        self,
        path: str,
        parse: Callable[[Mapping[str, Any]], Any],
        progress: Callable[[int], None] | None = None,
    ) -> tuple[list[Any], int]:
        found: dict[str, Any] = {}
        skipped = 0
        for page in self.iter_pages(path):
            repeated = 0
            for item in page:
                parsed = parse(item)
                if parsed is None:
                    skipped += 1
                elif parsed.email.casefold() in found:
                    repeated += 1
                else:
                    found[parsed.email.casefold()] = parsed
            if progress is not None:
                progress(len(found))
            if page and repeated == len(page):
                # Every room on this page was on an earlier one: a service that ignores $skip
                # would send the same page forever.
                break
        return list(found.values()), skipped

    def list_rooms(self, progress: Callable[[int], None] | None = None) -> tuple[list[Room], int]:
        return self._collect("/places/microsoft.graph.room", parse_room, progress)

    def sample_rooms(self, top: int = 10) -> RoomSample:
        page = self.get(self._url("/places/microsoft.graph.room"), {"$top": top, "$count": "true"})
        items = page.get("value")
        parsed = (
            [parse_room(i) for i in items if isinstance(i, dict)] if isinstance(items, list) else []
        )
        rooms = tuple(room for room in parsed if room is not None)
        total = _int(page.get("@odata.count"))
        more = bool(page.get("@odata.nextLink")) or len(parsed) >= top
        return RoomSample(rooms, total if total is not None and total >= len(rooms) else None, more)

    def list_room_lists(self) -> list[RoomList]:
        lists, _ = self._collect("/places/microsoft.graph.roomlist", parse_room_list)
        return lists

    def list_room_list_members(self, room_list_email: str) -> list[Room]:
        # Room lists must be addressed by email address, not id (facts §1).
        path = f"/places/{quote(room_list_email, safe='@')}/microsoft.graph.roomlist/rooms"
        rooms, _ = self._collect(path, parse_room)
        return rooms

    def load_rooms(self, progress: Callable[[int], None] | None = None) -> RoomDirectory:
        """All rooms, each with the emails of the room lists it belongs to."""
        rooms, skipped = self.list_rooms(progress)
        room_lists = self.list_room_lists()
        membership: defaultdict[str, list[str]] = defaultdict(list)
        by_key = {room.key: room for room in rooms}
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="room-lists") as pool:
            results = pool.map(lambda rl: (rl, self._members_or_empty(rl)), room_lists)
            for room_list, members in results:
                for member in members:
                    membership[member.key].append(room_list.email)
                    # A room in a list but missing from /places/room (it happens while Places
                    # catches up) is still a room the customer may want.
                    by_key.setdefault(member.key, member)
        merged = tuple(
            replace(room, room_lists=tuple(membership.get(room.key, ())))
            for room in by_key.values()
        )
        return RoomDirectory(merged, tuple(room_lists), skipped)

    def _members_or_empty(self, room_list: RoomList) -> list[Room]:
        try:
            return self.list_room_list_members(room_list.email)
        except GraphError as exc:
            if exc.status == 404:
                return []
            raise

    # -- directory, application, calendars -------------------------------------------------

    def first_user_id(self) -> str | None:
        page = self.get(self._url("/users"), {"$top": 1, "$select": "id"})
        users = page.get("value")
        if isinstance(users, list) and users and isinstance(users[0], dict):
            return _text(users[0].get("id"))
        return None

    def get_application(self, app_id: str) -> dict[str, Any]:
        # app_id has passed check_client_id (a GUID), so it is safe inside the quotes.
        url = self._url(f"/applications(appId='{app_id}')")
        return self.get(url, {"$select": "id,appId,displayName,passwordCredentials"})

    def probe_calendar(self, email: str) -> CalendarProbe:
        """Can the app read this room's calendar? Never raises for a Graph answer."""
        key = email.casefold()
        with self._mailbox_lock:
            slot = self._mailbox_slots[key]
        with slot:
            url = self._url(f"/users/{quote(email, safe='@')}/calendar")
            try:
                self.get(url, {"$select": "id"})
            except GraphError as exc:
                return CalendarProbe(
                    email, calendar_access_for(exc), exc.code, exc.message, exc.details
                )
        return CalendarProbe(email, CalendarAccess.READABLE)
