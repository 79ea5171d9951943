"""Open the wizard through the real entry point and leave it one way, noting when.

    python -m tests.support.leave_wizard WAY MARKER -- clearooms-wizard arguments…

Runs the command line exactly as ``clearooms-wizard`` does (so ``run_wizard`` and its
``app.exec()``), with the keyring kept in memory. Once the wizard is on screen, a timer inside the
process presses its real buttons and keys through QTest, as a user would, and then takes the way
out named by WAY (see ``WAYS``). Just before that last action it writes ``time.time()`` to MARKER:
a test measures from there to the end of the process.

If a step cannot be taken within ``STEP_LIMIT`` seconds the process says which on stderr and
exits with ``EXIT_STUCK``, so a broken path to the way out is not mistaken for a hang after it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import keyring
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QWizard

from clearooms_wizard.__main__ import main
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.ui.pages.ids import PageId
from clearooms_wizard.ui.wizard import SetupWizard
from tests.support.memory_keyring import MemoryKeyring

WAYS = (
    "cancel",
    "escape",
    "finish",
    "close",
    "close-while-testing",
    "close-while-importing",
)
STEP_LIMIT = 60.0
EXIT_STUCK = 3
# How long the import's transaction is held open after its first room, so that the window can
# be closed while the import is being written.
HOLD_IN_APPLY = 0.5


class Step(NamedTuple):
    """What to wait for (described, for the message if it never comes), then what to do."""

    description: str
    ready: Callable[[], bool]
    act: Callable[[], None]
    leaves: bool = False  # the way out itself: the time is noted just before it


def click(button: QPushButton) -> None:
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def wizard_button(wizard: SetupWizard, which: QWizard.WizardButton) -> QPushButton:
    button = wizard.button(which)
    assert isinstance(button, QPushButton)
    return button


def enabled(wizard: SetupWizard, which: QWizard.WizardButton) -> Callable[[], bool]:
    return lambda: wizard_button(wizard, which).isEnabled()


def close_from_title_bar(wizard: SetupWizard) -> None:
    # What the window system does when the title bar's close is pressed: it asks the window
    # (QWindow, not the widget) to close, and Qt sends the widget its close event from there.
    window = wizard.windowHandle()
    assert window is not None
    window.close()


def to_connect(wizard: SetupWizard) -> Iterator[Step]:
    while wizard.currentId() != PageId.CONNECT:
        yield Step(
            "Next to the Connect page",
            enabled(wizard, QWizard.WizardButton.NextButton),
            lambda: click(wizard_button(wizard, QWizard.WizardButton.NextButton)),
        )


def to_import_plan(wizard: SetupWizard) -> Iterator[Step]:
    yield from to_connect(wizard)
    page = wizard.connect_page
    yield Step("Test Settings", page.test_button.isEnabled, lambda: click(page.test_button))
    yield Step(
        "Next after a passed test",
        lambda: page.test is not None and not page.busy and page.test.ok,
        lambda: click(wizard_button(wizard, QWizard.WizardButton.NextButton)),
    )
    rooms = wizard.rooms_page
    yield Step(
        "the rooms to load",
        lambda: wizard.currentId() == PageId.ROOMS and not rooms.busy,
        lambda: rooms.office.setCurrentIndex(0),  # the first suggested office
    )
    yield Step("Select all shown", rooms.select_all.isEnabled, lambda: click(rooms.select_all))
    yield Step(
        "Next with rooms chosen",
        enabled(wizard, QWizard.WizardButton.NextButton),
        lambda: click(wizard_button(wizard, QWizard.WizardButton.NextButton)),
    )
    importer = wizard.import_page
    yield Step(
        "the import plan",
        lambda: wizard.state.prepared is not None and not importer.busy,
        lambda: None,
    )


def script(way: str, wizard: SetupWizard, in_apply: threading.Event) -> Iterator[Step]:
    """The steps to the way out; the last step is the way out itself."""
    if way == "cancel":
        cancel = wizard_button(wizard, QWizard.WizardButton.CancelButton)
        yield Step("Cancel", cancel.isVisible, lambda: click(cancel), leaves=True)
    elif way == "escape":
        # To the widget that has the keyboard, as a key press goes: it travels up to the dialog.
        yield Step(
            "Escape",
            lambda: True,
            lambda: QTest.keyClick(wizard.focusWidget() or wizard, Qt.Key.Key_Escape),
            leaves=True,
        )
    elif way == "close":
        yield Step("close", lambda: True, lambda: close_from_title_bar(wizard), leaves=True)
    elif way == "close-while-testing":
        yield from to_connect(wizard)
        page = wizard.connect_page
        yield Step("Test Settings", page.test_button.isEnabled, lambda: click(page.test_button))
        # The test's first request is on its way (the tenant answers slowly) when this closes.
        started = time.monotonic()
        yield Step(
            "close while testing",
            lambda: page.busy and time.monotonic() - started > 0.3,
            lambda: close_from_title_bar(wizard),
            leaves=True,
        )
    elif way == "finish":
        yield from to_import_plan(wizard)
        importer = wizard.import_page
        yield Step(
            "Import", importer.import_button.isEnabled, lambda: click(importer.import_button)
        )
        finish = wizard_button(wizard, QWizard.WizardButton.FinishButton)
        yield Step(
            "Finish after the import",
            lambda: wizard.state.result is not None and not importer.busy and finish.isEnabled(),
            lambda: click(finish),
            leaves=True,
        )
    elif way == "close-while-importing":
        yield from to_import_plan(wizard)
        importer = wizard.import_page
        yield Step(
            "Import", importer.import_button.isEnabled, lambda: click(importer.import_button)
        )
        yield Step(
            "close while importing",
            in_apply.is_set,
            lambda: close_from_title_bar(wizard),
            leaves=True,
        )
    else:
        raise SystemExit(f"unknown way out {way!r}; one of {', '.join(WAYS)}")


def hold_in_apply(in_apply: threading.Event) -> None:
    original = Workspace._write_room
    written = 0

    def write_room(self: Workspace, *args: Any) -> None:
        nonlocal written
        original(self, *args)
        written += 1
        if written == 1:
            in_apply.set()
            time.sleep(HOLD_IN_APPLY)

    Workspace._write_room = write_room  # type: ignore[method-assign,assignment]


class Driver(QObject):
    def __init__(self, way: str, marker: Path, in_apply: threading.Event) -> None:
        super().__init__()
        self.way = way
        self.marker = marker
        self.in_apply = in_apply
        self.steps: Iterator[Step] | None = None
        self.step: Step | None = None
        self.waiting_since = time.monotonic()
        self.timer = QTimer(self)
        self.timer.setInterval(20)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def wizard(self) -> SetupWizard | None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, SetupWizard) and widget.isVisible():
                return widget
        return None

    @Slot()
    def tick(self) -> None:
        if self.steps is None:
            wizard = self.wizard()
            window = wizard.windowHandle() if wizard is not None else None
            if wizard is None or window is None or not window.isExposed():
                return self.check_stuck("the wizard on screen")
            self.steps = script(self.way, wizard, self.in_apply)
            self.step = next(self.steps)
        # One step a tick: what a click starts shows on a later turn of the event loop.
        step = self.step
        if step is None:
            return None
        if not step.ready():
            return self.check_stuck(step.description)
        if step.leaves:
            self.timer.stop()
            self.mark_time()
        step.act()
        self.step = next(self.steps, None)
        self.waiting_since = time.monotonic()
        return None

    def check_stuck(self, description: str) -> None:
        if time.monotonic() - self.waiting_since > STEP_LIMIT:
            sys.stderr.write(f"leave_wizard: stuck waiting for {description}\n")
            self.timer.stop()
            QApplication.exit(EXIT_STUCK)

    def mark_time(self) -> None:
        partial = self.marker.with_name(self.marker.name + ".partial")
        partial.write_text(repr(time.time()))
        os.replace(partial, self.marker)


def run(argv: list[str]) -> int:
    way, marker, separator, *cli_args = argv
    if separator != "--" or way not in WAYS:
        raise SystemExit(__doc__)
    keyring.set_keyring(MemoryKeyring())
    in_apply = threading.Event()
    if way == "close-while-importing":
        hold_in_apply(in_apply)
    # run_wizard uses the application that exists; made here so the driver's timer can start.
    app = QApplication(sys.argv[:1])
    driver = Driver(way, Path(marker), in_apply)
    code = main(cli_args)
    del driver, app
    return code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
