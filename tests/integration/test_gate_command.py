"""`gate` runs the very list of checks `all` ran, with the reports in the same places."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DEMO, DemoBuild

from pmrepo.errors import GateError
from pmrepo.pipeline.orchestrator import Options, Pipeline


def _copy(demo_build: DemoBuild, tmp: Path) -> Options:
    shutil.copytree(demo_build.workdir, tmp / "work", symlinks=True)
    shutil.copytree(demo_build.outdir, tmp / "repo", symlinks=True)
    for lock in tmp.rglob(".pmrepo.lock"):
        lock.unlink()
    return Options(release=DEMO, workdir=tmp / "work", outdir=tmp / "repo", dists=("el7",))


def _reports(root: Path) -> dict[str, str]:
    return {p.name: p.read_text().splitlines()[0] for p in sorted(root.glob("*.txt"))}


def test_gate_reruns_the_checks_of_all(demo_build: DemoBuild, tmp_path: Path) -> None:
    opts = _copy(demo_build, tmp_path)
    pipe = Pipeline(opts, say=lambda s: None)
    where = pipe.layout.dist("el7")
    after_all = _reports(where.output.reports)
    for f in where.reports.glob("*.txt"):
        f.unlink()
    shutil.rmtree(where.output.reports)
    runs = pipe.run_gate()
    assert [r.check for r in runs[0].results] == [c.name for c in pipe.checks()] == [
        "fresh-root install", "digest gate", "compat gate", "closure gate", "rpmlint gate", "NEVRA gate"]
    assert all(r.passed for r in runs[0].results)
    # the same report files, in the work tree and the output, as `all` left
    assert _reports(where.output.reports) == after_all == _reports(where.reports)
    assert set(after_all) >= {"fresh-root-install-el7.txt", "digest-el7.txt", "compat-el7.txt", "closure-el7.txt",
                              "rpmlint-el7.txt", "nevra-el7.txt"}


def test_gate_fails_on_a_damaged_package(demo_build: DemoBuild, tmp_path: Path) -> None:
    opts = _copy(demo_build, tmp_path)
    pipe = Pipeline(opts, say=lambda s: None)
    where = pipe.layout.dist("el7")
    rpm = next(where.tree.glob("rpm/demod-1*.rpm"))
    data = bytearray(rpm.read_bytes())
    data[-100] ^= 0xFF  # a payload bit: the header still reads, the digest does not match
    rpm.write_bytes(bytes(data))
    with pytest.raises(GateError) as exc:
        pipe.run_gate()
    assert str(exc.value).startswith("digest gate failed for el7") and "\n" not in str(exc.value)
    assert "FAILED" in (where.output.reports / "digest-el7.txt").read_text().splitlines()[0]
