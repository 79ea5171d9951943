"""Reading Microsoft's answers defensively: JSON or a clear error, never a stack trace."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from clearooms_wizard.core.errors import (
    AnswerTooLarge,
    GraphError,
    TechnicalDetails,
    UnexpectedResponse,
)

if TYPE_CHECKING:
    import requests

# Entra's discovery and token answers are a few kilobytes. Anything near this is not from
# Microsoft, and reading it all (a 50 MB "token") would only fail later in a confusing way.
IDENTITY_ANSWER_LIMIT = 1_000_000


# A page of 100 rooms has a few thousand values; a million is beyond any answer of Microsoft's.
MAX_ENTRIES_PER_ANSWER = 1_000_000


def details_of(response: requests.Response) -> TechnicalDetails:
    headers = response.headers
    url = response.url.split("?", 1)[0] if response.url else None
    return TechnicalDetails(
        request_id=headers.get("request-id"),
        client_request_id=headers.get("client-request-id"),
        http_status=response.status_code,
        url=url,
        timestamp=headers.get("Date"),
    )


def read_json(response: requests.Response) -> dict[str, Any]:
    """The body as a JSON object, or UnexpectedResponse saying what came instead."""
    details = details_of(response)
    text = response.text
    content_type = response.headers.get("Content-Type", "").lower()
    if not text.strip():
        raise UnexpectedResponse(
            f"{details.url} sent an empty answer (HTTP {response.status_code}).", details
        )
    if "html" in content_type or text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        raise UnexpectedResponse(
            f"{details.url} sent a web page instead of Microsoft's data; a proxy or network "
            "sign-in page may be in the way.",
            details,
        )
    # Each comma or bracket can become an object in memory, at about 50 bytes or more each: a
    # few megabytes of "{},{}," would take gigabytes to parse. Counted before parsing (a quick
    # scan); brackets and commas inside strings count too, which only errs on the safe side.
    entries = text.count(",") + text.count("{") + text.count("[")
    if entries > MAX_ENTRIES_PER_ANSWER:
        raise UnexpectedResponse(
            f"{details.url} sent an answer with more than {MAX_ENTRIES_PER_ANSWER:,} entries, "
            "far more than Microsoft sends at once; it was not read.",
            details,
        )
    try:
        payload = json.loads(text)
    except RecursionError:
        raise UnexpectedResponse(
            f"{details.url} sent data nested far more deeply than Microsoft's ever is "
            f"(HTTP {response.status_code}).",
            details,
        ) from None
    except ValueError:
        raise UnexpectedResponse(
            f"{details.url} sent an answer that was cut off or is not valid data "
            f"(HTTP {response.status_code}, {content_type or 'no content type'}).",
            details,
        ) from None
    if not isinstance(payload, dict):
        raise UnexpectedResponse(f"{details.url} sent data in an unexpected shape.", details)
    return payload


def read_body(response: requests.Response, limit: int) -> None:
    """Read the body of a response requested with ``stream=True`` into ``response.content``,
    refusing one larger than ``limit`` bytes (after decompression) without reading the rest.
    Errors of the connection are left to the caller (MicrosoftSession), who knows whether a
    deadline or Stop cut it."""
    declared = response.headers.get("Content-Length", "")
    size = int(declared) if declared.isdigit() else 0
    chunks: list[bytes] = []
    if size <= limit:
        size = 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
    if size > limit:
        response.close()
        details = details_of(response)
        raise AnswerTooLarge(
            f"{details.url} sent an answer of more than {limit // 1000:,} KB; Microsoft's are "
            "far smaller.",
            details,
        )
    response._content = b"".join(chunks)


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError, OverflowError):
            return None  # not a date either (or one without a time zone)
    # "nan" and "1e999" are floats too, and no wait to tell anyone about.
    return max(0.0, seconds) if math.isfinite(seconds) else None


def graph_error(response: requests.Response) -> GraphError:
    """Turn a Graph error response into GraphError (or UnexpectedResponse if it is not Graph's)."""
    payload = read_json(response)
    error = payload.get("error")
    if not isinstance(error, dict):
        raise UnexpectedResponse(
            f"Microsoft Graph answered HTTP {response.status_code} without an error description.",
            details_of(response),
        )
    inner = error.get("innerError") or error.get("innererror") or {}
    if not isinstance(inner, dict):
        inner = {}
    base = details_of(response)
    details = TechnicalDetails(
        request_id=str(inner.get("request-id") or base.request_id or "") or None,
        client_request_id=str(inner.get("client-request-id") or base.client_request_id or "")
        or None,
        timestamp=str(inner.get("date") or base.timestamp or "") or None,
        http_status=response.status_code,
        url=base.url,
    )
    return GraphError(
        response.status_code,
        str(error.get("code") or f"HTTP{response.status_code}"),
        str(error.get("message") or ""),
        details,
        retry_after=retry_after_seconds(response),
    )


def parse_graph_time(value: object) -> datetime | None:
    """A date and time as Graph writes them ("2026-11-26T05:00:00Z"), in UTC when it names no
    zone; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
