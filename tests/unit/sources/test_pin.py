"""``pmrepo.sources.pin``: every unpinned URL downloaded and its sha256 and size recorded (an error page
refused, the manifest left), and the TOML editing (tomlkit): the sha256 is added, everything else
stays as written."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest, sources
from pmrepo.errors import SourceError
from pmrepo.sources import Fetcher
from pmrepo.sources.pin import record_pins

from .test_build_dir import with_source
from .test_fetch import SHA, TARBALL

A, B = "a" * 64, "b" * 64
TEXT = """\
# the release   (comment kept)
[release]
version = "1"   # trailing comment kept

[[components]]
name = "one"
sources = [{ url = "https://x/one.tar.gz" }, { url = "https://x/two.tar.gz", filename = "two.tgz" }]  # kept

[[components]]
name = "two"

[[components.sources]]
url = "https://x/three.tar.gz"
"""


def test_adds_sha256_and_keeps_layout() -> None:
    out = record_pins(TEXT, Path("r.toml"), [("one", "https://x/two.tar.gz", A), ("two", "https://x/three.tar.gz", B)])
    assert out.splitlines()[0] == "# the release   (comment kept)"
    assert 'version = "1"   # trailing comment kept' in out
    assert ('sources = [{ url = "https://x/one.tar.gz" }, '
            f'{{ url = "https://x/two.tar.gz", filename = "two.tgz", sha256 = "{A}" }}]  # kept') in out
    assert f'url = "https://x/three.tar.gz"\nsha256 = "{B}"\n' in out
    # only those lines changed
    changed = [ln for ln in out.splitlines() if ln not in TEXT.splitlines()]
    assert len(changed) == 2, changed
    data = tomllib.loads(out)
    assert data["components"][0]["sources"][1]["sha256"] == A and "sha256" not in data["components"][0]["sources"][0]
    assert data["components"][1]["sources"][0]["sha256"] == B


def test_one_key_inline_table_keeps_its_spacing() -> None:
    out = record_pins(TEXT, Path("r.toml"), [("one", "https://x/one.tar.gz", A)])
    assert f'[{{ url = "https://x/one.tar.gz", sha256 = "{A}" }}, ' in out


@pytest.mark.parametrize("pin,match", [
    (("nobody", "https://x/one.tar.gz", A), r"r\.toml: components\.nobody\.sources: no \[\[components\]\] entry"),
    (("one", "https://x/none.tar.gz", A), r"r\.toml: components\.one\.sources: 0 unpinned sources"),
])
def test_unknown_source_is_a_one_line_error(pin: tuple[str, str, str], match: str) -> None:
    with pytest.raises(SourceError, match=match):
        record_pins(TEXT, Path("r.toml"), [pin])


def test_demo_manifest_round_trips_and_loads(tmp_path: Path) -> None:
    """Pinning a real manifest: the loader reads the result, nothing else moved."""
    import shutil

    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "release.toml"
    text = path.read_text().replace('sources = [{ path = "src/demo-extras" }]',
                                    'sources = [{ url = "https://x/e.tgz" }]')
    out = record_pins(text, path, [("demo-extras", "https://x/e.tgz", A)])
    assert out == text.replace('{ url = "https://x/e.tgz" }', f'{{ url = "https://x/e.tgz", sha256 = "{A}" }}')
    path.write_text(out)
    assert manifest.load(path).component("demo-extras").sources[0].sha256 == A


def test_one_url_in_per_dist_entries_is_pinned_in_each() -> None:
    """Per-dist entries of one component (issue 17): the same URL in both gets the sha256 once downloaded;
    a URL of one entry only is pinned there."""
    text = """\
[[components]]
name = "fa"
dists = ["el6"]
sources = [{ url = "https://x/fa.tar.gz" }]

[[components]]
name = "fa"
dists = ["el7"]
sources = [{ url = "https://x/fa.tar.gz" }, { url = "https://x/el7.patch.gz" }]
"""
    pins = [("fa", "https://x/fa.tar.gz", A), ("fa", "https://x/fa.tar.gz", A), ("fa", "https://x/el7.patch.gz", B)]
    data = tomllib.loads(record_pins(text, Path("r.toml"), pins))
    assert [[s.get("sha256") for s in c["sources"]] for c in data["components"]] == [[A], [A, B]]


def test_a_key_already_there_is_replaced() -> None:
    """A source with a size but no sha256 (written by hand, or by new-release before issue 26): pin replaces
    the size instead of raising tomlkit's KeyAlreadyPresent."""
    text = ('[[components]]\nname = "one"\nsources = [{ url = "https://x/one.tar.gz", size = 401 }]\n\n'
            '[[components]]\nname = "two"\n[[components.sources]]\nurl = "https://x/two.tar.gz"\nsize = 7\n')
    out = record_pins(text, Path("r.toml"), [("one", "https://x/one.tar.gz", A), ("two", "https://x/two.tar.gz", B)],
                      {"https://x/one.tar.gz": 512, "https://x/two.tar.gz": 9})
    assert f'sources = [{{ url = "https://x/one.tar.gz", size = 512, sha256 = "{A}" }}]' in out
    data = tomllib.loads(out)
    assert data["components"][1]["sources"][0] == {"url": "https://x/two.tar.gz", "size": 9, "sha256": B}


# -- pin: download and record -------------------------------------------------------------------------


@pytest.fixture
def tarball_source(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    tarball = tmp_path / "rel" / "src" / "a" / "a-1.tar.gz"
    path = with_source(tmp_path, f'{{ url = "file://{tarball}" }}')
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
