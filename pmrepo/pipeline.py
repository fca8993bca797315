"""The release pipeline, step by step; each step is also a CLI subcommand.

render → sources → plan (build graphs) → build (scheduler) → assemble
(repository, metapackage, repo packages, install check) → output under
``repo/<release_id>/<dist>/`` (temporary directory renamed into place).
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from . import manifest, sources, specs
from .assemble import Assembly, Check, Signer, clean_scratch
from .builders import Builder, get_builder
from .errors import BuildError, PmrepoError, SpecError, UsageError, step
from .graph import BuildGraph, build_graph
from .lock import WorkdirLock
from .manifest import Dist, Release
from .progress import Console, Progress, default_console, table
from .fsutil import write_atomic
from .scheduler import JobResult, JobSpec, Scheduler, Store, summary

Say = Callable[[str], None]
StepFn = Callable[[str], contextlib.AbstractContextManager[None]]


@dataclass
class Options:
    release: Path
    workdir: Path
    outdir: Path
    dists: tuple[str, ...] = ()
    backend: str = "rpmbuild"
    jobs: int | None = None
    force: frozenset[str] = frozenset()
    install_check: bool = True
    gates: bool = True
    signer: Signer | None = None
    container: Check | None = None  # the container install test, when an engine is configured
    backend_options: dict[str, object] = field(default_factory=dict)
    components: tuple[str, ...] = ()  # `build --component`: only these and what they need from the chain


@dataclass
class DistPlan:
    dist: Dist
    infos: dict[str, specs.SpecInfo]
    graph: BuildGraph


class Pipeline:
    def __init__(self, opts: Options, say: Say | None = None) -> None:
        self.opts = opts
        self.release: Release = manifest.load(opts.release)
        if opts.jobs is not None and opts.jobs < 1:
            raise UsageError(f"--jobs {opts.jobs}: must be 1 or more")
        names = {c.name for c in self.release.components}
        for flag, given in (("--force", set(opts.force) - {"*"}), ("--component", set(opts.components))):
            unknown = sorted(given - names)
            if unknown:
                raise UsageError(f"{flag} {unknown[0]}: no such component in {self.release.path} — fix: use one of "
                                 f"{', '.join(c.name for c in self.release.components)}")
        for d in opts.dists:
            if d not in self.release.dists:
                raise UsageError(f"--dist {d}: not a target of {self.release.path} — fix: use one of "
                                 f"{', '.join(self.release.dists)}")
        self.dists = [self.release.dists[d] for d in (opts.dists or tuple(self.release.dists))]
        self.work = opts.workdir / self.release.release_id
        self.epoch = self.release.epoch
        self.console: Console = default_console() if say is None else Console(say)
        self.say: Say = self.console.say
        self._builder: Builder | None = None

    # -- preflight --------------------------------------------------------
    @property
    def builder(self) -> Builder:
        if self._builder is None:
            self._builder = get_builder(self.opts.backend, **self.opts.backend_options)
        return self._builder

    def preflight(self, components: set[str] | None = None) -> None:
        """Everything that can be refused before anything is written (the first problem;
        ``components``: only their sources must be pinned)."""
        found = self.preflight_problems(components)
        if found:
            raise found[0]

    def preflight_problems(self, components: set[str] | None = None) -> list[PmrepoError]:
        """Every problem with the manifest's sources, spec templates and the backend."""
        out: list[PmrepoError] = []
        unpinned = [(c, s) for c, s in sources.unpinned(self.release) if components is None or c.name in components]
        if unpinned:
            comp, src = unpinned[0]
            out.append(sources.UnpinnedSourceError(
                f"{self.release.path}: components.{comp.name}.sources: {len(unpinned)} source(s) without sha256 "
                f"(first: {src.url}) — fix: run `./build.py pin --release {self.release.path}` where the network "
                "reaches upstream (trust on first use), review the diff, commit"))
        missing = [c for c in self.release.components if not c.spec.is_file()]
        if missing:
            out.append(SpecError(f"{self.release.path}: components.{missing[0].name}.spec: {missing[0].spec} does not "
                                 f"exist ({len(missing)} component(s) without a spec template) — fix: write the template"))
        try:
            self.builder.check_available()
        except PmrepoError as exc:
            out.append(exc)
        return out

    # -- steps --------------------------------------------------------------
    def render(self) -> dict[tuple[str, str], Path]:
        """Render every component spec per dist into the work directory."""
        out: dict[tuple[str, str], Path] = {}
        for dist in self.dists:
            for comp in self.release.components_for(dist.name):
                path = self.work / dist.name / "specs" / f"{comp.name}.spec"
                write_atomic(path, specs.render_component(self.release, dist, comp))
                out[(comp.name, dist.name)] = path
        return out

    def fetch_sources(self, components: set[str] | None = None) -> dict[str, tuple[Path, tuple[str, ...]]]:
        fetcher = sources.Fetcher(self.opts.workdir / "cache", say=self.say)
        out: dict[str, tuple[Path, tuple[str, ...]]] = {}
        wanted = {c.name for d in self.dists for c in self.release.components_for(d.name)}
        if components is not None:
            wanted &= components
        for comp in self.release.components:
            if comp.name not in wanted:
                continue
            dest = self.work / "sources" / comp.name
            shutil.rmtree(dest, ignore_errors=True)
            files = sources.prepare(comp, self.release, dest, fetcher)
            out[comp.name] = (dest, tuple(sources.sha256_file(f) for f in files))
        return out

    def plan(self, rendered: dict[tuple[str, str], Path], strict: bool = True) -> dict[str, DistPlan]:
        """Build graphs per dist. ``strict``: a BuildRequires that no component
        provides and the backend cannot satisfy is an error (``build``); else it
        is only listed in ``graph.external`` (``plan`` shows it)."""
        plans: dict[str, DistPlan] = {}
        for dist in self.dists:
            log = self.work / dist.name / "logs" / "rpmspec.log"
            log.unlink(missing_ok=True)
            cache = self.opts.workdir / "cache" / "specinfo"
            infos = {c.name: specs.inspect_cached(rendered[(c.name, dist.name)], dist, cache, log)
                     for c in self.release.components_for(dist.name)}
            for comp in self.release.components_for(dist.name):
                built = set(infos[comp.name].packages)
                missing = [p for p in comp.packages_for(dist.name) if p not in built and not p.endswith("-debuginfo")]
                if missing:
                    raise SpecError(f"{self.release.path}: components.{comp.name}.packages.{dist.name}: "
                                    f"{', '.join(missing)} not built by {rendered[(comp.name, dist.name)]} "
                                    f"(it builds {', '.join(sorted(built))}) — fix: correct the list or the spec")
            external = self.builder.can_provide if strict else (lambda cap: True)
            graph = build_graph(dist.name, infos, external, self.builder.remedy)
            plans[dist.name] = DistPlan(dist, infos, graph)
        return plans

    def selection(self, plans: dict[str, DistPlan]) -> set[tuple[str, str]] | None:
        """The jobs ``--component`` asks for: each named component and every
        component it needs built first, per dist (None: every job)."""
        if not self.opts.components:
            return None
        out: set[tuple[str, str]] = set()
        for dname, plan in plans.items():
            for name in self.opts.components:
                if name in plan.graph.deps:
                    out |= {(c, dname) for c in plan.graph.closure(name) | {name}}
        if not out:
            raise UsageError(f"--component {', '.join(self.opts.components)}: not built for "
                             f"{', '.join(d.name for d in self.dists)} — fix: choose another --dist")
        return out

    def build(self, rendered: dict[tuple[str, str], Path], srcs: dict[str, tuple[Path, tuple[str, ...]]],
              plans: dict[str, DistPlan], only: set[tuple[str, str]] | None = None) -> dict[tuple[str, str], JobResult]:
        jobs = {(c, d): JobSpec(c, plans[d].dist, rendered[(c, d)], srcs[c][0], srcs[c][1])
                for (c, d) in rendered if only is None or (c, d) in only}
        n = self.opts.jobs or self.builder.default_jobs(os.cpu_count() or 1)
        sched = Scheduler(self.builder, Store(self.opts.workdir / "store"), n, self.epoch,
                          Progress(len(jobs), console=self.console), self.opts.force)
        self.say(f"building {len(jobs)} jobs ({len({c for c, _ in jobs})} components × "
                 f"{len(self.dists)} dists) with {self.builder.name}, {n} at a time")
        try:
            results = sched.run({d: p.graph for d, p in plans.items()}, jobs)
        finally:
            self.builder.finish(self.opts.workdir / "logs")
        logs = self.work / "logs" / "build-summary.txt"
        self.say(summary(results, logs))
        self.say(f"build logs: {logs}")
        if not self.builder.shippable:
            self.say(f"NOT SHIPPABLE: {self.builder.unshippable_reason()}")
        failed = [r for r in results.values() if r.status == "failed"]
        if failed:
            f = failed[0]
            skipped = sum(1 for r in results.values() if r.status == "skipped")
            where = "" if str(f.log) in f.error else f" (log: {f.log})"
            raise BuildError(f"{len(failed)} build(s) failed, {skipped} skipped; first: {f.component} ({f.dist}): "
                             f"{f.error}{where}")
        return results

    def assembly(self, dist: Dist) -> Assembly:
        checks: list[tuple[str, Check]] = []
        if self.opts.gates:
            checks.append(("gates", functools.partial(gates_check, step=self.console.step)))
        if self.opts.container is not None:
            checks.append(("container install", self.opts.container))
        return Assembly(self.release, dist, self.work / dist.name, self.opts.outdir, self.epoch, self.say,
                        signer=self.opts.signer, install_check=self.opts.install_check, checks=checks,
                        backend=self.opts.backend, step=self.console.step,
                        unshippable=self.builder.unshippable_reason())

    def assemble(self, dist: Dist, results: dict[tuple[str, str], JobResult]) -> Path:
        return self.assembly(dist).run(results)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One run at a time per work directory and per output directory."""
        with WorkdirLock(self.opts.workdir), WorkdirLock(self.opts.outdir, "output directory"):
            yield

    def run_all(self, lock: bool = True) -> dict[str, Path]:
        t0 = time.monotonic()
        self.preflight()
        with self.locked() if lock else contextlib.nullcontext():
            self.say(f"release {self.release.release_id} from {self.release.path}: "
                     f"{len(self.release.components)} components, dists {', '.join(d.name for d in self.dists)}")
            with step("render"), self.console.step("render specs"):
                rendered = self.render()
            with step("sources"), self.console.step("sources"):
                srcs = self.fetch_sources()
            with step("plan"), self.console.step("build plan (rpmspec)"):
                plans = self.plan(rendered)
            for d, p in plans.items():
                self.say(f"{d}: build waves: " + " | ".join(", ".join(w) for w in p.graph.waves()))
            with step("build"):
                results = self.build(rendered, srcs, plans)
            outputs = {}
            with step("assemble"):
                clean_scratch(self.opts.outdir)
            for d in self.dists:
                with step(f"assemble {d.name}"):
                    outputs[d.name] = self.assemble(d, results)
        rows = []
        for dname, out in outputs.items():
            meta = json.loads((out / "build.json").read_text())
            for fname, info in sorted(meta["files"].items()):
                rows.append((dname, fname, f"{info['size'] / 1024:.0f} KiB", info["sha256"][:16]))
        self.say(table(["dist", "repo package", "size", "sha256"], rows))
        for dname, out in outputs.items():
            meta = json.loads((out / "build.json").read_text())
            for check, note in meta.get("checks", {}).items():
                self.say(f"{dname}: {check}: {note}")
            if meta.get("shippable") is False:
                self.say(f"{dname}: NOT SHIPPABLE ({meta.get('not_shippable', '')}); publish refuses it")
        self.say(f"done in {time.monotonic() - t0:.1f}s: {', '.join(str(p) for p in outputs.values())}")
        return outputs


def gates_check(release: Release, dist: Dist, work: Path, repo_rpms: list[Path], staging: Path, *,
                step: StepFn | None = None) -> str:
    """rpmlint, compatibility and closure gates over the assembled dist; their
    reports are kept in the output directory beside the packages."""
    from .gates import default_gates, layout_context, run_gates

    ctx = layout_context(release, dist, work, report_dir=work / "gates", extra_rpms=repo_rpms)
    try:
        reports = run_gates(default_gates(release), ctx, step=step)
    finally:
        if (work / "gates").is_dir():
            shutil.copytree(work / "gates", staging / "gates", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("logs"))
    return ", ".join(f"{r.gate} passed" for r in reports)
