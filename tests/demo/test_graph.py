"""The demo Graph over real HTTPS: places paging, directory, applications, calendars, auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clearooms_wizard.demo import DemoTenant, data
from tests.demo.support import Served, TLSMaterial, assert_graph_error, make_tls, serve

ACCESS_DENIED = "Access is denied. Check credentials and try again."
BOARDROOM = "room.boardroom@northwind-demo.com"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return make_tls(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def healthy(tls: TLSMaterial) -> Iterator[Served]:
    with serve(DemoTenant("healthy", latency=0), tls) as served:
        yield served


def follow_next_links(served: Served, path: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    url: str | None = f"{served.base}/v1.0/{path}"
    while url:
        response = served.session.get(url, headers=served.bearer())
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["value"])
        pages += 1
        url = page.get("@odata.nextLink")
    return items, pages


def test_rooms_first_page(healthy: Served) -> None:
    response = healthy.graph("places/microsoft.graph.room")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")
    assert response.headers["request-id"]
    page = response.json()
    assert page["@odata.context"] == (f"{healthy.base}/v1.0/$metadata#places/microsoft.graph.room")
    assert "@odata.nextLink" not in page
    assert "@odata.count" not in page
    assert len(page["value"]) == 24
    first = page["value"][0]
    assert first["@odata.type"] == "#microsoft.graph.room"
    assert first["emailAddress"] == BOARDROOM


def test_rooms_paging_with_next_link(healthy: Served) -> None:
    rooms, pages = follow_next_links(healthy, "places/microsoft.graph.room?$top=10&$count=true")
    assert pages == 3
    assert len({r["emailAddress"] for r in rooms}) == 24
    response = healthy.graph("places/microsoft.graph.room?$top=10&$count=true")
    page = response.json()
    assert page["@odata.count"] == 24
    assert page["@odata.nextLink"] == (
        f"{healthy.base}/v1.0/places/microsoft.graph.room?$top=10&$count=true&$skip=10"
    )


def test_page_size_is_capped_at_100(tls: TLSMaterial) -> None:
    with serve(DemoTenant("many-rooms", latency=0), tls) as served:
        page = served.graph("places/microsoft.graph.room?$top=999").json()
        assert len(page["value"]) == 100


def test_many_rooms_paging_bug_needs_skip(tls: TLSMaterial) -> None:
    with serve(DemoTenant("many-rooms", latency=0), tls) as served:
        first = served.graph("places/microsoft.graph.room?$count=true").json()
        assert len(first["value"]) == 100
        assert first["@odata.count"] == 1200
        # The bug being rehearsed: a full page and no link to the next one.
        assert "@odata.nextLink" not in first
        emails = [r["emailAddress"] for r in first["value"]]
        skip = 100
        while True:
            page = served.graph(f"places/microsoft.graph.room?$top=100&$skip={skip}").json()
            assert "@odata.nextLink" not in page
            if not page["value"]:
                break
            emails.extend(r["emailAddress"] for r in page["value"])
            skip += len(page["value"])
        assert len(emails) == len(set(emails)) == 1200
        lists = served.graph("places/microsoft.graph.roomlist").json()["value"]
        assert len(lists) == 12


def test_room_lists_and_members(healthy: Served) -> None:
    lists = healthy.graph("places/microsoft.graph.roomlist").json()
    assert lists["@odata.context"].endswith("#places/microsoft.graph.roomList")
    by_email = {rl["emailAddress"]: rl for rl in lists["value"]}
    assert set(by_email) == {
        "rooms.london@northwind-demo.com",
        "rooms.london-level4@northwind-demo.com",
        "rooms.manchester@northwind-demo.com",
    }
    london = by_email["rooms.london@northwind-demo.com"]
    assert london["displayName"] == "London HQ"
    assert london["address"]["city"] == "London"
    members = healthy.graph(
        "places/rooms.london@northwind-demo.com/microsoft.graph.roomlist/rooms"
    ).json()["value"]
    assert BOARDROOM in {m["emailAddress"] for m in members}
    total = 0
    for email in by_email:
        response = healthy.graph(f"places/{email}/microsoft.graph.roomlist/rooms")
        total += len(response.json()["value"])
    assert total == 23  # the Old Post Room is in no list
    by_id = healthy.graph(f"places/{london['id']}/microsoft.graph.roomlist/rooms")
    assert_graph_error(by_id, 404, "ErrorItemNotFound")
    unknown = healthy.graph("places/rooms.paris@northwind-demo.com/microsoft.graph.roomlist/rooms")
    assert_graph_error(unknown, 404, "ErrorItemNotFound")


def test_select_is_honoured_case_insensitively(healthy: Served) -> None:
    page = healthy.graph(
        "places/microsoft.graph.room?$select=emailAddress,DisplayName,isWheelChairAccessible"
    ).json()
    assert page["@odata.context"].endswith("(emailAddress,displayName,isWheelChairAccessible)")
    for room in page["value"]:
        assert set(room) - {"@odata.type", "id"} <= {
            "emailAddress",
            "displayName",
            "isWheelChairAccessible",
            "isWheelchairAccessible",
        }
    bad = healthy.graph("places/microsoft.graph.room?$select=seats")
    message = assert_graph_error(bad, 400, "BadRequest")
    assert "'seats'" in message


def test_bad_paging_values(healthy: Served) -> None:
    assert_graph_error(healthy.graph("places/microsoft.graph.room?$top=ten"), 400, "BadRequest")
    assert_graph_error(healthy.graph("places/microsoft.graph.room?$skip=-1"), 400, "BadRequest")
    past_end = healthy.graph("places/microsoft.graph.room?$skip=500").json()
    assert past_end["value"] == []


def test_no_rooms(tls: TLSMaterial) -> None:
    with serve(DemoTenant("no-rooms", latency=0), tls) as served:
        rooms = served.graph("places/microsoft.graph.room?$count=true").json()
        assert rooms["value"] == []
        assert rooms["@odata.count"] == 0
        assert served.graph("places/microsoft.graph.roomlist").json()["value"] == []


def test_directory_probe(healthy: Served) -> None:
    page = healthy.graph("users?$top=1&$select=id").json()
    assert page["@odata.context"] == f"{healthy.base}/v1.0/$metadata#users(id)"
    assert len(page["value"]) == 1
    assert set(page["value"][0]) == {"id"}
    assert "$skiptoken=" in page["@odata.nextLink"]
    users, _ = follow_next_links(healthy, "users?$top=10")
    assert len(users) == 8 + 24
    user = healthy.graph(f"users/{BOARDROOM}").json()
    assert user["mail"] == BOARDROOM


def test_application_and_its_secrets(healthy: Served) -> None:
    response = healthy.graph(
        f"applications(appId='{data.APP_ID}')?$select=id,appId,displayName,passwordCredentials"
    )
    assert response.status_code == 200
    app = response.json()
    assert app["appId"] == data.APP_ID
    assert app["displayName"] == "Clearooms Calendar Integration"
    assert app["@odata.context"].endswith(
        "$metadata#applications(id,appId,displayName,passwordCredentials)/$entity"
    )
    credentials = {c["hint"]: c for c in app["passwordCredentials"]}
    current = credentials["Nw8"]
    assert current["keyId"] == data.APP_SECRET_KEY_ID
    assert current["secretText"] is None
    assert current["customKeyIdentifier"] is None
    assert current["endDateTime"].endswith("Z")
    assert set(current) == {
        "customKeyIdentifier",
        "displayName",
        "endDateTime",
        "hint",
        "keyId",
        "secretText",
        "startDateTime",
    }
    by_object_id = healthy.graph(f"applications/{data.APP_OBJECT_ID}")
    assert by_object_id.json()["appId"] == data.APP_ID
    filtered = healthy.graph(f"applications?$filter=appId eq '{data.APP_ID}'").json()
    assert [a["appId"] for a in filtered["value"]] == [data.APP_ID]
    missing = healthy.graph(f"applications(appId='{data.UNKNOWN_CLIENT_ID}')")
    assert_graph_error(missing, 404, "Request_ResourceNotFound")


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("places/microsoft.graph.room", "ErrorAccessDenied", ACCESS_DENIED),
        ("places/microsoft.graph.roomlist", "ErrorAccessDenied", ACCESS_DENIED),
        (
            "users?$top=1&$select=id",
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        (
            f"applications(appId='{data.APP_ID}')",
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        (f"users/{BOARDROOM}/calendar", "ErrorAccessDenied", ACCESS_DENIED),
    ],
)
def test_no_consent_is_403_everywhere(tls: TLSMaterial, path: str, code: str, message: str) -> None:
    with serve(DemoTenant("no-consent", latency=0), tls) as served:
        response = served.graph(path)
        assert assert_graph_error(response, 403, code) == message


def calendar(served: Served, email: str) -> Any:
    return served.graph(f"users/{email}/calendar?$select=id,name,owner")


def test_calendar_readable(healthy: Served) -> None:
    response = calendar(healthy, "Room.Boardroom%40Northwind-Demo.com")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Calendar"
    assert body["owner"] == {"name": "Boardroom", "address": BOARDROOM}
    assert set(body) == {"@odata.context", "id", "name", "owner"}


def test_calendar_unknown_user(healthy: Served) -> None:
    response = calendar(healthy, "room.nowhere@northwind-demo.com")
    message = assert_graph_error(response, 404, "ErrorInvalidUser")
    assert message == "The requested user 'room.nowhere@northwind-demo.com' is invalid."


def test_calendar_missing_permission(tls: TLSMaterial) -> None:
    with serve(DemoTenant("missing-permission", latency=0), tls) as served:
        response = calendar(served, BOARDROOM)
        assert assert_graph_error(response, 403, "ErrorAccessDenied") == ACCESS_DENIED
        assert served.graph("places/microsoft.graph.room").status_code == 200
        assert served.graph("users?$top=1&$select=id").status_code == 200


def test_calendar_access_policy(tls: TLSMaterial) -> None:
    with serve(DemoTenant("access-policy", latency=0), tls) as served:
        for email in (BOARDROOM, "room.ancoats@northwind-demo.com"):
            response = calendar(served, email)
            message = assert_graph_error(response, 403, "ErrorAccessDenied")
            assert message == "Access to OData is disabled."


def test_mixed_mailboxes(tls: TLSMaterial) -> None:
    with serve(DemoTenant("mixed-mailboxes", latency=0), tls) as served:
        outcomes = {}
        for room in served.tenant.directory.rooms:
            response = calendar(served, room.email)
            outcomes[room.email] = (
                response.json()["error"]["code"] if response.status_code != 200 else "ok"
            )
        assert outcomes["room.ada-lovelace@northwind-demo.com"] == "ErrorAccessDenied"
        assert outcomes["room.deansgate@northwind-demo.com"] == "ErrorAccessDenied"
        on_prem = calendar(served, "room.old-post-room@northwind-demo.com")
        message = assert_graph_error(on_prem, 404, "MailboxNotEnabledForRESTAPI")
        assert message == "REST API is not yet supported for this mailbox."
        assert list(outcomes.values()).count("ok") == 21


def test_calendar_view_needs_a_window(healthy: Served) -> None:
    response = healthy.graph(f"users/{BOARDROOM}/calendarView")
    assert_graph_error(response, 400, "ErrorInvalidParameter")
    response = healthy.graph(
        f"users/{BOARDROOM}/calendarView?startDateTime=2025-01-01T00:00:00Z"
        "&endDateTime=2025-01-02T00:00:00Z"
    )
    assert response.json()["value"] == []


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Access token is empty."),
        ("Bearer not-a-token", "Access token validation failure."),
        ("Basic dXNlcjpwYXNz", "Access token is empty."),
    ],
)
def test_graph_rejects_bad_tokens(healthy: Served, authorization: str | None, message: str) -> None:
    headers = {"Authorization": authorization} if authorization else {"X-No-Auth": "1"}
    response = healthy.graph("places/microsoft.graph.room", headers=headers)
    assert assert_graph_error(response, 401, "InvalidAuthenticationToken") == message
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_token_from_another_tenant_is_rejected(tls: TLSMaterial, healthy: Served) -> None:
    other = DemoTenant("healthy", latency=0)
    headers = {"Authorization": "Bearer " + other.mint_token(healthy.base)}
    response = healthy.graph("places/microsoft.graph.room", headers=headers)
    assert_graph_error(response, 401, "InvalidAuthenticationToken")


def test_token_expiring_mid_listing(tls: TLSMaterial) -> None:
    with serve(DemoTenant("many-rooms", latency=0), tls) as served:
        token = served.token().json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        first = served.graph("places/microsoft.graph.room?$skip=0", headers=headers)
        assert first.status_code == 200
        served.tenant.expire_tokens()
        second = served.graph("places/microsoft.graph.room?$skip=100", headers=headers)
        message = assert_graph_error(second, 401, "InvalidAuthenticationToken")
        assert message == "Lifetime validation failed, the token is expired."
        fresh = served.token().json()["access_token"]
        third = served.graph(
            "places/microsoft.graph.room?$skip=100", headers={"Authorization": f"Bearer {fresh}"}
        )
        assert third.status_code == 200


def test_short_token_lifetime_expires_by_itself(tls: TLSMaterial) -> None:
    with serve(DemoTenant("healthy", latency=0, token_lifetime=0), tls) as served:
        token = served.token().json()["access_token"]
        response = served.graph(
            "places/microsoft.graph.room", headers={"Authorization": f"Bearer {token}"}
        )
        assert_graph_error(response, 401, "InvalidAuthenticationToken")


def test_unknown_segment_and_method(healthy: Served) -> None:
    response = healthy.graph("rooms")
    message = assert_graph_error(response, 400, "BadRequest")
    assert message == "Resource not found for the segment 'rooms'."
    response = healthy.graph(f"users/{BOARDROOM}/mailFolders")
    assert assert_graph_error(response, 400, "BadRequest").endswith("'mailFolders'.")
    posted = healthy.session.post(
        f"{healthy.base}/v1.0/places/microsoft.graph.room", headers=healthy.bearer(), json={}
    )
    assert_graph_error(posted, 405, "BadRequest")


def test_client_request_id_is_echoed(healthy: Served) -> None:
    headers = {**healthy.bearer(), "client-request-id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}
    response = healthy.graph("places/microsoft.graph.room?$top=1", headers=headers)
    assert response.headers["client-request-id"] == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    response = healthy.graph("nope", headers=headers)
    body = response.json()
    assert body["error"]["innerError"]["client-request-id"] == (
        "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    )
