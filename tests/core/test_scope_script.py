"""The script that limits the app to room mailboxes: written from the demo tenant's real values
over loopback HTTPS, idempotent, with every value quoted so that no text can break out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.scope_script import (
    ScopeValues,
    powershell_quoted,
    render_scope_script,
)
from clearooms_wizard.demo import org
from tests.conftest import ServeDemo
from tests.core.test_usecases import credentials_of, use_cases_for

GUID = "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41"
SP = "9a4c7e21-5d8b-4f03-a6e2-b18d3c5f7a94"


def test_the_script_is_written_from_the_demo_tenants_values(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    credentials = credentials_of(served)
    script = use_cases.scope_script(credentials, served.cloud, CancelToken())
    text = script.text
    assert script.missing == ()
    # The Enterprise application's Object ID, read from Graph: not the app registration's.
    assert script.values.service_principal_id == org.SERVICE_PRINCIPAL_ID
    assert f"$ServicePrincipalId = '{org.SERVICE_PRINCIPAL_ID}'" in text
    assert org.APP_OBJECT_ID not in text
    assert f"$AppId = '{org.APP_ID}'" in text
    room_addresses = {r.email for r in served.tenant.directory.rooms}
    assert script.values.room in room_addresses
    assert f"$RoomMailbox = '{script.values.room}'" in text
    people = {p.email for p in served.tenant.directory.people}
    assert script.values.person in people and script.values.person not in room_addresses
    assert f"$PersonMailbox = '{script.values.person}'" in text
    # No secret of any kind.
    assert credentials.client_secret not in text
    assert org.APP_SECRET[:8] not in text
    assert ">>> FILL IN" not in text


def test_without_permissions_the_script_leaves_each_value_for_the_admin(
    serve_demo: ServeDemo, tmp_path: Path
) -> None:
    served = serve_demo("no-consent")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    script = use_cases.scope_script(credentials_of(served), served.cloud, CancelToken())
    assert script.values.service_principal_id is None
    assert script.values.room is None and script.values.person is None
    assert len(script.missing) == 3
    assert "Enterprise applications" in script.missing[0]
    text = script.text
    # Marked, at the top, with where to find it; and the script stops until it is filled in.
    assert "# >>> FILL IN: In the Microsoft Entra admin center, open Enterprise applications" in (
        text
    )
    assert "$ServicePrincipalId = ''" in text
    assert text.index("$ServicePrincipalId = ''") < text.index("Connect-ExchangeOnline\n")
    assert "throw 'Fill in $ServicePrincipalId" in text
    assert "$RoomMailbox = ''" in text and "$PersonMailbox = ''" in text


def _script(**overrides: str | None) -> str:
    values: dict[str, str | None] = {
        "client_id": GUID,
        "tenant": "contoso.onmicrosoft.com",
        "service_principal_id": SP,
        "room": "room.board@contoso.com",
        "person": "ceo@contoso.com",
    }
    values.update(overrides)
    return render_scope_script(ScopeValues(**values))  # type: ignore[arg-type]


def test_each_new_cmdlet_is_guarded_by_its_get_so_running_again_is_safe() -> None:
    lines = _script().splitlines()
    for new, get in (
        ("New-ServicePrincipal", "Get-ServicePrincipal -Identity $ServicePrincipalId"),
        ("New-ManagementScope", "Get-ManagementScope -Identity 'Clearooms rooms'"),
        (
            "New-ManagementRoleAssignment",
            "Get-ManagementRoleAssignment -Identity 'Clearooms Calendars RW (rooms)'",
        ),
    ):
        (at,) = [i for i, line in enumerate(lines) if line.lstrip().startswith(new)]
        # The New-* sits in the else branch of an if on its Get-*.
        assert lines[at - 1] == "} else {"
        assert lines[at - 3].startswith(f"if ({get} -ErrorAction SilentlyContinue)")


def test_the_script_uses_the_documented_cmdlets_and_values() -> None:
    text = _script()
    assert "Connect-ExchangeOnline\n" in text
    assert (
        "New-ServicePrincipal -AppId $AppId -ObjectId $ServicePrincipalId "
        "-DisplayName 'Clearooms booking'"
    ) in text
    assert (
        "New-ManagementScope -Name 'Clearooms rooms' -RecipientRestrictionFilter "
        "\"RecipientTypeDetails -eq 'RoomMailbox'\""
    ) in text
    assert "-App $ServicePrincipalId `\n" in text
    assert "-Role 'Application Calendars.ReadWrite' -CustomResourceScope 'Clearooms rooms'" in text
    assert text.count("Test-ServicePrincipalAuthorization -Identity $ServicePrincipalId") == 2
    assert "$RoomMailbox = 'room.board@contoso.com'" in text
    assert "$PersonMailbox = 'ceo@contoso.com'" in text
    # The union rule and the delay, said plainly.
    assert "Calendars.ReadWrite" in text and "Enterprise\n# applications > the Clearooms" in text
    assert "30 minutes to 2 hours" in text
    assert "contoso.onmicrosoft.com" in text


def _single_quoted_strings(text: str) -> list[str]:
    """Every single-quoted string of the script, read as PowerShell reads them."""
    found = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        found += [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", line)]
    return found


def test_an_apostrophe_in_an_address_is_doubled_and_stays_inside_its_string() -> None:
    text = _script(person="o'brien@contoso.com")
    assert "$PersonMailbox = 'o''brien@contoso.com'" in text
    assert "o'brien@contoso.com" in _single_quoted_strings(text)
    # PowerShell also ends a single-quoted string at typographic quotes.
    assert powershell_quoted("o\u2019brien@x.com") == "'o\u2019\u2019brien@x.com'"
    assert (
        powershell_quoted("a\u2018b\u201ac\u201bd") == "'a\u2018\u2018b\u201a\u201ac\u201b\u201bd'"
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("person", "x@contoso.com'; Remove-Mailbox -Identity ceo; '"),
        ("person", "x@contoso.com\nRemove-Mailbox ceo"),
        ("room", "room@contoso.com\u202e"),
        ("room", "room`$(Get-Process)@contoso.com"),
        ("room", "not an address"),
        ("service_principal_id", "9a4c7e21-5d8b-4f03-a6e2-b18d3c5f7a94'; whoami; '"),
        ("client_id", "not-a-guid"),
        ("tenant", "contoso.com\n# x"),
    ],
)
def test_a_hostile_value_is_refused_rather_than_written(field: str, value: str) -> None:
    with pytest.raises(ClearoomsError):
        _script(**{field: value})


def test_a_line_break_can_never_be_quoted() -> None:
    with pytest.raises(ClearoomsError):
        powershell_quoted("a\nb")
