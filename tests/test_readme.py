"""The README's error table is generated from the fixes the product shows, so it cannot drift."""

from __future__ import annotations

from pathlib import Path

from clearooms_wizard.core.fixes import markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- fixes:start -->\n", "<!-- fixes:end -->"


def test_readme_error_table_matches_the_product() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split(START, 1)[1].split(END, 1)[0]
    assert table == markdown_table(), (
        "Regenerate it: python -m clearooms_wizard.core.fixes, and paste between the markers."
    )
