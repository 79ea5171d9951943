"""The log file: what support needs (ids, outcomes), and never a secret or a token."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.core.logs import configure_logging, default_log_path, remember_secret
from clearooms_wizard.demo import Fault, data
from tests.conftest import ServeDemo

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.")


def cli(*argv: str) -> int:
    return main(list(argv), stdin=io.StringIO(""), stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def log_file() -> Path:
    return default_log_path()


def test_a_debug_run_logs_ids_and_outcomes_but_no_secret(log_file: Path, tmp_path: Path) -> None:
    workspace = str(tmp_path / "ws.sqlite3")
    assert cli("check", "--demo", "--log-level", "debug") == 0
    assert cli("check", "--demo-scenario", "wrong-secret", "--log-level", "debug") == 1
    assert cli("offices", "add", "HQ", "--demo", "--workspace", workspace) == 0
    assert (
        cli(
            "rooms",
            "import",
            "--demo",
            "--office",
            "HQ",
            "--all",
            "--workspace",
            workspace,
            "--log-level",
            "debug",
        )
        == 0
    )
    # "Set it up for me": an administrator's sign-in (one-time code, tokens) and a new secret.
    assert cli("register", "--demo", "--workspace", workspace, "--log-level", "debug") == 0
    text = log_file.read_text(encoding="utf-8")
    assert "register: done" in text
    # The one-time sign-in code, as a query (code=...) or as MSAL's debug JSON ("code": "...").
    assert not re.search(r"\bcode\W{1,4}[A-Za-z0-9._~-]{20,}", text)
    assert "secretText" not in text
    assert "check token: fail (AADSTS7000215)" in text
    assert "correlation_id=" in text
    assert re.search(r"GET https://graph\.demo\.clearooms\.invalid/v1\.0/\S+ -> 200", text)
    assert "client-request-id " in text
    for secret in (data.APP_SECRET, data.WRONG_SECRET):
        assert secret not in text
    assert not JWT.search(text)


def test_secrets_are_removed_from_messages_and_tracebacks(tmp_path: Path) -> None:
    path = configure_logging("debug", tmp_path / "x.log")
    assert path is not None
    remember_secret("Zq9~VerySecretValue")
    logger = logging.getLogger("clearooms_wizard.test")
    logger.info("posting %s", "Zq9~VerySecretValue")
    try:
        raise RuntimeError("bad value Zq9~VerySecretValue")
    except RuntimeError:
        logger.exception("failed with Bearer eyJabcdefgh.eyJabcdefgh.sig")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "Zq9~VerySecretValue" not in text
    assert text.count("[secret removed]") >= 2  # the message and the traceback
    assert "[token removed]" in text


def test_an_unusable_log_folder_does_not_stop_anything(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert configure_logging("info", blocker / "sub" / "x.log") is None


FORGED = "\n2026-11-25 09:00:00,000 INFO MainThread clearooms_wizard: check token: pass"
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\u2066\r\u2028"


def test_each_record_is_one_line_whatever_its_message_args_or_traceback(tmp_path: Path) -> None:
    path = configure_logging("debug", tmp_path / "x.log")
    assert path is not None
    logger = logging.getLogger("clearooms_wizard.test")
    logger.info("room %s" + FORGED, "Board" + HOSTILE)
    logger.warning("Graph said %r", {"code": "ErrorAccessDenied" + HOSTILE + FORGED})
    try:
        raise RuntimeError("bad answer" + FORGED + HOSTILE)
    except RuntimeError:
        logger.exception("failed" + FORGED)
    logger.info("with a stack", stack_info=True)
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == ""
    assert len(lines[:-1]) == 4, lines
    assert all(" clearooms_wizard.test: " in line for line in lines[:-1])
    text = path.read_text(encoding="utf-8")
    for char in "\x1b\x07\x9b\u202e\u2066\r\u2028":
        assert char not in text
    # Escaped, not lost: support staff can still see what Microsoft sent.
    assert "Board\\u001b]0;owned\\u0007" in text and "\\u202eevil" in text
    assert "Traceback (most recent call last):\\n" in text


def test_an_error_code_from_a_hostile_tenant_stays_on_its_log_line(
    serve_demo: ServeDemo, log_file: Path
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            "microsoft.graph.room",
            status=403,
            code="ErrorAccessDenied\x1b[2J" + FORGED,
            message="Access is denied.\x07" + FORGED,
            times=None,
        )
    )
    code, _, _ = served.run_cli("check", "--log-level", "debug")
    assert code == 1
    text = log_file.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text
    for line in text.splitlines():
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", line), line
    assert "ErrorAccessDenied\\u001b[2J\\n2026" in text


def test_a_record_that_reaches_a_replaced_log_file_does_not_reopen_it(tmp_path: Path) -> None:
    configure_logging("info", tmp_path / "first.log")
    (first,) = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.FileHandler) and h.baseFilename == str(tmp_path / "first.log")
    ]
    configure_logging("info", tmp_path / "second.log")
    assert first not in logging.getLogger().handlers
    # As a thread that took the handler list just before the swap would hand it a record.
    first.handle(logging.LogRecord("late", logging.INFO, __file__, 1, "late", None, None))
    assert first.stream is None
    assert "late" not in (tmp_path / "first.log").read_text(encoding="utf-8")
