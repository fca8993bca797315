"""A minimal WebDAV-style server for the publish tests (loopback only).

Serves a directory with GET/HEAD/PUT/MKCOL/DELETE/MOVE/PROPFIND. Fault modes:
``drop_put`` — on the n-th PUT (1-based, counted from when it is set), store
half of the body and drop the connection without answering; ``corrupt`` —
flip a byte of PUT bodies whose path ends with one of these names.
Optional Basic auth.

Hostile modes (issue 25): ``slow_headers`` — PROPFIND sends its status line, then one byte of a header per
``trickle`` seconds (every read of the client gets data: no read timeout ends it);
``endless_propfind`` — PROPFIND answers 207 and keeps sending
``<D:response>`` elements; ``endless_get`` — a GET of a file under a staging directory
answers 200 and keeps sending bytes; ``slow_get_again`` — a GET of a file under a staging directory
that was served once already (publish's own check read it, the verification pass reads it again)
sends its status line and then one byte of a header per ``trickle`` seconds. ``trickle`` (seconds) is
the pause between two writes (0: as fast as the socket takes them). Each such answer stops by itself after
``endless_seconds`` or ``endless_bytes``, or when the client goes away.
"""
from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape


@dataclass
class DavState:
    root: Path
    auth: tuple[str, str] | None = None
    drop_put: int | None = None
    corrupt: tuple[str, ...] = ()
    puts: int = 0
    endless_propfind: bool = False
    slow_headers: bool = False
    endless_get: bool = False
    slow_get_again: bool = False
    served: set[str] = field(default_factory=set)
    trickle: float = 0.0
    endless_seconds: float = 60.0
    endless_bytes: int = 8 << 30
    endless_sent: int = 0
    log: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class DavHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DavServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    # helpers
    @property
    def state(self) -> DavState:
        return self.server.state

    def _fs(self, url_or_path: str) -> Path | None:
        path = unquote(urlsplit(url_or_path).path)
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") for p in parts):
            return None
        return self.state.root.joinpath(*parts)

    def _reply(self, code: int, body: bytes = b"", ctype: str = "text/plain",
               headers: dict[str, str] | None = None) -> None:
        with self.state.lock:
            self.state.log.append((self.command, self.path, code))
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _authorized(self) -> bool:
        if self.state.auth is None:
            return True
        want = "Basic " + base64.b64encode(f"{self.state.auth[0]}:{self.state.auth[1]}".encode()).decode()
        if self.headers.get("Authorization") == want:
            return True
        self._body()
        self._reply(401, b"auth required", headers={"WWW-Authenticate": 'Basic realm="mirror"'})
        return False

    def _endless(self, code: int, head: bytes, block: bytes, ctype: str) -> None:
        """An answer without a length that does not end (until the bounds or the client's close)."""
        with self.state.lock:
            self.state.log.append((self.command, self.path, code))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        stop, sent = time.monotonic() + self.state.endless_seconds, 0
        try:
            self.wfile.write(head)
            while time.monotonic() < stop and sent < self.state.endless_bytes:
                self.wfile.write(block)
                sent += len(block)
                if self.state.trickle:
                    time.sleep(self.state.trickle)
        except OSError:  # the client gave up: what a bounded client does
            pass
        with self.state.lock:
            self.state.endless_sent += sent

    def _slow_headers(self, code: int, reason: str) -> None:
        """The status line, then a header a byte per ``trickle`` seconds (until the bounds or the client's close)."""
        with self.state.lock:
            self.state.log.append((self.command, self.path, code))
        self.close_connection = True
        stop = time.monotonic() + self.state.endless_seconds
        try:
            self.wfile.write(f"HTTP/1.1 {code} {reason}\r\nX-Slow: ".encode())
            while time.monotonic() < stop:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(self.state.trickle or 0.2)
        except OSError:
            pass

    # methods
    def do_GET(self) -> None:  # http.server's name
        if not self._authorized():
            return
        if self.state.endless_get and self.command == "GET" and "/.staging-" in self.path:
            self._body()
            return self._endless(200, b"", b"\0" * (64 << 10 if not self.state.trickle else 16),
                                 "application/octet-stream")
        if self.state.slow_get_again and self.command == "GET" and "/.staging-" in self.path:
            with self.state.lock:
                again = self.path in self.state.served
                self.state.served.add(self.path)
            if again:
                return self._slow_headers(200, "OK")
        p = self._fs(self.path)
        if p is None or not p.exists():
            return self._reply(404)
        if p.is_dir():
            return self._reply(200, "\n".join(sorted(os.listdir(p))).encode())
        self._reply(200, p.read_bytes(), "application/octet-stream")

    do_HEAD = do_GET

    def do_PUT(self) -> None:
        if not self._authorized():
            return
        p = self._fs(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        if p is None or not p.parent.is_dir():
            self.rfile.read(n)
            return self._reply(409, b"parent collection missing")
        with self.state.lock:
            self.state.puts += 1
            drop = self.state.drop_put is not None and self.state.puts == self.state.drop_put
        if drop:
            p.write_bytes(self.rfile.read(n // 2))  # a partial file, as a real server would leave
            with self.state.lock:
                self.state.log.append(("PUT", self.path, -1))
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = self.rfile.read(n)
        if data and any(self.path.endswith(c) for c in self.state.corrupt):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        existed = p.exists()
        p.write_bytes(data)
        self._reply(204 if existed else 201)

    def do_MKCOL(self) -> None:
        if not self._authorized():
            return
        self._body()
        p = self._fs(self.path)
        if p is None:
            return self._reply(403)
        if p.exists():
            return self._reply(405, b"exists")
        if not p.parent.is_dir():
            return self._reply(409, b"parent missing")
        p.mkdir()
        self._reply(201)

    def do_DELETE(self) -> None:
        if not self._authorized():
            return
        self._body()
        p = self._fs(self.path)
        if p is None or p == self.state.root:
            return self._reply(403)
        if not p.exists():
            return self._reply(404)
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()
        self._reply(204)

    def do_MOVE(self) -> None:
        if not self._authorized():
            return
        self._body()
        src = self._fs(self.path)
        dest_hdr = self.headers.get("Destination")
        dst = self._fs(dest_hdr) if dest_hdr else None
        if src is None or dst is None or src == self.state.root:
            return self._reply(400, b"bad destination")
        if not src.exists():
            return self._reply(404)
        if not dst.parent.is_dir():
            return self._reply(409)
        existed = dst.exists()
        if existed:
            if self.headers.get("Overwrite", "T").upper() == "F":
                return self._reply(412, b"destination exists")
            shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
        os.rename(src, dst)
        self._reply(204 if existed else 201)

    def do_PROPFIND(self) -> None:
        if not self._authorized():
            return
        self._body()
        if self.state.slow_headers:
            return self._slow_headers(207, "Multi-Status")
        if self.state.endless_propfind:
            one = b"<D:response><D:href>/mirror/x</D:href></D:response>"
            return self._endless(207, b'<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">',
                                 one * (1000 if not self.state.trickle else 1), 'application/xml; charset="utf-8"')
        p = self._fs(self.path)
        if p is None or not p.exists():
            return self._reply(404)
        entries = [p]
        if p.is_dir() and self.headers.get("Depth", "infinity") != "0":
            entries += sorted(p.iterdir())
        out = ['<?xml version="1.0" encoding="utf-8"?>', '<D:multistatus xmlns:D="DAV:">']
        for e in entries:
            rel = e.relative_to(self.state.root).as_posix()
            href = "/" + quote("" if rel == "." else rel) + ("/" if e.is_dir() and rel != "." else "")
            rtype = "<D:collection/>" if e.is_dir() else ""
            out.append(f"<D:response><D:href>{escape(href)}</D:href><D:propstat><D:prop><D:resourcetype>{rtype}"
                       "</D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>")
        out.append("</D:multistatus>")
        self._reply(207, "".join(out).encode(), 'application/xml; charset="utf-8"')


class DavServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: DavState) -> None:
        self.state = state
        super().__init__(("127.0.0.1", 0), DavHandler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def __enter__(self) -> DavServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)
