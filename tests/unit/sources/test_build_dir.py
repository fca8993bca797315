"""``pmrepo.sources.build_dir``: a component's sources put into its build directory — copies with no
more permission than the original, project trees packed with the build's epoch, an unpinned URL
refused with the command that pins it."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest
from synthetic import make_release

from pmrepo import manifest, sources
from pmrepo.errors import UnpinnedSourceError
from pmrepo.sources.fetch import Fetcher

# -- preparing a component's sources ----------------------------------------------------------------------


def with_source(tmp: Path, source: str) -> Path:
    path = make_release(tmp / "rel", {"a": []})
    path.write_text(path.read_text().replace('sources = [{ path = "src/a" }]', f"sources = [{source}]", 1))
    return path


def test_copied_sources_keep_no_more_permission_than_the_original(tmp_path: Path) -> None:
    data = b"private source\n"
    path = with_source(
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
    path = with_source(tmp_path, '{ url = "https://example.org/a-1.tar.gz" }')
    rel = manifest.load(path)
    assert [(c.name, s.url) for c, s in sources.unpinned(rel)] == [("a", "https://example.org/a-1.tar.gz")]
    with pytest.raises(UnpinnedSourceError) as info:
        sources.prepare(rel.component("a"), rel, tmp_path / "w", Fetcher(tmp_path / "cache"))
    assert str(info.value) == (
        f"{path}: components.a.sources: https://example.org/a-1.tar.gz has no sha256 — fix: run "
        f'`./build.py pin --release {path}` (trust on first use) or add sha256 = "…"'
    )
    assert not (tmp_path / "w" / "a-1.tar.gz").exists()
