"""Per-dist component entries (issue 17): one name in several [[components]]
entries with disjoint dists, each a whole component for its dists."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.errors import ManifestError

PLUGIN = '''[[components]]
name = "demo-plugin"
version = "0.5"
release = "1"
summary = "Hello plugin for demod"
sources = [{ path = "src/demo-plugin" }]
packages = ["demo-plugin"]
debuginfo = ["demo-plugin-debuginfo"]
require = ">="
group = "core"
'''


def per_dist_demo(tmp_path: Path, el6: str = 'dists = ["el6"]\n', el7: str = 'dists = ["el7"]\n',
                  el7_vr: tuple[str, str] = ("0.6", "1.1f56")) -> Path:
    """A copy of the demo with demo-plugin split: el6 keeps 0.5-1, el7 gets ``el7_vr``."""
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "release.toml"
    text = path.read_text()
    assert PLUGIN in text, "fixture drifted: demo-plugin's entry changed"
    el7_entry = PLUGIN.replace('version = "0.5"\nrelease = "1"', f'version = "{el7_vr[0]}"\nrelease = "{el7_vr[1]}"')
    path.write_text(text.replace(PLUGIN, PLUGIN.replace("require", el6 + "require") + "\n"
                                 + el7_entry.replace("require", el7 + "require")))
    return path


def test_per_dist_entries_load(tmp_path: Path) -> None:
    rel = manifest.load(per_dist_demo(tmp_path))
    e6, e7 = rel.entries("demo-plugin")
    assert (e6.dists, e6.vr, e6.key) == (("el6",), "0.5-1", "demo-plugin.el6")
    assert (e7.dists, e7.vr, e7.key) == (("el7",), "0.6-1.1f56", "demo-plugin.el7")
    assert rel.component_for("demo-plugin", "el6") is e6 and rel.component_for("demo-plugin", "el7") is e7
    assert rel.component_for("demo-units", "el6") is None
    assert [c.name for c in rel.components_for("el7")].count("demo-plugin") == 1
    assert rel.component_names().count("demo-plugin") == 1
    assert rel.shipped(rel.dists["el6"])["demo-plugin"] == "0.5-1.el6"
    assert rel.shipped(rel.dists["el7"])["demo-plugin"] == "0.6-1.1f56.el7"
    assert rel.component("libdemo").key == "libdemo"  # one entry: the key is the name
    assert rel.exclude_patterns("el7").count("demo-plugin*") == 1


def test_per_dist_metapackage_requires_its_dists_version(tmp_path: Path) -> None:
    from pmrepo.assemble.repopkg import metapackage_requires
    rel = manifest.load(per_dist_demo(tmp_path))
    assert "demo-plugin >= 0.5-1.el6" in metapackage_requires(rel, rel.dists["el6"])
    assert "demo-plugin >= 0.6-1.1f56.el7" in metapackage_requires(rel, rel.dists["el7"])


@pytest.mark.parametrize("el6,el7,fix", [
    ('dists = ["el6", "el7"]\n', 'dists = ["el7"]\n', "disjoint dists"),
    ("", 'dists = ["el7"]\n', "its own dists"),
    ('dists = ["el6"]\n', "", "its own dists"),
], ids=["overlap", "first-without-dists", "second-without-dists"])
def test_per_dist_entries_refused(tmp_path: Path, el6: str, el7: str, fix: str) -> None:
    path = per_dist_demo(tmp_path, el6, el7)
    with pytest.raises(ManifestError) as err:
        manifest.load(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path}: components.demo-plugin.dists:"), msg
    assert "fix:" in msg and fix in msg and "#3" in msg and "#4" in msg, msg


def test_release_with_letters_loads(tmp_path: Path) -> None:
    rel = manifest.load(per_dist_demo(tmp_path, el7_vr=("1.2.6", "1.2.6f56")))
    assert rel.component_for("demo-plugin", "el7").release == "1.2.6f56"  # type: ignore[union-attr]


def _lines(notes, dist: str, name: str):
    d = next(d for d in notes.dists if d.dist.name == dist)
    return [ln for ln in d.lines if ln.name == name]


def test_notes_mark_per_dist(tmp_path: Path) -> None:
    """el7 ships demo-plugin 0.6-1.1f56, el6 keeps 0.5-1 (as in 0.9): bold on el7 only, each line names its dist;
    the next release (new-release alone) bumps el6 only: bold on el6 only, judged against per-dist predecessors."""
    from pmrepo.manifest.next_release import derive
    from pmrepo.notes.collect import collect
    from pmrepo.notes.render import render_texts
    path = per_dist_demo(tmp_path)
    notes = collect(manifest.load(path), repo_dir=None)
    (l6,), (l7,) = _lines(notes, "el6", "demo-plugin"), _lines(notes, "el7", "demo-plugin")
    assert (l6.vr, l6.bold, l6.dist_label, l6.star) == ("0.5-1.el6", False, "RHEL 6", True)
    assert (l7.vr, l7.bold, l7.dist_label, l7.star) == ("0.6-1.1f56.el7", True, "RHEL 7", True)
    assert _lines(notes, "el7", "demod")[0].dist_label == ""  # one version everywhere: no dist named
    changes = [(c.name, c.dist_label, c.changed, c.previous_vr) for c in notes.components if c.name == "demo-plugin"]
    assert changes == [("demo-plugin", "RHEL 6", False, "0.5-1"), ("demo-plugin", "RHEL 7", True, "0.5-1")]
    md = render_texts(notes)["RELEASE-NOTES.en.md"]
    assert "★ **demo-plugin-0.6-1.1f56.el7** (RHEL 7)" in md and "★ demo-plugin-0.5-1.el6 (RHEL 6)" in md
    assert "demo-plugin (RHEL 7) 0.5-1 → 0.6-1.1f56" in md

    nxt = manifest.load(derive(path, "1.1", "1", "2026-12-01", ["el6:demo-plugin=0.5-2"]).path)
    notes = collect(nxt, repo_dir=None)
    (l6,), (l7,) = _lines(notes, "el6", "demo-plugin"), _lines(notes, "el7", "demo-plugin")
    assert (l6.vr, l6.bold, l6.previous_vr) == ("0.5-2.el6", True, "0.5-1")
    assert (l7.vr, l7.bold, l7.previous_vr) == ("0.6-1.1f56.el7", False, "0.6-1.1f56")
    assert not _lines(notes, "el7", "demod")[0].bold
    unchanged = [c for c in notes.components if c.name == "demod"]
    assert [(c.changed, c.changes.en) for c in unchanged] == [(False, ())]  # carried-over text is no change
