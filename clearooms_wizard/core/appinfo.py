"""The names the operating system's folders are made from (platformdirs), and where the
workspace lives: light enough for the wizard to know before it loads the workspace code."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "ClearoomsWizard"
APP_AUTHOR = "Clearooms"
WORKSPACE_FILENAME = "workspace.sqlite3"


def default_workspace_path() -> Path:
    return platformdirs.user_data_path(APP_NAME, APP_AUTHOR) / WORKSPACE_FILENAME


def workspace_path(explicit: str | None, env: Mapping[str, str]) -> Path:
    chosen = explicit or env.get("CLEAROOMS_WORKSPACE")
    return Path(chosen).expanduser() if chosen else default_workspace_path()
