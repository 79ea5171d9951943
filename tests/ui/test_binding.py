"""The Qt binding must not lose references to None: on Python 3.11 a long session would abort.

PySide6-Essentials 6.12.0 did, on every void call (setText, setToolTip, ...). pyproject.toml keeps
it out; this test catches the next release that does the same, before an office manager does.
"""

from __future__ import annotations

import os
import subprocess
import sys

from clearooms_wizard.ui.binding_check import CALLS_PER_METHOD


def test_void_qt_calls_keep_the_reference_count_of_none_steady() -> None:
    # In a process of its own: a leaky binding can abort the interpreter that measures it.
    result = subprocess.run(
        [sys.executable, "-m", "clearooms_wizard.ui.binding_check"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert report.count(f"over {CALLS_PER_METHOD} calls") == 5, report
    assert "+0 references" in report, report
