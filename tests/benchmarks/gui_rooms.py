"""The GUI with 10,000 rooms, in a fresh process (so its memory is the wizard's alone).

    python tests/benchmarks/gui_rooms.py BASE_URL CA_BUNDLE WORK_DIR ROOM_COUNT

Drives the real wizard, offscreen, against the demo tenant the parent serves at BASE_URL:
Welcome, Register, Connect (Test Settings), then Next onto the Rooms page, which loads every
room. From that Next until the table has settled, a 5 ms timer on the GUI thread records the
longest gap between its ticks (an event-loop stall). Then it types a search, one key at a time,
timing each key until its events (filtering, layout, paint) have been handled, and reads
VmRSS / VmHWM from /proc/self/status. Prints one JSON line with the figures.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path


def resident_mb() -> tuple[float, float]:
    found = {"VmRSS": 0.0, "VmHWM": 0.0}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in found:
                found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def main() -> None:
    base_url, ca_bundle, work_dir, room_count = sys.argv[1:5]
    expected = int(room_count)
    from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWizard

    from clearooms_wizard.app import build_wizard_context
    from clearooms_wizard.core.preferences import PreferencesFile
    from clearooms_wizard.core.secrets import MemorySecretStore
    from clearooms_wizard.demo import get_scenario
    from clearooms_wizard.runtime import ConnectionOptions
    from clearooms_wizard.ui.pages.ids import PageId
    from clearooms_wizard.ui.wizard import SetupWizard

    app = QApplication(sys.argv[:1])
    scenario = get_scenario("healthy")
    folder = Path(work_dir)
    options = ConnectionOptions(
        tenant=scenario.tenant,
        client_id=scenario.client_id,
        client_secret=scenario.client_secret,
        authority_host=base_url,
        graph_url=base_url,
        ca_bundle=ca_bundle,
        workspace=str(folder / "workspace.sqlite3"),
    )
    context = build_wizard_context(
        options,
        lambda url: True,
        secrets=MemorySecretStore(),
        preferences=PreferencesFile(folder / "preferences.json"),
    )
    wizard = SetupWizard(context)
    wizard.show()

    def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
        loop = QEventLoop()
        poll = QTimer()
        poll.setInterval(10)
        poll.timeout.connect(lambda: loop.quit() if condition() else None)
        give_up = QTimer()
        give_up.setSingleShot(True)
        give_up.timeout.connect(loop.quit)
        poll.start()
        give_up.start(int(seconds * 1000))
        if not condition():
            loop.exec()
        poll.stop()
        give_up.stop()
        if not condition():
            raise TimeoutError(f"gave up waiting for {what}")

    def settle(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    next_button = wizard.button(QWizard.WizardButton.NextButton)

    def click_next() -> None:
        wait_until(next_button.isEnabled, 30, "Next to be enabled")
        next_button.click()

    class StallMeter(QObject):
        """The longest gap between ticks of a 5 ms timer: how long the GUI thread was away."""

        def __init__(self) -> None:
            super().__init__()
            self.timer = QTimer(self)
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.setInterval(5)
            self.timer.timeout.connect(self.tick)
            self.started = 0.0
            self.last = 0.0
            self.worst = 0.0
            self.ticks = 0
            # The longest gaps, as (gap, when it ended, counted from start()), for diagnosis.
            self.gaps: list[tuple[float, float]] = []

        def start(self) -> None:
            self.started = self.last = time.perf_counter()
            self.timer.start()

        @Slot()
        def tick(self) -> None:
            now = time.perf_counter()
            gap = now - self.last
            self.worst = max(self.worst, gap)
            if gap > 0.02:
                self.gaps.append((gap, now - self.started))
            self.last = now
            self.ticks += 1

        def stop(self) -> None:
            self.tick()
            self.timer.stop()

    click_next()
    click_next()
    connect = wizard.connect_page
    connect.test_button.click()
    wait_until(lambda: not connect.busy and connect.test is not None, 60, "Test Settings")
    assert connect.test is not None and connect.test.ok, "Test Settings did not pass"

    page = wizard.rooms_page
    meter = StallMeter()
    meter.start()
    started = time.perf_counter()
    click_next()
    wait_until(
        lambda: (
            wizard.currentId() == PageId.ROOMS
            and not page.busy
            and page.model.rowCount() == expected
        ),
        120,
        f"{expected} rooms on the Rooms page",
    )
    loaded = time.perf_counter() - started
    settle(1.0)
    meter.stop()

    keys: list[float] = []

    def key(action: Callable[[], None]) -> None:
        start = time.perf_counter()
        action()
        app.processEvents()
        keys.append(time.perf_counter() - start)

    page.search.setFocus()
    for char in "ldn 3.05":
        key(lambda char=char: QTest.keyClicks(page.search, char))  # type: ignore[misc]
    shown_after_search = page.proxy.rowCount()
    for _ in range(4):
        key(lambda: QTest.keyClick(page.search, Qt.Key.Key_Backspace))
    shown_after_erase = page.proxy.rowCount()
    select_start = time.perf_counter()
    page.select_all.click()
    app.processEvents()
    select_all = time.perf_counter() - select_start
    settle(0.2)
    rss, hwm = resident_mb()
    print(
        json.dumps(
            {
                "rooms": page.model.rowCount(),
                "load_s": loaded,
                "worst_stall_ms": meter.worst * 1000,
                "ticks": meter.ticks,
                "longest_gaps_ms": [
                    [round(gap * 1000, 1), round(at * 1000)]
                    for gap, at in sorted(meter.gaps, reverse=True)[:5]
                ],
                "keystrokes_ms": [k * 1000 for k in keys],
                "shown_after_search": shown_after_search,
                "shown_after_erase": shown_after_erase,
                "select_all_ms": select_all * 1000,
                "checked": page.model.checked_count,
                "rss_mb": rss,
                "hwm_mb": hwm,
            }
        ),
        flush=True,
    )
    wizard.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()
