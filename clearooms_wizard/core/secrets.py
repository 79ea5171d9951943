"""Where the client secret lives: the operating system's keyring, or nowhere.

If this computer has no keyring, the secret is kept in memory for this run only. There is no
plaintext fallback, ever: a secret in a settings file would outlive everyone's memory of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from clearooms_wizard.core.errors import ClearoomsError

SERVICE = "clearooms-wizard"

NO_KEYRING_MESSAGE = (
    "This computer has no secure password store (keyring), so the client secret is kept only "
    "until you close the wizard. Next time, enter it again, or give it to the command line with "
    "--secret-stdin or the CLEAROOMS_CLIENT_SECRET environment variable."
)


CERTIFICATE_NO_KEYRING_MESSAGE = (
    "This computer has no secure password store (keyring), so the certificate's private key is "
    "kept only until you close the wizard, and is never written to a file. Next time, create a "
    "new certificate and upload it, or export this one now with a passphrase."
)
# Windows Credential Manager keeps at most 2560 bytes (1280 characters) in one entry, and a
# certificate's key and certificate together are about 4000: they are kept in parts.
_PART_CHARS = 1000
_MAX_PARTS = 16


# Said where the product would say "saved in this computer's keyring", when it is the demo's.
DEMO_MEMORY_MESSAGE = "Kept in the demo's memory: the demo never uses this computer's keyring."


class SecretStoreError(ClearoomsError):
    """The keyring exists but refused; the text says what to do."""


@dataclass(frozen=True)
class SaveOutcome:
    kept_in_keyring: bool
    message: str | None = None


def account_name(tenant_id: str, client_id: str) -> str:
    return f"{tenant_id}/{client_id}"


def certificate_account(tenant_id: str, client_id: str, part: int = 1) -> str:
    """The keyring entry of one part of the certificate credential (the private key first)."""
    base = f"{account_name(tenant_id, client_id)}/certificate"
    return base if part == 1 else f"{base}/{part}"


def _split(text: str) -> list[str]:
    parts = [text[i : i + _PART_CHARS] for i in range(0, len(text), _PART_CHARS)] or [""]
    # The first part says how many there are, so that a shorter key saved later is not read
    # with a longer one's leftover parts.
    return [f"{len(parts)}:{parts[0]}", *parts[1:]]


def _count_of(first: str) -> tuple[int, str] | None:
    head, sep, rest = first.partition(":")
    if not sep or not head.isdigit() or not 1 <= int(head) <= _MAX_PARTS:
        return None
    return int(head), rest


class SecretStore(Protocol):
    def load(self, tenant_id: str, client_id: str) -> str | None: ...

    def save(self, tenant_id: str, client_id: str, secret: str) -> SaveOutcome: ...

    def load_certificate(self, tenant_id: str, client_id: str) -> str | None:
        """The certificate credential's text (private key and certificate, PEM), or None."""
        ...

    def save_certificate(self, tenant_id: str, client_id: str, text: str) -> SaveOutcome: ...


class KeyringSecretStore:
    """The OS keyring through jaraco's keyring; remembers in memory when there is none."""

    def __init__(self) -> None:
        self._memory: dict[str, str] = {}

    def load(self, tenant_id: str, client_id: str) -> str | None:
        account = account_name(tenant_id, client_id)
        if account in self._memory:
            return self._memory[account]
        import keyring  # slow to import (it looks up its backends): only when needed
        import keyring.errors

        try:
            value = keyring.get_password(SERVICE, account)
        except keyring.errors.NoKeyringError:
            return None
        except Exception as exc:  # any backend's failure: see _refused
            raise SecretStoreError(
                _refused(exc, "give back the saved client secret", _GIVE_AGAIN)
            ) from None
        return value if isinstance(value, str) else None

    def save(self, tenant_id: str, client_id: str, secret: str) -> SaveOutcome:
        account = account_name(tenant_id, client_id)
        import keyring
        import keyring.errors

        try:
            _refuse_disabled()
            keyring.set_password(SERVICE, account, secret)
        except keyring.errors.NoKeyringError:
            self._memory[account] = secret
            return SaveOutcome(False, NO_KEYRING_MESSAGE)
        except Exception as exc:  # any backend's failure: see _refused
            self._memory[account] = secret
            return SaveOutcome(
                False,
                _refused(
                    exc,
                    "keep the client secret",
                    "Until then the client secret is kept only until you close the wizard.",
                ),
            )
        self._memory.pop(account, None)
        return SaveOutcome(True)

    def load_certificate(self, tenant_id: str, client_id: str) -> str | None:
        first_account = certificate_account(tenant_id, client_id)
        if first_account in self._memory:
            return self._memory[first_account]
        import keyring
        import keyring.errors

        try:
            first = keyring.get_password(SERVICE, first_account)
            counted = _count_of(first) if isinstance(first, str) else None
            if counted is None:
                return None
            count, text = counted
            for part in range(2, count + 1):
                more = keyring.get_password(
                    SERVICE, certificate_account(tenant_id, client_id, part)
                )
                if not isinstance(more, str):
                    return None
                text += more
        except keyring.errors.NoKeyringError:
            return None
        except Exception as exc:  # any backend's failure: see _refused
            raise SecretStoreError(
                _refused(exc, "give back the saved certificate", _CREATE_AGAIN)
            ) from None
        return text

    def save_certificate(self, tenant_id: str, client_id: str, text: str) -> SaveOutcome:
        first_account = certificate_account(tenant_id, client_id)
        import keyring
        import keyring.errors

        parts = _split(text)
        try:
            _refuse_disabled()
            # The first part, which says how many follow, goes last: until it is written, the
            # keyring still holds the whole of the previous certificate, if there was one.
            for number in range(len(parts), 0, -1):
                account = certificate_account(tenant_id, client_id, number)
                keyring.set_password(SERVICE, account, parts[number - 1])
        except keyring.errors.NoKeyringError:
            self._memory[first_account] = text
            return SaveOutcome(False, CERTIFICATE_NO_KEYRING_MESSAGE)
        except Exception as exc:  # any backend's failure: see _refused
            self._memory[first_account] = text
            return SaveOutcome(
                False,
                _refused(
                    exc,
                    "keep the certificate's private key",
                    "Until then the key is kept only until you close the wizard.",
                ),
            )
        self._memory.pop(first_account, None)
        return SaveOutcome(True)


def _refuse_disabled() -> None:
    """keyring's "null" backend is how a user turns the keyring off: it accepts every password
    and keeps none, so saying "saved in the keyring" would lose the secret without a word."""
    import keyring.backends.null
    import keyring.errors

    if isinstance(keyring.get_keyring(), keyring.backends.null.Keyring):
        raise keyring.errors.NoKeyringError()


_CREATE_AGAIN = (
    "Or create a new certificate and upload it to the app (clearooms-wizard certificate create)."
)

_GIVE_AGAIN = (
    "Or give the secret again: in the wizard's Client secret box, or to the command line with "
    "--secret-stdin."
)


def _refused(exc: Exception, action: str, then: str) -> str:
    """What to say when the keyring fails. Besides its own KeyringError, a backend can raise
    anything (a D-Bus error, a backend named in PYTHON_KEYRING_BACKEND that cannot be loaded):
    all of them mean the same to the user, and none may end the program."""
    # Their text can quote the backend's own words, never the secret; keep only the type.
    return (
        f"The secure password store (keyring) on this computer refused to {action} "
        f"({type(exc).__name__}). If it is locked, unlock it (on Linux, log in to your "
        f"desktop's keyring) and try again. {then}"
    )


class MemorySecretStore:
    """For the demo tenant: a secret that must never reach the real keyring."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def load(self, tenant_id: str, client_id: str) -> str | None:
        return self._values.get(account_name(tenant_id, client_id))

    def save(self, tenant_id: str, client_id: str, secret: str) -> SaveOutcome:
        self._values[account_name(tenant_id, client_id)] = secret
        return SaveOutcome(True, DEMO_MEMORY_MESSAGE)

    def load_certificate(self, tenant_id: str, client_id: str) -> str | None:
        return self._values.get(certificate_account(tenant_id, client_id))

    def save_certificate(self, tenant_id: str, client_id: str, text: str) -> SaveOutcome:
        self._values[certificate_account(tenant_id, client_id)] = text
        return SaveOutcome(True, DEMO_MEMORY_MESSAGE)
