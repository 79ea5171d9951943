"""Bad input, generated: the three fields, Graph's payloads and files where the workspace should
be. A few hundred cases here; ``python -m tests.reliability.fuzz_all`` runs 10,000 and more.

Properties: never an exception (other than the product's own ClearoomsError, which carries a
message for the user); never a request for a value that failed its check; a valid value always
accepted after tidying; rooms de-duplicated and paging that ends; a damaged workspace refused or
moved aside, its bytes never lost.
"""

from __future__ import annotations

import io
import re
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearooms_wizard.cli import rooms as rooms_command
from clearooms_wizard.core import graph as graph_module
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.checks import CHECK_IDS, SettingsTest, Status
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.export import render_export
from clearooms_wizard.core.graph import GraphClient, parse_room
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.importer import CalendarCheck, apply_import, plan_import
from clearooms_wizard.core.model import CalendarAccess, Room, RoomDirectory
from clearooms_wizard.core.values import check_tenant
from clearooms_wizard.core.workspace import WorkspaceError, open_workspace
from clearooms_wizard.demo import Fault, data
from tests.conftest import Served
from tests.reliability.conftest import ServeHooked
from tests.support.fuzz import (
    IdentityAnswer,
    Page,
    WorkspaceFile,
    check_fields_are_safe,
    check_valid_is_accepted,
    counted,
    dump_json_ascii,
    examples,
    identity_answers,
    junk_text,
    page_scripts,
    pasted,
    room_items,
    scalars,
    valid_client_ids,
    valid_secrets,
    valid_tenants,
    workspace_files,
)
from tests.support.reliability import ENDPOINTS, REPORT, FixedToken, HookedTenant, endpoint_of

FAST = HttpOptions(connect_timeout=2.0, read_timeout=2.0, retries=1, max_retry_after=1.0)
# The fixtures these take (a demo server, a scratch folder) are meant to last for all the cases.
FIXTURES = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LOCAL = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the three fields -----------------------------------------------------------------------------


@settings(LOCAL, max_examples=examples(200))
@given(junk_text)
def test_any_text_in_the_three_fields(raw: str) -> None:
    check_fields_are_safe(raw)


@settings(LOCAL, max_examples=examples(120))
@given(valid_tenants(), valid_client_ids(), valid_secrets())
def test_valid_values_are_accepted_after_tidying(
    tenant: tuple[str, str], client_id: tuple[str, str], secret: tuple[str, str]
) -> None:
    check_valid_is_accepted(tenant, client_id, secret)


def _first(pair: tuple[str, str]) -> str:
    return pair[0]


# The demo tenant's own values, pasted untidily: these get past the format check and sign in.
demo_tenants = st.sampled_from([data.INITIAL_DOMAIN, data.TENANT_ID]).flatmap(pasted)
demo_client_ids = pasted(data.APP_ID)
demo_secrets = pasted(data.APP_SECRET, quotes=False)


@pytest.fixture
def healthy_hooked(serve_hooked: ServeHooked) -> Served:
    return serve_hooked("healthy")


@settings(FIXTURES, max_examples=examples(60))
@given(
    st.one_of(junk_text, valid_tenants().map(_first), demo_tenants),
    st.one_of(junk_text, valid_client_ids().map(_first), demo_client_ids),
    st.one_of(junk_text, valid_secrets().map(_first), demo_secrets),
)
def test_no_request_is_made_for_a_value_that_failed_its_check(
    healthy_hooked: Served, tenant: str, client_id: str, secret: str
) -> None:
    counted("three fields: Test Settings sends nothing for a refused value")
    served = healthy_hooked
    hooked = served.tenant
    assert isinstance(hooked, HookedTenant)
    hooked.clear_hooks()

    def open_session(cancel: CancelToken) -> Any:
        return MicrosoftSession(replace(FAST, ca_bundle=served.ca_bundle), cancel)

    connection = replace(
        served.connection(), tenant=tenant, client_id=client_id, client_secret=secret
    )
    test = SettingsTest(connection, open_session)
    results = {r.id: r for r in test.run()}
    assert list(results) == list(CHECK_IDS)
    sent = list(hooked.received)
    if results["format"].status is Status.FAIL:
        assert sent == [], f"requests for values that failed their check: {sent}"
        assert all(r.status is Status.SKIP for r in list(results.values())[1:])
        return
    tidied = check_tenant(tenant).value
    for path in sent:
        assert endpoint_of(path) is not None, f"an unexpected request: {path}"
        if endpoint_of(path) == "discovery" and path.count("/") > 1:
            segment = urlsplit(path).path.split("/")[1]
            assert segment in (tidied, data.TENANT_ID), (segment, tidied)


# -- identity answers -----------------------------------------------------------------------------


@settings(FIXTURES, max_examples=examples(40))
@given(identity_answers())
def test_any_answer_from_the_sign_in_service(
    healthy_hooked: Served, answer: IdentityAnswer
) -> None:
    counted("identity answers: Test Settings and check on malformed discovery and token answers")
    served = healthy_hooked
    tenant = served.tenant
    assert isinstance(tenant, HookedTenant)
    tenant.clear_hooks()
    tenant.rewrite(ENDPOINTS[answer.endpoint], answer.rewrite)

    def open_session(cancel: CancelToken) -> Any:
        return MicrosoftSession(replace(FAST, ca_bundle=served.ca_bundle), cancel)

    test = SettingsTest(served.connection(), open_session)
    results = {r.id: r for r in test.run()}
    assert list(results) == list(CHECK_IDS)
    named = {"tenant": results["tenant"], "token": results["token"]}
    for result in named.values():
        if result.status is Status.FAIL:
            REPORT.count(f"identity answers: refused as {result.code}")
            assert result.code in ("unexpected_response", "answer_too_large"), result
            assert result.fix
    code, out, err = served.run_cli("check")
    assert code == (0 if test.ok else 1), (out, err)
    assert "Traceback" not in out + err


# -- Graph payloads -------------------------------------------------------------------------------


def _check_room(room: Room) -> None:
    assert "@" in room.email and room.email == room.email.strip() and room.email
    assert isinstance(room.name, str) and room.name.strip()
    for number in (room.capacity, room.floor_number):
        assert number is None or (isinstance(number, int) and not isinstance(number, bool))
    assert room.wheelchair_accessible in (None, True, False)
    assert all(isinstance(tag, str) and tag for tag in room.tags)
    for text in (room.building, room.floor_label, room.booking_type, room.graph_id):
        assert text is None or (isinstance(text, str) and text == text.strip() and text)


@settings(LOCAL, max_examples=examples(200))
@given(room_items() | scalars().map(lambda v: {"emailAddress": v}))
def test_a_room_from_graph_is_parsed_or_left_out(item: dict[str, Any]) -> None:
    counted("Graph payloads: parse_room on any room")
    room = parse_room(item)
    if room is not None:
        _check_room(room)


PAGE = 4  # so that full pages without a next link (the $skip fallback) come up often


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_module, "PAGE_SIZE", PAGE)


@pytest.fixture
def pager(healthy_hooked: Served, small_pages: None) -> Iterator[tuple[Served, MicrosoftSession]]:
    served = healthy_hooked
    session = MicrosoftSession(replace(FAST, ca_bundle=served.ca_bundle), CancelToken())
    yield served, session
    session.close()


def _link(base: str, page: Page, index: int) -> Any:
    """``base`` is this case's Graph root (the server's address and the case's own tag)."""
    if page.next is None:
        return None
    if isinstance(page.next, tuple):
        return f"{base}/v1.0/places/microsoft.graph.room?page={page.next[1]}"
    if page.next == "self":
        return f"{base}/v1.0/places/microsoft.graph.room?page={index}"
    if page.next == "foreign":
        return f"https://evil.example/v1.0/places/microsoft.graph.room?page={index}"
    return page.next


# An annotation of the scripted service's own, saying which page an answer is; Graph's clients
# ignore annotations they do not know, and so does the product.
PAGE_MARK = "@fuzz.page"


class ReadingClient(GraphClient):
    """Notes which scripted page each page the listing read was (None: an empty answer).

    What the service answered is not what was read: with a count, pages are fetched ahead by
    $skip and those after the end of the list are dropped, and whether such a request reaches
    the service before the listing returns is a matter of timing.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: list[int | None] = []

    def _page_items(self, page: Mapping[str, Any], url: str) -> tuple[list[dict[str, Any]], int]:
        mark = page.get(PAGE_MARK)
        self.read.append(mark if isinstance(mark, int) else None)
        return super()._page_items(page, url)


def _body(base: str, page: Page, index: int) -> dict[str, Any]:
    body: dict[str, Any] = {PAGE_MARK: index, "value": page.value}
    link = _link(base, page, index)
    if link is not None:
        body["@odata.nextLink"] = link
    if page.count is not None:
        body["@odata.count"] = page.count
    return body


@settings(FIXTURES, max_examples=examples(60))
@given(page_scripts(PAGE))
def test_paging_ends_and_rooms_are_de_duplicated(
    pager: tuple[Served, MicrosoftSession], pages: list[Page]
) -> None:
    counted("Graph payloads: list_rooms over scripted pages")
    served, session = pager
    tenant = served.tenant
    assert isinstance(tenant, HookedTenant)
    tenant.clear_faults()
    tenant.clear_hooks()
    # Each case has its own Graph root (same server, its own path tag), so that pages still
    # in flight from an earlier case (paging does not wait for them after an error) are told
    # apart from this case's requests.
    tag = f"case-{uuid.uuid4().hex[:12]}"
    base = f"{served.base_url}/{tag}"
    rooms_path = f"/{tag}/v1.0/places/microsoft.graph.room"
    json_type = {"Content-Type": "application/json"}

    def answer(query: str, body: dict[str, Any]) -> Fault:
        pattern = "^" + re.escape(rooms_path) + query
        return Fault(pattern, status=200, headers=json_type, body=dump_json_ascii(body), times=None)

    for index, page in enumerate(pages):
        tenant.inject(answer(rf"\?(.*&)?page={index}(&|$)", _body(base, page, index)))
        if index:
            skip = rf"\?(.*&)?(\$|%24)skip={index * PAGE}(&|$)"
            tenant.inject(answer(skip, _body(base, page, index)))
    tenant.inject(answer(r"\?(.*&)?(\$|%24)skip=\d+", {"value": []}))
    tenant.inject(answer("($|\\?)", _body(base, pages[0], 0)))
    client = ReadingClient(session, FixedToken(tenant.mint_token()), base)
    try:
        rooms, _ = client.list_rooms()
    except ClearoomsError:
        rooms = None
    asked = [path for path in tenant.received if path.startswith(rooms_path)]
    # Each page once by its link and once by $skip, plus the pages a count announces (read as
    # the product reads a count: "12" is one too).
    counts = [n for n in (graph_module._int(p.count) for p in pages) if n is not None and n > 0]
    limit = 2 * len(pages) + 2 + (max(counts, default=0) // PAGE + 1)
    assert len(asked) <= limit, f"paging went on: {asked}"
    if rooms is None:
        return
    keys = [room.key for room in rooms]
    assert len(keys) == len(set(keys)), "a room came back twice"
    for room in rooms:
        _check_room(room)
    # Every room on every page that was read is there, once.
    read_pages = client.read
    expected: set[str] = set()
    for at in read_pages:
        items = pages[at].value if at is not None else []
        parsed = [parse_room(i) for i in items if isinstance(i, dict)]
        expected.update(p.key for p in parsed if p is not None)
    assert set(keys) == expected
    # Every page a next link promised was read, even one of rooms seen before (D4).
    for at in read_pages:
        if at is None:
            continue
        link = pages[at].next
        target = link[1] if isinstance(link, tuple) else at if link == "self" else None
        if target is not None:
            assert target in read_pages, f"page {target} was linked to but never read"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path


@settings(FIXTURES, max_examples=examples(60))
@given(st.lists(room_items(), max_size=10))
def test_any_rooms_from_graph_import_and_export(scratch: Path, items: list[dict[str, Any]]) -> None:
    counted("Graph payloads: import and export of any rooms")
    found: dict[str, Room] = {}
    for item in items:
        room = parse_room(item)
        if room is not None:
            found.setdefault(room.key, room)
    rooms = list(found.values())
    path = scratch / f"{uuid.uuid4().hex}.sqlite3"
    with open_workspace(path) as workspace:
        office = workspace.add_office("Fuzz office")
        directory = RoomDirectory(tuple(rooms), ())
        plan = plan_import(workspace, directory, office, rooms)
        checks = [CalendarCheck(room.email, CalendarAccess.READABLE) for room in rooms]
        result = apply_import(workspace, plan, checks)
        assert len(result.new) == len(rooms)
        stored = {room.key: room for room in workspace.imported_rooms()}
        assert set(stored) == set(found)
        for key, room in found.items():
            assert stored[key].name == room.name and stored[key].capacity == room.capacity
        for fmt in ("json", "csv"):
            render_export(workspace, fmt).encode("utf-8")
    # What the command line prints about them, as a terminal would take it.
    rooms_command.rooms_csv(rooms).encode("utf-8")
    out = io.StringIO()
    rooms_command.print_rooms(rooms, 0, out)
    out.getvalue().encode("utf-8")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()


# -- workspace files ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real workspace with a saved connection, two offices and a room."""
    from clearooms_wizard.core.model import SavedConnection

    path = tmp_path_factory.mktemp("good") / "workspace.sqlite3"
    with open_workspace(path) as workspace:
        workspace.save_connection(SavedConnection("contoso.onmicrosoft.com", data.APP_ID))
        office = workspace.add_office("London HQ")
        workspace.add_office("Manchester Hub")
        room = Room("board@contoso.com", "Board", capacity=12)
        plan = plan_import(workspace, RoomDirectory((room,), ()), office, [room])
        apply_import(workspace, plan, [CalendarCheck(room.email, CalendarAccess.READABLE)])
    return path


def same_content(original: bytes, path: Path, folder: Path) -> bool:
    """The file is as it was: the same bytes, or (a database SQLite switched to WAL before the
    refusal) the same tables and rows."""
    now = path.read_bytes()
    if now == original:
        return True
    copy = folder / f"original-{uuid.uuid4().hex}.sqlite3"
    copy.write_bytes(original)
    try:
        return _dump(copy) == _dump(path)
    except sqlite3.Error:
        return False


def _dump(path: Path) -> list[str]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(db.iterdump())
    finally:
        db.close()


@settings(FIXTURES, max_examples=examples(120))
@given(workspace_files())
def test_any_file_where_the_workspace_should_be(
    scratch: Path, good_workspace: Path, found: WorkspaceFile
) -> None:
    counted("workspace files: open_workspace on damaged, foreign and newer files")
    folder = scratch / uuid.uuid4().hex
    folder.mkdir()
    original = found.build(folder, good_workspace.read_bytes())
    path = folder / found.name
    path.write_bytes(original)
    try:
        workspace = open_workspace(path)
    except WorkspaceError as exc:
        REPORT.count(f"workspace files: refused ({type(exc).__name__})")
        assert str(exc).strip()
        assert same_content(original, path, folder), "a refused file was changed"
        return
    try:
        if workspace.set_aside_path is not None:
            REPORT.count("workspace files: moved aside, fresh workspace started")
            assert workspace.set_aside_path.read_bytes() == original, "the original was lost"
            assert workspace.notice and str(workspace.set_aside_path) in workspace.notice
            assert workspace.list_offices() == []
        else:
            REPORT.count("workspace files: opened as a workspace")
            for use in (
                workspace.list_offices,
                workspace.imported_rooms,
                workspace.load_connection,
                lambda: workspace.add_office(f"Fuzz {uuid.uuid4().hex[:8]}"),
            ):
                try:
                    use()
                except WorkspaceError:
                    REPORT.count("workspace files: opened, then a clear WorkspaceError")
    finally:
        workspace.close()
    leftovers = [p.name for p in folder.iterdir() if re.search(r"\.corrupt-", p.name)]
    assert len(leftovers) <= 1
