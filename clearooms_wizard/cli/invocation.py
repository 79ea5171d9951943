"""What every command is given: the parsed command line, the streams, and (built from both) the
connection options."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from clearooms_wizard.cli.exits import UsageError
from clearooms_wizard.cli.scenarios import check_scenario
from clearooms_wizard.runtime import ConnectionOptions

# How the entry point opens the wizard; the command line itself never loads it (nor Qt).
OpenWizard = Callable[[ConnectionOptions], int]


@dataclass(frozen=True)
class Invocation:
    args: argparse.Namespace
    stdin: TextIO
    out: TextIO
    err: TextIO
    open_wizard: OpenWizard | None = None

    def connection_options(self) -> ConnectionOptions:
        """The options as given; reads the client secret from standard input if asked to."""
        args = self.args
        secret = None
        if getattr(args, "secret_stdin", False):
            secret = self.stdin.readline().strip()
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

    def command_options(self) -> ConnectionOptions:
        """The options for a command: as given, with the demo scenario known to exist."""
        options = self.connection_options()
        if options.demo:
            check_scenario(options.demo_scenario)
        return options


# What each command's parser sets as its ``func``.
Command = Callable[[Invocation], int]
