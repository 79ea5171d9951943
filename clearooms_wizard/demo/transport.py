"""Serve the demo tenant inside a `requests.Session`, with no sockets at all."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from http.client import RemoteDisconnected
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from urllib3.exceptions import MaxRetryError, ProtocolError
from urllib3.util import Retry, Timeout

from clearooms_wizard.demo.tenant import DemoTenant
from clearooms_wizard.demo.urls import DEMO_AUTHORITY_HOST, DEMO_GRAPH_ROOT

__all__ = ["DEMO_AUTHORITY_HOST", "DEMO_GRAPH_ROOT", "InProcessAdapter", "mount_demo"]


def _read_timeout(timeout: Any) -> float | None:
    """The read part of any timeout form requests accepts."""
    if timeout is None:
        return None
    if isinstance(timeout, tuple):
        read = timeout[1] if len(timeout) > 1 else None
        return None if read is None else float(read)
    if isinstance(timeout, Timeout):
        read_timeout = timeout.read_timeout
        return read_timeout if isinstance(read_timeout, int | float) else None
    return float(timeout)


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        content = body.read()
        return content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if isinstance(body, Iterable):
        # A generator body (chunked upload) is consumed whole, as a server would read it.
        return b"".join(
            chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body
        )
    raise TypeError(f"unsupported request body type: {type(body).__name__}")


class InProcessAdapter(BaseAdapter):
    """A transport adapter that answers from a `DemoTenant` instead of the network.

    Latency is real (the calling thread sleeps), a read timeout shorter than the latency
    raises `ReadTimeout`, and a `reset` fault raises the same `ConnectionError` a dropped
    connection would, so the product's error handling is exercised as in production.
    """

    def __init__(self, tenant: DemoTenant, retry: Retry | None = None) -> None:
        super().__init__()
        self.tenant = tenant
        # The session's own retry policy, so that --demo waits out a 429 or 503 exactly as the
        # real transport does (urllib3 applies it there; nothing would here otherwise).
        self.retry = retry

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | Timeout | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        method = (request.method or "GET").upper()
        retry = self.retry
        while True:
            response = self._send_once(request, stream, timeout)
            has_retry_after = "Retry-After" in response.headers
            if retry is None or not retry.is_retry(method, response.status_code, has_retry_after):
                return response
            raw = response.raw
            try:
                retry = retry.increment(method=method, url=request.url, response=raw)
            except MaxRetryError:
                return response
            retry.sleep(raw)

    def _send_once(
        self,
        request: requests.PreparedRequest,
        stream: bool,
        timeout: float | tuple[float, float] | tuple[float, None] | Timeout | None,
    ) -> requests.Response:
        url = request.url or ""
        method = (request.method or "GET").upper()
        read_timeout = _read_timeout(timeout)
        answer = self.tenant.handle(
            method,
            url,
            dict(request.headers),
            _body_bytes(request.body),
            timeout=read_timeout,
        )
        if answer.outcome == "reset":
            # The exception chain requests/urllib3 produce for a peer that hangs up.
            cause = ProtocolError(
                "Connection aborted.",
                RemoteDisconnected("Remote end closed connection without response"),
            )
            raise requests.exceptions.ConnectionError(cause, request=request)
        if answer.outcome == "timeout":
            host = url.split("/")[2] if url.count("/") >= 2 else url
            raise requests.exceptions.ReadTimeout(
                f"HTTPSConnectionPool(host='{host}', port=443): Read timed out. "
                f"(read timeout={read_timeout})",
                request=request,
            )
        body = b"" if method == "HEAD" else answer.body
        headers = dict(answer.headers)
        headers["Content-Length"] = str(len(answer.body))
        raw = HTTPResponse(
            body=io.BytesIO(body),
            headers=headers,
            status=answer.status,
            reason=answer.reason,
            preload_content=False,
            decode_content=False,
            request_method=method,
            request_url=url,
        )
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = answer.reason
        response.url = url
        response.request = request
        # The stubs say HTTPAdapter, but requests only needs something with send() here.
        response.connection = self  # type: ignore[assignment]
        if not stream:
            # Read now so the response holds no open stream, as requests does itself.
            _ = response.content
        return response

    def close(self) -> None:
        """Nothing to release: there are no connections."""


def mount_demo(session: requests.Session, tenant: DemoTenant) -> None:
    """Route the demo authority host and the demo Graph root of `session` to `tenant`."""
    current = session.get_adapter(f"{DEMO_GRAPH_ROOT}/")
    retry = current.max_retries if isinstance(current, HTTPAdapter) else None
    adapter = InProcessAdapter(tenant, retry)
    # The trailing slash keeps look-alike hosts such as "...invalid.example.com" off the demo.
    session.mount(f"{DEMO_AUTHORITY_HOST}/", adapter)
    session.mount(f"{DEMO_GRAPH_ROOT}/", adapter)
