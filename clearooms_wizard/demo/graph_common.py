"""What every demo Graph handler shares: the error shape, headers, OData options and the call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from clearooms_wizard.demo.messages import (
    GRAPH_JSON,
    DemoRequest,
    DemoResponse,
    json_response,
    new_guid,
    utc_now,
)
from clearooms_wizard.demo.tokens import IssuedToken

INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."

_AGS_DIAGNOSTIC = (
    '{"ServerInfo":{"DataCenter":"West Europe","Slice":"E","Ring":"5",'
    '"ScaleUnit":"003","RoleInstance":"AM2PEPF0001D6E4"}}'
)


def graph_headers(request: DemoRequest | None, content_type: str) -> dict[str, str]:
    client_request_id = (request.header("client-request-id") if request else None) or new_guid()
    return {
        "Content-Type": content_type,
        "Cache-Control": "no-cache",
        "request-id": new_guid(),
        "client-request-id": client_request_id,
        "x-ms-ags-diagnostic": _AGS_DIAGNOSTIC,
        "Strict-Transport-Security": "max-age=31536000",
    }


def graph_error(
    request: DemoRequest | None,
    status: int,
    code: str,
    message: str,
    *,
    extra_headers: Mapping[str, str] | None = None,
) -> DemoResponse:
    """A Graph error in the documented shape, with matching request ids in body and headers."""
    headers = graph_headers(request, "application/json")
    headers.update(extra_headers or {})
    payload = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": utc_now().strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": headers["request-id"],
                "client-request-id": headers["client-request-id"],
            },
        }
    }
    return json_response(status, payload, content_type=headers.pop("Content-Type"), headers=headers)


class GraphProblem(Exception):
    """Raised inside handlers to answer with a Graph error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str, code: str = "BadRequest") -> GraphProblem:
    return GraphProblem(400, code, message)


@dataclass(frozen=True)
class GraphCall:
    request: DemoRequest
    token: IssuedToken
    segments: list[str]

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.token.roles)

    @property
    def root(self) -> str:
        return f"{self.request.base}/v1.0"


def option(request: DemoRequest, name: str) -> str | None:
    return request.query_value(name)


def check_options(request: DemoRequest, allowed: Iterable[str], code: str = "BadRequest") -> None:
    allowed_set = set(allowed)
    for key, _ in request.query:
        if key.startswith("$") and key not in allowed_set:
            # Said plainly so a developer knows it is the demo, not Graph, that refuses.
            raise bad_request(f"Query option '{key}' is not supported by the demo tenant.", code)


def int_option(request: DemoRequest, name: str, default: int) -> int:
    raw = option(request, name)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise bad_request(
            f"Invalid value '{raw}' for {name} query option found. The {name} query option "
            "requires a non-negative integer value."
        )
    return int(raw)


def select(
    request: DemoRequest, known: Iterable[str], type_name: str, code: str = "BadRequest"
) -> list[str] | None:
    raw = option(request, "$select")
    if raw is None:
        return None
    canonical = {name.lower(): name for name in known}
    chosen = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if part.lower() not in canonical:
            raise bad_request(
                "Parsing OData Select and Expand failed: Could not find a property named "
                f"'{part}' on type '{type_name}'.",
                code,
            )
        chosen.append(canonical.get(part.lower(), part))
    return chosen


def project(item: Mapping[str, Any], selected: list[str] | None) -> dict[str, Any]:
    if selected is None:
        return dict(item)
    wanted = {name.lower() for name in selected} | {"id", "@odata.type"}
    # Graph matches property names case-insensitively, so both wheelchair spellings answer.
    return {key: value for key, value in item.items() if key.lower() in wanted}


def ok(call: GraphCall, payload: Mapping[str, Any], *, status: int = 200) -> DemoResponse:
    headers = graph_headers(call.request, GRAPH_JSON)
    headers["OData-Version"] = "4.0"
    content_type = headers.pop("Content-Type")
    return json_response(status, payload, content_type=content_type, headers=headers)


def no_content(call: GraphCall) -> DemoResponse:
    headers = graph_headers(call.request, "text/plain")
    del headers["Content-Type"]
    return DemoResponse(204, headers)
