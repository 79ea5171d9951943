"""The command line, for support staff and scripts.

Exit codes: 0 when nothing failed, 1 when a check or a call to Microsoft failed, 2 for a usage
error (bad arguments or values), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

from clearooms_wizard import __version__
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.clouds import CLOUDS, UrlProblem
from clearooms_wizard.core.errors import CaBundleProblem, ClearoomsError
from clearooms_wizard.core.logs import LEVELS, configure_logging, known_secrets
from clearooms_wizard.core.redaction import looks_like_secret, redact
from clearooms_wizard.core.safetext import json_text, printable

if TYPE_CHECKING:
    # Loaded where each command needs them: opening the wizard needs none of them.
    from clearooms_wizard.core.checks import CheckResult, SettingsTest
    from clearooms_wizard.core.importer import ImportPlan, ImportProgress, ImportResult, RoomOutcome
    from clearooms_wizard.core.model import Office, Room, RoomDirectory
    from clearooms_wizard.core.values import Credentials
    from clearooms_wizard.core.workspace import Workspace
    from clearooms_wizard.runtime import ConnectionOptions, Runtime

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# core.export.FORMATS, spelt out: importing core.export loads the workspace code, which opening
# the wizard does not need (a test checks the two agree).
EXPORT_FORMATS = ("json", "csv")
log = logging.getLogger(__name__)


class UsageError(Exception):
    pass


# The words on this command line, so that an error message can leave out every one of them
# that is not an option or a command: any of them might be a pasted secret.
_COMMAND_LINE: ContextVar[tuple[str, ...]] = ContextVar("command_line", default=())


def _without_values(message: str, known: set[str]) -> str:
    words: set[str] = set()
    for token in _COMMAND_LINE.get():
        # An option's own name is safe to show; what follows its "=" is not.
        value = token.partition("=")[2] if token.startswith("-") else token
        if value and value not in known:
            words.add(value)
    for word in sorted(words, key=len, reverse=True):
        message = message.replace(word, "…")
    return message


# What the progress lines write to erase themselves: the one control sequence we print.
_ERASE_LINE = "\r\033[K"


_VALUE_PARTS = re.compile(r"[/\\?#&;,\s]+|://")


def _secret_like_values(words: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The values given to this run (options, arguments, CLEAROOMS_* variables) that may be a
    client secret pasted in the wrong place."""
    values = [word.partition("=")[2] if word.startswith("-") else word for word in words]
    values += [value for name, value in env.items() if name.startswith("CLEAROOMS_")]
    # A secret may also be one part of an address or a path ("https://host/<secret>").
    pieces = [piece for value in values for piece in _VALUE_PARTS.split(value)]
    return [value.strip() for value in (*values, *pieces) if looks_like_secret(value)]


def _shown(text: str, secret_like: Sequence[str]) -> str:
    """What may reach the terminal of ``text``: no secret (one given to this run, one this
    process has seen, or anything shaped like one), and no character a terminal would obey
    apart from line breaks and what a progress line writes: a carriage return at its start, and
    the sequence that erases it."""
    secrets = [*secret_like, *(s for s in known_secrets() if len(s) >= 8)]
    text = redact(text, secrets)
    if text.startswith(_ERASE_LINE) or not text.startswith("\r"):
        start = ""
    else:
        start, text = "\r", text[1:]
    return start + _ERASE_LINE.join(printable(part, keep="\n") for part in text.split(_ERASE_LINE))


class _GuardedOutput(io.TextIOBase):
    """Standard output or error as every command writes to it, through _shown: whatever a
    message, a table or an export forgot to clean, the terminal never receives it."""

    def __init__(self, stream: TextIO, secret_like: Sequence[str]) -> None:
        super().__init__()
        self._stream = stream
        self._secret_like = tuple(secret_like)

    def write(self, text: str) -> int:
        self._stream.write(_shown(text, self._secret_like))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()


class _Parser(argparse.ArgumentParser):
    """argparse that never echoes a value from the command line: it might be a pasted secret."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviations: "--secret=…" must not be taken as --secret-stdin and echoed back.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def _known_words(self) -> set[str]:
        known = set(self._option_string_actions)
        for action in self._actions:
            if action.choices is not None:
                known.update(str(choice) for choice in action.choices)
        return known

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            message = (
                "unrecognized arguments (not shown, in case one is a secret). The client "
                "secret is never given as an argument: use --secret-stdin or "
                "CLEAROOMS_CLIENT_SECRET."
            )
        elif "invalid choice" in message:
            message = message.split(":", 2)[0] + ": invalid choice (see --help)"
        message = _without_values(message, self._known_words())
        self.print_usage(sys.stderr)
        secret_like = _secret_like_values(_COMMAND_LINE.get(), os.environ)
        self.exit(EXIT_USAGE, _shown(f"{self.prog}: error: {message}\n", secret_like))


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
    parent.add_argument(
        "--log-level",
        choices=LEVELS,
        help="how much to write to the log file (default info; CLEAROOMS_LOG_LEVEL)",
    )
    return parent


def build_parser(words: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the words to parse, only the commands named among them
    get their options: the wizard (no command) starts without building every command's."""
    common = _connection_arguments()
    parser = _Parser(
        prog="clearooms-wizard",
        description="Connect your Microsoft 365 room calendars to Clearooms. Without a command, "
        "opens the setup wizard.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (summary, add_options) in _COMMANDS.items():
        if words is None or name in words:
            add_options(commands, common)
        else:
            commands.add_parser(name, help=summary)
    return parser


def _add_check(commands: Any, common: _Parser) -> None:
    check = commands.add_parser(
        "check", parents=[common], help=_COMMANDS["check"][0], description="Run Test Settings."
    )
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument("--save", action="store_true", help="save the settings when no check failed")


def _add_rooms(commands: Any, common: _Parser) -> None:
    rooms = commands.add_parser("rooms", help=_COMMANDS["rooms"][0])
    rooms_commands = rooms.add_subparsers(
        dest="rooms_command", metavar="COMMAND", parser_class=_Parser
    )
    listing = rooms_commands.add_parser(
        "list", parents=[common], help="list the rooms Microsoft 365 knows"
    )
    formats = listing.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print JSON")
    formats.add_argument("--csv", action="store_true", help="print CSV")
    importing = rooms_commands.add_parser(
        "import",
        parents=[common],
        help="import rooms into a Clearooms office in the workspace",
        description="Import rooms from Microsoft 365 into an office: shows the plan, checks "
        "each room's calendar, then writes everything in one go. Running it again changes "
        "nothing. Exit 0 when no chosen room failed, 1 when one did, 2 for a usage error.",
    )
    importing.add_argument("--office", required=True, metavar="NAME", help="the office")
    chosen = importing.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--all", action="store_true", help="every room Microsoft 365 lists")
    chosen.add_argument(
        "--room",
        action="extend",
        nargs="+",
        metavar="EMAIL",
        help="the rooms with these email addresses",
    )
    chosen.add_argument("--room-list", metavar="EMAIL", help="the rooms of this room list")
    importing.add_argument(
        "--dry-run", action="store_true", help="show the plan only; check and write nothing"
    )
    importing.add_argument(
        "--include-blocked",
        action="store_true",
        help="also import rooms whose calendars cannot be read yet",
    )
    importing.add_argument("--json", action="store_true", help="print the plan and result as JSON")


def _add_offices(commands: Any, common: _Parser) -> None:
    offices = commands.add_parser("offices", help=_COMMANDS["offices"][0])
    offices_commands = offices.add_subparsers(
        dest="offices_command", metavar="COMMAND", parser_class=_Parser
    )
    office_list = offices_commands.add_parser("list", parents=[common], help="list the offices")
    office_list.add_argument("--json", action="store_true", help="print JSON")
    office_add = offices_commands.add_parser("add", parents=[common], help="add an office")
    office_add.add_argument("name", metavar="NAME", help='the office\'s name, e.g. "London HQ"')
    office_add.add_argument(
        "--timezone", metavar="TZ", help="its time zone, e.g. Europe/London (optional)"
    )
    office_suggest = offices_commands.add_parser(
        "suggest",
        parents=[common],
        help="suggest offices from Microsoft 365's room lists and buildings",
    )
    office_suggest.add_argument("--json", action="store_true", help="print JSON")


def _add_export(commands: Any, common: _Parser) -> None:
    export = commands.add_parser(
        "export",
        parents=[common],
        help=_COMMANDS["export"][0],
        description="Write the offices and their rooms, with each room's details and calendar "
        "access, as JSON (default) or CSV; to standard output unless --output is given.",
    )
    export.add_argument(
        "--format", choices=EXPORT_FORMATS, default="json", help="json (default) or csv"
    )
    export.add_argument("--output", metavar="PATH", help="write to this file instead")


_COMMANDS: dict[str, tuple[str, Callable[[Any, _Parser], None]]] = {
    "check": ("run Test Settings", _add_check),
    "rooms": ("rooms in Microsoft 365", _add_rooms),
    "offices": ("Clearooms offices in the workspace", _add_offices),
    "export": ("write the offices and their rooms for Clearooms", _add_export),
}


def _options(args: argparse.Namespace, stdin: TextIO) -> ConnectionOptions:
    from clearooms_wizard.runtime import ConnectionOptions

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


# -- check ---------------------------------------------------------------------------------------

# Keyed by the statuses' values (Status is a StrEnum), so this module need not import it.
_MARKS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def _print_result(result: CheckResult, out: TextIO) -> None:
    from clearooms_wizard.core.checks import Status

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


def run_check(runtime: Runtime, as_json: bool, save: bool, out: TextIO, err: TextIO) -> int:
    from clearooms_wizard.core.checks import Status
    from clearooms_wizard.core.values import check_tenant

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
                _print_result(result, out)
    except KeyboardInterrupt:
        test.cancel.cancel()
        err.write("Stopped.\n")
        return EXIT_INTERRUPTED
    failed = [r for r in test.results if r.status is Status.FAIL]
    connection = runtime.connection
    if not as_json and not all(
        v.strip() for v in (connection.tenant, connection.client_id, connection.client_secret)
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
        payload = {
            "ok": not failed,
            "tenant_id": test.tenant_id,
            "checks": [r.to_json() for r in test.results],
        }
        if runtime.scenario:
            payload["demo_scenario"] = runtime.scenario.name
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
    return EXIT_FAILED if failed else EXIT_OK


def _save(runtime: Runtime, test: SettingsTest) -> str:
    path = runtime.workspace_path
    problem = runtime.use_cases.save_connection(test)
    if problem is None:
        return f"Saved. The client secret is in this computer's keyring; the rest is in {path}."
    return f"Saved the tenant and client ID in {path}. {problem}"


# -- rooms list ----------------------------------------------------------------------------------


# When the keyring refused, "enter the client secret" would send people looking for a secret
# they already saved.
_SECRET_NOT_READ = (
    "Client secret: the saved one could not be read, because the keyring refused (see the note "
    "above). Unlock the keyring and run the same command again, or give the secret with "
    "--secret-stdin or the CLEAROOMS_CLIENT_SECRET variable."
)


def _credentials(runtime: Runtime) -> Credentials:
    from clearooms_wizard.core.values import SECRET_LABEL, check_values

    checked = check_values(runtime.connection)
    if checked.credentials is not None:
        return checked.credentials
    keyring_refused = not runtime.connection.client_secret and runtime.notice
    raise UsageError(
        "\n".join(
            _SECRET_NOT_READ if keyring_refused and label == SECRET_LABEL else f"{label}: {problem}"
            for label, problem in checked.problems()
        )
    )


def run_rooms_list(runtime: Runtime, fmt: str, out: TextIO, err: TextIO) -> int:
    directory = _room_directory(runtime, err)
    rooms = sorted(directory.rooms, key=lambda r: (r.name.casefold(), r.key))
    if fmt == "json":
        out.write(json_text([r.to_json() for r in rooms]))
    elif fmt == "csv":
        out.write(rooms_csv(rooms))
    else:
        _print_rooms(rooms, directory.skipped, out)
    return EXIT_OK


_CSV_FIELDS = ("email", "name", "capacity", "building", "floor_number", "floor_label", "room_lists")


def rooms_csv(rooms: Sequence[Room]) -> str:
    import csv

    from clearooms_wizard.core.export import csv_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_FIELDS)
    for room in rooms:
        data = room.to_json()
        data["room_lists"] = ";".join(room.room_lists)
        writer.writerow([csv_cell(data[name], for_terminal=True) for name in _CSV_FIELDS])
    return buffer.getvalue()


def _print_rooms(rooms: Sequence[Room], skipped: int, out: TextIO) -> None:
    from clearooms_wizard.core.fixes import rooms_left_out

    left_out = rooms_left_out(skipped)
    note = f"{left_out.summary} {left_out.fix}\n" if skipped else ""
    if not rooms:
        out.write(
            "No rooms were found. Rooms hidden from the address list are left out by Microsoft, "
            "new rooms can take up to 48 hours to appear, and only Exchange Online rooms are "
            "listed.\n" + note
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
    out.write(f"\n{len(rooms)} room{'s' if len(rooms) != 1 else ''}.\n{note}")


# -- the workspace: offices, rooms import, export -----------------------------------------------


@contextmanager
def _workspace(
    options: ConnectionOptions, err: TextIO, *, read_only: bool = False
) -> Iterator[Workspace]:
    from clearooms_wizard.core.workspace import open_workspace
    from clearooms_wizard.runtime import chosen_workspace

    workspace = open_workspace(chosen_workspace(options, os.environ), read_only=read_only)
    if workspace.notice:
        err.write(f"Note: {printable(workspace.notice)}\n\n")
        err.flush()
    try:
        yield workspace
    finally:
        workspace.close()


def _explain(exc: ClearoomsError, err: TextIO, loading_rooms: bool = False) -> None:
    from clearooms_wizard.core.errors import UnexpectedResponse
    from clearooms_wizard.core.fixes import explain_error, explain_rooms_error

    explanation, code = explain_rooms_error(exc) if loading_rooms else explain_error(exc)
    summary = explanation.summary
    if isinstance(exc, UnexpectedResponse):
        # What came instead of Microsoft's answer, as Test Settings says it too.
        summary += f" {exc}"
    err.write(f"{printable(summary)}\nWhat to do: {printable(explanation.fix)}\n")
    if code:
        err.write(f"(code {printable(code)})\n")


def _runtime(options: ConnectionOptions, err: TextIO) -> Runtime:
    """The connection to use, after saying anything the user should read first (for example,
    that the keyring is locked, so the saved client secret could not be read)."""
    from clearooms_wizard.runtime import build_runtime

    runtime = build_runtime(options)
    if runtime.notice:
        err.write(f"Note: {printable(runtime.notice)}\n")
        err.flush()
    return runtime


def _office_or_usage(workspace: Workspace, name: str) -> Office:
    from clearooms_wizard.core.store import UnknownOffice

    office = workspace.find_office(name)
    if office is None:
        raise UnknownOffice(name, [o.name for o in workspace.list_offices()])
    return office


def _same_place_flags(options: ConnectionOptions) -> str:
    """The options a suggested next command needs to reach the same demo tenant and workspace
    (a real tenant's values come from the saved settings or the environment, as they did)."""
    flags = ""
    if options.demo:
        healthy = options.demo_scenario == "healthy"
        flags += " --demo" if healthy else f" --demo-scenario {options.demo_scenario}"
    if options.workspace:
        flags += f" --workspace {_quoted(options.workspace)}"
    return flags


_PLAIN_WORD = re.compile(r"[\w@+=:,./-]+")


def _quoted(word: str) -> str:
    """``word`` as this computer's shell takes it, so that a suggested command runs as shown:
    bare when plain, else in double quotes where they are enough."""
    if _PLAIN_WORD.fullmatch(word):
        return word
    if sys.platform == "win32":
        import subprocess

        return subprocess.list2cmdline([word])
    if not any(ch in word for ch in '"$`\\!'):
        return f'"{word}"'
    import shlex

    return shlex.quote(word)


def run_offices_list(options: ConnectionOptions, as_json: bool, out: TextIO, err: TextIO) -> int:
    with _workspace(options, err, read_only=True) as workspace:
        offices = workspace.list_offices()
    if as_json:
        out.write(json_text([o.to_json() for o in offices]))
        return EXIT_OK
    if not offices:
        out.write(
            "There are no offices yet. Add one with: clearooms-wizard offices add "
            f'"London HQ"{_same_place_flags(options)}\n'
            "or see suggestions from your room lists and buildings with: clearooms-wizard "
            f"offices suggest{_same_place_flags(options)}\n"
        )
        return EXIT_OK
    width = min(40, max(len(o.name) for o in offices))
    zone_width = max([len(o.timezone or "") for o in offices] + [9])
    for office in offices:
        rooms = f"{office.room_count} room{'s' if office.room_count != 1 else ''}"
        zone = office.timezone or "-"
        out.write(f"{printable(office.name).ljust(width)}  {zone.ljust(zone_width)}  {rooms}\n")
    return EXIT_OK


def run_offices_add(
    options: ConnectionOptions, name: str, timezone: str | None, out: TextIO, err: TextIO
) -> int:
    with _workspace(options, err) as workspace:
        office = workspace.add_office(name, timezone)
        where = workspace.path
    zone = f" (time zone {office.timezone})" if office.timezone else ""
    out.write(f"Added the office “{printable(office.name)}”{zone} to {where}.\n")
    out.write(
        "Next, import its rooms with: clearooms-wizard rooms import --office "
        f"{_quoted(office.name)} --all{_same_place_flags(options)}\n"
    )
    return EXIT_OK


@contextmanager
def _progress_line(err: TextIO, show: bool) -> Iterator[None]:
    """Progress written over one line of standard error (a terminal's), erased at the end."""
    try:
        yield
    finally:
        if show:
            err.write(_ERASE_LINE)
            err.flush()


def _rooms_progress(err: TextIO, show: bool) -> Callable[[int], None]:
    def progress(count: int) -> None:
        if show:
            err.write(f"\rLoading rooms… {count}")
            err.flush()

    return progress


class _Explained(Exception):
    """A failure already explained on standard error: the command ends with EXIT_FAILED."""


def _room_directory(runtime: Runtime, err: TextIO) -> RoomDirectory:
    """Every room and room list Microsoft 365 has. A failure is explained (with its fix) and
    ends the command; Ctrl+C stops the requests in flight."""
    from clearooms_wizard.core.store import InvalidInput
    from clearooms_wizard.core.workspace import WorkspaceError

    credentials = _credentials(runtime)
    cancel = CancelToken()
    show_progress = err.isatty()
    try:
        with _progress_line(err, show_progress):
            return runtime.use_cases.load_rooms(
                credentials, runtime.connection.cloud, cancel, _rooms_progress(err, show_progress)
            )
    except KeyboardInterrupt:
        cancel.cancel()
        raise Cancelled from None
    except ClearoomsError as exc:
        if isinstance(exc, InvalidInput | WorkspaceError):
            raise
        _explain(exc, err, loading_rooms=True)
        raise _Explained from None


def run_offices_suggest(options: ConnectionOptions, as_json: bool, out: TextIO, err: TextIO) -> int:
    with _workspace(options, err, read_only=True) as workspace:
        existing = workspace.list_offices()
    runtime = _runtime(options, err)
    directory = _room_directory(runtime, err)
    suggestions = runtime.use_cases.suggest_offices(directory, existing)
    if as_json:
        payload = [s.to_json() for s in suggestions]
        out.write(json_text(payload))
        return EXIT_OK
    if not suggestions:
        reason = (
            "Microsoft 365 listed no rooms."
            if not directory.rooms
            else "Every room list and building already has an office, or none are set."
        )
        out.write(f"No suggestions. {reason}\n")
        return EXIT_OK
    out.write("Offices suggested by your room lists and buildings in Microsoft 365:\n")
    width = min(40, max(len(s.name) for s in suggestions))
    for suggestion in suggestions:
        rooms = f"{suggestion.room_count} room{'s' if suggestion.room_count != 1 else ''}"
        out.write(
            f"  {printable(suggestion.name).ljust(width)}  {suggestion.source.ljust(9)}  {rooms}\n"
        )
    first = suggestions[0].name
    out.write(
        f"\nAdd one with: clearooms-wizard offices add {_quoted(printable(first))}"
        f"{_same_place_flags(options)}\n"
    )
    return EXIT_OK


# Keyed by the RoomStatus values (a StrEnum).
_PLAN_WORDS = {"new": "new", "updated": "update", "moving": "move", "unchanged": "unchanged"}


def _room_line(name: str, email: str, width: int) -> str:
    return f"{printable(name)[:40].ljust(width)}  {printable(email)}"


def _print_plan(plan: ImportPlan, directory: RoomDirectory, out: TextIO) -> None:
    from clearooms_wizard.core.fixes import NO_ROOMS, rooms_left_out
    from clearooms_wizard.core.model import RoomStatus

    counts = plan.counts()
    total = len(directory.rooms)
    if not total:
        out.write(f"{NO_ROOMS.summary}\nWhat to do: {NO_ROOMS.fix}\n\n")
    out.write(
        f"Microsoft 365 lists {total} room{'s' if total != 1 else ''}; "
        f"{len(plan.rooms)} chosen for “{printable(plan.office.name)}”.\n\n"
    )
    if directory.skipped:
        left_out = rooms_left_out(directory.skipped)
        out.write(f"{left_out.summary}\nWhat to do: {left_out.fix}\n\n")
    parts = [
        f"{counts[status.value]} {words}"
        for status, words in (
            (RoomStatus.NEW, "new"),
            (RoomStatus.UPDATED, "to update"),
            (RoomStatus.MOVING, "to move here from another office"),
            (RoomStatus.UNCHANGED, "unchanged"),
        )
        if counts[status.value]
    ]
    out.write(f"Plan: {', '.join(parts) or 'nothing to import'}.\n")
    shown = [p for p in plan.rooms if p.status is not RoomStatus.UNCHANGED]
    width = min(40, max([len(p.room.name) for p in shown] + [4]))
    for planned in shown:
        line = _room_line(planned.room.name, planned.room.email, width)
        out.write(f"  {_PLAN_WORDS[planned.status].ljust(9)} {line}\n")
        if planned.moving_from is not None:
            out.write(f"{'':12}from the office “{printable(planned.moving_from)}”\n")
        details = [c.describe() for c in planned.changes if c.field != "office"]
        if details:
            out.write(f"{'':12}{printable('; '.join(details))}\n")
    if plan.missing:
        out.write(
            f"\n{len(plan.missing)} imported room{'s are' if len(plan.missing) != 1 else ' is'} "
            "no longer listed by Microsoft 365. "
            "They are kept, not deleted; check whether they were removed or renamed:\n"
        )
        width = min(40, max(len(m.name) for m in plan.missing))
        for room in plan.missing:
            line = _room_line(room.name, room.email, width)
            out.write(f"  {line}  (office “{printable(room.office_name)}”)\n")
    out.flush()


def _print_grouped(outcomes: Sequence[RoomOutcome], out: TextIO) -> None:
    groups: defaultdict[tuple[str, str], list[RoomOutcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[(outcome.reason or "", outcome.fix or "")].append(outcome)
    for (reason, fix), rooms in groups.items():
        out.write(f"  {printable(reason)}\n")
        for room in rooms:
            out.write(f"    - {printable(room.name)} ({printable(room.email)})\n")
        if fix:
            out.write(f"    What to do: {printable(fix)}\n")


def _print_import_result(result: ImportResult, options: ConnectionOptions, out: TextIO) -> None:
    counts = result.counts()
    out.write(
        f"\nDone: {counts['new']} new, {counts['updated']} updated, {counts['unchanged']} "
        f"unchanged, {counts['blocked']} blocked, {counts['failed']} failed.\n"
    )
    width = min(40, max([len(r.name) for r in result.rooms] + [4]))
    for outcome in result.updated:
        line = _room_line(outcome.name, outcome.email, width)
        out.write(f"  updated  {line}\n")
        described = [c.describe() for c in outcome.changes]
        out.write(f"{'':11}{printable('; '.join(described))}\n")
    if result.blocked:
        out.write(
            f"\nNot imported, because their calendars cannot be read ({len(result.blocked)}):\n"
        )
        _print_grouped(result.blocked, out)
        out.write(
            "  Fix that, then run the same command again. To import them now anyway, add "
            "--include-blocked.\n"
        )
    if result.imported_but_blocked:
        out.write(
            "\nImported, but their calendars cannot be read yet "
            f"({len(result.imported_but_blocked)}):\n"
        )
        _print_grouped(result.imported_but_blocked, out)
    if result.failed:
        out.write(
            f"\nNot imported, because their calendars could not be checked "
            f"({len(result.failed)}):\n"
        )
        _print_grouped(result.failed, out)
        out.write("  Run the same command again later. Rooms already imported are kept.\n")
    out.write("\n")
    if result.failed:
        out.write("Some rooms failed; the others were saved.\n")
    elif not result.changed and not result.blocked:
        out.write("Nothing changed: the workspace already matched Microsoft 365.\n")
    elif result.changed:
        out.write(
            "Saved. Next, export the offices and rooms for Clearooms with: clearooms-wizard "
            f"export --output rooms.json{_same_place_flags(options)}\n"
        )


def run_rooms_import(args: argparse.Namespace, options: ConnectionOptions, out: TextIO,
                     err: TextIO) -> int:  # fmt: skip
    from clearooms_wizard.core.store import InvalidInput

    try:
        return _rooms_import(args, options, out, err)
    except InvalidInput as exc:
        raise UsageError(f"{exc} Nothing was written.") from None


def _rooms_import(
    args: argparse.Namespace, options: ConnectionOptions, out: TextIO, err: TextIO
) -> int:
    # Everything that can be checked without Microsoft is checked first: a typo costs nothing.
    from clearooms_wizard.core.importer import select_rooms
    from clearooms_wizard.core.store import InvalidInput, check_room_email
    from clearooms_wizard.core.usecases import ImportRequest
    from clearooms_wizard.core.workspace import WorkspaceError

    emails = [check_room_email(e) for e in (args.room or [])]
    room_list = check_room_email(args.room_list) if args.room_list else None
    as_json = bool(args.json)
    with _workspace(options, err) as workspace:
        office = _office_or_usage(workspace, args.office)
    runtime = _runtime(options, err)
    use_cases, cloud = runtime.use_cases, runtime.connection.cloud
    where = use_cases.workspace_path
    if not as_json:
        demo = f" (demo tenant “{runtime.scenario.name}”)" if runtime.scenario else ""
        out.write(f"Importing rooms into “{printable(office.name)}” in {where}{demo}\n")
        out.flush()
    cancel = CancelToken()
    show_progress = err.isatty() and not as_json

    def progress(step: ImportProgress) -> None:
        if show_progress:
            err.write(f"\rChecking room calendars… {step.done} of {step.total}")
            err.flush()

    try:
        credentials = _credentials(runtime)
        with use_cases.graph(credentials, cloud, cancel) as graph:
            with _progress_line(err, err.isatty()):
                directory = graph.load_rooms(_rooms_progress(err, err.isatty()))
            chosen = select_rooms(directory, all_rooms=args.all, emails=emails, room_list=room_list)
            request = ImportRequest(
                office.name, False, tuple(chosen), directory, credentials, cloud
            )
            plan = use_cases.plan_import(request)
            if not as_json:
                _print_plan(plan, directory, out)
            if args.dry_run:
                if as_json:
                    out.write(json_text({"workspace": str(where), "plan": plan.to_json()}))
                else:
                    out.write("\nDry run: no calendar was checked and nothing was written.\n")
                return EXIT_OK
            with _progress_line(err, show_progress):
                prepared = use_cases.check_calendars(graph, request, plan, cancel, progress)
        result = use_cases.apply_import(prepared, args.include_blocked, cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        err.write("\nStopped. Nothing was written.\n")
        return EXIT_INTERRUPTED
    except ClearoomsError as exc:
        if isinstance(exc, InvalidInput | WorkspaceError):
            raise
        _explain(exc, err, loading_rooms=True)
        err.write("Nothing was written.\n")
        return EXIT_FAILED
    if as_json:
        payload = {"workspace": str(where), "plan": plan.to_json(), "result": result.to_json()}
        out.write(json_text(payload))
    else:
        _print_import_result(result, options, out)
    return EXIT_OK if result.ok else EXIT_FAILED


def run_export(options: ConnectionOptions, fmt: str, output: str | None, out: TextIO,
               err: TextIO) -> int:  # fmt: skip
    from clearooms_wizard.runtime import workspace_use_cases

    exported = workspace_use_cases(options).export(output, fmt)
    if exported.path is None:
        out.write(exported.text)
        return EXIT_OK
    offices, rooms = exported.offices, exported.rooms
    err.write(
        f"Wrote {offices} office{'s' if offices != 1 else ''} and {rooms} "
        f"room{'s' if rooms != 1 else ''} to {exported.path}.\n"
    )
    return EXIT_OK


def _run_workspace_command(
    args: argparse.Namespace, options: ConnectionOptions, out: TextIO, err: TextIO
) -> int:
    if args.command == "export":
        return run_export(options, args.format, args.output, out, err)
    if args.command == "rooms":
        return run_rooms_import(args, options, out, err)
    if args.offices_command == "list":
        return run_offices_list(options, args.json, out, err)
    if args.offices_command == "add":
        return run_offices_add(options, args.name, args.timezone, out, err)
    return run_offices_suggest(options, args.json, out, err)


# -- entry point ---------------------------------------------------------------------------------


def _list_scenarios(out: TextIO) -> int:
    from clearooms_wizard.demo.scenarios import SCENARIOS

    width = max(len(name) for name in SCENARIOS)
    for scenario in SCENARIOS.values():
        out.write(f"{scenario.name.ljust(width)}  {scenario.title}: {scenario.description}\n")
    return EXIT_OK


def _usage_errors() -> tuple[type[Exception], ...]:
    # Looked up only when an exception reaches main(), so that opening the wizard does not
    # load the workspace, the store and the export first.
    from clearooms_wizard.core.store import InvalidInput

    return (UsageError, UrlProblem, CaBundleProblem, InvalidInput)


def _failures() -> tuple[type[Exception], ...]:
    from clearooms_wizard.core.export import ExportError
    from clearooms_wizard.core.workspace import WorkspaceError

    return (WorkspaceError, ExportError)


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    words = tuple(sys.argv[1:] if argv is None else argv)
    secret_like = _secret_like_values(words, os.environ)
    stdin = stdin or sys.stdin
    out = cast(TextIO, _GuardedOutput(stdout or sys.stdout, secret_like))
    err = cast(TextIO, _GuardedOutput(stderr or sys.stderr, secret_like))
    parser = build_parser(words)
    reset = _COMMAND_LINE.set(words)
    try:
        args = parser.parse_args(words)
    finally:
        _COMMAND_LINE.reset(reset)
    level = getattr(args, "log_level", None) or os.environ.get("CLEAROOMS_LOG_LEVEL", "info")
    configure_logging(level if level in LEVELS else "info")
    log.info("clearooms-wizard %s: %s", __version__, args.command or "wizard")
    try:
        if getattr(args, "demo_scenario", None) == "list":
            return _list_scenarios(out)
        if args.command is None:
            # Imported here so the command line never loads Qt.
            from clearooms_wizard.app import run_wizard

            return run_wizard(_options(args, stdin))
        from clearooms_wizard.demo.scenarios import SCENARIOS

        if args.command == "rooms" and args.rooms_command is None:
            raise UsageError("Say what to do with rooms, for example: clearooms-wizard rooms list")
        if args.command == "offices" and args.offices_command is None:
            raise UsageError(
                "Say what to do with offices, for example: clearooms-wizard offices list"
            )
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
        if args.command in ("offices", "export") or (
            args.command == "rooms" and args.rooms_command == "import"
        ):
            return _run_workspace_command(args, options, out, err)
        runtime = _runtime(options, err)
        if args.command == "check":
            return run_check(runtime, args.json, args.save, out, err)
        fmt = "json" if args.json else "csv" if args.csv else "table"
        return run_rooms_list(runtime, fmt, out, err)
    except _usage_errors() as exc:
        err.write(f"clearooms-wizard: {exc}\n")
        return EXIT_USAGE
    except _failures() as exc:
        err.write(f"clearooms-wizard: {exc}\n")
        return EXIT_FAILED
    except Cancelled:
        err.write("Stopped.\n")
        return EXIT_INTERRUPTED
    except _Explained:
        return EXIT_FAILED
