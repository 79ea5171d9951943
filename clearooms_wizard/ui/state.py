"""What the wizard has found out and what the user has chosen so far: one object for all pages.

Each page writes its own part (the Register page the app “Set it up for me” created, the Connect
page the tested connection, the Rooms page the room directory and the choice, the Import page the
prepared import and its result) and reads what the pages before it wrote. No page reaches into
another page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from clearooms_wizard.core.usecases import PreparedImport, WorkspaceSnapshot

if TYPE_CHECKING:
    # Types only: the state is made with the first page, before these modules are loaded.
    from clearooms_wizard.core.admin_signin import AdminSession
    from clearooms_wizard.core.app_setup import RegisteredApp
    from clearooms_wizard.core.clouds import Cloud
    from clearooms_wizard.core.importer import ImportResult
    from clearooms_wizard.core.model import Room, RoomDirectory
    from clearooms_wizard.core.values import Credentials


@dataclass(frozen=True)
class TestedConnection:
    """Values that passed Test Settings, as the later pages use them."""

    # Its tenant is the tenant's GUID, which the test found (the user may have typed a domain).
    credentials: Credentials
    cloud: Cloud

    @property
    def key(self) -> tuple[str, str, str]:
        """Which tenant, app and cloud: rooms loaded for one key are never used with another."""
        return (self.credentials.tenant, self.credentials.client_id, self.cloud.key)


@dataclass(frozen=True)
class OfficeChoice:
    """The Clearooms office the rooms go into; a new one is created only by the import."""

    name: str
    exists: bool


class WizardState(QObject):
    """The pages' shared record. Signals: imported_changed(): an import marked more rooms as
    imported (``snapshot.imported`` changed), and its office is in ``snapshot.offices``."""

    imported_changed = Signal()
    # The client secret was renewed (the RenewalOutcome): the Connect page takes the new one.
    secret_renewed = Signal(object)

    def __init__(self, cloud: Cloud, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Connect page: the cloud chosen under Advanced (the Register page's links go there).
        self.cloud = cloud
        # Register page, “Set it up for me”: the administrator signed in (kept for Undo and
        # for a second try), then the app it created, for the Connect page to fill in and test.
        self.admin_session: AdminSession | None = None
        self.registered: RegisteredApp | None = None
        # Connect page, on Next: the values that passed and were saved.
        self.connection: TestedConnection | None = None
        # Rooms page: the rooms from Microsoft 365 (None until loaded, or when a load failed),
        # and what the workspace held when they were loaded.
        self.directory: RoomDirectory | None = None
        self.snapshot = WorkspaceSnapshot((), {})
        # Rooms page, on Next: where the rooms go, and which rooms.
        self.office: OfficeChoice | None = None
        self.rooms: tuple[Room, ...] = ()
        # Import page: the checked plan, then what the import did.
        self.prepared: PreparedImport | None = None
        self.result: ImportResult | None = None
        self._notice: str | None = None

    def post_notice(self, message: str) -> None:
        """A message for the next page to show once (for example: no keyring on this computer)."""
        self._notice = message

    def take_notice(self) -> str | None:
        notice, self._notice = self._notice, None
        return notice

    def record_import(self, result: ImportResult) -> None:
        """The import is done: its rooms are now in the workspace, in the result's office,
        which exists now (the import may have created it)."""
        self.result = result
        self.snapshot = self.snapshot.after_import(result)
        self.imported_changed.emit()
