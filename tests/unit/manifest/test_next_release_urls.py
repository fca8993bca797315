"""`new-release` on the real manifest (issue 33, survivor 1): libqb's URL carries its version twice
(`…/download/v1.0/libqb-1.0.tar.xz`): deriving libqb 1.0 -> 1.0.1 rewrites both, and the file name
it has in SOURCES/ follows; an explicit `filename` is rewritten the same way."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from pmrepo import defaults, manifest
from pmrepo.manifest.next_release import derive

OLD_URL = "https://github.com/ClusterLabs/libqb/releases/download/v1.0/libqb-1.0.tar.xz"
NEW_URL = "https://github.com/ClusterLabs/libqb/releases/download/v1.0.1/libqb-1.0.1.tar.xz"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of releases/ and specs/, taken as the project (the manifests' spec_dir is ../specs)."""
    for d in ("releases", "specs"):
        shutil.copytree(ROOT / d, tmp_path / d)
    monkeypatch.setattr(defaults, "checkout", lambda: tmp_path)
    return tmp_path / "releases" / "1.1.14-1.1.toml"


def test_libqb_url_and_file_name_carry_the_new_version_in_both_places(project: Path) -> None:
    before = manifest.load(project).component("libqb").sources[0]
    assert (before.url, before.filename) == (OLD_URL, "libqb-1.0.tar.xz")  # the fixture as the issue saw it
    res = derive(project, "1.1.15", "1.1", "2017-01-06", ["el6:libqb=1.0.1-1", "el7:libqb=1.0.1-2.1f56"])
    rel = manifest.load(res.path)
    for entry in rel.entries("libqb"):
        (src,) = entry.sources
        assert (src.url, src.filename, src.sha256) == (NEW_URL, "libqb-1.0.1.tar.xz", None), entry.dists
    assert OLD_URL not in res.path.read_text() and res.path.read_text().count(NEW_URL) == 2
    assert any(OLD_URL in c and NEW_URL in c for c in res.changed), res.changed
    assert manifest.load(project).component("libqb").sources[0].url == OLD_URL  # the current manifest untouched


def test_an_explicit_file_name_follows_the_url(project: Path) -> None:
    text = project.read_text()
    old = f'sources = [{{ url = "{OLD_URL}" }}]'
    assert old in text, "fixture drifted: libqb's source line"
    project.write_text(text.replace(old, f'sources = [{{ url = "{OLD_URL}", filename = "libqb-1.0.tar.xz" }}]'))
    res = derive(project, "1.1.15", "1.1", "2017-01-06", ["libqb=1.0.1-1"])
    (src,) = manifest.load(res.path).component("libqb").sources
    assert (src.url, src.filename) == (NEW_URL, "libqb-1.0.1.tar.xz")
    assert any("filename libqb-1.0.tar.xz -> libqb-1.0.1.tar.xz" in c for c in res.changed), res.changed
