"""The one HTTP reader (review M6): the deadline covers the status line and headers, the body is
cut at its limit, redirects are followed only when the client says so. A loopback socket server."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from pmrepo.httpread import Client, Late, Oversized


def _serve(answer: bytes, dribble: bool) -> Iterator[str]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    stop = threading.Event()

    def loop() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.recv(65536)
                    if dribble:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                        while not stop.is_set():
                            conn.sendall(b"x")
                            time.sleep(0.05)
                    else:
                        conn.sendall(answer)
                except OSError:
                    pass

    threading.Thread(target=loop, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        srv.close()


@pytest.fixture
def slow() -> Iterator[str]:
    yield from _serve(b"", dribble=True)


@pytest.fixture
def redirect() -> Iterator[str]:
    yield from _serve(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/x\r\nContent-Length: 0\r\n\r\n", False)


@pytest.fixture
def big() -> Iterator[str]:
    yield from _serve(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"\0" * 100000, False)


def test_headers_a_byte_at_a_time_end_at_the_deadline(slow: str) -> None:
    client = Client(1.0, 5.0)
    t0 = time.monotonic()
    with pytest.raises(Late, match=r"no complete answer within 1s"), client.request("GET", slow + "/x"):
        pass
    assert time.monotonic() - t0 < 3
    client.close()


def test_a_body_past_the_limit_stops_there(big: str) -> None:
    client = Client(10.0, 5.0)
    got: list[bytes] = []
    with pytest.raises(Oversized) as exc, client.request("GET", big + "/x") as (resp, started):
        client.read(resp, started, 1000, got.append)
    assert exc.value.got > 1000 and sum(map(len, got)) <= 1000
    with client.request("GET", big + "/x") as (resp, started):
        assert client.read(resp, started, 100000, got.append) == 100000
    client.close()


def test_redirects_only_when_allowed(redirect: str) -> None:
    with Client(5.0, 5.0, allow_redirects=False).request("GET", redirect + "/x") as (resp, _):
        assert resp.status_code == 302  # not followed: a credential-carrying session stays with its host
    import requests
    with pytest.raises(requests.RequestException), Client(5.0, 2.0).request("GET", redirect + "/x"):
        pass  # followed to the closed port 9
