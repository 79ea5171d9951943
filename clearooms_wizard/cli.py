"""The command line, for support staff and scripts.

Exit codes: 0 when nothing failed, 1 when a check or a call to Microsoft failed, 2 for a usage
error (bad arguments or values), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn, TextIO

from clearooms_wizard import __version__
from clearooms_wizard.app import ConnectionOptions, Runtime, build_runtime
from clearooms_wizard.core.checks import CheckResult, SettingsTest, Status
from clearooms_wizard.core.clouds import CLOUDS, UrlProblem
from clearooms_wizard.core.errors import Cancelled, CancelToken, ClearoomsError
from clearooms_wizard.core.fixes import explain_error
from clearooms_wizard.core.graph import GraphClient, Room
from clearooms_wizard.core.http import CaBundleProblem
from clearooms_wizard.core.secrets import KeyringSecretStore
from clearooms_wizard.core.tokens import TokenProvider
from clearooms_wizard.core.values import Credentials, check_client_id, check_secret, check_tenant
from clearooms_wizard.core.workspace import SavedConnection, Workspace, WorkspaceError
from clearooms_wizard.demo.scenarios import SCENARIOS

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that never echoes an unknown argument: it might be a pasted secret."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            message = (
                "unrecognized arguments (not shown, in case one is a secret). The client "
                "secret is never given as an argument: use --secret-stdin or "
                "CLEAROOMS_CLIENT_SECRET."
            )
        elif "invalid choice" in message:
            message = message.split(":", 2)[0] + ": invalid choice (see --help)"
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _connection_arguments() -> _Parser:
    # Defaults are SUPPRESS so an option may stand before or after the command.
    parent = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parent.add_argument_group("connection (each also read from its environment variable)")
    group.add_argument("--tenant", help="tenant ID or domain (CLEAROOMS_TENANT_ID)")
    group.add_argument("--client-id", help="application (client) ID (CLEAROOMS_CLIENT_ID)")
    group.add_argument(
        "--secret-stdin",
        action="store_true",
        help="read the client secret from standard input (else CLEAROOMS_CLIENT_SECRET, "
        "else the saved secret)",
    )
    group.add_argument("--cloud", choices=sorted(CLOUDS), help="Microsoft cloud (CLEAROOMS_CLOUD)")
    group.add_argument("--authority-host", help="sign-in host URL (CLEAROOMS_AUTHORITY_HOST)")
    group.add_argument("--graph-url", help="Graph root URL (CLEAROOMS_GRAPH_URL)")
    group.add_argument(
        "--ca-bundle", help="extra CA certificates to trust, PEM file (CLEAROOMS_CA_BUNDLE)"
    )
    group.add_argument("--workspace", help="workspace file (CLEAROOMS_WORKSPACE)")
    group.add_argument("--demo", action="store_true", help="use the built-in demo tenant")
    group.add_argument(
        "--demo-scenario",
        metavar="NAME",
        help="demo tenant scenario (default healthy; 'list' names them)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    common = _connection_arguments()
    parser = _Parser(
        prog="clearooms-wizard",
        description="Connect your Microsoft 365 room calendars to Clearooms. Without a command, "
        "opens the setup wizard.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser(
        "check", parents=[common], help="run Test Settings", description="Run Test Settings."
    )
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument("--save", action="store_true", help="save the settings when no check failed")

    rooms = commands.add_parser("rooms", help="rooms in Microsoft 365")
    rooms_commands = rooms.add_subparsers(
        dest="rooms_command", metavar="COMMAND", parser_class=_Parser
    )
    listing = rooms_commands.add_parser(
        "list", parents=[common], help="list the rooms Microsoft 365 knows"
    )
    formats = listing.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print JSON")
    formats.add_argument("--csv", action="store_true", help="print CSV")
    return parser


def _options(args: argparse.Namespace, stdin: TextIO) -> ConnectionOptions:
    secret = None
    if getattr(args, "secret_stdin", False):
        secret = stdin.readline().strip()
        if not secret:
            raise UsageError("--secret-stdin was given, but standard input was empty.")
    return ConnectionOptions(
        tenant=getattr(args, "tenant", None),
        client_id=getattr(args, "client_id", None),
        client_secret=secret,
        cloud=getattr(args, "cloud", None),
        authority_host=getattr(args, "authority_host", None),
        graph_url=getattr(args, "graph_url", None),
        ca_bundle=getattr(args, "ca_bundle", None),
        workspace=getattr(args, "workspace", None),
        demo=getattr(args, "demo", False) or getattr(args, "demo_scenario", None) is not None,
        demo_scenario=getattr(args, "demo_scenario", None) or "healthy",
    )


def printable(text: str | None) -> str:
    """Text from Microsoft made safe for a terminal: no control or direction-changing marks."""
    if not text:
        return ""
    return "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in text
    )


# -- check ---------------------------------------------------------------------------------------

_MARKS = {Status.PASS: "PASS", Status.WARN: "WARN", Status.FAIL: "FAIL", Status.SKIP: "skip"}


def _print_result(result: CheckResult, out: TextIO) -> None:
    out.write(f"  [{_MARKS[result.status]}] {result.title}\n")
    out.write(f"         {printable(result.detail)}\n")
    if result.fix:
        out.write(f"         What to do: {printable(result.fix)}\n")
    ids = [f"code {result.code}"] if result.code else []
    for key in ("correlation_id", "request_id", "timestamp"):
        if key in result.details:
            ids.append(f"{key.replace('_', ' ')} {printable(result.details[key])}")
    if ids and result.status in (Status.FAIL, Status.WARN):
        out.write(f"         ({'; '.join(ids)})\n")
    out.flush()


def run_check(runtime: Runtime, as_json: bool, save: bool, out: TextIO, err: TextIO) -> int:
    test = SettingsTest(runtime.connection, runtime.open_session, CancelToken())
    if not as_json:
        target = printable(runtime.connection.tenant) or "(no tenant entered)"
        where = f" (demo tenant, scenario “{runtime.scenario.name}”)" if runtime.scenario else ""
        out.write(f"Testing the connection to {target}{where}\n\n")
        out.flush()
    try:
        for result in test.run():
            if not as_json:
                _print_result(result, out)
    except KeyboardInterrupt:
        test.cancel.cancel()
        err.write("Stopped.\n")
        return EXIT_INTERRUPTED
    failed = [r for r in test.results if r.status is Status.FAIL]
    saved_message = _save(runtime, test) if save and not failed else None
    if save and failed:
        saved_message = "Not saved, because a check failed."
    if as_json:
        payload = {
            "ok": not failed,
            "tenant_id": test.tenant_id,
            "checks": [r.to_json() for r in test.results],
        }
        if runtime.scenario:
            payload["demo_scenario"] = runtime.scenario.name
        if saved_message:
            payload["saved"] = saved_message
        out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
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
    return EXIT_FAILED if failed else EXIT_OK


def _save(runtime: Runtime, test: SettingsTest) -> str:
    credentials = test.credentials
    assert credentials is not None and test.tenant_id is not None  # no check failed
    cloud = runtime.connection.cloud
    connection = SavedConnection(
        tenant=credentials.tenant,
        client_id=credentials.client_id,
        cloud=cloud.key,
        tenant_id=test.tenant_id,
        authority_host=cloud.authority_host,
        graph_url=cloud.graph_root,
        last_tested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        last_test_ok=True,
        secret_expires_at=test.secret_expires_at.isoformat() if test.secret_expires_at else None,
    )
    path = runtime.workspace_path
    with Workspace(path) as workspace:
        workspace.save_connection(connection)
    outcome = KeyringSecretStore().save(
        test.tenant_id, credentials.client_id, credentials.client_secret
    )
    if outcome.kept_in_keyring:
        return f"Saved. The client secret is in this computer's keyring; the rest is in {path}."
    return f"Saved the tenant and client ID in {path}. {outcome.message}"


# -- rooms list ----------------------------------------------------------------------------------


def _credentials(runtime: Runtime) -> Credentials:
    problems: list[str] = []
    tenant = check_tenant(runtime.connection.tenant)
    client_id = check_client_id(runtime.connection.client_id)
    secret = check_secret(runtime.connection.client_secret)
    for label, checked in (
        ("Tenant ID", tenant),
        ("Client ID", client_id),
        ("Client secret", secret),
    ):
        if checked.problem:
            problems.append(f"{label}: {checked.problem}")
    if problems or tenant.value is None or client_id.value is None or secret.value is None:
        raise UsageError("\n".join(problems))
    return Credentials(tenant.value, client_id.value, secret.value)


def run_rooms_list(runtime: Runtime, fmt: str, out: TextIO, err: TextIO) -> int:
    credentials = _credentials(runtime)
    cancel = CancelToken()
    session = runtime.open_session(cancel)
    show_progress = err.isatty()

    def progress(count: int) -> None:
        if show_progress:
            err.write(f"\rLoading rooms… {count}")
            err.flush()

    try:
        tokens = TokenProvider(credentials, runtime.connection.cloud, session)
        graph = GraphClient(session, tokens, runtime.connection.cloud.graph_root, cancel)
        directory = graph.load_rooms(progress)
    except KeyboardInterrupt:
        cancel.cancel()
        err.write("\nStopped.\n")
        return EXIT_INTERRUPTED
    except ClearoomsError as exc:
        explanation, code = explain_error(exc)
        err.write(f"{explanation.summary}\nWhat to do: {explanation.fix}\n")
        if code:
            err.write(f"(code {code})\n")
        return EXIT_FAILED
    finally:
        session.close()
        if show_progress:
            err.write("\r\033[K")
    rooms = sorted(directory.rooms, key=lambda r: (r.name.casefold(), r.key))
    if fmt == "json":
        out.write(json.dumps([r.to_json() for r in rooms], indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        out.write(rooms_csv(rooms))
    else:
        _print_rooms(rooms, directory.skipped, out)
    return EXIT_OK


_CSV_FIELDS = ("email", "name", "capacity", "building", "floor_number", "floor_label", "room_lists")


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ runs as a formula when the file is opened in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rooms_csv(rooms: Sequence[Room]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_FIELDS)
    for room in rooms:
        data = room.to_json()
        data["room_lists"] = ";".join(room.room_lists)
        writer.writerow([_csv_cell(data[name]) for name in _CSV_FIELDS])
    return buffer.getvalue()


def _print_rooms(rooms: Sequence[Room], skipped: int, out: TextIO) -> None:
    if not rooms:
        out.write(
            "No rooms were found. Rooms hidden from the address list are left out by Microsoft, "
            "new rooms can take up to 48 hours to appear, and only Exchange Online rooms are "
            "listed.\n"
        )
        return
    headers = ("Name", "Email", "Seats", "Building", "Floor")
    rows = [
        (
            printable(r.name),
            printable(r.email),
            "" if r.capacity is None else str(r.capacity),
            printable(r.building),
            printable(r.floor_label or (str(r.floor_number) if r.floor_number is not None else "")),
        )
        for r in rooms
    ]
    widths = [min(40, max(len(h), *(len(row[i]) for row in rows))) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        out.write(
            "  ".join(cell[:40].ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n"
        )
    out.write(f"\n{len(rooms)} room{'s' if len(rooms) != 1 else ''}")
    if skipped:
        out.write(
            f" ({skipped} entr{'ies' if skipped != 1 else 'y'} without an email address left out)"
        )
    out.write(".\n")


# -- entry point ---------------------------------------------------------------------------------


def _list_scenarios(out: TextIO) -> int:
    width = max(len(name) for name in SCENARIOS)
    for scenario in SCENARIOS.values():
        out.write(f"{scenario.name.ljust(width)}  {scenario.title}: {scenario.description}\n")
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    stdin, out, err = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "demo_scenario", None) == "list":
            return _list_scenarios(out)
        if args.command is None:
            # Imported here so the command line never loads Qt.
            from clearooms_wizard.app import run_wizard

            return run_wizard(_options(args, stdin))
        if args.command == "rooms" and args.rooms_command is None:
            raise UsageError("Say what to do with rooms, for example: clearooms-wizard rooms list")
        options = _options(args, stdin)
        if options.demo and options.demo_scenario not in SCENARIOS:
            raise UsageError(
                f"There is no demo scenario called “{printable(options.demo_scenario)}”. "
                "See them all with --demo-scenario list."
            )
        if args.command == "check" and args.save and options.demo:
            raise UsageError(
                "--save cannot be used with --demo: the demo tenant is not yours to save."
            )
        runtime = build_runtime(options)
        if args.command == "check":
            return run_check(runtime, args.json, args.save, out, err)
        fmt = "json" if args.json else "csv" if args.csv else "table"
        return run_rooms_list(runtime, fmt, out, err)
    except (UsageError, UrlProblem, CaBundleProblem) as exc:
        err.write(f"clearooms-wizard: {exc}\n")
        return EXIT_USAGE
    except WorkspaceError as exc:
        err.write(f"clearooms-wizard: {exc}\n")
        return EXIT_FAILED
    except Cancelled:
        err.write("Stopped.\n")
        return EXIT_INTERRUPTED
