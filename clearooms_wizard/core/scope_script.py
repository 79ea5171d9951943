"""The PowerShell script an Exchange administrator runs to limit Clearooms' calendar access to
the room mailboxes (RBAC for Applications in Exchange Online), written for one organisation.

Only checked values go into the script: GUIDs, a tenant domain or ID, and e-mail addresses, each
inside single quotes with its quotes doubled. Nothing else from Microsoft (no display name) is
written, so no text from the network can end a string or a comment and run as a command. The
script never holds a secret: the administrator signs in to Exchange Online themselves.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.model import is_room_email
from clearooms_wizard.core.values import check_tenant

# What the script creates in Exchange Online, by these names; running it again finds them.
SERVICE_PRINCIPAL_NAME = "Clearooms booking"
SCOPE_NAME = "Clearooms rooms"
ASSIGNMENT_NAME = "Clearooms Calendars RW (rooms)"
ROLE = "Application Calendars.ReadWrite"
ROOM_FILTER = "RecipientTypeDetails -eq 'RoomMailbox'"

# The command and the button that produce the script, for the texts that point to it.
SCOPE_SCRIPT_COMMAND = "clearooms-wizard scope script"
# The file name offered when the script is saved.
SCRIPT_NAME = "Limit-Clearooms-To-Rooms.ps1"

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# PowerShell ends a single-quoted string at any of these, not only at the ASCII apostrophe.
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
# Characters no address we write may hold: controls, invisible formatting (which can make a
# line read differently from what runs), spaces and line or paragraph separators.
_UNWRITABLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}


@dataclass(frozen=True)
class ScopeValues:
    """This organisation's values for the script. ``None`` where the wizard could not find one:
    the script then leaves a clearly marked variable for the administrator to fill in."""

    # The app registration's Application (client) ID.
    client_id: str
    # The tenant as entered: a domain (contoso.onmicrosoft.com) or the tenant ID.
    tenant: str
    # The Enterprise application's (service principal's) Object ID, not the app registration's.
    service_principal_id: str | None = None
    # A room mailbox, to show it is in scope, and a person's mailbox, to show it is not.
    room: str | None = None
    person: str | None = None
    # The Microsoft cloud's key (core.clouds): which Exchange Online to connect to.
    cloud: str = "global"


def powershell_quoted(value: str) -> str:
    """``value`` as a PowerShell single-quoted string: nothing inside is expanded, and every
    quote character PowerShell would end the string at is doubled."""
    if any(ch in "\r\n" or unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ClearoomsError("A value for the script holds a line break or a control character.")
    return "'" + "".join(ch * 2 if ch in _SINGLE_QUOTES else ch for ch in value) + "'"


def _guid(value: str, what: str) -> str:
    text = value.strip().lower()
    if not _GUID.match(text):
        raise ClearoomsError(f"The {what} is not a GUID (32 hexadecimal digits with dashes).")
    return text


def _address(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not is_room_email(text) or any(
        unicodedata.category(ch) in _UNWRITABLE or ch == "`" for ch in text
    ):
        raise ClearoomsError(f"The {what} is not an e-mail address the script can use.")
    return text


def usable_address(value: str) -> bool:
    """Whether the script can name this mailbox (an address from Microsoft that is not one is
    left out rather than written)."""
    try:
        return _address(value, "address") is not None
    except ClearoomsError:
        return False


def checked_values(values: ScopeValues) -> ScopeValues:
    """The values, each checked; raises ClearoomsError saying which one is wrong."""
    tenant = check_tenant(values.tenant).value
    if tenant is None:
        raise ClearoomsError("The tenant is not a tenant ID or a domain.")
    return ScopeValues(
        client_id=_guid(values.client_id, "client ID"),
        tenant=tenant,
        service_principal_id=(
            None
            if values.service_principal_id is None
            else _guid(values.service_principal_id, "Enterprise application's Object ID")
        ),
        room=_address(values.room, "room's address"),
        person=_address(values.person, "person's address"),
        cloud=values.cloud,
    )


# Connect-ExchangeOnline's -ExchangeEnvironmentName for each cloud that has its own Exchange
# Online. The worldwide cloud, GCC (moderate) included, uses the default endpoint, and so does
# a cloud of custom hosts (the worldwide one, reached another way). Only these fixed names are
# ever written, never the key itself.
EXCHANGE_ENVIRONMENTS = {
    "usgov": "O365USGovGCCHigh",
    "usgov-dod": "O365USGovDoD",
    "china": "O365China",
}


def connect_command(cloud: str) -> str:
    """The line that signs in to this cloud's Exchange Online."""
    environment = EXCHANGE_ENVIRONMENTS.get(cloud)
    if environment is None:
        return "Connect-ExchangeOnline"
    return f"Connect-ExchangeOnline -ExchangeEnvironmentName {environment}"


def _assignment(name: str, value: str | None, fill_in: str) -> list[str]:
    if value is not None:
        return [f"${name} = {powershell_quoted(value)}"]
    return [
        f"# >>> FILL IN: {fill_in}",
        f"${name} = ''",
    ]


def render_scope_script(values: ScopeValues) -> str:
    """The whole script, lines ending in ``\\n``. Raises ClearoomsError for a value that is not
    what it should be (the script is never written with it)."""
    v = checked_values(values)
    lines = [
        "# Limit Clearooms to the room mailboxes",
        "# -------------------------------------",
        "# Written by the Clearooms setup wizard for the organisation " + v.tenant + ".",
        "#",
        "# What it does: Clearooms needs to read and change room calendars. This script tells",
        "# Exchange Online to let the Clearooms app reach the calendars of room mailboxes only,",
        "# and no one's personal calendar. It uses RBAC for Applications, which replaces the",
        "# older application access policies.",
        "#",
        "# Who runs it: an Exchange administrator (or a Global Administrator), in PowerShell",
        "# with the ExchangeOnlineManagement module (Install-Module ExchangeOnlineManagement).",
        "# It holds no password or secret: you sign in yourself when it starts.",
        "#",
        "# Running it again is safe: it creates only what is not there yet.",
        "#",
        "# IMPORTANT: this limit adds to what Microsoft Entra ID grants; it does not take",
        "# anything away. While the app still has the Calendars.ReadWrite permission with admin",
        "# consent in Microsoft Entra ID, it can still reach every calendar and this script has",
        "# no effect. Remove that permission in the Microsoft Entra admin center: Enterprise",
        "# applications > the Clearooms app > Permissions, or let the Clearooms setup wizard's",
        '# "Set it up for me" do it once this script has run.',
        "#",
        "# Exchange Online takes from 30 minutes to 2 hours to apply the change. The tests at",
        "# the end answer at once; Clearooms itself sees the change after that delay.",
        "",
        "$ErrorActionPreference = 'Stop'",
        "",
        "# The app registration's Application (client) ID.",
        f"$AppId = {powershell_quoted(v.client_id)}",
        "# The Object ID of the app's Enterprise application (its service principal). This is",
        "# not the Object ID on the App registrations page, which is a different value.",
        *_assignment(
            "ServicePrincipalId",
            v.service_principal_id,
            "In the Microsoft Entra admin center, open Enterprise applications, search for the "
            "Clearooms app, and copy the Object ID from its Overview page between the quotes.",
        ),
        "# One room mailbox, to show that it is in scope.",
        *_assignment(
            "RoomMailbox",
            v.room,
            "the e-mail address of one meeting room, between the quotes (optional).",
        ),
        "# One person's mailbox, to show that it is out of scope. If this is a room or shared",
        "# mailbox, put a colleague's address here instead.",
        *_assignment(
            "PersonMailbox",
            v.person,
            "the e-mail address of one person, between the quotes (optional).",
        ),
        "",
        "if ($ServicePrincipalId -notmatch "
        "'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$') {",
        "    throw 'Fill in $ServicePrincipalId at the top of this script first (see FILL IN).'",
        "}",
        "",
        "# 1. Sign in to Exchange Online as an Exchange administrator.",
        connect_command(v.cloud),
        "",
        "# 2. Tell Exchange about the Clearooms app (a pointer to its Enterprise application).",
        "if (Get-ServicePrincipal -Identity $ServicePrincipalId -ErrorAction SilentlyContinue) {",
        "    Write-Host 'Exchange already knows the Clearooms app.'",
        "} else {",
        "    New-ServicePrincipal -AppId $AppId -ObjectId $ServicePrincipalId "
        f"-DisplayName {powershell_quoted(SERVICE_PRINCIPAL_NAME)}",
        "}",
        "",
        "# 3. A scope that holds every room mailbox, now and later (new rooms join by",
        "#    themselves).",
        f"if (Get-ManagementScope -Identity {powershell_quoted(SCOPE_NAME)} "
        "-ErrorAction SilentlyContinue) {",
        f"    Write-Host {powershell_quoted(f'The scope {SCOPE_NAME} is already there.')}",
        "} else {",
        f"    New-ManagementScope -Name {powershell_quoted(SCOPE_NAME)} "
        f'-RecipientRestrictionFilter "{ROOM_FILTER}"',
        "}",
        "",
        "# 4. Let the app read and change calendars, within that scope only.",
        f"if (Get-ManagementRoleAssignment -Identity {powershell_quoted(ASSIGNMENT_NAME)} "
        "-ErrorAction SilentlyContinue) {",
        "    Write-Host 'The Clearooms app already has its role for the rooms.'",
        "} else {",
        f"    New-ManagementRoleAssignment -Name {powershell_quoted(ASSIGNMENT_NAME)} "
        "-App $ServicePrincipalId `",
        f"        -Role {powershell_quoted(ROLE)} "
        f"-CustomResourceScope {powershell_quoted(SCOPE_NAME)}",
        "}",
        "",
        "# 5. Check: InScope should say True for the room and False for the person.",
        "#    (This test leaves out what Microsoft Entra ID grants: see IMPORTANT above.)",
        "if ($RoomMailbox) {",
        "    Test-ServicePrincipalAuthorization -Identity $ServicePrincipalId "
        "-Resource $RoomMailbox |",
        "        Format-Table RoleName, InScope",
        "}",
        "if ($PersonMailbox) {",
        "    Test-ServicePrincipalAuthorization -Identity $ServicePrincipalId "
        "-Resource $PersonMailbox |",
        "        Format-Table RoleName, InScope",
        "}",
        "",
        "Write-Host 'Done. Now remove the Calendars.ReadWrite admin consent in Microsoft Entra "
        "ID if it is still there (see IMPORTANT at the top).'",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ScopeScript:
    """The script, the values it was written with, and a sentence for each value the
    administrator must fill in themselves (why it is missing and where to find it)."""

    text: str
    values: ScopeValues
    missing: tuple[str, ...] = ()


def write_script_file(text: str, path: Path) -> None:
    """Write the script as UTF-8, whole or not at all. Raises ClearoomsError saying plainly
    why it could not be written."""
    # Imported here: the instruction texts import this module while the wizard starts.
    from clearooms_wizard.core.files import write_whole

    write_whole(text, path, "The script", SCRIPT_NAME)
