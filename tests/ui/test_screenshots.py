"""The screenshot tool (tools/screenshots.py) renders every page and error state it promises."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from tools.screenshots import main


def test_every_page_is_rendered(qapp: QApplication, tmp_path: Path) -> None:
    assert main([str(tmp_path), "--size", "800x600"]) == 0
    names = sorted(path.stem for path in tmp_path.glob("*.png"))
    assert names == [
        "1-welcome",
        "2-register",
        "2-register-it-admin",
        "2-setup-1-intro",
        "2-setup-2-review",
        "2-setup-2-review-app-admin",
        "2-setup-3-progress",
        "2-setup-4-approval",
        "2-setup-5-failed",
        "3-connect",
        "3-connect-no-consent",
        "3-connect-passed",
        "3-connect-remove-grant",
        "3-connect-rooms-only-script",
        "3-connect-set-up-for-me",
        "3-connect-wrong-secret",
        "4-rooms",
        "4-rooms-none-found",
        "5-import-done",
        "5-import-done-problems",
        "5-import-plan",
        "5-import-plan-problems",
    ]
    image = QImage(str(tmp_path / "3-connect-passed.png"))
    assert (image.width(), image.height()) == (800, 600)
