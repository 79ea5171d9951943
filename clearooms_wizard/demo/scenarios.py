"""Named states of the demo tenant, each rehearsing one thing that goes wrong in real setups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

# The organisation's names only: a scenario is chosen before the wizard's first page is shown.
from clearooms_wizard.demo import org as data
from clearooms_wizard.demo.org import AdminKey, RoomLayout

if TYPE_CHECKING:
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.demo.key_credentials import KeyCredential


@dataclass(frozen=True)
class Scenario:
    """A demo tenant state plus the credentials the product should be given for it.

    `tenant`, `client_id` and `client_secret` are what the wizard's Connect page would hold;
    they deliberately differ from the tenant's real values in the scenarios about typos.
    """

    name: str
    title: str
    description: str
    tenant: str = data.INITIAL_DOMAIN
    client_id: str = data.APP_ID
    client_secret: str = data.APP_SECRET
    # Tenant-state knobs.
    secret_days_left: float = 400.0
    previous_secret: bool = True
    service_principal: bool = True
    # Empty means no admin consent: the token is issued without a `roles` claim at all.
    granted_roles: tuple[str, ...] = data.REQUIRED_ROLES
    # The permissions the app's registration asks for (its API permissions page).
    required_roles: tuple[str, ...] = data.REQUIRED_ROLES
    conditional_access_block: bool = False
    rooms: RoomLayout = "standard"
    places_paging_bug: bool = False
    throttle_first_graph_request: bool = False
    latency: float = 0.0
    policy_blocks_all_rooms: bool = False
    # Which mailboxes' calendars the app reaches, beyond what its Entra grant gives (Exchange's
    # RBAC for Applications adds to that grant, it never takes away): "tenant" has no Exchange
    # scope; "rooms" and "rooms-and-entra" add one for room mailboxes (with the Entra grant
    # removed, and still present); "pending" has the grant removed and the scope made, but
    # Exchange still answers from its cache (30 minutes to 2 hours), so every mailbox is open.
    calendar_scope: Literal["tenant", "rooms", "rooms-and-entra", "pending"] = "tenant"
    # Seconds Exchange goes on reaching every mailbox once the Entra grant of Calendars.ReadWrite
    # is removed (30 minutes to 2 hours in Microsoft 365).
    exchange_cache: float = 0.0
    policy_blocked_rooms: tuple[str, ...] = ()
    on_premises_rooms: tuple[str, ...] = ()
    # "Set it up for me": who signs in at the demo's Microsoft sign-in page, and whether they
    # cancel there instead.
    administrator: AdminKey = "global-admin"
    sign_in_cancelled: bool = False
    # An app an earlier "Set it up for me" created (found by its unique name and tags).
    clearooms_app_exists: bool = False
    # The tenant's app-management policy on client secrets.
    secret_policy: Literal["none", "no-secrets", "max-12-months", "max-6-months"] = "none"
    # Seconds before a new app, service principal, secret or permission is seen everywhere.
    replication_delay: float = 0.0
    # The app signs in with a certificate (uploaded in the portal) ending in this many days;
    # None: with the client secret.
    certificate_days_left: float | None = None

    def credential_certificate(self) -> CertificateCredential | None:
        """The certificate credential the product is given, for a certificate scenario."""
        if self.certificate_days_left is None:
            return None
        from clearooms_wizard.demo.key_credentials import demo_certificate

        return demo_certificate(self.certificate_days_left)

    def app_certificates(self) -> tuple[KeyCredential, ...]:
        """The certificates on the scenario's app as the tenant starts."""
        if self.certificate_days_left is None:
            return ()
        from clearooms_wizard.demo.key_credentials import demo_key_credential

        return (demo_key_credential(self.certificate_days_left),)


_WITHOUT_CALENDARS = tuple(r for r in data.REQUIRED_ROLES if r != "Calendars.ReadWrite")

_SCENARIO_LIST: tuple[Scenario, ...] = (
    Scenario(
        "healthy",
        "Everything works",
        "A correctly set up Microsoft 365 organisation with 24 meeting rooms in two offices.",
    ),
    Scenario(
        "wrong-secret",
        "Wrong client secret",
        "The client secret typed in is not one of the app's secrets, so Microsoft refuses "
        "to sign the app in.",
        client_secret=data.WRONG_SECRET,
    ),
    Scenario(
        "secret-id-pasted",
        "Secret ID pasted instead of the secret",
        "The Secret ID from the Certificates & secrets page was copied instead of the "
        "secret's Value.",
        client_secret=data.APP_SECRET_KEY_ID,
    ),
    Scenario(
        "expired-secret",
        "Client secret has expired",
        "The app's only client secret has passed its expiry date, so a new one is needed.",
        secret_days_left=-9.0,
        previous_secret=False,
    ),
    Scenario(
        "app-not-found",
        "Application not found",
        "The Client ID box holds the app's Object ID rather than its Application (client) ID, "
        "so Microsoft cannot find the app.",
        client_id=data.APP_OBJECT_ID,
    ),
    Scenario(
        "no-service-principal",
        "App not set up in the organisation",
        "The app is registered but was never added as an enterprise application, which "
        "granting admin consent normally does.",
        service_principal=False,
    ),
    Scenario(
        "tenant-not-found",
        "Tenant not found",
        "The Tenant ID has a typo, so Microsoft cannot find the organisation.",
        tenant="contoso-typo.onmicrosoft.com",
    ),
    Scenario(
        "conditional-access",
        "Blocked by Conditional Access",
        "An organisation security policy (Conditional Access) stops the app from signing in.",
        conditional_access_block=True,
    ),
    Scenario(
        "no-consent",
        "Admin consent not granted",
        "The permissions were added to the app but nobody clicked 'Grant admin consent', so "
        "the app can sign in but read nothing.",
        granted_roles=(),
    ),
    Scenario(
        "missing-permission",
        "Calendar permission missing",
        "Calendars.ReadWrite was left out, so rooms are listed but their calendars cannot be read.",
        granted_roles=_WITHOUT_CALENDARS,
    ),
    Scenario(
        "scoped-to-rooms",
        "Calendar access limited to rooms",
        "Exchange limits the app's calendar access to room mailboxes and the tenant-wide "
        "Calendars.ReadWrite grant has been removed, so people's calendars are refused.",
        granted_roles=_WITHOUT_CALENDARS,
        calendar_scope="rooms",
    ),
    Scenario(
        "scoped-but-entra-grant",
        "Limited to rooms, but the Entra grant remains",
        "Exchange limits the app to room mailboxes, but Calendars.ReadWrite is still granted in "
        "Microsoft Entra, and the two add up: people's calendars can still be read.",
        calendar_scope="rooms-and-entra",
        exchange_cache=30.0,
    ),
    Scenario(
        "scope-pending",
        "Limit to rooms not in effect yet",
        "The tenant-wide Calendars.ReadWrite grant was just removed and Exchange limits the app "
        "to room mailboxes, but Exchange has not caught up: people's calendars can still be read.",
        granted_roles=_WITHOUT_CALENDARS,
        calendar_scope="pending",
    ),
    Scenario(
        "rooms-only-exchange-pending",
        "Rooms only, Exchange step still to do",
        "The app was set up for room mailboxes only (no Calendars.ReadWrite in Microsoft Entra), "
        "but the Exchange administrator has not run the script yet, so no calendar can be read.",
        granted_roles=_WITHOUT_CALENDARS,
        required_roles=_WITHOUT_CALENDARS,
    ),
    Scenario(
        "access-policy",
        "Mailbox access blocked by policy",
        "An Exchange application access policy keeps the app out of every room's calendar.",
        policy_blocks_all_rooms=True,
    ),
    Scenario(
        "no-rooms",
        "No rooms found",
        "The organisation has no room mailboxes that Microsoft 365 lists as rooms yet.",
        rooms="none",
    ),
    Scenario(
        "throttling",
        "Microsoft asks to slow down",
        "Microsoft 365 answers 'too many requests' once for each kind of request, and the "
        "wizard must wait and try again.",
        throttle_first_graph_request=True,
    ),
    Scenario(
        "slow-network",
        "Slow network",
        "Every answer from Microsoft takes about a second and a half, as on a poor connection.",
        latency=1.5,
    ),
    Scenario(
        "many-rooms",
        "A very large organisation",
        "1,200 rooms in 12 room lists, returned in pages that Microsoft does not link "
        "together, so the wizard must ask for each page itself.",
        rooms="many",
        places_paging_bug=True,
    ),
    Scenario(
        "mixed-mailboxes",
        "Some room calendars unreachable",
        "Most rooms work, but two are blocked by an access policy and one still lives on an "
        "on-premises Exchange server.",
        policy_blocked_rooms=(data.room_email("Ada Lovelace"), data.room_email("Deansgate")),
        on_premises_rooms=(data.room_email("Old Post Room"),),
    ),
    Scenario(
        "secret-expiring",
        "Client secret expires soon",
        "Everything works, but the client secret expires in 10 days and should be renewed.",
        secret_days_left=10.0,
    ),
    Scenario(
        "secret-lifetime-capped",
        "Renewing: secrets limited to 6 months",
        "The client secret expires in 10 days, and an organisation policy allows new client "
        "secrets of at most 6 months, so a renewal must ask for a shorter one.",
        secret_days_left=10.0,
        secret_policy="max-6-months",
    ),
    Scenario(
        "renewal-slow-propagation",
        "Renewing: the new secret is accepted slowly",
        "The client secret expires in 10 days, and a new secret takes several seconds to be "
        "accepted by Microsoft's sign-in, as happens in busy organisations.",
        secret_days_left=10.0,
        replication_delay=6.0,
    ),
    Scenario(
        "register-app-admin",
        "Set it up for me: Application Administrator",
        "The person signing in may create apps but not grant Microsoft Graph permissions, so "
        "a Global Administrator must approve the app with a link.",
        administrator="application-admin",
    ),
    Scenario(
        "register-no-rights",
        "Set it up for me: no admin rights",
        "The person signing in has no administrator role and the organisation does not let "
        "users register apps, so nothing can be created.",
        administrator="no-rights",
    ),
    Scenario(
        "register-existing-app",
        "Set it up for me: app already created",
        "An earlier run created the Clearooms app; running again reuses it and adds a new "
        "secret instead of creating a second app.",
        clearooms_app_exists=True,
    ),
    Scenario(
        "register-no-secrets",
        "Set it up for me: secrets not allowed",
        "An organisation policy forbids client secrets on new apps.",
        secret_policy="no-secrets",
    ),
    Scenario(
        "register-short-secrets",
        "Set it up for me: secrets limited to a year",
        "An organisation policy allows client secrets of at most 12 months.",
        secret_policy="max-12-months",
    ),
    Scenario(
        "register-cancelled",
        "Set it up for me: sign-in cancelled",
        "The administrator closes Microsoft's sign-in page without signing in.",
        sign_in_cancelled=True,
    ),
    Scenario(
        "register-slow-replication",
        "Set it up for me: Microsoft is slow to catch up",
        "New apps, secrets and permissions take several seconds to be seen everywhere in "
        "Microsoft 365, as happens in busy organisations.",
        replication_delay=8.0,
    ),
    # Certificates instead of client secrets.
    Scenario(
        "certificate",
        "Signs in with a certificate",
        "A healthy organisation whose app signs in with a certificate instead of a client "
        "secret; the certificate was uploaded under Certificates & secrets.",
        client_secret="",
        certificate_days_left=300.0,
    ),
    Scenario(
        "certificate-expiring",
        "Certificate expiring in 10 days",
        "The app signs in with a certificate that expires in 10 days.",
        client_secret="",
        certificate_days_left=10.0,
    ),
    Scenario(
        "secrets-forbidden",
        "Client secrets not allowed",
        "An organisation policy forbids client secrets and allows certificates, so Set it up "
        "for me registers the app with a certificate.",
        secret_policy="no-secrets",
    ),
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _SCENARIO_LIST}
SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIOS)


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(
            f"unknown demo scenario {name!r}; choose one of: {', '.join(SCENARIO_NAMES)}"
        ) from None
