#!/usr/bin/env python3
"""Replay of the real scheduler against the optimal schedule, on the real release's DAG and the bench's.

Not a test, asserts nothing. Runs pmrepo's own ``Scheduler`` (its estimates,
its plan, its slot handling) over real job graphs with a builder that only
sleeps each job's time scaled down, and compares the makespan with the optimal
one (bench/optimal.py, CP-SAT) and with the bound max(critical path, work/slots):

* ``real``: ``plan`` of releases/1.1.14-1.1.toml, both dists together (28 jobs;
  offline: no source is fetched), with the components' measured build times
  (bench/durations.toml, where they come from is written there);
* ``bench``: bench/run.py's synthetic 12-job DAG, made by tests/synthetic.py
  with its real sources, with per-job times measured there (bench/durations.toml).

Each on 2, 4 and 8 slots, ``history`` false (a fresh work directory and an
empty host-wide history: the estimates are the manifest's weights, or the
static ones) and true (a fresh work directory, the host-wide history the run
before recorded). Two ways per case: ``sim`` runs the scheduler in simulated
time (a clock that moves only when every running job sleeps: deterministic,
immune to load) and ``real`` with real sleeps (``--scale``, default 0.05 for
the real DAG and 0.5 for the bench's; the makespan is the first job's start
to the last one's end, the plan's own seconds printed apart). Cases with
``"weights": false`` replay the real DAG with its manifest weights removed (the
static estimate alone).

Usage (from the checkout): python3 -m bench.schedule [--json] [--mode sim|real|both] [--repeat N]
       [--scale S] [--slots 2,4,8] [--dag real,bench] [--out bench/out/schedule]
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import shutil
import statistics
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from bench.optimal import Optimum, lower_bound, optimal_makespan
from pmrepo.builders import Builder, BuildOutput, BuildRequest
from pmrepo.manifest import Dist
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.progress import Console, Progress, table
from pmrepo.schedule.graph import BuildGraph
from pmrepo.schedule.jobs import JobResult, JobSpec
from pmrepo.schedule.scheduler import Clock, Scheduler
from pmrepo.schedule.store import Store
from pmrepo.schedule.timings import TimingHistory

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out" / "schedule"
DURATIONS = Path(__file__).resolve().parent / "durations.toml"
REAL_RELEASE = ROOT / "releases" / "1.1.14-1.1.toml"
SCALE = {"real": 0.05, "bench": 0.5}
Job = tuple[str, str]


def quiet(_: str) -> None:
    pass


class SimClock(Clock):
    """Simulated time for the scheduler and the sleeping builder: time moves (to the next
    wake-up, or to the scheduler's own timeout) only when the scheduler waits and every job it
    started sleeps, so the replay is the same on a loaded machine as on a quiet one."""

    def __init__(self) -> None:
        self._t = 0.0
        self._cv = threading.Condition()
        self._sleepers: list[tuple[float, int]] = []  # (wake-up, token)
        self._released: set[int] = set()
        self._tokens = 0

    def now(self) -> float:
        with self._cv:
            return self._t

    def wall(self) -> float:
        return self.now()

    def sleep(self, seconds: float) -> None:
        with self._cv:
            self._tokens += 1
            token = self._tokens
            heapq.heappush(self._sleepers, (self._t + seconds, token))
            self._cv.notify_all()
            while token not in self._released:
                self._cv.wait()
            self._released.discard(token)

    def _notify(self, _: object = None) -> None:
        with self._cv:
            self._cv.notify_all()

    def wait(self, running: Iterable[Future[JobResult]], timeout: float | None) -> set[Future[JobResult]]:
        futures = list(running)
        for f in futures:
            f.add_done_callback(self._notify)
        with self._cv:
            deadline = None if timeout is None else self._t + timeout
            while True:
                done = {f for f in futures if f.done()}
                if done:
                    return done
                if self._sleepers and len(self._sleepers) == len(futures):  # quiescent: move time
                    wake = self._sleepers[0][0]
                    if deadline is not None and deadline < wake:
                        self._t = deadline
                        return set()
                    self._t = max(self._t, wake)
                    while self._sleepers and self._sleepers[0][0] <= self._t:
                        self._released.add(heapq.heappop(self._sleepers)[1])
                    self._cv.notify_all()
                self._cv.wait(timeout=1.0)


class SleepBuilder(Builder):
    """Builds nothing: sleeps the job's time (on ``sleep``) and returns two placeholder files."""

    name = "replay"

    def __init__(self, seconds: Mapping[Job, float], sleep: Callable[[float], None]) -> None:
        self.seconds = seconds
        self.sleep = sleep

    def check_available(self) -> None:
        pass

    def config_id(self, dist: Dist) -> str:
        return "replay"

    def build_binary(self, req: BuildRequest, srpm: Path) -> BuildOutput:
        raise NotImplementedError("the replay builder's build() does everything")

    def build(self, req: BuildRequest) -> BuildOutput:
        self.sleep(self.seconds[(req.component, req.dist.name)])
        srpm = req.outdir / f"{req.component}-0-0.src.rpm"
        rpm = req.outdir / f"{req.component}-0-0.noarch.rpm"
        srpm.write_bytes(b"replay\n")
        rpm.write_bytes(b"replay\n")
        return BuildOutput(srpm, (rpm,), ())


@dataclass(frozen=True)
class Dag:
    name: str
    graphs: Mapping[str, BuildGraph]
    specs: Mapping[Job, JobSpec]
    seconds: Mapping[Job, float]  # each job's (unscaled) time

    @property
    def deps(self) -> dict[Job, list[Job]]:
        return {(c, d): [(x, d) for x in self.graphs[d].deps[c] if (x, d) in self.specs] for (c, d) in self.specs}


def _planned(release: Path, work: Path, fetch: bool) -> tuple[Pipeline, dict[str, BuildGraph], dict[Job, JobSpec]]:
    """render + plan (+ the sources when ``fetch``) of ``release``, as `build` does them."""
    p = Pipeline(Options(release=release, workdir=work, outdir=work / "out", install_check=False), say=quiet)
    rendered = p.render()
    plans = p.plan(rendered, strict=False)
    if fetch:
        srcs = p.fetch_sources()
    else:  # offline: the real release's sources are not here; an empty directory each
        empty = work / "no-sources"
        empty.mkdir(parents=True, exist_ok=True)
        srcs = {c.key: (empty, ()) for c in p.release.components}
    return p, {d: pl.graph for d, pl in plans.items()}, p.job_specs(rendered, srcs, plans)


def real_dag(out: Path, data: Mapping[str, object], weights: bool = True) -> Dag:
    _, graphs, specs = _planned(REAL_RELEASE, out / "plan-real", fetch=False)
    real = data["real"]
    assert isinstance(real, dict)
    seconds = {(c, d): float(real[d][c]) for (c, d) in specs}
    if not weights:
        specs = {j: dataclasses.replace(s, weight=None) for j, s in specs.items()}
    return Dag("real" if weights else "real (no weights)", graphs, specs, seconds)


def bench_dag(out: Path, data: Mapping[str, object]) -> Dag:
    from bench.run import DAG, WORK
    from tests.synthetic import make_release

    rel = make_release(out / "rel-bench", DAG, work=WORK, macros={"_smp_mflags": "-j1"})
    _, graphs, specs = _planned(rel, out / "plan-bench", fetch=True)
    bench = data["bench"]
    assert isinstance(bench, dict)
    seconds = {(c, d): float(bench["seconds"][c]) for (c, d) in specs}
    return Dag("bench", graphs, specs, seconds)


@dataclass(frozen=True)
class Replay:
    makespan: float  # first start to last end (seconds as replayed)
    planning: float  # seconds from run() to the first start (the estimates and the plan)


def replay(dag: Dag, slots: int, scale: float, work: Path, cache: Path, sim: bool) -> Replay:
    """One run of the real Scheduler over ``dag`` in a fresh work directory with the host-wide
    history in ``cache``; returns the makespan in replayed seconds."""
    shutil.rmtree(work, ignore_errors=True)
    clock: Clock = SimClock() if sim else Clock()
    sleep = clock.sleep if isinstance(clock, SimClock) else time.sleep
    seconds = {j: s * scale for j, s in dag.seconds.items()}
    sched = Scheduler(
        SleepBuilder(seconds, sleep),
        Store(work / "store"),
        slots,
        0,
        Progress(len(dag.specs), console=Console(quiet)),
        history=TimingHistory(cache / "timings.json", quiet),
        clock=clock,
    )
    t0 = clock.now()
    results = sched.run(dag.graphs, dag.specs)
    bad = [r for r in results.values() if r.status != "built"]
    if bad:
        raise SystemExit(f"bench.schedule: {bad[0].component} ({bad[0].dist}): {bad[0].status} {bad[0].error}")
    first = min(r.started for r in results.values())
    last = max(r.finished for r in results.values())
    wall_t0 = t0 if sim else time.time() - (clock.now() - t0)
    return Replay(last - first, max(0.0, first - wall_t0))


@dataclass
class Case:
    dag: str
    slots: int
    history: bool
    weights: bool
    optimum: Optimum
    bound: float
    sim: float | None = None  # makespan in simulated seconds (unscaled)
    real: list[float] = dataclasses.field(default_factory=list)  # makespans with real sleeps (unscaled)
    planning: list[float] = dataclasses.field(default_factory=list)  # the plan's own seconds, real mode

    def to_json(self) -> dict[str, object]:
        opt = self.optimum.makespan
        measured = statistics.median(self.real) if self.real else self.sim
        assert measured is not None
        out: dict[str, object] = {
            "dag": self.dag,
            "slots": self.slots,
            "history": self.history,
            "weights": self.weights,
            "scheduler_over_optimal": round(measured / opt, 4),
            "optimal_over_bound": round(opt / self.bound, 4),
            "optimal_seconds": round(opt, 2),
            "optimal_proven": self.optimum.proven,
            "bound_seconds": round(self.bound, 2),
        }
        if self.sim is not None:
            out["simulated_over_optimal"] = round(self.sim / opt, 4)
        if self.real:
            out["real_sleeps_over_optimal"] = [round(r / opt, 4) for r in self.real]
            out["planning_seconds"] = round(statistics.median(self.planning), 3)
        return out


def run_cases(args: argparse.Namespace, out: Path, say: Callable[[str], None]) -> list[Case]:
    data = tomllib.loads(DURATIONS.read_text())
    dags: list[Dag] = []
    for name in args.dag:
        if name == "real":
            dags += [real_dag(out, data), real_dag(out, data, weights=False)]
        elif name == "bench":
            dags.append(bench_dag(out, data))
    cases: list[Case] = []
    for dag in dags:
        base = dag.name.split()[0]
        scale = args.scale if args.scale is not None else SCALE[base]
        for slots in args.slots:
            t0 = time.monotonic()
            opt = optimal_makespan(dag.seconds, dag.deps, slots, time_limit=args.solver_seconds)
            say(
                f"{dag.name}, {slots} slots: optimal {opt.makespan:.1f}s{'' if opt.proven else ' (not proven)'} "
                f"({time.monotonic() - t0:.1f}s to solve)"
            )
            pair = [
                Case(base, slots, h, dag.name == base, opt, lower_bound(dag.seconds, dag.deps, slots))
                for h in (False, True)
            ]
            modes = ("sim", "real") if args.mode == "both" else (args.mode,)
            for mode in modes:
                for rep in range(args.repeat if mode == "real" else 1):
                    cache = out / "cache" / f"{base}-{slots}-{mode}-{rep}"
                    shutil.rmtree(cache, ignore_errors=True)
                    for case in pair:  # without history first: it records the history the second uses
                        r = replay(dag, slots, scale, out / "work", cache, sim=mode == "sim")
                        if mode == "sim":
                            case.sim = r.makespan / scale
                        else:
                            case.real.append(r.makespan / scale)
                            case.planning.append(r.planning)
                        say(
                            f"  {mode} history={'yes' if case.history else 'no'}: "
                            f"{r.makespan / scale / opt.makespan:.3f} of optimal"
                        )
            cases += pair
    return cases


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help='print {"cases": [...]} only')
    ap.add_argument("--mode", choices=("sim", "real", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=3, help="real-sleep runs per case (the median is reported)")
    ap.add_argument("--scale", type=float, default=None, help="sleep = job time x this (default: real 0.05, bench 0.5)")
    ap.add_argument("--slots", type=lambda s: [int(x) for x in s.split(",")], default=[2, 4, 8])
    ap.add_argument("--dag", type=lambda s: s.split(","), default=["real", "bench"])
    ap.add_argument("--solver-seconds", type=float, default=60.0, help="CP-SAT's time limit per optimum")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.repeat < 1 or any(s < 1 for s in args.slots) or set(args.dag) - {"real", "bench"}:
        ap.error("--repeat and --slots: at least 1; --dag: real and/or bench")
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else (lambda s: print(s, flush=True))
    t0 = time.monotonic()
    cases = run_cases(args, out, say)
    doc = [c.to_json() for c in cases]
    if args.json:
        print(json.dumps({"cases": doc}, indent=1))
        return 0
    rows = []
    for c, d in zip(cases, doc, strict=True):
        rows.append(
            (
                c.dag + ("" if c.weights else " (no weights)"),
                c.slots,
                "yes" if c.history else "no",
                f"{d.get('simulated_over_optimal', '-')}",
                f"{d['scheduler_over_optimal']}" if c.real else "-",
                f"{d['optimal_over_bound']}",
                f"{c.optimum.makespan:.1f}{'' if c.optimum.proven else '?'}",
                "<= 1.05",
                "met" if d["scheduler_over_optimal"] <= 1.05 else "NOT met",  # type: ignore[operator]
            )
        )
    print(
        table(["dag", "slots", "history", "sim/opt", "sleeps/opt", "opt/bound", "optimal s", "target", "verdict"], rows)
    )
    print(f"bench.schedule: {time.monotonic() - t0:.0f}s; sleeps/opt: median of {args.repeat} real-sleep runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
