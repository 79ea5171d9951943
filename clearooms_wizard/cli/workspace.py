"""The workspace as the commands open it: anything the user should read about it comes first."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from clearooms_wizard.core.model import Office
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.core.store import UnknownOffice
from clearooms_wizard.core.workspace import Workspace, open_workspace
from clearooms_wizard.runtime import ConnectionOptions, chosen_workspace


@contextmanager
def opened_workspace(
    options: ConnectionOptions, err: TextIO, *, read_only: bool = False
) -> Iterator[Workspace]:
    workspace = open_workspace(chosen_workspace(options, os.environ), read_only=read_only)
    if workspace.notice:
        err.write(f"Note: {printable(workspace.notice)}\n\n")
        err.flush()
    try:
        yield workspace
    finally:
        workspace.close()


def existing_office(workspace: Workspace, name: str) -> Office:
    """The office called ``name``; else UnknownOffice, which lists the offices there are."""
    office = workspace.find_office(name)
    if office is None:
        raise UnknownOffice(name, [o.name for o in workspace.list_offices()])
    return office
