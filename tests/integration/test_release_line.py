"""The release line (issue 17), on the demo for real: a component at a different
version per dist builds for both dists, each repository carries its own version,
install and upgrade pass on both in containers, the notes mark it per dist; and
three releases derived one from the other by `new-release` alone build with
the right notes. Kept to four builds (1.0, then 1.1, 1.2, 1.3) in one work directory."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DEMO
from synthetic import needs_rpmbuild

from pmrepo import manifest
from pmrepo.manifest.next_release import derive
from pmrepo.notes.collect import collect
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.records import BuildRecord

pytestmark = needs_rpmbuild

NEXT = [  # (version, date, --set): each derived from the one before by new-release alone
    # (dates on or before the day this was written: new-release refuses a date after today, issue 26)
    ("1.1", "2026-11-27", ["el7:demo-plugin=0.6-1.1f56"]),  # el7 only, a release with a git hash
    ("1.2", "2026-11-30", ["el6:demo-plugin=0.5-2", "demod=1.0-4"]),  # el6's own entry, then all dists
    ("1.3", "2026-12-03", ["libdemo=1.3-1", "el7:demo-plugin=0.7-1"]),
]


@dataclass
class Line:
    root: Path
    work: Path
    out: Path
    manifests: list[Path]  # 1.0, 1.1, 1.2, 1.3
    outputs: dict[str, dict[str, Path]]  # release id -> dist -> output
    log: list[str]

    def release(self, i: int) -> manifest.Release:
        return manifest.load(self.manifests[i])


def _container() -> tuple[str, str | None]:
    """The container engine for 1.1's install and upgrade test: podman as root, with debootstrap for the image."""
    if os.geteuid() != 0 or shutil.which("podman") is None or shutil.which("debootstrap") is None:
        return "none", "the container install/upgrade test needs root, podman and debootstrap"
    return "podman", None


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> Line:
    base = tmp_path_factory.mktemp("release-line")
    shutil.copytree(DEMO.parent, base / "demo")
    manifests = [base / "demo" / "release.toml"]
    for version, date, sets in NEXT:
        manifests.append(derive(manifests[-1], version, "1", date, sets).path)
    lines: list[str] = []
    work, out = base / "work", base / "repo"
    outputs: dict[str, dict[str, Path]] = {}
    engine, _ = _container()
    for i, path in enumerate(manifests):
        opts = Options(release=path, workdir=work, outdir=out, gates=i == 1, install_check=i > 0,
                       container=engine if i == 1 else "none", container_image="local",
                       upgrade_from=out if i == 1 and engine != "none" else None)
        pipe = Pipeline(opts, say=lines.append)
        outputs[pipe.release.release_id] = pipe.run_all()
    return Line(base, work, out, manifests, outputs, lines)


def test_each_repository_carries_its_dists_version(line: Line) -> None:
    want = {  # release -> dist -> demo-plugin
        1: {"el6": "0.5-1.el6", "el7": "0.6-1.1f56.el7"},
        2: {"el6": "0.5-2.el6", "el7": "0.6-1.1f56.el7"},
        3: {"el6": "0.5-2.el6", "el7": "0.7-1.el7"},
    }
    for i, per_dist in want.items():
        rel = line.release(i)
        for dist, vr in per_dist.items():
            out = line.outputs[rel.release_id][dist]
            rec = BuildRecord.read(out / "build.json")
            assert rec.packages["demo-plugin"] == vr, (rel.release_id, dist)
            tree = line.work / rel.release_id / dist / "tree"
            rpms = sorted(p.name for p in tree.rglob("demo-plugin-0*.rpm"))
            assert rpms == [f"demo-plugin-{vr}.x86_64.rpm"], (rel.release_id, dist, rpms)
            assert rec.packages["demod"] == ("1.0-3" if i < 2 else "1.0-4") + rel.dists[dist].tag
            assert rec.packages["libdemo"] == ("1.2-1" if i < 3 else "1.3-1") + rel.dists[dist].tag


def test_install_and_upgrade_pass_on_both_dists(line: Line) -> None:
    engine, why = _container()
    if engine == "none":
        pytest.skip(str(why))
    rel = line.release(1)
    for dist in ("el6", "el7"):
        checks = json.loads((line.outputs[rel.release_id][dist] / "build.json").read_text())["checks"]
        note = checks["container install"]
        assert note.startswith("passed") and "upgrade from demo-repo-1.0-1 passed" in note, note
        assert "fresh-root install" in checks, checks  # and the gates on the per-dist builds
        assert all(f"{g} passed" in checks["gates"] for g in ("digest", "compat", "closure", "rpmlint")), checks
        installed = json.loads((line.outputs[rel.release_id][dist] / "installed.json").read_text())["packages"]
        assert installed["demo-plugin"] == {"el6": "0.5-1.el6", "el7": "0.6-1.1f56.el7"}[dist]


def test_notes_mark_per_dist_along_the_line(line: Line) -> None:
    bold = {  # release -> (dist, package) -> bold; every other package: bold when its version changed
        1: {("el6", "demo-plugin"): False, ("el7", "demo-plugin"): True, ("el7", "demod"): False},
        2: {("el6", "demo-plugin"): True, ("el7", "demo-plugin"): False, ("el6", "demod"): True,
            ("el7", "libdemo"): False},
        3: {("el6", "demo-plugin"): False, ("el7", "demo-plugin"): True, ("el6", "libdemo"): True,
            ("el7", "demod"): False},
    }
    for i, marks in bold.items():
        notes = collect(line.release(i), repo_dir=line.out)
        for (dist, pkg), want in marks.items():
            d = next(d for d in notes.dists if d.dist.name == dist)
            (ln,) = [ln for ln in d.lines if ln.name == pkg]
            assert ln.bold == want, (i, dist, pkg, ln)
            assert ln.star and d.star_source in ("installed", "built RPMs")
            assert (ln.dist_label != "") == (pkg == "demo-plugin"), ln  # only the per-dist component names its dist
        assert notes.dists[0].built and notes.previous is not None
        assert notes.previous.path == line.manifests[i - 1]


def test_plan_shows_the_version_per_dist(line: Line) -> None:
    out: list[str] = []
    Pipeline(Options(release=line.manifests[1], workdir=line.root / "plan-work", outdir=line.root / "plan-out"),
             say=out.append).run_plan()
    text = "\n".join(out)
    el6, el7 = text.split("== el7")
    assert "0.5-1.el6" in el6
    assert "0.6-1.1f56.el7" in el7 and "0.6-1.1f56" not in el6 and "0.5-1.el6" not in el7
