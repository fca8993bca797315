"""The optimal makespan of a job DAG on identical slots: the limit a scheduler is measured against.

P|prec|Cmax (non-preemptive jobs with fixed durations, precedence, ``slots``
identical machines) solved exactly with OR-Tools CP-SAT (pinned in
requirements-test.txt): one interval per job, a cumulative constraint of
capacity ``slots``, ``start(j) >= end(d)`` for every dependency. Durations are
whole milliseconds (each rounded to the nearest: for jobs of seconds to
minutes far below timing noise), solved in units of their greatest common
divisor: a schedule's makespan is a sum of durations, so with durations of
0.1 s the bound total/slots rounds up to the next 0.1 s, and the solver can
prove what it finds.

Also the classic lower bound max(critical path, total work / slots), and a
critical-path list schedule used as the solver's first solution (hint).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

J = TypeVar("J", bound=Hashable)
MS = 1000  # solver time unit: milliseconds


@dataclass(frozen=True)
class Optimum:
    makespan: float  # seconds: the best schedule found (optimal when ``proven``)
    proven: bool  # the solver proved no schedule is shorter
    lower: float  # seconds: the solver's lower bound (== makespan when proven)


def critical_path(durations: Mapping[J, float], deps: Mapping[J, Iterable[J]]) -> float:
    """The longest chain of durations through the DAG."""
    memo: dict[J, float] = {}

    def longest(j: J) -> float:
        if j not in memo:
            memo[j] = durations[j] + max((longest(d) for d in deps.get(j, ())), default=0.0)
        return memo[j]

    return max((longest(j) for j in durations), default=0.0)


def lower_bound(durations: Mapping[J, float], deps: Mapping[J, Iterable[J]], slots: int) -> float:
    """max(critical path, total work / slots): no schedule on ``slots`` slots is shorter."""
    return max(critical_path(durations, deps), sum(durations.values()) / slots)


def list_schedule(durations: Mapping[J, float], deps: Mapping[J, Iterable[J]], slots: int) -> dict[J, float]:
    """Start times of a critical-path list schedule (a feasible schedule, the solver's hint)."""
    below: dict[J, list[J]] = {j: [] for j in durations}
    for j in durations:
        for d in deps.get(j, ()):
            below[d].append(j)
    prio: dict[J, float] = {}

    def tail(j: J) -> float:
        if j not in prio:
            prio[j] = durations[j] + max((tail(w) for w in below[j]), default=0.0)
        return prio[j]

    for j in durations:
        tail(j)
    start: dict[J, float] = {}
    finish: dict[J, float] = {}
    now = 0.0
    while len(start) < len(durations):
        busy = sum(1 for f in finish.values() if f > now)
        ready = [
            j for j in durations if j not in start and all(d in finish and finish[d] <= now for d in deps.get(j, ()))
        ]
        for j in sorted(ready, key=lambda j: -prio[j])[: slots - busy]:
            start[j], finish[j] = now, now + durations[j]
        later = [f for f in finish.values() if f > now]
        if later:
            now = min(later)
    return start


def optimal_makespan(
    durations: Mapping[J, float],
    deps: Mapping[J, Iterable[J]],
    slots: int,
    time_limit: float = 60.0,
    workers: int = 2,
) -> Optimum:
    """The shortest schedule of ``durations`` (seconds) respecting ``deps`` (job -> jobs it waits
    for) on ``slots`` slots; ``proven`` False when ``time_limit`` ran out first."""
    from ortools.sat.python import cp_model

    if not durations:
        return Optimum(0.0, True, 0.0)
    dur = {j: max(0, round(s * MS)) for j, s in durations.items()}
    unit = math.gcd(*dur.values()) or 1
    dur = {j: d // unit for j, d in dur.items()}
    horizon = sum(dur.values())
    model = cp_model.CpModel()
    starts, ends, intervals = {}, {}, []
    for n, (j, d) in enumerate(dur.items()):
        starts[j] = model.new_int_var(0, horizon, f"s{n}")
        ends[j] = model.new_int_var(0, horizon, f"e{n}")
        intervals.append(model.new_interval_var(starts[j], d, ends[j], f"i{n}"))
    for j in dur:
        for before in deps.get(j, ()):
            model.add(starts[j] >= ends[before])
    model.add_cumulative(intervals, [1] * len(intervals), slots)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, list(ends.values()))
    model.add(makespan * slots >= sum(dur.values()))  # redundant: helps the bound
    model.minimize(makespan)
    for j, s in list_schedule(dur, deps, slots).items():
        model.add_hint(starts[j], round(s))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"CP-SAT found no schedule ({solver.status_name(status)})")
    return Optimum(
        makespan=solver.objective_value * unit / MS,
        proven=status == cp_model.OPTIMAL,
        lower=solver.best_objective_bound * unit / MS,
    )
