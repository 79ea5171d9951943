"""What the wizard is given by the composition root: callables that do the real work.

The pages call these only inside worker tasks (they may touch the network, the disk or the
keyring); the UI itself never imports requests, msal or keyring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Types only: the wizard's first page is shown before any of these modules is loaded.
    from clearooms_wizard.core.cancel import CancelToken
    from clearooms_wizard.core.checks import SettingsTest
    from clearooms_wizard.core.clouds import Cloud
    from clearooms_wizard.core.importer import CalendarCheck, ImportPlan, ImportResult
    from clearooms_wizard.core.model import Room, RoomDirectory
    from clearooms_wizard.core.preferences import Preferences, PreferencesFile
    from clearooms_wizard.core.values import ConnectionInput, Credentials

ProgressCallback = Callable[[object], None]


@dataclass(frozen=True)
class InitialValues:
    tenant: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    cloud: str = "global"


@dataclass(frozen=True)
class WorkspaceSnapshot:
    """What the workspace holds that the Rooms page shows: offices, and rooms already imported
    (email, case-folded -> office name)."""

    offices: tuple[str, ...]
    imported: Mapping[str, str]
    # Set when a damaged workspace was moved aside: says where, for the user to read.
    notice: str | None = None


@dataclass(frozen=True)
class ImportRequest:
    """What the Rooms page chose, and the signed-in app to check calendars with."""

    office: str
    create_office: bool
    rooms: tuple[Room, ...]
    directory: RoomDirectory
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    cloud: Cloud = field(kw_only=True)


@dataclass(frozen=True)
class PreparedImport:
    """The plan and each chosen room's calendar check, ready to apply."""

    request: ImportRequest
    plan: ImportPlan
    checks: tuple[CalendarCheck, ...]


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
    # Reads the workspace (disk): call on a worker thread.
    workspace_snapshot: Callable[[], WorkspaceSnapshot]
    # Pure functions, safe on the GUI thread.
    suggest_offices: Callable[[RoomDirectory, Sequence[str]], list[str]]
    office_name_problem: Callable[[str, Sequence[str]], str | None]
    # Workspace and network work: call on a worker thread.
    prepare_import: Callable[
        [ImportRequest, PreparedImport | None, list[str] | None, CancelToken, ProgressCallback],
        PreparedImport,
    ]
    apply_import: Callable[[PreparedImport, bool, CancelToken], ImportResult]
    export_workspace: Callable[[str, str], str]
    demo_scenario: str | None = None
    demo_title: str | None = None
    store: Any = None
    report_environment: Mapping[str, str] = field(default_factory=dict)
    # Shown on the Connect page when the wizard opens (for example: the keyring is locked).
    startup_notice: str | None = None
