"""Step 1 of the setup guide: registering the app in Microsoft Entra ID.

One source for the wizard's checklist and for the instruction pack an office manager can send
to their IT admin, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.scope_script import SCOPE_SCRIPT_COMMAND

SUGGESTED_APP_NAME = "Clearooms Calendar Integration"


@dataclass(frozen=True)
class Permission:
    name: str
    # What Microsoft lets an app with this application permission do, said plainly.
    allows: str
    # What Clearooms uses it for.
    why: str


PERMISSIONS = (
    Permission(
        "Directory.Read.All",
        "lets the app read the organisation's directory: people, groups and apps, with their "
        "details",
        "to see who booked a room, and to warn you before the client secret expires",
    ),
    Permission(
        "Calendars.ReadWrite",
        "lets the app read and change the calendar of every mailbox in the organisation, "
        "people's as well as rooms'",
        "to show room bookings in Clearooms and to book rooms from Clearooms",
    ),
    Permission(
        "Place.Read.All",
        "lets the app read the rooms and room lists: names, capacity, building and floor",
        "to list your meeting rooms with their capacity, building and floor",
    ),
)

# Microsoft Entra ID has no permission for room calendars alone; Exchange Online can narrow
# Calendars.ReadWrite to the room mailboxes (RBAC for Applications).
CALENDARS_REACH = (
    "Calendars.ReadWrite reaches every mailbox's calendar, not only the rooms'. Clearooms uses "
    "it only for the rooms you connect, and an Exchange administrator can limit it to the room "
    "mailboxes: after Test Settings, “Limit to room mailboxes…” gives them a script for it."
)
LIMIT_TO_ROOMS = (
    "About Calendars.ReadWrite: as granted in Microsoft Entra ID, it lets Clearooms read and "
    "change every mailbox's calendar, people's as well as rooms'. An Exchange administrator can "
    "limit it to the meeting-room mailboxes with RBAC for Applications in Exchange Online, so "
    "that no one's own calendar can be reached; we recommend it.\n"
    f"   How: run {SCOPE_SCRIPT_COMMAND} on a computer with the Clearooms setup wizard (or "
    "press “Limit to room mailboxes…” in the wizard after Test Settings) for a PowerShell script "
    "with our values filled in. It creates a management scope for RecipientTypeDetails -eq "
    "'RoomMailbox', gives the app the role “Application Calendars.ReadWrite” in that scope only, "
    "and checks it with Test-ServicePrincipalAuthorization; running it again is safe. This limit "
    "adds to what Microsoft Entra ID grants, so it takes effect only once the Calendars.ReadWrite "
    "admin consent is removed from the app in Entra ID (Enterprise applications > the app > "
    "Permissions). Exchange Online takes 30 minutes to 2 hours to apply it.\n"
    "   Application access policies (New-ApplicationAccessPolicy) are the older way: Microsoft "
    "has replaced them with RBAC for Applications, so please do not use them for a new setup."
)


# The pack's one-line alternative to steps 1 to 3, for an admin who would rather run a command.
REGISTER_COMMAND = "clearooms-wizard register"
ONE_LINE_ALTERNATIVE = (
    "Or, instead of steps 1 to 3 below, run one command on a computer with the Clearooms setup "
    f"wizard: {REGISTER_COMMAND}\n"
    "   It opens Microsoft's sign-in page in your browser (add --device-code to sign in on "
    "another device), shows what it will create (the app, its client secret and the three "
    "permissions below) and creates nothing until you have signed in; --dry-run shows that plan "
    "and stops. Then it creates them, tests the connection and saves it on that computer, with "
    "the client secret in its keyring (add --show-secret to have the secret printed once, for a "
    "secure hand-over). Running it again reuses the app rather than making a second one.\n"
    "   Who may run it: a Global Administrator or Privileged Role Administrator does everything "
    "in one go. An Application Administrator (or anyone allowed to register apps) can create "
    "the app; a Global Administrator then approves its permissions with the link it prints."
)


@dataclass(frozen=True)
class Step:
    key: str
    text: str
    copy_value: str | None = None
    opens_portal: bool = False


@dataclass(frozen=True)
class StepGroup:
    title: str
    steps: tuple[Step, ...]
    # A plain line under the steps: something to know rather than to do.
    note: str = ""


# For organisations whose policy does not allow client secrets.
CERTIFICATE_INSTEAD = (
    "Secrets not allowed in your organisation? Use a certificate instead: on the next page choose "
    "Certificate, press Create a certificate…, and upload the .cer file under Certificates & "
    "secrets, Certificates."
)


CHECKLIST = (
    StepGroup(
        "Create the app",
        (
            Step(
                "open-registrations",
                "Sign in to the Microsoft Entra admin center as an administrator and open "
                "App registrations.",
                opens_portal=True,
            ),
            Step(
                "new-registration",
                "Click New registration and name it Clearooms Calendar Integration.",
                copy_value=SUGGESTED_APP_NAME,
            ),
            Step(
                "single-tenant",
                "Choose “Accounts in this organizational directory only”, leave Redirect URI "
                "empty, and click Register.",
            ),
            Step(
                "copy-ids",
                "On the Overview page, copy the Application (client) ID and the Directory "
                "(tenant) ID.",
            ),
        ),
    ),
    StepGroup(
        "Create the client secret",
        (
            Step(
                "new-secret",
                "Open Certificates & secrets, click New client secret, and choose 12 or 24 months.",
            ),
            Step(
                "copy-value",
                "Copy the secret's Value (not the Secret ID) straight away: it is shown only once.",
            ),
        ),
        note=CERTIFICATE_INSTEAD,
    ),
    StepGroup(
        "Add permissions and grant consent",
        (
            Step(
                "add-permission",
                "Open API permissions, click Add a permission, choose Microsoft Graph, then "
                "Application permissions.",
            ),
            *(
                Step(
                    f"permission-{p.name}",
                    f"Tick {p.name}: it {p.allows}.",
                    copy_value=p.name,
                )
                for p in PERMISSIONS
            ),
            Step(
                "grant-consent",
                "Click Add permissions, then “Grant admin consent for” your organisation, and "
                "confirm.",
            ),
        ),
        note=CALENDARS_REACH,
    ),
)


def it_admin_instructions(cloud: Cloud, requester: str = "") -> str:
    """A ready-to-send message asking an IT admin to register the app.

    Paragraphs are single lines so that e-mail programs and chat windows wrap them to fit.
    """
    permission_lines = "\n".join(
        f"   - {p.name} (Application permission): it {p.allows}. Clearooms needs it {p.why}."
        for p in PERMISSIONS
    )
    signed = f"Thank you,\n{requester}\n" if requester else "Thank you!\n"
    paragraphs = [
        "Hello,",
        "We are connecting our Microsoft 365 meeting-room calendars to Clearooms, our desk and "
        "room booking service. Could you please register an app for it in Microsoft Entra ID? "
        "It takes about ten minutes and needs an administrator who can grant admin consent.",
        ONE_LINE_ALTERNATIVE,
        f"1. In the Microsoft Entra admin center, open App registrations "
        f"({cloud.app_registrations_url}) and click New registration.\n"
        f"   - Name: {SUGGESTED_APP_NAME}\n"
        "   - Supported account types: Accounts in this organizational directory only\n"
        "   - Redirect URI: leave empty",
        "2. In the new app, open Certificates & secrets and create a new client secret (12 or 24 "
        "months). Copy its Value (not the Secret ID): it is shown only once. If our policy does "
        "not allow client secrets, tell me instead: I will send you a certificate (.cer file) to "
        "upload under Certificates & secrets > Certificates.",
        "3. Open API permissions > Add a permission > Microsoft Graph > Application permissions, "
        f"and add these three:\n{permission_lines}\n"
        "   Then click “Grant admin consent” for our organisation.",
        LIMIT_TO_ROOMS,
        "Please send back these three values:\n"
        "   - the Application (client) ID, from the app's Overview page\n"
        "   - the Directory (tenant) ID, from the same page\n"
        "   - the client secret's Value",
        "The client ID and tenant ID are not secret and can go in an e-mail. The client secret "
        "is a password: please do not e-mail it. Share it through our password manager, read it "
        "to me over the phone, or type it into the Clearooms setup wizard yourself.",
        signed,
    ]
    return "\n\n".join(paragraphs)


def mailto_url(subject: str, body: str, to: str = "") -> str:
    return f"mailto:{quote(to)}?subject={quote(subject)}&body={quote(body)}"
