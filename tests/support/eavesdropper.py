"""A second HTTPS listener on loopback that the product must never talk to.

It stands for the host a hostile answer tries to send the access token to: it accepts any
connection, completes TLS with the tests' trusted certificate (so a token sent to it would
really arrive), and records every connection and every request's headers. Tests assert it
received nothing.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from dataclasses import dataclass, field

from tests.support.loopback import LoopbackServer


@dataclass
class Overheard:
    connections: int = 0
    requests: list[str] = field(default_factory=list)  # request lines
    bearer_tokens: int = 0  # requests that carried Authorization: Bearer


class Eavesdropper(LoopbackServer):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self._context = context
        self._heard = Overheard()

    def heard(self) -> Overheard:
        with self._lock:
            return Overheard(
                self._heard.connections, list(self._heard.requests), self._heard.bearer_tokens
            )

    def _serve(self, raw: socket.socket) -> None:
        with self._lock:
            self._heard.connections += 1
        raw.settimeout(2.0)
        with (
            contextlib.suppress(OSError),
            raw,
            self._context.wrap_socket(raw, server_side=True) as tls,
        ):
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            lines = head.split("\r\n")
            with self._lock:
                self._heard.requests.append(lines[0])
                if any(line.lower().startswith("authorization: bearer") for line in lines):
                    self._heard.bearer_tokens += 1
            body = b'{"value": []}'
            tls.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
