"""What support staff and scripts meet on the command line: status tags, the rooms table,
the export's file format and overwriting, which options each command takes, and messages
worded for the command line."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.cli.parser import MICROSOFT_OPTIONS
from clearooms_wizard.cli.rooms import print_rooms
from clearooms_wizard.core.model import Room


def cli(*argv: str | Path, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli(*argv, "--help")
    assert exited.value.code == 0
    return capsys.readouterr().out


# -- status tags ---------------------------------------------------------------------------------


def test_every_status_tag_is_written_in_one_style() -> None:
    code, out, _ = cli("check", "--demo-scenario", "wrong-secret")
    assert code == 1
    assert "[FAIL]" in out and "[SKIP]" in out
    assert "[skip]" not in out
    code, out, _ = cli("check", "--demo-scenario", "wrong-secret", "--json")
    assert {c["status"] for c in json.loads(out)["checks"]} >= {"fail", "skip"}


# -- the rooms table -----------------------------------------------------------------------------

LONG_EMAIL = "room.the-very-long-conference-suite-name@northwind-demo.com"


def test_rooms_list_never_cuts_an_email_and_wraps_a_long_name() -> None:
    long_name = "The Very Long Conference Suite On The Top Floor Beside The Lifts"
    rooms = [
        Room(LONG_EMAIL, long_name, capacity=12, building="London HQ"),
        Room("room.ada@northwind-demo.com", "Ada", capacity=4, building="London HQ"),
    ]
    out = io.StringIO()
    print_rooms(rooms, 0, out)
    lines = out.getvalue().splitlines()
    assert any(LONG_EMAIL in line for line in lines)
    first = next(line for line in lines if LONG_EMAIL in line)
    assert first.startswith("The Very Long Conference Suite On The")
    # The rest of the name is on the next line, indented, and nothing of it is lost.
    follow_on = lines[lines.index(first) + 1]
    assert follow_on.startswith("  ") and "Top Floor Beside The Lifts" in follow_on
    # The columns stay aligned: every row's email starts where the header's does.
    column = lines[0].index("Email")
    assert lines[lines.index(first)].index(LONG_EMAIL) == column
    ada = next(line for line in lines if "room.ada@" in line)
    assert ada.index("room.ada@") == column


# -- export --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rooms.csv", "ROOMS.CSV"])
def test_export_to_a_csv_file_writes_csv_without_being_told(tmp_path: Path, name: str) -> None:
    assert cli("offices", "add", "London HQ")[0] == 0
    target = tmp_path / name
    code, out, err = cli("export", "--output", target)
    assert (code, out) == (0, ""), err
    assert target.read_text(encoding="utf-8").startswith("office,office_timezone,email")


def test_export_to_a_json_file_and_to_the_terminal_still_write_json(tmp_path: Path) -> None:
    assert cli("offices", "add", "London HQ")[0] == 0
    assert cli("export", "--output", tmp_path / "rooms.json")[0] == 0
    assert json.loads((tmp_path / "rooms.json").read_text(encoding="utf-8"))["offices"]
    code, out, _ = cli("export")
    assert code == 0 and json.loads(out)["offices"]


def test_export_with_an_extension_that_names_no_format_asks_for_one(tmp_path: Path) -> None:
    code, out, err = cli("export", "--output", tmp_path / "rooms.txt")
    assert (code, out) == (2, "")
    assert "add --format json or --format csv" in err
    assert not (tmp_path / "rooms.txt").exists()
    assert cli("export", "--output", tmp_path / "rooms.txt", "--format", "csv")[0] == 0
    assert (tmp_path / "rooms.txt").read_text(encoding="utf-8").startswith("office,")


def test_export_refuses_a_format_that_contradicts_the_file_name(tmp_path: Path) -> None:
    code, out, err = cli("export", "--output", tmp_path / "rooms.csv", "--format", "json")
    assert (code, out) == (2, "")
    assert "--format json does not match the file name “rooms.csv”" in err
    assert not (tmp_path / "rooms.csv").exists()


def test_export_replaces_an_existing_file_only_with_force(tmp_path: Path) -> None:
    target = tmp_path / "rooms.json"
    target.write_text("keep me", encoding="utf-8")
    code, out, err = cli("export", "--output", target)
    assert (code, out) == (2, "")
    assert "already exists. Add --force to replace it" in err
    assert target.read_text(encoding="utf-8") == "keep me"
    code, _, err = cli("export", "--output", target, "--force")
    assert code == 0, err
    assert json.loads(target.read_text(encoding="utf-8"))["format"] == "clearooms-wizard-export"


# -- which options each command takes ------------------------------------------------------------

OFFLINE = [["offices", "list"], ["offices", "add"], ["export"]]
ONLINE = [["check"], ["rooms", "list"], ["rooms", "import"], ["offices", "suggest"]]


@pytest.mark.parametrize("command", OFFLINE)
def test_a_command_that_only_uses_the_workspace_offers_only_its_options(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    shown = help_text(capsys, *command)
    for option in MICROSOFT_OPTIONS:
        assert option not in shown
    for option in ("--workspace", "--demo", "--demo-scenario", "--log-level"):
        assert option in shown


@pytest.mark.parametrize("command", ONLINE)
def test_a_command_that_talks_to_microsoft_offers_the_connection_options(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    shown = help_text(capsys, *command)
    for option in (*MICROSOFT_OPTIONS, "--workspace", "--demo", "--log-level"):
        assert option in shown


@pytest.mark.parametrize("command", [*OFFLINE, *ONLINE, ["rooms"], ["offices"]])
def test_every_command_describes_itself_in_its_help(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    shown = help_text(capsys, *command)
    # The description is the paragraph between the usage and the options.
    paragraphs = shown.split("\n\n")
    assert paragraphs[0].startswith("usage:")
    assert not paragraphs[1].lstrip().startswith(("options:", "positional arguments:"))


@pytest.mark.parametrize("before", [True, False])
@pytest.mark.parametrize("command", [["offices", "list"], ["offices", "add", "HQ"], ["export"]])
def test_a_connection_option_given_to_a_workspace_command_is_a_clear_usage_error(
    capsys: pytest.CaptureFixture[str], command: list[str], before: bool
) -> None:
    option = ["--tenant", "contoso.onmicrosoft.com"]
    argv = [*option, *command] if before else [*command, *option]
    with pytest.raises(SystemExit) as exited:
        cli(*argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--tenant is only for commands that talk to Microsoft 365" in err
    assert "contoso" not in err
    assert not Path(os.environ["CLEAROOMS_WORKSPACE"]).exists()


# -- messages worded for the command line --------------------------------------------------------


def test_a_duplicate_office_says_what_to_type_not_what_to_click() -> None:
    assert cli("offices", "add", "London HQ")[0] == 0
    code, out, err = cli("offices", "add", "london hq")
    assert (code, out) == (2, "")
    assert "already an office called “London HQ”" in err
    assert '--office "London HQ"' in err and "offices list" in err
    assert "Choose it from the list" not in err


# -- check --json: what Copy report says ---------------------------------------------------------


def test_check_json_carries_what_the_support_report_does() -> None:
    from clearooms_wizard import __version__
    from clearooms_wizard.core.logs import default_log_path
    from clearooms_wizard.demo import data

    code, out, _ = cli("check", "--demo-scenario", "wrong-secret", "--json")
    assert code == 1
    payload = json.loads(out)
    # The keys scripts read already, unchanged.
    assert payload["ok"] is False and payload["tenant_id"] == data.TENANT_ID
    assert payload["demo_scenario"] == "wrong-secret" and len(payload["checks"]) == 9
    # And what Copy report gives support.
    assert payload["version"] == __version__
    assert payload["qt_binding"].startswith("PySide6") and payload["python"] and payload["os"]
    assert payload["tenant"] == "northwind-demo.onmicrosoft.com"
    assert payload["client_id"] == data.APP_ID
    assert payload["cloud"]["key"] == "demo" and payload["cloud"]["authority_host"]
    assert payload["cloud"]["graph_root"]
    assert payload["client_secret"] == {
        "entered": True,
        "hint": data.WRONG_SECRET[:3],
        "length": len(data.WRONG_SECRET),
    }
    assert data.WRONG_SECRET[:4] not in out
    assert payload["log_file"] == str(default_log_path())
    assert payload["workspace"].endswith("demo-workspace.sqlite3")


# -- the log -------------------------------------------------------------------------------------


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_the_log_names_the_command_and_subcommand_but_no_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    assert cli("offices", "add", "Northwind Tower", "--timezone", "Europe/London")[0] == 0
    assert cli("offices", "list", "--json")[0] == 0
    messages = logged(caplog)
    assert any(m.endswith(": offices add") for m in messages)
    assert any(m.endswith(": offices list") for m in messages)
    # The office created is an event of its own, named; the command line's words are not logged.
    assert "added the office “Northwind Tower” (time zone Europe/London)" in messages
    assert not any("--timezone" in m for m in messages)


def test_the_log_says_what_was_checked_imported_and_exported_and_never_the_secret(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from clearooms_wizard.demo import data

    caplog.set_level(logging.INFO)
    secret = data.APP_SECRET + "\n"
    assert cli("check", "--demo", "--secret-stdin", stdin=secret)[0] == 0
    assert cli("offices", "add", "London HQ", "--demo")[0] == 0
    importing = ["rooms", "import", "--office", "London HQ", "--all", "--demo", "--secret-stdin"]
    assert cli(*importing, stdin=secret)[0] == 0
    target = tmp_path / "rooms.csv"
    assert cli("export", "--demo", "--output", target)[0] == 0
    assert cli("export", "--demo", "--format", "json")[0] == 0
    messages = logged(caplog)
    text = "\n".join(messages)
    assert any(m.endswith(": check") for m in messages)
    assert any(m.endswith(": rooms import") for m in messages)
    assert "check token: pass" in text and "check calendar" in text
    imported = [m for m in messages if m.startswith("imported into the office “London HQ”: ")]
    assert imported == ["imported into the office “London HQ”: new 24, updated 0, unchanged 0, "
                        "blocked 0, failed 0, missing 0"]  # fmt: skip
    assert f"exported as csv to {target}: offices 1, rooms 24" in messages
    assert "exported as json to standard output: offices 1, rooms 24" in messages
    assert data.APP_SECRET not in text and data.APP_SECRET[:8] not in text


def test_a_use_case_logs_the_office_an_import_creates(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from clearooms_wizard.core.cancel import CancelToken
    from clearooms_wizard.core.usecases import ImportRequest
    from clearooms_wizard.runtime import ConnectionOptions, build_runtime

    caplog.set_level(logging.INFO)
    runtime = build_runtime(ConnectionOptions(demo=True, workspace=str(tmp_path / "ws.sqlite3")))
    use_cases, connection = runtime.use_cases, runtime.connection
    test = use_cases.test_connection(connection, CancelToken())
    list(test.run())
    assert test.signed_in is not None
    directory = use_cases.load_rooms(test.signed_in, connection.cloud, CancelToken())
    rooms = tuple(sorted(directory.rooms, key=lambda r: r.name)[:2])
    request = ImportRequest(
        "Canary Wharf", True, rooms, directory, test.signed_in, connection.cloud
    )
    prepared = use_cases.prepare_import(request, None, None, CancelToken())
    use_cases.apply_import(prepared, False, CancelToken())
    messages = logged(caplog)
    assert "created the office “Canary Wharf”" in messages
    assert any(m.startswith("imported into the office “Canary Wharf”: new 2,") for m in messages)
    assert any(m.startswith("loaded rooms ") and ", left out 0" in m for m in messages)
