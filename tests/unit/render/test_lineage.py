"""Where a component's NEVRA first appeared along `follows` (issue 26): an unchanged entry keeps the date, the
default change text and the build time of that release; any change to what shapes its build ends the walk."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.manifest.next_release import derive
from pmrepo.render import lineage, specs


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    return tmp_path / "demo"


def _vr(origins: dict[tuple[str, str], specs.Origin]) -> dict[tuple[str, str], str]:
    return {k: o.vr for k, o in origins.items()}


def test_unchanged_entries_come_from_the_release_they_first_appeared_in(demo: Path) -> None:
    nxt = manifest.load(derive(demo / "release.toml", "1.1", "1", "2026-12-01", ["el7:demo-tools=2.1-1"]).path)
    got = _vr(lineage.origins(nxt))
    assert got[("demo-tools", "el7")] == "1.1-1"  # changed here
    assert got[("demo-tools", "el6")] == "0.9-1"  # the same 2.0-1 since 0.9 (through 1.0)
    assert got[("demo-plugin", "el7")] == "0.9-1" and got[("libdemo", "el6")] == "1.0-1"
    assert got[("demo-units", "el7")] == "1.0-1"
    origin = lineage.origins(nxt)[("libdemo", "el7")]
    text = specs.render_component(nxt, nxt.dists["el7"], nxt.component("libdemo"), origin)
    assert "* Tue Nov 24 2026 " in text  # 1.0-1's date, not 1.1-1's
    assert origin.epoch == manifest.load(demo / "release.toml").epoch


@pytest.mark.parametrize("edit", [
    ('changes = "Add demo_checksum()."', 'changes = "Add demo_checksum()!"'),  # the %changelog text
    ('summary = "Demo C library"', 'summary = "Demo C library, reworded"'),
    ('[dists.el7]\ntag = ".el7"\nrhel = 7\nos_requires = []\nmacros = { _unitdir = "/usr/lib/systemd/system" }',
     '[dists.el7]\ntag = ".el7"\nrhel = 7\nos_requires = []\n'
     'macros = { _unitdir = "/usr/lib/systemd/system", x = "1" }'),
])
def test_a_change_that_shapes_the_build_ends_the_walk(demo: Path, edit: tuple[str, str]) -> None:
    path = derive(demo / "release.toml", "1.1", "1", "2026-12-01", []).path
    text = path.read_text()
    assert edit[0] in text, edit
    path.write_text(text.replace(edit[0], edit[1], 1))
    assert _vr(lineage.origins(manifest.load(path)))[("libdemo", "el7")] == "1.1-1"


def test_a_source_tree_of_other_content_is_a_change(demo: Path) -> None:
    """The packed tree's content counts, not its path. (One template or tree both manifests share, edited
    since, renders and packs the same for both: the NEVRA gate then finds the other bytes.)"""
    path = derive(demo / "release.toml", "1.1", "1", "2026-12-01", []).path
    shutil.copytree(demo / "src" / "libdemo", demo / "src" / "libdemo-new")
    (demo / "src" / "libdemo-new" / "demo.c").write_text("/* changed */\n")
    path.write_text(path.read_text().replace('{ path = "src/libdemo" }', '{ path = "src/libdemo-new" }', 1))
    got = _vr(lineage.origins(manifest.load(path)))
    assert got[("libdemo", "el7")] == "1.1-1" and got[("demod", "el7")] == "1.0-1"


def test_no_follows_no_walk(tmp_path: Path) -> None:
    from synthetic import make_release

    rel = manifest.load(make_release(tmp_path / "rel", {"a": []}))
    assert _vr(lineage.origins(rel)) == {("a", "el7"): "1.0-1"}


def test_each_release_and_dist_renders_its_specs_in_one_batch(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk renders in one render child per (release, dist), not one per component (a release of
    300 components that follows another spent 33 s forking one child per spec)."""
    from pmrepo.render import limits as render_limits

    batches: list[int] = []
    each = render_limits.each

    def counted(jobs):
        todo = list(jobs)
        batches.append(len(todo))
        return each(todo)

    monkeypatch.setattr(render_limits, "each", counted)
    nxt = manifest.load(derive(demo / "release.toml", "1.1", "1", "2026-12-01", []).path)
    got = _vr(lineage.origins(nxt))
    assert got[("libdemo", "el7")] == "1.0-1" and got[("demo-tools", "el6")] == "0.9-1"
    # 1.1 vs 1.0 (both sides, two dists), then 1.0 vs 0.9 for what is still unchanged: at most 8 children
    assert len(batches) <= 8 and max(batches) > 1, batches
