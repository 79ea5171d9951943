"""Render every wizard page, and the main error states, to PNG files (for the README and review).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py resources/screenshots

(or ``python -m tools.screenshots`` from the repository root). Runs on the built-in demo tenant
with a throwaway workspace; nothing real is touched. A developer tool, not part of the installed
package: it builds the wizard the way the composition root does, from outside.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from clearooms_wizard.app import build_wizard_context
from clearooms_wizard.core.preferences import PreferencesFile
from clearooms_wizard.core.secrets import MemorySecretStore
from clearooms_wizard.runtime import ConnectionOptions
from clearooms_wizard.ui.wizard import SetupWizard


def _wait(app: QApplication, done: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the wizard did not get there in time")
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()


class Shooter:
    def __init__(self, app: QApplication, folder: Path, size: tuple[int, int]) -> None:
        self.app = app
        self.folder = folder
        self.size = size
        self.scratch = Path(tempfile.mkdtemp(prefix="clearooms-shots-"))
        self.taken: list[Path] = []

    def wizard(self, scenario: str) -> SetupWizard:
        options = ConnectionOptions(
            demo=True, demo_scenario=scenario, workspace=str(self.scratch / f"{scenario}.sqlite3")
        )
        context = build_wizard_context(
            options,
            lambda url: True,
            secrets=MemorySecretStore(),
            preferences=PreferencesFile(self.scratch / f"{scenario}-preferences.json"),
        )
        wizard = SetupWizard(context)
        wizard.resize(*self.size)
        wizard.show()
        self.app.processEvents()
        return wizard

    def shoot(self, widget: QWidget, name: str) -> None:
        self.app.processEvents()
        path = self.folder / f"{name}.png"
        widget.grab().save(str(path))
        self.taken.append(path)

    def to_connect_tested(self, wizard: SetupWizard) -> None:
        wizard.next()
        wizard.next()
        wizard.connect_page.start_test()
        _wait(self.app, lambda: not wizard.connect_page.busy)

    def to_rooms(self, wizard: SetupWizard) -> None:
        self.to_connect_tested(wizard)
        wizard.connect_page._warnings_accepted = True
        wizard.next()
        _wait(self.app, lambda: wizard.currentId() == 3 and not wizard.rooms_page.busy)

    def set_it_up_for_me(self) -> None:
        """“Set it up for me” on the demo tenant, whose browser signs the scenario's
        administrator in by itself: each step, then Connect filled in and tested."""
        wizard = self.wizard("register-slow-replication")
        wizard.next()
        page = wizard.register_page
        page.choose_setup_for_me()
        _wait(self.app, lambda: page.setup.shown_as_label.text().count("Azure CLI") > 0)
        self.shoot(wizard, "2-setup-1-intro")
        page.setup.sign_in()
        _wait(self.app, lambda: not page.busy)
        self.shoot(wizard, "2-setup-2-review")
        page.setup.create_app()
        rows = page.setup.rows.values()
        _wait(self.app, lambda: sum(row.state is not None for row in rows) >= 4 or not page.busy)
        self.shoot(wizard, "2-setup-3-progress")
        _wait(self.app, lambda: wizard.currentId() == 2 and not wizard.connect_page.busy, 300)
        # Rooms only: the script for the Exchange administrator comes by itself.
        _wait(self.app, lambda: wizard.connect_page.scope_dialog is not None)
        script = wizard.connect_page.scope_dialog
        assert script is not None
        self.shoot(script, "3-connect-rooms-only-script")
        script.close()
        self.shoot(wizard, "3-connect-set-up-for-me")
        wizard.shutdown()

        # All mailboxes, where Exchange already limits the app to rooms: the offer to remove
        # Microsoft Entra's tenant-wide grant, with the administrator still signed in.
        granted = self.wizard("scoped-but-entra-grant")
        granted.next()
        page = granted.register_page
        page.choose_setup_for_me()
        page.setup.sign_in()
        _wait(self.app, lambda: not page.busy)
        page.setup.calendar_choice.all_mailboxes_button.setChecked(True)
        page.setup.create_app()
        _wait(self.app, lambda: granted.currentId() == 2 and not granted.connect_page.busy, 300)
        self.shoot(granted, "3-connect-remove-grant")
        granted.shutdown()

        approval = self.wizard("register-app-admin")
        approval.next()
        page = approval.register_page
        page.choose_setup_for_me()
        page.setup.sign_in()
        _wait(self.app, lambda: not page.busy)
        self.shoot(approval, "2-setup-2-review-app-admin")
        page.setup.create_app()
        _wait(self.app, lambda: not page.busy, 300)
        # Once the app's details are kept, which the approval step then says.
        _wait(self.app, lambda: "Keeping" not in page.setup.later_note.text())
        self.shoot(approval, "2-setup-4-approval")
        approval.shutdown()

        refused = self.wizard("register-no-secrets")
        refused.next()
        page = refused.register_page
        page.choose_setup_for_me()
        page.setup.sign_in()
        _wait(self.app, lambda: not page.busy)
        page.setup.create_app()
        _wait(self.app, lambda: not page.busy, 300)
        self.shoot(refused, "2-setup-5-failed")
        refused.shutdown()

    def run(self) -> list[Path]:
        self.set_it_up_for_me()
        wizard = self.wizard("healthy")
        self.shoot(wizard, "1-welcome")
        wizard.next()
        self.shoot(wizard, "2-register")
        wizard.register_page.ask_admin_button.click()
        dialog = wizard.register_page.instructions_dialog
        assert dialog is not None
        self.shoot(dialog, "2-register-it-admin")
        dialog.close()
        wizard.next()
        self.shoot(wizard, "3-connect")
        wizard.connect_page.start_test()
        _wait(self.app, lambda: not wizard.connect_page.busy)
        self.shoot(wizard, "3-connect-passed")
        wizard.next()
        _wait(self.app, lambda: wizard.currentId() == 3 and not wizard.rooms_page.busy)
        wizard.rooms_page.office.setCurrentIndex(0)
        wizard.rooms_page.search.setText("London")
        wizard.rooms_page.select_all.click()
        wizard.rooms_page.search.setText("")
        self.shoot(wizard, "4-rooms")
        # The usual import: every room's calendar can be read.
        wizard.next()
        _wait(self.app, lambda: wizard.state.prepared is not None and not wizard.import_page.busy)
        self.shoot(wizard, "5-import-plan")
        wizard.import_page.start_import()
        _wait(self.app, lambda: wizard.state.result is not None and not wizard.import_page.busy)
        self.shoot(wizard, "5-import-done")
        wizard.shutdown()

        for scenario in ("wrong-secret", "no-consent"):
            failing = self.wizard(scenario)
            self.to_connect_tested(failing)
            self.shoot(failing, f"3-connect-{scenario}")
            failing.shutdown()

        empty = self.wizard("no-rooms")
        self.to_rooms(empty)
        self.shoot(empty, "4-rooms-none-found")
        empty.shutdown()

        mixed = self.wizard("mixed-mailboxes")
        self.to_rooms(mixed)
        mixed.rooms_page.office.setCurrentIndex(0)
        mixed.rooms_page.model.set_checked(range(mixed.rooms_page.model.rowCount()), True)
        mixed.next()
        _wait(self.app, lambda: mixed.state.prepared is not None and not mixed.import_page.busy)
        self.shoot(mixed, "5-import-plan-problems")
        mixed.import_page.start_import()
        _wait(self.app, lambda: mixed.state.result is not None and not mixed.import_page.busy)
        self.shoot(mixed, "5-import-done-problems")
        mixed.shutdown()
        return self.taken


def dark_palette() -> QPalette:
    """A dark palette like the ones desktops ship, to check every page stays readable."""
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, "#2b2b2b"),
        (roles.WindowText, "#e8e8e8"),
        (roles.Base, "#1e1e1e"),
        (roles.AlternateBase, "#2f2f2f"),
        (roles.Text, "#e8e8e8"),
        (roles.Button, "#3a3a3a"),
        (roles.ButtonText, "#e8e8e8"),
        (roles.Highlight, "#3d6fb4"),
        (roles.HighlightedText, "#ffffff"),
        (roles.PlaceholderText, "#9a9a9a"),
    ):
        palette.setColor(role, QColor(colour))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write the PNG files")
    parser.add_argument("--size", default="860x680", help="window size, e.g. 800x600")
    parser.add_argument("--dark", action="store_true", help="use a dark colour scheme")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    width, height = (int(part) for part in args.size.lower().split("x"))
    args.folder.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    if args.dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    for path in Shooter(app, args.folder, (width, height)).run():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
