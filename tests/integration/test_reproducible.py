"""Reproducible from any directory: the demo built twice — through the library in
one temporary tree and by `build.py demo` from another directory into another
tree, at different times — gives byte-identical RPMs, repo packages and
repository metadata (rpmbuild backend)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import CliRun, DemoBuild

from pmrepo.builders.base import BUILD_TREES
from pmrepo.records import BuildRecord
from pmrepo.run import run


def _digests(root: Path, patterns: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pattern in patterns:
        for p in sorted(root.glob(pattern)):
            if p.is_file():
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


OUTPUTS = ("*/*.rpm",)  # repo/<release>/<dist>/: the three repo packages per dist
WORK = ("*/tree/rpm/*.rpm", "*/debuginfo-tree/rpm/*.rpm", "*/src-tree/rpm/*.rpm", "*/tree/repodata/*",
        "*/debuginfo-tree/repodata/*", "*/src-tree/repodata/*")


def test_two_directories_byte_identical(demo_build: DemoBuild, demo_cli_run: CliRun) -> None:
    assert demo_cli_run.returncode == 0, demo_cli_run.text[-3000:]
    rid = demo_build.release.release_id
    a_out, b_out = demo_build.outdir / rid, demo_cli_run.outdir / rid
    a_work, b_work = demo_build.workdir / rid, demo_cli_run.workdir / rid
    assert str(a_work) not in str(b_work) and str(b_work) not in str(a_work)
    a = {**_digests(a_out, OUTPUTS), **{f"work/{k}": v for k, v in _digests(a_work, WORK).items()}}
    b = {**_digests(b_out, OUTPUTS), **{f"work/{k}": v for k, v in _digests(b_work, WORK).items()}}
    assert len(a) >= 60 and sorted(a) == sorted(b)
    assert len([k for k in a if k.count("/") == 1]) == 6  # 3 repo packages × 2 dists
    differ = sorted(k for k in a if a[k] != b[k])
    assert differ == [], differ
    # and no build path in them: the SRPMs' recorded spec shows the fixed build tree only
    srpm = next(a_work.glob("el7/src-tree/rpm/demod-*.src.rpm"))
    spec = run(["rpm", "-qp", "--nosignature", "--qf", "%{SPEC}", str(srpm)]).output
    # the fixed build tree: /var/tmp/pmrepo-build-<uid>, or PMREPO_BUILD_TREES when set
    assert str(demo_build.workdir) not in spec and f"{BUILD_TREES}/" in spec


def test_build_time_is_the_release_date(demo_build: DemoBuild) -> None:
    rpm = demo_build.repo_rpm("el7")
    out = run(["rpm", "-qp", "--nosignature", "--qf", "%{BUILDTIME} %{BUILDHOST}", str(rpm)]).output.split()
    assert out == [str(demo_build.release.epoch), "pmrepo.build"]


# -- issue 26: one NEVRA, one set of bits across the release line --------------------------------------------

def _tree_rpms(work: Path, release_id: str) -> dict[str, str]:
    """Every RPM of a release's three repositories (both dists): dist/file name -> sha256."""
    return {f"{p.parents[2].name}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((work / release_id).glob("*/*tree/rpm/*.rpm"))}


def test_an_unchanged_component_is_the_same_build_in_the_next_release(demo_build: DemoBuild, tmp_path: Path) -> None:
    """Demo 1.0-1 -> 1.1-1 by new-release with demo-tools changed, 1.1 built in a work directory of its own: every
    other component's RPMs (binary, debuginfo, SRPM) are byte-identical to 1.0's, and the NEVRA gate compared them
    with 1.0's published repository packages. Then a rebuild of an unchanged NEVRA with other bytes (libdemo's
    change text edited, its release not bumped) is refused by the gate, naming both files and the fix."""
    import shutil

    import pytest
    from conftest import DEMO

    from pmrepo.errors import GateError
    from pmrepo.manifest.next_release import derive
    from pmrepo.pipeline.orchestrator import Options, Pipeline

    # 1.0-1 follows 0.9-1, never built here: its NEVRA gate said it could not compare (never a silent pass)
    note = BuildRecord.read(demo_build.outputs["el7"] / "build.json").checks["gates"]
    assert f"NEVRA: not compared: demo-repo-0.9-1 is not in {demo_build.outdir} (no demo-repo-0.9-1.el7" in note, note
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    nxt = derive(tmp_path / "demo" / "release.toml", "1.1", "1", "2026-12-01", ["demo-tools=2.1-1"]).path
    lines: list[str] = []
    opts = Options(release=nxt, workdir=tmp_path / "work", outdir=tmp_path / "repo", install_check=False,
                   upgrade_from=demo_build.outdir)  # where 1.0-1's output is: the NEVRA gate compares with it
    outputs = Pipeline(opts, say=lines.append).run_all()
    old, new = _tree_rpms(demo_build.workdir, "demo-repo-1.0-1"), _tree_rpms(opts.workdir, "demo-repo-1.1-1")
    unchanged = {k: v for k, v in old.items() if "/demo-tools-" not in k and "/demo-all-" not in k}
    assert len(unchanged) == 28  # 13 (el6) + 15 (el7): libdemo, demod, demo-plugin, demo-extras (+ demo-units)
    assert {k: new.get(k) for k in unchanged} == unchanged  # the same NEVRAs, the same bytes
    assert not any("/demo-tools-2.0-1" in k for k in new) and any("/demo-tools-2.1-1" in k for k in new)
    checks = BuildRecord.read(outputs["el7"] / "build.json").checks["gates"]
    assert "NEVRA: 15 package(s) also in demo-repo-1.0-1, the same builds" in checks, checks
    # not rebuilt: taken from 1.0-1's repository packages (issue 26b: reuse the build), and recorded so
    text = "\n".join(lines)
    assert ("el7: reused from demo-repo-1.0-1, not built (5): "
            "demo-extras, demo-plugin, demo-units, demod, libdemo") in text
    assert "el6: reused from demo-repo-1.0-1, not built (4): demo-extras, demo-plugin, demod, libdemo" in text
    (building,) = [ln for ln in lines if ln.startswith("building ")]
    assert building.startswith("building 2 jobs (6 components x 2 dists) with rpmbuild, ") and building.endswith(
        "; 9 taken from the previous release"), building
    assert sorted(f"{d}/{n}" for d in outputs for n in BuildRecord.read(outputs[d] / "build.json").reused) == sorted(
        unchanged)

    # a planted rebuild: libdemo-1.2-1's change text edited, the release not bumped
    nxt.write_text(nxt.read_text().replace('changes = "Add demo_checksum()."', 'changes = "Add demo_checksum()!"', 1))
    before = (outputs["el6"] / "build.json").read_bytes()
    with pytest.raises(GateError) as err:
        Pipeline(opts, say=lines.append).run_all()
    msg = str(err.value)
    assert "\n" not in msg and "nevra gate failed for el6: libdemo-1.2-1.el6.x86_64.rpm: NEVRA: " in msg, msg
    assert f"{opts.workdir}/demo-repo-1.1-1/el6/tree/rpm/libdemo-1.2-1.el6.x86_64.rpm has other bytes" in msg
    assert "demo-repo-1.0-1 published it in demo-repo-1.0-1.el6.x86_64.rpm (/opt/pmrepo-demo/demo/rpm/libdemo" in msg
    assert "fix: bump components.libdemo.release in 1.1-1.toml" in msg and "or reuse the build" in msg
    assert (outputs["el6"] / "build.json").read_bytes() == before  # the refused output never replaced the good one
