"""The packaging suite builds wheels and apps: all of it is marked slow (`-m "not slow"` leaves it
out; .ci/run still runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # pytest hands every conftest the whole session's items, hence the folder test.
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.slow)
