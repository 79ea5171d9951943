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
import threading
import time
from types import TracebackType
from typing import Literal

TrickleMode = Literal["headers", "body"]


class TricklingFront:
    def __init__(
        self,
        upstream_port: int,
        server_context: ssl.SSLContext,
        ca_bundle: str,
        pattern: str,
        mode: TrickleMode,
        interval: float = 0.05,
    ) -> None:
        self._upstream_port = upstream_port
        self._context = server_context
        self._client_context = ssl.create_default_context(cafile=ca_bundle)
        self._pattern = re.compile(pattern)
        self._mode = mode
        self._interval = interval
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self.trickled: list[str] = []  # paths whose answers were trickled
        self._accepting = threading.Thread(target=self._accept, name="trickle", daemon=True)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> TricklingFront:
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
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # Unblocks a thread waiting for the next request on an idle connection.
            with contextlib.suppress(OSError):
                # The plain socket's shutdown: SSLSocket's would need the TLS state a reading
                # thread is using.
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(raw,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(5.0)
        with (
            contextlib.suppress(OSError, http.client.HTTPException),
            raw,
            self._context.wrap_socket(raw, server_side=True) as tls,
        ):
            with self._lock:
                self._connections.append(tls)
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


class TricklingRelay:
    """A plain TCP relay to the demo server that passes the server's bytes on one at a time,
    from the first byte of the TLS handshake on: a connection that is never quite set up."""

    def __init__(self, upstream_port: int, interval: float = 0.05) -> None:
        self._upstream_port = upstream_port
        self._interval = interval
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self.connections = 0
        self._accepting = threading.Thread(target=self._accept, name="relay", daemon=True)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> TricklingRelay:
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
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join()
        for sock in self._sockets:
            sock.close()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
            self._sockets += [client, upstream]
            for source, target, trickle in ((client, upstream, False), (upstream, client, True)):
                thread = threading.Thread(
                    target=self._pass_on, args=(source, target, trickle), daemon=True
                )
                self._threads.append(thread)
                thread.start()

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
