"""The renewal's pure parts: which secret is in use, the journal, and the calendar reminder."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from clearooms_wizard.core.reminder import Reminder, fold, render_ics
from clearooms_wizard.core.renewal import (
    CredentialKind,
    RenewalJournal,
    RenewalStep,
    credential_status,
    describe_unfinished,
    journal_from_json,
    journal_to_json,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
KEY_A = "11111111-1111-4111-8111-111111111111"
KEY_B = "22222222-2222-4222-8222-222222222222"
KEY_C = "33333333-3333-4333-8333-333333333333"


def _secret(key: str, hint: str, days: int, name: str = "Clearooms wizard") -> dict[str, object]:
    end = NOW + timedelta(days=days)
    return {
        "keyId": key,
        "hint": hint,
        "displayName": name,
        "startDateTime": (end - timedelta(days=365)).isoformat().replace("+00:00", "Z"),
        "endDateTime": end.isoformat().replace("+00:00", "Z"),
    }


def _app(
    *secrets: dict[str, object], certificates: list[object] | None = None
) -> dict[str, object]:
    return {
        "id": "obj",
        "appId": "app",
        "displayName": "Clearooms\x1b[31m",
        "passwordCredentials": list(secrets),
        "keyCredentials": certificates or [],
    }


def test_the_secret_in_use_is_the_one_with_the_saved_secrets_hint() -> None:
    status = credential_status(
        _app(_secret(KEY_A, "Abc", 300), _secret(KEY_B, "Xyz", 10, "Clearooms setup wizard 2026")),
        "Xyz~rest-of-it",
        now=NOW,
    )
    assert status.in_use is not None and status.in_use.key_id == KEY_B
    assert status.in_use.ours and not status.credentials[1].ours
    # Sorted by end date; names from Microsoft are cleaned of control characters.
    assert [c.key_id for c in status.credentials] == [KEY_B, KEY_A]
    assert "\x1b" not in status.app_name
    assert status.to_json()["in_use_days_left"] == 10


def test_two_secrets_with_one_hint_are_told_apart_by_the_saved_end_date_or_not_at_all() -> None:
    app = _app(_secret(KEY_A, "Abc", 300), _secret(KEY_B, "Abc", 10))
    assert credential_status(app, "Abc123", now=NOW).in_use is None
    told = credential_status(app, "Abc123", saved_expiry=NOW + timedelta(days=300), now=NOW)
    assert told.in_use is not None and told.in_use.key_id == KEY_A
    unknown = credential_status(app, None, now=NOW)
    assert unknown.in_use is None and "No client secret is saved" in str(
        unknown.in_use_unknown_because
    )


def test_certificates_are_listed_read_only_after_the_secrets() -> None:
    certificate = {
        "keyId": KEY_C,
        "displayName": "CN=Clearooms",
        "endDateTime": "2027-01-01T00:00:00Z",
    }
    status = credential_status(
        _app(_secret(KEY_A, "Abc", 300), certificates=[certificate, {"keyId": "not-a-guid"}]),
        "Abc1",
        now=NOW,
    )
    assert [c.kind for c in status.credentials] == [
        CredentialKind.SECRET,
        CredentialKind.CERTIFICATE,
    ]
    assert status.credentials[1].hint is None and not status.credentials[1].in_use


def test_the_journal_round_trips_and_an_unreadable_one_is_none() -> None:
    journal = RenewalJournal(
        "run", "tenant", "client", "obj", NOW, RenewalStep.SAVED, KEY_A, "Old", True, KEY_B, NOW
    )
    assert journal_from_json(journal_to_json(journal)) == journal
    assert journal_from_json("{not json") is None
    assert journal_from_json('{"step": "sideways"}') is None
    assert "still in place, to be removed" in describe_unfinished(journal)
    early = describe_unfinished(RenewalJournal("r", "t", "c", "o", NOW, RenewalStep.ADDED))
    assert "nothing was removed" in early


def test_the_reminder_is_an_all_day_event_30_days_before_with_crlf_and_folded_lines() -> None:
    reminder = Reminder(NOW + timedelta(days=100), "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41", "Rooms")
    text = render_ics(reminder, NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    day = (NOW + timedelta(days=70)).date()
    assert f"DTSTART;VALUE=DATE:{day:%Y%m%d}\r\n" in text
    assert f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}\r\n" in text
    assert "UID:" in text and "DTSTAMP:20261126T090000Z" in text
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    unfolded = text.replace("\r\n ", "")
    assert "clearooms-wizard secret renew" in unfolded and "Renew the secret" in unfolded
    # Passed already: today.
    assert reminder.event_day(date(2027, 2, 20)) == date(2027, 2, 20)


def test_folding_never_splits_a_character() -> None:
    line = "DESCRIPTION:" + "é" * 80
    folded = fold(line)
    for part in folded.split("\r\n"):
        part.encode("utf-8").decode("utf-8")
        assert len(part.encode()) <= 75
    assert folded.replace("\r\n ", "") == line
