"""``pmrepo.schedule.scheduler``: the job key (every input that changes a build changes it), the store
(whole entries by rename, each RPM's sha256 recorded and checked again on reuse, a damaged entry
discarded with one line), and a run's decisions with a builder that only writes files: dependencies
first, a failure skips what needs it, an unchanged key is not built again unless forced, a reused job
taken rather than built. ``rpm -K`` is replaced where an entry is read back (the files are no RPMs);
the ordering in time is tests/unit/schedule/test_order.py's."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from pmrepo.builders import Builder, BuildOutput, BuildRequest
from pmrepo.checks import integrity
from pmrepo.errors import BuildError, PmrepoError
from pmrepo.manifest import Dist
from pmrepo.progress import Console, Progress
from pmrepo.schedule.graph import BuildGraph
from pmrepo.schedule.reuse import Reuse, TakenRpm
from pmrepo.schedule.scheduler import JobResult, JobSpec, Scheduler, Store, Take, job_key, summary

EL7 = Dist("el7", ".el7", 7, {}, (), {}, "centos:7")
EL6 = Dist("el6", ".el6", 6, {}, (), {}, "centos:6")


@pytest.fixture
def digests_ok(monkeypatch: pytest.MonkeyPatch) -> list[list[Path]]:
    """``rpm -K`` says every file is intact (the recorded sha256 is still checked); the calls are kept."""
    calls: list[list[Path]] = []

    def fake(rpms: list[Path], **kw: object) -> dict[Path, str]:
        calls.append(list(rpms))
        return {}

    monkeypatch.setattr(integrity, "rpm_digests", fake)
    return calls


def _spec(tmp_path: Path, component: str = "a", dist: Dist = EL7, text: str = "Name: a\n") -> JobSpec:
    spec = tmp_path / "specs" / f"{component}-{dist.name}.spec"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(text)
    return JobSpec(component, dist, spec, tmp_path / "src", ("sha-of-a-tarball",), version="1", packages=1)


# -- the job key ---------------------------------------------------------------------------------


def test_every_input_of_a_build_changes_its_key(tmp_path: Path) -> None:
    job = _spec(tmp_path)
    key = job_key(job, "rpmbuild;x", ["k1", "k2"], 100)
    assert key == job_key(job, "rpmbuild;x", ["k2", "k1"], 100)  # dependency order does not matter
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    other = [
        job_key(job, "rpmbuild;y", ["k1", "k2"], 100),
        job_key(job, "rpmbuild;x", ["k1"], 100),
        job_key(job, "rpmbuild;x", ["k1", "k2"], 101),
        job_key(JobSpec("a", EL7, job.spec, job.sources, ("other",)), "rpmbuild;x", ["k1", "k2"], 100),
        job_key(JobSpec("a", EL6, job.spec, job.sources, job.source_digests), "rpmbuild;x", ["k1", "k2"], 100),
    ]
    job.spec.write_text("Name: a\nRelease: 2\n")
    other.append(job_key(job, "rpmbuild;x", ["k1", "k2"], 100))
    assert len({key, *other}) == len(other) + 1
    # what the estimate reads is no input of the build
    same = JobSpec("a", EL7, job.spec, job.sources, job.source_digests, version="9", weight=3.0, packages=7)
    assert job_key(same, "b", [], 1) == job_key(job, "b", [], 1)


# -- the store -------------------------------------------------------------------------------------


def _built(staging: Path, *names: str) -> BuildOutput:
    for n in names:
        (staging / n).write_bytes(f"{n}\n".encode())
    (staging / "build.log").write_text("log\n")
    return BuildOutput(staging / names[0], tuple(staging / n for n in names[1:]), (staging / "build.log",))


def test_a_committed_entry_records_every_rpm_and_reads_back(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    store = Store(tmp_path / "store")
    staging = store.staging("el7", "a")
    assert staging == tmp_path / "store" / ".tmp" / "el7" / "a" and list(staging.iterdir()) == []
    out = store.commit(staging, "el7", "a", "k1", {"seconds": 2.5}, _built(staging, "a.src.rpm", "a.x86_64.rpm"))
    entry = tmp_path / "store" / "el7" / "a" / "k1"
    assert out == BuildOutput(entry / "a.src.rpm", (entry / "a.x86_64.rpm",), (entry / "build.log",))
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["rpms"] == {n: hashlib.sha256(f"{n}\n".encode()).hexdigest() for n in ("a.src.rpm", "a.x86_64.rpm")}
    assert (meta["srpm"], meta["binary"], meta["logs"], meta["seconds"]) == (
        "a.src.rpm",
        ["a.x86_64.rpm"],
        ["build.log"],
        2.5,
    )
    assert not staging.exists()
    assert store.lookup("el7", "a", "k1") == out
    assert digests_ok == [[entry / "a.src.rpm", entry / "a.x86_64.rpm"]]
    assert store.lookup("el7", "a", "other-key") is None


def test_a_forced_rebuild_replaces_the_entry(tmp_path: Path, digests_ok: list[list[Path]]) -> None:
    store = Store(tmp_path / "store")
    first = store.staging("el7", "a")
    store.commit(first, "el7", "a", "k1", {}, _built(first, "a.src.rpm", "old.x86_64.rpm"))
    second = store.staging("el7", "a")
    out = store.commit(second, "el7", "a", "k1", {}, _built(second, "a.src.rpm", "new.x86_64.rpm"))
    assert [p.name for p in out.rpms] == ["new.x86_64.rpm"]
    assert sorted(p.name for p in out.srpm.parent.iterdir()) == [
        "a.src.rpm",
        "build.log",
        "meta.json",
        "new.x86_64.rpm",
    ]
    assert not (tmp_path / "store" / ".tmp" / "replaced" / "el7" / "a").exists()


def test_a_builder_output_outside_its_directory_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    staging = store.staging("el7", "a")
    (tmp_path / "elsewhere.rpm").write_bytes(b"x")
    out = BuildOutput(tmp_path / "elsewhere.rpm", (), ())
    with pytest.raises(PmrepoError, match=r"^a \(el7\): the builder returned .*elsewhere\.rpm, outside its output"):
        store.commit(staging, "el7", "a", "k1", {}, out)
    assert not (tmp_path / "store" / "el7").exists()


@pytest.mark.parametrize(
    "damage, problem",
    [
        ("changed", r"a\.x86_64\.rpm has sha256 [0-9a-f]{16}…, meta\.json records [0-9a-f]{16}…"),
        ("removed", r"a\.x86_64\.rpm is missing"),
        ("added", r"extra\.rpm is not recorded in meta\.json"),
        ("no meta", r"meta\.json is missing or unreadable"),
        ("no checksums", r"meta\.json records no RPM checksums"),
        ("no srpm", r"meta\.json does not say which RPM is the SRPM and which are binary"),
    ],
)
def test_a_damaged_entry_is_discarded_with_one_line(
    tmp_path: Path, digests_ok: list[list[Path]], damage: str, problem: str
) -> None:
    store = Store(tmp_path / "store")
    staging = store.staging("el7", "a")
    out = store.commit(staging, "el7", "a", "k1", {}, _built(staging, "a.src.rpm", "a.x86_64.rpm"))
    entry = out.srpm.parent
    meta = json.loads((entry / "meta.json").read_text())
    if damage == "changed":
        (entry / "a.x86_64.rpm").write_bytes(b"tampered\n")
    elif damage == "removed":
        (entry / "a.x86_64.rpm").unlink()
    elif damage == "added":
        (entry / "extra.rpm").write_bytes(b"x")
    elif damage == "no meta":
        (entry / "meta.json").unlink()
    else:
        meta.pop("rpms" if damage == "no checksums" else "srpm")
        (entry / "meta.json").write_text(json.dumps(meta))
    said: list[str] = []
    assert store.lookup("el7", "a", "k1", said.append) is None
    assert not entry.exists()
    (line,) = said
    assert line.startswith("build store: ") and line.endswith(f": entry {entry} discarded, rebuilding a (el7)")
    assert re.search(problem, line)


def test_an_entry_rpm_k_refuses_is_discarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "store")
    staging = store.staging("el7", "a")
    out = store.commit(staging, "el7", "a", "k1", {}, _built(staging, "a.src.rpm", "a.x86_64.rpm"))
    monkeypatch.setattr(integrity, "rpm_digests", lambda rpms, **kw: {out.rpms[0]: "digests NOT OK"})
    said: list[str] = []
    assert store.lookup("el7", "a", "k1", said.append) is None
    assert said == [
        f"build store: {out.rpms[0]}: digests NOT OK: entry {out.srpm.parent} discarded, rebuilding a (el7)"
    ]


def test_the_newest_stored_build_says_how_long_it_took(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert store.last_seconds("el7", "a") is None
    for key, seconds, mtime in (("old", 50.0, 1000), ("new", 0.01, 2000), ("bad", "x", 500)):
        meta = tmp_path / "store" / "el7" / "a" / key / "meta.json"
        meta.parent.mkdir(parents=True)
        meta.write_text(json.dumps({"seconds": seconds}))
        os.utime(meta, (mtime, mtime))
    assert store.last_seconds("el7", "a") == 0.1  # at least 0.1 s
    (tmp_path / "store" / "el7" / "a" / "new" / "meta.json").write_text("{not json")
    assert store.last_seconds("el7", "a") is None


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
    specs = {(c, "el7"): _spec(tmp_path, c, text=f"Name: {c}\n") for c in dag}
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
