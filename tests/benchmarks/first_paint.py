"""Cold start, in a fresh process: print the moment the first wizard page has been painted.

    python tests/benchmarks/first_paint.py bare      # a bare QWizard with one label
    python tests/benchmarks/first_paint.py product   # python -m clearooms_wizard --demo

Prints one JSON line, ``{"painted": <time.time()>}``, once the first paint of a QWizard (or any
widget inside one) has been handled, then ends the process at once. The parent notes the time
before starting the process, so the figure runs from process start to the first page painted.

Both modes share this harness (the QApplication and the event filter), so what differs between
them is only what the product adds: its imports, building its wizard, and its first page. The
product runs exactly as ``python -m clearooms_wizard --demo`` does (``runpy``); its own
``QApplication.instance() or QApplication(...)`` picks up the one made here.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "bare"
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget, QWizard

    app = QApplication(sys.argv[:1])

    def report() -> None:
        print(json.dumps({"painted": time.time()}), flush=True)
        # Nothing after the first paint is measured; skip tearing the wizard down.
        os._exit(0)

    class FirstPaint(QObject):
        seen = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (
                not self.seen
                and event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and isinstance(watched.window(), QWizard)
            ):
                self.seen = True
                # Queued behind the paint, so it runs once this paint pass has finished.
                QTimer.singleShot(0, report)
            return False

    watcher = FirstPaint(app)
    app.installEventFilter(watcher)
    if mode == "bare":
        from PySide6.QtWidgets import QLabel, QVBoxLayout, QWizardPage

        wizard = QWizard()
        page = QWizardPage()
        QVBoxLayout(page).addWidget(QLabel("Welcome"))
        wizard.addPage(page)
        wizard.show()
        app.exec()
    else:
        sys.argv = ["clearooms-wizard", "--demo"]
        runpy.run_module("clearooms_wizard", run_name="__main__", alter_sys=True)
    print(json.dumps({"error": "the wizard closed before it was painted"}), flush=True)
    os._exit(1)


if __name__ == "__main__":
    main()
