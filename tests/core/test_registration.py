"""The registration checklist and the instruction pack for IT come from one source."""

from __future__ import annotations

from clearooms_wizard.core.clouds import CLOUDS
from clearooms_wizard.core.registration import (
    CHECKLIST,
    PERMISSIONS,
    SUGGESTED_APP_NAME,
    it_admin_instructions,
    mailto_url,
)


def test_checklist_follows_the_setup_guide() -> None:
    assert [group.title for group in CHECKLIST] == [
        "Create the app",
        "Create the client secret",
        "Add permissions and grant consent",
    ]
    copyable = [step.copy_value for group in CHECKLIST for step in group.steps if step.copy_value]
    assert copyable == [
        SUGGESTED_APP_NAME,
        "Directory.Read.All",
        "Calendars.ReadWrite",
        "Place.Read.All",
    ]
    keys = [step.key for group in CHECKLIST for step in group.steps]
    assert len(set(keys)) == len(keys)


def test_pack_lists_what_to_create_and_never_asks_to_mail_the_secret() -> None:
    text = it_admin_instructions(CLOUDS["usgov"], "Sam")
    for permission in PERMISSIONS:
        assert permission.name in text and permission.why in text
    assert "https://portal.azure.us/#view/Microsoft_AAD_RegisteredApps" in text
    assert "Accounts in this organizational directory only" in text
    assert "please do not e-mail it" in text
    assert text.rstrip().endswith("Sam")


def test_mailto_is_encoded() -> None:
    url = mailto_url("A & B", "line 1\nline 2")
    assert url == "mailto:?subject=A%20%26%20B&body=line%201%0Aline%202"


def test_pack_offers_the_one_line_command_and_says_who_may_run_it() -> None:
    text = it_admin_instructions(CLOUDS["global"])
    paragraphs = text.split("\n\n")
    alternative = next(p for p in paragraphs if "clearooms-wizard register" in p)
    # Offered before the click-through, as the alternative to it.
    assert paragraphs.index(alternative) < next(
        i for i, p in enumerate(paragraphs) if p.startswith("1. ")
    )
    assert "instead of steps 1 to 3" in alternative
    assert "Global Administrator" in alternative and "Application Administrator" in alternative
    assert "--dry-run" in alternative and "--device-code" in alternative
    assert "--show-secret" in alternative and "reuses the app" in alternative
    # Still one line per paragraph or list item, so mail programs wrap it.
    assert all(line.startswith(("Or, ", "   ")) for line in alternative.splitlines())


def test_the_pack_recommends_rbac_and_points_to_the_script() -> None:
    text = it_admin_instructions(CLOUDS["global"])
    # Two sentences an office manager can forward: what the permission reaches, and the choice.
    assert (
        "it lets Clearooms read and change every mailbox's calendar, people's as well as rooms'. "
        "An Exchange administrator can limit it to the meeting-room mailboxes with RBAC for "
        "Applications" in text
    )
    assert "we recommend it" in text
    assert "clearooms-wizard scope script" in text and "Limit to room mailboxes…" in text
    assert "admin consent is removed from the app in Entra ID" in text
    assert "30 minutes to 2 hours" in text
    assert "Application access policies (New-ApplicationAccessPolicy) are the older way" in text
    assert "for now the access policy is the way" not in text
