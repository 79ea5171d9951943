"""Putting the certificate's public half on the app (``keyCredentials``), taking it off again,
and waiting until Microsoft signs the app in with it.

Graph replaces an application's ``keyCredentials`` as a whole, and gives a certificate's ``key``
back only to a ``$select=keyCredentials`` of that one application. The certificates the app
already has are read that way and sent back with the new one; if Graph does not give one of
them back whole, nothing is changed: dropping a certificate someone else uses would stop their
sign-ins without a word.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from clearooms_wizard.core.certificates import (
    CertificateCredential,
    new_key_id,
    thumbprint_from_key_identifier,
)
from clearooms_wizard.core.errors import ClearoomsError, TechnicalDetails, UnexpectedResponse

if TYPE_CHECKING:
    from clearooms_wizard.core.provisioning import AdminGraph

log = logging.getLogger(__name__)

KEY_TYPE, KEY_USAGE = "AsymmetricX509Cert", "Verify"
# Graph allows some dozens of certificates on one app; an answer with far more is not Graph's.
MAX_KEY_CREDENTIALS = 100


class CertificateUploadRefused(ClearoomsError):
    """The upload would have dropped a certificate the app already has; nothing was changed."""


def certificate_name(when: datetime) -> str:
    return f"Clearooms booking {when:%Y-%m-%d}"


def _current_key_credentials(graph: AdminGraph, app_object_id: str) -> list[dict[str, Any]]:
    found = graph.get(f"/applications/{app_object_id}", {"$select": "keyCredentials"})
    listed = found.get("keyCredentials")
    if not isinstance(listed, list) or len(listed) > MAX_KEY_CREDENTIALS:
        raise UnexpectedResponse(
            "Microsoft Graph sent the app's certificates in an unexpected shape.",
            TechnicalDetails(),
        )
    items = [item for item in listed if isinstance(item, dict)]
    if len(items) != len(listed):
        raise UnexpectedResponse(
            "Microsoft Graph sent the app's certificates in an unexpected shape.",
            TechnicalDetails(),
        )
    return items


def _kept(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The app's certificates, to send back unchanged; refuses when one came without its key."""
    without_key = [item for item in items if not isinstance(item.get("key"), str)]
    if without_key:
        raise CertificateUploadRefused(
            "The app already has a certificate that Microsoft did not send back in full, so "
            "adding one here could remove it. Nothing was changed. Upload the .cer file by hand "
            "instead: in the Microsoft Entra admin center, open App registrations, the app, then "
            "Certificates & secrets, Certificates, Upload certificate."
        )
    fields = ("customKeyIdentifier", "displayName", "endDateTime", "key", "keyId")
    kept = []
    for item in items:
        entry = {name: item[name] for name in fields if item.get(name) is not None}
        entry.update(
            startDateTime=item.get("startDateTime"),
            type=item.get("type") or KEY_TYPE,
            usage=item.get("usage") or KEY_USAGE,
        )
        kept.append({k: v for k, v in entry.items() if v is not None})
    return kept


def upload_certificate(graph: AdminGraph, app_object_id: str, cert: CertificateCredential) -> str:
    """Add ``cert`` to the app's certificates, keeping the ones it has; its keyId. An app that
    already has this certificate is left as it is."""
    items = _current_key_credentials(graph, app_object_id)
    for item in items:
        if thumbprint_from_key_identifier(item.get("customKeyIdentifier")) == cert.sha1_thumbprint:
            key_id = item.get("keyId")
            if isinstance(key_id, str):
                log.info("the app already has certificate %s", cert.sha1_thumbprint.upper())
                return key_id
    key_id = new_key_id()
    now = datetime.now(UTC)
    new = {
        "type": KEY_TYPE,
        "usage": KEY_USAGE,
        "key": base64.b64encode(cert.der).decode("ascii"),
        "keyId": key_id,
        "displayName": certificate_name(now),
    }
    graph.send(
        "PATCH", f"/applications/{app_object_id}", body={"keyCredentials": [*_kept(items), new]}
    )
    log.info(
        "uploaded certificate %s (key %s) to app %s",
        cert.sha1_thumbprint.upper(),
        key_id,
        app_object_id,
    )
    return key_id


def remove_certificate(graph: AdminGraph, app_object_id: str, key_id: str) -> bool:
    """Take the certificate ``key_id`` off the app, keeping the others. False when it had none
    by that id."""
    items = _current_key_credentials(graph, app_object_id)
    others = [item for item in items if str(item.get("keyId", "")).lower() != key_id.lower()]
    if len(others) == len(items):
        return False
    graph.send("PATCH", f"/applications/{app_object_id}", body={"keyCredentials": _kept(others)})
    log.info("removed certificate key %s from app %s", key_id, app_object_id)
    return True
