"""The demo tenant's scenarios on the command line: ``--demo-scenario list``, and refusing a
name that is not one."""

from __future__ import annotations

from typing import TextIO

from clearooms_wizard.cli.exits import EXIT_OK, UsageError
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.demo.scenarios import SCENARIOS


def list_scenarios(out: TextIO) -> int:
    width = max(len(name) for name in SCENARIOS)
    for scenario in SCENARIOS.values():
        out.write(f"{scenario.name.ljust(width)}  {scenario.title}: {scenario.description}\n")
    return EXIT_OK


def check_scenario(name: str) -> None:
    if name not in SCENARIOS:
        raise UsageError(
            f"There is no demo scenario called “{printable(name)}”. "
            "See them all with --demo-scenario list."
        )
