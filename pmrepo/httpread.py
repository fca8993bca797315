"""The one way pmrepo reads an HTTP answer: bounded in bytes and in time, its status line and
headers included. Used for source downloads (``sources.Fetcher``), ``verify URL`` and publish's
verification pass (``release_fetch``), upstream pages and PyPI (``upstream_sources``) and every
WebDAV answer of publish (``webdav``, ``publish_targets.HttpTarget``).

A per-read timeout alone does not end an answer whose server sends its headers a byte at a time:
a :class:`Watchdog` arms a timer for each request of its ``requests.Session``; when it fires,
every connection the session opened is shut down, which ends a read blocked on it. The body is
read raw (``decode_content=False``: what the server sent, never decompressed) by
:func:`read_body`, which stops at ``limit`` bytes. The bounds are said as exceptions
(:class:`Oversized`, :class:`Late`, :class:`BrokenOff`); each caller words them for its user.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import PmrepoError

if TYPE_CHECKING:
    import requests

CHUNK = 1 << 16
Timeout = float | tuple[float, float]  # requests' (connect, read) timeout


class AnswerError(PmrepoError):
    """An answer that broke a bound; ``got``: the body's bytes read before it stopped."""

    def __init__(self, message: str, got: int = 0) -> None:
        super().__init__(message)
        self.got = got


class Oversized(AnswerError):
    """The body is larger than the limit."""


class Late(AnswerError):
    """The answer (status line, headers, body) was not complete within the deadline."""


class BrokenOff(AnswerError):
    """The connection ended or failed while the body was read (``reason``: the error's type)."""

    def __init__(self, message: str, got: int, reason: str) -> None:
        super().__init__(message, got)
        self.reason = reason


class Watchdog:
    """Arms a timer per request of one ``requests.Session``; when it fires, every connection the
    session opened is shut down, which ends a read blocked on it (the request then fails)."""

    def __init__(self, session: requests.Session) -> None:
        self.sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        adapter = _tracking_adapter(self.sockets)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self.fired = False
        self._timer: threading.Timer | None = None

    def arm(self, seconds: float) -> None:
        self.disarm()
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self.fired = True
        for sock in list(self.sockets):
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


def _tracking_adapter(sockets: weakref.WeakSet[socket.socket]) -> Any:
    """A requests adapter whose connections add their socket to ``sockets`` when they connect."""
    import urllib3
    from requests.adapters import HTTPAdapter

    class Conn(urllib3.connection.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            sockets.add(self.sock)

    class TlsConn(urllib3.connection.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            sockets.add(self.sock)

    class Pool(urllib3.HTTPConnectionPool):
        ConnectionCls = Conn

    class TlsPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = TlsConn

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}

    return Adapter()


def read_body(
    resp: requests.Response,
    limit: int,
    sink: Callable[[bytes], None],
    *,
    deadline: float,
    started: float,
    watchdog: Watchdog | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Hand ``resp``'s raw body to ``sink`` block by block: at most ``limit`` bytes (Oversized),
    finished ``deadline`` seconds after ``started`` — when the request was sent — (Late), else
    BrokenOff for a connection that failed. ``progress`` gets the bytes so far after each block.
    The answer is closed and ``watchdog`` disarmed either way. Returns the body's size."""
    import requests
    import urllib3

    got = 0
    try:
        while block := resp.raw.read1(CHUNK, decode_content=False):
            got += len(block)
            if got > limit:
                raise Oversized(f"more than {limit} bytes", got)
            if time.monotonic() - started > deadline:
                raise Late(f"not finished after {deadline:.0f}s", got)
            sink(block)
            if progress is not None:
                progress(got)
        if watchdog is not None and watchdog.fired:  # the connection was shut down: an end, not the body's end
            raise OSError("shut down at the deadline")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        if watchdog is not None and watchdog.fired:
            raise Late(f"not finished after {deadline:.0f}s", got) from None
        raise BrokenOff(f"broke off ({type(exc).__name__})", got, type(exc).__name__) from None
    finally:
        if watchdog is not None:
            watchdog.disarm()
        resp.close()
    return got


@dataclass
class Client:
    """A session whose every request is bounded by ``deadline`` seconds overall (its watchdog:
    its own, or ``watchdog`` when the session has one) and ``timeout`` per read; redirects are
    followed only when ``allow_redirects`` (never with a session that carries credentials)."""

    deadline: float
    timeout: Timeout = 60.0
    session: Any = None  # a requests.Session (its auth, headers); None: a new one of the client's
    watchdog: Watchdog | None = None
    allow_redirects: bool = True

    def __post_init__(self) -> None:
        import requests

        if self.session is None:
            self.session = requests.Session()
        if self.watchdog is None:
            self.watchdog = Watchdog(self.session)

    @contextlib.contextmanager
    def request(self, method: str, url: str, **kwargs: Any) -> Iterator[tuple[requests.Response, float]]:
        """The answer to one request (streamed: read it with :meth:`read`) and when it was sent. The
        watchdog is armed for the deadline before it is sent: an answer whose headers do not come in
        time is Late; any other failure of the request is requests' own exception. The answer is
        closed and the watchdog disarmed when the block ends."""
        import requests

        assert self.watchdog is not None
        started = time.monotonic()
        self.watchdog.arm(self.deadline)
        try:
            try:
                resp = self.session.request(
                    method, url, stream=True, timeout=self.timeout, allow_redirects=self.allow_redirects, **kwargs
                )
            except requests.RequestException:
                if self.watchdog.fired:
                    raise Late(f"no complete answer within {self.deadline:.0f}s") from None
                raise
            try:
                if self.watchdog.fired:  # shut down within the headers: http.client takes the end as theirs
                    raise Late(f"no complete answer within {self.deadline:.0f}s")
                yield resp, started
            finally:
                resp.close()
        finally:
            self.watchdog.disarm()

    def read(
        self,
        resp: requests.Response,
        started: float,
        limit: int,
        sink: Callable[[bytes], None],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """:func:`read_body` of ``resp`` with this client's deadline and watchdog."""
        return read_body(
            resp, limit, sink, deadline=self.deadline, started=started, watchdog=self.watchdog, progress=progress
        )

    def close(self) -> None:
        self.session.close()
