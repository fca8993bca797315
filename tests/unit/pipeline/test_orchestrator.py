"""pmrepo.pipeline.orchestrator: the Pipeline's own decisions, on the demo manifest with a fake
builder and a collecting console: which options it refuses, what preflight finds, the options
that shape the output, the sources and jobs it asks for, a failed build's one line, and the
commands that refuse before they start. Nothing is rendered, parsed or built."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pmrepo.errors import BuildError, GateError, LockError, PmrepoError, SpecError, UnpinnedSourceError, UsageError
from pmrepo.lock import WorkdirLock
from pmrepo.manifest import Release, Source
from pmrepo.pipeline import orchestrator, preflight
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.render.specs import Origin, SpecInfo
from pmrepo.schedule.jobs import JobResult
from pmrepo.schedule.plan import DistPlan

from .fakes import DEMO, FakeBuilder, demo_plan


def pipeline(tmp_path: Path, release: Release = DEMO, **given: Any) -> tuple[Pipeline, list[str]]:
    out: list[str] = []
    opts = Options(release=release.path, workdir=tmp_path / "work", outdir=tmp_path / "out", **given)
    pipe = Pipeline(opts, say=out.append, release=release)
    pipe._builder = FakeBuilder()
    return pipe, out


@pytest.mark.parametrize(
    "given,line",
    [
        ({"jobs": 0}, "--jobs 0: must be 1 or more"),
        ({"force": frozenset({"*", "pacemaker"})}, "--force pacemaker: no such component in "),
        ({"components": ("libdemo", "nope")}, "--component nope: no such component in "),
        ({"dists": ("el7", "el8")}, "--dist el8: not a target of "),
    ],
)
def test_options_that_name_nothing_of_the_release_are_refused(tmp_path: Path, given: dict[str, Any], line: str) -> None:
    with pytest.raises(UsageError) as exc:
        pipeline(tmp_path, **given)
    msg = str(exc.value)
    assert msg.startswith(line) and "\n" not in msg, msg
    if "component" in line:
        assert msg.endswith(f"— fix: use one of {', '.join(DEMO.component_names())}"), msg
    elif "dist" in line:
        assert msg.endswith("— fix: use one of el6, el7"), msg
    else:
        assert msg == line


def test_the_dists_and_the_layout_of_a_run(tmp_path: Path) -> None:
    everything, _ = pipeline(tmp_path)
    assert [d.name for d in everything.dists] == list(DEMO.dists) == ["el6", "el7"]
    only, _ = pipeline(tmp_path, dists=("el7",), force=frozenset({"*"}), components=("demod",))
    assert [d.name for d in only.dists] == ["el7"]
    assert only.layout.work == tmp_path / "work" / DEMO.release_id and only.layout.outdir == tmp_path / "out"
    assert only.template_cache == tmp_path / "work" / "cache" / "templates" and only.signer is None


def test_the_builder_is_made_once_and_mocks_state_lives_in_the_work_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[str, dict[str, object]]] = []

    def get_builder(name: str, **options: object) -> FakeBuilder:
        made.append((name, options))
        return FakeBuilder(name)

    monkeypatch.setattr(orchestrator, "get_builder", get_builder)
    mock, _ = pipeline(tmp_path, backend="mock", backend_options={"keep_roots": True})
    mock._builder = None
    assert mock.builder is mock.builder
    assert made == [("mock", {"keep_roots": True, "state_dir": (tmp_path / "work" / "mock").resolve()})]
    plain, _ = pipeline(tmp_path, backend="rpmbuild", backend_options={"host_buildrequires": True})
    plain._builder = None
    assert plain.builder.name == "rpmbuild" and made[-1] == ("rpmbuild", {"host_buildrequires": True})
    assert plain.opts.backend_options == {"host_buildrequires": True}  # the run's options are not changed


def test_a_clean_preflight_finds_nothing(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path)
    assert pipe.preflight_problems() == []
    pipe.preflight()
    assert pipe._builder is not None and pipe._builder.checked_dists == ["el6", "el7"]  # type: ignore[attr-defined]


def test_preflight_finds_every_problem_and_raises_the_first(tmp_path: Path) -> None:
    libdemo, demod = DEMO.component("libdemo"), DEMO.component("demod")
    url = Source("https://user:pw@example.org/libdemo-1.2.tar.gz", None, None, "libdemo-1.2.tar.gz")
    comps = tuple(
        dataclasses.replace(c, sources=(url,))
        if c is libdemo
        else dataclasses.replace(c, spec=tmp_path / "gone.spec.j2")
        if c is demod
        else c
        for c in DEMO.components
    )
    late = dataclasses.replace(DEMO, components=comps, date=dt.date.today() + dt.timedelta(days=3))
    pipe, _ = pipeline(tmp_path, release=late)
    builder: FakeBuilder = pipe._builder  # type: ignore[assignment]
    builder.available_error = PmrepoError("rpmbuild is not installed — fix: make setup")
    builder.dists_error = PmrepoError("dists.el6.mirror: not reachable — fix: set it")
    found = pipe.preflight_problems()
    assert [type(e).__name__ for e in found] == [
        "ManifestError",
        "UnpinnedSourceError",
        "SpecError",
        "PmrepoError",
        "PmrepoError",
    ]
    unpinned = str(found[1])
    assert "components.libdemo.sources: 1 source(s) without sha256" in unpinned
    assert "pw@" not in unpinned and "example.org/libdemo-1.2.tar.gz" in unpinned
    assert "— fix: run `./build.py pin --release" in unpinned
    assert f"components.demod.spec: {tmp_path / 'gone.spec.j2'} does not exist" in str(found[2])
    with pytest.raises(PmrepoError) as exc:
        pipe.preflight()
    assert exc.value is not found[0] and str(exc.value) == str(found[0])  # the first: the date
    # only the chosen components' sources must be pinned (build --component)
    assert not any(isinstance(e, UnpinnedSourceError) for e in pipe.preflight_problems({"demod"}))
    assert any(isinstance(e, SpecError) for e in pipe.preflight_problems({"demod"}))


def test_upgrade_from_is_checked_only_with_a_container_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def previous(release: Release, dist: Any, root: Path) -> None:
        asked.append(dist.name)
        raise PmrepoError(f"{root}: no previous release for {dist.name} — fix: build it")

    monkeypatch.setattr(orchestrator, "previous_repo_packages", previous)
    none, _ = pipeline(tmp_path, upgrade_from=tmp_path / "prev")
    assert none.upgrade_from_problems() == [] and asked == []
    podman, _ = pipeline(tmp_path, upgrade_from=tmp_path / "prev", container="podman")
    (err,) = podman.upgrade_from_problems()
    assert str(err) == f"{tmp_path / 'prev'}: no previous release for el6 — fix: build it" and asked == ["el6"]
    assert [str(e) for e in podman.preflight_problems()] == [str(err)]  # among preflight's problems


def test_the_shaping_options_are_plain_data_without_credentials(tmp_path: Path) -> None:
    pipe, _ = pipeline(
        tmp_path,
        dists=("el7",),
        backend="mock",
        backend_options={"mirrors": {"base": "https://u:secret@mirror.example/centos/"}},
        upgrade_from=tmp_path / "prev",
        components=("demod",),
    )
    got = pipe.shaping_options()
    assert got == {
        "backend": "mock",
        "backendOptions": {"mirrors": {"base": "https://***@mirror.example/centos/"}},
        "components": ["demod"],
        "container": "none",
        "containerImage": None,
        "dists": ["el7"],
        "gates": True,
        "installCheck": True,
        "sign": False,
        "upgradeFrom": str(tmp_path / "prev"),
    }
    assert pipe.opts.backend_options["mirrors"] == {"base": "https://u:secret@mirror.example/centos/"}


def test_the_preflight_input_logs_into_an_existing_work_directory_only(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path)
    first = pipe.preflight_input()
    assert first.log is None and first.workdir == tmp_path / "work" and [d.name for d in first.dists] == ["el6", "el7"]
    (tmp_path / "work").mkdir()
    assert pipe.preflight_input().log == tmp_path / "work" / "logs" / "preflight.log"
    assert first.build_check() == ([], "sources pinned, specs present, backend fake available")
    pipe._builder.available_error = PmrepoError("no rpmbuild")  # type: ignore[union-attr]
    assert first.build_check() == (["no rpmbuild"], "")


def origins(pipe: Pipeline, vrs: dict[tuple[str, str], str]) -> None:
    """The lineage, written in: (component, dist) -> the version-release of the release it comes from."""
    pipe.__dict__["origins"] = {
        (c.name, d): Origin(DEMO.name, vrs.get((c.name, d), DEMO.vr), DEMO.date)
        for d in DEMO.dists
        for c in DEMO.components_for(d)
    }


def test_one_sources_directory_per_entry_unless_its_dists_builds_differ(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path)
    origins(pipe, {("libdemo", "el6"): "0.9-1"})
    libdemo, demod = DEMO.component("libdemo"), DEMO.component("demod")
    assert pipe.source_key(demod, "el6") == pipe.source_key(demod, "el7") == demod.key
    assert pipe.source_key(libdemo, "el6") == f"{libdemo.key}@0.9-1"
    assert pipe.source_key(libdemo, "el7") == f"{libdemo.key}@{DEMO.vr}"
    el7_only, _ = pipeline(tmp_path, dists=("el7",))
    origins(el7_only, {("libdemo", "el6"): "0.9-1"})
    assert el7_only.source_key(libdemo, "el7") == libdemo.key  # the other dist is not in this run


def info(name: str, packages: tuple[str, ...]) -> SpecInfo:
    return SpecInfo(Path(f"/s/{name}.spec"), name, packages, "1-1", {}, {}, ())


def test_the_jobs_carry_their_sources_origin_and_estimate_inputs(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path, dists=("el7",))
    origins(pipe, {("demod", "el7"): "0.9-1"})
    plan = demo_plan("el7")
    plans = {"el7": DistPlan(plan.dist, {"demod": info("demod", ("demod", "demod-devel"))}, plan.graph)}
    rendered = {("demod", "el7"): tmp_path / "demod.spec", ("libdemo", "el7"): tmp_path / "libdemo.spec"}
    demod = DEMO.component("demod")
    srcs: dict[str, tuple[Path, tuple[str, ...]]] = {demod.key: (tmp_path / "src", ("d1",))}
    jobs = pipe.job_specs(rendered, srcs, plans, only={("demod", "el7")})
    assert list(jobs) == [("demod", "el7")]
    job = jobs[("demod", "el7")]
    assert (job.component, job.dist.name, job.spec, job.sources, job.source_digests) == (
        "demod",
        "el7",
        tmp_path / "demod.spec",
        tmp_path / "src",
        ("d1",),
    )
    assert job.source_date_epoch == pipe.origins[("demod", "el7")].epoch
    assert (job.version, job.packages, job.weight) == (demod.version, 2, demod.weight.get("el7"))


class FakeScheduler:
    """Answers ``run`` with the results it is given."""

    results: ClassVar[dict[tuple[str, str], JobResult]] = {}

    def __init__(self, builder: Any, store: Any, n: int, *args: Any, **kw: Any) -> None:
        self.n = n
        self.reuse = kw["reuse"]

    def run(self, graphs: dict[str, Any], jobs: dict[tuple[str, str], Any]) -> dict[tuple[str, str], JobResult]:
        return self.results


class NoReuse:
    closed = False

    def jobs(self, wanted: Any) -> dict[tuple[str, str], Any]:
        return {}

    def take(self, job: Any, dest: Path) -> Any:
        raise AssertionError("nothing is taken")

    def lines(self) -> list[str]:
        return ["el7: nothing reused from demo-repo-0.9-1 (every entry is new or changed)"]

    def close(self) -> None:
        NoReuse.closed = True


def build_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, results: list[JobResult], builder: FakeBuilder | None = None
) -> tuple[Pipeline, list[str]]:
    pipe, out = pipeline(tmp_path, dists=("el7",), jobs=2)
    if builder is not None:
        pipe._builder = builder
    monkeypatch.setattr(FakeScheduler, "results", {(r.component, r.dist): r for r in results})
    monkeypatch.setattr(orchestrator, "Scheduler", FakeScheduler)
    monkeypatch.setattr(Pipeline, "reuse_plan", lambda self, plans: NoReuse())
    monkeypatch.setattr(Pipeline, "job_specs", lambda self, rendered, srcs, plans, only: dict.fromkeys(rendered))
    pipe.build({("libdemo", "el7"): Path("a"), ("demod", "el7"): Path("b")}, {}, {"el7": demo_plan("el7")})
    return pipe, out


def test_a_build_says_its_jobs_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    NoReuse.closed = False
    done = [JobResult("libdemo", "el7", "built", 1.0), JobResult("demod", "el7", "built", 2.0)]
    _, out = build_with(tmp_path, monkeypatch, done, FakeBuilder(unshippable="BuildRequires taken from the host"))
    assert out[0] == "el7: nothing reused from demo-repo-0.9-1 (every entry is new or changed)"
    assert out[1] == "building 2 jobs (2 components x 1 dists) with fake, 2 at a time"
    assert (
        "libdemo" in out[2]
        and out[3] == f"build logs: {tmp_path / 'work' / DEMO.release_id / 'logs' / 'build-summary.txt'}"
    )
    assert out[4] == "NOT SHIPPABLE: BuildRequires taken from the host"
    assert NoReuse.closed  # the previous release's packages are let go


def test_a_failed_build_is_one_line_naming_the_first_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "libdemo.log"
    failed = [
        JobResult("libdemo", "el7", "failed", 1.0, log=log, error="make: *** [all] Error 1"),
        JobResult("demod", "el7", "skipped"),
    ]
    with pytest.raises(BuildError) as exc:
        build_with(tmp_path, monkeypatch, failed)
    assert str(exc.value) == (
        f"1 build(s) failed, 1 skipped; first: libdemo (el7): make: *** [all] Error 1 (log: {log})"
    )
    named = [JobResult("libdemo", "el7", "failed", 1.0, log=log, error=f"see {log}")]
    with pytest.raises(BuildError) as exc:
        build_with(tmp_path, monkeypatch, named)
    assert str(exc.value).endswith(f"first: libdemo (el7): see {log}")  # the log is not named twice


def test_gate_refuses_a_dist_that_was_never_assembled(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path, install_check=False, gates=False)
    with pytest.raises(GateError) as exc:
        pipe.run_gate()
    where = tmp_path / "work" / DEMO.release_id / "el6"
    assert str(exc.value) == (
        f"{where}: nothing assembled for el6 — fix: run `./build.py all --release {DEMO.path}` first"
    )


def test_publish_without_a_mirror_is_refused_before_the_lock(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path)
    with pytest.raises(UsageError, match=r"^publish: no mirror given — fix: pass --target URL or set PUBLISH_TARGET$"):
        pipe.run_publish("")
    assert not (tmp_path / "work").exists()


def test_check_refuses_a_future_date_before_rendering(tmp_path: Path) -> None:
    late = dataclasses.replace(DEMO, date=dt.date.today() + dt.timedelta(days=1))
    pipe, out = pipeline(tmp_path, release=late)
    with pytest.raises(PmrepoError, match=r"release\.date: .* is after today"):
        pipe.run_check()
    assert out == []


def test_a_run_holds_the_work_and_the_output_directory(tmp_path: Path) -> None:
    pipe, _ = pipeline(tmp_path)
    with pipe.locked():
        for where, flag in ((tmp_path / "work", "--workdir"), (tmp_path / "out", "--outdir")):
            with pytest.raises(LockError, match=f"pass another {flag}"):
                WorkdirLock(where, "output directory" if flag == "--outdir" else "work directory").__enter__()
    with WorkdirLock(tmp_path / "out"):  # released
        pass


def test_run_preflight_asks_for_what_the_command_line_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[preflight.Needs] = []

    def check(inp: preflight.Input, needs: preflight.Needs) -> list[str]:
        seen.append(needs)
        return ["signing key X signs", "mirror /m reachable"]

    monkeypatch.setattr(preflight, "check", check)
    pipe, out = pipeline(tmp_path)
    got = pipe.run_preflight(sign=True, target="/m", container="podman", container_image="local")
    assert seen == [preflight.Needs(build=True, sign=True, target="/m", container="podman", container_image="local")]
    assert got == ["signing key X signs", "mirror /m reachable"]
    assert out == ["preflight: ok: signing key X signs", "preflight: ok: mirror /m reachable"]
