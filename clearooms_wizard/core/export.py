"""What Clearooms needs from the workspace: the offices and their rooms, as JSON or CSV."""

from __future__ import annotations

import csv
import errno
import io
import os
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.model import ImportedRoom
from clearooms_wizard.core.safetext import json_text, printable, without_controls
from clearooms_wizard.core.store import Store

EXPORT_FORMAT = "clearooms-wizard-export"
EXPORT_VERSION = 1
FORMATS = ("json", "csv")

CSV_FIELDS = (
    "office",
    "office_timezone",
    "email",
    "name",
    "capacity",
    "building",
    "floor_number",
    "floor_label",
    "room_lists",
    "graph_id",
    "calendar_access",
    "calendar_readable",
    "missing_from_microsoft_365",
    "first_imported_at",
    "updated_at",
)


class ExportError(ClearoomsError):
    pass


def csv_cell(value: object, for_terminal: bool = False) -> str:
    """A cell that a spreadsheet will not run as a formula, on one line and without control
    characters. For a terminal, direction marks go too; a file keeps them, as a right-to-left
    name needs them to read as Microsoft 365 shows it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)  # a basement's floor -1 is a number, not a formula
    raw = "" if value is None else str(value)
    text = printable(raw) if for_terminal else without_controls(raw)
    # A tab or line break before "=" was a formula trigger; it is a space now, and still one.
    return "'" + text if text.lstrip()[:1] in ("=", "+", "-", "@") else text


def export_document(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """Every office, each with its rooms: their details and last calendar access result."""
    offices = store.list_offices()
    by_office: defaultdict[int, list[ImportedRoom]] = defaultdict(list)
    for room in store.imported_rooms():
        by_office[room.office_id].append(room)
    exported: list[dict[str, Any]] = []
    for office in offices:
        rooms = []
        for room in by_office.get(office.id, []):
            data = room.to_json()
            data.pop("office")
            rooms.append(data)
        exported.append(
            {
                "name": office.name,
                "timezone": office.timezone,
                "created_at": office.created_at,
                "room_count": len(rooms),
                "rooms": rooms,
            }
        )
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "offices": exported,
    }


def export_json(store: Store, now: datetime | None = None) -> str:
    # Every string exactly as stored: control and direction characters are \u escapes, which
    # a JSON reader turns back into the same characters and a terminal shows as they are.
    return json_text(export_document(store, now))


def export_csv(store: Store, for_terminal: bool = False) -> str:
    """One row per room; an office with no rooms yet gets one row with the room cells empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for office in export_document(store)["offices"]:
        base = {"office": office["name"], "office_timezone": office["timezone"]}
        if not office["rooms"]:
            writer.writerow([csv_cell(base.get(name), for_terminal) for name in CSV_FIELDS])
        for room in office["rooms"]:
            row = {**base, **room, "room_lists": ";".join(room["room_lists"])}
            writer.writerow([csv_cell(row.get(name), for_terminal) for name in CSV_FIELDS])
    return buffer.getvalue()


def render_export(store: Store, fmt: str = "json", for_terminal: bool = False) -> str:
    """The export as text; ``for_terminal`` when it is printed rather than written to a file."""
    if fmt == "csv":
        return export_csv(store, for_terminal)
    if fmt == "json":
        return export_json(store)
    raise ValueError(f"unknown export format {fmt!r}")


def write_export_file(text: str, path: Path) -> None:
    """Write atomically: the file is either the whole export or left as it was."""
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(
            f"The folder {folder} does not exist. Create it first, or choose another place "
            "for the export."
        )
    if path.is_dir():
        raise ExportError(f"{path} is a folder. Give a file name, such as {path / 'rooms.json'}.")
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        raise _export_problem(exc, path) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _export_problem(exc: OSError, path: Path) -> ExportError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ExportError(
            f"The disk is full, so the export was not written to {path}. Free some space, or "
            "choose another place."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(
            f"You may not write to {path.parent}, so the export was not written. Choose "
            "another place, such as your Documents folder."
        )
    return ExportError(f"The export could not be written to {path} ({exc.strerror}).")
