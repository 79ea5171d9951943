"""A calendar reminder to renew the client secret, as an .ics file (RFC 5545) that any calendar
opens: an all-day event 30 days before the secret expires, saying what to do. It works without
the wizard running. It names the app and the expiry date, never the secret or its hint."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from clearooms_wizard import __version__
from clearooms_wizard.core.safetext import printable

DAYS_BEFORE = 30
SUMMARY = "Renew the Clearooms client secret"
CERTIFICATE_SUMMARY = "Renew the Clearooms certificate"
_MAX_OCTETS = 75
REMINDER_FILE_NAME = "renew-clearooms.ics"


@dataclass(frozen=True)
class Reminder:
    expires_at: datetime
    client_id: str
    app_name: str = ""
    # The app signs in with a certificate rather than a client secret.
    certificate: bool = False

    @property
    def summary(self) -> str:
        return CERTIFICATE_SUMMARY if self.certificate else SUMMARY

    def event_day(self, today: date) -> date:
        """30 days before the expiry, or today when that day has passed."""
        return max(self.expires_at.astimezone(UTC).date() - timedelta(days=DAYS_BEFORE), today)


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    parts: list[str] = []
    current, size = "", 0
    limit = _MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            # Continuation lines begin with a space, which counts towards their 75.
            current, size, limit = "", 0, _MAX_OCTETS - 1
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def render_ics(reminder: Reminder, now: datetime | None = None) -> str:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    day = reminder.event_day(now.date())
    expiry = f"{reminder.expires_at.astimezone(UTC):%d %B %Y}".lstrip("0")
    app = printable(reminder.app_name) or "The Clearooms app"
    what, button = (
        ("a certificate", "Renew the certificate…")
        if reminder.certificate
        else ("a client secret", "Renew the secret…")
    )
    description = (
        f"{app} (client ID {printable(reminder.client_id)}) signs in to Microsoft 365 with "
        f"{what} that expires on {expiry}. When it expires, Clearooms stops seeing your "
        "room bookings.\n\n"
        "To renew it: open the Clearooms setup wizard, press Test Settings on the Connect page, "
        f"then {button} (an administrator signs in). Or run:\n"
        "  clearooms-wizard secret renew\n"
        "Check it afterwards with: clearooms-wizard secret status"
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//Clearooms//Setup wizard {__version__}//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uuid.uuid4()}@clearooms-wizard",
        f"DTSTAMP:{now:%Y%m%dT%H%M%SZ}",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{_escape(reminder.summary)}",
        f"DESCRIPTION:{_escape(description)}",
        "TRANSP:TRANSPARENT",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{_escape(reminder.summary)}",
        "TRIGGER:PT9H",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def save_reminder(reminder: Reminder, path: Path, now: datetime | None = None) -> Path:
    """Write the .ics file (replacing one already there), whole or not at all, and return where
    it went. Raises ClearoomsError saying plainly why it could not be written."""
    from clearooms_wizard.core.files import write_whole

    target = path.expanduser()
    if target.suffix.lower() != ".ics":
        target = target.with_name(target.name + ".ics")
    write_whole(render_ics(reminder, now), target, "The reminder", REMINDER_FILE_NAME)
    return target
