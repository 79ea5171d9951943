"""Does this Qt binding keep Python's reference count of ``None`` steady?

PySide6-Essentials 6.12.0 drops one reference to ``None`` on every Qt call that returns nothing.
On Python 3.11, where ``None`` is not immortal, a long session then aborts with
``Fatal Python error: none_dealloc``. This probe makes two thousand such calls and reports the
drift, so a broken binding is caught by the tests and by the frozen build, not by a user.

Run it as ``python -m clearooms_wizard.ui.binding_check``: it exits 1 when ``None`` drifts. It runs
in a process of its own because a broken binding can abort the interpreter that measures it. From
Python 3.12 on, ``None`` is immortal: its count never moves, so the probe passes, and rightly, since
a leaky binding can no longer free it there.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from PySide6 import __version__ as pyside_version
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit

# Few enough that a leaky binding is measured before it frees None (its count starts in the low
# thousands on Python 3.11), enough to tell a leak of one per call from noise.
CALLS_PER_METHOD = 400


def none_drift_by_method(calls: int = CALLS_PER_METHOD) -> dict[str, int]:
    """References to ``None`` lost (positive) or gained per kind of void Qt call."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    label, line_edit = QLabel(), QLineEdit()
    void_calls: dict[str, Callable[[], object]] = {
        "QLabel.setText": lambda: label.setText("Meeting room"),
        "QWidget.setToolTip": lambda: label.setToolTip("Tip"),
        "QWidget.setStyleSheet": lambda: label.setStyleSheet(""),
        "QObject.setObjectName": lambda: label.setObjectName("room"),
        "QLineEdit.setText": lambda: line_edit.setText("x"),
    }
    drift: dict[str, int] = {}
    for name, call in void_calls.items():
        call()  # the first call may create caches that hold a reference for good
        before = sys.getrefcount(None)
        for _ in range(calls):
            call()
        drift[name] = before - sys.getrefcount(None)
    del app
    return drift


def main() -> int:
    drift = none_drift_by_method()
    # A few references can move for reasons of Python's own (a cache filled, a frame kept);
    # a leaky binding loses one per call, thousands here.
    leaky = {name: lost for name, lost in drift.items() if abs(lost) > CALLS_PER_METHOD // 10}
    print(f"PySide6 {pyside_version} on Python {sys.version.split()[0]}")
    for name, lost in drift.items():
        print(f"  {name}: {lost:+d} references to None over {CALLS_PER_METHOD} calls")
    if not leaky:
        print("The binding keeps None's reference count steady.")
        return 0
    print(
        f"PySide6 {pyside_version} loses a reference to None on void calls: a long session "
        "would abort with 'none_dealloc'. Install a known-good release (see the README)."
    )
    return 1


if __name__ == "__main__":
    verdict = main()
    sys.stdout.flush()
    # Past the verdict: interpreter shutdown with a leaky binding aborts while freeing objects,
    # which would turn a clear "exit 1" into a crash.
    os._exit(verdict)
