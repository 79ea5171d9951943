"""A certificate instead of a client secret: the key pair, the self-signed certificate, and the
public facts Entra matches it by.

Some organisations forbid client secrets ("Credential type not allowed as per assigned policy")
and allow only certificates. The wizard then makes an RSA key pair and a self-signed certificate
here; the public half (a .cer file, or ``keyCredentials`` on the application) goes to Entra, and
the private key stays in the OS keyring. It leaves this computer only when the user asks for it,
and then only wrapped with a passphrase.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.logs import remember_secret

# 3072-bit RSA: Entra signs client assertions with RSA only, and NIST counts 3072 bits as good
# beyond 2030; 2048 is Entra's minimum.
KEY_SIZE = 3072
DEFAULT_MONTHS = 12
# Entra takes longer certificates, but the wizard keeps to the client secret's two-year cap so
# that one rule is told everywhere.
MAX_MONTHS = 24
# A passphrase that protects an exported private key; shorter ones fall to a guess in hours.
MIN_PASSPHRASE_LENGTH = 12
# A certificate is valid from a few minutes back, so that a slightly slow clock at Microsoft or
# here does not refuse it in its first minutes.
_BACKDATE = timedelta(minutes=10)
_DAYS_PER_MONTH = 30.44
# The keyring holds the private key and then the certificate, in this order.
_CERTIFICATE_BEGIN = "-----BEGIN CERTIFICATE-----"
# Big enough for any RSA key and certificate the wizard makes; more is not one of ours.
MAX_BUNDLE_CHARS = 16_000


class CertificateError(ClearoomsError):
    """A certificate or key that cannot be made, read or used; the text says what to do."""


@dataclass(frozen=True)
class CertificateCredential:
    """The connection's certificate: its private key (secret) and its public facts."""

    private_key_pem: str = field(repr=False)
    certificate_pem: str
    sha1_thumbprint: str
    sha256_thumbprint: str
    not_before: datetime
    not_after: datetime

    def __post_init__(self) -> None:
        # Every line of the key goes to the log filter: a log line never holds the whole PEM.
        remember_secret(self.private_key_pem)
        for line in _key_body_lines(self.private_key_pem):
            remember_secret(line)

    @property
    def der(self) -> bytes:
        """The certificate as a .cer file holds it (DER), which Entra's portal accepts."""
        return _load_certificate(self.certificate_pem).public_bytes(serialization.Encoding.DER)

    @property
    def custom_key_identifier(self) -> str:
        """How Graph shows this certificate's ``customKeyIdentifier``: its SHA-1 thumbprint."""
        return graph_key_identifier(self.sha1_thumbprint)

    def msal_credential(self) -> dict[str, str]:
        """MSAL's certificate credential. Given the certificate, MSAL signs with PS256 and
        names it by its SHA-256 thumbprint (``x5t#S256``), which Entra prefers to SHA-1."""
        return {"private_key": self.private_key_pem, "public_certificate": self.certificate_pem}

    def keyring_text(self) -> str:
        """What the keyring keeps: the private key, then the (public) certificate."""
        return self.private_key_pem.strip() + "\n" + self.certificate_pem.strip() + "\n"


def _key_body_lines(pem: str) -> list[str]:
    return [line.strip() for line in pem.splitlines() if line.strip() and "-----" not in line]


def graph_key_identifier(sha1_hex: str) -> str:
    """A certificate's ``customKeyIdentifier`` as Graph shows one the portal uploaded: the SHA-1
    thumbprint in upper-case hex (forty characters that are also valid base64, the form Graph
    gives its Binary properties in)."""
    return sha1_hex.upper()


_HEX = frozenset("0123456789abcdef")


def thumbprint_from_key_identifier(identifier: object) -> str | None:
    """The SHA-1 thumbprint (lower-case hex) in a ``customKeyIdentifier``, whichever way it was
    set: the hex thumbprint itself (the portal, PowerShell, this wizard), the raw 20 digest
    bytes in base64, or the hex text in base64."""
    if not isinstance(identifier, str) or len(identifier) > 200:
        return None
    text = identifier.strip().lower()
    if len(text) == 40 and set(text) <= _HEX:
        return text
    try:
        raw = base64.b64decode(identifier, validate=True)
    except ValueError:
        return None
    if len(raw) == 20:
        return raw.hex()
    try:
        decoded = raw.decode("ascii").strip().lower()
    except UnicodeDecodeError:
        return None
    return decoded if len(decoded) == 40 and set(decoded) <= _HEX else None


def check_months(months: int) -> str | None:
    """The problem with a lifetime in months, or None."""
    if not 1 <= months <= MAX_MONTHS:
        return f"A certificate can last from 1 to {MAX_MONTHS} months; {months} is not allowed."
    return None


def create_certificate(
    client_id: str,
    *,
    months: int = DEFAULT_MONTHS,
    now: datetime | None = None,
    key_size: int = KEY_SIZE,
) -> CertificateCredential:
    """A new RSA key pair and a self-signed SHA-256 certificate for the app ``client_id``."""
    problem = check_months(months)
    if problem:
        raise CertificateError(problem)
    if key_size < 2048:
        raise CertificateError("Entra needs RSA keys of at least 2048 bits.")
    start = (now or datetime.now(UTC)).replace(microsecond=0) - _BACKDATE
    end = start + _BACKDATE + timedelta(days=round(months * _DAYS_PER_MONTH))
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Clearooms booking {client_id}")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return _credential(private_pem, certificate)


def _credential(private_pem: str, certificate: x509.Certificate) -> CertificateCredential:
    return CertificateCredential(
        private_key_pem=private_pem,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        sha1_thumbprint=certificate.fingerprint(hashes.SHA1()).hex(),  # Graph and x5t name it so
        sha256_thumbprint=certificate.fingerprint(hashes.SHA256()).hex(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def _load_certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


_UNREADABLE = (
    "The saved certificate could not be read. Create a new certificate, upload its .cer file "
    "to the app under Certificates & secrets, and test again."
)


def credential_from_keyring_text(text: str) -> CertificateCredential:
    """The credential the keyring kept (see :meth:`CertificateCredential.keyring_text`): the key
    and the certificate must parse, be RSA, and belong together. Messages never quote the key."""
    if len(text) > MAX_BUNDLE_CHARS or _CERTIFICATE_BEGIN not in text:
        raise CertificateError(_UNREADABLE)
    at = text.index(_CERTIFICATE_BEGIN)
    private_pem, certificate_pem = text[:at].strip() + "\n", text[at:].strip() + "\n"
    remember_secret(private_pem)
    for line in _key_body_lines(private_pem):
        remember_secret(line)
    try:
        key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
        certificate = _load_certificate(certificate_pem)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise CertificateError(_UNREADABLE) from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise CertificateError(
            "The saved key is not an RSA key of 2048 bits or more, which Entra needs. Create a "
            "new certificate."
        )
    if certificate.public_key() != key.public_key():
        raise CertificateError(
            "The saved private key does not belong to the saved certificate. Create a new "
            "certificate and upload its .cer file to the app under Certificates & secrets."
        )
    return _credential(private_pem, certificate)


def export_private_key(credential: CertificateCredential, passphrase: str) -> bytes:
    """A PKCS#12 (.pfx) file of the key and certificate, encrypted with ``passphrase``
    (AES-256, as Windows and macOS import it). Only ever on the user's explicit request."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise CertificateError(
            f"Choose a passphrase of at least {MIN_PASSPHRASE_LENGTH} characters: the file "
            "holds the key that signs in as your Clearooms app."
        )
    key = serialization.load_pem_private_key(
        credential.private_key_pem.encode("ascii"), password=None
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("The saved key is not an RSA key.")
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase.encode("utf-8"))
    )
    return pkcs12.serialize_key_and_certificates(
        b"Clearooms booking",
        key,
        _load_certificate(credential.certificate_pem),
        None,
        encryption,
    )


def new_key_id() -> str:
    """A ``keyId`` for a new ``keyCredentials`` entry."""
    return str(uuid.uuid4())
