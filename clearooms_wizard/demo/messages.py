"""Transport-neutral request and response values shared by the demo services."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

Outcome = Literal["respond", "reset", "timeout"]

JSON_UTF8 = "application/json; charset=utf-8"
# Graph's own content type; clients that compare it verbatim against "application/json" are
# wrong, so the demo sends the real thing.
GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)


def new_guid() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


def http_date(moment: datetime | None = None) -> str:
    when = moment or utc_now()
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def dump_json(payload: Any) -> bytes:
    # Both Entra and Graph send compact JSON; matching that keeps body sizes realistic.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class DemoRequest:
    """One request as the demo services see it, whichever transport carried it."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    received: float

    @property
    def base(self) -> str:
        """`scheme://host[:port]` exactly as the client addressed us."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def raw_path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @property
    def path_and_query(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    @property
    def hostname(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


@dataclass(frozen=True)
class DemoResponse:
    """What the tenant answers; `outcome` covers the cases where no HTTP response exists."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    outcome: Outcome = "respond"

    @classmethod
    def reset(cls) -> DemoResponse:
        return cls(status=0, outcome="reset")

    @classmethod
    def timeout(cls) -> DemoResponse:
        return cls(status=0, outcome="timeout")

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def json_response(
    status: int,
    payload: Any,
    *,
    content_type: str = JSON_UTF8,
    headers: Mapping[str, str] | None = None,
) -> DemoResponse:
    merged = {"Content-Type": content_type}
    merged.update(headers or {})
    return DemoResponse(status=status, headers=merged, body=dump_json(payload))
