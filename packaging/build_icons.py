"""Make the application icon's PNG sizes, Windows .ico and macOS .icns from its SVG source.

    python packaging/build_icons.py            # writes next to the SVG, in resources/icons/

The generated files are committed: neither the wheel nor the frozen build runs this script. Run
it again after editing ``resources/icons/clearooms-wizard.svg``; a test fails until you do,
because every PNG records the SHA-256 of the SVG it was made from.

Rendering uses Qt's own SVG renderer (QtSvg is part of PySide6-Essentials), so there is no build
dependency beyond the project's own. The .ico and .icns containers hold PNG images and are
written here directly (Qt's writers store only one image per file).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
NAME = "clearooms-wizard"

#: The PNG files written next to the SVG (the Linux hicolor theme and Qt use these).
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: Windows: Explorer, the taskbar and the installer pick from these (256 is the ICO maximum).
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: macOS: each ICNS type code and the pixel size it holds (the "@2x" ones are Retina).
ICNS_TYPES = (
    ("icp4", 16),
    ("icp5", 32),
    ("icp6", 64),
    ("ic07", 128),
    ("ic08", 256),
    ("ic09", 512),
    ("ic10", 1024),  # 512@2x
    ("ic11", 32),  # 16@2x
    ("ic12", 64),  # 32@2x
    ("ic13", 256),  # 128@2x
    ("ic14", 512),  # 256@2x
)
#: The PNG text key that records which SVG a PNG was made from.
SOURCE_KEY = "Source-SHA256"


def source_hash(svg: Path) -> str:
    return hashlib.sha256(svg.read_bytes()).hexdigest()


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn on a transparent square of ``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QImageWriter, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    image.setText(SOURCE_KEY, source_hash(svg))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # QImageWriter rather than QImage.save, whose format argument PySide6 types inconsistently.
    writer = QImageWriter(buffer, QByteArray(b"png"))
    if not writer.write(image):
        raise SystemExit(f"could not encode a {size}px PNG: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows icon holding one PNG per size (Windows Vista and later read PNG entries)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        if not 1 <= size <= 256:
            raise ValueError(f"an ICO image is at most 256 pixels, not {size}")
        data = pngs[size]
        edge = 0 if size == 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def icns_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    """A macOS icon family: each entry is a four-letter type code and its PNG."""
    body = b"".join(
        kind.encode("ascii") + struct.pack(">I", len(data) + 8) + data for kind, data in entries
    )
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def build(svg: Path, output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    cache: dict[int, bytes] = {}

    def png(size: int) -> bytes:
        if size not in cache:
            cache[size] = render_png(svg, size)
        return cache[size]

    written: list[Path] = []

    def write(name: str, data: bytes) -> None:
        path = output / name
        path.write_bytes(data)
        written.append(path)

    for size in PNG_SIZES:
        write(f"{NAME}-{size}.png", png(size))
    write(f"{NAME}.ico", ico_bytes({size: png(size) for size in ICO_SIZES}))
    write(f"{NAME}.icns", icns_bytes([(kind, png(size)) for kind, size in ICNS_TYPES]))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--svg", type=Path, default=ICONS / f"{NAME}.svg", help="the source")
    parser.add_argument("--output", type=Path, default=ICONS, help="where to write the files")
    args = parser.parse_args(argv)
    # Rendering needs no screen; the offscreen platform keeps Qt from looking for one.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for path in build(args.svg, args.output):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
