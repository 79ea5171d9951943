"""``secret status`` lists the app's certificates beside its secrets, when read with the app's
own sign-in too (the demo tenant over its in-process transport)."""

from __future__ import annotations

import io
import json

from clearooms_wizard.cli import main
from clearooms_wizard.demo.key_credentials import DEMO_CERTIFICATE_KEY_ID


def test_status_read_as_the_app_lists_its_certificate() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["secret", "status", "--json", "--demo-scenario", "certificate"],
        stdin=io.StringIO(""),
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    credentials = json.loads(out.getvalue())["credentials"]
    certificates = [c for c in credentials if c["kind"] == "certificate"]
    assert [c["key_id"] for c in certificates] == [DEMO_CERTIFICATE_KEY_ID]
    assert certificates[0]["end"] is not None


def test_status_in_words_names_the_certificate() -> None:
    out = io.StringIO()
    code = main(
        ["secret", "status", "--demo-scenario", "certificate-expiring"],
        stdin=io.StringIO(""),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 0
    assert "Certificate" in out.getvalue()
