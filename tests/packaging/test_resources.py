"""The icons: present, up to date with their SVG source, and loadable through resources.py."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from clearooms_wizard import resources
from tests.packaging.support import ICONS, icns_images, ico_images, load_script, png_size

SVG = ICONS / f"{resources.APP_ICON}.svg"
STALE = "out of date with the SVG: run .venv/bin/python packaging/build_icons.py"


def _source_hash(data: bytes) -> str:
    image = QImage.fromData(data)
    assert not image.isNull()
    return str(image.text("Source-SHA256"))


def test_sizes_agree_with_the_icon_script() -> None:
    build_icons = load_script("build_icons")
    assert tuple(build_icons.PNG_SIZES) == resources.APP_ICON_SIZES
    assert build_icons.NAME == resources.APP_ICON


@pytest.mark.parametrize("size", resources.APP_ICON_SIZES)
def test_each_png_is_its_size_and_made_from_the_current_svg(size: int) -> None:
    data = resources.icon_path(f"{resources.APP_ICON}-{size}.png").read_bytes()
    assert png_size(data) == (size, size)
    assert _source_hash(data) == hashlib.sha256(SVG.read_bytes()).hexdigest(), STALE


def test_windows_icon_holds_every_size_up_to_256() -> None:
    images = ico_images((ICONS / f"{resources.APP_ICON}.ico").read_bytes())
    assert [size for size, _ in images] == [16, 24, 32, 48, 64, 128, 256]
    current = hashlib.sha256(SVG.read_bytes()).hexdigest()
    for size, data in images:
        assert png_size(data) == (size, size)
        assert _source_hash(data) == current, STALE


def test_macos_icon_holds_standard_and_retina_sizes() -> None:
    images = dict(icns_images((ICONS / f"{resources.APP_ICON}.icns").read_bytes()))
    expected = {"icp4": 16, "icp5": 32, "icp6": 64, "ic07": 128, "ic08": 256, "ic09": 512}
    expected |= {"ic10": 1024, "ic11": 32, "ic12": 64, "ic13": 256, "ic14": 512}
    assert {kind: png_size(data)[0] for kind, data in images.items()} == expected
    current = hashlib.sha256(SVG.read_bytes()).hexdigest()
    assert all(_source_hash(data) == current for data in images.values()), STALE


def test_app_icon_uses_the_png_at_its_size_and_the_svg_beyond(qapp: QApplication) -> None:
    icon = resources.app_icon()
    assert not icon.isNull()
    for size in (16, 48):
        drawn = icon.pixmap(size).toImage().convertToFormat(QImage.Format.Format_ARGB32)
        png = QImage(str(resources.icon_path(f"{resources.APP_ICON}-{size}.png")))
        assert drawn == png.convertToFormat(QImage.Format.Format_ARGB32)
    assert icon.pixmap(1024).width() == 1024  # drawn from the SVG, not a stretched PNG


def test_a_missing_resource_says_so() -> None:
    with pytest.raises(resources.ResourceMissing, match=r"nothing\.png"):
        resources.icon_path("nothing.png")


def test_source_checkout_uses_the_top_level_folder() -> None:
    root = resources.resource_root()
    assert isinstance(root, Path)
    assert root == ICONS.parent


def test_the_module_does_not_load_qt() -> None:
    code = (
        "import sys\n"
        "from clearooms_wizard import resources\n"
        "print(resources.icon_path('clearooms-wizard.svg'))\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    path, qt = result.stdout.splitlines()
    assert Path(path) == SVG
    assert qt == ""
