"""Each job's estimated build time, known before it runs: what the scheduler plans with.

Per job, the first of these that exists:

1. ``history``: this host's build times (``pmrepo.schedule.timings``) of this component
   version for this dist — the median of the newest measurements with this
   backend, else with another backend;
2. ``store``: the newest build of the component for the dist in this work
   directory's store;
3. ``older version``: the host's newest time of another version of it for the dist;
4. ``weight``: the manifest's ``weight`` of the component (for that dist);
5. ``static``: the size of the job's sources (without sources: its number of
   binary packages) relative to the release's median job.

Levels 1-3 are seconds on this host. ``weight`` is in the manifest author's
units (seconds on some machine) and ``static`` has none, so each is scaled by
the median ratio, over the jobs that have both, to the levels above it: a
release with a new component among known ones mixes them fairly. An estimate
is ``timed`` (seconds on this host, which the scheduler may wait on: a slot
held for a job about to end) when it is measured, or scaled from measured ones.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from ..records import BuildTime

J = TypeVar("J", bound=Hashable)
STATIC_FIXED = 0.25  # of a median job: the part of a build that does not grow with its sources


class JobInputs(Protocol):
    """What an estimate reads of a job (jobs.JobSpec has it)."""

    @property
    def component(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def weight(self) -> float | None: ...

    @property
    def packages(self) -> int: ...

    @property
    def sources(self) -> Path: ...


@dataclass(frozen=True)
class Estimate:
    seconds: float
    source: str  # history / store / older version / weight / static
    timed: bool = True  # seconds on this host (measured, or scaled from measured estimates)


def source_bytes(directory: Path) -> int:
    """The size of the regular files directly in ``directory`` (0 when there is none)."""
    try:
        return sum(p.stat().st_size for p in directory.iterdir() if p.is_file() and not p.is_symlink())
    except OSError:
        return 0


def _from_entries(version: str, backend: str, entries: list[BuildTime]) -> Estimate | None:
    """Levels 1 and 3 among the history entries of one component and dist."""
    same = [t for t in entries if t.version == version]
    if same:
        exact = next((t for t in same if t.backend == backend), None) or max(same, key=lambda t: t.when)
        return Estimate(statistics.median(exact.seconds), "history")
    if entries:
        return Estimate(statistics.median(max(entries, key=lambda t: t.when).seconds), "older version")
    return None


def _ratio(numer: Mapping[J, float], denom: Mapping[J, float]) -> tuple[float, bool]:
    """The median of numer/denom over the jobs in both (1.0 when none), and whether there was one."""
    both = [numer[j] / denom[j] for j in numer if j in denom and denom[j] > 0]
    return (statistics.median(both), True) if both else (1.0, False)


def static_estimates(jobs: Mapping[J, JobInputs]) -> dict[J, float]:
    """Level 5: sources' size (or package count) relative to the median job, plus a fixed part."""
    size = {j: float(source_bytes(s.sources)) for j, s in jobs.items()}
    if not any(size.values()):
        size = {j: float(s.packages) for j, s in jobs.items()}
    positive = [v for v in size.values() if v > 0]
    median = statistics.median(positive) if positive else 0.0
    if median <= 0:
        return dict.fromkeys(jobs, 1.0)
    return {j: STATIC_FIXED + (1 - STATIC_FIXED) * v / median for j, v in size.items()}


def estimate(
    jobs: Mapping[tuple[str, str], JobInputs],
    backend: str,
    history: Mapping[tuple[str, str, str, str], BuildTime],
    store_last: Callable[[str, str], float | None] = lambda dist, component: None,
) -> dict[tuple[str, str], Estimate]:
    """Every job's estimate (keyed (component, dist)), from the first level that knows it."""
    out: dict[tuple[str, str], Estimate] = {}
    by_job: dict[tuple[str, str], list[BuildTime]] = {}
    for t in history.values():
        by_job.setdefault((t.component, t.dist), []).append(t)
    for (comp, dist), spec in jobs.items():
        found = _from_entries(spec.version or "-", backend, by_job.get((comp, dist), []))
        if found is not None and found.source == "older version":
            stored = store_last(dist, comp)
            found = Estimate(stored, "store") if stored is not None else found
        elif found is None:
            stored = store_last(dist, comp)
            found = Estimate(stored, "store") if stored is not None else None
        if found is not None:
            out[(comp, dist)] = found
    known = {j: e.seconds for j, e in out.items()}
    weights = {j: float(s.weight) for j, s in jobs.items() if s.weight is not None and s.weight > 0}
    k_weight, weight_timed = _ratio(known, weights)
    reference = {**{j: w * k_weight for j, w in weights.items()}, **known}
    static = static_estimates(jobs)
    timed_reference = {**(reference if weight_timed else {}), **known}
    k_static, static_timed = _ratio(timed_reference, static)
    if not static_timed:  # scaled to the weights' units, or none
        k_static, _ = _ratio(reference, static)
    for j in jobs:
        if j in out:
            continue
        if j in weights:
            out[j] = Estimate(weights[j] * k_weight, "weight", weight_timed)
        else:
            out[j] = Estimate(static[j] * k_static, "static", static_timed)
    return out


def describe(estimates: Mapping[tuple[str, str], Estimate]) -> str:
    """One line: how many estimates came from where."""
    counts: dict[str, int] = {}
    for e in estimates.values():
        counts[e.source] = counts.get(e.source, 0) + 1
    order = ("history", "store", "older version", "weight", "static")
    return ", ".join(f"{counts[s]} {s}" for s in order if s in counts)
