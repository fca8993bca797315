"""Reproducible from any directory: the demo built twice — through the library in
one temporary tree and by `build.py demo` from another directory into another
tree, at different times — gives byte-identical RPMs, repo packages and
repository metadata (rpmbuild backend)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import CliRun, DemoBuild

from pmrepo.builders.base import BUILD_TREES
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
