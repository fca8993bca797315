"""A dist's build plan (its specs' parsed facts and the build graph), the jobs taken from the previous
release's output instead of built (``reuse``), and the jobs ``--component`` asks for."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..builders import BuildOutput
from ..checks.previous import predecessor_output
from ..errors import UsageError
from ..layout import Layout
from ..manifest import Dist, Release
from ..progress import StepFn
from ..render import specs
from . import reuse
from .graph import BuildGraph
from .take import Taker


@dataclass
class DistPlan:
    dist: Dist
    infos: dict[str, specs.SpecInfo]
    graph: BuildGraph


@dataclass
class ReusePlan:
    """Per dist the jobs taken from the previous release's output (``reuse``), and their takers."""

    release: Release
    dists: dict[str, reuse.DistReuse]
    graphs: dict[str, BuildGraph]
    takers: dict[str, Taker] = field(default_factory=dict)

    def jobs(self, wanted: Mapping[tuple[str, str], object]) -> dict[tuple[str, str], reuse.Reuse]:
        """The reused ones among ``wanted`` (component, dist) jobs."""
        return {(c, d): r for d, plan in self.dists.items() for c, r in plan.reused.items() if (c, d) in wanted}

    def take(self, job: reuse.Reuse, dest: Path) -> BuildOutput:
        return self.takers[job.dist].take(job, dest)

    def lines(self, indent: str = "") -> list[str]:
        return [ln for d, p in self.dists.items() for ln in reuse.describe(p, self.graphs[d], self.release, indent)]

    def close(self) -> None:
        for taker in self.takers.values():
            taker.close()


def plan_reuse(
    release: Release,
    plans: Mapping[str, DistPlan],
    origins: Mapping[tuple[str, str], specs.Origin],
    root: Path,
    layout: Layout,
    step: StepFn,
) -> ReusePlan:
    """Which jobs are taken from the previous release's output under ``root`` (where the NEVRA gate
    looks for it), each dist's taker ready (nothing is unpacked before a job needs it)."""
    out = ReusePlan(release, {}, {d: p.graph for d, p in plans.items()})
    for dname, plan in plans.items():
        prev = predecessor_output(release, plan.dist, root)
        where = layout.dist(dname)
        log = where.log("reuse.log")
        out.dists[dname] = reuse.plan_dist(release, plan.dist, prev, origins, plan.infos, log)
        if out.dists[dname].reused:
            out.takers[dname] = Taker(prev, where.reuse_scratch, log, functools.partial(_step_for, step, dname))
    return out


def _step_for(step: StepFn, dist: str, label: str) -> contextlib.AbstractContextManager[None]:
    return step(f"{dist}: {label}")


def component_selection(
    plans: Mapping[str, DistPlan], components: Sequence[str], dists: Sequence[str]
) -> set[tuple[str, str]] | None:
    """The jobs ``--component`` asks for: each named component and every component it needs
    built first, per dist (None: every job)."""
    if not components:
        return None
    out: set[tuple[str, str]] = set()
    for dname, plan in plans.items():
        for name in components:
            if name in plan.graph.deps:
                out |= {(c, dname) for c in plan.graph.closure(name) | {name}}
    if not out:
        raise UsageError(
            f"--component {', '.join(components)}: not built for {', '.join(dists)} — fix: choose another --dist"
        )
    return out
