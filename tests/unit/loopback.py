"""A loopback HTTP server for the unit tests of code that reads HTTP answers (publish's WebDAV
reader, verify's download, the upstream sources): ``serve(routes)`` answers each path from a table,
on 127.0.0.1, in a thread, for the duration of a ``with`` block (milliseconds)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Served:
    url: str  # http://127.0.0.1:<port>
    requests: list[tuple[str, str, Mapping[str, str]]]  # (method, path, headers) of every request


@contextmanager
def serve(routes: Mapping[str, Answer | bytes]) -> Iterator[Served]:
    """Answer ``routes`` (path -> answer; bytes: a 200 with that body); any other path: 404."""
    seen: list[tuple[str, str, Mapping[str, str]]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, with_body: bool) -> None:
            seen.append((self.command, self.path, dict(self.headers)))
            found = routes.get(self.path)
            answer = (
                Answer(404, b"not here")
                if found is None
                else found
                if isinstance(found, Answer)
                else Answer(body=found)
            )
            self.send_response(answer.status)
            for k, v in answer.headers.items():
                self.send_header(k, v)
            if "Content-Length" not in answer.headers:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if with_body:
                self.wfile.write(answer.body)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def do_PROPFIND(self) -> None:
            self._answer(True)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
