"""Cooperative cancellation: the Cancel button's token, and what work raises when it is pressed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class Cancelled(Exception):
    """The user pressed Cancel. Deliberately not a ClearoomsError: nothing failed, and code
    that turns failures into messages must let it through."""

    def __init__(self) -> None:
        super().__init__("Stopped because you pressed Cancel.")


class CancelToken:
    """Cooperative cancellation shared between the caller and the work it started."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                # Cancel must always work, and one callback failing must not skip the others.
                logging.getLogger(__name__).exception("a cancel callback failed")

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (once) when cancelled, on the cancelling thread; at once if it
        already is. For work that cannot look at the token itself, such as a socket waiting
        for an answer."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def sleep(self, seconds: float) -> None:
        """Wait, but wake at once and raise when cancelled."""
        if self._event.wait(max(0.0, seconds)):
            raise Cancelled()
