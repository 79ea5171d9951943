"""A keyring backend kept in a JSON file (``CLEAROOMS_TEST_KEYRING_FILE``), so that a secret saved
by one command-line process is there for the next, as the OS keyring would keep it, and a test
can read it back. Chosen with PYTHON_KEYRING_BACKEND=tests.support.file_keyring.FileKeyring."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

VARIABLE = "CLEAROOMS_TEST_KEYRING_FILE"


def _path() -> Path:
    return Path(os.environ[VARIABLE])


def read_all(path: Path) -> dict[str, str]:
    return json.loads(path.read_text()) if path.exists() else {}


class FileKeyring(KeyringBackend):  # type: ignore[misc,unused-ignore]
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call,unused-ignore]

    def get_password(self, service: str, username: str) -> str | None:
        return read_all(_path()).get(f"{service}|{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        values = read_all(_path())
        values[f"{service}|{username}"] = password
        # Written whole and renamed into place: a process killed mid-write leaves the old file.
        temporary = _path().with_suffix(".tmp")
        temporary.write_text(json.dumps(values))
        temporary.replace(_path())

    def delete_password(self, service: str, username: str) -> None:
        values = read_all(_path())
        if values.pop(f"{service}|{username}", None) is None:
            raise PasswordDeleteError(username)
        _path().write_text(json.dumps(values))
