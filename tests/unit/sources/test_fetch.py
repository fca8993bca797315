"""``pmrepo.sources.fetch``: downloads bounded (announced size, pinned size, the cap, short bodies),
their sha256 checked before they enter the content-addressed cache, a corrupt entry replaced with one
line; a body that is not the archive its name says refused. HTTP answers come from a stand-in session
(no network); ``file://`` sources are real files."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from pmrepo import sources
from pmrepo.errors import SourceError
from pmrepo.httpread import Client
from pmrepo.sources.fetch import Fetcher

TARBALL = gzip.compress(b"a tarball's bytes\n" * 100, mtime=0)
SHA = hashlib.sha256(TARBALL).hexdigest()


@pytest.mark.parametrize(
    "name, body, ok",
    [
        ("a-1.tar.gz", TARBALL, True),
        ("a-1.tar.gz", b"<html>404 Not Found</html>", False),
        ("a-1.tar.xz", b"\xfd7zXZ\x00rest", True),
        ("a-1.tar.bz2", TARBALL, False),
        ("a-1.tar", b"\0" * 257 + b"ustar\0" + b"\0" * 250, True),
        ("a-1.tar", b"short", False),
        ("a-1.zip", b"PK\x03\x04...", True),
        ("fix.patch", b"<html>anything</html>", True),  # a name of no archive type: not checked
    ],
)
def test_a_body_that_is_not_the_archive_its_name_says_is_refused(
    tmp_path: Path, name: str, body: bytes, ok: bool
) -> None:
    path = tmp_path / "body"
    path.write_bytes(body)
    if ok:
        sources.check_archive(path, name, "https://example.org/" + name)
        return
    with pytest.raises(SourceError) as info:
        sources.check_archive(path, name, "https://u:secret@example.org/" + name)
    message = str(info.value)
    assert message.startswith(f"https://***@example.org/{name}: the server sent {len(body)} bytes starting ")
    assert "— fix: check the URL (an error page?) and pin again" in message and "secret" not in message


# -- downloads ----------------------------------------------------------------------------------------


class Raw:
    """A response body as urllib3 hands it to requests: ``read1`` of the raw bytes."""

    def __init__(self, body: bytes) -> None:
        self.body = io.BytesIO(body)

    def read1(self, n: int = -1, decode_content: bool = True) -> bytes:
        return self.body.read1(n)

    def close(self) -> None:
        self.body.close()


class Session(requests.Session):
    """A ``requests.Session`` that sends nothing: each URL's (status, headers, body); records the requests."""

    def __init__(self, answers: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        super().__init__()
        self.answers = answers
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str | bytes, url: str | bytes, **kw: Any) -> requests.Response:  # type: ignore[override]
        assert isinstance(method, str) and isinstance(url, str)
        self.requests.append((method, url, kw))
        status, headers, body = self.answers[url]
        resp = requests.Response()
        resp.status_code, resp.url, resp.raw = status, url, Raw(body)
        resp.headers.update(headers)
        return resp


def _fetcher(
    tmp_path: Path, answers: dict[str, tuple[int, dict[str, str], bytes]], **kw: Any
) -> tuple[Fetcher, Session]:
    session = Session(answers)
    said: list[str] = []
    f = Fetcher(tmp_path / "cache", say=said.append, client=Client(30.0, 5.0, session=session), **kw)
    return f, session


URL = "https://example.org/a-1.tar.gz"


def test_a_download_enters_the_cache_under_its_sha256(tmp_path: Path) -> None:
    f, session = _fetcher(tmp_path, {URL: (200, {"Content-Length": str(len(TARBALL))}, TARBALL)})
    got = f.fetch(URL, SHA)
    assert got == tmp_path / "cache" / SHA and got.read_bytes() == TARBALL
    ((method, url, kw),) = session.requests
    assert (method, url, kw["headers"]) == ("GET", URL, {"Accept-Encoding": "identity"})  # the raw bytes are hashed
    assert f.fetch(URL, SHA) == got and len(session.requests) == 1  # the cache answers
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [SHA]


def test_a_wrong_sha256_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    f, _ = _fetcher(tmp_path, {URL: (200, {}, TARBALL)})
    with pytest.raises(SourceError) as info:
        f.fetch(URL, "0" * 64)
    assert str(info.value) == (
        f"{URL}: sha256 mismatch: manifest says {'0' * 64}, server sent {SHA} — "
        "fix: check the upstream file, then re-pin deliberately"
    )
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_corrupt_cache_entry_is_deleted_and_fetched_again(tmp_path: Path) -> None:
    f, session = _fetcher(tmp_path, {URL: (200, {}, TARBALL)})
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / SHA).write_bytes(b"bit rot")
    said: list[str] = []
    f.say = said.append
    assert f.fetch(URL, SHA).read_bytes() == TARBALL and len(session.requests) == 1
    assert said[0].startswith(f"source cache: {tmp_path / 'cache' / SHA} is corrupt (its content hashes to ")
    assert said[0].endswith(f"not its name): deleted, fetching {URL} again")


def test_a_corrupt_entry_that_cannot_be_fetched_again_says_both(tmp_path: Path) -> None:
    f, _ = _fetcher(tmp_path, {URL: (404, {}, b"gone")})
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / SHA).write_bytes(b"bit rot")
    with pytest.raises(SourceError, match=r"was corrupt and has been deleted; fetching it again failed: .*404"):
        f.fetch(URL, SHA)
    assert not (tmp_path / "cache" / SHA).exists()


@pytest.mark.parametrize(
    "headers, body, size, max_bytes, problem",
    [
        (
            {"Content-Length": "5000"},
            b"x" * 10,
            100,
            None,
            "the server announces 5000 bytes, more than 100 (its pinned size)",
        ),
        ({}, b"x" * 200, 100, None, "more than 100 bytes (its pinned size) — fix: check the URL, or raise"),
        ({}, b"x" * 200, None, 150, "more than 150 bytes (PMREPO_FETCH_MAX_BYTES)"),
        ({"Content-Length": "100"}, b"x" * 60, None, None, "short download (60 of 100 bytes)"),
    ],
    ids=["announced-past-pinned-size", "past-pinned-size", "past-the-cap", "short"],
)
def test_a_download_past_its_bounds_is_refused(
    tmp_path: Path, headers: dict[str, str], body: bytes, size: int | None, max_bytes: int | None, problem: str
) -> None:
    f, _ = _fetcher(tmp_path, {URL: (200, headers, body)}, **({"max_bytes": max_bytes} if max_bytes else {}))
    with pytest.raises(SourceError) as info:
        f.download(URL, size)
    assert str(info.value).startswith(f"{URL}: ") and problem in str(info.value)
    assert list((tmp_path / "cache").iterdir()) == []  # no partial file left


def test_a_failed_request_names_the_url_without_credentials(tmp_path: Path) -> None:
    url = "https://me:s3cret@example.org/a-1.tar.gz"
    f, _ = _fetcher(tmp_path, {url: (403, {}, b"forbidden")})
    with pytest.raises(SourceError) as info:
        f.download(url)
    message = str(info.value)
    assert message.startswith("https://***@example.org/a-1.tar.gz: download failed: HTTPError: 403")
    assert "s3cret" not in message


def test_long_downloads_show_progress(tmp_path: Path) -> None:
    f, _ = _fetcher(tmp_path, {URL: (200, {"Content-Length": str(len(TARBALL))}, TARBALL)}, progress_every=0.0)
    said: list[str] = []
    f.say = said.append
    f.download(URL)
    assert said and said[-1].startswith(f"  fetching {URL}: {len(TARBALL)} of {len(TARBALL)} bytes, ")


def test_a_file_url_must_be_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "a.tar.gz"
    os.mkfifo(fifo)
    f = Fetcher(tmp_path / "cache")
    with pytest.raises(SourceError, match=r"— fix: use a regular file as a source or patch$"):
        f.download(fifo.as_uri())
    assert list((tmp_path / "cache").iterdir()) == []
