"""``register``: “Set it up for me” on the command line. An administrator signs in once (in the
browser, or with a code on another device); the command shows what it will create, creates the
app, its client secret and its permissions, then tests and saves the connection."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from clearooms_wizard.cli.admin import sign_in_admin
from clearooms_wizard.cli.check import print_result
from clearooms_wizard.cli.connection import runtime_for
from clearooms_wizard.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.output import ERASE_LINE, GuardedOutput
from clearooms_wizard.cli.parser import SharedOptions, Subcommands
from clearooms_wizard.cli.progress import progress_line
from clearooms_wizard.core.app_setup import (
    APPLICATION_ADMINISTRATOR,
    APPLICATION_DEVELOPER,
    CLOUD_APPLICATION_ADMINISTRATOR,
    DEFAULT_APP_NAME,
    DEFAULT_SECRET_MONTHS,
    GLOBAL_ADMINISTRATOR,
    SECRET_MONTHS_CHOICES,
    STEP_TITLES,
    RegisteredApp,
    RegistrationJournal,
    RegistrationPlan,
    StepId,
    StepState,
    StepUpdate,
)
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.checks import Status
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.logs import support_paths
from clearooms_wizard.core.redaction import looks_like_secret
from clearooms_wizard.core.report import build_support_report
from clearooms_wizard.core.safetext import json_text, printable
from clearooms_wizard.core.values import ConnectionInput, check_tenant
from clearooms_wizard.runtime import Runtime

if TYPE_CHECKING:
    from clearooms_wizard.core.admin_signin import AdminSession
    from clearooms_wizard.core.usecases import UseCases

log = logging.getLogger("clearooms_wizard.cli")

# Microsoft Entra ID's limit for an application's display name.
APP_NAME_LIMIT = 120

# The directory roles that may create an app (else only a tenant that lets every user).
_ROLES_THAT_CREATE = frozenset(
    {
        GLOBAL_ADMINISTRATOR,
        APPLICATION_ADMINISTRATOR,
        CLOUD_APPLICATION_ADMINISTRATOR,
        APPLICATION_DEVELOPER,
    }
)
# The wizard's note says where its instructions are; the command line says what to do.
_CALENDARS_REACH = (
    "Note: Calendars.ReadWrite reaches every mailbox's calendar, not only the rooms'. Clearooms "
    "uses it only for the rooms you connect, and an Exchange administrator can limit the app to "
    "the room mailboxes: “clearooms-wizard scope script” writes the script for them."
)

_ROOMS_ONLY = (
    "room mailboxes only (recommended; --all-mailboxes for every mailbox). Calendars.ReadWrite "
    "is not granted in Microsoft Entra ID: an Exchange administrator gives it for the rooms "
    "with the script “clearooms-wizard scope script” writes. Until then Test Settings warns "
    "that the Exchange step is still to do."
)

_EXCHANGE_STEP = (
    "One step left, for an Exchange administrator: run “clearooms-wizard scope script --output "
    "Limit-Clearooms-To-Rooms.ps1” and send them the file. It gives the app the room "
    "mailboxes' calendars (and no one else's); Exchange takes 30 minutes to 2 hours to apply "
    "it. Then run “clearooms-wizard check”."
)

_MARKS = {
    StepState.DONE: "DONE",
    StepState.SKIPPED: "HAD IT",
    StepState.NEEDS_APPROVAL: "NEEDS APPROVAL",
    StepState.FAILED: "FAILED",
}

_DESCRIPTION = """\
Set up the Clearooms app in Microsoft Entra ID for you. An administrator signs in once, in the
browser (or with --device-code, on another device); the command then shows what it will create
(the app, its client secret and its Microsoft Graph permissions) and, unless --dry-run,
creates them, runs Test Settings and saves the connection (the client secret in this computer's
keyring). Running it again reuses the app: it never creates a second one.

Calendars: with --rooms-only (the default) the app gets no calendar permission in Microsoft Entra
ID; an Exchange administrator then runs the script “clearooms-wizard scope script” writes, which
lets it reach the room mailboxes' calendars only. --all-mailboxes grants Calendars.ReadWrite in
Microsoft Entra ID instead, which reaches every mailbox's calendar.

Sign in as a Global Administrator or Privileged Role Administrator to do everything at once. An
Application Administrator (or anyone allowed to register apps) can create the app; a Global
Administrator then approves its permissions with the link the command prints. That is not a
failure: the command ends with exit code 0 and says what to run after the approval.

Exit codes: 0 done (or done and waiting only for that approval, or a dry run), 1 failed (what
was created so far is listed; run again to carry on, or --undo to remove it), 2 usage error,
130 stopped with Ctrl+C. Rehearse with the demo tenant: --demo, or --demo-scenario
register-app-admin (see --demo-scenario list for the others).
"""


def add_commands(commands: Subcommands, shared: SharedOptions, summary: str) -> None:
    register = commands.add_parser(
        "register",
        parents=[shared.online],
        help=summary,
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    register.add_argument(
        "--app-name",
        metavar="NAME",
        default=DEFAULT_APP_NAME,
        help=f"the app's name in Microsoft Entra ID (default “{DEFAULT_APP_NAME}”)",
    )
    register.add_argument(
        "--secret-months",
        metavar="N",
        default=str(DEFAULT_SECRET_MONTHS),
        help="how long the client secret lasts: "
        f"{_choices()} months (default {DEFAULT_SECRET_MONTHS})",
    )
    calendars = register.add_mutually_exclusive_group()
    calendars.add_argument(
        "--rooms-only",
        dest="rooms_only",
        action="store_true",
        default=True,
        help="the default, recommended: Calendars.ReadWrite is not granted in Microsoft Entra "
        "ID; an Exchange administrator gives it for the room mailboxes only, with the script "
        "“clearooms-wizard scope script” writes",
    )
    calendars.add_argument(
        "--all-mailboxes",
        dest="rooms_only",
        action="store_false",
        help="grant Calendars.ReadWrite in Microsoft Entra ID, which reaches every mailbox's "
        "calendar (no Exchange step)",
    )
    register.add_argument(
        "--device-code",
        action="store_true",
        help="sign in on another device with a code, instead of in a browser here",
    )
    register.add_argument(
        "--dry-run",
        action="store_true",
        help="sign in and show what would be created, then stop: nothing is created",
    )
    register.add_argument(
        "--undo",
        action="store_true",
        help="remove what an unfinished run created (with --dry-run: list it only)",
    )
    register.add_argument(
        "--certificate",
        action="store_true",
        help="sign the app in with a certificate instead of a client secret (its private key "
        "stays in this computer's keyring); used anyway when the organisation forbids secrets",
    )
    register.add_argument("--json", action="store_true", help="print one JSON document")
    register.add_argument(
        "--show-secret",
        action="store_true",
        help="print the new client secret once, for a secure hand-over (a password manager); "
        "without it the secret is never shown",
    )
    register.add_argument(
        "--setup-client-id",
        metavar="ID",
        help="the public client the administrator signs in with (CLEAROOMS_SETUP_CLIENT_ID; "
        "default Microsoft's Azure CLI)",
    )
    register.set_defaults(func=run)


def _choices() -> str:
    *first, last = (str(months) for months in SECRET_MONTHS_CHOICES)
    return f"{', '.join(first)} or {last}"


def secret_months(raw: str) -> int:
    """The secret's lifetime in months, one of SECRET_MONTHS_CHOICES; never echoes the value."""
    text = raw.strip()
    months = int(text) if text.isascii() and text.isdigit() else None
    if months not in SECRET_MONTHS_CHOICES:
        raise UsageError(f"--secret-months: choose {_choices()} months.")
    return months


def app_name(raw: str) -> str:
    """The app's display name, checked; never echoes the value."""
    name = raw.strip()
    if not name:
        raise UsageError("--app-name: give the app a name, for example “Clearooms”.")
    if printable(name) != name:
        raise UsageError(
            "--app-name: use letters, digits, spaces and punctuation only: no line breaks, "
            "tabs or other control characters."
        )
    if len(name) > APP_NAME_LIMIT:
        raise UsageError(f"--app-name: keep the name to {APP_NAME_LIMIT} characters or fewer.")
    if looks_like_secret(name):
        raise UsageError(
            "--app-name: that looks like a client secret pasted in the wrong place, so it is "
            "not used. Give the app an ordinary name."
        )
    return name


@dataclass
class Report:
    """What the run did, for the JSON document (and the log's one line)."""

    outcome: str = "failed"
    demo_scenario: str | None = None
    sign_in_app: str = ""
    review: dict[str, object] | None = None
    steps: dict[StepId, StepUpdate] = field(default_factory=dict)
    app: dict[str, object] | None = None
    consent_url: str | None = None
    checks: list[object] | None = None
    saved: str | None = None
    created: list[dict[str, str]] | None = None
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "ok": self.outcome in ("done", "needs-approval", "dry-run", "undone", "nothing"),
            "outcome": self.outcome,
        }
        if self.demo_scenario:
            payload["demo_scenario"] = self.demo_scenario
        payload["sign_in_app"] = self.sign_in_app
        payload["review"] = self.review
        payload["steps"] = [
            {"step": u.step.value, "title": STEP_TITLES[u.step], "state": u.state.value}
            | ({"detail": u.detail} if u.detail else {})
            for u in self.steps.values()
        ]
        for key in ("app", "consent_url", "checks", "saved", "created", "error"):
            value = getattr(self, key)
            if value is not None:
                payload[key] = value
        return payload


class Run:
    """One ``register`` run: the streams, the options, and what happened so far."""

    def __init__(self, invocation: Invocation) -> None:
        args = invocation.args
        self.args = args
        self.out, self.err = invocation.out, invocation.err
        self.as_json: bool = args.json
        for option in ("client_id", "secret_stdin"):
            if getattr(args, option, None):
                raise UsageError(
                    f"--{option.replace('_', '-')} is not for register: it creates the app and "
                    "its client secret itself. Leave it out."
                )
        self.app_name = app_name(args.app_name)
        self.secret_months = secret_months(args.secret_months)
        self.rooms_only: bool = args.rooms_only
        if args.undo and not args.dry_run and args.show_secret:
            raise UsageError("--show-secret cannot be used with --undo: no secret is made.")
        options = dataclasses.replace(
            invocation.command_options(), setup_client_id=args.setup_client_id
        )
        self.tenant = _tenant(options.tenant, options.demo)
        self.runtime: Runtime = runtime_for(options, self.err)
        self.use_cases: UseCases = self.runtime.use_cases
        self.cancel = CancelToken()
        scenario = self.runtime.scenario
        self.report = Report(demo_scenario=scenario.name if scenario else None)
        self.report.sign_in_app = self.use_cases.setup_client.shown_as
        self.show_steps = not self.as_json
        self.live = self.err.isatty() and self.show_steps
        # Once the app exists: stopping after that leaves it set up but not yet saved.
        self.registered: RegisteredApp | None = None

    # -- printing ------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        """For a person reading the terminal: standard output, unless it carries JSON."""
        stream = self.err if self.as_json else self.out
        stream.write(text)
        stream.flush()

    def tell(self, text: str) -> None:
        """Prompts and progress: standard error, always."""
        self.err.write(text)
        self.err.flush()

    def finish(self, code: int) -> int:
        log.info("register: %s", self.report.outcome)
        if self.as_json:
            self.out.write(json_text(self.report.to_json()))
        return code

    # -- signing in ----------------------------------------------------------------------------

    def sign_in(self, *, to_undo: bool = False) -> AdminSession:
        setup = self.use_cases.setup_client
        why = (
            "Microsoft's own Azure CLI app, which every organisation has, is what this command "
            "signs in through"
            if setup.is_azure_cli
            else "that is the setup client chosen with --setup-client-id or "
            "CLEAROOMS_SETUP_CLIENT_ID"
        )
        where = "on another device, with a code" if self.args.device_code else "in your browser"
        named = (
            "Microsoft's sign-in page will name the app asking for access as "
            f"“{printable(setup.shown_as)}”: {why}."
        )
        if to_undo:
            self.tell(
                f"Sign in as an administrator {where}, to remove what the unfinished run "
                f"created. {named}\n"
            )
        else:
            self.tell(
                f"Sign in as an administrator {where}. {named} A Global Administrator (or "
                "Privileged Role Administrator) can do everything at once. Nothing is created "
                "until you have seen the plan.\n"
            )
        return sign_in_admin(
            self.use_cases,
            self.runtime.connection.cloud,
            self.cancel,
            tenant=self.tenant,
            device_code=self.args.device_code,
            tell=self.tell,
        )

    # -- the review ----------------------------------------------------------------------------

    def review(self, plan: RegistrationPlan, resuming: RegistrationJournal | None) -> None:
        admin = plan.admin
        existing = plan.existing
        self.report.review = {
            "organisation": {"name": admin.tenant_name, "tenant_id": admin.tenant_id},
            "account": {
                "username": admin.username,
                "display_name": admin.display_name,
                "roles": list(admin.role_names),
            },
            "app_name": plan.app_name,
            "calendars": "rooms-only" if plan.rooms_only else "all-mailboxes",
            "permissions": [
                {"name": p.name, "allows": p.permission.allows, "why": p.permission.why}
                for p in plan.permissions
            ],
            "secret_months": plan.secret_months,
            "existing_app": None
            if existing is None
            else {
                "display_name": existing.display_name,
                "client_id": existing.app_id,
                "object_id": existing.object_id,
                "in_organisation": existing.service_principal_id is not None,
                "missing_permissions": list(existing.missing_permissions),
                "secrets": existing.secret_count,
            },
            "needs_global_admin_approval": not plan.grant_directly,
            "resumes_unfinished_run": resuming is not None,
        }
        if self.as_json:
            return
        name = printable(admin.tenant_name) or "(its name could not be read)"
        who = printable(admin.username)
        if admin.display_name:
            who = f"{printable(admin.display_name)} <{who}>"
        roles = ", ".join(admin.role_names) or "no administrator role"
        lines = [
            "",
            "What will be set up (nothing has been created yet):",
            f"  Organisation:   {name} (tenant ID {printable(admin.tenant_id)})",
            f"  Signed in as:   {who}, {roles}",
            f"  App:            {printable(plan.app_name)}",
        ]
        if existing is None:
            lines.append("                  No Clearooms app was found, so a new one is created.")
        else:
            lines.append(
                f"                  Found the Clearooms app “{printable(existing.display_name)}” "
                f"(client ID {printable(existing.app_id)}): it is reused with a new client "
                "secret, never created twice."
            )
        if plan.use_certificate:
            lines.append(f"  Certificate:    lasts {plan.secret_months} months, no client secret")
        else:
            lines.append(f"  Client secret:  lasts {plan.secret_months} months")
        lines.append("  Permissions (Microsoft Graph application permissions):")
        lines += [f"    - {p.name}: {p.permission.allows}." for p in plan.permissions]
        if plan.rooms_only:
            lines.append(f"  Calendars:      {_ROOMS_ONLY}")
        else:
            lines.append(f"  Calendars:      all mailboxes (--all-mailboxes). {_CALENDARS_REACH}")
        if plan.grant_directly:
            lines.append("  Approval:       your account can grant these permissions itself.")
        elif not admin.role_ids or not set(admin.role_ids) & _ROLES_THAT_CREATE:
            lines.append(
                "  Approval:       your account has no administrator role for apps, so Microsoft "
                "may refuse to create the app (unless your organisation lets everyone register "
                "apps); a Global Administrator would then approve its permissions."
            )
        else:
            lines.append(
                "  Approval:       a Global Administrator must approve these permissions: your "
                "account can create the app but not grant them. You will get a link to send "
                "them."
            )
        if resuming is not None:
            lines.append(
                "  An earlier run stopped half-way: this one carries on from it, reusing what "
                "it created."
            )
        self.say("\n".join(lines) + "\n\n")

    # -- the steps -----------------------------------------------------------------------------

    def step(self, update: StepUpdate) -> None:
        self.report.steps[update.step] = update
        if not self.show_steps:
            return
        title = STEP_TITLES[update.step]
        detail = f": {printable(update.detail)}" if update.detail else ""
        if update.state is StepState.RUNNING:
            if self.live:
                self.tell(f"\r… {title}{detail}")
            return
        self.tell(f"{ERASE_LINE if self.live else ''}  [{_MARKS[update.state]}] {title}{detail}\n")

    def created_so_far(self, journal: RegistrationJournal | None) -> None:
        created = journal.created if journal is not None else ()
        self.report.created = [
            {"kind": c.kind.value, "id": c.object_id, "label": c.label} for c in created
        ]
        if not created:
            self.tell("Nothing was created.\n")
            return
        self.tell("Created so far (and kept, so a new run can carry on from it):\n")
        for item in created:
            label = printable(item.label) or item.kind.value.replace("-", " ")
            self.tell(f"  - {label} ({printable(item.object_id)})\n")
        self.tell(
            "Run “clearooms-wizard register” again to carry on where it stopped, or "
            "“clearooms-wizard register --undo” to remove what it created.\n"
        )

    # -- after the app is created ----------------------------------------------------------

    def test_and_save(self, registered: RegisteredApp) -> int:
        runtime = self.runtime
        connection = ConnectionInput(
            registered.tenant_id,
            registered.client_id,
            registered.client_secret,
            cloud=runtime.connection.cloud,
            certificate=registered.certificate,
        )
        self.say("Testing the new connection (Test Settings)…\n")
        test = self.use_cases.test_connection(connection, self.cancel)
        for result in test.run():
            if not self.as_json:
                print_result(result, self.out)
        self.report.checks = list(
            build_support_report(
                connection,
                test.results,
                tenant_id=test.tenant_id,
                demo_scenario=self.report.demo_scenario,
                environment=support_paths(runtime.workspace_path),
            ).to_json()["checks"]
        )
        failed = [r for r in test.results if r.status is Status.FAIL]
        if failed:
            self.report.error = (
                "The app was set up, but Test Settings found a problem (see the checks). "
                "Nothing was saved. Run “clearooms-wizard register” again once it is fixed: it "
                "reuses the app."
            )
            self.tell(self.report.error + "\n")
            return EXIT_FAILED
        problem = self.use_cases.save_connection(test)
        where = runtime.workspace_path
        if runtime.scenario is not None:
            saved = (
                f"Saved in the demo tenant's own workspace, {where}; the demo never uses the "
                "keyring."
            )
        elif problem is None:
            saved = (
                f"Saved. The client secret is in this computer's keyring; the rest is in {where}."
            )
        else:
            saved = f"Saved the tenant and client ID in {where}. {problem}"
        self.report.saved = saved
        self.say(f"\nAll set: the connection works. {saved}\n")
        if registered.rooms_only:
            self.say(f"\n{_EXCHANGE_STEP}\n")
        return EXIT_OK

    def needs_approval(self, registered: RegisteredApp) -> None:
        kept = self.use_cases.keep_until_approved(registered, self.runtime.connection.cloud)
        self.say(
            "\nThe app and its client secret are created. Its permissions now need a Global "
            "Administrator's approval: send them this link (it is safe to share):\n\n"
            f"  {printable(registered.consent_url)}\n\n"
        )
        if kept.secret_in_keyring:
            self.report.saved = (
                "Kept until approved: the client secret is in this computer's keyring, the "
                "client ID and tenant in the workspace."
            )
            self.say(
                "The client ID and secret are kept on this computer. When the permissions are "
                "approved, run “clearooms-wizard check --save”: it tests the connection and "
                "marks it ready.\n"
            )
        else:
            self.report.saved = "Kept the client ID and tenant; the secret could not be kept."
            self.say(
                "This computer has no keyring to keep the client secret in, so it is not kept. "
                "When the permissions are approved, run “clearooms-wizard register” again: it "
                "finds the app, adds a fresh client secret, tests the connection and saves it. "
                "(With the secret from --show-secret, “clearooms-wizard check --secret-stdin "
                "--save” does the same.)\n"
            )
        if kept.notice:
            self.say(f"{kept.notice}\n")

    def reveal(self, registered: RegisteredApp) -> None:
        """The secret, once, clearly labelled: only with --show-secret."""
        if self.as_json:
            return  # it is in the JSON document
        text = (
            "\nClient secret (shown this once because you asked, for a secure hand-over: put it "
            "in a password manager, never in an e-mail):\n"
            f"  {registered.client_secret}\n"
        )
        _write_revealing(self.out, text, registered.client_secret)
        self.out.flush()


def _tenant(given: str | None, demo: bool) -> str | None:
    """The organisation to sign in to, when one is named; else the sign-in says which."""
    raw = given if given is not None else (None if demo else os.environ.get("CLEAROOMS_TENANT_ID"))
    if not raw:
        return None
    checked = check_tenant(raw)
    if checked.value is None:
        raise UsageError(f"--tenant: {checked.problem}")
    return checked.value


def _write_revealing(out: TextIO, text: str, secret: str) -> None:
    if isinstance(out, GuardedOutput):
        out.write_revealing(text, secret)
    else:
        out.write(text)


def run(invocation: Invocation) -> int:
    work = Run(invocation)
    if work.args.undo:
        return _undo(work)
    try:
        return _register(work)
    except (KeyboardInterrupt, Cancelled):
        work.cancel.cancel()
        work.report.outcome = "cancelled"
        work.tell(f"{ERASE_LINE if work.live else ''}\nStopped.\n")
        if work.registered is None:
            work.created_so_far(work.use_cases.unfinished_registration())
        else:
            work.tell(
                "The app is set up, but the connection was not tested or saved. Run "
                "“clearooms-wizard register” again to finish: it reuses the app.\n"
            )
        work.finish(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED


def _register(work: Run) -> int:
    from clearooms_wizard.core.provisioning import RegistrationFailed

    use_cases, report = work.use_cases, work.report
    resuming = use_cases.unfinished_registration()
    try:
        admin = work.sign_in()
        plan = use_cases.plan_registration(
            admin,
            work.app_name,
            work.secret_months,
            work.cancel,
            use_certificate=work.args.certificate,
            rooms_only=work.rooms_only,
        )
    except ClearoomsError as exc:
        report.error = str(exc)
        work.tell(f"{printable(str(exc))}\nNothing was created.\n")
        return work.finish(EXIT_FAILED)
    same_organisation = resuming is not None and resuming.tenant_id == plan.admin.tenant_id
    work.review(plan, resuming if same_organisation else None)
    if work.args.dry_run:
        report.outcome = "dry-run"
        work.say("Dry run: nothing was created. Run it without --dry-run to set it up.\n")
        return work.finish(EXIT_OK)
    try:
        with progress_line(work.err, work.live):
            registered = use_cases.register_app(admin, plan, work.cancel, work.step)
    except RegistrationFailed as exc:
        report.error = exc.problem
        work.tell(f"\nIt stopped at “{STEP_TITLES[exc.step]}”. {printable(exc.problem)}\n")
        work.created_so_far(exc.journal)
        return work.finish(EXIT_FAILED)
    except ClearoomsError as exc:
        report.error = str(exc)
        work.tell(f"\n{printable(str(exc))}\n")
        work.created_so_far(use_cases.unfinished_registration())
        return work.finish(EXIT_FAILED)
    work.registered = registered
    report.app = {
        "tenant_id": registered.tenant_id,
        "client_id": registered.client_id,
        "secret_expires_at": registered.secret_expires_at.isoformat(),
        "app_object_id": registered.app_object_id,
        "service_principal_id": registered.service_principal_id,
        "reused": registered.reused,
        "permissions_granted": registered.permissions_granted,
        "calendars": "rooms-only" if registered.rooms_only else "all-mailboxes",
    }
    credential = "client secret" if registered.certificate is None else "certificate"
    report.app["credential"] = credential
    if registered.certificate_reason:
        report.app["credential_reason"] = registered.certificate_reason
        work.say(f"\n{registered.certificate_reason}\n")
    work.say(
        f"\n{'Reused' if registered.reused else 'Created'} the app: client ID "
        f"{printable(registered.client_id)} in tenant {printable(registered.tenant_id)}. Its "
        f"{credential} lasts until {registered.secret_expires_at:%d %B %Y}.\n"
    )
    if work.args.show_secret and registered.certificate is None:
        work.reveal(registered)
    if registered.permissions_granted:
        code = work.test_and_save(registered)
        report.outcome = "done" if code == EXIT_OK else "failed"
    else:
        report.outcome = "needs-approval"
        report.consent_url = registered.consent_url
        work.needs_approval(registered)
        code = EXIT_OK
    if work.args.show_secret and work.as_json:
        payload = json_text(report.to_json() | {"client_secret": registered.client_secret})
        log.info("register: %s", report.outcome)
        _write_revealing(work.out, payload, json.dumps(registered.client_secret)[1:-1])
        return code
    return work.finish(code)


def _undo(work: Run) -> int:
    journal = work.use_cases.unfinished_registration()
    report = work.report
    if journal is None or not journal.created:
        report.outcome = "nothing"
        work.say("Nothing to undo: no run stopped half-way with anything created.\n")
        return work.finish(EXIT_OK)
    report.created = [
        {"kind": c.kind.value, "id": c.object_id, "label": c.label} for c in journal.created
    ]
    if not work.as_json:
        work.say("An earlier run stopped half-way. Undo removes what it created:\n")
        for item in reversed(journal.created):
            label = printable(item.label) or item.kind.value.replace("-", " ")
            work.say(f"  - {label} ({printable(item.object_id)})\n")
        work.say("Nothing else is touched.\n")
    if work.args.dry_run:
        report.outcome = "dry-run"
        work.say("Dry run: nothing was removed.\n")
        return work.finish(EXIT_OK)

    def progress(line: str) -> None:
        work.tell(f"  {printable(line)}\n")

    try:
        work.tenant = work.tenant or journal.tenant_id
        admin = work.sign_in(to_undo=True)
        work.use_cases.undo_registration(admin, journal, work.cancel, progress)
    except (KeyboardInterrupt, Cancelled):
        work.cancel.cancel()
        report.outcome = "cancelled"
        work.tell("\nStopped. Run “clearooms-wizard register --undo” again to finish.\n")
        work.finish(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except ClearoomsError as exc:
        report.error = str(exc)
        work.tell(f"{printable(str(exc))}\n")
        return work.finish(EXIT_FAILED)
    report.outcome = "undone"
    work.say("Removed what the unfinished run created.\n")
    return work.finish(EXIT_OK)
