"""``check``: Test Settings on the command line, each check printed as it completes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TextIO

from clearooms_wizard.cli.connection import runtime_for
from clearooms_wizard.cli.exits import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    fail_within_days,
)
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.parser import SharedOptions, Subcommands
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.checks import CheckResult, SettingsTest, Status
from clearooms_wizard.core.logs import support_paths
from clearooms_wizard.core.report import build_support_report
from clearooms_wizard.core.safetext import json_text, printable
from clearooms_wizard.core.values import check_tenant
from clearooms_wizard.runtime import Runtime

# One style for every status, as the support report writes them.
_MARKS = {status: status.value.upper() for status in Status}


def add_commands(commands: Subcommands, shared: SharedOptions, summary: str) -> None:
    check = commands.add_parser(
        "check",
        parents=[shared.online],
        help=summary,
        description="Run Test Settings: sign in as the app and check each thing Clearooms needs.",
    )
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument("--save", action="store_true", help="save the settings when no check failed")
    check.add_argument(
        "--fail-within",
        metavar="DAYS",
        help="also exit with 1 when the client secret (or certificate) expires within DAYS days "
        "or its end date is unknown: for a scheduled task",
    )
    check.set_defaults(func=run)


def run(invocation: Invocation) -> int:
    args = invocation.args
    options = invocation.command_options()
    if args.save and options.demo:
        raise UsageError("--save cannot be used with --demo: the demo tenant is not yours to save.")
    within = fail_within_days(args.fail_within)
    runtime = runtime_for(options, invocation.err)
    return run_checks(runtime, args.json, args.save, invocation.out, invocation.err, within)


def run_checks(
    runtime: Runtime,
    as_json: bool,
    save: bool,
    out: TextIO,
    err: TextIO,
    fail_within: int | None = None,
) -> int:
    test = runtime.use_cases.test_connection(runtime.connection, CancelToken())
    if not as_json:
        # Only a tenant that passed its check is printed: the box may hold a pasted secret.
        entered = runtime.connection.tenant.strip()
        target = check_tenant(entered).value or (
            "(the tenant entered is not valid)" if entered else "(no tenant entered)"
        )
        where = f" (demo tenant, scenario “{runtime.scenario.name}”)" if runtime.scenario else ""
        out.write(f"Testing the connection to {target}{where}\n\n")
        out.flush()
    try:
        for result in test.run():
            if not as_json:
                print_result(result, out)
    except KeyboardInterrupt:
        test.cancel.cancel()
        err.write("Stopped.\n")
        return EXIT_INTERRUPTED
    failed = [r for r in test.results if r.status is Status.FAIL]
    connection = runtime.connection
    has_credential = connection.certificate is not None or connection.client_secret.strip()
    if not as_json and not (
        connection.tenant.strip() and connection.client_id.strip() and has_credential
    ):
        out.write(
            "\nGive the missing values with --tenant, --client-id and --secret-stdin (or the "
            "CLEAROOMS_TENANT_ID, CLEAROOMS_CLIENT_ID and CLEAROOMS_CLIENT_SECRET variables), "
            "save them with --save, or try the demo tenant with --demo.\n"
        )
    saved_message = _save(runtime, test) if save and not failed else None
    if save and failed:
        saved_message = "Not saved, because a check failed."
    if as_json:
        # What the wizard's Copy report says too, for support, without secrets; the keys
        # scripts already read (ok, tenant_id, checks, demo_scenario) come first, as they were.
        report = build_support_report(
            connection,
            test.results,
            tenant_id=test.tenant_id,
            demo_scenario=runtime.scenario.name if runtime.scenario else None,
            environment=support_paths(runtime.workspace_path),
        ).to_json()
        payload: dict[str, object] = {
            "ok": not failed,
            "tenant_id": test.tenant_id,
            "checks": report["checks"],
        }
        if runtime.scenario:
            payload["demo_scenario"] = runtime.scenario.name
        payload.update({key: value for key, value in report.items() if key not in payload})
        if saved_message:
            payload["saved"] = saved_message
        out.write(json_text(payload))
    else:
        warned = sum(r.status is Status.WARN for r in test.results)
        if failed:
            out.write(f"\n{len(failed)} check{'s' if len(failed) > 1 else ''} failed. ")
            out.write("Follow “What to do” above, then run the check again.\n")
        elif warned:
            out.write(f"\nAll checks passed, with {warned} warning{'s' if warned > 1 else ''}.\n")
        else:
            out.write("\nAll checks passed. The connection is ready.\n")
        if saved_message:
            out.write(saved_message + "\n")
    if failed:
        return EXIT_FAILED
    if fail_within is not None:
        soon = _expires_within(test, fail_within)
        if soon is not None:
            err.write(soon + "\n")
            return EXIT_FAILED
    return EXIT_OK


def _expires_within(test: SettingsTest, days: int) -> str | None:
    """Why a scheduled task should hear about the credential's end date, or None."""
    expiry = next((r for r in test.results if r.id == "secret_expiry"), None)
    expires = expiry.details.get("expires") if expiry is not None else None
    try:
        end = datetime.fromisoformat(str(expires)) if expires else None
    except ValueError:
        end = None
    if end is None or end.tzinfo is None:
        return "The client credential's end date is not known (see the expiry check above)."
    left = end - datetime.now(UTC)
    if left > timedelta(days=days):
        return None
    when = f"{end:%d %B %Y}".lstrip("0")
    if left <= timedelta(0):
        return f"The client credential expired on {when}. Renew it: clearooms-wizard secret renew"
    return (
        f"The client credential expires on {when}, within {days} days. Renew it: "
        "clearooms-wizard secret renew"
    )


def print_result(result: CheckResult, out: TextIO) -> None:
    out.write(f"  [{_MARKS[result.status]}] {printable(result.title)}\n")
    out.write(f"         {printable(result.detail)}\n")
    if result.fix:
        out.write(f"         What to do: {printable(result.fix)}\n")
    ids = [f"code {printable(result.code)}"] if result.code else []
    for key in ("correlation_id", "request_id", "timestamp"):
        if key in result.details:
            ids.append(f"{key.replace('_', ' ')} {printable(result.details[key])}")
    if ids and result.status in (Status.FAIL, Status.WARN):
        out.write(f"         ({'; '.join(ids)})\n")
    out.flush()


def _save(runtime: Runtime, test: SettingsTest) -> str:
    path = runtime.workspace_path
    problem = runtime.use_cases.save_connection(test)
    if problem is None:
        kept = "client secret" if test.connection.certificate is None else "certificate's key"
        return f"Saved. The {kept} is in this computer's keyring; the rest is in {path}."
    return f"Saved the tenant and client ID in {path}. {problem}"
