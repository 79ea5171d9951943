"""The secret goes to the keyring, or stays in memory: never to a file."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from clearooms_wizard.core.secrets import NO_KEYRING_MESSAGE, SERVICE, KeyringSecretStore
from tests.support.memory_keyring import MemoryKeyring

TENANT = "6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93"
CLIENT = "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41"


def test_secret_is_kept_in_the_keyring_under_tenant_and_client() -> None:
    store = KeyringSecretStore()
    outcome = store.save(TENANT, CLIENT, "s3cret~value")
    assert outcome.kept_in_keyring and outcome.message is None
    assert MemoryKeyring.store[(SERVICE, f"{TENANT}/{CLIENT}")] == "s3cret~value"
    assert KeyringSecretStore().load(TENANT, CLIENT) == "s3cret~value"
    store.delete(TENANT, CLIENT)
    assert store.load(TENANT, CLIENT) is None


def test_without_a_keyring_the_secret_stays_in_memory_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    store = KeyringSecretStore()
    outcome = store.save(TENANT, CLIENT, "s3cret~value")
    assert not outcome.kept_in_keyring
    assert outcome.message == NO_KEYRING_MESSAGE
    assert "--secret-stdin" in NO_KEYRING_MESSAGE
    assert store.load(TENANT, CLIENT) == "s3cret~value"
    assert KeyringSecretStore().load(TENANT, CLIENT) is None
