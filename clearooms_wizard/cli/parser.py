"""The command line's parser: the options commands share (see :class:`SharedOptions`), a parser
that never echoes a value back, and the table of command groups.

Each command group is a module (``cli/check.py``…) with an ``add_commands`` function that adds
its parsers and sets each one's ``func``. A group's module is loaded only when its command is
among the words: opening the wizard (no command) or ``--help`` then loads none of them, nor the
workspace and import code they use. That keeps the wizard's cold start within its target.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, TypeAlias

from clearooms_wizard import __version__
from clearooms_wizard.cli.exits import EXIT_USAGE
from clearooms_wizard.cli.invocation import Command
from clearooms_wizard.cli.output import secret_like_values, shown
from clearooms_wizard.core.clouds import CLOUDS
from clearooms_wizard.core.logs import LEVELS

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


class Parser(argparse.ArgumentParser):
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
        misplaced = _microsoft_options_among(message)
        if misplaced:
            message = _not_for_this_command(misplaced[0])
        elif message.startswith("unrecognized arguments"):
            message = (
                "unrecognized arguments (not shown, in case one is a secret). The client "
                "secret is never given as an argument: use --secret-stdin or "
                "CLEAROOMS_CLIENT_SECRET."
            )
        elif "invalid choice" in message:
            message = message.split(":", 2)[0] + ": invalid choice (see --help)"
        message = _without_values(message, self._known_words())
        self.print_usage(sys.stderr)
        secret_like = secret_like_values(_COMMAND_LINE.get(), os.environ)
        self.exit(EXIT_USAGE, shown(f"{self.prog}: error: {message}\n", secret_like))


def _microsoft_options_among(message: str) -> list[str]:
    """The connection options among the arguments a command did not recognise."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return []
    words = {word.partition("=")[0] for word in message[len(prefix) :].split()}
    return [option for option in MICROSOFT_OPTIONS if option in words]


# Where a command group adds its commands.
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"


class CommandGroup(Protocol):
    """What each command group's module provides."""

    def add_commands(self, commands: Subcommands, shared: SharedOptions, summary: str) -> None: ...


# Each group's module is imported when its command is given (see the docstring at the top), in
# an import statement that PyInstaller and mypy can follow.


def _check() -> CommandGroup:
    from clearooms_wizard.cli import check

    return check


def _rooms() -> CommandGroup:
    from clearooms_wizard.cli import rooms

    return rooms


def _offices() -> CommandGroup:
    from clearooms_wizard.cli import offices

    return offices


def _export() -> CommandGroup:
    from clearooms_wizard.cli import export

    return export


def _register() -> CommandGroup:
    from clearooms_wizard.cli import register

    return register


def _secret() -> CommandGroup:
    from clearooms_wizard.cli import secret

    return secret


def _scope() -> CommandGroup:
    from clearooms_wizard.cli import scope

    return scope


def _certificate() -> CommandGroup:
    from clearooms_wizard.cli import certificate

    return certificate


# name: (summary, the group's module). The summaries are here so that --help lists every command
# without loading the modules.
COMMAND_GROUPS: dict[str, tuple[str, Callable[[], CommandGroup]]] = {
    "check": ("run Test Settings", _check),
    "rooms": ("rooms in Microsoft 365", _rooms),
    "offices": ("Clearooms offices in the workspace", _offices),
    "export": ("write the offices and their rooms for Clearooms", _export),
    "register": (
        "set up the app in Microsoft Entra ID for you (an administrator signs in)",
        _register,
    ),
    "scope": (
        "limit the app to the room mailboxes (a script for an Exchange administrator)",
        _scope,
    ),
    "certificate": (
        "sign the app in with a certificate instead of a client secret",
        _certificate,
    ),
    "secret": ("the app's client secret: its status, renewing it, a reminder", _secret),
}


# The options only a command that talks to Microsoft takes, by their names on the command line.
MICROSOFT_OPTIONS = (
    "--tenant",
    "--client-id",
    "--secret-stdin",
    "--cloud",
    "--authority-host",
    "--graph-url",
    "--ca-bundle",
)


@dataclass(frozen=True)
class SharedOptions:
    """The options commands share, as parent parsers: ``online`` for a command that talks to
    Microsoft (the connection, the workspace and the demo tenant), ``offline`` for one that only
    reads or writes the workspace (the workspace and the demo tenant's)."""

    online: Parser
    offline: Parser


def _add_connection_options(group: argparse._ArgumentGroup) -> None:
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


def _add_workspace_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--workspace", help="workspace file (CLEAROOMS_WORKSPACE)")
    group.add_argument("--demo", action="store_true", help="use the built-in demo tenant")
    group.add_argument(
        "--demo-scenario",
        metavar="NAME",
        help="demo tenant scenario (default healthy; 'list' names them)",
    )


def _add_log_level(parent: Parser) -> None:
    parent.add_argument(
        "--log-level",
        choices=LEVELS,
        help="how much to write to the log file (default info; CLEAROOMS_LOG_LEVEL)",
    )


def _options_parent(*, online: bool) -> Parser:
    # Defaults are SUPPRESS so an option may stand before or after the command.
    parent = Parser(add_help=False, argument_default=argparse.SUPPRESS)
    if online:
        group = parent.add_argument_group(
            "connection (each also read from its environment variable)"
        )
        _add_connection_options(group)
    else:
        group = parent.add_argument_group("workspace (also read from its environment variable)")
    _add_workspace_options(group)
    _add_log_level(parent)
    return parent


def shared_options() -> SharedOptions:
    return SharedOptions(_options_parent(online=True), _options_parent(online=False))


def _not_for_this_command(option: str) -> str:
    return (
        f"{option} is only for commands that talk to Microsoft 365 (check, register, rooms "
        "list, rooms import, offices suggest, scope script, secret); this command only uses the "
        "workspace. Leave it out."
    )


def build_parser(words: Sequence[str] | None = None) -> Parser:
    """The command line's parser. Given the words to parse, only the commands named among them
    get their options (and their modules loaded): the wizard (no command) starts without
    building every command's."""
    shared = shared_options()
    parser = Parser(
        prog="clearooms-wizard",
        description="Connect your Microsoft 365 room calendars to Clearooms. Without a command, "
        "opens the setup wizard.",
        parents=[shared.online],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (summary, group) in COMMAND_GROUPS.items():
        if words is None or name in words:
            group().add_commands(commands, shared, summary)
        else:
            commands.add_parser(name, help=summary)
    return parser


def parse(words: Sequence[str], without_command: Command) -> argparse.Namespace:
    """The parsed command line, its ``func`` the command to run (``without_command`` when none
    is given). A usage error ends the process with EXIT_USAGE, showing none of the values."""
    parser = build_parser(words)
    parser.set_defaults(func=without_command)
    reset = _COMMAND_LINE.set(tuple(words))
    try:
        args = parser.parse_args(words)
        if getattr(args, "workspace_only", False):
            # Given before the command, where the wizard's options go: still not this command's.
            for option in MICROSOFT_OPTIONS:
                if hasattr(args, option[2:].replace("-", "_")):
                    parser.error(_not_for_this_command(option))
        return args
    finally:
        _COMMAND_LINE.reset(reset)
