"""The log file support staff read: rotating, in the platform's log folder, and never secret.

Every record passes through a filter that removes the client secrets this process has seen and
anything shaped like an access token, so a debug log can be sent to support as it is. Each record
is one line: line breaks and control characters (in a room name, an error from Microsoft, a
traceback) are written as escapes, so no text can forge a record or drive the terminal that
shows the log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import platformdirs

from clearooms_wizard.core.appinfo import APP_AUTHOR, APP_NAME
from clearooms_wizard.core.redaction import redact
from clearooms_wizard.core.safetext import escaped

LOG_FILENAME = "clearooms-wizard.log"
LEVELS = ("debug", "info", "warning", "error")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_installed: logging.Handler | None = None


def remember_secret(secret: str) -> None:
    """Register a secret so that no log line can ever carry it."""
    value = secret.strip()
    if len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)


def known_secrets() -> list[str]:
    with _secrets_lock:
        return list(_secrets)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message without secrets or tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = known_secrets()
        record.msg, record.args = redact(record.getMessage(), secrets), None
        _redact_traceback(record, secrets)
        return True


def _redact_traceback(record: logging.LogRecord, secrets: Iterable[str]) -> None:
    """Render the record's traceback now, redacted, so no formatter can add the raw one (an
    exception's text may carry a secret)."""
    if record.exc_info:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)


_factory_installed = False


def _install_record_factory() -> None:
    """Redact every record as it is made, so that no handler (ours, a console one, Python's
    last-resort stderr printer) can see a secret."""
    global _factory_installed
    if _factory_installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        secrets = known_secrets()
        _redact_traceback(record, secrets)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a malformed call; logging reports it itself
        cleaned = escaped(redact(message, secrets))
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(redacting_factory)
    _factory_installed = True


class OneLineFormatter(logging.Formatter):
    """One line per record, whatever its message, arguments, traceback or stack hold."""

    def format(self, record: logging.LogRecord) -> str:
        return escaped(super().format(record))


def default_log_path() -> Path:
    return platformdirs.user_log_path(APP_NAME, APP_AUTHOR) / LOG_FILENAME


LOG_LIMIT = 1_000_000
LOG_BACKUPS = 5


def _rotate(target: Path) -> None:
    """Start a fresh log when the last one is past LOG_LIMIT, keeping LOG_BACKUPS old ones."""
    try:
        if target.stat().st_size < LOG_LIMIT:
            return
        for n in range(LOG_BACKUPS - 1, 0, -1):
            older = target.with_name(f"{target.name}.{n}")
            if older.exists():
                older.replace(target.with_name(f"{target.name}.{n + 1}"))
        target.replace(target.with_name(f"{target.name}.1"))
    except OSError:
        return  # a log that cannot be rotated is appended to


class _LogFile(logging.FileHandler):
    """The log file, which stays closed once closed. A thread that picked this handler up just
    before it was swapped for another would otherwise reopen the file with its record, and
    nothing would ever close it again."""

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is None and getattr(self, "_closed", False):
            return
        super().emit(record)


def configure_logging(level: str = "info", path: Path | None = None) -> Path | None:
    """Send the product's logs to a rotating file; returns its path, or None if it cannot be
    written (logging must never stop the wizard from working)."""
    global _installed
    _install_record_factory()
    target = path or default_log_path()
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
        _installed.close()
        _installed = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _rotate(target)
        # A plain FileHandler, rotated when the wizard starts: logging.handlers would load
        # socket, pickle and queue before the first page is on screen, and one run of the
        # wizard writes far less than the limit.
        handler: logging.Handler = _LogFile(target, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(
        OneLineFormatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactingFilter())
    handler.setLevel(getattr(logging, level.upper(), logging.INFO))
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, handler.level))
    # MSAL's debug lines write out its requests' forms (a one-time code, a client assertion):
    # support's debug level is for our own lines.
    logging.getLogger("msal").setLevel(logging.INFO)
    _installed = handler
    return target


def log_path() -> Path | None:
    handler = _installed
    if isinstance(handler, logging.FileHandler):
        return Path(handler.baseFilename)
    return None


def support_paths(workspace: Path) -> dict[str, str]:
    """Where this run keeps things, as the support report and the About box show them (the
    report's JSON keys them ``workspace`` and ``log_file``)."""
    return {
        "Workspace": str(workspace),
        "Log file": str(log_path() or "not written (the log folder cannot be used)"),
    }
