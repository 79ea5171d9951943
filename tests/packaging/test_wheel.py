"""The wheel carries the icons, and resources.py finds them there without the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from clearooms_wizard import __version__, resources
from tests.packaging.support import ROOT, environment_without_test_cache

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # From a copy: setuptools builds in the source folder's build/, whose leftovers from earlier
    # builds would end up in the wheel.
    source = out / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
        ),
    )
    # pip builds in an isolated environment, fetching setuptools from the package index.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment_without_test_cache(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("clearooms_wizard-*.whl")
    return built


def test_wheel_carries_the_icons_and_nothing_else_from_resources(wheel: Path) -> None:
    assert wheel.name.startswith(f"clearooms_wizard-{__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    assets = {name for name in names if name.startswith("clearooms_wizard/assets/")}
    expected = {f"clearooms_wizard/assets/icons/{resources.APP_ICON}.svg"}
    expected |= {
        f"clearooms_wizard/assets/icons/{resources.APP_ICON}-{size}.png"
        for size in resources.APP_ICON_SIZES
    }
    assert assets == expected
    # Nothing else from resources/: no screenshots, no .ico or .icns, no top-level folder.
    assert not any(name.endswith((".png", ".ico", ".icns")) for name in names - assets)
    assert not any(name.startswith("resources/") for name in names)


def test_wheel_ships_the_package_only(wheel: Path) -> None:
    # Not the developer tools (tools/, such as the screenshot renderer), nor the tests.
    names = zipfile.ZipFile(wheel).namelist()
    outside = [
        name
        for name in names
        if not name.startswith(("clearooms_wizard/", f"clearooms_wizard-{__version__}.dist-info/"))
    ]
    assert outside == []
    assert "clearooms_wizard/ui/screenshots.py" not in names


def test_gui_script_is_declared(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        points = archive.read(f"clearooms_wizard-{__version__}.dist-info/entry_points.txt")
    text = points.decode()
    assert "[console_scripts]" in text and "[gui_scripts]" in text


def test_resources_load_from_the_unpacked_wheel(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # -S: no site-packages, so neither the editable install nor the source tree can answer.
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "from clearooms_wizard import resources\n"
        "print(resources.resource_root())\n"
        "print(resources.icon_path('clearooms-wizard-48.png'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    root, icon = (Path(line) for line in result.stdout.splitlines())
    assert root == site / "clearooms_wizard" / "assets"
    assert icon.is_file() and icon.is_relative_to(root)
