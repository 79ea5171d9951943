"""The plumbing the tests' own loopback servers share: a listener on a free port of 127.0.0.1,
a thread for each connection it accepts, and an exit that does not hang on a connection still
open.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Self


class LoopbackServer(ABC):
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        # Short, so that the accepting thread sees the stop soon after it is asked for.
        self._listener.settimeout(0.05)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        self._accepting = threading.Thread(
            target=self._accept, name=type(self).__name__, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @abstractmethod
    def _serve(self, connection: socket.socket) -> None:
        """Runs in its own thread for each accepted connection."""

    def _track(self, connection: socket.socket) -> None:
        """Has the exit shut ``connection`` down (so that a thread blocked reading it wakes up)
        and close it. For a TLS connection, track the wrapped socket: wrapping detaches the
        plain one."""
        with self._lock:
            self._open.append(connection)
            stopping = self._stopping.is_set()
        if stopping:  # tracked after the exit shut the others down
            self._shut_down(connection)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def __enter__(self) -> Self:
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
            still_open = list(self._open)
        for connection in still_open:
            self._shut_down(connection)
        # By index: a connection's thread may start another before it ends.
        index = 0
        while index < len(self._threads):
            self._threads[index].join()
            index += 1
        for connection in self._open:
            connection.close()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._start(self._serve, connection)

    @staticmethod
    def _shut_down(connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            # The plain socket's shutdown even for a TLS one: SSLSocket's would need the TLS
            # state a reading thread is using.
            socket.socket.shutdown(connection, socket.SHUT_RDWR)
