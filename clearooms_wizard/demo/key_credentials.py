"""Certificates on the demo tenant's applications, and the token endpoint's client assertions.

An application's ``keyCredentials`` hold the public certificates it may sign in with. An app
signs in by sending a JWT (the client assertion) signed with the certificate's private key and
naming the certificate by its thumbprint in the header (``x5t#S256``, or ``x5t`` for SHA-1). The
identity platform finds the certificate, checks the signature, the audience (its own token
endpoint), the issuer and subject (the client ID) and the time range, and answers with the real
AADSTS codes and wording when one of them is wrong.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clearooms_wizard.core.certificates import graph_key_identifier
from clearooms_wizard.demo import data
from clearooms_wizard.demo.data import graph_datetime

if TYPE_CHECKING:
    from clearooms_wizard.core.certificates import CertificateCredential

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KEY_TYPE, KEY_USAGE = "AsymmetricX509Cert", "Verify"
# A client assertion is a few KB; Entra refuses far larger ones.
MAX_ASSERTION_CHARS = 16_000
# How far the clocks may disagree, as Entra allows (five minutes).
CLOCK_SKEW = 300
_CERT_DOCS = (
    "Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/"
    "active-directory-certificate-credentials ."
)


@dataclass(frozen=True)
class KeyCredential:
    """One certificate on an application, as Graph's ``keyCredential`` describes it."""

    key_id: str
    display_name: str | None
    der: bytes
    start: datetime
    end: datetime
    custom_key_identifier: str
    visible_at: float = 0.0

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)

    @property
    def sha1(self) -> str:
        return self.certificate.fingerprint(hashes.SHA1()).hex()  # x5t names it so

    @property
    def sha256(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def to_graph(self, *, with_key: bool = False) -> dict[str, Any]:
        # Graph gives the key only to a $select=keyCredentials of one object; else null.
        return {
            "customKeyIdentifier": self.custom_key_identifier,
            "displayName": self.display_name,
            "endDateTime": graph_datetime(self.end),
            "key": base64.b64encode(self.der).decode("ascii") if with_key else None,
            "keyId": self.key_id,
            "startDateTime": graph_datetime(self.start),
            "type": KEY_TYPE,
            "usage": KEY_USAGE,
        }


def key_credential_for(
    der: bytes, key_id: str, display_name: str | None, *, visible_at: float = 0.0
) -> KeyCredential:
    """A certificate as the portal adds it: dates and identifier taken from the certificate."""
    certificate = x509.load_der_x509_certificate(der)
    return KeyCredential(
        key_id,
        display_name,
        der,
        certificate.not_valid_before_utc,
        certificate.not_valid_after_utc,
        graph_key_identifier(certificate.fingerprint(hashes.SHA1()).hex()),
        visible_at,
    )


class KeyCredentialsInvalid(ValueError):
    """The PATCH body's ``keyCredentials`` cannot be taken; the text is the property to name."""


def parse_key_credentials(value: object, new_key_id: Any) -> list[KeyCredential]:
    """The ``keyCredentials`` of a PATCH body, each with a certificate that parses (Graph
    refuses the whole update otherwise). ``new_key_id()`` names an entry given none."""
    if not isinstance(value, list) or len(value) > 50:
        raise KeyCredentialsInvalid("keyCredentials")
    parsed: list[KeyCredential] = []
    for item in value:
        if not isinstance(item, Mapping):
            raise KeyCredentialsInvalid("keyCredentials")
        if item.get("type") != KEY_TYPE or item.get("usage") != KEY_USAGE:
            raise KeyCredentialsInvalid("keyCredentials")
        key = item.get("key")
        if not isinstance(key, str) or len(key) > 20_000:
            raise KeyCredentialsInvalid("key")
        try:
            der = base64.b64decode(key, validate=True)
            certificate = x509.load_der_x509_certificate(der)
        except (ValueError, binascii.Error):
            raise KeyCredentialsInvalid("key") from None
        if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
            raise KeyCredentialsInvalid("key")
        key_id = item.get("keyId") or new_key_id()
        name = item.get("displayName")
        if not isinstance(key_id, str) or (name is not None and not isinstance(name, str)):
            raise KeyCredentialsInvalid("keyCredentials")
        found = key_credential_for(der, key_id.lower(), name)
        identifier = item.get("customKeyIdentifier")
        if isinstance(identifier, str) and identifier:
            found = _with(found, custom_key_identifier=identifier)
        start = _time(item.get("startDateTime"), "startDateTime")
        end = _time(item.get("endDateTime"), "endDateTime")
        # The credential's dates must lie within the certificate's own.
        if start is not None:
            if start < certificate.not_valid_before_utc:
                raise KeyCredentialsInvalid("startDateTime")
            found = _with(found, start=start)
        if end is not None:
            if end > certificate.not_valid_after_utc:
                raise KeyCredentialsInvalid("endDateTime")
            found = _with(found, end=end)
        parsed.append(found)
    return parsed


def _with(found: KeyCredential, **changes: Any) -> KeyCredential:
    return replace(found, **changes)


def _time(value: object, prop: str) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise KeyCredentialsInvalid(prop) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AssertionProblem:
    """Why the token endpoint refuses an assertion: Entra's error, code and wording."""

    error: str
    code: int
    text: str
    status: int = 401


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _portal_date(moment: datetime) -> str:
    return f"{moment:%m/%d/%Y %H:%M:%S}"


def _thumbprint_of(header: Mapping[str, Any]) -> tuple[str, str] | None:
    """("sha256" or "sha1", hex) from the header's x5t#S256 or x5t; None when it has neither."""
    for name, kind, size in (("x5t#S256", "sha256", 32), ("x5t", "sha1", 20)):
        value = header.get(name)
        if isinstance(value, str) and value:
            try:
                raw = _b64url(value)
            except (ValueError, binascii.Error):
                return kind, ""
            return kind, raw.hex() if len(raw) == size else ""
    return None


def check_assertion(
    assertion: str,
    client_id: str,
    app_id: str,
    certificates: Sequence[KeyCredential],
    audiences: set[str],
    now: datetime,
) -> AssertionProblem | None:
    """None when ``assertion`` proves the client holds a key of one of ``certificates``."""
    malformed = AssertionProblem(
        "invalid_request", 50027, "JWT token is invalid or malformed.", status=400
    )
    parts = assertion.split(".")
    if len(assertion) > MAX_ASSERTION_CHARS or len(parts) != 3:
        return malformed
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
        signature = _b64url(parts[2])
    except (ValueError, binascii.Error, RecursionError):
        return malformed
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return malformed
    found_thumbprint = _thumbprint_of(header)
    if found_thumbprint is None:
        return AssertionProblem(
            "invalid_request",
            50027,
            "Invalid JWT token. No certificate thumbprint specified in token header.",
            status=400,
        )
    kind, thumbprint = found_thumbprint
    shown = thumbprint.upper() or "(unreadable)"
    configured = (
        f"Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
        f"configured keys for app Id '{app_id}'. Review the documentation at "
        "https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding "
        "service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?"
        "view=graph-rest-1.0&tabs=http to build a query request URL, such as "
        f"'https://graph.microsoft.com/beta/applications/{app_id}'"
    )
    match = next(
        (c for c in certificates if thumbprint and (c.sha256 if kind == "sha256" else c.sha1)
         == thumbprint),
        None,
    )  # fmt: skip
    if match is None:
        return AssertionProblem(
            "invalid_client",
            700027,
            "The certificate with identifier used to sign the client assertion is not "
            f"registered on application. [Reason - The key was not found., Thumbprint of key "
            f"used by client: '{shown}', {configured}]. Alternatively, SNI may be configured on "
            "the app. Please ensure that client assertion is being sent with the x5c claim in "
            "the JWT header using MSAL's WithSendX5C() method so that Azure Active Directory "
            "can validate the certificate being used.",
        )
    found_key = f"Found key 'Start={_portal_date(match.start)}, End={_portal_date(match.end)}'"
    if not _signature_holds(match, header.get("alg"), parts, signature):
        return AssertionProblem(
            "invalid_client",
            700027,
            "Client assertion contains an invalid signature. [Reason - The provided signature "
            f"value did not match the expected signature value., Thumbprint of key used by "
            f"client: '{shown}', {found_key}, {configured}].",
        )
    if match.end <= now:
        return AssertionProblem(
            "invalid_client",
            700027,
            "Client assertion contains an invalid signature. [Reason - The key used is "
            f"expired., Thumbprint of key used by client: '{shown}', {found_key}, {configured}].",
        )
    if claims.get("aud") not in audiences:
        return AssertionProblem(
            "invalid_client",
            700023,
            f"Client assertion audience claim does not match Realm issuer. {_CERT_DOCS}",
        )
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return AssertionProblem(
            "invalid_client",
            700021,
            f"Client assertion application identifier doesn't match 'client_id' parameter. "
            f"{_CERT_DOCS}",
        )
    return _time_problem(claims, now)


def _time_problem(claims: Mapping[str, Any], now: datetime) -> AssertionProblem | None:
    expires, not_before = claims.get("exp"), claims.get("nbf")
    stamp = now.timestamp()
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        return AssertionProblem("invalid_request", 50027, "JWT token is invalid or malformed.", 400)
    in_range = expires + CLOCK_SKEW > stamp
    if isinstance(not_before, int | float) and not isinstance(not_before, bool):
        in_range = in_range and not_before - CLOCK_SKEW <= stamp
    if in_range:
        return None
    expiry = datetime.fromtimestamp(min(max(expires, 0), 253_402_300_799), UTC)
    return AssertionProblem(
        "invalid_client",
        700024,
        f"Client assertion is not within its valid time range. Current time: "
        f"{now:%Y-%m-%dT%H:%M:%S.%f}0Z, expiry time of assertion {expiry:%Y-%m-%dT%H:%M:%S.%f}0Z. "
        f"{_CERT_DOCS}",
    )


def _signature_holds(
    credential: KeyCredential, algorithm: object, parts: Sequence[str], signature: bytes
) -> bool:
    public_key = credential.certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    signed = f"{parts[0]}.{parts[1]}".encode("ascii")
    if algorithm == "RS256":
        scheme: padding.AsymmetricPadding = padding.PKCS1v15()
    elif algorithm == "PS256":
        scheme = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    else:
        return False
    try:
        public_key.verify(signature, signed, scheme, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


@functools.cache
def demo_certificate(days_left: float) -> CertificateCredential:
    """The certificate a certificate scenario's app has, made once per process (an RSA key
    takes a moment) and shared by the demo tenant and the wizard given it."""
    from datetime import timedelta

    from clearooms_wizard.core.certificates import DEFAULT_MONTHS, create_certificate

    lifetime = round(DEFAULT_MONTHS * 30.44)
    # An hour's margin, so that "in 10 days" still reads 10 when the check runs.
    start = datetime.now(UTC) - timedelta(days=lifetime - days_left, hours=-1)
    return create_certificate(data.APP_ID, months=DEFAULT_MONTHS, now=start)


DEMO_CERTIFICATE_KEY_ID = data.stable_guid("certificate", "clearooms-booking")


def demo_key_credential(days_left: float) -> KeyCredential:
    """The scenario app's certificate as the administrator uploaded it in the portal."""
    return key_credential_for(
        demo_certificate(days_left).der, DEMO_CERTIFICATE_KEY_ID, "Clearooms booking"
    )
