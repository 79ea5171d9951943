"""Loading the room directory for a command, and a failure to reach Microsoft explained with
its fix (on standard error, before the command ends)."""

from __future__ import annotations

from typing import TextIO

from clearooms_wizard.cli.connection import credentials
from clearooms_wizard.cli.exits import Explained
from clearooms_wizard.cli.progress import progress_line, rooms_progress
from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.errors import ClearoomsError, UnexpectedResponse
from clearooms_wizard.core.fixes import explain_error, explain_rooms_error
from clearooms_wizard.core.model import RoomDirectory
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.core.store import InvalidInput
from clearooms_wizard.core.workspace import WorkspaceError
from clearooms_wizard.runtime import Runtime


def explain(exc: ClearoomsError, err: TextIO, loading_rooms: bool = False) -> None:
    explanation, code = explain_rooms_error(exc) if loading_rooms else explain_error(exc)
    summary = explanation.summary
    if isinstance(exc, UnexpectedResponse):
        # What came instead of Microsoft's answer, as Test Settings says it too.
        summary += f" {exc}"
    err.write(f"{printable(summary)}\nWhat to do: {printable(explanation.fix)}\n")
    if code:
        err.write(f"(code {printable(code)})\n")


def is_local(exc: ClearoomsError) -> bool:
    """A bad value or a workspace problem: not Microsoft's to explain, so left to the entry
    point (a usage error, or a failure in the words of the workspace)."""
    return isinstance(exc, InvalidInput | WorkspaceError)


def room_directory(runtime: Runtime, err: TextIO) -> RoomDirectory:
    """Every room and room list Microsoft 365 has. A failure is explained (with its fix) and
    ends the command; Ctrl+C stops the requests in flight."""
    signed_in = credentials(runtime)
    cancel = CancelToken()
    show_progress = err.isatty()
    try:
        with progress_line(err, show_progress):
            return runtime.use_cases.load_rooms(
                signed_in, runtime.connection.cloud, cancel, rooms_progress(err, show_progress)
            )
    except KeyboardInterrupt:
        cancel.cancel()
        raise Cancelled from None
    except ClearoomsError as exc:
        if is_local(exc):
            raise
        explain(exc, err, loading_rooms=True)
        raise Explained from None
