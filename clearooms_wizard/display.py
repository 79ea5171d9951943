"""Whether Qt can open a window here, asked before Qt is: when it cannot, Qt aborts the process
with a dump about platform plugins that tells an office manager nothing. This says, in one
line, what to check or install instead. Qt is never imported here."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

# What the xcb platform plugin needs that a minimal or server install of Debian or Ubuntu
# leaves out; libxcb-cursor0 is the one Qt 6 added, and the one most often missing.
LINUX_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 "
    "libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1"
)
_XCB_CURSOR = "libxcb-cursor.so.0"


def _loads(library: str) -> bool:
    import ctypes  # only here: the wizard's cold start does not pay for it elsewhere

    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def display_problem(
    env: Mapping[str, str],
    platform: str = sys.platform,
    loads: Callable[[str], bool] = _loads,
) -> str | None:
    """Why Qt could not open a window on this Linux desktop, in a sentence, or None when it
    should (or when another platform plugin was asked for: Qt then says for itself)."""
    if not platform.startswith("linux"):
        return None
    requested = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if requested not in ("", "xcb"):
        return None
    if not requested and env.get("WAYLAND_DISPLAY"):
        return None  # Qt may use Wayland, which needs none of the xcb libraries
    if not env.get("DISPLAY"):
        return (
            "cannot open the wizard's window: no display was found (DISPLAY is not set). Run it "
            "in a desktop session, or use a command instead (see clearooms-wizard --help)."
        )
    if not loads(_XCB_CURSOR):
        return (
            "cannot open the wizard's window: system libraries Qt needs are missing. On Debian "
            f"or Ubuntu install them with: sudo apt install {LINUX_PACKAGES}"
        )
    return None
