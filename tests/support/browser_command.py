"""The scripted browser behind the ``BROWSER`` variable, for tests that run the command line
(or the wizard) in a subprocess.

Python's webbrowser runs ``$BROWSER <url>`` and waits for it to exit, and the product listens
for the answer only after that; so, as xdg-open does, this returns at once and opens the page
in a detached child. ``write_browser_script`` makes the one-word command BROWSER needs.

    env["BROWSER"] = str(write_browser_script(tmp_path, served.ca_bundle))
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write_browser_script(
    directory: Path,
    ca_bundle: str,
    *,
    sign_in_as: str | None = None,
    record: Path | None = None,
    finish: bool = True,
) -> Path:
    """An executable script for BROWSER (which takes a command, not a command line). Each
    visit is appended to ``record`` as one JSON line, when given."""
    words = [sys.executable, "-m", "tests.support.browser_command", "--ca", ca_bundle]
    if sign_in_as:
        words += ["--sign-in-as", sign_in_as]
    if record is not None:
        words += ["--record", str(record)]
    if not finish:
        words.append("--no-finish")
    script = directory / "scripted-browser"
    script.write_text(
        "#!/bin/sh\n"
        f"cd {shlex.quote(str(ROOT))} || exit 1\n"
        f'exec {" ".join(shlex.quote(w) for w in words)} "$1"\n'
    )
    script.chmod(0o755)
    return script


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ca", required=True)
    parser.add_argument("--sign-in-as")
    parser.add_argument("--record")
    parser.add_argument("--no-finish", action="store_true")
    parser.add_argument("--in-background", action="store_true")
    parser.add_argument("url")
    args = parser.parse_args(argv)
    if not args.in_background:
        # Detached, and holding none of the caller's pipes: a test reading the command's
        # output to its end must not wait for the browser too.
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.browser_command", "--in-background", *argv],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        return 0
    if args.no_finish:
        outcome = {"url": args.url.split("?", 1)[0], "delivered_to": None, "error_code": None}
    else:
        from tests.support.scripted_browser import ScriptedBrowser

        browser = ScriptedBrowser(args.ca, sign_in_as=args.sign_in_as)
        try:
            visit = browser.visit(args.url)
            outcome = {
                "url": visit.url,
                "delivered_to": visit.delivered_to,
                "delivered_status": visit.delivered_status,
                "error_code": visit.error_code,
            }
        except Exception as exc:
            outcome = {"url": args.url.split("?", 1)[0], "error_code": type(exc).__name__}
    if args.record:
        with open(args.record, "a", encoding="utf-8") as file:
            file.write(json.dumps(outcome) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
