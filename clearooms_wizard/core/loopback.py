"""Our own listener on 127.0.0.1 for the one answer a Microsoft sign-in or consent page sends
back to ``http://localhost:<port>``, in the query of a GET or as a form posted to it.

It is ours rather than MSAL's so that Stop works at any moment (MSAL's waits out its own
timeout), and so that what it accepts is bounded: one answer carrying the state this sign-in
sent, with the address, body and field count of an answer Microsoft sends and nothing larger,
read within a deadline. Anything else that reaches the port (a favicon request, a browser's
speculative connection, a page that is not part of this sign-in) gets a short answer and is
otherwise ignored. Nothing here is logged: the answer carries a one-time code.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import ClearoomsError

# An answer's address or form is a few kilobytes (a code of about 1 KB, a state, a session id).
MAX_QUERY_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 32
# Browsers open a few connections at once; more than this is not a browser.
MAX_CONNECTIONS = 16
# How long one connection may take, from its first byte to the end of its request.
CONNECTION_DEADLINE = 15.0
# The keys one of them is in every answer: a sign-in's code, an error, an admin consent.
ANSWER_KEYS = frozenset({"code", "error", "admin_consent"})

DONE_TEXT = "You can close this window and go back to the Clearooms setup wizard."
NOT_DONE_TEXT = "The sign-in did not finish. " + DONE_TEXT
_NOT_THIS_TEXT = "This page is not part of the sign-in the Clearooms setup wizard is waiting for."


class NoAnswer(ClearoomsError):
    """Nobody answered within the time allowed."""


def _page(text: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Clearooms setup wizard</title></head>"
        f"<body><p>{text}</p></body></html>"
    ).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Another program may not share the port with SO_REUSEADDR while the answer is awaited.
    allow_reuse_address = False
    request_queue_size = MAX_CONNECTIONS

    def __init__(self, listener: RedirectListener) -> None:
        self.listener = listener
        self._active = 0
        self._active_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        if sys.platform == "win32":
            # Windows lets another program bind the same port unless it is taken exclusively.
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        super().server_bind()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            busy = self._active >= MAX_CONNECTIONS
            if not busy:
                self._active += 1
        if busy:
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or trickles past the deadline: nothing to report, and a
        # traceback on stderr could show what it sent.
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    # Each read; CONNECTION_DEADLINE bounds the whole request.
    timeout = 5
    server_version = "Clearooms"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        connection = self.connection
        self._deadline = threading.Timer(CONNECTION_DEADLINE, lambda: _shut_down(connection))
        self._deadline.daemon = True
        self._deadline.start()

    def finish(self) -> None:
        self._deadline.cancel()
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds the answer's code: never written anywhere.
        return

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if len(self.path) > MAX_QUERY_BYTES:
            self._reply(414, "The address is too long.")
            return
        self._answer(path, query)

    def do_POST(self) -> None:
        path, _, query = self.path.partition("?")
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._reply(411, "A length is required.")
            return
        declared = self.headers.get("Content-Length") or ""
        if not declared.isdigit():
            self._reply(411, "A length is required.")
            return
        if int(declared) > MAX_BODY_BYTES:
            self._reply(413, "The answer is too large.")
            return
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body = self.rfile.read(int(declared))
        if content_type != "application/x-www-form-urlencoded" or len(body) != int(declared):
            self._reply(400, _NOT_THIS_TEXT)
            return
        try:
            form = body.decode("utf-8")
        except UnicodeDecodeError:
            self._reply(400, _NOT_THIS_TEXT)
            return
        self._answer(path, form if not query else f"{query}&{form}")

    def do_HEAD(self) -> None:
        self._reply(405, "Not allowed.")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD

    def _answer(self, path: str, encoded: str) -> None:
        listener = self.server.listener
        if path != listener.path:
            # /favicon.ico and anything else a browser asks for.
            self._reply(404, "Not found.")
            return
        fields = _fields(encoded)
        if fields is None or not (ANSWER_KEYS & fields.keys()):
            self._reply(400, _NOT_THIS_TEXT)
            return
        if listener.expected_state is not None and fields.get("state") != listener.expected_state:
            self._reply(400, _NOT_THIS_TEXT)
            return
        listener._accept(fields)
        self._reply(200, NOT_DONE_TEXT if "error" in fields else DONE_TEXT)

    def _reply(self, status: int, text: str) -> None:
        body = _page(text)
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", "default-src 'none'")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)


def _fields(encoded: str) -> dict[str, str] | None:
    """The answer's fields, or None when they are not an answer's: too many, or one twice."""
    try:
        pairs = parse_qsl(encoded, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        return None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            return None
        fields[key] = value
    return fields


def _shut_down(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class RedirectListener:
    """Listens on 127.0.0.1 at a port the system picks, until closed; ``wait`` returns the first
    answer that carries ``expected_state`` (when given) at ``path``.

    Use as a context manager: it listens from ``__enter__`` (so a browser opened afterwards can
    answer at once) to ``__exit__``.
    """

    def __init__(self, *, expected_state: str | None = None, path: str = "/") -> None:
        if not path.startswith("/"):
            raise ValueError("the path must start with /")
        self.expected_state = expected_state
        self.path = path
        self._lock = threading.Lock()
        self._answer: dict[str, str] | None = None
        self._wake = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the listener is not running")
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        """Where Microsoft is told to send the answer. ``localhost``, as Microsoft's loopback
        redirect URIs are registered, though only 127.0.0.1 is listened on (as MSAL does)."""
        suffix = "" if self.path == "/" else self.path
        return f"http://localhost:{self.port}{suffix}"

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the listener is already running")
        server = _Server(self)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sign-in-listener",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()

    def wait(self, cancel: CancelToken, timeout: float) -> dict[str, str]:
        """The answer's fields; raises Cancelled when ``cancel`` is, NoAnswer after ``timeout``
        seconds without one."""
        cancel.on_cancel(self._wake.set)
        answered = self._wake.wait(max(0.0, timeout))
        cancel.raise_if_cancelled()
        with self._lock:
            answer = self._answer
        if not answered or answer is None:
            raise NoAnswer(f"Nobody answered within {timeout / 60:.0f} minutes.")
        return dict(answer)

    def _accept(self, fields: dict[str, str]) -> None:
        with self._lock:
            if self._answer is None:
                self._answer = fields
        self._wake.set()

    def close(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
