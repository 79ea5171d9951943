"""What the command line lets through to a terminal and to the log: no control or direction
characters from Microsoft 365, and never a value that looks like a client secret."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import keyring
import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.core.logs import default_log_path
from clearooms_wizard.demo import Fault
from tests.conftest import Served, ServeDemo

# A room name as a hostile tenant (or a proxy rewriting answers) could send it: OSC 52 (write
# the clipboard), BEL, CSI (clear the screen), their 8-bit C1 forms, a right-to-left override,
# an isolate, and a line break that would start a forged line of output.
HOSTILE_NAME = (
    "Evil\x1b]52;c;aGk=\x07 Room\x1b[2J\x9b31m\x9d0;title\x9c\u202emoor\u2066\nFORGED LINE\r\x85end"
)
HOSTILE_CODE = "ErrorAccessDenied\x1b[2J\x1b]0;owned\x07"
UNSAFE = ["\x1b", "\x07", "\x9b", "\x9d", "\x9c", "\x85", "\u202e", "\u2066", "\r"]


def assert_terminal_safe(*texts: str) -> None:
    for text in texts:
        found = [char for char in UNSAFE if char in text]
        assert not found, f"reached the terminal: {found!r} in {text!r}"
        assert not any(line.startswith("FORGED") for line in text.split("\n")), text


def cli(*argv: str | Path, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def served_cli(served: Served, *argv: str | Path) -> tuple[int, str, str]:
    scenario = served.tenant.scenario
    return cli(
        *argv,
        "--tenant",
        scenario.tenant,
        "--client-id",
        scenario.client_id,
        *served.cli_args(),
        "--secret-stdin",
        "--log-level",
        "debug",
        stdin=scenario.client_secret,
    )


def hostile_rooms(served: Served) -> dict[str, Any]:
    """Microsoft 365's first room, renamed (with its building and floor) by a hostile tenant."""
    room = served.tenant.directory.rooms[0].to_graph()
    room.update(
        displayName=HOSTILE_NAME,
        building="Tower\x1b[5m\u2067B",
        floorLabel="\x9b2J4th",
        label="\x07",
    )
    served.tenant.inject(
        Fault(
            r"microsoft\.graph\.room($|\?)",
            status=200,
            headers={"Content-Type": "application/json"},
            body={"value": [room]},
            times=None,
        )
    )
    return room


def exported_name(text: str, room: dict[str, Any]) -> str:
    rooms = [r for office in json.loads(text)["offices"] for r in office["rooms"]]
    return str(next(r["name"] for r in rooms if r["email"] == room["emailAddress"]))


@pytest.fixture
def hostile(serve_demo: ServeDemo) -> tuple[Served, dict[str, Any]]:
    served = serve_demo("healthy")
    return served, hostile_rooms(served)


def test_room_lists_print_no_control_or_direction_characters(
    hostile: tuple[Served, dict[str, Any]],
) -> None:
    served, room = hostile
    code, out, err = served_cli(served, "rooms", "list")
    assert code == 0, err
    assert_terminal_safe(out, err)
    # The long name wraps, its second line indented under the first.
    assert "Evil]52;c;aGk= Room[2J31m0;titlemoor  " in out and "\n  FORGED LINE  end" in out
    code, out, err = served_cli(served, "rooms", "list", "--csv")
    assert code == 0, err
    assert_terminal_safe(out, err)
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(out))}
    assert (
        rows[room["emailAddress"]]["name"]
        == "Evil]52;c;aGk= Room[2J31m0;titlemoor FORGED LINE  end"
    )
    code, out, err = served_cli(served, "rooms", "list", "--json")
    assert code == 0, err
    assert_terminal_safe(out, err)
    # JSON is faithful: a reader gets Microsoft's name back, character for character.
    names = {r["email"]: r["name"] for r in json.loads(out)}
    assert names[room["emailAddress"]] == HOSTILE_NAME
    code, out, err = served_cli(served, "offices", "suggest")
    assert code == 0, err
    assert_terminal_safe(out, err)
    code, out, err = served_cli(served, "offices", "suggest", "--json")
    assert_terminal_safe(out, err)
    assert_terminal_safe(default_log_path().read_text(encoding="utf-8"))


def test_import_and_export_print_no_control_or_direction_characters(
    hostile: tuple[Served, dict[str, Any]], tmp_path: Path
) -> None:
    served, room = hostile
    assert cli("offices", "add", "HQ")[0] == 0
    code, out, err = served_cli(served, "rooms", "import", "--office", "HQ", "--all", "--dry-run")
    assert code == 0, err
    assert_terminal_safe(out, err)
    code, out, err = served_cli(served, "rooms", "import", "--office", "HQ", "--all")
    assert code == 0, err
    assert_terminal_safe(out, err)
    code, out, err = served_cli(served, "rooms", "import", "--office", "HQ", "--all", "--json")
    assert_terminal_safe(out, err)
    code, out, err = cli("export")
    assert code == 0, err
    assert_terminal_safe(out, err)
    assert exported_name(out, room) == HOSTILE_NAME
    code, out, err = cli("export", "--format", "csv")
    assert code == 0, err
    assert_terminal_safe(out, err)
    # To a file: one row per room, no control characters, and direction marks kept as data.
    target = tmp_path / "rooms.csv"
    assert cli("export", "--format", "csv", "--output", target)[0] == 0
    text = target.read_text(encoding="utf-8")
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(text.splitlines()) - 1  # one line per room
    hostile_row = next(row for row in rows if row["email"] == room["emailAddress"])
    assert "\u202emoor\u2066 FORGED LINE" in hostile_row["name"]
    assert hostile_row["building"] == "Tower[5m\u2067B"
    target = tmp_path / "rooms.json"
    assert cli("export", "--output", target)[0] == 0
    exported = target.read_text(encoding="utf-8")
    assert_terminal_safe(exported)
    assert exported_name(exported, room) == HOSTILE_NAME
    assert_terminal_safe(default_log_path().read_text(encoding="utf-8"))


def test_text_no_command_cleans_itself_is_still_cleaned(tmp_path: Path) -> None:
    # A workspace path is the user's own, quoted back in the suggested next command as given.
    path = tmp_path / "w\x1b]0;owned\x07\u202e\rFORGED LINE.sqlite3"
    code, out, err = cli("offices", "list", "--workspace", path)
    assert code == 0
    assert_terminal_safe(out, err)
    assert "--workspace" in out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_lines_still_erase_themselves(
    hostile: tuple[Served, dict[str, Any]],
) -> None:
    served, _ = hostile
    scenario = served.tenant.scenario
    out, err = Terminal(), Terminal()
    argv = ["rooms", "list", "--tenant", scenario.tenant, "--client-id", scenario.client_id]
    argv += [*served.cli_args(), "--secret-stdin"]
    code = main(argv, stdin=io.StringIO(scenario.client_secret), stdout=out, stderr=err)
    assert code == 0
    progress = err.getvalue()
    assert progress.startswith("\rLoading rooms… ") and progress.endswith("\r\x1b[K")
    assert_terminal_safe(out.getvalue(), progress.replace("\r\x1b[K", "").replace("\r", ""))


@pytest.mark.parametrize("command", [["rooms", "list"], ["check"]])
def test_an_error_code_from_microsoft_is_printed_without_its_controls(
    serve_demo: ServeDemo, command: list[str]
) -> None:
    served = serve_demo("healthy")
    served.tenant.inject(
        Fault.graph(
            r"microsoft\.graph\.room",
            status=403,
            code=HOSTILE_CODE,
            message="Access is denied.\x1b[2J\nFORGED LINE",
            times=None,
        )
    )
    code, out, err = served_cli(served, *command)
    assert code == 1
    assert_terminal_safe(out, err)
    assert "ErrorAccessDenied[2J]0;owned" in out + err
    assert_terminal_safe(default_log_path().read_text(encoding="utf-8"))


# -- a secret pasted into the wrong option --------------------------------------------------------

# An Entra client secret as the portal shows it today, and one of the older shape.
SECRETS = ["Abc8Q~xyZ0.1_aBcDeFgHiJkLmNoPqRsTuVwX-yz", "Rt5~Hj8Kl.Mn2bVc4_Xz7Qw1Er6Ty9Ui3Op0As5D"]
ROOM_IMPORT = ["rooms", "import", "--demo", "--office", "HQ"]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--graph-url", "{}"],
        ["check", "--graph-url", "https://{}"],
        ["check", "--authority-host", "{}"],
        ["check", "--authority-host", "https://login.microsoftonline.com/{}"],
        ["check", "--ca-bundle", "{}"],
        ["rooms", "import", "--demo", "--all", "--office", "{}"],
        [*ROOM_IMPORT, "--room", "{}"],
        [*ROOM_IMPORT, "--room-list", "{}"],
        ["offices", "add", "HQ", "--timezone", "{}"],
        ["offices", "list", "--workspace", "{}"],
        ["check", "--workspace", "{}"],
        ["check", "--demo-scenario", "{}"],
        ["rooms", "list", "--demo-scenario={}"],
    ],
)
def test_a_secret_given_to_the_wrong_option_is_never_echoed(
    argv: list[str], secret: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # --workspace SECRET is a file name here
    assert cli("offices", "add", "HQ", "--demo")[0] == 0
    _, out, err = cli(*(word.format(secret) for word in argv))
    shown = (out + err).lower()
    assert secret.lower() not in shown, out + err
    assert secret[:12].lower() not in shown


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize(
    "variable", ["CLEAROOMS_GRAPH_URL", "CLEAROOMS_AUTHORITY_HOST", "CLEAROOMS_CA_BUNDLE"]
)
def test_a_secret_in_the_wrong_variable_is_never_echoed(
    variable: str, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, secret)
    code, out, err = cli("check")
    assert code == 2
    assert secret not in out + err and "[secret removed]" in err


def test_ordinary_values_are_still_quoted_back(tmp_path: Path) -> None:
    code, _, err = cli("offices", "add", "HQ", "--timezone", "Europe/Londn")
    assert code == 2 and "“Europe/Londn” is not a time zone name" in err
    missing = tmp_path / "Certificates2024" / "ProxyRootCertificate.pem"
    code, _, err = cli("check", "--ca-bundle", missing)
    assert code == 2 and str(missing) in err


# -- a locked keyring ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["rooms", "import", "--office", "HQ", "--all"], ["offices", "suggest"], ["rooms", "list"]],
)
def test_a_locked_keyring_is_named_by_every_command_that_signs_in(
    serve_demo: ServeDemo, command: list[str]
) -> None:
    from tests.support.memory_keyring import LockedKeyring

    served = serve_demo("healthy")
    scenario = served.tenant.scenario
    code, out, _ = cli(
        "check",
        "--save",
        "--tenant",
        scenario.tenant,
        "--client-id",
        scenario.client_id,
        "--secret-stdin",
        *served.cli_args(),
        stdin=scenario.client_secret,
    )
    assert code == 0, out
    assert cli("offices", "add", "HQ")[0] == 0
    keyring.set_keyring(LockedKeyring())
    code, out, err = cli(*command, "--ca-bundle", served.ca_bundle)
    assert code == 2
    assert "Note: The secure password store (keyring)" in err and "unlock it" in err
    assert "the saved one could not be read, because the keyring refused" in err
    assert "Enter the client secret" not in err
    assert "Traceback" not in err
