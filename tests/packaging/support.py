"""Paths and small readers shared by the packaging tests."""

from __future__ import annotations

import importlib.util
import os
import struct
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"
LINUX = PACKAGING / "linux"


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def load_script(name: str) -> ModuleType:
    """A script in packaging/ as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def ico_images(data: bytes) -> list[tuple[int, bytes]]:
    """(size from the directory, image bytes) for each image of a Windows .ico."""
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1), "not an icon file"
    images = []
    for index in range(count):
        entry = data[6 + 16 * index : 6 + 16 * (index + 1)]
        width, _height, _colours, _reserved, _planes, _bits, size, offset = struct.unpack(
            "<BBBBHHII", entry
        )
        images.append((width or 256, data[offset : offset + size]))
    return images


def icns_images(data: bytes) -> list[tuple[str, bytes]]:
    """(type code, image bytes) for each element of a macOS .icns."""
    assert data[:4] == b"icns", "not an icns file"
    (total,) = struct.unpack(">I", data[4:8])
    assert total == len(data), "icns length field does not match the file"
    images, offset = [], 8
    while offset < total:
        kind = data[offset : offset + 4].decode("ascii")
        (length,) = struct.unpack(">I", data[offset + 4 : offset + 8])
        images.append((kind, data[offset + 8 : offset + length]))
        offset += length
    return images


def environment_without_test_cache() -> dict[str, str]:
    """The tests' environment, but with the user's own cache folder (pip, PyInstaller)."""
    env = dict(os.environ)
    env.pop("XDG_CACHE_HOME", None)
    return env
