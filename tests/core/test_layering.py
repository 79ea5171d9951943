"""The dependency direction of DESIGN.md: core imports no Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import clearooms_wizard.core


def test_core_imports_no_qt() -> None:
    modules = [
        f"clearooms_wizard.core.{info.name}"
        for info in pkgutil.iter_modules(clearooms_wizard.core.__path__)
    ]
    assert "clearooms_wizard.core.checks" in modules
    code = (
        "import sys\n"
        f"for name in {modules!r}: __import__(name)\n"
        "import clearooms_wizard.demo\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print(','.join(qt))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"Qt imported by core: {result.stdout}"
