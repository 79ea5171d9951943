"""``secret``: the app's client secret. ``status`` lists the app's secrets and certificates and
which secret is in use; ``renew`` replaces the secret in use with a new one (an administrator or
the app's owner signs in), in an order that never leaves the app without a working secret;
``reminder`` writes a calendar reminder to renew it. A connection that signs in with a
certificate renews its certificate; ``renew --certificate`` moves a secret connection to one."""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from clearooms_wizard.cli.admin import sign_in_admin
from clearooms_wizard.cli.connection import credentials, runtime_for
from clearooms_wizard.cli.exits import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    fail_within_days,
)
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.output import ERASE_LINE, GuardedOutput
from clearooms_wizard.cli.parser import Parser, SharedOptions, Subcommands
from clearooms_wizard.core.app_setup import (
    DEFAULT_SECRET_MONTHS,
    SECRET_MONTHS_CHOICES,
    StepState,
)
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.safetext import json_text, printable
from clearooms_wizard.core.values import check_client_id, check_tenant
from clearooms_wizard.runtime import Runtime

if TYPE_CHECKING:
    from clearooms_wizard.core.admin_signin import AdminSession
    from clearooms_wizard.core.renewal import (
        AppCredential,
        CredentialStatus,
        RenewalOutcome,
        RenewalUpdate,
    )

log = logging.getLogger("clearooms_wizard.cli")

_MARKS = {
    StepState.DONE: "DONE",
    StepState.SKIPPED: "SKIPPED",
    StepState.NEEDS_APPROVAL: "WAITING",
    StepState.FAILED: "FAILED",
}

_RENEW_DESCRIPTION = """\
Renew the app's client secret before it expires. An administrator (an Application
Administrator, a Cloud Application Administrator or a Global Administrator) or the app's owner
signs in, in the browser (or with --device-code); the command then adds a new secret, waits
until Microsoft signs the app in with it, saves it in this computer's keyring, and only then
removes the secret it replaces. A secret that Clearooms did not make is removed only
when you say so (or with --yes); --keep-old keeps it. The new secret is never printed (unless
--show-secret).

With --certificate, a new certificate is made here instead (its private key goes to the
keyring, never to the screen or a file), uploaded to the app beside the ones it has, checked
the same way, and then the old certificate, or the old secret when the connection used one,
is removed. A connection that already signs in with a certificate always renews its
certificate, with or without --certificate: a client secret is not added behind its back.

If the command is stopped half-way, running it again finishes or tidies what was left; the
credential saved on this computer keeps working throughout.

Exit codes: 0 renewed (or an earlier renewal finished), 1 failed (it says whether the old
secret still works: it does, unless it had expired), 2 usage error, 130 stopped with Ctrl+C.
"""

_STATUS_DESCRIPTION = """\
List the app's client secrets and certificates with their hints (first three characters) or
thumbprints, end dates, and which one is saved on this computer (the secret, or the certificate
when the connection signs in with one). Read with the app's own sign-in;
with --admin, an administrator signs in instead (when the app cannot sign in, for example
because its secret has expired). Exit codes: 0 listed, 1 failed (or, with --fail-within DAYS,
the secret in use expires within DAYS days: for a scheduled task), 2 usage error.
"""


def add_commands(commands: Subcommands, shared: SharedOptions, summary: str) -> None:
    secret = commands.add_parser("secret", help=summary, description=summary.capitalize() + ".")
    secret.set_defaults(func=_say_what_to_do)
    secret_commands = secret.add_subparsers(
        dest="secret_command", metavar="COMMAND", parser_class=Parser
    )
    status = secret_commands.add_parser(
        "status",
        parents=[shared.online],
        help="list the app's secrets and certificates, and which secret is in use",
        description=_STATUS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="print one JSON document")
    status.add_argument(
        "--admin", action="store_true", help="sign in as an administrator to read them"
    )
    status.add_argument(
        "--fail-within",
        metavar="DAYS",
        help="exit with 1 when the secret (or certificate) in use expires within DAYS days, or "
        "has expired, or is not known (for a scheduled task)",
    )
    _sign_in_options(status)
    status.set_defaults(func=run_status)
    renew = secret_commands.add_parser(
        "renew",
        parents=[shared.online],
        help="replace the client secret with a new one (an administrator signs in)",
        description=_RENEW_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    renew.add_argument(
        "--months",
        metavar="N",
        default=str(DEFAULT_SECRET_MONTHS),
        help=f"how long the new secret lasts: {_choices()} months (default "
        f"{DEFAULT_SECRET_MONTHS}; shorter when your organisation's policy says so)",
    )
    renew.add_argument(
        "--keep-old", action="store_true", help="keep the old secret (it expires by itself)"
    )
    renew.add_argument(
        "--certificate",
        action="store_true",
        help="renew to a new certificate instead of a secret (for organisations that do not "
        "allow secrets); the private key stays in this computer's keyring",
    )
    renew.add_argument(
        "--yes",
        action="store_true",
        help="remove the old secret without asking, even one Clearooms did not make",
    )
    renew.add_argument("--json", action="store_true", help="print one JSON document")
    renew.add_argument(
        "--show-secret",
        action="store_true",
        help="print the new client secret once, for a secure hand-over; without it the secret "
        "is never shown",
    )
    _sign_in_options(renew)
    renew.set_defaults(func=run_renew)
    reminder = secret_commands.add_parser(
        "reminder",
        parents=[shared.online],
        help="write a calendar reminder (.ics) to renew the secret 30 days before it expires",
        description="Write an .ics calendar file with an all-day reminder 30 days before the "
        "client secret (or the certificate, when the connection signs in with one) expires "
        "(today, if that day has passed), saying what to do. It holds no secret. The expiry "
        "date is the saved one (from the last Test Settings), else read with the app's sign-in.",
    )
    reminder.add_argument("--output", metavar="FILE", help="write it here (else standard output)")
    reminder.add_argument(
        "--force", action="store_true", help="replace the --output file if it exists"
    )
    reminder.set_defaults(func=run_reminder)


def _sign_in_options(parser: Parser) -> None:
    parser.add_argument(
        "--device-code",
        action="store_true",
        help="sign in on another device with a code, instead of in a browser here",
    )
    parser.add_argument(
        "--setup-client-id",
        metavar="ID",
        help="the public client the administrator signs in with (CLEAROOMS_SETUP_CLIENT_ID)",
    )


def _choices() -> str:
    *first, last = (str(months) for months in SECRET_MONTHS_CHOICES)
    return f"{', '.join(first)} or {last}"


def _say_what_to_do(invocation: Invocation) -> int:
    raise UsageError(
        "Say what to do, for example: clearooms-wizard secret status, or clearooms-wizard "
        "secret renew"
    )


def _months(raw: str) -> int:
    text = raw.strip()
    months = int(text) if text.isascii() and text.isdigit() else None
    if months not in SECRET_MONTHS_CHOICES:
        raise UsageError(f"--months: choose {_choices()} months.")
    return months


def _when(moment: datetime | None) -> str:
    return "no end date" if moment is None else f"{moment:%d %B %Y}".lstrip("0")


class _Command:
    """What status and renew share: the runtime, printing, and an administrator's sign-in."""

    def __init__(self, invocation: Invocation) -> None:
        import dataclasses

        self.args = invocation.args
        self.out, self.err, self.stdin = invocation.out, invocation.err, invocation.stdin
        self.as_json: bool = getattr(self.args, "json", False)
        options = dataclasses.replace(
            invocation.command_options(),
            setup_client_id=getattr(self.args, "setup_client_id", None),
        )
        self.demo = options.demo
        self.tenant = _tenant(options.tenant, options.demo)
        self.runtime: Runtime = runtime_for(options, self.err)
        self.use_cases = self.runtime.use_cases
        self.cancel = CancelToken()
        self.live = self.err.isatty() and not self.as_json

    def say(self, text: str) -> None:
        stream = self.err if self.as_json else self.out
        stream.write(text)
        stream.flush()

    def tell(self, text: str) -> None:
        self.err.write(text)
        self.err.flush()

    def client_id(self) -> str:
        checked = check_client_id(self.runtime.connection.client_id)
        if checked.value is None:
            raise UsageError(
                f"Client ID: {checked.problem} Give it with --client-id (or CLEAROOMS_CLIENT_ID), "
                "or save the connection first (the wizard, or check --save)."
            )
        return checked.value

    def sign_in(self, why: str) -> AdminSession:
        where = "on another device, with a code" if self.args.device_code else "in your browser"
        self.tell(
            f"Sign in {where} as an administrator (an Application Administrator, a Cloud "
            f"Application Administrator or a Global Administrator) or the app's owner, {why}. "
            f"Microsoft's page names the app asking as "
            f"“{printable(self.use_cases.setup_client.shown_as)}”.\n"
        )
        return sign_in_admin(
            self.use_cases,
            self.runtime.connection.cloud,
            self.cancel,
            tenant=self.tenant,
            device_code=self.args.device_code,
            tell=self.tell,
        )


def _tenant(given: str | None, demo: bool) -> str | None:
    raw = given if given is not None else (None if demo else os.environ.get("CLEAROOMS_TENANT_ID"))
    if not raw:
        return None
    checked = check_tenant(raw)
    if checked.value is None:
        raise UsageError(f"--tenant: {checked.problem}")
    return checked.value


# -- status ------------------------------------------------------------------------------------


def run_status(invocation: Invocation) -> int:
    work = _Command(invocation)
    within = fail_within_days(work.args.fail_within)
    unfinished = work.use_cases.unfinished_renewal()
    try:
        if work.args.admin:
            client_id = work.client_id()
            admin = work.sign_in("to read the app's secrets")
            from clearooms_wizard.core.values import Credentials

            connection = work.runtime.connection
            status = work.use_cases.secret_status(
                Credentials(
                    admin.admin.tenant_id,
                    client_id,
                    connection.client_secret,
                    certificate=connection.certificate,
                ),
                connection.cloud,
                work.cancel,
                admin,
            )
        else:
            status = work.use_cases.secret_status(
                credentials(work.runtime), work.runtime.connection.cloud, work.cancel
            )
    except (KeyboardInterrupt, Cancelled):
        work.cancel.cancel()
        work.tell("\nStopped.\n")
        return EXIT_INTERRUPTED
    except ClearoomsError as exc:
        message = _cannot_read_secrets(exc)
        if work.as_json:
            work.out.write(json_text({"ok": False, "error": message}))
        else:
            work.tell(message + "\n")
        return EXIT_FAILED
    _print_status(work, status, unfinished)
    if within is not None:
        in_use = status.in_use
        days = None if in_use is None else in_use.days_left(status.checked_at)
        if days is None or days < within:
            return EXIT_FAILED
    return EXIT_OK


def _print_status(work: _Command, status: CredentialStatus, unfinished: object) -> None:
    from clearooms_wizard.core.renewal import RenewalJournal, describe_unfinished

    note = describe_unfinished(unfinished) if isinstance(unfinished, RenewalJournal) else None
    if work.as_json:
        payload: dict[str, object] = {"ok": True, **status.to_json()}
        payload["unfinished_renewal"] = note
        work.out.write(json_text(payload))
        return
    now = status.checked_at
    lines = [
        f"App: {printable(status.app_name)} (client ID {printable(status.client_id)})",
        "",
    ]
    if not status.credentials:
        lines.append("  The app has no client secrets or certificates.")
    for item in status.credentials:
        days = item.days_left(now)
        left = (
            "expired"
            if item.expired(now)
            else ("" if days is None else f"{days} day{'s' if days != 1 else ''} left")
        )
        marks = [m for m in ("IN USE" if item.in_use else "", "by Clearooms" if item.ours else "")]
        tag = ", ".join(m for m in marks if m)
        if item.kind.value == "secret":
            kind, named = "Secret     ", f"hint {printable(item.hint)}…" if item.hint else "hint -"
        else:
            thumbprint = printable(item.thumbprint.upper()) if item.thumbprint else "unknown"
            kind, named = "Certificate", f"thumbprint {thumbprint}"
        lines.append(
            f"  {kind} {printable(item.display_name) or '(no name)'}: {named}, ends "
            f"{_when(item.end)} ({left}){' [' + tag + ']' if tag else ''}"
        )
    in_use = status.in_use
    what = "certificate" if in_use is not None and in_use.kind.value == "certificate" else "secret"
    lines.append("")
    if in_use is None:
        lines.append(printable(status.in_use_unknown_because or "The secret in use is unknown."))
    elif in_use.expired(now):
        lines.append(
            f"The {what} in use has expired: run “clearooms-wizard secret renew” to replace it."
        )
    elif (in_use.days_left(now) or 0) <= 30:
        lines.append(
            f"The {what} in use expires on {_when(in_use.end)}: renew it soon with "
            "“clearooms-wizard secret renew”."
        )
    else:
        lines.append(f"The {what} in use expires on {_when(in_use.end)}.")
    if note:
        lines.append(f"Note: {note}")
    work.out.write("\n".join(lines) + "\n")
    work.out.flush()


# -- renew -------------------------------------------------------------------------------------


def run_renew(invocation: Invocation) -> int:
    work = _Command(invocation)
    months = _months(work.args.months)
    if work.args.keep_old and work.args.yes:
        raise UsageError("--keep-old and --yes say opposite things: choose one.")
    if work.args.show_secret and (work.args.certificate or work.runtime.connection.certificate):
        raise UsageError(
            "--show-secret: a certificate's private key is never printed. To take it to another "
            "computer, use “clearooms-wizard certificate export-key” (it asks for a passphrase)."
        )
    client_id = work.client_id()
    report: dict[str, object] = {"ok": False, "outcome": "failed", "steps": []}
    if work.runtime.scenario is not None:
        report["demo_scenario"] = work.runtime.scenario.name
    try:
        return _renew(work, client_id, months, report)
    except (KeyboardInterrupt, Cancelled):
        work.cancel.cancel()
        report["outcome"] = "cancelled"
        saved = "certificate" if work.runtime.connection.certificate is not None else "secret"
        work.tell(
            f"{ERASE_LINE if work.live else ''}\nStopped. The {saved} saved on this computer "
            "still works. Run “clearooms-wizard secret renew” again to finish or tidy up.\n"
        )
        if work.as_json:
            work.out.write(json_text(report))
        return EXIT_INTERRUPTED


def _confirm(work: _Command) -> Callable[[AppCredential], bool]:
    def confirm(old: AppCredential) -> bool:
        if work.args.yes:
            return True
        name = printable(old.display_name) or "(no name)"
        if not work.stdin.isatty():
            work.tell(
                f"The old secret “{name}” was not made by Clearooms, so it is kept "
                "(give --yes to remove it anyway).\n"
            )
            return False
        work.tell(
            f"\nThe old secret “{name}” (hint {printable(old.hint or '')}…) was not made by "
            "Clearooms: something else may use it. Remove it now? [y/N] "
        )
        answer = work.stdin.readline().strip().lower()
        return answer in ("y", "yes")

    return confirm


def _progress(work: _Command, report: dict[str, object]) -> Callable[[RenewalUpdate], None]:
    steps: dict[str, dict[str, str]] = {}

    def progress(update: RenewalUpdate) -> None:
        steps[update.stage.value] = {
            "step": update.stage.value,
            "state": update.state.value,
            "detail": update.detail,
        }
        report["steps"] = list(steps.values())
        if work.as_json:
            return
        title = update.title
        # A failure's words follow on their own, once.
        shown = update.detail if update.state is not StepState.FAILED else ""
        detail = f": {printable(shown)}" if shown else ""
        if update.state is StepState.RUNNING:
            if work.live:
                work.tell(f"\r… {title}{detail}")
            return
        work.tell(f"{ERASE_LINE if work.live else ''}  [{_MARKS[update.state]}] {title}{detail}\n")

    return progress


def _renew(work: _Command, client_id: str, months: int, report: dict[str, object]) -> int:
    from clearooms_wizard.core.renewal import RenewalFailed, RenewalRequest, RenewalStep

    use_cases = work.use_cases
    connection = work.runtime.connection
    current = connection.client_secret or None
    current_certificate = connection.certificate
    to_certificate = work.args.certificate or current_certificate is not None
    unfinished = use_cases.unfinished_renewal()
    if current_certificate is not None and not work.args.certificate:
        work.tell(
            "This connection signs in with a certificate, so the certificate is renewed (a new "
            "one replaces it; no client secret is added).\n"
        )
    if current is None and current_certificate is None and unfinished is None:
        work.tell(
            "No client secret is saved on this computer (nor given), so the secret in use "
            "cannot be told apart: the new one is added and saved, and no old one is removed.\n"
        )
    report["credential"] = "certificate" if to_certificate else "secret"
    try:
        admin = work.sign_in(
            "to renew the app's certificate"
            if to_certificate
            else "to renew the app's client secret"
        )
        if unfinished is not None:
            from clearooms_wizard.core.renewal import saved_already

            thumbprint = current_certificate.sha1_thumbprint if current_certificate else None
            unfinished = saved_already(unfinished, thumbprint)
        if unfinished is not None and unfinished.step is RenewalStep.SAVED:
            text = use_cases.finish_renewal(
                admin, unfinished, current, _confirm(work), work.cancel, _progress(work, report),
                current_certificate,
            )  # fmt: skip
            report.update(ok=True, outcome="finished-earlier", message=text)
            work.say(f"{printable(text)}\n")
            return _finish(work, report, EXIT_OK)
        request = RenewalRequest(
            tenant_id=admin.admin.tenant_id,
            client_id=client_id,
            current_secret=current,
            months=months,
            keep_old=work.args.keep_old,
            remove_old_without_keyring=work.args.show_secret,
            certificate=to_certificate,
            current_certificate=current_certificate,
        )
        outcome = use_cases.renew_secret(
            admin, request, _confirm(work), work.cancel, _progress(work, report)
        )
    except RenewalFailed as exc:
        report["error"] = exc.problem
        work.tell(f"\n{printable(exc.problem)}\n")
        return _finish(work, report, EXIT_FAILED)
    except ClearoomsError as exc:
        report["error"] = str(exc)
        work.tell(f"\n{printable(str(exc))}\nNothing was changed.\n")
        return _finish(work, report, EXIT_FAILED)
    _tell_outcome(work, outcome, report)
    if work.args.show_secret:
        _reveal(work, outcome, report)
        if work.as_json:
            log.info("secret renew: %s", report["outcome"])
            payload = json_text(report | {"client_secret": outcome.new_secret})
            _write_revealing(work.out, payload, json.dumps(outcome.new_secret)[1:-1])
            return EXIT_OK
    return _finish(work, report, EXIT_OK)


def _tell_outcome(work: _Command, outcome: RenewalOutcome, report: dict[str, object]) -> None:
    if outcome.new_certificate is not None:
        _tell_certificate_outcome(work, outcome, report)
        return
    report.update(
        ok=True,
        outcome="renewed",
        new_secret={
            "key_id": outcome.new_key_id,
            "expires": outcome.expires_at.isoformat(),
            "months": outcome.months,
            "shortened_by_policy": outcome.shortened,
            "in_keyring": outcome.kept_in_keyring,
        },
        old_secret=None
        if outcome.old is None
        else {
            "key_id": outcome.old.key_id,
            "display_name": outcome.old.display_name,
            "removed": outcome.old_removed,
            "kept_because": outcome.old_kept_because,
        },
    )
    if outcome.tidied:
        report["tidied"] = outcome.tidied
        work.say(f"{printable(outcome.tidied)}\n")
    lines = [f"\nRenewed: the new client secret works and lasts until {_when(outcome.expires_at)}."]
    if work.runtime.scenario is not None:
        lines.append("It is kept in the demo's memory only; the demo never uses the keyring.")
    elif outcome.kept_in_keyring:
        lines.append("It is saved in this computer's keyring.")
    else:
        lines.append(
            "This computer has no keyring to keep it in, so it is kept nowhere"
            + (" (it is shown below, as you asked)." if work.args.show_secret else ".")
        )
        if outcome.save_message:
            lines.append(printable(outcome.save_message))
    if outcome.old_removed:
        lines.append("The old secret was removed.")
    elif outcome.old_kept_because:
        lines.append(printable(outcome.old_kept_because))
    work.say(" ".join(lines) + "\n")


def _tell_certificate_outcome(
    work: _Command, outcome: RenewalOutcome, report: dict[str, object]
) -> None:
    made = outcome.new_certificate
    assert made is not None
    old = outcome.old
    report.update(
        ok=True,
        outcome="renewed",
        new_certificate={
            "key_id": outcome.new_key_id,
            "sha1_thumbprint": made.sha1_thumbprint.upper(),
            "expires": made.not_after.isoformat(),
            "in_keyring": outcome.kept_in_keyring,
        },
        old_credential=None
        if old is None
        else {
            "kind": old.kind.value,
            "key_id": old.key_id,
            "display_name": old.display_name,
            "removed": outcome.old_removed,
            "kept_because": outcome.old_kept_because,
        },
    )
    if outcome.tidied:
        report["tidied"] = outcome.tidied
        work.say(f"{printable(outcome.tidied)}\n")
    lines = [
        f"\nRenewed: the new certificate (thumbprint {made.sha1_thumbprint.upper()}) works and "
        f"lasts until {_when(made.not_after)}; the connection now signs in with it."
    ]
    if work.runtime.scenario is not None:
        lines.append("Its private key is kept in the demo's memory only.")
    elif outcome.kept_in_keyring:
        lines.append("Its private key is saved in this computer's keyring.")
    elif outcome.save_message:
        lines.append(printable(outcome.save_message))
    if outcome.old_removed and old is not None:
        lines.append(f"The old {old.kind.value} was removed.")
    elif outcome.old_kept_because:
        lines.append(printable(outcome.old_kept_because))
    work.say(" ".join(lines) + "\n")


def _reveal(work: _Command, outcome: RenewalOutcome, report: dict[str, object]) -> None:
    if work.as_json:
        return
    text = (
        "\nNew client secret (shown this once because you asked, for a secure hand-over: put it "
        f"in a password manager, never in an e-mail):\n  {outcome.new_secret}\n"
    )
    _write_revealing(work.out, text, outcome.new_secret)
    work.out.flush()


def _write_revealing(out: TextIO, text: str, secret: str) -> None:
    if isinstance(out, GuardedOutput):
        out.write_revealing(text, secret)
    else:
        out.write(text)


def _finish(work: _Command, report: dict[str, object], code: int) -> int:
    log.info("secret renew: %s", report["outcome"])
    if work.as_json:
        work.out.write(json_text(report))
    return code


def _cannot_read_secrets(exc: ClearoomsError) -> str:
    """Why the app's secrets could not be read, and what to do; Microsoft's own words only when
    they are not a refusal to sign in."""
    from clearooms_wizard.core.errors import SignInError

    if not isinstance(exc, SignInError):
        return printable(str(exc))
    why = (
        "The app's client secret has expired"
        if exc.aadsts == 7000222
        else f"Microsoft refused to sign the app in (AADSTS{exc.aadsts or '?'})"
    )
    return (
        f"{why}, so it cannot read its own secrets. Run “clearooms-wizard secret status "
        "--admin” to read them as an administrator, and “clearooms-wizard secret renew” "
        f"to renew the {'certificate' if exc.aadsts == 700027 else 'secret'}."
    )


# -- reminder ----------------------------------------------------------------------------------


def run_reminder(invocation: Invocation) -> int:
    work = _Command(invocation)
    target = None if work.args.output is None else Path(work.args.output).expanduser()
    if target is not None and not work.args.force and target.exists() and not target.is_dir():
        raise UsageError(
            f"{printable(str(target))} already exists. Add --force to replace it, or choose "
            "another file."
        )
    saved = work.runtime.saved
    expires: datetime | None = None
    client_id = work.client_id()
    certificate = work.runtime.connection.certificate is not None
    if saved is not None and saved.client_id == client_id:
        # Whichever credential the connection signs in with: its end date.
        saved_end = saved.certificate_expires_at if certificate else saved.secret_expires_at
        try:
            expires = datetime.fromisoformat(saved_end) if saved_end else None
        except ValueError:
            expires = None
    app_name = ""
    if expires is None:
        try:
            status = work.use_cases.secret_status(
                credentials(work.runtime), work.runtime.connection.cloud, work.cancel
            )
        except ClearoomsError as exc:
            work.tell(f"The expiry date could not be read. {_cannot_read_secrets(exc)}\n")
            return EXIT_FAILED
        in_use = status.in_use
        if in_use is None or in_use.end is None:
            work.tell(f"{printable(status.in_use_unknown_because or 'No end date is known.')}\n")
            return EXIT_FAILED
        expires, app_name = in_use.end, status.app_name
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if target is None:
        from clearooms_wizard.core.reminder import Reminder, render_ics

        # The calendar file itself: its lines end in CRLF, as RFC 5545 asks.
        ics = render_ics(Reminder(expires, client_id, app_name, certificate))
        if isinstance(work.out, GuardedOutput):
            work.out.write_document(ics, "\r\n")
        else:
            work.out.write(ics)
        return EXIT_OK
    try:
        written = work.use_cases.save_reminder(expires, client_id, app_name, target, certificate)
    except ClearoomsError as exc:
        work.tell(f"{printable(str(exc))}\n")
        return EXIT_FAILED
    work.tell(
        f"Wrote the reminder to {printable(str(written))}: open it to add it to your calendar "
        f"30 days before the {'certificate' if certificate else 'secret'} expires.\n"
    )
    return EXIT_OK
