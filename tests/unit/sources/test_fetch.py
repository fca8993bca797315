"""``pmrepo.sources.fetch``: project trees packed byte-identically and only with what may be packed;
downloads bounded (announced size, pinned size, the cap, short bodies), their sha256 checked before
they enter the content-addressed cache, a corrupt entry replaced with one line; a body that is not the
archive its name says refused; sources copied with no more permission than the original; ``pin``
recording what it fetched. HTTP answers come from a stand-in session (no network); ``file://``
sources are real files. (``record_pins``' own tests are in test_pin.py.)"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from synthetic import make_release

from pmrepo import manifest
from pmrepo.errors import SourceError, UnpinnedSourceError
from pmrepo.httpread import Client
from pmrepo.sources import fetch as sources
from pmrepo.sources.fetch import Fetcher

TARBALL = gzip.compress(b"a tarball's bytes\n" * 100, mtime=0)
SHA = hashlib.sha256(TARBALL).hexdigest()


# -- packing a tree ----------------------------------------------------------------------------


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "README").write_text("x\n")
    (root / "configure").write_text("#!/bin/sh\n")
    (root / "configure").chmod(0o750)
    (root / "sub" / "a.c").write_text("int a;\n")
    (root / "sub" / "a.o").write_bytes(b"object")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"cache")
    return root


def test_a_packed_tree_is_byte_identical_for_identical_content(tmp_path: Path) -> None:
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    os.utime(two / "README", (1, 1))
    if os.geteuid() == 0:  # another owner (as a checkout by another user has): not in the tarball
        os.chown(two / "README", 65534, 65534)
    sources.pack_tree(one, "x-1", tmp_path / "one.tar.gz", 1_700_000_000)
    sources.pack_tree(two, "x-1", tmp_path / "two.tar.gz", 1_700_000_000)
    data = (tmp_path / "one.tar.gz").read_bytes()
    assert data == (tmp_path / "two.tar.gz").read_bytes()
    assert data[4:8] == b"\0\0\0\0"  # no timestamp in the gzip header
    with tarfile.open(tmp_path / "one.tar.gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == ["x-1", "x-1/README", "x-1/configure", "x-1/sub", "x-1/sub/a.c"]  # sorted, no .o/cache
    assert {(m.uid, m.gid, m.uname, m.mtime) for m in members.values()} == {(0, 0, "root", 1_700_000_000)}
    assert (members["x-1/configure"].mode, members["x-1/README"].mode, members["x-1/sub"].mode) == (0o755, 0o644, 0o755)
    sources.pack_tree(one, "x-1", tmp_path / "later.tar.gz", 1_700_000_001)
    assert (tmp_path / "later.tar.gz").read_bytes() != data  # the mtime is the build's SOURCE_DATE_EPOCH


@pytest.mark.parametrize("entry", ["symlink up", "absolute symlink", "fifo"])
def test_packed_tree_refuses_escaping_symlinks_and_fifos(tmp_path: Path, entry: str) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "README").write_text("x\n")
    (tmp_path / "outside").write_text("not part of the source\n")
    if entry == "symlink up":
        (tree / "sub" / "link").symlink_to("../../outside")
    elif entry == "absolute symlink":
        (tree / "sub" / "link").symlink_to(tree / "README")
    else:
        os.mkfifo(tree / "sub" / "link")
    with pytest.raises(SourceError, match=r"sub/link: .* — fix:"):
        sources.pack_tree(tree, "x-1", tmp_path / "x.tar.gz", 1_700_000_000)
    assert not (tmp_path / "x.tar.gz").exists()


def test_packed_tree_keeps_a_relative_symlink_inside_it(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "README").write_text("x\n")
    (tree / "sub" / "link").symlink_to("../README")
    sources.pack_tree(tree, "x-1", tmp_path / "x.tar.gz", 1_700_000_000)
    with tarfile.open(tmp_path / "x.tar.gz") as tar:
        assert tar.getmember("x-1/sub/link").linkname == "../README"


# -- archives by their names --------------------------------------------------------------------


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


# -- preparing a component's sources ----------------------------------------------------------------------


def _with_source(tmp: Path, source: str) -> Path:
    path = make_release(tmp / "rel", {"a": []})
    path.write_text(path.read_text().replace('sources = [{ path = "src/a" }]', f"sources = [{source}]", 1))
    return path


def test_copied_sources_keep_no_more_permission_than_the_original(tmp_path: Path) -> None:
    data = b"private source\n"
    path = _with_source(
        tmp_path,
        f'{{ url = "file://{tmp_path}/rel/src/a/private.tar.gz", sha256 = "{hashlib.sha256(data).hexdigest()}" }}',
    )
    private = tmp_path / "rel" / "src" / "a" / "private.tar.gz"
    private.write_bytes(data)
    private.chmod(0o640)
    rel = manifest.load(path)
    dest = tmp_path / "work"
    out = sources.prepare(rel.component("a"), rel, dest, sources.Fetcher(tmp_path / "cache"))
    assert out == [dest / "private.tar.gz"] and out[0].read_bytes() == data
    assert out[0].stat().st_mode & 0o777 == 0o640


def test_a_project_tree_is_packed_with_the_builds_epoch(tmp_path: Path) -> None:
    rel = manifest.load(make_release(tmp_path / "rel", {"a": []}))
    comp = rel.component("a")
    out = sources.prepare(comp, rel, tmp_path / "w", Fetcher(tmp_path / "cache"), epoch=1_600_000_000)
    assert [p.name for p in out] == [comp.sources[0].filename]
    with tarfile.open(out[0]) as tar:
        assert {m.mtime for m in tar.getmembers()} == {1_600_000_000}
        assert tar.getmembers()[0].name == f"a-{comp.version}"
    again = sources.prepare(comp, rel, tmp_path / "w2", Fetcher(tmp_path / "cache"))
    with tarfile.open(again[0]) as tar:
        assert {m.mtime for m in tar.getmembers()} == {rel.epoch}  # default: the release's


def test_an_unpinned_url_is_refused_with_the_pin_command(tmp_path: Path) -> None:
    path = _with_source(tmp_path, '{ url = "https://example.org/a-1.tar.gz" }')
    rel = manifest.load(path)
    assert [(c.name, s.url) for c, s in sources.unpinned(rel)] == [("a", "https://example.org/a-1.tar.gz")]
    with pytest.raises(UnpinnedSourceError) as info:
        sources.prepare(rel.component("a"), rel, tmp_path / "w", Fetcher(tmp_path / "cache"))
    assert str(info.value) == (
        f"{path}: components.a.sources: https://example.org/a-1.tar.gz has no sha256 — fix: run "
        f'`./build.py pin --release {path}` (trust on first use) or add sha256 = "…"'
    )
    assert not (tmp_path / "w" / "a-1.tar.gz").exists()


# -- pin --------------------------------------------------------------------------------------------------------


@pytest.fixture
def tarball_source(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    tarball = tmp_path / "rel" / "src" / "a" / "a-1.tar.gz"
    path = _with_source(tmp_path, f'{{ url = "file://{tarball}" }}')
    yield path, tarball


def test_pin_records_the_sha256_and_size_of_what_it_fetched(tmp_path: Path, tarball_source: tuple[Path, Path]) -> None:
    path, tarball = tarball_source
    tarball.write_bytes(TARBALL)
    pinned = sources.pin(manifest.load(path), Fetcher(tmp_path / "cache"))
    assert pinned == [("a", tarball.as_uri(), SHA)]
    (src,) = tomllib.loads(path.read_text())["components"][0]["sources"]
    assert src == {"url": tarball.as_uri(), "sha256": SHA, "size": len(TARBALL)}
    assert (tmp_path / "cache" / SHA).read_bytes() == TARBALL
    assert sources.unpinned(manifest.load(path)) == []
    assert sources.pin(manifest.load(path), Fetcher(tmp_path / "cache")) == []  # nothing left to pin


def test_pin_refuses_an_error_page_and_leaves_the_manifest(tmp_path: Path, tarball_source: tuple[Path, Path]) -> None:
    path, tarball = tarball_source
    tarball.write_bytes(b"<html>Not Found</html>")
    before = path.read_text()
    with pytest.raises(SourceError, match=r"not a \.tar\.gz archive — fix: check the URL"):
        sources.pin(manifest.load(path), Fetcher(tmp_path / "cache"))
    assert path.read_text() == before and list((tmp_path / "cache").iterdir()) == []
