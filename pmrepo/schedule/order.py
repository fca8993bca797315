"""The scheduler's plan: an order of the jobs that gives a short schedule with the estimated times.

A run starts jobs as slots free up, the ready job earliest in the plan's order
first. The plan is the best order found among the critical-path order (a job's
time plus the longest chain of jobs that wait for it) and a bounded, seeded
local search (move one job elsewhere in the order, keep what is no longer;
restarts from the best with a few random moves), each order made into a
schedule by the serial scheme on ``slots`` identical slots: the jobs in order,
each at the earliest time its dependencies are done and a slot is free. For
identical slots some order gives an optimal schedule this way (the start-time
order of an optimal one does), and the search is deterministic and cheap
(``evaluations`` schedules, fewer for many jobs).

Such a schedule may keep a slot free on purpose: waiting a moment for a long
job's dependency rather than starting a short job that would delay it. The run
honours that with :func:`hold`.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

J = TypeVar("J", bound=Hashable)
TRUST = 1.5  # a job running past its estimate is expected to end any moment, up to this many times it
EVALUATIONS = 3000  # schedules tried for a release of a few dozen jobs
WORK_LIMIT = 300_000  # evaluations x jobs: the search's size for large releases


@dataclass(frozen=True)
class Plan(Generic[J]):
    order: tuple[J, ...]  # by planned start
    start: Mapping[J, float]  # planned start, from the estimates
    makespan: float


def tails(est: Mapping[J, float], deps: Mapping[J, Collection[J]]) -> dict[J, float]:
    """Critical-path priority: a job's time plus the longest chain of jobs that wait for it."""
    below: dict[J, list[J]] = {j: [] for j in est}
    for j in est:
        for d in deps.get(j, ()):
            below[d].append(j)
    out: dict[J, float] = {}
    for j in reversed(topological(est, deps)):
        out[j] = est[j] + max((out[w] for w in below[j]), default=0.0)
    return out


def topological(jobs: Iterable[J], deps: Mapping[J, Collection[J]]) -> list[J]:
    order: list[J] = []
    seen: set[J] = set()
    for root in jobs:
        stack: list[tuple[J, bool]] = [(root, False)]
        while stack:
            j, expanded = stack.pop()
            if expanded:
                order.append(j)
            elif j not in seen:
                seen.add(j)
                stack.append((j, True))
                stack.extend((d, False) for d in deps.get(j, ()) if d not in seen)
    return order


class _Serial(Generic[J]):
    """The serial schedule of an order, with the DAG's structure computed once."""

    def __init__(self, est: Mapping[J, float], deps: Mapping[J, Collection[J]], slots: int) -> None:
        self.jobs = list(est)
        self.index = {j: i for i, j in enumerate(self.jobs)}
        self.dur = [est[j] for j in self.jobs]
        self.preds = [[self.index[d] for d in deps.get(j, ()) if d in self.index] for j in self.jobs]
        self.succs: list[list[int]] = [[] for _ in self.jobs]
        for i, ps in enumerate(self.preds):
            for p in ps:
                self.succs[p].append(i)
        self.slots = max(1, slots)

    def run(self, order: Sequence[J]) -> tuple[float, list[float]]:
        rank = [0] * len(self.jobs)
        for r, j in enumerate(order):
            rank[self.index[j]] = r
        waiting = [len(p) for p in self.preds]
        eligible = [(rank[i], i) for i, n in enumerate(waiting) if n == 0]
        heapq.heapify(eligible)
        free = [0.0] * self.slots  # a heap of the times each slot frees up
        finish = [0.0] * len(self.jobs)
        start = [0.0] * len(self.jobs)
        while eligible:
            _, i = heapq.heappop(eligible)
            ready = max((finish[p] for p in self.preds[i]), default=0.0)
            start[i] = max(ready, heapq.heappop(free))
            finish[i] = start[i] + self.dur[i]
            heapq.heappush(free, finish[i])
            for s in self.succs[i]:
                waiting[s] -= 1
                if waiting[s] == 0:
                    heapq.heappush(eligible, (rank[s], s))
        return max(finish, default=0.0), start


def make_plan(
    est: Mapping[J, float],
    deps: Mapping[J, Collection[J]],
    slots: int,
    evaluations: int = EVALUATIONS,
    seed: int = 0,
) -> Plan[J]:
    """The best order found (ties keep the critical-path order) and its planned schedule."""
    serial = _Serial(est, deps, slots)
    prio = tails(est, deps)
    first = sorted(est, key=lambda j: (-prio[j], -est[j], str(j)))
    best_order, (best, best_start) = first, serial.run(first)
    budget = min(evaluations, WORK_LIMIT // max(1, len(first)))
    rnd = random.Random(seed)
    current, value = list(first), best
    n = len(first)
    for step in range(budget if n > 2 else 0):
        candidate = list(current)
        if step % 300 == 299:  # restart from the best, a few random moves away
            candidate = list(best_order)
            for _ in range(3):
                candidate.insert(rnd.randrange(n), candidate.pop(rnd.randrange(n)))
            current, value = candidate, serial.run(candidate)[0]
            continue
        candidate.insert(rnd.randrange(n), candidate.pop(rnd.randrange(n)))
        got, start = serial.run(candidate)
        if got <= value:
            current, value = candidate, got
            if got < best - 1e-9:
                best, best_order, best_start = got, candidate, start
    start_of = {serial.jobs[i]: s for i, s in enumerate(best_start)}
    rank = {j: r for r, j in enumerate(best_order)}
    # jobs planned to start together: the longest chain first (what a late estimate hurts most)
    order = tuple(sorted(est, key=lambda j: (round(start_of[j], 9), -prio[j], rank[j])))
    return Plan(order, start_of, best)


def expected_end(started: float, seconds: float, now: float) -> float | None:
    """When a job started at ``started`` and estimated at ``seconds`` should end: its estimate's
    end; past it, any moment (``now``) until TRUST times its estimate; then unknown (None)."""
    if now < started + seconds:
        return started + seconds
    return now if now < started + TRUST * seconds else None


def review_at(started: float, seconds: float, now: float) -> float | None:
    """The next moment :func:`expected_end` of the job changes (None: it will not)."""
    return next((t for t in (started + seconds, started + TRUST * seconds) if t > now), None)


def hold(seconds: float, now: float, free: int, blockers: Iterable[float], finishing: Iterable[float]) -> bool:
    """Whether a ready job estimated to take ``seconds`` should leave one of ``free`` slots alone.

    ``blockers``: when the jobs earlier in the plan that wait for running ones are expected to
    be ready; ``finishing``: when the running jobs are expected to end (:func:`expected_end`; a
    job whose end is unknown is in neither). If the job started, the blockers ready before it
    ends could use the other free slots and those the running jobs free by then; when they are
    more, the first left without a slot waits until the job ends. Hold when that wait is longer
    than the slot would stay idle (until the first blocker is ready)."""
    horizon = now + seconds
    need = sorted(r for r in blockers if now <= r < horizon)
    capacity = free - 1 + sum(1 for f in finishing if now <= f < horizon)
    if len(need) <= capacity:
        return False
    delay = horizon - need[max(0, capacity)]
    return delay > need[0] - now
