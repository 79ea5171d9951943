"""What each failure means and what to do about it, in words for an office manager.

This is the single table behind the Test Settings results, the command line and the README's
"what each error means" section, so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearooms_wizard.core.errors import (
    AnswerTooLarge,
    ClearoomsError,
    GraphError,
    ListFault,
    ListProblem,
    NetworkError,
    NetworkProblem,
    SignInError,
    UnexpectedResponse,
)


@dataclass(frozen=True)
class Explanation:
    summary: str
    fix: str


def permission_fix(permission: str) -> str:
    return (
        "In the Microsoft Entra admin center open App registrations, your Clearooms app, then API "
        f"permissions. Add the Microsoft Graph application permission {permission}, then click "
        "“Grant admin consent”."
    )


NO_ROOMS = Explanation(
    "No rooms were found. The usual reasons: the room mailboxes are hidden from the address "
    "list (Microsoft leaves those out); rooms created in the last 48 hours have not appeared "
    "yet; the rooms' mailboxes are on-premises rather than in Exchange Online (only Exchange "
    "Online rooms can be connected); or Microsoft Places is not set up in your tenant.",
    "Check in the Exchange admin center that your rooms exist as room mailboxes and are not "
    "hidden from the address list. If you created them recently, try again in two days.",
)


def rooms_left_out(count: int) -> Explanation:
    """Rooms Microsoft 365 listed without a valid email address: they cannot be connected."""
    rooms, them = (f"{count} rooms were", "them") if count != 1 else ("1 room was", "it")
    return Explanation(
        f"{rooms} left out because Microsoft 365 sent an email address for {them} that is "
        "missing or not valid.",
        "Check those room mailboxes' email addresses in the Exchange admin center, then load "
        "the rooms again.",
    )


# Reading rooms is refused with 403 when Place.Read.All is missing; the ErrorAccessDenied entry
# below is worded for calendars, where Graph uses the same code.
ROOMS_FORBIDDEN = Explanation(
    "The app is not allowed to read your rooms.", permission_fix("Place.Read.All")
)

_PERMISSIONS_PAGE = (
    "In the Microsoft Entra admin center open App registrations, your Clearooms app, then "
    "API permissions"
)

_CLOUD_FIX = (
    "Check that the cloud chosen is the one your organisation uses (under Advanced in the "
    "wizard, or --cloud on the command line), and leave any custom Graph address out."
)

SIGN_IN_FIXES: dict[int, Explanation] = {
    7000215: Explanation(
        "Microsoft did not accept the client secret.",
        "Check that you copied the secret's Value, not its Secret ID. In App registrations, open "
        "your app, then Certificates & secrets: the Value is only shown right after you create "
        "a secret. If you no longer have it, click New client secret and paste the new Value.",
    ),
    7000222: Explanation(
        "The client secret has expired.",
        "Press Renew the secret… (or run “clearooms-wizard secret renew”): an administrator "
        "signs in and the wizard replaces it. Or, in App registrations, open your app, then "
        "Certificates & secrets, click New client secret, and paste the new Value here. Set a "
        "reminder before the new one expires.",
    ),
    7000229: Explanation(
        "The app is registered, but it has not been added to your organisation yet.",
        f"{_PERMISSIONS_PAGE} and click “Grant admin consent”. This adds the app to your "
        "organisation. If the button is greyed out, ask a Global Administrator to do it.",
    ),
    700016: Explanation(
        "Microsoft could not find an app with this client ID in this tenant.",
        "Copy the Application (client) ID again from your app's Overview page, and check that "
        "the Tenant ID is the Directory (tenant) ID shown on that same page.",
    ),
    90002: Explanation(
        "Microsoft could not find this tenant.",
        "Check the Tenant ID: copy the Directory (tenant) ID from your app's Overview page. If "
        "your organisation uses a US Government or China cloud, choose that cloud (under "
        "Advanced in the wizard, or --cloud on the command line).",
    ),
    900023: Explanation(
        "The Tenant ID is not in a form Microsoft understands.",
        "Paste only the tenant ID (like 72f988bf-86f1-41af-91ab-2d7cd011db47) or your "
        "domain (like contoso.onmicrosoft.com), not a web address.",
    ),
    53003: Explanation(
        "A Conditional Access policy in your organisation blocked the app from signing in.",
        "Ask your IT admin to exclude the Clearooms app from the Conditional Access policy "
        "that applies to apps (workload identities), or to allow it from this network.",
    ),
    50196: Explanation(
        "Microsoft saw the same sign-in too many times in a row and paused it.",
        "Wait a minute, then test again.",
    ),
    90055: Explanation(
        "Microsoft is limiting sign-ins for your organisation right now.",
        "Wait a few minutes, then test again.",
    ),
    7000218: Explanation(
        "No client secret was sent.",
        "Paste the client secret's Value into the Client Secret box.",
    ),
    1002012: Explanation(
        "The sign-in asked for access in a form Microsoft does not accept.",
        _CLOUD_FIX,
    ),
    70011: Explanation(
        "The sign-in asked for access in a form Microsoft does not accept.",
        _CLOUD_FIX,
    ),
    500011: Explanation(
        "Microsoft Graph is not available at the address used for this tenant's cloud.",
        "Under Advanced, choose the cloud your organisation uses and leave the Graph address "
        "empty.",
    ),
}

# Sign-in errors that only a certificate (a client assertion) meets.
_UPLOAD_CER = (
    "In the Microsoft Entra admin center open App registrations, your Clearooms app, then "
    "Certificates & secrets, Certificates, and upload the .cer file "
    "(Create a certificate… in the wizard, or “clearooms-wizard certificate create”, writes one)."
)
CERTIFICATE_SIGN_IN_FIXES: dict[int, Explanation] = {
    700027: Explanation(
        "Microsoft did not accept the certificate: the app does not have this certificate "
        "uploaded, or it has expired.",
        f"{_UPLOAD_CER} Check that the thumbprint shown there matches the one Test Settings "
        "shows, and that it has not expired.",
    ),
    700024: Explanation(
        "Microsoft refused the sign-in because this computer's clock is wrong.",
        "Set this computer's date, time and time zone to update automatically, then test again.",
    ),
    700023: Explanation(
        "The certificate sign-in was addressed to a different tenant or cloud.",
        "Check the Tenant ID and the cloud (under Advanced in the wizard, or --cloud on the "
        "command line), then test again.",
    ),
    700021: Explanation(
        "The certificate sign-in named a different app than the client ID.",
        "Check the client ID, then create a new certificate for this app and upload it.",
    ),
    50027: Explanation(
        "Microsoft could not read the certificate sign-in; a proxy may have changed it.",
        "Create a new certificate and upload it. If it happens again, send the report to support.",
    ),
}
SIGN_IN_FIXES.update(CERTIFICATE_SIGN_IN_FIXES)

GENERIC_SIGN_IN = Explanation(
    "Microsoft refused to sign the app in.",
    "Check the three values against your app's Overview and Certificates & secrets pages. The "
    "error code below can be looked up at https://login.microsoftonline.com/error.",
)

POLICY_FIX = (
    "An Exchange Online application access policy stops the app from reading these room "
    "calendars. Ask your Exchange admin to add the rooms to the group the policy allows (or "
    "remove the policy); they can check with Test-ApplicationAccessPolicy -Identity "
    "<room email> -AppId <client ID>. Changes can take an hour to apply. Access policies are "
    "the older way: Microsoft now recommends RBAC for Applications, which "
    "“Limit to room mailboxes…” in the wizard (or “clearooms-wizard scope script”) sets up for "
    "the room mailboxes."
)

# Limiting calendar access to room mailboxes (Exchange's RBAC for Applications). Exchange's
# scope adds to the Entra grant of Calendars.ReadWrite, so the grant must go too.
SCOPE_SCRIPT_COMMAND = "clearooms-wizard scope script"
TENANT_WIDE = Explanation(
    "Clearooms can read and change every mailbox's calendar in your organisation; you can "
    "limit it to rooms.",
    "To limit it to room mailboxes, ask your Exchange admin to run the script that “Limit to "
    f"room mailboxes…” in the wizard (or “{SCOPE_SCRIPT_COMMAND}”) writes for your "
    "organisation. Then remove the admin consent for "
    "Calendars.ReadWrite from the app in Microsoft Entra (Enterprise applications, your "
    "Clearooms app, Permissions): while that grant stays, Exchange's limit to rooms has no "
    "effect, even once it is in place.",
)
SCOPE_NOT_IN_EFFECT = Explanation(
    "Clearooms can still read people's calendars: the limit to room mailboxes is not in effect "
    "yet. Exchange takes 30 minutes to 2 hours; press Test Settings again later.",
    "If this still shows after 2 hours, ask your Exchange admin to check the limit with "
    "Test-ServicePrincipalAuthorization (the script from “Limit to room mailboxes…” or "
    f"“{SCOPE_SCRIPT_COMMAND}” does this at its end).",
)
EXCHANGE_STEP_PENDING = Explanation(
    "Room calendars cannot be read yet: Clearooms is set up for room mailboxes only, and the "
    "Exchange step that gives it the rooms' calendars is still to do.",
    "Send your Exchange admin the script that “Limit to room mailboxes…” in the wizard (or "
    f"“{SCOPE_SCRIPT_COMMAND}”) writes for your organisation. Exchange takes 30 minutes to 2 "
    "hours to apply it; then press Test Settings again.",
)
# The mailbox_scope check's warnings, by the code the check reports (and the calendars
# check's, for an app set up for rooms only before Exchange's part is done).
SCOPE_WARNINGS: dict[str, Explanation] = {
    "tenant_wide": TENANT_WIDE,
    "scope_pending": SCOPE_NOT_IN_EFFECT,
    "exchange_pending": EXCHANGE_STEP_PENDING,
}
ROOMS_ONLY_NOTE = (
    "Calendars.ReadWrite is not granted in Microsoft Entra, and room calendars can be read: "
    "calendar access comes from Exchange (rooms only). Which calendars it reaches is checked "
    "below."
)
ROOMS_ONLY_PENDING_NOTE = (
    "Calendars.ReadWrite is not granted in Microsoft Entra, as it should not be when Clearooms is "
    "set up for room mailboxes only: Exchange is to give it the rooms' calendars (see the "
    "calendars check below)."
)
POLICY_REPLACED_NOTE = (
    "An Exchange application access policy refused it. Microsoft has replaced those policies with "
    "RBAC for Applications; the script from “Limit to room mailboxes…” in the wizard (or "
    f"“{SCOPE_SCRIPT_COMMAND}”) sets that up."
)

GRAPH_FIXES: dict[str, Explanation] = {
    "Authorization_RequestDenied": Explanation(
        "The app is not allowed to read your directory.",
        f"{_PERMISSIONS_PAGE}. Add the Microsoft Graph application permission "
        "Directory.Read.All, then click “Grant admin consent”.",
    ),
    "ErrorAccessDenied": Explanation(
        "The app is not allowed to read room calendars.",
        f"{_PERMISSIONS_PAGE}. Add the Microsoft Graph application permission "
        "Calendars.ReadWrite (not the delegated one), then click “Grant admin consent”.",
    ),
    "ErrorAccessDenied/policy": Explanation(
        "An access policy blocks the app from these room calendars.", POLICY_FIX
    ),
    "MailboxNotEnabledForRESTAPI": Explanation(
        "This room's mailbox is not in Exchange Online (it is on-premises, or unlicensed).",
        "Only rooms whose mailboxes are in Exchange Online can be connected. Ask your Exchange "
        "admin to move the room mailbox to Exchange Online, or leave this room out.",
    ),
    "ErrorInvalidUser": Explanation(
        "Microsoft could not find this room's mailbox.",
        "The room may have been deleted or renamed. Load the rooms again.",
    ),
    "InvalidAuthenticationToken": Explanation(
        "Microsoft Graph did not accept the app's sign-in.",
        "Check that the cloud chosen is the one your organisation uses (under Advanced in the "
        "wizard, or --cloud on the command line), then test "
        "again. If it keeps happening, copy the report and send it to Clearooms support.",
    ),
    "TooManyRequests": Explanation(
        "Microsoft asked us to slow down.",
        "Wait a few minutes and try again. Nothing is wrong with your settings.",
    ),
    # Exchange's answer to more than 4 concurrent requests on one mailbox ("MailboxConcurrency").
    "ApplicationThrottled": Explanation(
        "Microsoft asked us to slow down for this mailbox.",
        "Wait a minute and try again. Nothing is wrong with your settings.",
    ),
    "Request_ResourceNotFound": Explanation(
        "Microsoft could not find the app's registration.",
        "Check the client ID; it must be the Application (client) ID from the app's Overview page.",
    ),
}

GENERIC_GRAPH = Explanation(
    "Microsoft Graph returned an error.",
    "Try again in a few minutes. If it keeps happening, copy the report and send it to "
    "Clearooms support.",
)

NETWORK_FIXES: dict[NetworkProblem, Explanation] = {
    NetworkProblem.DNS: Explanation(
        "This computer could not find Microsoft's servers.",
        "Check that this computer is connected to the internet. If other websites work, your "
        "network may block Microsoft's sign-in addresses: ask your IT team.",
    ),
    NetworkProblem.REFUSED: Explanation(
        "The connection to Microsoft was refused.",
        "A firewall or proxy may be blocking it. Ask your IT team to allow "
        "login.microsoftonline.com and graph.microsoft.com.",
    ),
    NetworkProblem.TIMEOUT: Explanation(
        "Microsoft did not answer in time.",
        "Check your internet connection and try again. On a slow or busy network, wait a "
        "minute first.",
    ),
    NetworkProblem.SLOW: Explanation(
        "Microsoft answered too slowly.",
        "Check your internet connection and try again in a few minutes. If it keeps happening, "
        "a proxy or firewall on your network may be holding the connection up: ask your IT "
        "team.",
    ),
    NetworkProblem.TLS: Explanation(
        "The secure connection to Microsoft could not be verified.",
        "Your company's network may inspect encrypted traffic through a proxy. Ask your IT team "
        "to install the proxy's root certificate on this computer: the wizard trusts the "
        "certificates this computer trusts. (Support can also give it to the command line with "
        "--ca-bundle.) Never turn certificate checks off.",
    ),
    NetworkProblem.PROXY: Explanation(
        "The proxy server refused the connection.",
        "Check the proxy settings with your IT team; the proxy may need to allow "
        "login.microsoftonline.com and graph.microsoft.com.",
    ),
    NetworkProblem.RESET: Explanation(
        "The connection to Microsoft was cut off.",
        "Try again. If it keeps happening, a firewall or proxy may be interfering: ask your IT "
        "team.",
    ),
    NetworkProblem.OTHER: Explanation(
        "Could not reach Microsoft.",
        "Check your internet connection and try again.",
    ),
}

UNEXPECTED_RESPONSE = Explanation(
    "Something between this computer and Microsoft answered instead of Microsoft.",
    "This usually means a proxy or captive portal wants you to sign in to the network first. "
    "Open a web page in your browser, sign in if asked, then try again; otherwise ask your IT "
    "team.",
)

_LIST_SERVICE_FIX = (
    "This is a fault on Microsoft's side, not in your settings. Try again in a few minutes; if "
    "it keeps happening, copy the report and send it to Clearooms support."
)

LIST_FIXES: dict[ListProblem, Explanation] = {
    ListProblem.ELSEWHERE: Explanation(
        "Microsoft Graph's answer pointed the rest of the list at another address. The app did "
        "not follow it, so that its sign-in only ever goes to Microsoft.",
        "Try again. If it keeps happening, something on your network may be changing "
        "Microsoft's answers (such as a proxy that inspects encrypted traffic): ask your IT "
        "team, and send the report to Clearooms support.",
    ),
    ListProblem.LOOP: Explanation(
        "Microsoft Graph sent the same page of the list twice, so the list could not be read "
        "to the end.",
        _LIST_SERVICE_FIX,
    ),
    ListProblem.ENDLESS: Explanation(
        "Microsoft Graph kept sending more pages of the list than any organisation has rooms, "
        "so the app stopped reading.",
        _LIST_SERVICE_FIX,
    ),
    ListProblem.REPEATS: Explanation(
        "Microsoft Graph kept sending rooms it had already sent, so the list could not be read "
        "to the end.",
        _LIST_SERVICE_FIX,
    ),
    ListProblem.NO_ENTRIES: Explanation(
        "Microsoft Graph sent a page of the list without the list in it.",
        _LIST_SERVICE_FIX,
    ),
}

ANSWER_TOO_LARGE = Explanation(
    "An answer said to be from Microsoft was far larger than any real one, so it was not used.",
    "Something on your network, such as a proxy or security software, may be changing "
    "Microsoft's answers. Try again; if it keeps happening, ask your IT team to let "
    "Microsoft 365's addresses through unchanged, or send the report to Clearooms support.",
)

SIGN_IN_SERVICE_TROUBLE = Explanation(
    "Microsoft's sign-in service had a problem on its side; your settings did not cause it.",
    "Try again in a few minutes. If it keeps happening, look for a sign-in incident on the "
    "Service health page of the Microsoft 365 admin center, or give Microsoft support the code "
    "and correlation id below.",
)


def explain_sign_in(aadsts: int | None, http_status: int | None = None) -> Explanation:
    if aadsts in SIGN_IN_FIXES:
        return SIGN_IN_FIXES[aadsts]
    if http_status is not None and http_status >= 500:
        return SIGN_IN_SERVICE_TROUBLE
    return GENERIC_SIGN_IN


def explain_graph(code: str, message: str = "") -> Explanation:
    if code == "ErrorAccessDenied" and "OData is disabled" in message:
        return GRAPH_FIXES["ErrorAccessDenied/policy"]
    return GRAPH_FIXES.get(code, GENERIC_GRAPH)


def explain_error(exc: ClearoomsError) -> tuple[Explanation, str | None]:
    """The explanation and the code to quote, for any of our typed errors."""
    if isinstance(exc, SignInError):
        return explain_sign_in(exc.aadsts, exc.details.http_status), exc.code
    if isinstance(exc, GraphError):
        return explain_graph(exc.code, exc.message), exc.code
    if isinstance(exc, NetworkError):
        return NETWORK_FIXES[exc.problem], f"network:{exc.problem.value}"
    if isinstance(exc, ListFault):
        return LIST_FIXES[exc.problem], f"list:{exc.problem.value}"
    if isinstance(exc, AnswerTooLarge):
        return ANSWER_TOO_LARGE, "answer_too_large"
    if isinstance(exc, UnexpectedResponse):
        return UNEXPECTED_RESPONSE, "unexpected_response"
    return Explanation(str(exc), "Try again in a few minutes."), None


def explain_rooms_error(exc: ClearoomsError) -> tuple[Explanation, str | None]:
    """As explain_error, for a failure while reading the rooms list."""
    explanation, code = explain_error(exc)
    if isinstance(exc, GraphError) and exc.status == 403:
        return ROOMS_FORBIDDEN, code
    return explanation, code


def markdown_table() -> str:
    """The README's "what each error means" table, made from the tables above."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = ["| code | what it means | what to do |", "|---|---|---|"]
    rows += [
        f"| AADSTS{code} | {cell(e.summary)} | {cell(e.fix)} |" for code, e in SIGN_IN_FIXES.items()
    ]
    rows += [
        f"| {code.split('/')[0]} | {cell(e.summary)} | {cell(e.fix)} |"
        for code, e in GRAPH_FIXES.items()
    ]
    rows += [
        f"| network:{problem.value} | {cell(e.summary)} | {cell(e.fix)} |"
        for problem, e in NETWORK_FIXES.items()
    ]
    rows.append(
        f"| AADSTS… with HTTP 5xx | {cell(SIGN_IN_SERVICE_TROUBLE.summary)} | "
        f"{cell(SIGN_IN_SERVICE_TROUBLE.fix)} |"
    )
    rows += [
        f"| list:{problem.value} | {cell(e.summary)} | {cell(e.fix)} |"
        for problem, e in LIST_FIXES.items()
    ]
    rows += [
        f"| {code} | {cell(e.summary)} | {cell(e.fix)} |" for code, e in SCOPE_WARNINGS.items()
    ]
    rows.append(
        f"| unexpected_response | {cell(UNEXPECTED_RESPONSE.summary)} | "
        f"{cell(UNEXPECTED_RESPONSE.fix)} |"
    )
    rows.append(
        f"| answer_too_large | {cell(ANSWER_TOO_LARGE.summary)} | {cell(ANSWER_TOO_LARGE.fix)} |"
    )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
