"""The secret goes to the keyring, or stays in memory: never to a file."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from clearooms_wizard.core.secrets import (
    NO_KEYRING_MESSAGE,
    SERVICE,
    KeyringSecretStore,
    SecretStoreError,
)
from tests.support.memory_keyring import LockedKeyring, MemoryKeyring

TENANT = "6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93"
CLIENT = "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41"


def test_secret_is_kept_in_the_keyring_under_tenant_and_client() -> None:
    store = KeyringSecretStore()
    outcome = store.save(TENANT, CLIENT, "s3cret~value")
    assert outcome.kept_in_keyring and outcome.message is None
    assert MemoryKeyring.store[(SERVICE, f"{TENANT}/{CLIENT}")] == "s3cret~value"
    assert KeyringSecretStore().load(TENANT, CLIENT) == "s3cret~value"


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


class _BrokenBackend(MemoryKeyring):
    """A backend failing its own way (a D-Bus error, say), not with keyring's KeyringError."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")


@pytest.mark.parametrize("backend", [LockedKeyring, _BrokenBackend], ids=["locked", "broken"])
def test_a_keyring_that_refuses_to_read_says_so_and_how_to_go_on(
    backend: type[MemoryKeyring],
) -> None:
    keyring.set_keyring(backend())
    with pytest.raises(SecretStoreError) as raised:
        KeyringSecretStore().load(TENANT, CLIENT)
    message = str(raised.value)
    assert "refused to give back the saved client secret" in message
    assert "unlock it" in message and "--secret-stdin" in message
    assert "close the wizard" not in message  # that is what happens after a refused save
    assert "DBus" not in message and "locked" not in message.split("(")[0]


def test_a_keyring_that_fails_its_own_way_keeps_the_secret_in_memory_only() -> None:
    keyring.set_keyring(_BrokenBackend())
    store = KeyringSecretStore()
    outcome = store.save(TENANT, CLIENT, "s3cret~value")
    assert not outcome.kept_in_keyring and outcome.message is not None
    assert "refused to keep the client secret (RuntimeError)" in outcome.message
    assert "kept only until you close the wizard" in outcome.message
    assert store.load(TENANT, CLIENT) == "s3cret~value"
