"""The wizard's icons, wherever it runs: an installed wheel, a frozen app or a source checkout.

In the source tree the files live in ``resources/`` at the top of the project. The wheel and the
frozen app carry the ones the program needs inside the package, as ``clearooms_wizard/assets/``
(``pyproject.toml`` maps ``resources/`` there; ``packaging/clearooms_wizard.spec`` does the same),
and they are found through :mod:`importlib.resources`. A source checkout, including an editable
install, has no ``assets`` folder, so the top-level ``resources/`` is used instead.

Qt is imported only by the functions that return Qt objects, so the command line can import this
module without loading Qt.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from PySide6.QtGui import QIcon

#: The application's id: the desktop entry, the AppStream metadata and the macOS bundle use it.
APP_ID = "com.clearooms.Wizard"
#: The application icon's file name, without extension or size.
APP_ICON = "clearooms-wizard"
#: The sizes of the application icon's PNG renderings (``packaging/build_icons.py`` makes them).
APP_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

_PACKAGE = "clearooms_wizard"
_PACKAGED_FOLDER = "assets"
# Files handed out as real paths stay where they are until the program ends.
_ON_DISK = contextlib.ExitStack()
atexit.register(_ON_DISK.close)


class ResourceMissing(LookupError):
    """A resource the program expects is not there: an incomplete install or build."""


@functools.cache
def resource_root() -> Traversable:
    """The folder the resources come from (see the module's documentation)."""
    # Imported here: the wizard's first page needs no resource file, and this costs ~2 ms.
    from importlib.resources import files

    packaged = files(_PACKAGE) / _PACKAGED_FOLDER
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / "resources"
    if source.is_dir():
        return source
    raise ResourceMissing(
        f"The wizard's resources are missing: neither {packaged} nor {source} exists. "
        "Reinstall the wizard."
    )


@functools.cache
def resource_path(relative: str) -> Path:
    """A real file for ``relative`` (``"icons/clearooms-wizard.svg"``), for APIs that need one."""
    item = resource_root()
    for part in relative.split("/"):
        item = item / part
    if not item.is_file():
        raise ResourceMissing(f"The wizard's resource {relative!r} is missing. Reinstall it.")
    from importlib.resources import as_file

    # A plain folder gives the file itself; an archive gives a copy kept until exit.
    return _ON_DISK.enter_context(as_file(item))


def icon_path(name: str) -> Path:
    """An icon file, by its name in ``resources/icons/`` (``"clearooms-wizard-48.png"``)."""
    return resource_path(f"icons/{name}")


def app_icon() -> QIcon:
    """The application icon: the SVG, with its PNG renderings used at their exact sizes."""
    from PySide6.QtGui import QIcon

    # The SVG first, so that Qt's SVG icon engine serves any size the PNGs do not cover.
    icon = QIcon(str(icon_path(f"{APP_ICON}.svg")))
    for size in APP_ICON_SIZES:
        icon.addFile(str(icon_path(f"{APP_ICON}-{size}.png")))
    return icon
