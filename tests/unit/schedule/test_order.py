"""The scheduler's plan and slot holding, and the real Scheduler run in simulated time
(bench/schedule.py's clock and sleeping builder): deterministic, no rpmbuild, no sleeps."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from bench.schedule import SimClock, SleepBuilder
from pmrepo.manifest import Dist
from pmrepo.progress import Console, Progress
from pmrepo.schedule.graph import BuildGraph
from pmrepo.schedule.jobs import JobResult, JobSpec
from pmrepo.schedule.order import expected_end, hold, make_plan, review_at, tails
from pmrepo.schedule.scheduler import Scheduler
from pmrepo.schedule.store import Store
from pmrepo.schedule.timings import TimingHistory

EL7 = Dist("el7", ".el7", 7, {}, (), {}, "centos:7")
# bench/run.py's DAG with times measured one job at a time: its optimal 2-slot schedule keeps
# a slot idle for 0.95 s (a4 done, core not yet) so that a1 and a2 start together when core ends
BENCH = {"core": [], "util": [], "solo": [], "a1": ["core"], "a2": ["core"], "a3": ["core", "util"],
         "a4": ["util"], "b1": ["a1"], "b2": ["a2", "a3"], "b3": ["a4"], "c1": ["b1", "b2"], "top": ["c1", "b3"]}
SECONDS = {"core": 8.03, "util": 4.02, "solo": 5.29, "a1": 4.13, "a2": 6.84, "a3": 4.13, "a4": 3.06, "b1": 5.66,
           "b2": 4.34, "b3": 6.61, "c1": 5.63, "top": 4.88}
OPTIMUM = 32.02  # CP-SAT's, proven (tests/unit/bench/test_optimal.py)


def test_tails_are_the_longest_chain_below() -> None:
    t = tails(SECONDS, BENCH)
    assert t["top"] == 4.88 and t["core"] == pytest.approx(8.03 + 6.84 + 4.34 + 5.63 + 4.88)


def test_the_plan_keeps_a_slot_idle_where_that_is_optimal() -> None:
    plan = make_plan(SECONDS, BENCH, 2)
    assert plan.makespan == pytest.approx(OPTIMUM)
    assert plan.start["a1"] == plan.start["a2"] == pytest.approx(8.03)
    assert plan.order == tuple(sorted(plan.order, key=lambda j: plan.start[j]))


def test_the_plan_of_one_slot_is_the_critical_path_order() -> None:
    plan = make_plan({"solo": 1.0, "x1": 1.0, "x2": 1.0, "x3": 1.0}, {"x2": ["x1"], "x3": ["x2"]}, 1)
    assert plan.order[:2] == ("x1", "x2")


@pytest.mark.parametrize("seconds,blockers,finishing,free,held", [
    (6.61, [8.03, 8.03, 8.03], [8.03], 1, True),  # b3 at 7.08 would delay a1/a2 by 5.7 s; idle 0.95 s
    (3.2, [6.5, 6.5, 6.5], [6.5], 1, False),  # idle 2.5 s to save 0.7 s: start it
    (6.61, [8.03], [8.03], 1, False),  # the blocker gets the slot its dependency frees
    (6.61, [8.03, 8.03], [8.03], 2, False),  # another free slot for the second one
    (0.5, [8.03, 8.03, 8.03], [8.03], 1, False),  # done before anyone needs the slot
    (6.61, [], [], 1, False),
])
def test_hold(seconds: float, blockers: list[float], finishing: list[float], free: int, held: bool) -> None:
    assert hold(seconds, 7.08, free, blockers, finishing) is held


def test_a_late_job_is_expected_any_moment_then_unknown() -> None:
    assert expected_end(0.0, 10.0, 4.0) == 10.0
    assert expected_end(0.0, 10.0, 12.0) == 12.0
    assert expected_end(0.0, 10.0, 16.0) is None
    assert review_at(0.0, 10.0, 4.0) == 10.0 and review_at(0.0, 10.0, 12.0) == 15.0
    assert review_at(0.0, 10.0, 16.0) is None


def run(tmp_path: Path, dag: Mapping[str, list[str]], seconds: Mapping[str, float], slots: int,
        cache: Path, store: str = "store", sizes: Mapping[str, int] | None = None) -> dict[str, JobResult]:
    graph = BuildGraph("el7", {c: frozenset(d) for c, d in dag.items()}, dict.fromkeys(dag, ()))
    spec = tmp_path / "x.spec"
    spec.write_text("Name: x\n")
    specs = {}
    for c in dag:
        src = tmp_path / "src" / c
        src.mkdir(parents=True, exist_ok=True)
        (src / "s.tar").write_bytes(b"x" * (sizes or {}).get(c, 100))
        specs[(c, "el7")] = JobSpec(c, EL7, spec, src, (), version="1", packages=1)
    clock = SimClock()
    sched = Scheduler(SleepBuilder({(c, "el7"): s for c, s in seconds.items()}, clock.sleep), Store(tmp_path / store),
                      slots, 0, Progress(len(specs), console=Console(lambda s: None)),
                      history=TimingHistory(cache / "timings.json", lambda s: None), clock=clock)
    return {c: r for (c, _), r in sched.run({"el7": graph}, specs).items()}


def makespan(res: Mapping[str, JobResult]) -> float:
    return max(r.finished for r in res.values()) - min(r.started for r in res.values())


def test_with_the_host_history_a_fresh_work_directory_reaches_the_optimum(tmp_path: Path) -> None:
    """The first run (no history) records every job's time in the host-wide history; a second
    run in another, empty work directory plans with them: the optimal schedule, idle slot and
    all — which no scheduler that starts a ready job whenever a slot is free reaches."""
    cache = tmp_path / "cache"
    first = run(tmp_path, BENCH, SECONDS, 2, cache, store="w1")
    assert all(r.status == "built" for r in first.values())
    recorded = TimingHistory(cache / "timings.json").load()
    assert recorded[("core", "1", "el7", "replay")].seconds == pytest.approx((8.03,))
    second = run(tmp_path, BENCH, SECONDS, 2, cache, store="w2")
    assert makespan(second) == pytest.approx(OPTIMUM)
    assert second["a1"].started == second["a2"].started == pytest.approx(8.03)
    for c, deps in BENCH.items():  # dependencies first, never more than two at once
        assert all(second[d].finished <= second[c].started + 1e-9 for d in deps)
    for t in {r.started for r in second.values()}:
        assert sum(1 for r in second.values() if r.started <= t < r.finished) <= 2


def test_without_history_the_sources_size_orders_the_jobs(tmp_path: Path) -> None:
    """Two chains of equal depth: the one with the big sources (and the long builds) first."""
    dag = {"a1": [], "a2": ["a1"], "b1": [], "b2": ["b1"]}
    seconds = {"a1": 1.0, "a2": 1.0, "b1": 10.0, "b2": 10.0}
    res = run(tmp_path, dag, seconds, 1, tmp_path / "cache", sizes={"b1": 100_000, "b2": 100_000})
    assert res["b1"].started == 0.0


def test_a_late_job_does_not_hold_a_slot_for_ever(tmp_path: Path) -> None:
    """The history says core takes 8.03 s, this time it takes 30: the slot held for a1 and a2
    when a4 ends (7.08) goes to the next ready job once core is 1.5 times its estimate late."""
    cache = tmp_path / "cache"
    run(tmp_path, BENCH, SECONDS, 2, cache, store="w1")
    res = run(tmp_path, BENCH, {**SECONDS, "core": 30.0}, 2, cache, store="w2")
    assert res["a4"].finished == pytest.approx(7.08)
    after = min(r.started for c, r in res.items() if c in ("b3", "solo"))
    assert after == pytest.approx(1.5 * 8.03)
