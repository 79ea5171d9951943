"""Telling a pasted client secret from the values that belong in an option."""

from __future__ import annotations

import pytest

from clearooms_wizard.core.redaction import SECRET_REMOVED, looks_like_secret, redact

ENTRA_SECRET = "Abc8Q~xyZ0.1_aBcDeFgHiJkLmNoPqRsTuVwX-yz"


@pytest.mark.parametrize(
    "value",
    [
        ENTRA_SECRET,
        f"https://{ENTRA_SECRET}",
        f"  {ENTRA_SECRET}\n",
        ENTRA_SECRET.lower(),  # a URL's host is lowercased before it is quoted back
        "Rt5~Hj8Kl.Mn2bVc4_Xz7Qw1Er6Ty9Ui3Op0As5D",  # older secrets had no signature
        "kM3vQ9zX+Lp2/Wr8tYb4Nc6Hd1Fg5Js7Ae0Ru3Io9U=",
    ],
)
def test_secrets_are_recognised(value: str) -> None:
    assert looks_like_secret(value)


@pytest.mark.parametrize(
    "value",
    [
        "https://graph.microsoft.com",
        "https://Login.MicrosoftOnline.com/Contoso2024Tenant/OAuth2",
        "72F988BF-86F1-41af-91AB-2D7CD011DB47",
        "C:/Users/AlexJones/Documents/Certificates2024/ProxyRoot.pem",
        "/home/alex/Certificates2024/ProxyRootCertificate.pem",
        "Europe/London",
        "London HQ Level 4 Meeting Room 12",
        "room.boardroom@northwind-demo.com",
        "healthy",
    ],
)
def test_ordinary_values_are_not_taken_for_secrets(value: str) -> None:
    assert not looks_like_secret(value)


def test_a_secret_in_the_new_format_is_removed_from_any_text() -> None:
    text = f"“{ENTRA_SECRET}” must start with https:// ({ENTRA_SECRET.lower()})"
    assert redact(text, []) == f"“{SECRET_REMOVED}” must start with https:// ({SECRET_REMOVED})"


SECRET = "Abc8Q~abcdefghijklmnopqrstuvwxyz01234567"


@pytest.mark.parametrize(
    "shown",
    [
        f"{SECRET}{SECRET}",  # pasted twice
        f"“https://graph.microsoft.com/{SECRET[:30]}…”",  # cut short when quoted back
        f"x{SECRET}",
        f"secret={SECRET};",
    ],
    ids=["twice", "cut short", "glued to a letter", "in an assignment"],
)
def test_no_part_of_a_secret_survives_redaction(shown: str) -> None:
    redacted = redact(shown, [])
    assert "Q~" not in redacted and "abcdefghij" not in redacted, redacted
