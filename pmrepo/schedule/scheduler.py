"""Parallel, ordered, incremental builds over (component, dist) jobs (``jobs``).

A job starts as soon as its build dependencies for that dist are built; up
to ``jobs`` run at once, dists in parallel. Which ready job takes a free slot
follows a plan (``order``) made from each job's estimated time
(``estimates``: this host's build time history, ``timings``, before anything
else), so a fresh work directory orders its jobs like a warm one; every built
job's time is added to that history at the end of the run. A job whose key
(``jobs.job_key``) has a whole entry in the store (``store``) is not built
again; a damaged entry is discarded, with a line saying why, and the job rebuilt.

A job planned as a reuse (``pmrepo.schedule.reuse``: its NEVRA is the previous release's build) is not
built: ``take`` copies that release's verified RPMs into the job's staging directory, and the
result enters the store like a build, reported "reused from <release>". It waits for nothing:
it is not built against anything; a job built after it waits for its whole closure.
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..builders import Builder, BuildRequest
from ..errors import PmrepoError
from ..progress import Progress, table
from .estimates import describe, estimate
from .graph import BuildGraph
from .jobs import Job, JobResult, JobSpec, Take, job_key
from .order import expected_end, hold, make_plan, review_at
from .store import Store
from .timings import TimingHistory

if TYPE_CHECKING:
    from .reuse import Reuse


class Clock:
    """Where the scheduler reads the time and waits for running jobs (the benchmark's replay
    substitutes simulated time: bench/schedule.py)."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def wait(self, running: Iterable[Future[JobResult]], timeout: float | None) -> set[Future[JobResult]]:
        """The running jobs that finished: at least one, unless ``timeout`` seconds passed first."""
        return wait(running, timeout=timeout, return_when=FIRST_COMPLETED).done


@dataclass
class Scheduler:
    builder: Builder
    store: Store
    jobs: int
    source_date_epoch: int
    progress: Progress | None = None
    force: frozenset[str] = frozenset()  # component names, or "*" for all
    results: dict[tuple[str, str], JobResult] = field(default_factory=dict)
    history: TimingHistory | None = None  # this host's build times (None: none, and none recorded)
    clock: Clock = field(default_factory=Clock)
    timed: set[Job] = field(default_factory=set, init=False)  # jobs whose estimate is seconds on this host
    _untimed: set[Job] = field(default_factory=set, init=False, repr=False)  # estimated in no unit
    _calibration: dict[Job, float] = field(default_factory=dict, init=False, repr=False)
    reuse: Mapping[Job, Reuse] = field(default_factory=dict)  # jobs taken from the previous release
    take: Take | None = None  # how (required with ``reuse``)
    _waits: dict[Job, set[Job]] = field(default_factory=dict, init=False, repr=False)

    def _epoch(self, job: JobSpec) -> int:
        return self.source_date_epoch if job.source_date_epoch is None else job.source_date_epoch

    def _forced(self, component: str) -> bool:
        return "*" in self.force or component in self.force

    def run(
        self, graphs: Mapping[str, BuildGraph], specs: Mapping[tuple[str, str], JobSpec]
    ) -> dict[tuple[str, str], JobResult]:
        """Build every job in ``specs`` (keyed (component, dist)) in graph order."""
        self.store.clean_staging()
        if self.progress is None:
            self.progress = Progress(len(specs))
        self._waits.clear()
        pending = set(specs)
        keys: dict[Job, str] = {}
        est = self.estimates(specs)
        raw = dict(est)  # the untimed estimates' own units, for _calibrate
        deps = {j: self._waits_for(j, graphs, specs) for j in specs}
        rank = {j: r for r, j in enumerate(make_plan(est, deps, max(1, self.jobs)).order)}
        running: dict[Future[JobResult], Job] = {}
        started: dict[Job, float] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            while pending or running:
                self._skip_blocked(pending, graphs, specs)
                wake = None
                for j in self._startable(pending, rank, est, deps, running, started):
                    if j is None:  # a ready job holds back for one earlier in the plan: look again
                        now = self.clock.now()  # when what is expected of a running job changes
                        at = [review_at(started[r], est[r], now) for r in running.values()]
                        wake = min((t - now for t in at if t is not None), default=None)
                        continue
                    pending.discard(j)
                    started[j] = self.clock.now()
                    running[self._submit(pool, j, graphs, specs, keys)] = j
                if not running:
                    if pending:  # cannot happen with an acyclic graph; guard against a hang
                        raise PmrepoError(f"scheduler stalled with pending jobs: {sorted(pending)}")
                    break
                for fut in self.clock.wait(running, wake):
                    j = running.pop(fut)
                    self.results[j] = fut.result()
                    self._calibrate(j, est, raw)
        self._record(specs)
        return self.results

    def estimates(self, specs: Mapping[Job, JobSpec]) -> dict[Job, float]:
        """Each job's estimated seconds (estimates.py), with one line saying where they come from."""
        assert self.progress is not None
        known = self.history.load() if self.history is not None else {}
        found = estimate(specs, self.builder.name, known, self.store.last_seconds)
        if found:
            self.progress.say(f"job time estimates: {describe(found)}")
        self.timed = {j for j, e in found.items() if e.timed}
        self._untimed = set(found) - self.timed
        # a reused job is a copy, not a build: it takes no slot for long
        return {j: 0.01 if j in self.reuse else max(0.01, e.seconds) for j, e in found.items()}

    def _calibrate(self, j: Job, est: dict[Job, float], raw: Mapping[Job, float]) -> None:
        """Estimates in no unit (no measured time, estimates.py) become seconds as this run's
        own builds of them finish: scaled by the median of measured / estimated so far."""
        if self.results[j].status != "built" or j not in self._untimed:
            return
        self._calibration[j] = self.results[j].seconds / raw[j]
        k = statistics.median(self._calibration.values())
        for u in self._untimed:
            est[u] = raw[u] * k
        self.timed |= self._untimed

    def _record(self, specs: Mapping[Job, JobSpec]) -> None:
        if self.history is None:
            return
        built = [
            ((c, specs[(c, d)].version or "-", d, self.builder.name), r.seconds)
            for (c, d), r in self.results.items()
            if r.status == "built" and (c, d) in specs
        ]
        self.history.record(built)

    def _startable(
        self,
        pending: set[Job],
        rank: Mapping[Job, int],
        est: Mapping[Job, float],
        deps: Mapping[Job, set[Job]],
        running: Mapping[Future[JobResult], Job],
        started: Mapping[Job, float],
    ) -> Iterator[Job | None]:
        """The pending jobs to start now, in plan order, as many as there are free slots; None
        where a ready job is held for jobs earlier in the plan (schedule_plan.hold)."""
        now = self.clock.now()
        busy = set(running.values())
        # only estimates in seconds on this host say when a job will end (and so may hold a slot)
        finishing = {r: e for r in busy if r in self.timed and (e := expected_end(started[r], est[r], now)) is not None}
        blockers: list[float] = []
        free = max(1, self.jobs) - len(busy)
        for j in sorted(pending, key=lambda j: (rank[j], j)):
            if free <= 0:
                return
            if all(d in self.results and self.results[d].status in ("built", "reused") for d in deps[j]):
                if j in self.timed and hold(est[j], now, free, blockers, finishing.values()):
                    yield None
                    continue
                finishing[j] = now + est[j]
                free -= 1
                yield j
            elif all(d in self.results or d in busy for d in deps[j]):
                ahead = [finishing.get(d) for d in deps[j] if d in busy]
                if None not in ahead:  # (a dependency whose end is unknown: no hold for it)
                    blockers.append(max((t for t in ahead if t is not None), default=now))

    def _waits_for(self, j: Job, graphs: Mapping[str, BuildGraph], specs: Mapping[Job, JobSpec]) -> set[Job]:
        """The jobs ``j`` needs finished: every job of its closure (their RPMs are its build's), none for
        a reused job (taken, not built: it waits for nothing; so a job after it waits for its deps too)."""
        comp, dist = j
        if j in self.reuse:
            return set()
        if j not in self._waits:  # once per job and run: the graphs do not change during one
            self._waits[j] = {(d, dist) for d in graphs[dist].closure(comp) if (d, dist) in specs}
        return self._waits[j]

    @staticmethod
    def _deps_of(
        j: tuple[str, str], graphs: Mapping[str, BuildGraph], specs: Mapping[tuple[str, str], JobSpec]
    ) -> set[tuple[str, str]]:
        comp, dist = j
        return {(d, dist) for d in graphs[dist].deps[comp] if (d, dist) in specs}

    def _skip_blocked(
        self,
        pending: set[tuple[str, str]],
        graphs: Mapping[str, BuildGraph],
        specs: Mapping[tuple[str, str], JobSpec],
    ) -> None:
        """Mark every pending job one of whose dependencies failed or was skipped as skipped, until none is left."""
        assert self.progress is not None
        progressed = True
        while progressed:
            progressed = False
            for j in sorted(pending):
                failed = [
                    d
                    for d in sorted(self._waits_for(j, graphs, specs))
                    if d in self.results and self.results[d].status in ("failed", "skipped")
                ]
                if failed:
                    cause = failed[0][0]
                    pending.discard(j)
                    self.results[j] = JobResult(j[0], j[1], "skipped", error=f"dependency {cause} failed")
                    self.progress.finished(j[0], j[1], f"skipped (needs {cause})", 0.0)
                    progressed = True

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        j: tuple[str, str],
        graphs: Mapping[str, BuildGraph],
        specs: Mapping[tuple[str, str], JobSpec],
        keys: dict[tuple[str, str], str],
    ) -> Future[JobResult]:
        """Start job ``j`` (its dependencies are built): its key from its inputs and its dependencies' keys."""
        if j in self.reuse:
            keys[j] = self.reuse[j].key
            return pool.submit(self._take, specs[j], self.reuse[j])
        closure = {d for d in specs if d[1] == j[1] and d[0] in graphs[j[1]].closure(j[0])}
        keys[j] = job_key(
            specs[j],
            self.builder.config_id(specs[j].dist),
            (keys[d] for d in self._deps_of(j, graphs, specs)),
            self._epoch(specs[j]),
        )
        dep_rpms = tuple(p for d in sorted(closure) for p in self.results[d].binary_rpms)
        return pool.submit(self._one, specs[j], keys[j], dep_rpms)

    def _take(self, job: JobSpec, reuse: Reuse) -> JobResult:
        """A reused job: its entry in the store, else the previous release's RPMs (``take``) put there."""
        assert self.progress is not None and self.take is not None
        dist, key, t0, wall0 = job.dist.name, reuse.key, self.clock.now(), self.clock.wall()
        hit = None if self._forced(job.component) else self.store.lookup(dist, job.component, key, self.progress.say)
        if hit is None:
            staging = self.store.staging(dist, job.component)
            try:
                out = self.take(reuse, staging)
            except Exception as exc:
                shutil.rmtree(staging, ignore_errors=True)
                message = str(exc) if isinstance(exc, PmrepoError) else f"{type(exc).__name__}: {exc}"
                failed = JobResult(job.component, dist, "failed", self.clock.now() - t0, key, error=message)
                failed.reused_from, failed.started, failed.finished = reuse, wall0, self.clock.wall()
                self.progress.finished(job.component, dist, failed.shown, failed.seconds)
                return failed
            meta: dict[str, object] = {
                "component": job.component,
                "dist": dist,
                "key": key,
                "seconds": round(self.clock.now() - t0, 3),
                "backend": "reused",
                "reused_from": {"release": reuse.release_id, "files": [dataclasses.asdict(f) for f in reuse.files]},
                "shippable": True,
            }
            hit = self.store.commit(staging, dist, job.component, key, meta, out)
        entry, secs = hit.srpm.parent, self.clock.now() - t0
        log = hit.logs[0] if hit.logs else None
        result = JobResult(
            job.component, dist, "reused", secs, key, entry, log, "", wall0, self.clock.wall(), output=hit
        )
        result.reused_from = reuse
        self.progress.finished(job.component, dist, result.shown, secs)
        return result

    def _one(self, job: JobSpec, key: str, dep_rpms: tuple[Path, ...]) -> JobResult:
        assert self.progress is not None
        dist = job.dist.name
        hit = None if self._forced(job.component) else self.store.lookup(dist, job.component, key, self.progress.say)
        if hit is not None:
            self.progress.finished(job.component, dist, "reused", 0.0)
            entry = hit.srpm.parent
            return JobResult(job.component, dist, "reused", 0.0, key, entry, entry / "build.log", output=hit)
        self.progress.started(job.component, dist)
        t0 = self.clock.now()
        wall0 = self.clock.wall()
        staging = self.store.staging(dist, job.component)
        req = BuildRequest(job.component, job.dist, job.spec, job.sources, dep_rpms, staging, self._epoch(job))
        try:
            built = self.builder.build(req)
        except Exception as exc:
            if not isinstance(exc, PmrepoError):
                exc = PmrepoError(f"{type(exc).__name__}: {exc}")
            secs = self.clock.now() - t0
            failed = self.store.root / "failed" / dist / job.component
            shutil.rmtree(failed, ignore_errors=True)
            failed.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(failed)
            log = failed / "build.log" if (failed / "build.log").exists() else failed / "srpm.log"
            self.progress.finished(job.component, dist, "FAILED", secs)
            message = str(exc).replace(str(staging), str(failed))  # the logs moved with the directory
            return JobResult(job.component, dist, "failed", secs, key, None, log, message, wall0, self.clock.wall())
        secs = self.clock.now() - t0
        out = self.store.commit(
            staging,
            dist,
            job.component,
            key,
            {
                "component": job.component,
                "dist": dist,
                "key": key,
                "seconds": round(secs, 3),
                "backend": self.builder.name,
                "deps": [p.name for p in dep_rpms],
                "shippable": self.builder.shippable,
            },
            built,
        )
        entry = out.srpm.parent
        self.progress.finished(job.component, dist, "built", secs)
        ended = self.clock.wall()
        return JobResult(
            job.component, dist, "built", secs, key, entry, entry / "build.log", "", wall0, ended, output=out
        )


def summary(results: Mapping[tuple[str, str], JobResult], log: Path | None = None) -> str:
    """The build summary table (component, dist, status, time): narrow enough
    for a 100-column terminal. The log of every job goes to ``log`` when given
    (a table with the paths), not into the printed table."""
    ordered = [r for _, r in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
    rows = [(r.component, r.dist, r.shown, f"{r.seconds:.1f}s") for r in ordered]
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(
            table(
                ["component", "dist", "status", "log"], [(r.component, r.dist, r.shown, r.log or "-") for r in ordered]
            )
            + "\n"
        )
    return table(["component", "dist", "status", "time"], rows)
