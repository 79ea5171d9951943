"""The certificate credential: key pair and self-signed certificate, what the keyring keeps,
the passphrase-protected export, and the keyring in parts (Windows keeps 1280 characters)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import keyring
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from clearooms_wizard.core.certificates import (
    MAX_MONTHS,
    CertificateError,
    create_certificate,
    credential_from_keyring_text,
    export_private_key,
    graph_key_identifier,
    thumbprint_from_key_identifier,
)
from clearooms_wizard.core.logs import known_secrets
from clearooms_wizard.core.secrets import (
    SERVICE,
    KeyringSecretStore,
    MemorySecretStore,
    certificate_account,
)
from tests.support.memory_keyring import MemoryKeyring

CLIENT = "1b7e5c4a-3f2d-4e8b-9a6c-0d1e2f3a4b5c"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def test_a_new_certificate_is_rsa_3072_sha256_self_signed_for_the_app() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    made = create_certificate(CLIENT, months=6, now=now)
    certificate = x509.load_pem_x509_certificate(made.certificate_pem.encode())
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 3072
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    assert certificate.subject == certificate.issuer
    assert certificate.subject.rfc4514_string() == f"CN=Clearooms booking {CLIENT}"
    assert made.not_before <= now < made.not_after
    assert timedelta(days=180) <= made.not_after - now <= timedelta(days=185)
    assert made.sha1_thumbprint == certificate.fingerprint(hashes.SHA1()).hex()
    assert made.sha256_thumbprint == certificate.fingerprint(hashes.SHA256()).hex()
    assert x509.load_der_x509_certificate(made.der) == certificate
    assert "PRIVATE KEY" not in repr(made)
    # The key is known to the log filter before anything could log it.
    remembered = known_secrets()
    assert made.private_key_pem.strip() in remembered
    body = [line for line in made.private_key_pem.splitlines() if "-----" not in line]
    assert all(line in remembered for line in body)
    msal = made.msal_credential()
    assert msal["private_key"] == made.private_key_pem
    assert msal["public_certificate"] == made.certificate_pem


@pytest.mark.parametrize("months", [0, -1, MAX_MONTHS + 1])
def test_a_lifetime_outside_1_to_24_months_is_refused(months: int) -> None:
    with pytest.raises(CertificateError, match="1 to 24 months"):
        create_certificate(CLIENT, months=months)


def test_what_the_keyring_keeps_reads_back_and_a_mismatched_pair_is_refused() -> None:
    first, second = create_certificate(CLIENT), create_certificate(CLIENT)
    again = credential_from_keyring_text(first.keyring_text())
    assert again.sha256_thumbprint == first.sha256_thumbprint
    assert again.private_key_pem.strip() == first.private_key_pem.strip()
    mixed = second.private_key_pem + first.certificate_pem
    with pytest.raises(CertificateError, match="does not belong") as refused:
        credential_from_keyring_text(mixed)
    assert second.private_key_pem.splitlines()[1] not in str(refused.value)
    with pytest.raises(CertificateError, match="could not be read"):
        credential_from_keyring_text(first.private_key_pem)
    with pytest.raises(CertificateError, match="could not be read"):
        credential_from_keyring_text("garbage\n" + first.certificate_pem)


def test_the_private_key_leaves_only_with_a_passphrase() -> None:
    made = create_certificate(CLIENT)
    with pytest.raises(CertificateError, match="at least 12"):
        export_private_key(made, "short")
    pfx = export_private_key(made, "correct horse battery staple")
    assert b"PRIVATE KEY" not in pfx
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(pfx, None)
    key, certificate, _ = pkcs12.load_key_and_certificates(pfx, b"correct horse battery staple")
    assert certificate is not None and key is not None
    assert certificate.fingerprint(hashes.SHA1()).hex() == made.sha1_thumbprint
    assert key.public_key() == certificate.public_key()


def test_graph_key_identifiers_in_each_form_give_the_thumbprint() -> None:
    made = create_certificate(CLIENT)
    sha1 = made.sha1_thumbprint
    assert made.custom_key_identifier == graph_key_identifier(sha1) == sha1.upper()
    assert thumbprint_from_key_identifier(sha1.upper()) == sha1
    raw = base64.b64encode(bytes.fromhex(sha1)).decode()
    assert thumbprint_from_key_identifier(raw) == sha1
    as_text = base64.b64encode(sha1.upper().encode()).decode()
    assert thumbprint_from_key_identifier(as_text) == sha1
    for other in (None, 42, "", "not base64!", "A" * 500, base64.b64encode(b"x" * 7).decode()):
        assert thumbprint_from_key_identifier(other) is None


def test_the_keyring_keeps_the_certificate_in_parts_windows_can_hold() -> None:
    store = KeyringSecretStore()
    first, second = create_certificate(CLIENT), create_certificate(CLIENT, months=3)
    assert store.save_certificate(TENANT, CLIENT, first.keyring_text()).kept_in_keyring
    parts = {k: v for k, v in MemoryKeyring.store.items() if k[0] == SERVICE}
    assert len(parts) >= 4
    # Windows Credential Manager keeps at most 1280 characters in one entry.
    assert all(len(value) <= 1280 for value in parts.values())
    assert (SERVICE, certificate_account(TENANT, CLIENT)) in parts
    assert store.load_certificate(TENANT, CLIENT) == first.keyring_text()
    assert store.save_certificate(TENANT, CLIENT, second.keyring_text()).kept_in_keyring
    assert store.load_certificate(TENANT, CLIENT) == second.keyring_text()
    # The secret's entry is another one: a certificate never replaces a saved secret.
    assert store.load(TENANT, CLIENT) is None
    # A part gone missing: nothing half-read is given back.
    del MemoryKeyring.store[(SERVICE, certificate_account(TENANT, CLIENT, 2))]
    assert store.load_certificate(TENANT, CLIENT) is None


def test_without_a_keyring_the_key_stays_in_memory_and_the_user_is_told() -> None:
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    store = KeyringSecretStore()
    made = create_certificate(CLIENT)
    outcome = store.save_certificate(TENANT, CLIENT, made.keyring_text())
    assert not outcome.kept_in_keyring
    assert outcome.message is not None and "never written to a file" in outcome.message
    assert store.load_certificate(TENANT, CLIENT) == made.keyring_text()
    memory = MemorySecretStore()
    assert memory.load_certificate(TENANT, CLIENT) is None
    memory.save_certificate(TENANT, CLIENT, made.keyring_text())
    assert memory.load_certificate(TENANT, CLIENT) == made.keyring_text()
