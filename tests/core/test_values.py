"""Tidying and checking the three values people paste."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearooms_wizard.core.values import (
    SECRET_ID_WARNING,
    check_client_id,
    check_secret,
    check_tenant,
)

GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        (GUID, GUID),
        (GUID.upper(), GUID),
        (f"  {GUID}\n", GUID),
        (f"\u200b{GUID}\u200b", GUID),
        (f'"{GUID}"', GUID),
        (f"“{GUID}”", GUID),
        (f"{{{GUID}}}", GUID),
        ("Contoso.onmicrosoft.com", "contoso.onmicrosoft.com"),
        ("contoso.com.", "contoso.com"),
        ("\tcontoso.co.uk\r\n", "contoso.co.uk"),
        (f"https://login.microsoftonline.com/{GUID}/oauth2/v2.0/token", GUID),
        (
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
            "contoso.onmicrosoft.com",
        ),
        (
            f"https://portal.azure.com/#view/Microsoft_AAD_IAM/TenantOverview.ReactView/{GUID}",
            GUID,
        ),
        (
            "https://portal.azure.com/#@contoso.onmicrosoft.com/resource/x",
            "contoso.onmicrosoft.com",
        ),
        (f"Directory (tenant) ID: {GUID}", GUID),
    ],
)
def test_tenant_is_tidied(pasted: str, expected: str) -> None:
    checked = check_tenant(pasted)
    assert checked.ok, checked.problem
    assert checked.value == expected


@pytest.mark.parametrize(
    ("pasted", "says"),
    [
        ("", "Enter your tenant ID"),
        ("   ", "Enter your tenant ID"),
        ("72f988bf-86f1-41af-91ab-2d7cd011db4", "nearly a tenant ID"),
        ("authorize", "part of a sign-in address"),
        ("common", "part of a sign-in address"),
        ("{{tenantid}}", "doesn't look like"),
        ("undefined", "doesn't look like"),
        ("../../etc/passwd", "doesn't look like"),
        ("contoso.com/../x", "doesn't look like"),
        ("contoso.com?x=1", "doesn't look like"),
        ("contoso.com#frag", "doesn't look like"),
        ("contoso%2ecom", "doesn't look like"),
        ("conto so.com", "doesn't look like"),
        ("https://example.com/", "doesn't look like"),
        ("x" * 3000, "far too long"),
    ],
)
def test_bad_tenant_gets_a_specific_message(pasted: str, says: str) -> None:
    checked = check_tenant(pasted)
    assert not checked.ok
    assert checked.value is None
    assert checked.problem is not None and says in checked.problem
    assert "tenant ID looks like" in checked.problem


def test_client_id_is_tidied_and_checked() -> None:
    assert check_client_id(f" {GUID.upper()} ").value == GUID
    url = f"https://portal.azure.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview/appId/{GUID}"
    assert check_client_id(url).value == GUID
    domain = check_client_id("contoso.onmicrosoft.com")
    assert domain.problem is not None and "Tenant ID box" in domain.problem
    assert check_client_id("hello").problem is not None


def test_secret_is_trimmed_and_a_secret_id_is_a_warning() -> None:
    secret = "Nw8~Qe5Rt.Yk2vLp9_Hs3Dj6Fg1Zx4Cb7Nm0Wa3U"
    assert check_secret(f"  {secret}\n").value == secret
    looks_like_id = check_secret(GUID)
    assert looks_like_id.ok
    assert looks_like_id.warnings == (SECRET_ID_WARNING,)
    assert "Value column" in SECRET_ID_WARNING


def test_secret_problems_never_quote_the_secret() -> None:
    for bad in ("abc def ghi jkl mno", "x" * 300, "y" * 5000):
        checked = check_secret(bad)
        assert checked.problem is not None
        assert bad[:10] not in checked.problem


def test_megabyte_paste_is_refused_quickly() -> None:
    huge = "a" * 8_000_000
    started = time.perf_counter()
    results = [check_tenant(huge), check_client_id(huge), check_secret(huge)]
    elapsed = time.perf_counter() - started
    assert all(r.problem and "far too long" in r.problem for r in results)
    # Generous bound: processing 8 MB with a regex takes far longer than refusing it unread.
    assert elapsed < 0.5


_UNSAFE_IN_PATH = set("/?#% \\")


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_any_text_gives_a_value_safe_for_a_url_or_a_problem(text: str) -> None:
    for check in (check_tenant, check_client_id):
        checked = check(text)
        assert (checked.value is None) != (checked.problem is None)
        if checked.value is not None:
            assert not (_UNSAFE_IN_PATH & set(checked.value))
            assert ".." not in checked.value
            assert checked.value.isascii()


@given(st.uuids(), st.sampled_from(["", " ", "\n", "\u200b", '"', "\t"]))
def test_a_valid_guid_is_always_accepted_after_tidying(value: object, wrapper: str) -> None:
    guid = str(value)
    assert check_tenant(f"{wrapper}{guid.upper()}{wrapper}").value == guid
    assert check_client_id(f"{wrapper}{guid}{wrapper}").value == guid
