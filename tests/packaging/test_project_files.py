"""The packaging files agree with the code: packages, version, application id, desktop entry."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from clearooms_wizard import __version__, resources
from tests.packaging.support import LINUX, PACKAGING, ROOT, load_script, pyproject

DESKTOP = LINUX / f"{resources.APP_ID}.desktop"
METAINFO = LINUX / f"{resources.APP_ID}.metainfo.xml"
ISS = PACKAGING / "windows" / "clearooms-wizard.iss"
SPEC = PACKAGING / "clearooms_wizard.spec"


def test_the_wheel_lists_every_package_in_the_source_tree() -> None:
    # The packages are listed, not found (see pyproject.toml); a new one must be added there.
    setuptools = pyproject()["tool"]["setuptools"]
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "clearooms_wizard").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == found | {"clearooms_wizard.assets"}
    assert setuptools["package-dir"] == {"clearooms_wizard.assets": "resources"}


def test_the_wheel_carries_what_the_program_loads_and_no_screenshots() -> None:
    patterns = pyproject()["tool"]["setuptools"]["package-data"]["clearooms_wizard.assets"]
    shipped = {
        path.relative_to(ROOT / "resources").as_posix()
        for pattern in patterns
        for path in (ROOT / "resources").glob(pattern)
    }
    assert f"icons/{resources.APP_ICON}.svg" in shipped
    for size in resources.APP_ICON_SIZES:
        assert f"icons/{resources.APP_ICON}-{size}.png" in shipped
    assert not any(name.startswith("screenshots/") for name in shipped)


def test_build_script_reads_the_version_from_the_package() -> None:
    assert load_script("build").project_version() == __version__


def test_no_packaging_file_repeats_the_version() -> None:
    for path in (SPEC, ISS, PACKAGING / "build.py"):
        assert __version__ not in path.read_text(encoding="utf-8"), path
    iss = ISS.read_text(encoding="utf-8")
    assert "AppVersion={#AppVersion}" in iss
    assert "#ifndef AppVersion" in iss


def test_the_newest_appstream_release_is_this_version() -> None:
    releases = ET.parse(METAINFO).getroot().findall("releases/release")
    assert releases, "the AppStream file lists no release"
    newest = releases[0].get("version")
    assert newest == __version__, (
        f'add <release version="{__version__}" date="..."> at the top of {METAINFO.name}'
    )


def test_desktop_entry_and_appstream_agree_with_the_program() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(DESKTOP, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    scripts = pyproject()["project"]["scripts"]
    assert desktop["Exec"].split()[0] in scripts
    assert desktop["Icon"] == resources.APP_ID

    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == resources.APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("icon") == resources.APP_ID
    assert root.findtext("provides/binary") in scripts


def test_spec_and_bundle_use_the_application_id() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    assert re.search(rf'APP_ID = "{re.escape(resources.APP_ID)}"', spec)
    assert "bundle_identifier=APP_ID" in spec


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli is not installed")
def test_appstream_metadata_is_valid() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None, reason="desktop-file-validate is not installed"
)
def test_desktop_entry_is_valid() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
