"""A loopback HTTPS front for the demo tenant that sends some answers a byte at a time.

Every request is passed on to the demo server and its answer sent back; answers to paths
matching ``pattern`` trickle: from the status line on (``mode="headers"``), or after headers
sent at once (``mode="body"``). Bytes keep coming, so no read timeout ever fires: only an
overall deadline ends the wait. The Host header is passed on, so the demo's discovery document
names the front, and the calls after it come here too.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import ssl
import time
from typing import Literal

from tests.support.loopback import LoopbackServer

TrickleMode = Literal["headers", "body"]


class TricklingFront(LoopbackServer):
    def __init__(
        self,
        upstream_port: int,
        server_context: ssl.SSLContext,
        ca_bundle: str,
        pattern: str,
        mode: TrickleMode,
        interval: float = 0.05,
    ) -> None:
        super().__init__()
        self._upstream_port = upstream_port
        self._context = server_context
        self._client_context = ssl.create_default_context(cafile=ca_bundle)
        self._pattern = re.compile(pattern)
        self._mode = mode
        self._interval = interval
        self.trickled: list[str] = []  # paths whose answers were trickled

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(5.0)
        with (
            contextlib.suppress(OSError, http.client.HTTPException),
            raw,
            self._context.wrap_socket(raw, server_side=True) as tls,
        ):
            self._track(tls)
            reader = tls.makefile("rb")
            while not self._stopping.is_set():
                request_line = reader.readline().decode("latin-1").strip()
                if not request_line:
                    return
                method, path, _ = request_line.split(" ", 2)
                headers: list[tuple[str, str]] = []
                while (line := reader.readline().decode("latin-1").strip()) != "":
                    name, value = line.split(":", 1)
                    headers.append((name.strip(), value.strip()))
                length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
                body = reader.read(length) if length else b""
                status, reason, answer_headers, answer = self._ask_upstream(
                    method, path, headers, body
                )
                head = f"HTTP/1.1 {status} {reason}\r\n"
                for name, value in answer_headers:
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        head += f"{name}: {value}\r\n"
                head += f"Content-Length: {len(answer)}\r\n\r\n"
                if not self._pattern.search(path):
                    tls.sendall(head.encode("latin-1") + answer)
                    continue
                with self._lock:
                    self.trickled.append(path)
                if self._mode == "headers":
                    self._trickle(tls, head.encode("latin-1") + answer)
                else:
                    tls.sendall(head.encode("latin-1"))
                    self._trickle(tls, answer)
                return

    def _ask_upstream(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPSConnection(
            "127.0.0.1", self._upstream_port, context=self._client_context, timeout=10
        )
        try:
            upstream.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                upstream.putheader(name, value)
            upstream.endheaders(body or None)
            response = upstream.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            upstream.close()

    def _trickle(self, tls: ssl.SSLSocket, data: bytes) -> None:
        for index in range(len(data)):
            if self._stopping.is_set():
                return
            tls.sendall(data[index : index + 1])
            time.sleep(self._interval)


class TricklingRelay(LoopbackServer):
    """A plain TCP relay to the demo server that passes the server's bytes on one at a time,
    from the first byte of the TLS handshake on: a connection that is never quite set up."""

    def __init__(self, upstream_port: int, interval: float = 0.05) -> None:
        super().__init__()
        self._upstream_port = upstream_port
        self._interval = interval
        self.connections = 0

    def _serve(self, connection: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        self._track(connection)
        upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
        self._track(upstream)
        self._start(self._pass_on, upstream, connection, True)
        self._pass_on(connection, upstream, False)

    def _pass_on(self, source: socket.socket, target: socket.socket, trickle: bool) -> None:
        with contextlib.suppress(OSError):
            while not self._stopping.is_set():
                data = source.recv(4096)
                if not data:
                    return
                if not trickle:
                    target.sendall(data)
                    continue
                for index in range(len(data)):
                    if self._stopping.is_set():
                        return
                    target.sendall(data[index : index + 1])
                    time.sleep(self._interval)
