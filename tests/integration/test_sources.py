"""Sources: deterministic packing, verified downloads from a loopback HTTP
server this test starts, the pin command, and refusal of unpinned sources."""
from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DEMO, ROOT

from pmrepo import manifest, sources
from pmrepo.errors import SourceError, UnpinnedSourceError
from pmrepo.pipeline.orchestrator import Options, Pipeline

PAYLOAD = b"\x1f\x8b" + os.urandom(300_000)  # gzip's magic: pin checks that a .tar.gz is one
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
VERSIONED = {"/v1.0/demo-extras-1.0.tar.gz": b"\x1f\x8b" + os.urandom(401),  # two releases' files (issue 26)
             "/v1.1/demo-extras-1.1.tar.gz": b"\x1f\x8b" + os.urandom(512)}


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/good.tar.gz":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/truncated.tar.gz":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:1000])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        elif self.path in VERSIONED:
            self.send_response(200)
            self.send_header("Content-Length", str(len(VERSIONED[self.path])))
            self.end_headers()
            self.wfile.write(VERSIONED[self.path])
        else:
            self.send_error(404)


@pytest.fixture()
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_packing_is_deterministic(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(DEMO.parent / "src" / "demod", tree)
    sources.pack_tree(tree, "demod-1.0", tmp_path / "a.tar.gz", 1_700_000_000)
    time.sleep(0.01)
    for f in tree.iterdir():  # touching files and changing mtimes changes nothing
        os.utime(f, (1, 1))
    sources.pack_tree(tree, "demod-1.0", tmp_path / "b.tar.gz", 1_700_000_000)
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    (tree / "demod.c").write_text("changed\n")
    sources.pack_tree(tree, "demod-1.0", tmp_path / "c.tar.gz", 1_700_000_000)
    assert (tmp_path / "a.tar.gz").read_bytes() != (tmp_path / "c.tar.gz").read_bytes()


def test_fetch_verifies_and_caches(server: str, tmp_path: Path) -> None:
    f = sources.Fetcher(tmp_path / "cache")
    path = f.fetch(f"{server}/good.tar.gz", PAYLOAD_SHA)
    assert path == tmp_path / "cache" / PAYLOAD_SHA and path.read_bytes() == PAYLOAD
    # cached: a dead URL is not contacted again
    assert f.fetch(f"{server}/gone", PAYLOAD_SHA) == path


def test_checksum_mismatch_never_enters_cache(server: str, tmp_path: Path) -> None:
    f = sources.Fetcher(tmp_path / "cache")
    with pytest.raises(SourceError, match="sha256 mismatch"):
        f.fetch(f"{server}/good.tar.gz", "0" * 64)
    assert list((tmp_path / "cache").iterdir()) == []


def test_partial_download_never_enters_cache(server: str, tmp_path: Path) -> None:
    f = sources.Fetcher(tmp_path / "cache")
    with pytest.raises(SourceError, match=r"truncated\.tar\.gz"):
        f.fetch(f"{server}/truncated.tar.gz", PAYLOAD_SHA)
    assert list((tmp_path / "cache").iterdir()) == []
    with pytest.raises(SourceError, match="404"):
        f.fetch(f"{server}/missing.tar.gz", PAYLOAD_SHA)


def _url_manifest(tmp_path: Path, url: str) -> Path:
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "release.toml"
    path.write_text(path.read_text().replace('sources = [{ path = "src/demo-extras" }]',
                                             f'sources = [{{ url = "{url}" }}]'))
    return path


def test_unpinned_source_is_refused_before_anything_is_written(server: str, tmp_path: Path) -> None:
    path = _url_manifest(tmp_path, f"{server}/good.tar.gz")
    rel = manifest.load(path)
    with pytest.raises(UnpinnedSourceError, match=r"components\.demo-extras\.sources.*build\.py pin"):
        Pipeline(Options(release=path, workdir=tmp_path / "w", outdir=tmp_path / "o")).run_all()
    assert not (tmp_path / "w").exists() and not (tmp_path / "o").exists()
    with pytest.raises(UnpinnedSourceError):
        sources.prepare(rel.component("demo-extras"), rel, tmp_path / "s", sources.Fetcher(tmp_path / "c"))


def test_pin_records_sha256_then_build_accepts_it(server: str, tmp_path: Path) -> None:
    path = _url_manifest(tmp_path, f"{server}/good.tar.gz")
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "pin", "--release", str(path),
                           "--workdir", str(tmp_path / "w")], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "TRUST ON FIRST USE" in proc.stdout and PAYLOAD_SHA in proc.stdout
    assert f'{{ url = "{server}/good.tar.gz", sha256 = "{PAYLOAD_SHA}", size = {len(PAYLOAD)} }}' in path.read_text()
    rel = manifest.load(path)
    assert rel.component("demo-extras").sources[0].sha256 == PAYLOAD_SHA
    got = sources.prepare(rel.component("demo-extras"), rel, tmp_path / "s", sources.Fetcher(tmp_path / "w" / "cache"))
    assert got[0].read_bytes() == PAYLOAD
    # pinning again changes nothing
    before = path.read_text()
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "pin", "--release", str(path)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "every source is pinned" in proc.stdout and path.read_text() == before


def test_make_repo_here_stops_with_one_line(tmp_path: Path) -> None:
    """`make repo` on this machine: the real release cannot be built here."""
    real = ROOT / "releases" / "1.1.14-1.1.toml"
    if not real.exists():
        pytest.fail("releases/1.1.14-1.1.toml is missing")
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "all", "--release", str(real),
                           "--workdir", str(tmp_path / "w"), "--outdir", str(tmp_path / "o")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    # unpinned sources stop it before anything is written; once pinned, the
    # BuildRequires this host cannot provide stop it (the remedy: mock)
    if "without sha256" in lines[0]:
        assert "build.py pin" in lines[0]
        assert not (tmp_path / "o").exists() and not (tmp_path / "w").exists()
    else:
        assert "cannot be provided here" in lines[0] and "--backend mock" in lines[0], lines[0]
    assert not list((tmp_path / "o").rglob("*.rpm"))


def test_pin_after_new_release_on_a_pinned_url(server: str, tmp_path: Path) -> None:
    """Issue 26: pin records sha256 and size; new-release moves the URL to the next version on the same
    host and port (127.0.0.1 stays 127.0.0.1) and drops both; pin then records the new file's, no traceback."""
    import datetime as dt

    path = _url_manifest(tmp_path, f"{server}/v1.0/demo-extras-1.0.tar.gz")

    def pin(manifest_path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "build.py"), "pin", "--release", str(manifest_path),
                               "--workdir", str(tmp_path / "w")], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)

    assert pin(path).returncode == 0
    assert f"size = {len(VERSIONED['/v1.0/demo-extras-1.0.tar.gz'])}" in path.read_text()
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "new-release", "--from", str(path), "--to", "1.1-1",
                           "--date", dt.date.today().isoformat(), "--set", "demo-extras=1.1-1"], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    nxt = path.parent / "1.1-1.toml"
    src = manifest.load(nxt).component("demo-extras").sources[0]
    assert (src.url, src.sha256, src.size) == (f"{server}/v1.1/demo-extras-1.1.tar.gz", None, None)
    proc = pin(nxt)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    src = manifest.load(nxt).component("demo-extras").sources[0]
    payload = VERSIONED["/v1.1/demo-extras-1.1.tar.gz"]
    assert (src.sha256, src.size) == (hashlib.sha256(payload).hexdigest(), len(payload))
