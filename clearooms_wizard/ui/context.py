"""What the wizard is given by the composition root: callables that do the real work.

The pages call these only inside worker tasks (they may touch the network, the disk or the
keyring); the UI itself never imports requests, msal or keyring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from clearooms_wizard.core.checks import ConnectionInput, SettingsTest
from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.errors import CancelToken
from clearooms_wizard.core.graph import RoomDirectory
from clearooms_wizard.core.preferences import Preferences, PreferencesFile
from clearooms_wizard.core.values import Credentials

ProgressCallback = Callable[[object], None]


@dataclass(frozen=True)
class InitialValues:
    tenant: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    cloud: str = "global"


@dataclass(frozen=True)
class WizardContext:
    clouds: Mapping[str, Cloud]
    initial: InitialValues
    preferences: PreferencesFile
    # Loaded once at start (off the GUI thread) and written back when the wizard closes.
    preferences_state: Preferences
    # Builds a Test Settings run; its run() does the network work, on a worker thread.
    settings_test: Callable[[ConnectionInput, CancelToken], SettingsTest]
    # Saves a passed test's values (workspace and keyring); returns a message to show, if any.
    save_connection: Callable[[SettingsTest], str | None]
    load_rooms: Callable[[Credentials, Cloud, CancelToken, ProgressCallback], RoomDirectory]
    open_url: Callable[[str], bool]
    demo_scenario: str | None = None
    demo_title: str | None = None
    store: Any = None
    report_environment: Mapping[str, str] = field(default_factory=dict)
