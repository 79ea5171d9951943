"""The wizard's own preferences (window geometry, checklist ticks, last page): a small JSON file.

Written atomically (a temporary file, then a rename) so a crash never leaves half a file; a file
that cannot be read is ignored rather than fatal: these are conveniences, not data.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from clearooms_wizard.core.appinfo import APP_AUTHOR, APP_NAME

PREFERENCES_FILENAME = "preferences.json"


@dataclass
class Preferences:
    window_geometry: str | None = None  # Qt's saveGeometry(), base64
    last_page: int | None = None
    checklist: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def from_json(cls, payload: object) -> Preferences:
        if not isinstance(payload, dict):
            return cls()
        checklist = payload.get("checklist")
        geometry = payload.get("window_geometry")
        page = payload.get("last_page")
        return cls(
            window_geometry=geometry if isinstance(geometry, str) else None,
            last_page=page if isinstance(page, int) and not isinstance(page, bool) else None,
            checklist={
                str(key): value
                for key, value in (checklist.items() if isinstance(checklist, dict) else [])
                if isinstance(value, bool)
            },
        )


def default_preferences_path() -> Path:
    return platformdirs.user_config_path(APP_NAME, APP_AUTHOR) / PREFERENCES_FILENAME


class PreferencesFile:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_preferences_path()

    def load(self) -> Preferences:
        try:
            payload: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Preferences()
        return Preferences.from_json(payload)

    def save(self, preferences: Preferences) -> None:
        """Write atomically; an error is raised as OSError for the caller to log."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=".preferences-", suffix=".json", dir=self.path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(asdict(preferences), stream, indent=2)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
