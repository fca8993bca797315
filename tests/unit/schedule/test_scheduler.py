"""``pmrepo.schedule.scheduler``: a run's decisions with a builder that only writes files: dependencies
first, a failure skips what needs it, an unchanged key is not built again unless forced, a reused job
taken rather than built; the summary. ``rpm -K`` is replaced where an entry is read back; the ordering
in time is tests/unit/schedule/test_order.py's (the key: test_jobs.py, the store: test_store.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path

from pmrepo.builders import Builder, BuildOutput, BuildRequest
from pmrepo.errors import BuildError
from pmrepo.manifest import Dist
from pmrepo.progress import Console, Progress
from pmrepo.schedule.graph import BuildGraph
from pmrepo.schedule.jobs import JobResult, Take
from pmrepo.schedule.reuse import Reuse, TakenRpm
from pmrepo.schedule.scheduler import Scheduler, summary
from pmrepo.schedule.store import Store

from .jobs_for_tests import spec_job

# -- a run ---------------------------------------------------------------------------------------------


class Writer(Builder):
    """Builds by writing an SRPM and an RPM; ``fail`` components raise ``error``; records each request."""

    name = "writer"

    def __init__(self, fail: Mapping[str, Exception] | None = None) -> None:
        self.fail = dict(fail or {})
        self.requests: list[BuildRequest] = []
        self.lock = threading.Lock()

    def config_id(self, dist: Dist) -> str:
        return "writer"

    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        raise NotImplementedError

    def build(self, req: BuildRequest) -> BuildOutput:
        with self.lock:
            self.requests.append(req)
        (req.outdir / "build.log").write_text(f"building {req.component}\n")
        if req.component in self.fail:
            raise self.fail[req.component]
        srpm = req.outdir / f"{req.component}-1-1.src.rpm"
        rpm = req.outdir / f"{req.component}-1-1.{req.dist.name}.x86_64.rpm"
        srpm.write_bytes(f"{req.component} srpm\n".encode())
        rpm.write_bytes(f"{req.component} rpm {req.source_date_epoch}\n".encode())
        return BuildOutput(srpm, (rpm,), (req.log,))


DAG = {"libqb": [], "corosync": ["libqb"], "pacemaker": ["corosync", "libqb"], "crmsh": []}


def _run(
    tmp_path: Path,
    builder: Builder,
    dag: Mapping[str, list[str]] = DAG,
    force: frozenset[str] = frozenset(),
    reuse: Mapping[tuple[str, str], Reuse] | None = None,
    take: Take | None = None,
) -> dict[str, JobResult]:
    graph = BuildGraph("el7", {c: frozenset(d) for c, d in dag.items()}, dict.fromkeys(dag, ()))
    specs = {(c, "el7"): spec_job(tmp_path, c, text=f"Name: {c}\n") for c in dag}
    progress = Progress(len(specs), console=Console(lambda line: None))
    sched = Scheduler(
        builder, Store(tmp_path / "store"), 2, 1_700_000_000, progress, force, reuse=reuse or {}, take=take
    )
    return {c: r for (c, _), r in sched.run({"el7": graph}, specs).items()}


def test_dependencies_are_built_first_and_given_to_the_build(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    builder = Writer()
    res = _run(tmp_path, builder)
    assert {c: r.status for c, r in res.items()} == dict.fromkeys(DAG, "built")
    order = [r.component for r in builder.requests]
    assert order.index("libqb") < order.index("corosync") < order.index("pacemaker")
    deps = {r.component: sorted(p.name for p in r.dep_rpms) for r in builder.requests}
    assert deps["pacemaker"] == ["corosync-1-1.el7.x86_64.rpm", "libqb-1-1.el7.x86_64.rpm"]
    assert deps["libqb"] == [] and deps["crmsh"] == []
    assert all(r.source_date_epoch == 1_700_000_000 for r in builder.requests)
    assert res["pacemaker"].entry == tmp_path / "store" / "el7" / "pacemaker" / res["pacemaker"].key
    assert [p.name for p in res["pacemaker"].rpms] == ["pacemaker-1-1.el7.x86_64.rpm", "pacemaker-1-1.src.rpm"]
    entry = res["pacemaker"].entry
    assert entry is not None
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["deps"] == deps["pacemaker"] and meta["backend"] == "writer" and meta["shippable"] is True


def test_a_failure_skips_what_needs_it_and_keeps_its_logs(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    res = _run(tmp_path, Writer({"libqb": BuildError("libqb (el7): rpmbuild exited 1")}))
    assert res["libqb"].status == "failed" and res["libqb"].error == "libqb (el7): rpmbuild exited 1"
    failed = tmp_path / "store" / "failed" / "el7" / "libqb"
    assert res["libqb"].log == failed / "build.log" and (failed / "build.log").read_text() == "building libqb\n"
    assert (res["corosync"].status, res["corosync"].error) == ("skipped", "dependency libqb failed")
    assert (res["pacemaker"].status, res["pacemaker"].error) == ("skipped", "dependency corosync failed")
    assert res["crmsh"].status == "built"
    assert not (tmp_path / "store" / "el7" / "libqb").exists()


def test_an_unexpected_exception_is_a_failed_job_not_a_crash(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    res = _run(tmp_path, Writer({"crmsh": KeyError("boom")}), {"crmsh": []})
    assert res["crmsh"].status == "failed" and res["crmsh"].error == "KeyError: 'boom'"


def test_an_unchanged_key_is_reused_unless_forced(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    first = _run(tmp_path, Writer())
    again = Writer()
    second = _run(tmp_path, again)
    assert again.requests == [] and {r.status for r in second.values()} == {"reused"}
    assert {c: r.key for c, r in second.items()} == {c: r.key for c, r in first.items()}
    forced = Writer()
    third = _run(tmp_path, forced, force=frozenset({"corosync"}))
    assert [r.component for r in forced.requests] == ["corosync"] and third["corosync"].status == "built"
    everything = Writer()
    _run(tmp_path, everything, force=frozenset({"*"}))
    assert sorted(r.component for r in everything.requests) == sorted(DAG)


def test_a_reused_job_is_taken_and_waits_for_nothing(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    src = TakenRpm("libqb-1-1.src.rpm", "demo-repo-src.rpm", "/opt/x/libqb-1-1.src.rpm", "0" * 64)
    rpm = TakenRpm("libqb-1-1.el7.x86_64.rpm", "demo-repo.rpm", "/opt/x/libqb-1-1.el7.x86_64.rpm", "1" * 64)
    job = Reuse("libqb", "el7", "demo-repo-0.9-1", src, (rpm,))
    taken: list[Path] = []

    def take(reuse: Reuse, dest: Path) -> BuildOutput:
        taken.append(dest)
        for f in reuse.files:
            (dest / f.name).write_bytes(b"from the previous release\n")
        (dest / "reused-from.txt").write_text("where\n")
        return BuildOutput(dest / src.name, (dest / rpm.name,), (dest / "reused-from.txt",))

    builder = Writer()
    res = _run(tmp_path, builder, reuse={("libqb", "el7"): job}, take=take)
    assert "libqb" not in [r.component for r in builder.requests] and len(taken) == 1
    assert res["libqb"].status == "reused" and res["libqb"].shown == "reused from demo-repo-0.9-1"
    assert res["libqb"].key == job.key
    entry = res["libqb"].entry
    assert entry is not None
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["backend"] == "reused" and meta["reused_from"]["release"] == "demo-repo-0.9-1"
    deps = {r.component: [p.name for p in r.dep_rpms] for r in builder.requests}
    assert deps["corosync"] == ["libqb-1-1.el7.x86_64.rpm"]  # the taken RPMs are what it builds against


def test_a_reuse_that_fails_is_a_failed_job(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    src = TakenRpm("libqb-1-1.src.rpm", "r.rpm", "/x", "0" * 64)
    job = Reuse("libqb", "el7", "demo-repo-0.9-1", src, ())

    def take(reuse: Reuse, dest: Path) -> BuildOutput:
        raise BuildError("not reused from demo-repo-0.9-1: its build.json is gone — fix: restore it")

    res = _run(tmp_path, Writer(), reuse={("libqb", "el7"): job}, take=take)
    assert res["libqb"].status == "failed" and res["libqb"].shown == "failed (not reused from demo-repo-0.9-1)"
    assert res["libqb"].error.endswith("— fix: restore it") and res["corosync"].status == "skipped"


# -- results and the summary ------------------------------------------------------------------------------


def test_the_summary_is_sorted_by_dist_then_component(tmp_path: Path) -> None:
    results = {
        ("b", "el7"): JobResult("b", "el7", "built", 12.34, log=tmp_path / "b.log"),
        ("a", "el7"): JobResult("a", "el7", "failed", 1.0),
        ("z", "el6"): JobResult("z", "el6", "skipped"),
    }
    text = summary(results, tmp_path / "logs" / "summary.txt")
    assert text.splitlines() == [
        "component  dist  status   time",
        "---------  ----  -------  -----",
        "z          el6   skipped  0.0s",
        "a          el7   failed   1.0s",
        "b          el7   built    12.3s",
    ]
    logged = (tmp_path / "logs" / "summary.txt").read_text().splitlines()
    assert logged[0].split() == ["component", "dist", "status", "log"] and logged[-1].split()[-1] == str(
        tmp_path / "b.log"
    )
    assert JobResult("a", "el7", "built").rpms == [] and JobResult("a", "el7", "built").srpm is None


def test_a_reused_job_is_taken_even_when_its_dependency_fails(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    src = TakenRpm("corosync-1-1.src.rpm", "r.rpm", "/x/corosync-1-1.src.rpm", "0" * 64)
    job = Reuse("corosync", "el7", "demo-repo-0.9-1", src, ())

    def take(reuse: Reuse, dest: Path) -> BuildOutput:
        (dest / src.name).write_bytes(b"srpm\n")
        return BuildOutput(dest / src.name, (), ())

    res = _run(tmp_path, Writer({"libqb": BuildError("libqb failed")}), reuse={("corosync", "el7"): job}, take=take)
    assert res["corosync"].status == "reused"  # not built against anything: it needs no build of libqb
    assert (res["pacemaker"].status, res["pacemaker"].error) == ("skipped", "dependency libqb failed")
