"""The demo organisation's data and the scenario catalogue."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from clearooms_wizard.demo import SCENARIO_NAMES, SCENARIOS, DemoTenant, data, get_scenario

EXPECTED_SCENARIOS = {
    "healthy",
    "wrong-secret",
    "secret-id-pasted",
    "expired-secret",
    "app-not-found",
    "no-service-principal",
    "tenant-not-found",
    "conditional-access",
    "no-consent",
    "missing-permission",
    "scoped-to-rooms",
    "rooms-only-exchange-pending",
    "scoped-but-entra-grant",
    "scope-pending",
    "access-policy",
    "no-rooms",
    "throttling",
    "slow-network",
    "many-rooms",
    "mixed-mailboxes",
    "secret-expiring",
    "secret-lifetime-capped",
    "renewal-slow-propagation",
    "register-app-admin",
    "register-no-rights",
    "register-existing-app",
    "register-no-secrets",
    "register-short-secrets",
    "register-cancelled",
    "register-slow-replication",
    "certificate",
    "certificate-expiring",
    "secrets-forbidden",
}


def test_catalogue_has_exactly_the_named_scenarios() -> None:
    assert set(SCENARIOS) == EXPECTED_SCENARIOS
    assert SCENARIO_NAMES[0] == "healthy"
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name
        assert scenario.title and len(scenario.title) < 50
        assert scenario.description.endswith(".")
        assert "\n" not in scenario.description


def test_unknown_scenario_lists_the_choices() -> None:
    with pytest.raises(KeyError) as caught:
        get_scenario("healthy-ish")
    message = str(caught.value)
    assert "healthy-ish" in message
    for name in EXPECTED_SCENARIOS:
        assert name in message


def test_scenario_credentials() -> None:
    healthy = get_scenario("healthy")
    assert healthy.tenant == "northwind-demo.onmicrosoft.com"
    assert healthy.client_id == data.APP_ID
    assert healthy.client_secret == data.APP_SECRET
    assert get_scenario("secret-id-pasted").client_secret == data.APP_SECRET_KEY_ID
    assert get_scenario("wrong-secret").client_secret not in (data.APP_SECRET, data.PREVIOUS_SECRET)
    assert get_scenario("app-not-found").client_id != data.APP_ID
    assert get_scenario("tenant-not-found").tenant == "contoso-typo.onmicrosoft.com"


def test_secret_looks_like_an_entra_secret() -> None:
    assert len(data.APP_SECRET) == 40
    assert "~" in data.APP_SECRET
    assert data.APP_SECRET.startswith("Nw8")
    assert uuid.UUID(data.APP_SECRET_KEY_ID)


@pytest.mark.parametrize(
    ("scenario", "days"), [("healthy", 400), ("secret-expiring", 10), ("expired-secret", -9)]
)
def test_secret_expiry_follows_the_scenario(scenario: str, days: int) -> None:
    tenant = DemoTenant(scenario)
    current = next(c for c in tenant.app.password_credentials if c.secret == data.APP_SECRET)
    left = current.end - datetime.now(UTC)
    assert abs(left - timedelta(days=days)) < timedelta(minutes=1)
    assert current.hint == "Nw8"
    assert current.start < current.end


def test_expired_secret_scenario_has_only_one_secret() -> None:
    assert len(DemoTenant("expired-secret").app.password_credentials) == 1
    assert len(DemoTenant("healthy").app.password_credentials) == 2


def test_standard_rooms_are_realistic_and_deterministic() -> None:
    first = data.build_directory("standard")
    second = data.build_directory("standard")
    assert [r.to_graph() for r in first.rooms] == [r.to_graph() for r in second.rooms]
    rooms = first.rooms
    assert len(rooms) == 24
    assert len(first.room_lists) == 3
    assert {rl.email for rl in first.room_lists} >= {"rooms.london@northwind-demo.com"}
    assert [r.display_name for r in rooms if r.room_list is None] == ["Old Post Room"]
    assert {r.building for r in rooms} == {"London HQ", "Manchester Hub", None}
    email = re.compile(r"^room\.[a-z0-9-]+@northwind-demo\.com$")
    assert all(email.match(r.email) for r in rooms)
    assert len({r.email for r in rooms}) == 24
    assert len({r.id for r in rooms}) == 24
    graph = [r.to_graph() for r in rooms]
    capacities = [g["capacity"] for g in graph]
    assert None in capacities
    assert "8" in capacities
    assert any(isinstance(c, int) for c in capacities)
    assert any("isWheelChairAccessible" in g for g in graph)
    assert any("isWheelchairAccessible" in g for g in graph)
    assert any(g["floorNumber"] is None for g in graph)
    assert {g["bookingType"] for g in graph} == {"standard", "reserved"}
    assert room_named(graph, "Huddle 2.14")["emailAddress"] == "room.huddle-2-14@northwind-demo.com"


def room_named(graph: list[dict[str, object]], name: str) -> dict[str, object]:
    return next(g for g in graph if g["displayName"] == name)


def test_many_rooms_layout() -> None:
    directory = data.build_directory("many")
    assert len(directory.rooms) == 1200
    assert len(directory.room_lists) == 12
    assert len({r.email for r in directory.rooms}) == 1200
    assert all(len(directory.rooms_in(rl)) == 100 for rl in directory.room_lists)


def test_no_rooms_layout() -> None:
    directory = data.build_directory("none")
    assert directory.rooms == ()
    assert directory.room_lists == ()


def test_mixed_mailboxes_name_real_rooms() -> None:
    scenario = get_scenario("mixed-mailboxes")
    directory = data.build_directory(scenario.rooms)
    for email in scenario.policy_blocked_rooms + scenario.on_premises_rooms:
        assert directory.room(email) is not None
    assert len(scenario.policy_blocked_rooms) == 2
    assert len(scenario.on_premises_rooms) == 1
