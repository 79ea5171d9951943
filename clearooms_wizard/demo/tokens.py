"""Access tokens the demo identity platform issues and its Graph accepts.

Tokens are JWT-shaped with v1.0 app-only claims so a client can decode `roles` the way it would
with a real Graph token, but they are unsigned: the signature part is random bytes. Graph trusts
only tokens found in this store, which is stricter than signature checking and lets tests
expire tokens on demand.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from clearooms_wizard.demo import data

TokenProblem = Literal["empty", "invalid", "expired"]


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_segment(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("JWT segment is not a JSON object")
    return value


def decode_claims(token: str) -> dict[str, Any]:
    """The payload of a demo (or any compact JWS) token, without verifying it."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWT")
    return decode_segment(parts[1])


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: dict[str, Any]
    expires_at: float

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.claims.get("roles", ()))

    @property
    def audience(self) -> str:
        return str(self.claims["aud"])

    @property
    def scopes(self) -> tuple[str, ...]:
        """A delegated token's permissions (`scp`); empty for an app's own token."""
        return tuple(str(self.claims.get("scp", "")).split())

    @property
    def role_ids(self) -> tuple[str, ...]:
        """The signed-in person's directory role template ids (`wids`)."""
        return tuple(self.claims.get("wids", ()))

    @property
    def is_delegated(self) -> bool:
        return self.claims.get("idtyp") == "user"

    @property
    def client_id(self) -> str:
        return str(self.claims.get("appid", ""))


class TokenStore:
    def __init__(self, lifetime: int = 3599) -> None:
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._tokens: dict[str, IssuedToken] = {}
        self._expired: set[str] = set()

    def issue(
        self,
        *,
        audience: str,
        roles: Sequence[str],
        app_id: str = data.APP_ID,
        app_display_name: str = data.APP_DISPLAY_NAME,
        service_principal_id: str = data.SERVICE_PRINCIPAL_ID,
    ) -> IssuedToken:
        now = int(time.time())
        tid = data.TENANT_ID
        header = {
            "typ": "JWT",
            "nonce": b64url(secrets.token_bytes(32)),
            "alg": "RS256",
            "x5t": "DemoKey0Northwind0Unsigned0",
            "kid": "DemoKey0Northwind0Unsigned0",
        }
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tid}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "aio": b64url(secrets.token_bytes(48)),
            "app_displayname": app_display_name,
            "appid": app_id,
            "appidacr": "1",
            "idp": f"https://sts.windows.net/{tid}/",
            "idtyp": "app",
            "oid": service_principal_id,
            "rh": "0." + b64url(secrets.token_bytes(24)) + ".",
            "sub": service_principal_id,
            "tenant_region_scope": data.TENANT_REGION_SCOPE,
            "tid": tid,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "1.0",
            "wids": ["0997a1d0-0d1d-4acb-b408-d5ca73121e90"],
            "xms_tcdt": 1597000000,
        }
        # Entra leaves the claim out entirely, rather than sending [], when nothing was consented.
        if roles:
            claims["roles"] = sorted(roles)
        token = ".".join(
            (
                b64url(json.dumps(header, separators=(",", ":")).encode()),
                b64url(json.dumps(claims, separators=(",", ":")).encode()),
                b64url(secrets.token_bytes(256)),
            )
        )
        issued = IssuedToken(token, claims, float(claims["exp"]))
        with self._lock:
            self._tokens[token] = issued
        return issued

    def issue_delegated(
        self,
        *,
        audience: str,
        scopes: Sequence[str],
        user: data.Administrator,
        client_id: str = data.SETUP_CLIENT_ID,
        client_name: str = data.SETUP_CLIENT_NAME,
    ) -> IssuedToken:
        """A token a person got by signing in to a public client (v1.0 shape, as Graph's are)."""
        now = int(time.time())
        tid = data.TENANT_ID
        header = {"typ": "JWT", "nonce": b64url(secrets.token_bytes(32)), "alg": "RS256"}
        header["kid"] = header["x5t"] = "DemoKey0Northwind0Unsigned0"
        given, _, family = user.display_name.partition(" ")
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tid}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "acr": "1",
            "aio": b64url(secrets.token_bytes(48)),
            "amr": ["pwd", "mfa"],
            "app_displayname": client_name,
            "appid": client_id,
            "appidacr": "0",
            "family_name": family,
            "given_name": given,
            "idtyp": "user",
            "ipaddr": "203.0.113.24",
            "name": user.display_name,
            "oid": user.id,
            "platf": "14",
            "puid": "10032003" + user.id[:8].upper(),
            "rh": "0." + b64url(secrets.token_bytes(24)) + ".",
            "scp": " ".join(sorted(set(scopes))),
            "sub": b64url(secrets.token_bytes(32)),
            "tenant_region_scope": data.TENANT_REGION_SCOPE,
            "tid": tid,
            "unique_name": user.username,
            "upn": user.username,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "1.0",
            "wids": list(user.role_ids),
            "xms_tcdt": 1597000000,
        }
        token = ".".join(
            (
                b64url(json.dumps(header, separators=(",", ":")).encode()),
                b64url(json.dumps(claims, separators=(",", ":")).encode()),
                b64url(secrets.token_bytes(256)),
            )
        )
        issued = IssuedToken(token, claims, float(claims["exp"]))
        with self._lock:
            self._tokens[token] = issued
        return issued

    def validate(self, token: str | None) -> IssuedToken | TokenProblem:
        if not token:
            return "empty"
        with self._lock:
            issued = self._tokens.get(token)
            forced = token in self._expired
        if issued is None:
            return "invalid"
        if forced or issued.expires_at <= time.time():
            return "expired"
        return issued

    def expire_all(self) -> None:
        """Make every token issued so far count as expired, as if an hour had passed."""
        with self._lock:
            # Only tokens that exist now: one fetched afterwards must work, as a fresh one would.
            self._expired.update(self._tokens)

    @property
    def issued_count(self) -> int:
        with self._lock:
            return len(self._tokens)
