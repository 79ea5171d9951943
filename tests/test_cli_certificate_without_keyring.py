"""``certificate create`` where no keyring keeps the private key (none at all, or keyring's
"null" backend, which is how a user turns it off): a command's memory ends with it, so it makes
no certificate, writes no .cer for an administrator to upload in vain, leaves the saved
connection alone, and says so."""

from __future__ import annotations

import io
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest

from clearooms_wizard.cli import main
from clearooms_wizard.core.secrets import KeyringSecretStore
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.demo import data


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("backend", [keyring.backends.null.Keyring, keyring.backends.fail.Keyring])
def test_create_without_a_keyring_makes_nothing(
    backend: type[keyring.backend.KeyringBackend], tmp_path: Path
) -> None:
    keyring.set_keyring(backend())
    cer = tmp_path / "for-the-admin.cer"
    code, out, err = _cli(
        "certificate", "create", "--output", str(cer),
        "--tenant", data.INITIAL_DOMAIN, "--client-id", data.APP_ID,
    )  # fmt: skip
    assert code == 1
    assert "no secure password store (keyring)" in err
    assert "No certificate was made and nothing was changed" in err
    assert "until you close the wizard" not in err and "keyring." not in out
    assert not cer.exists()
    workspace_file = tmp_path / "workspace.sqlite3"
    if workspace_file.exists():
        with Workspace(workspace_file) as workspace:
            saved = workspace.load_connection()
        assert saved is None or saved.credential_kind != "certificate"


def test_the_null_keyring_is_no_keyring_for_a_secret() -> None:
    keyring.set_keyring(keyring.backends.null.Keyring())  # type: ignore[no-untyped-call,unused-ignore]
    store = KeyringSecretStore()
    outcome = store.save(data.INITIAL_DOMAIN, data.APP_ID, "not-a-real-secret-value")
    assert not outcome.kept_in_keyring and outcome.message
    # Kept for this run only, as with no keyring at all.
    assert store.load(data.INITIAL_DOMAIN, data.APP_ID) == "not-a-real-secret-value"
