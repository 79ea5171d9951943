"""The next command a message suggests, written so that it runs as shown."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from clearooms_wizard.runtime import ConnectionOptions

_PLAIN_WORD = re.compile(r"[\w@+=:,./-]+")


def same_place_flags(options: ConnectionOptions) -> str:
    """The options a suggested next command needs to reach the same demo tenant and workspace
    (a real tenant's values come from the saved settings or the environment, as they did)."""
    flags = ""
    if options.demo:
        healthy = options.demo_scenario == "healthy"
        flags += " --demo" if healthy else f" --demo-scenario {options.demo_scenario}"
    if options.workspace:
        flags += f" --workspace {quoted(options.workspace)}"
    return flags


def quoted(word: str) -> str:
    """``word`` as this computer's shell takes it, so that a suggested command runs as shown:
    bare when plain, else in double quotes where they are enough."""
    if _PLAIN_WORD.fullmatch(word):
        return word
    if sys.platform == "win32":
        return subprocess.list2cmdline([word])
    if not any(ch in word for ch in '"$`\\!'):
        return f'"{word}"'
    return shlex.quote(word)
