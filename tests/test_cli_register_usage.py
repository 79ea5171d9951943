"""``register``'s usage errors: each is plain, ends with exit code 2 before anyone signs in, and
never shows the value given."""

from __future__ import annotations

import io

import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.cli.register import APP_NAME_LIMIT
from tests.support.canary import CANARY_SECRET


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["--secret-months", "7"], "--secret-months: choose 3, 6, 12, 18 or 24 months."),
        (["--secret-months", "twelve"], "--secret-months: choose 3, 6, 12, 18 or 24 months."),
        (["--secret-months", "\uff11\uff12"], "--secret-months: choose 3, 6, 12, 18 or 24 months."),
        (["--secret-months", CANARY_SECRET], "--secret-months: choose"),
        (["--app-name", "   "], "--app-name: give the app a name"),
        (["--app-name", "Clearooms\nrooms"], "no line breaks, tabs or other control characters"),
        (["--app-name", "Clearooms\x1b[31m"], "no line breaks, tabs or other control characters"),
        (["--app-name", "x" * (APP_NAME_LIMIT + 1)], f"{APP_NAME_LIMIT} characters or fewer"),
        (["--app-name", CANARY_SECRET], "looks like a client secret pasted in the wrong place"),
        (["--client-id", "1b7e5c4a-3f2d-4e8b-9a6c-0d1e2f3a4b5c"], "--client-id is not for"),
        (["--secret-stdin"], "--secret-stdin is not for register"),
        (["--undo", "--show-secret"], "--show-secret cannot be used with --undo"),
        (["--tenant", "contoso rooms"], "--tenant: That doesn't look like a tenant ID"),
        (["--setup-client-id", "not-a-client"], "must be an application (client) ID"),
    ],
)
def test_bad_options_are_usage_errors_that_never_show_the_value(
    words: list[str], says: str
) -> None:
    code, out, err = cli("register", *words, stdin=CANARY_SECRET + "\n")
    assert code == 2, err
    assert out == ""
    assert says in err
    assert "Traceback" not in err
    for word in words[1:]:
        if word.startswith("-") or word.strip() == "" or len(word) < 3:
            continue
        assert word not in err, f"{word!r} was echoed"
    assert CANARY_SECRET[:8] not in out + err


def test_a_wrong_secret_lifetime_is_refused_before_signing_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The browser would be the first thing touched: it must not be.
    opened: list[str] = []

    def open_browser(url: str, *args: object, **kwargs: object) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", open_browser)
    code, _, err = cli("--demo", "register", "--secret-months", "36")
    assert code == 2 and "choose 3, 6, 12, 18 or 24" in err
    assert opened == []


def test_register_is_listed_with_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--help"])
    assert ended.value.code == 0
    assert "set up the app in Microsoft Entra ID for you" in capsys.readouterr().out


def test_the_help_says_what_approval_pending_ends_with(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["register", "--help"])
    assert ended.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "exit code 0" in text and "approves its permissions with the link" in text
    assert "--show-secret" in text and "--undo" in text and "--device-code" in text


def test_revealing_the_secret_asked_for_lets_nothing_else_through() -> None:
    from clearooms_wizard.cli.output import GuardedOutput

    other = "abc8Q~AnotherSecretThatMustStayHidden1234"
    stream = io.StringIO()
    out = GuardedOutput(stream, [])
    out.write_revealing(f"asked for: {CANARY_SECRET}\nnot: {other}\x1b[2J\n", CANARY_SECRET)
    shown = stream.getvalue()
    assert shown.count(CANARY_SECRET) == 1
    assert other not in shown and "[secret removed]" in shown
    assert "\x1b" not in shown
