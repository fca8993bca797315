"""Which jobs are taken from the previous release (pmrepo.schedule.reuse, issue 26b): unchanged entries whose every
RPM the previous output carries; the lines `plan` and the build print; the keys and records of a reuse."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.checks.nevra import Predecessor
from pmrepo.layout import Output
from pmrepo.manifest.next_release import derive
from pmrepo.records import BuildRecord, FileInfo, RecordError, ReusedRpm
from pmrepo.render import lineage
from pmrepo.render.specs import SpecInfo
from pmrepo.schedule import reuse
from pmrepo.schedule.graph import BuildGraph

PREV = "demo-repo-1.0-1"


@pytest.fixture
def line(tmp_path: Path) -> tuple[manifest.Release, manifest.Release]:
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    first = tmp_path / "demo" / "release.toml"
    return manifest.load(first), manifest.load(derive(first, "1.1", "1", "2026-12-01", ["libdemo=1.3-1"]).path)


def _infos(rel: manifest.Release, dist: str) -> dict[str, SpecInfo]:
    """What rpmspec says of each demo spec (as the demo's specs are: noarch tools, x86_64 the rest)."""
    tag = rel.dists[dist].tag
    out = {}
    for c in rel.components_for(dist):
        arch = "noarch" if c.name in ("demo-tools", "demo-extras", "demo-units") else "x86_64"
        pkgs = tuple(c.packages_for(dist))
        out[c.name] = SpecInfo(Path(f"{c.name}.spec"), c.name, pkgs, c.vr + tag, dict.fromkeys(pkgs, arch), {}, ())
    return out


def _published(rel: manifest.Release, dist: str, leave_out: str = "") -> dict[str, reuse.TakenRpm]:
    """What 1.0-1's repository packages carry (every build's RPMs), but ``leave_out``."""
    names = []
    for c, info in _infos(rel, dist).items():
        names.append(f"{c}-{info.evr}.src.rpm")
        names += [f"{p}-{info.evr}.{info.arches[p]}.rpm" for p in info.packages]
        comp = rel.component_for(c, dist)
        assert comp is not None
        names += [f"{p}-{info.evr}.x86_64.rpm" for p in comp.debuginfo.get(dist, ())]
    return {n: reuse.TakenRpm(n, f"{PREV}.{dist}.x86_64.rpm", f"/opt/x/rpm/{n}", n[:8].ljust(64, "0"))
            for n in names if n != leave_out}


def _predecessor(first: manifest.Release, tmp_path: Path, **record: object) -> Predecessor:
    out = Output(tmp_path / "prev" / PREV / "el7")
    fields: dict[str, object] = {"dist": "el7", "release": PREV, "packages": {}, "files": {}, **record}
    BuildRecord(**fields).write(out.build_json)  # type: ignore[arg-type]
    return Predecessor(first, out, (out.root / f"{PREV}.el7.x86_64.rpm",))


def test_unchanged_builds_the_previous_output_carries_are_reused(line, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    first, nxt = line
    monkeypatch.setattr(reuse, "published_rpms",
                        lambda prev, log: _published(first, "el7", leave_out="demo-units-1.0-1.el7.noarch.rpm"))
    plan = reuse.plan_dist(nxt, nxt.dists["el7"], _predecessor(first, tmp_path), lineage.origins(nxt),
                           _infos(nxt, "el7"))
    assert sorted(plan.reused) == ["demo-extras", "demo-plugin", "demo-tools", "demod"]  # libdemo changed: built
    assert plan.not_reused == {"demo-units": f"unchanged, but {PREV} does not publish demo-units-1.0-1.el7.noarch.rpm"}
    demod = plan.reused["demod"]
    assert demod.srpm.name == "demod-1.0-3.el7.src.rpm" and [f.name for f in demod.binary] == [
        "demod-1.0-3.el7.x86_64.rpm", "demod-devel-1.0-3.el7.x86_64.rpm", "demod-debuginfo-1.0-3.el7.x86_64.rpm"]
    graph = BuildGraph("el7", {"demod": frozenset({"libdemo"}), "demo-plugin": frozenset({"demod"})}, {})
    assert reuse.stale(plan, graph) == {"demod": ["libdemo"]}
    lines = reuse.describe(plan, graph, nxt)
    assert lines[0] == f"el7: reused from {PREV}, not built (4): demo-extras, demo-plugin, demo-tools, demod"
    assert lines[1] == (f"el7: demo-units is built: unchanged, but {PREV} does not publish "
                        "demo-units-1.0-1.el7.noarch.rpm")
    assert lines[2].startswith(f"el7: demod is {PREV}'s build, made against its libdemo, which is built anew here "
                               "— fix: bump components.demod.release in 1.1-1.toml")


@pytest.mark.parametrize("case,expected", [
    ("not shippable", "says its builds are not shippable (host BuildRequires)"),
    ("missing", "demo-repo-1.0-1 is not in /nowhere"),
    ("no follows", "release.follows is not set"),
])
def test_nothing_is_reused_from_an_output_that_cannot_give_builds(line, tmp_path: Path, case: str,
                                                                  expected: str) -> None:
    first, nxt = line
    prev = {
        "not shippable": _predecessor(first, tmp_path, shippable=False, not_shippable="host BuildRequires"),
        "missing": Predecessor(first, Output(tmp_path), missing="demo-repo-1.0-1 is not in /nowhere"),
        "no follows": Predecessor(why_none="release.follows is not set: the first release"),
    }[case]
    plan = reuse.plan_dist(nxt, nxt.dists["el7"], prev, lineage.origins(nxt), _infos(nxt, "el7"))
    assert not plan.reused and expected in plan.none
    (only,) = reuse.describe(plan, BuildGraph("el7", {}, {}), nxt)
    assert only.startswith("el7: nothing reused from the previous release: ") and expected in only


def test_a_reuse_key_is_its_files_and_where_from(line) -> None:
    first, _ = line
    taken = _published(first, "el7")
    srpm, rpm = taken["libdemo-1.2-1.el7.src.rpm"], taken["libdemo-1.2-1.el7.x86_64.rpm"]
    one = reuse.Reuse("libdemo", "el7", PREV, srpm, (rpm,))
    other = reuse.Reuse("libdemo", "el7", PREV, srpm, (reuse.TakenRpm(rpm.name, rpm.repo_package, rpm.path,
                                                                      "f" * 64),))
    assert one.key != other.key and one.key == reuse.Reuse("libdemo", "el7", PREV, srpm, (rpm,)).key
    assert reuse.Reuse("libdemo", "el7", "demo-repo-0.9-1", srpm, (rpm,)).key != one.key
    assert one.records()[rpm.name] == ReusedRpm(PREV, rpm.repo_package, rpm.path, rpm.sha256)


def test_build_json_records_what_was_reused(tmp_path: Path) -> None:
    rec = BuildRecord(dist="el7", release="r-1", packages={}, files={"r.rpm": FileInfo(1, "a" * 64)}, unchecked=(),
                      reused={"x-1-1.el7.x86_64.rpm": ReusedRpm(PREV, "p.rpm", "/opt/x/rpm/x-1-1.el7.x86_64.rpm",
                                                                "b" * 64)})
    path = rec.write(tmp_path / "build.json")
    assert BuildRecord.read(path) == rec
    data = json.loads(path.read_text())
    del data["reused"]["x-1-1.el7.x86_64.rpm"]["path"]
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError) as exc:
        BuildRecord.read(path)
    assert '"reused" is not a table of file name -> {release, repo_package, path, sha256}' in str(exc.value)
