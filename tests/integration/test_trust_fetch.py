"""Bounded downloads and credentials kept out of sight (issue 18 items 6, 7, 9):
a loopback HTTP server this test starts plays the hostile or broken server.
Each test failed on the code before issue 18."""
from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from synthetic import make_release

from pmrepo import manifest, sources
from pmrepo.errors import ManifestError, SourceError
from pmrepo.pipeline.orchestrator import Options, Pipeline


def _tarball() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"the real source\n"
        info = tarfile.TarInfo("x-1/README")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


GOOD = _tarball()
BOMB = gzip.compress(b"\0" * (8 << 20))  # 8 MiB of zeros, ~8 KiB on the wire
HTML = b"<!DOCTYPE html><html><body>Sorry, the file moved.</body></html>\n"
SEEN: dict[str, str] = {}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: bytes, length: int | None = None, **headers: str) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        SEEN[self.path] = self.headers.get("Accept-Encoding", "")
        try:
            if self.path == "/x-1.tar.gz":
                self._send(GOOD)
            elif self.path == "/bomb.tar.gz":
                self._send(BOMB, Content_Encoding="gzip")
            elif self.path == "/moved.tar.gz":
                self._send(HTML, Content_Type="text/html")
            elif self.path == "/huge-announced.tar.gz":
                self.send_response(200)
                self.send_header("Content-Length", str(2 << 30))
                self.end_headers()
                self.wfile.write(GOOD)
            elif self.path == "/endless.tar.gz":  # no length: bytes until the client hangs up
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(64 << 10):
                    self.wfile.write(GOOD[:2] + b"\0" * 16382)
            elif self.path.startswith("/slow/"):  # the status line, then a header byte at a time
                self.close_connection = True
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                stop = time.monotonic() + 30
                while time.monotonic() < stop:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif self.path == "/trickle.tar.gz":
                self.send_response(200)
                self.send_header("Content-Length", str(len(GOOD)))
                self.end_headers()
                for byte in GOOD:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture()
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_gzip_encoded_body_is_hashed_as_sent_never_decoded(server: str, tmp_path: Path) -> None:
    digest = hashlib.sha256(BOMB).hexdigest()
    path = sources.Fetcher(tmp_path / "cache").fetch(f"{server}/bomb.tar.gz", digest)
    assert path.stat().st_size == len(BOMB)
    assert SEEN["/bomb.tar.gz"] == "identity"


def test_a_body_larger_than_the_pinned_size_stops_at_the_size(server: str, tmp_path: Path) -> None:
    t0 = time.monotonic()
    with pytest.raises(SourceError, match=r"endless\.tar\.gz: more than 354 bytes \(its pinned size\) — fix:"):
        sources.Fetcher(tmp_path / "cache").fetch(f"{server}/endless.tar.gz", "0" * 64, size=354)
    assert time.monotonic() - t0 < 5
    assert not list((tmp_path / "cache").iterdir()), "a partial download was left behind"


def test_an_unpinned_size_is_capped_by_the_configured_maximum(server: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMREPO_FETCH_MAX_BYTES", "100000")
    with pytest.raises(SourceError, match=r"more than 100000 bytes \(PMREPO_FETCH_MAX_BYTES\)"):
        sources.Fetcher(tmp_path / "cache").download(f"{server}/endless.tar.gz")
    with pytest.raises(SourceError, match=r"announces 2147483648 bytes, more than 100000"):
        sources.Fetcher(tmp_path / "cache").download(f"{server}/huge-announced.tar.gz")


def test_a_trickling_server_meets_the_overall_deadline_and_progress_is_shown(server: str, tmp_path: Path) -> None:
    said: list[str] = []
    fetcher = sources.Fetcher(tmp_path / "cache", say=said.append, deadline=1.0, progress_every=0.3)
    t0 = time.monotonic()
    with pytest.raises(SourceError, match=r"trickle\.tar\.gz: not finished after 1s .* fix: .*PMREPO_FETCH_DEADLINE"):
        fetcher.download(f"{server}/trickle.tar.gz")
    assert time.monotonic() - t0 < 4
    assert said and all("fetching" in s and "bytes" in s for s in said), said


def test_a_server_dribbling_its_headers_meets_the_deadline(server: str, tmp_path: Path) -> None:
    """Every read gets a byte, so no read timeout ends it: the deadline covers the headers too
    (review M6: the download, `pmrepo upstream`'s page and PyPI reads and `verify URL` waited)."""
    from pmrepo.upstream.sources import fetch_bounded

    t0 = time.monotonic()
    with pytest.raises(SourceError, match=r"slow/x-1\.tar\.gz: not finished after 1s \(0 bytes so far\) — fix: .*"
                                          r"PMREPO_FETCH_DEADLINE"):
        sources.Fetcher(tmp_path / "cache", deadline=1.0).download(f"{server}/slow/x-1.tar.gz")
    assert time.monotonic() - t0 < 5
    t0 = time.monotonic()
    with pytest.raises(Exception, match=r"cannot be read: no complete answer from 127\.0\.0\.1 within 2s"):
        fetch_bounded(f"{server}/slow/page.html", 2.0)
    assert time.monotonic() - t0 < 6
    import os
    import subprocess
    import sys

    from conftest import ROOT
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, str(ROOT / "build.py"), "verify", f"{server}/slow/demo-repo-1.0-1/"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
                         env={**os.environ, "PMREPO_FETCH_DEADLINE": "3"})
    assert time.monotonic() - t0 < 30
    [line] = res.stderr.strip().splitlines()
    assert res.returncode != 0 and "SHA256SUMS: cannot download it" in line and "not finished after 3s" in line, line


def _url_release(tmp: Path, source: str) -> Path:
    path = make_release(tmp / "rel", {"x": []})
    path.write_text(path.read_text().replace('sources = [{ path = "src/x" }]', f"sources = [{source}]", 1))
    return path


def test_pin_refuses_an_html_page_served_as_the_tarball(server: str, tmp_path: Path) -> None:
    path = _url_release(tmp_path, f'{{ url = "{server}/moved.tar.gz" }}')
    before = path.read_text()
    with pytest.raises(SourceError, match=r"moved\.tar\.gz: the server sent \d+ bytes starting b'<!DOCTYPE.*not a "
                                          r"\.tar\.gz archive — fix"):
        sources.pin(manifest.load(path), sources.Fetcher(tmp_path / "cache"))
    assert path.read_text() == before


def test_pin_records_sha256_and_size_of_a_string_form_source(server: str, tmp_path: Path) -> None:
    path = _url_release(tmp_path, f'"{server}/x-1.tar.gz"')
    sources.pin(manifest.load(path), sources.Fetcher(tmp_path / "cache"))
    src = manifest.load(path).component("x").sources[0]
    assert (src.sha256, src.size) == (hashlib.sha256(GOOD).hexdigest(), len(GOOD))


def test_credentials_in_a_source_url_are_never_printed(server: str, tmp_path: Path) -> None:
    host = server.removeprefix("http://")
    path = _url_release(tmp_path, f'{{ url = "http://user:s3cr3t-pw@{host}/x-1.tar.gz" }}')
    lines: list[str] = []
    Pipeline(Options(release=path, workdir=tmp_path / "w", outdir=tmp_path / "o"), say=lines.append).run_pin()
    assert any("x-1.tar.gz" in ln for ln in lines)
    assert not [ln for ln in lines if "s3cr3t" in ln]
    missing = f"http://user:s3cr3t-pw@{host}/missing.tar.gz"
    with pytest.raises(SourceError) as info:
        sources.Fetcher(tmp_path / "cache").download(missing)
    assert "missing.tar.gz" in str(info.value) and "s3cr3t" not in str(info.value)
    with pytest.raises(SourceError) as info:
        sources.Fetcher(tmp_path / "cache").fetch(f"http://user:s3cr3t-pw@{host}/x-1.tar.gz", "0" * 64)
    assert "sha256 mismatch" in str(info.value) and "s3cr3t" not in str(info.value)


def test_credentials_in_an_unpinned_or_bad_source_url_stay_out_of_error_lines(tmp_path: Path) -> None:
    path = _url_release(tmp_path, '{ url = "https://user:s3cr3t-pw@example.invalid/x-1.tar.gz" }')
    pipe = Pipeline(Options(release=path, workdir=tmp_path / "w", outdir=tmp_path / "o"), say=lambda s: None)
    found = [str(e) for e in pipe.preflight_problems() if "without sha256" in str(e)]
    assert len(found) == 1 and "***@example.invalid/x-1.tar.gz" in found[0] and "s3cr3t" not in found[0]
    bad = _url_release(tmp_path / "b", '{ url = "file://user:s3cr3t-pw@host/x-1.tar.gz" }')
    with pytest.raises(ManifestError) as info:
        manifest.load(bad)
    assert "file://***@host/x-1.tar.gz" in str(info.value) and "s3cr3t" not in str(info.value)
