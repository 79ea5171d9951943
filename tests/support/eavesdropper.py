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
import threading
from dataclasses import dataclass, field
from types import TracebackType


@dataclass
class Overheard:
    connections: int = 0
    requests: list[str] = field(default_factory=list)  # request lines
    bearer_tokens: int = 0  # requests that carried Authorization: Bearer


class Eavesdropper:
    def __init__(self, context: ssl.SSLContext, host: str = "127.0.0.1") -> None:
        self._context = context
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.05)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._heard = Overheard()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name="eavesdropper", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def heard(self) -> Overheard:
        with self._lock:
            return Overheard(
                self._heard.connections, list(self._heard.requests), self._heard.bearer_tokens
            )

    def __enter__(self) -> Eavesdropper:
        self._accepting.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._accepting.join()
        for thread in self._threads:
            thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self._heard.connections += 1
            thread = threading.Thread(target=self._serve, args=(raw,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
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
