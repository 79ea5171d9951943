"""Microsoft Graph: the few calls the wizard makes, with paging, errors and polite concurrency."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from urllib3.util import parse_url

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import GraphError, ListFault, ListProblem, TechnicalDetails
from clearooms_wizard.core.http import BearerFor, same_origin
from clearooms_wizard.core.model import (
    MAX_EMAIL,
    CalendarAccess,
    Room,
    RoomDirectory,
    RoomList,
    is_room_email,
)
from clearooms_wizard.core.responses import graph_error, read_json

if TYPE_CHECKING:
    # Types only: requests and MSAL load with the session, on a worker thread.
    import requests

    from clearooms_wizard.core.tokens import AccessToken

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# Far beyond any real tenant (10,000 rooms is 100 pages); stops a service that never ends a list.
MAX_PAGES = 2_000
# Next links that lead on and on through rooms already sent are a service fault: after this many
# pages in a row the listing stops and says so, rather than read up to MAX_PAGES.
MAX_PAGES_WITHOUT_NEW_ROOMS = 20
# Exchange Online allows 4 concurrent requests per mailbox before answering 429
# ("MailboxConcurrency", https://learn.microsoft.com/graph/throttling-limits).
MAILBOX_CONCURRENCY = 4
# Pages of one list fetched at once (by $skip) when Graph says how long the list is; shared by
# every listing of a client, and well within the session's pool of 16 connections.
PAGE_CONCURRENCY = 8
# Room lists whose members are read side by side.
ROOM_LIST_CONCURRENCY = 8


class TokenSource(Protocol):
    def acquire(self) -> AccessToken: ...

    def forget(self, token: AccessToken) -> None: ...


# Exchange caps a display name at 256 characters, and building, floor, device names and tags
# are shorter in practice. Longer text is cut to this, ending in an ellipsis, so that one odd
# entry cannot fill memory, the workspace or the screen.
MAX_TEXT = 256
MAX_TAGS = 50
# An id or a booking type cut short would be a wrong one, so longer ones are left out.
MAX_TOKEN = 256
_ELLIPSIS = "…"


def _clipped(value: object, limit: int = MAX_TEXT) -> tuple[str | None, bool]:
    """The value as text of at most ``limit`` characters, and whether it had to be cut."""
    if isinstance(value, bool) or value is None:
        return None, False
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None, False
    # Cut before anything else copies it: the text may be megabytes long.
    text = value.strip()
    cut = len(text) > limit
    if cut:
        text = text[: limit - len(_ELLIPSIS)].rstrip() + _ELLIPSIS
    # A lone surrogate (invalid UTF-16 from the service) would break writing it anywhere.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text or None, cut


def _text(value: object, limit: int = MAX_TEXT) -> str | None:
    return _clipped(value, limit)[0]


def _token(value: object) -> str | None:
    text, cut = _clipped(value, MAX_TOKEN)
    return None if cut else text


def _int(value: object) -> int | None:
    # Graph has sent capacity both as 50 and as "50".
    number: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and len(value) <= 32:
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


def _email(value: object) -> str | None:
    """A room's address as Graph sent it, or None when it is missing or not a valid address."""
    if not isinstance(value, str) or len(value) > MAX_EMAIL + 64:
        return None  # not stripped first: that would copy an address megabytes long
    text = value.strip()
    return text if is_room_email(text) else None


def parse_room(item: Mapping[str, Any]) -> Room | None:
    """A room from a Graph entry; None when it has no valid email address. Long text is cut
    (and logged), a negative capacity and oddly shaped values are left out."""
    email = _email(item.get("emailAddress"))
    if email is None:
        return None
    shortened: list[str] = []

    def text(*keys: str) -> str | None:
        value = next((item[k] for k in keys if item.get(k)), None)
        clipped, cut = _clipped(value)
        if cut:
            shortened.append(keys[0])
        return clipped

    wheelchair = item.get("isWheelChairAccessible", item.get("isWheelchairAccessible"))
    capacity = _int(item.get("capacity"))
    tags = item.get("tags")
    room = Room(
        email=email,
        name=text("displayName") or email,
        graph_id=_token(item.get("id")),
        capacity=capacity if capacity is not None and capacity >= 0 else None,
        building=text("building"),
        floor_number=_int(item.get("floorNumber")),
        floor_label=text("floorLabel"),
        booking_type=_token(item.get("bookingType")),
        wheelchair_accessible=_bool(wheelchair),
        audio_device=text("audioDeviceName"),
        video_device=text("videoDeviceName"),
        display_device=text("displayDeviceName", "displayDevice"),
        tags=_tags(tags, shortened) if isinstance(tags, list) else (),
    )
    if shortened:
        log.warning(
            "Room %s: Microsoft 365 sent %s longer than %d characters; kept the start of it.",
            email,
            ", ".join(shortened),
            MAX_TEXT,
        )
    return room


def _tags(values: list[Any], shortened: list[str]) -> tuple[str, ...]:
    tags: list[str] = []
    for value in values[:MAX_TAGS]:
        tag, cut = _clipped(value)
        if cut and "tags" not in shortened:
            shortened.append("tags")
        if tag:
            tags.append(tag)
    if len(values) > MAX_TAGS and "tags" not in shortened:
        shortened.append("tags")
    return tuple(tags)


def parse_room_list(item: Mapping[str, Any]) -> RoomList | None:
    email = _email(item.get("emailAddress"))
    if email is None:
        return None
    return RoomList(email, _text(item.get("displayName")) or email, _token(item.get("id")))


@dataclass(frozen=True)
class RoomSample:
    """The first page of rooms: enough to prove rooms can be read, and one to probe."""

    rooms: tuple[Room, ...]
    total: int | None
    more: bool


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


@dataclass(frozen=True)
class DirectoryUser:
    """One account from the directory: enough to tell a person with a mailbox from the rest."""

    id: str
    mail: str | None
    enabled: bool | None
    member: bool

    @property
    def looks_like_a_person(self) -> bool:
        # Room and shared mailboxes are created with their sign-in account disabled; guests'
        # mailboxes live in their own organisation.
        return self.mail is not None and self.enabled is True and self.member


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
        root = urlsplit(self._root)
        self._origin = f"{root.scheme}://{root.netloc}"
        self._cancel = cancel or CancelToken()
        self._mailbox_lock = threading.Lock()
        self._page_slots = threading.BoundedSemaphore(PAGE_CONCURRENCY)
        self._mailbox_slots: defaultdict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(MAILBOX_CONCURRENCY)
        )

    # -- plumbing --------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self._root}/v1.0{path}"

    def _next_page_url(self, link: str) -> str | None:
        """The next page's address, rebuilt on the Graph root from the link's path and query;
        None when the link goes anywhere else (the bearer token must only ever go to the Graph
        host we chose, whatever a page says)."""
        # Graph's links are plain ASCII. Backslashes, spaces and control characters are where
        # URL parsers disagree about the host, so a link holding any is not followed at all.
        if not link.isascii() or any(ch <= " " or ch in "\\\x7f" for ch in link):
            return None
        if not same_origin(link, self._root):
            return None
        parsed = parse_url(link)
        path = parsed.path or "/"
        return f"{self._origin}{path}" + (f"?{parsed.query}" if parsed.query else "")

    def _send(
        self, url: str, params: Mapping[str, str | int] | None
    ) -> tuple[requests.Response, AccessToken]:
        token = self._tokens.acquire()
        headers = {"client-request-id": str(uuid.uuid4()), "Accept": "application/json"}
        # The token goes on through an auth, which checks the URL as it will be sent (and the
        # session follows no redirect, so it stays there).
        response = self._session.get(
            url, params=params, headers=headers, auth=BearerFor(token.value, self._root)
        )
        return response, token

    def get(self, url: str, params: Mapping[str, str | int] | None = None) -> dict[str, Any]:
        self._cancel.raise_if_cancelled()
        response, token = self._send(url, params)
        if response.status_code == 401:
            # A token can be revoked or expire early on Microsoft's side; one fresh token is
            # worth a try before reporting the app's sign-in as broken.
            self._tokens.forget(token)
            response, _ = self._send(url, params)
        if response.status_code >= 400:
            raise graph_error(response)
        return read_json(response)

    def _walk_pages(
        self, path: str, params: Mapping[str, str | int] | None = None
    ) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """Every page of a list, in order, following next links, and ``$skip`` where Graph
        forgets them; each with whether it was asked for by a ``$skip`` of our own guessing (no
        next link, no count to bound it).

        Places often answers a full page with no ``@odata.nextLink`` (microsoft-graph-docs-contrib
        issue 6252), so a full page
        without one means "ask for the next page yourself" until a short page arrives. When the
        first page is full and says how long the list is (``@odata.count``, sent when the
        caller asks with ``$count=true``), the other pages are fetched by ``$skip``,
        ``PAGE_CONCURRENCY`` at a time, and still yielded in order; a full last page is then
        followed by one more request, as when reading page by page, in case the list grew.
        That is only while the next links agree: a page whose next link leads anywhere but the
        page ``$skip`` reads next (an opaque ``$skiptoken``, a service that ignores ``$skip``)
        is followed by its link, page by page, as when there is no count.
        """
        # $top first, so the first request reads as it always has (proxies and logs see it).
        base: dict[str, str | int] = {"$top": PAGE_SIZE, **(params or {})}
        page_size = int(base["$top"])
        first = self.get(self._url(path), base)
        skips = self._skips_for_count(first, path, base)
        if not skips:
            yield from self._pages_in_turn(path, base, page_size, first)
            return
        items, sent = self._page_items(first, self._url(path))
        yield items, False
        last_sent = sent
        with closing(self._pages_at(path, base, skips)) as pages:
            for read, (skip, page) in enumerate(zip(skips, pages, strict=True), start=2):
                items, sent = self._page_items(page, self._url(path))
                yield items, False
                last_sent = sent
                if self._links_elsewhere(page, path, base, skip + page_size, sent):
                    budget = MAX_PAGES - read + 1
                    yield from self._pages_in_turn(
                        path, base, page_size, page, skip, budget, already_read=True
                    )
                    return
                if sent < page_size:
                    # The list ended before the count said it would: the pages after a short
                    # one are not asked for (a count of 100,000 would otherwise cost a
                    # thousand empty pages).
                    return
        if last_sent >= page_size:
            next_skip = skips[-1] + page_size
            budget = MAX_PAGES - len(skips) - 1
            yield from self._pages_in_turn(path, base, page_size, None, next_skip, budget)

    def _page_items(self, page: Mapping[str, Any], url: str) -> tuple[list[dict[str, Any]], int]:
        """The usable entries of a page, and how many entries Graph sent (usable or not)."""
        items = page.get("value")
        if not isinstance(items, list):
            raise ListFault(
                ListProblem.NO_ENTRIES,
                "Microsoft Graph sent a page of the list without its entries.",
                TechnicalDetails(url=url.split("?", 1)[0]),
            )
        return [item for item in items if isinstance(item, dict)], len(items)

    def _skips_for_count(
        self, first: Mapping[str, Any], path: str, base: Mapping[str, str | int]
    ) -> list[int]:
        """The ``$skip`` of every later page, when the first page makes them knowable."""
        page_size = int(base["$top"])
        total = _int(first.get("@odata.count"))
        items = first.get("value")
        if total is None or page_size <= 0 or not isinstance(items, list):
            return []
        if len(items) != page_size or total <= page_size:
            return []  # a short or only page: reading in turn decides what comes next
        if total > page_size * MAX_PAGES:
            return []  # not a count to believe; reading in turn stops at the first short page
        if self._links_elsewhere(first, path, base, page_size, len(items)):
            return []  # Graph's own link leads on from here, not $skip
        return list(range(page_size, total, page_size))

    def _links_elsewhere(
        self,
        page: Mapping[str, Any],
        path: str,
        base: Mapping[str, str | int],
        next_skip: int,
        sent: int,
    ) -> bool:
        """Whether this page has a next link that reading by ``$skip`` would not honour: one
        that leads anywhere but the page at ``next_skip`` of this list, or that leads on from a
        short page (where reading by ``$skip`` stops)."""
        link = page.get("@odata.nextLink")
        if not isinstance(link, str) or not link:
            return False
        url = self._next_page_url(link)
        if url is None or sent < int(base["$top"]):
            return True
        target = urlsplit(url)
        if unquote(target.path) != unquote(urlsplit(self._url(path)).path):
            return True
        query = dict(parse_qsl(target.query, keep_blank_values=True))
        return query.get("$skip") != str(next_skip) or query.get("$top") not in (
            None,
            str(base["$top"]),
        )

    def _pages_at(
        self, path: str, base: Mapping[str, str | int], skips: list[int]
    ) -> Generator[dict[str, Any]]:
        """The pages at these offsets, fetched concurrently, yielded in the order given."""
        url = self._url(path)

        def fetch(skip: int) -> dict[str, Any]:
            # Shared by every listing of this client, so that room lists read side by side
            # stay within the session's connection pool.
            with self._page_slots:
                return self.get(url, {**base, "$skip": skip})

        pool = ThreadPoolExecutor(
            max_workers=min(PAGE_CONCURRENCY, len(skips)), thread_name_prefix="graph-pages"
        )
        # A window of pages asked for ahead of the reader: enough to keep every worker busy,
        # few enough that pages do not pile up in memory while the reader is slower.
        ahead: deque[Future[dict[str, Any]]] = deque()
        pending = iter(skips)
        try:
            for skip in islice(pending, 2 * PAGE_CONCURRENCY):
                ahead.append(pool.submit(fetch, skip))
            while ahead:
                page = ahead.popleft().result()
                for skip in islice(pending, 1):
                    ahead.append(pool.submit(fetch, skip))
                yield page
        finally:
            # An error, Cancel or a reader that stopped early: pages not started never are,
            # and requests in flight are not waited for (the cancel token stops them).
            pool.shutdown(wait=False, cancel_futures=True)

    def _pages_in_turn(
        self,
        path: str,
        base: Mapping[str, str | int],
        page_size: int,
        page: dict[str, Any] | None,
        skip: int = 0,
        budget: int | None = None,
        *,
        already_read: bool = False,
    ) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """Page after page: ``page`` (when already fetched, at ``skip``; only what comes after
        it when ``already_read``), or the page at ``skip``, then on."""
        url: str = self._url(path)
        query: dict[str, str | int] | None = {**base, "$skip": skip} if skip else dict(base)
        fetched = skip
        guessed = skip > 0
        visited: set[str] = set()
        for _ in range(max(MAX_PAGES if budget is None else budget, 0)):
            if page is None:
                page = self.get(url, query)
            if already_read:
                already_read = False
                value = page.get("value")
                sent = len(value) if isinstance(value, list) else 0
            else:
                items, sent = self._page_items(page, url)
                yield items, guessed
            fetched += sent
            next_link = page.get("@odata.nextLink")
            total = _int(page.get("@odata.count"))
            page = None
            if isinstance(next_link, str) and next_link:
                # Stopping quietly would make the rooms after this page look deleted.
                next_url = self._next_page_url(next_link)
                if next_url is None:
                    raise ListFault(
                        ListProblem.ELSEWHERE,
                        "Microsoft Graph pointed the next page of the list at another address; "
                        "the list was not read to the end.",
                        TechnicalDetails(url=url.split("?", 1)[0]),
                    )
                if next_url in visited:
                    raise ListFault(
                        ListProblem.LOOP,
                        "Microsoft Graph sent the same page of the list twice; the list was not "
                        "read to the end.",
                        TechnicalDetails(url=url.split("?", 1)[0]),
                    )
                visited.add(next_url)
                url, query, guessed = next_url, None, False
                continue
            if not sent or sent < page_size or (total is not None and fetched >= total):
                return
            url, query, guessed = self._url(path), {**base, "$skip": fetched}, True
        raise ListFault(
            ListProblem.ENDLESS,
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
        nothing_new = 0  # pages in a row that brought no new room
        # With the count, Graph says how many pages there are, so they can be read side by side.
        for page, guessed in self._walk_pages(path, {"$count": "true"}):
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
            all_repeated = bool(page) and repeated == len(page)
            if guessed and all_repeated:
                # Every room on a page we asked for by $skip was on an earlier one: a service
                # that ignores $skip would send the same page forever. (A page reached by a next
                # link may repeat rooms and still lead on: loops of links are caught apart.)
                break
            nothing_new = nothing_new + 1 if all_repeated else 0
            if nothing_new >= MAX_PAGES_WITHOUT_NEW_ROOMS:
                raise ListFault(
                    ListProblem.REPEATS,
                    "Microsoft Graph kept sending rooms it had already sent; the list was not "
                    "read to the end.",
                    TechnicalDetails(url=self._url(path)),
                )
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
        # Room lists must be addressed by email address, not id (Graph reference, place-list).
        path = f"/places/{quote(room_list_email, safe='@')}/microsoft.graph.roomlist/rooms"
        rooms, _ = self._collect(path, parse_room)
        return rooms

    def load_rooms(self, progress: Callable[[int], None] | None = None) -> RoomDirectory:
        """All rooms, each with the emails of the room lists it belongs to."""
        rooms, skipped = self.list_rooms(progress)
        room_lists = self.list_room_lists()
        membership: defaultdict[str, list[str]] = defaultdict(list)
        by_key = {room.key: room for room in rooms}
        with ThreadPoolExecutor(
            max_workers=ROOM_LIST_CONCURRENCY, thread_name_prefix="room-lists"
        ) as pool:
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

    def sample_users(self, top: int = 50) -> tuple[DirectoryUser, ...]:
        """The first page of the directory's accounts (proves the directory can be read)."""
        page = self.get(
            self._url("/users"), {"$top": top, "$select": "id,mail,userType,accountEnabled"}
        )
        items = page.get("value")
        users: list[DirectoryUser] = []
        for item in items if isinstance(items, list) else []:
            user_id = _token(item.get("id")) if isinstance(item, dict) else None
            if user_id is None:
                continue
            user_type = item.get("userType")
            users.append(
                DirectoryUser(
                    user_id,
                    _email(item.get("mail")),
                    _bool(item.get("accountEnabled")),
                    # Graph leaves userType out for some synced accounts: a member, not a guest.
                    not isinstance(user_type, str) or user_type.casefold() == "member",
                )
            )
        return tuple(users)

    def get_application(self, app_id: str, *, certificates: bool = False) -> dict[str, Any]:
        # app_id has passed check_client_id (a GUID), so it is safe inside the quotes.
        url = self._url(f"/applications(appId='{app_id}')")
        # keyCredentials only when needed: Graph allows 150 such reads a minute per tenant.
        fields = "id,appId,displayName,passwordCredentials,requiredResourceAccess"
        return self.get(url, {"$select": fields + (",keyCredentials" if certificates else "")})

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

    # -- limiting the app to room mailboxes --------------------------------------------------

    def service_principal_id(self, app_id: str) -> str | None:
        """The Object ID of the app's Enterprise application (its service principal), or None
        when the organisation has none for it. Raises GraphError when Graph refuses (403: the
        app may not read service principals)."""
        # A GUID and nothing else goes inside the quotes of the address.
        key = str(uuid.UUID(app_id))
        try:
            item = self.get(self._url(f"/servicePrincipals(appId='{key}')"), {"$select": "id"})
        except GraphError as exc:
            if exc.status == 404:
                return None
            raise
        return _token(item.get("id"))

    def mailbox_addresses(self, top: int = 50) -> list[str]:
        """The e-mail addresses of the first ``top`` directory users that have one (people,
        and rooms too: Graph lists room mailboxes among the users)."""
        page = self.get(self._url("/users"), {"$top": top, "$select": "mail,userPrincipalName"})
        users = page.get("value")
        if not isinstance(users, list):
            return []
        found = (_email(user.get("mail")) for user in users[:top] if isinstance(user, dict))
        return [address for address in found if address is not None]
