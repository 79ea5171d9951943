"""Serve the demo tenant over real HTTPS on loopback, for tests of the real network stack."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from clearooms_wizard.demo.tenant import DemoTenant

__all__ = ["DemoServer"]

_HOP_BY_HOP = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive"})


class _TLSServer(ThreadingHTTPServer):
    # Handler threads are daemons, so a wedged one can never keep the interpreter alive, yet
    # server_close() still joins them all: the standard library joins only non-daemon threads,
    # hence the own bookkeeping in process_request.
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], tenant: DemoTenant, context: ssl.SSLContext
    ) -> None:
        self.tenant = tenant
        self.ssl_context = context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._handler_threads: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"demo-server-connection-{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def server_close(self) -> None:
        super().server_close()
        with self._connections_lock:
            threads, self._handler_threads = self._handler_threads, []
        for thread in threads:
            thread.join()

    def get_request(self) -> tuple[Any, Any]:
        raw, address = self.socket.accept()
        # The handshake happens on the handler thread so one slow client cannot stall accept().
        tls = self.ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        with self._connections_lock:
            self._connections.add(tls)
        return tls, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up, distrust the certificate or get a "reset" fault are expected
        # here; a traceback on stderr per connection would only be noise.
        return

    def abort_connections(self) -> None:
        """Unblock handler threads parked on idle keep-alive connections."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # The plain-socket shutdown, not SSLSocket's, which would also drop its TLS state
            # from under the thread that is still reading.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(connection, socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body would wait for the
    # client's delayed ACK (~40 ms per response).
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this long even if nobody stops the server.
    timeout = 30
    server: _TLSServer

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_GET
    do_PUT = do_GET
    do_PATCH = do_GET
    do_DELETE = do_GET
    do_OPTIONS = do_GET
    do_HEAD = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Skip trailers up to the blank line that ends the message.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        body = self._read_body()
        if self.path.startswith(("http://", "https://")):
            url = self.path
        else:
            host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
            url = f"https://{host}{self.path}"
        headers = {key: value for key, value in self.headers.items()}
        answer = self.server.tenant.handle(self.command, url, headers, body)
        if answer.outcome != "respond":
            # Hang up without a byte of response, as a dropped connection does.
            self.close_connection = True
            return
        self.send_response_only(answer.status, answer.reason)
        for key, value in answer.headers.items():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)


class DemoServer:
    """A `DemoTenant` on `https://127.0.0.1:<port>`, started and stopped as a context manager.

    The caller provides the server-side `ssl.SSLContext` (tests build one with trustme), so the
    product code can be run with full certificate verification against it.
    """

    def __init__(
        self,
        tenant: DemoTenant,
        ssl_context: ssl.SSLContext,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.tenant = tenant
        self._ssl_context = ssl_context
        self._address = (host, port)
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the demo server is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"https://{self._address[0]}:{self.port}"

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the demo server is already running")
        server = _TLSServer(self._address, self.tenant, self._ssl_context)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"demo-server-{server.server_address[1]}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.abort_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
