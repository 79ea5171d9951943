"""Making a folder read-only for this very process, root included.

Tests run as root in CI, and root ignores permission bits; the immutable attribute (chattr +i)
binds root too. Where neither works the test is skipped, saying why."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _chattr(flag: str, paths: list[Path]) -> bool:
    tool = shutil.which("chattr")
    if tool is None:
        return False
    done = subprocess.run([tool, flag, *map(str, paths)], capture_output=True, check=False)
    return done.returncode == 0


def _writable(folder: Path) -> bool:
    probe = folder / ".write-probe"
    try:
        probe.write_text("")
    except OSError:
        return False
    probe.unlink()
    return True


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """The folder and every file in it cannot be changed (or added to) while inside."""
    paths = [*folder.iterdir(), folder]
    as_root = os.name == "posix" and os.geteuid() == 0
    modes = {path: path.stat().st_mode for path in paths}
    if as_root:
        if not _chattr("+i", paths):
            _chattr("-i", paths)  # any it did set before failing
            pytest.skip("running as root without chattr +i (CAP_LINUX_IMMUTABLE): root writes")
    else:
        for path in paths:
            path.chmod(modes[path] & ~0o222)
    try:
        if _writable(folder):
            pytest.skip("this file system lets this process write to a read-only folder")
        yield
    finally:
        if as_root:
            _chattr("-i", paths)
        else:
            for path, mode in modes.items():
                path.chmod(mode)
