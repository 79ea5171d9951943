"""Writing a file the user asked for (a script, a calendar reminder): whole or not at all, with
a plain reason when it cannot be written."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from clearooms_wizard.core.errors import ClearoomsError


def write_whole(text: str, path: Path, what: str, example_name: str) -> None:
    """Write ``text`` as UTF-8, exactly as given (no newline translation), replacing ``path``
    only once all of it is written. Raises ClearoomsError saying plainly why it could not be
    written; ``what`` names the file ("The script"), ``example_name`` is a file name to suggest
    when ``path`` is a folder."""
    folder = path.parent
    if not folder.is_dir():
        raise ClearoomsError(f"The folder {folder} does not exist. Choose another place.")
    if path.is_dir():
        raise ClearoomsError(
            f"{path} is a folder. Give a file name, such as {path / example_name}."
        )
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        reason = {
            errno.ENOSPC: "the disk is full",
            errno.EACCES: "you may not write there",
            errno.EPERM: "you may not write there",
            errno.EROFS: "that place is read-only",
        }.get(exc.errno or 0, exc.strerror or "the system refused")
        raise ClearoomsError(
            f"{what} could not be saved to {path}: {reason}. Choose another place."
        ) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
