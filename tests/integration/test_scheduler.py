"""Build graph and scheduler, with real rpmbuild on synthetic releases:
order, cycles, missing BuildRequires, failure propagation, incremental
reuse, the work-directory lock, and kill -9 in the middle of a run."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from synthetic import make_release

from pmrepo.errors import BuildError, GraphError, LockError
from pmrepo.lock import WorkdirLock
from pmrepo.pipeline.orchestrator import Options, Pipeline

DIAMOND = {"base": [], "left": ["base"], "right": ["base"], "top": ["left", "right"]}


def pipeline(manifest: Path, tmp: Path, **kw: object) -> Pipeline:
    lines: list[str] = []
    opts = Options(release=manifest, workdir=tmp / "work", outdir=tmp / "out", install_check=False,
                   **kw)  # type: ignore[arg-type]
    p = Pipeline(opts, say=lines.append)
    p.lines = lines  # type: ignore[attr-defined]
    return p


def build(p: Pipeline):  # -> results
    rendered = p.render()
    return p.build(rendered, p.fetch_sources(), p.plan(rendered))


def test_diamond_order_and_parallel_middle(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", DIAMOND, sleep={"left": 1, "right": 1})
    p = pipeline(m, tmp_path, jobs=2)
    rendered = p.render()
    plan = p.plan(rendered)["el7"]
    assert plan.graph.waves() == [["base"], ["left", "right"], ["top"]]
    assert plan.graph.deps["top"] == {"left", "right"}
    res = p.build(rendered, p.fetch_sources(), p.plan(rendered))
    r = {c: res[(c, "el7")] for c in DIAMOND}
    assert all(x.status == "built" for x in r.values())
    assert r["base"].finished <= r["left"].started and r["base"].finished <= r["right"].started
    assert max(r["left"].finished, r["right"].finished) <= r["top"].started
    # the two middle jobs overlapped in time (2 jobs at once)
    assert r["left"].started < r["right"].finished and r["right"].started < r["left"].finished


def test_cycle_is_named(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", {"a": ["b"], "b": ["c"], "c": ["a"]})
    p = pipeline(m, tmp_path)
    with pytest.raises(GraphError, match=r"el7: BuildRequires cycle: (a -> b -> c -> a|b -> c -> a -> b"
                                         r"|c -> a -> b -> c|a -> c -> b -> a|c -> b -> a -> c|b -> a -> c -> b)"):
        p.plan(p.render())


def test_missing_buildrequires_is_a_clear_error(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", {"a": [], "b": ["a"]}, extra_br={"b": ["libfrobnicate-devel"]})
    p = pipeline(m, tmp_path)
    with pytest.raises(GraphError, match=r"b \(el7\): BuildRequires 'libfrobnicate-devel' is built by no component "
                                         r".* --backend mock"):
        p.plan(p.render())


def test_failure_skips_exactly_its_dependents(tmp_path: Path) -> None:
    dag = {"base": [], "left": ["base"], "right": ["base"], "top": ["left", "right"], "solo": []}
    m = make_release(tmp_path / "rel", dag, fail=frozenset({"left"}))
    p = pipeline(m, tmp_path, jobs=2)
    with pytest.raises(BuildError, match=r"1 build\(s\) failed, 1 skipped; first: left \(el7\)"):
        build(p)
    table = "\n".join(p.lines)  # type: ignore[attr-defined]
    status = {ln.split()[0]: ln.split()[2] for ln in table.splitlines() if ln.split()[:2][-1:] == ["el7"]}
    assert status == {"base": "built", "left": "failed", "right": "built", "top": "skipped", "solo": "built"}
    failed_log = tmp_path / "work" / "store" / "failed" / "el7" / "left" / "build.log"
    assert "synthetic failure requested" in failed_log.read_text()


def test_rerun_runs_no_builder_and_touch_rebuilds_reverse_deps(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", DIAMOND)
    first = build(pipeline(m, tmp_path))
    assert {r.status for r in first.values()} == {"built"}
    again = build(pipeline(m, tmp_path))
    assert {r.status for r in again.values()} == {"reused"}
    assert {k: r.entry for k, r in again.items()} == {k: r.entry for k, r in first.items()}
    # touch one spec: only it and what depends on it are rebuilt
    spec = tmp_path / "rel" / "specs" / "left.spec.j2"
    spec.write_text(spec.read_text().replace("Synthetic component left", "Synthetic component left, touched"))
    third = build(pipeline(m, tmp_path))
    assert {c: r.status for (c, _), r in third.items()} == {"base": "reused", "left": "built", "right": "reused",
                                                            "top": "built"}
    # a forced rebuild replaces the stored result (here: one that was damaged)
    damaged = third[("right", "el7")].binary_rpms[0]
    damaged.write_bytes(b"not an rpm")
    forced = build(pipeline(m, tmp_path, force=frozenset({"right"})))
    assert {c: r.status for (c, _), r in forced.items()} == {"base": "reused", "left": "reused", "right": "built",
                                                             "top": "reused"}
    assert forced[("right", "el7")].entry == third[("right", "el7")].entry
    assert damaged.read_bytes()[:4] == b"\xed\xab\xee\xdb"  # an RPM again (lead magic)


def test_second_run_is_refused_by_the_lock(tmp_path: Path) -> None:
    # held, then taken a second time inside pytest.raises
    with WorkdirLock(tmp_path), pytest.raises(LockError, match=rf"in use by pid {os.getpid()} .*--workdir"), \
            WorkdirLock(tmp_path):
        pass
    with WorkdirLock(tmp_path):  # released: free again
        pass


def _run_cli(manifest: Path, work: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(ROOT / "build.py"), "all", "--release", str(manifest),
                             "--workdir", str(work), "--outdir", str(out), "--no-install-check", "-j", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def _digests(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.rpm"))}


def test_kill_9_mid_build_then_rerun_gives_the_same_repository(tmp_path: Path) -> None:
    dag = {"a": [], "b": ["a"], "c": ["b"]}
    # b pauses in %build in every run (the same spec, so the same build key); the kill comes 1 s
    # after it started. (Not a pause from pmrepo's environment: a build gets a fresh one.)
    m = make_release(tmp_path / "rel", dag, sleep={"b": 12})
    work, out = tmp_path / "work", tmp_path / "out"
    # reference: one uninterrupted run in the same paths, then wiped
    proc = _run_cli(m, work, out)
    assert proc.wait(timeout=300) == 0, proc.stdout.read() if proc.stdout else ""
    reference = _digests(out)
    assert len(reference) == 3  # el7: repo, -debuginfo, -src
    subprocess.run(["rm", "-rf", str(work), str(out)], check=True)

    proc = _run_cli(m, work, out)
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "b el7: started" in line:
            break
    assert "b el7: started" in seen, seen
    time.sleep(1.0)  # inside b's %build now
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not out.exists() or not list(out.rglob("*.rpm")), "a killed run published output"
    assert not (work / "store" / "el7" / "b").exists(), "an unfinished build entered the store"

    proc = _run_cli(m, work, out)
    text = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, text
    assert "a el7: reused" in text and "b el7: built" in text and "c el7: built" in text
    assert _digests(out) == reference


def test_longest_chain_starts_first(tmp_path: Path) -> None:
    """With one slot, the head of the longest chain goes before an independent
    job that sorts first by name (critical-path priority, not name order)."""
    m = make_release(tmp_path / "rel", {"aaa-solo": [], "x1": [], "x2": ["x1"], "x3": ["x2"]})
    res = build(pipeline(m, tmp_path, jobs=1))
    order = [c for (c, _), r in sorted(res.items(), key=lambda kv: kv[1].started)]
    # x1 (chain of 3) and x2 (chain of 2) outrank aaa-solo (1); x3 ties with it
    assert order[:2] == ["x1", "x2"] and set(order[2:]) == {"x3", "aaa-solo"}


def test_a_job_built_after_reused_ones_waits_for_their_whole_chain(tmp_path: Path) -> None:
    """Issue 26b: a and b are taken from the previous release (they wait for nothing), c is built against
    both. b is taken at once, a slowly: c still starts only after a is there (its RPMs are c's build's)."""
    import shutil

    from pmrepo.builders import BuildOutput
    from pmrepo.fsutil import sha256_file
    from pmrepo.schedule.plan import ReusePlan
    from pmrepo.schedule.reuse import DistReuse, Reuse, TakenRpm

    m = make_release(tmp_path / "rel", {"a": [], "b": ["a"], "c": ["b"]})
    first = build(pipeline(m, tmp_path / "first"))
    p = pipeline(m, tmp_path / "second", jobs=2)

    def taken(path: Path) -> TakenRpm:
        return TakenRpm(path.name, "prev-1.el7.x86_64.rpm", f"/opt/prev/rpm/{path.name}", sha256_file(path))

    reused = {c: Reuse(c, "el7", "prev-1", taken(first[(c, "el7")].srpm),
                       tuple(map(taken, first[(c, "el7")].binary_rpms)))
              for c in ("a", "b")}

    class SlowA:
        def take(self, r: Reuse, dest: Path) -> BuildOutput:
            if r.component == "a":
                time.sleep(2)
            src = first[(r.component, "el7")]
            for f in src.rpms:
                shutil.copyfile(f, dest / f.name)
            return BuildOutput(dest / src.srpm.name, tuple(dest / f.name for f in src.binary_rpms), ())

        def close(self) -> None:
            pass

    rendered = p.render()
    plans = p.plan(rendered)
    plan = ReusePlan(p.release, {"el7": DistReuse("el7", "prev-1", reused)}, {"el7": plans["el7"].graph},
                     {"el7": SlowA()})  # type: ignore[dict-item]
    p.reuse_plan = lambda plans: plan  # type: ignore[method-assign]
    res = p.build(rendered, p.fetch_sources(), plans)
    assert {c: r.shown for (c, _), r in res.items()} == {"a": "reused from prev-1", "b": "reused from prev-1",
                                                         "c": "built"}
    assert res[("b", "el7")].finished < res[("a", "el7")].finished <= res[("c", "el7")].started
