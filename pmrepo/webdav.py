"""What publish reads from a WebDAV server, bounded: an answer's body (at most a number of
bytes, within a deadline, as sent — never decompressed) and a PROPFIND listing, parsed with
defusedxml (no DTD, no entity, no external reference). Used by ``publish_targets.HttpTarget``.

The deadline holds for the whole answer, its status line and headers too: a
:class:`Watchdog` shuts the session's connections down when an answer is not complete in
time (a server sending its headers a byte at a time stays within any per-read timeout)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .errors import PublishError
from .limits import FETCH_DEADLINE_ENV

if TYPE_CHECKING:
    import requests

CHUNK = 1024 * 1024


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
    what: str,
    sink: Callable[[bytes], None],
    *,
    deadline: float,
    started: float,
    watchdog: Watchdog | None = None,
) -> int:
    """Hand ``resp``'s body to ``sink`` block by block: at most ``limit`` bytes, and finished
    ``deadline`` seconds after ``started`` (when the request was sent), else one line. The
    answer is closed (and ``watchdog`` disarmed) either way. Returns the body's size."""
    import requests
    import urllib3

    method, url = resp.request.method, resp.url
    got = 0
    try:
        while block := resp.raw.read1(CHUNK, decode_content=False):
            got += len(block)
            if got > limit:
                raise PublishError(
                    f"{method} {url}: the answer is larger than {limit} bytes while {what} — "
                    "fix: check the mirror (a WebDAV server that answers as expected)"
                )
            if time.monotonic() - started > deadline:
                raise PublishError(
                    f"{method} {url}: the answer is not finished after {deadline:.0f}s while {what} "
                    f"({got} bytes so far) — fix: check the mirror, or raise {FETCH_DEADLINE_ENV}"
                )
            sink(block)
        if watchdog is not None and watchdog.fired:  # the connection was shut down: an end, not the body's end
            raise OSError("shut down at the deadline")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        if watchdog is not None and watchdog.fired:
            raise PublishError(
                f"{method} {url}: the answer is not finished after {deadline:.0f}s while {what} "
                f"({got} bytes so far) — fix: check the mirror, or raise {FETCH_DEADLINE_ENV}"
            ) from None
        raise PublishError(
            f"{method} {url} broke off ({type(exc).__name__}) while {what} — fix: check the mirror, then rerun"
        ) from None
    finally:
        if watchdog is not None:
            watchdog.disarm()
        resp.close()
    return got


def child_names(body: bytes, root_url: str) -> set[str]:
    """The names directly under ``root_url`` in a PROPFIND ``multistatus`` answer."""
    from defusedxml import DefusedXmlException  # requirements.txt
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        tree = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, OverflowError):
        raise PublishError(
            f"PROPFIND {root_url}: the answer is not plain XML — fix: the target must be a WebDAV server"
        ) from None
    root = (urlsplit(root_url).path or "/").rstrip("/")
    names = set()
    for href in tree.iter("{DAV:}href"):
        path = unquote(urlsplit((href.text or "").strip()).path).rstrip("/")
        if path == root or not path.startswith(root + "/"):
            continue
        rest = path[len(root) + 1 :]
        if rest and "/" not in rest:
            names.add(rest)
    return names
