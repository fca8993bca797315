"""``pmrepo.schedule.plan``: the jobs ``--component`` asks for (each named component and what it needs
built first, per dist; a name no dist builds refused in one line), and the reuse plan — per dist what is
taken from the previous release, a taker only where something is, its steps named with the dist."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmrepo import manifest
from pmrepo.builders import BuildOutput
from pmrepo.checks.nevra import Predecessor
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.errors import UsageError
from pmrepo.layout import Layout
from pmrepo.progress import StepFn
from pmrepo.schedule import plan, reuse
from pmrepo.schedule.graph import BuildGraph
from pmrepo.schedule.plan import DistPlan, ReusePlan, component_selection, plan_reuse
from pmrepo.schedule.reuse import DistReuse, Reuse, TakenRpm


def _graph(dist: str, deps: dict[str, list[str]]) -> BuildGraph:
    return BuildGraph(dist, {c: frozenset(d) for c, d in deps.items()}, dict.fromkeys(deps, ()))


def _plans() -> dict[str, DistPlan]:
    release = manifest.load(DEMO_RELEASE)
    chain = {"libqb": [], "corosync": ["libqb"], "pacemaker": ["corosync", "libqb"], "crmsh": []}
    return {
        "el6": DistPlan(release.dists["el6"], {}, _graph("el6", {**chain, "el6-only": ["libqb"]})),
        "el7": DistPlan(release.dists["el7"], {}, _graph("el7", chain)),
    }


# -- --component -----------------------------------------------------------------------------------


def test_no_component_asked_is_every_job() -> None:
    assert component_selection(_plans(), [], ["el6", "el7"]) is None


def test_a_component_brings_what_it_needs_built_first_in_each_dist() -> None:
    got = component_selection(_plans(), ["pacemaker"], ["el6", "el7"])
    assert got == {(c, d) for c in ("pacemaker", "corosync", "libqb") for d in ("el6", "el7")}


def test_a_component_of_one_dist_only_is_asked_there() -> None:
    assert component_selection(_plans(), ["el6-only", "crmsh"], ["el6", "el7"]) == {
        ("el6-only", "el6"),
        ("libqb", "el6"),
        ("crmsh", "el6"),
        ("crmsh", "el7"),
    }


def test_a_component_no_dist_builds_is_a_one_line_error() -> None:
    plans = {"el7": _plans()["el7"]}
    with pytest.raises(UsageError) as info:
        component_selection(plans, ["el6-only", "nosuch"], ["el7"])
    assert str(info.value) == "--component el6-only, nosuch: not built for el7 — fix: choose another --dist"


# -- the reuse plan -----------------------------------------------------------------------------------


def _reuse(component: str, dist: str) -> Reuse:
    def rpm(name: str) -> TakenRpm:
        return TakenRpm(name, f"demo-repo-0.9-1.{dist}.x86_64.rpm", f"/opt/demo/rpm/{name}", "0" * 64)

    return Reuse(
        component, dist, "demo-repo-0.9-1", rpm(f"{component}-1-1.src.rpm"), (rpm(f"{component}-1-1.x86_64.rpm"),)
    )


class FakeTaker:
    def __init__(self, prev: Predecessor, scratch: Path, log: Path | None, step: StepFn) -> None:
        self.prev, self.scratch, self.log, self.step = prev, scratch, log, step
        self.taken: list[tuple[Reuse, Path]] = []
        self.closed = False

    def take(self, job: Reuse, dest: Path) -> BuildOutput:
        self.taken.append((job, dest))
        return BuildOutput(dest / job.srpm.name, (), ())

    def close(self) -> None:
        self.closed = True


def test_the_previous_output_not_found_is_said_and_nothing_is_taken(tmp_path: Path) -> None:
    release = manifest.load(DEMO_RELEASE)
    got = plan_reuse(
        release, _plans(), {}, tmp_path / "repo", Layout(release.release_id, tmp_path, tmp_path / "w"), _no_step
    )
    assert set(got.dists) == {"el6", "el7"} and got.takers == {} and got.jobs({("libqb", "el7"): None}) == {}
    (line6,) = [ln for ln in got.lines("  ") if ln.startswith("  el6:")]
    assert line6.startswith(
        f"  el6: nothing reused from the previous release: demo-repo-0.9-1 is not in {tmp_path / 'repo'}"
    )
    assert "fix: pass --upgrade-from DIR" in line6


@contextlib.contextmanager
def _no_step(label: str) -> Iterator[None]:
    yield


def test_a_dist_that_reuses_gets_a_taker_whose_steps_name_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = manifest.load(DEMO_RELEASE)
    prev = Predecessor(release, None, (), "", "")
    monkeypatch.setattr(plan, "predecessor_output", lambda rel, dist, root: prev)
    reused = {
        "el7": DistReuse("el7", "demo-repo-0.9-1", {"libqb": _reuse("libqb", "el7")}),
        "el6": DistReuse("el6", "x"),
    }
    monkeypatch.setattr(reuse, "plan_dist", lambda rel, dist, p, o, i, log: reused[dist.name])
    monkeypatch.setattr(plan, "Taker", FakeTaker)
    labels: list[str] = []

    @contextlib.contextmanager
    def step(label: str) -> Iterator[None]:
        labels.append(label)
        yield

    layout = Layout(release.release_id, tmp_path / "repo", tmp_path / "w")
    got = plan_reuse(release, _plans(), {}, tmp_path / "repo", layout, step)
    assert set(got.takers) == {"el7"}
    taker = got.takers["el7"]
    assert isinstance(taker, FakeTaker) and taker.prev is prev
    assert taker.scratch == layout.dist("el7").reuse_scratch and taker.log == layout.dist("el7").log("reuse.log")
    with taker.step("unpack"):
        pass
    assert labels == ["el7: unpack"]
    wanted = {("libqb", "el7"): object(), ("libqb", "el6"): object(), ("corosync", "el7"): object()}
    assert got.jobs(wanted) == {("libqb", "el7"): reused["el7"].reused["libqb"]}
    out = got.take(reused["el7"].reused["libqb"], tmp_path / "staging")
    assert out.srpm == tmp_path / "staging" / "libqb-1-1.src.rpm" and taker.taken[0][0].component == "libqb"
    got.close()
    assert taker.closed


def test_the_reuse_lines_are_each_dists(tmp_path: Path) -> None:
    release = manifest.load(DEMO_RELEASE)
    plans = _plans()
    graphs = {d: p.graph for d, p in plans.items()}
    got = ReusePlan(
        release,
        {"el7": DistReuse("el7", "demo-repo-0.9-1", {"libqb": _reuse("libqb", "el7")}, {"crmsh": "its spec changed"})},
        graphs,
    )
    assert got.lines() == [
        "el7: reused from demo-repo-0.9-1, not built (1): libqb",
        "el7: crmsh is built: its spec changed",
    ]
