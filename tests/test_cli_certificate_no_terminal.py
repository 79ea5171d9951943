"""``certificate export-key`` asks for its passphrase only on a terminal: with none (a scheduled
task, a pipe, standard input closed) it says to use --passphrase-stdin and writes nothing, rather
than reading the passphrase from the pipe with echo on or ending in a traceback."""

from __future__ import annotations

import io
from pathlib import Path

from clearooms_wizard.cli import main
from clearooms_wizard.demo import data


def _cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_export_key_without_a_terminal_asks_for_passphrase_stdin(tmp_path: Path) -> None:
    connect = ["--tenant", data.INITIAL_DOMAIN, "--client-id", data.APP_ID]
    code, _, err = _cli("certificate", "create", "--output", str(tmp_path / "app.cer"), *connect)
    assert code == 0, err
    pfx = tmp_path / "backup.pfx"
    for given in ("", "a-long-passphrase\na-long-passphrase\n"):
        code, out, err = _cli(
            "certificate", "export-key", "--output", str(pfx), *connect, stdin=given
        )
        assert code == 2, err
        assert "--passphrase-stdin" in err and "Nothing was written" in err
        assert "Traceback" not in err and out == ""
        assert not pfx.exists()
    code, out, err = _cli(
        "certificate", "export-key", "--output", str(pfx), "--passphrase-stdin", *connect,
        stdin="a-long-passphrase\n",
    )  # fmt: skip
    assert code == 0, err
    assert pfx.stat().st_size > 0
