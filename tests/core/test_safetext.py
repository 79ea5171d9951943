"""Text from outside, made safe for a terminal, a file and the log."""

from __future__ import annotations

import json

from clearooms_wizard.core.safetext import escaped, json_text, printable, without_controls

HOSTILE = "Board\x1b]0;owned\x07\x1b[2J\x9b31m\u202eroom\u2066\x00\u061c\u200f\u2028end"
UNSAFE = ["\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\x00", "\u061c", "\u200f", "\u2028"]


def test_printable_leaves_nothing_a_terminal_obeys_or_reorders() -> None:
    shown = printable(HOSTILE)
    assert not any(char in shown for char in UNSAFE)
    assert printable("Board\nroom\tA\r\n") == "Board room A  "
    assert printable("Salle Émile 🙂 غرفة") == "Salle Émile 🙂 غرفة"
    assert printable(None) == ""


def test_without_controls_keeps_direction_marks_for_files() -> None:
    kept = without_controls("\u202bغرفة\u202c\x1b[2J\nA")
    assert kept == "\u202bغرفة\u202c[2J A"


def test_escaped_is_one_line_and_shows_what_was_there() -> None:
    assert escaped("a\nb\r\x1b\u202e") == "a\\nb\\r\\u001b\\u202e"
    assert escaped("plain é") == "plain é"


def test_json_text_is_safe_to_print_and_reads_back_the_same() -> None:
    value = {"name": HOSTILE + "\x7f\x85", "list": ["\u2069"]}
    text = json_text(value)
    assert not any(char in text for char in [*UNSAFE, "\x7f", "\x85", "\u2069"])
    assert json.loads(text) == value
    assert "é" in json_text("é")
