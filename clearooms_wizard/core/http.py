"""The one HTTP session every call to Microsoft goes through.

It trusts the operating system's certificate store (truststore) plus an optional extra CA bundle,
uses the proxies the environment and the system name, puts a timeout on every call, and retries
429/503/504 the way Microsoft asks: after the ``Retry-After`` it sends, in seconds or as a date.
Waiting between retries wakes up at once when the user cancels, and so does a request waiting
for its answer: cancelling shuts the session's sockets down.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import heapq
import itertools
import logging
import os
import socket
import ssl
import sys
import threading
import time
import weakref
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import truststore
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    InvalidHeader,
    LocationParseError,
    MaxRetryError,
    NameResolutionError,
)
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from clearooms_wizard import __version__
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import (
    CaBundleProblem,
    ListFault,
    ListProblem,
    NetworkError,
    NetworkProblem,
    TechnicalDetails,
)
from clearooms_wizard.core.responses import read_body

USER_AGENT = f"ClearoomsWizard/{__version__} (+https://www.clearooms.com)"
log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({429, 503, 504})


@dataclass(frozen=True)
class HttpOptions:
    ca_bundle: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3
    # A Retry-After longer than this is not waited out: the caller tells the user instead, since
    # nobody watches a wizard for several minutes without knowing why.
    max_retry_after: float = 30.0
    backoff_factor: float = 0.5
    # The longest one call may take from start to end, retries included. The timeouts above
    # apply to each socket read, so a server trickling a byte at a time would never trip them.
    deadline: float = 60.0
    # A page of 100 rooms is a few hundred kilobytes. Far beyond that an answer is not
    # Microsoft's data, and holding it, then parsing it, would take several times its size.
    max_answer_bytes: int = 64 * 1024 * 1024


class _DeadlinePassed(Exception):
    """Raised inside a call whose deadline has passed, to stop urllib3 retrying it."""


class _Deadline:
    """When one call must be over by, and the sockets it uses: at that time they are shut down,
    which ends a read that is waiting on a slow answer at once (as Cancel does)."""

    def __init__(self, seconds: float) -> None:
        self.due = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[weakref.ref[Any]] = []
        self._passed = False
        self._over = False

    @property
    def passed(self) -> bool:
        with self._lock:
            return self._passed

    def remaining(self) -> float:
        return self.due - time.monotonic()

    def watch(self, sock: Any) -> None:
        with self._lock:
            passed = self._passed
            if not passed:
                self._sockets.append(weakref.ref(sock))
        if passed:
            _shut_down(weakref.ref(sock))

    def expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self._passed = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut_down(sock)

    def end(self) -> bool:
        """The call is over (its sockets are the pool's again); whether the deadline passed."""
        with self._lock:
            self._over = True
            self._sockets = []
            return self._passed


class _Watchdog:
    """One thread for every call's deadline (rather than a timer thread per call: an import
    makes thousands of calls)."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, _Deadline]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: _Deadline) -> None:
        with self._wake:
            heapq.heappush(self._due, (deadline.due, next(self._count), deadline))
            if self._thread is None:
                # A daemon: a deadline still pending never keeps the process from ending.
                self._thread = threading.Thread(
                    target=self._run, name="http-deadlines", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, deadline = heapq.heappop(self._due)
            deadline.expire()


_WATCHDOG = _Watchdog()
# The deadline of the call this thread is making: urllib3 calls back into our connections and
# Retry on the thread that called requests.
_this_call = threading.local()


def _current_deadline() -> _Deadline | None:
    deadline: _Deadline | None = getattr(_this_call, "deadline", None)
    return deadline


class _PoliteRetry(Retry):
    """urllib3's Retry, with a cancellable wait and a ceiling on how long Microsoft may ask for."""

    cancel: CancelToken | None = None
    max_wait: float = 30.0

    def new(self, **kw: Any) -> _PoliteRetry:
        retry = super().new(**kw)
        retry.cancel = self.cancel
        retry.max_wait = self.max_wait
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> _PoliteRetry:
        if self.cancel is not None:
            # A request cut short by Cancel is not tried again.
            self.cancel.raise_if_cancelled()
        deadline = _current_deadline()
        if deadline is not None and deadline.passed:
            # Nor one cut short by its deadline.
            raise _DeadlinePassed()
        response = kwargs.get("response")
        if response is not None:
            wait = self.get_retry_after(response)
            left = deadline.remaining() if deadline is not None else float("inf")
            if wait is not None and (wait > self.max_wait or wait >= left):
                # Not waited out, nor past the call's deadline: with raise_on_status off,
                # urllib3 hands this response back to the caller, who says to try later.
                raise MaxRetryError(kwargs.get("_pool"), kwargs.get("url") or "", None)  # type: ignore[arg-type]
        return super().increment(*args, **kwargs)

    def get_retry_after(self, response: urllib3.BaseHTTPResponse) -> float | None:
        try:
            return super().get_retry_after(response)
        except (InvalidHeader, ValueError, OverflowError):
            # Neither seconds nor a date: retried as if no Retry-After was sent, rather than
            # failing the call as if Microsoft could not be reached.
            return None

    def sleep(self, response: urllib3.BaseHTTPResponse | None = None) -> None:
        wait: float | None = None
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
        if wait is None:
            wait = self.get_backoff_time()
        if self.cancel is not None:
            self.cancel.sleep(wait)
        elif wait > 0:
            CancelToken().sleep(wait)


def _shut_down(connection: weakref.ref[Any]) -> None:
    sock = connection()
    # Through an HTTPS proxy the connection's socket is urllib3's TLS-in-TLS transport; the
    # network socket is underneath it.
    while sock is not None and not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)
    if sock is None:
        return
    # The plain socket's shutdown, not SSLSocket's: that one would also drop the TLS state a
    # reading thread is using. The read then ends at once, as a network error. (A socket
    # already closed has nothing to stop.)
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _cancellable_pools(cancel: CancelToken) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pools whose every socket is shut down when ``cancel`` is cancelled, so that a
    request waiting on a slow answer stops at once instead of at its read timeout."""

    class CancellableConnection(HTTPSConnection):
        _setting_up: socket.socket | None = None

        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            # A server can trickle the TLS handshake too. Wrapping in TLS detaches this socket
            # object from the connection, so the handshake is watched through a duplicate:
            # shutting either down stops the same connection.
            self._setting_up = sock.dup()
            cancel.on_cancel(functools.partial(_shut_down, weakref.ref(self._setting_up)))
            deadline = _current_deadline()
            if deadline is not None:
                deadline.watch(self._setting_up)
            return sock

        def connect(self) -> None:
            try:
                super().connect()
            finally:
                if self._setting_up is not None:
                    self._setting_up.close()
                    self._setting_up = None
            if self.sock is not None:
                cancel.on_cancel(functools.partial(_shut_down, weakref.ref(self.sock)))

        def request(self, *args: Any, **kwargs: Any) -> None:
            # A pooled connection serves many calls: each watches it for its own deadline.
            deadline = _current_deadline()
            if deadline is not None and self.sock is not None:
                deadline.watch(self.sock)
            super().request(*args, **kwargs)

    class CancellablePool(HTTPSConnectionPool):
        ConnectionCls = CancellableConnection

    return {"http": HTTPConnectionPool, "https": CancellablePool}


class _TrustStoreAdapter(HTTPAdapter):
    def __init__(self, ssl_context: ssl.SSLContext, retry: Retry, cancel: CancelToken) -> None:
        self._ssl_context = ssl_context
        self._pool_classes = _cancellable_pools(cancel)
        super().__init__(max_retries=retry, pool_connections=4, pool_maxsize=16)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        proxy_kwargs["ssl_context"] = self._ssl_context
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if manager.pool_classes_by_scheme.get("https") is HTTPSConnectionPool:
            # An HTTP(S) proxy; a SOCKS proxy keeps its own pools (they connect through it).
            manager.pool_classes_by_scheme = self._pool_classes
        return manager

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
        # requests names certifi's bundle here, and urllib3 then loads it into our SSL context
        # for every new connection: about 17 ms with the GIL held each time, and trust wider
        # than the OS store plus --ca-bundle. Our context already holds the trust we want.
        conn.ca_certs = None
        conn.ca_cert_dir = None


class MicrosoftSession(requests.Session):
    """A requests session with our defaults; pass it to MSAL as its ``http_client`` too."""

    def __init__(self, options: HttpOptions, cancel: CancelToken | None = None) -> None:
        super().__init__()
        self.http_options = options
        self.cancel = cancel or CancelToken()
        self.headers["User-Agent"] = USER_AGENT
        retry = _PoliteRetry(
            total=options.retries,
            connect=options.retries,
            read=1,
            status=options.retries,
            other=0,
            redirect=0,
            allowed_methods=frozenset({"GET", "POST"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=options.backoff_factor,
            raise_on_status=False,
            raise_on_redirect=False,
            respect_retry_after_header=True,
        )
        retry.cancel = self.cancel
        retry.max_wait = options.max_retry_after
        adapter = _TrustStoreAdapter(build_ssl_context(options.ca_bundle), retry, self.cancel)
        self.mount("https://", adapter)
        # Plain http is never used for Microsoft; refuse it rather than fall through to default.
        self.mount("http://", _RefuseAdapter())

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        self.cancel.raise_if_cancelled()
        kwargs.setdefault(
            "timeout", (self.http_options.connect_timeout, self.http_options.read_timeout)
        )
        if kwargs["timeout"] is None:
            # MSAL passes timeout=None explicitly; no call may wait forever.
            kwargs["timeout"] = (self.http_options.connect_timeout, self.http_options.read_timeout)
        # The body is read here, whatever the caller asked, so that the deadline and the size
        # limit cover it too: a body trickled a byte at a time would otherwise outlast both.
        kwargs["stream"] = True
        # Ours, not requests': a call may ask for a smaller limit (the sign-in answers do).
        answer_limit = kwargs.pop("answer_limit", self.http_options.max_answer_bytes)
        # Microsoft's sign-in and Graph answer where they are asked. A redirect would carry the
        # request elsewhere: a 307 or 308 re-sends a token request's client secret with it.
        kwargs["allow_redirects"] = False
        deadline = _Deadline(self.http_options.deadline)
        outer, _this_call.deadline = _current_deadline(), deadline
        _WATCHDOG.add(deadline)
        try:
            try:
                response = super().request(method, url, *args, **kwargs)
                read_body(response, answer_limit)
            finally:
                _this_call.deadline = outer
                # Always ended, however the call ends: its connections go back to the pool,
                # and a deadline passing later must not shut them under another call.
                passed = deadline.end()
        except (requests.RequestException, _DeadlinePassed) as exc:
            self.cancel.raise_if_cancelled()
            if passed or not isinstance(exc, requests.RequestException):
                problem = too_slow(str(url), self.http_options.deadline)
            else:
                problem = network_error(exc, str(url))
            log.warning(
                "%s %s failed: %s (%s)", _text(method), _where(url), problem, problem.problem
            )
            raise problem from exc
        self.cancel.raise_if_cancelled()
        if passed:
            # Past the deadline a body can end early without an error: it is not used.
            problem = too_slow(str(url), self.http_options.deadline)
            log.warning(
                "%s %s failed: %s (%s)", _text(method), _where(url), problem, problem.problem
            )
            raise problem
        _log_response(response)
        return response

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: Any,
        cert: Any,
    ) -> Any:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        # requests would let REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace our trust settings (and
        # with them the OS store); our SSL context already holds the OS store and --ca-bundle.
        settings["verify"] = True
        return settings


def same_origin(url: str, root: str) -> bool:
    """Whether ``url``, as requests prepares and sends it, goes to ``root``'s scheme, host and
    port, with no user name or password in it."""
    try:
        prepared = requests.Request("GET", url).prepare().url or ""
    except (requests.RequestException, ValueError, LocationParseError):
        return False
    return _sent_to(prepared, root)


def _sent_to(prepared: str, root: str) -> bool:
    """``same_origin`` for a URL requests has prepared (rewritten with urllib3's parser). It is
    read again by urllib.parse, which requests uses to pick the connection: the two read some
    URLs differently (a backslash before an @), and both must agree on the place."""
    try:
        wanted, sent, split = parse_url(root), parse_url(prepared), urlsplit(prepared)
        split_port = split.port
    except (ValueError, LocationParseError):
        return False
    scheme = (wanted.scheme or "").lower()
    host = (wanted.host or "").lower()
    port = wanted.port or _DEFAULT_PORTS.get(scheme)
    return (
        bool(host)
        and sent.auth is None
        and "@" not in split.netloc
        and (sent.scheme or "").lower() == scheme == split.scheme.lower()
        and (sent.host or "").lower() == host == (split.hostname or "").lower()
        and (sent.port or _DEFAULT_PORTS.get(scheme)) == port == (split_port or port)
    )


_DEFAULT_PORTS = {"https": 443, "http": 80}


class BearerFor(requests.auth.AuthBase):
    """Puts the access token on a request only when the URL it is sent to is ``root``'s scheme,
    host and port; anything else is refused before a connection is made. A requests auth, so
    it sees the prepared URL: what is actually sent, whatever the caller passed."""

    def __init__(self, token: str, root: str) -> None:
        self._token = token
        self._root = root

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url or ""
        if not _sent_to(url, self._root):
            raise ListFault(
                ListProblem.ELSEWHERE,
                "An answer from Microsoft Graph led to another address; the app's sign-in was "
                "not sent there.",
                TechnicalDetails(extra={"refused_host": _sent_host(url)}),
            )
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def _sent_host(url: str) -> str:
    try:
        return parse_url(url).host or "?"
    except LocationParseError:
        return "?"


def _text(value: str | bytes) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _where(url: str | bytes) -> str:
    # The query is left out: it is never needed to follow a request, and keeps lines short.
    return _text(url).split("?", 1)[0]


def _log_response(response: requests.Response) -> None:
    """One line per call with the ids Microsoft support asks for (never headers or bodies)."""
    headers = response.headers
    request_headers = response.request.headers if response.request is not None else {}
    log.info(
        "%s %s -> %s in %.0f ms (request-id %s, client-request-id %s)",
        response.request.method if response.request is not None else "?",
        _where(response.url),
        response.status_code,
        response.elapsed.total_seconds() * 1000,
        headers.get("request-id") or headers.get("x-ms-request-id") or "-",
        request_headers.get("client-request-id") or headers.get("client-request-id") or "-",
    )


class _RefuseAdapter(requests.adapters.BaseAdapter):
    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        raise requests.exceptions.InvalidURL(
            f"Refusing an unencrypted connection to {request.url}; use https."
        )

    def close(self) -> None:
        pass


def build_ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    if sys.platform in ("win32", "darwin"):
        # The operating system verifies each certificate itself (its own store and policies).
        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        context = _system_store_once()
    if ca_bundle:
        if not os.path.isfile(ca_bundle):
            raise CaBundleProblem(
                f"The CA certificate file “{ca_bundle}” does not exist. Ask your IT team for "
                "your proxy's root certificate as a .pem file and give its full path."
            )
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise CaBundleProblem(
                f"The CA certificate file “{ca_bundle}” could not be read as PEM certificates. "
                "It should be a text file that starts with -----BEGIN CERTIFICATE-----."
            ) from exc
    return context


def _system_store_once() -> ssl.SSLContext:
    """An SSL context holding the system's CA certificates, as truststore finds them on Linux
    (OpenSSL's default locations, else the usual distribution bundles), read once. truststore
    would read them again for every connection (about 20 ms with the GIL held each time)."""
    try:
        # truststore's own search, so the two cannot drift apart. It is private: should it move,
        # truststore's context (slower, same trust) is used instead.
        from truststore._openssl import _configure_context
    except ImportError:
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with _configure_context(context):
        pass
    return context


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps: causes, contexts, urllib3 reasons, first args."""
    found: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        linked = [
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            current.args[0] if current.args else None,
        ]
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return found


def _host_of(url: str) -> str:
    return urlsplit(url).hostname or url


def too_slow(url: str, deadline: float) -> NetworkError:
    host = _host_of(url)
    return NetworkError(
        NetworkProblem.SLOW,
        host,
        f"{host} answered too slowly: no complete answer within {deadline:.0f} seconds.",
    )


def network_error(exc: requests.RequestException, url: str) -> NetworkError:
    """Say which of the usual network failures this was, in words an office manager can act on."""
    host = _host_of(url)
    chain = _chain(exc)
    if isinstance(exc, requests.exceptions.SSLError) or any(
        isinstance(e, ssl.SSLError) for e in chain
    ):
        return NetworkError(
            NetworkProblem.TLS,
            host,
            f"The secure connection to {host} could not be verified: the certificate it showed "
            "is not trusted by this computer.",
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return NetworkError(
            NetworkProblem.PROXY, host, f"The proxy server refused the connection to {host}."
        )
    if any(isinstance(e, NameResolutionError | socket.gaierror) for e in chain):
        return NetworkError(
            NetworkProblem.DNS, host, f"This computer could not find {host} on the network."
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or any(
        isinstance(e, OSError) and e.errno == errno.ECONNREFUSED for e in chain
    ):
        return NetworkError(NetworkProblem.REFUSED, host, f"{host} refused the connection.")
    # After DNS and refused: urllib3's connection errors subclass its ConnectTimeoutError.
    if isinstance(exc, requests.exceptions.Timeout) or any(
        isinstance(e, urllib3.exceptions.TimeoutError | TimeoutError) for e in chain
    ):
        return NetworkError(NetworkProblem.TIMEOUT, host, f"{host} did not answer in time.")
    if any(isinstance(e, ConnectionResetError) for e in chain) or "Connection aborted" in str(exc):
        return NetworkError(NetworkProblem.RESET, host, f"The connection to {host} was cut off.")
    return NetworkError(NetworkProblem.OTHER, host, f"Could not reach {host}.")
