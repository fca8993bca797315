"""The release pipeline: the one orchestrator. Every CLI subcommand that works on a release's
build is one ``Pipeline.run_<command>`` method; the few that need no pipeline (``setup``,
``mock-clean``, ``verify``, ``explain``, ``new-release``, ``upstream``) are cli.py's own.

render → sources → plan (build graphs) → build (scheduler) → assemble
(repository, metapackage, repo packages) → the checks (``pmrepo.checks``: one
ordered list, the same for ``all`` and ``gate``) → output under
``repo/<release_id>/<dist>/`` (staging directory renamed into place) →
notes, SHA256SUMS → publish. Every path comes from ``layout.Layout``.
What needs no ``Pipeline`` lives with its stage: the previous release
(``checks.previous``), a dist's build plan and ``build --component``'s selection
(``schedule.plan``), pinning (``sources.pin``), ``plan``'s report (``pipeline.plan_report``)
and ``publish``'s body (``pipeline.publish_step``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .. import manifest, sources
from ..assemble.assembly import Assembly, clean_scratch
from ..attest.provenance import RunInfo, redacted
from ..builders import Builder, get_builder
from ..checks import Check, CheckContext, CheckOptions, DistRun, default_checks, run_checks
from ..checks import summary as check_summary
from ..checks.previous import predecessor_output, previous_repo_packages
from ..errors import BuildError, GateError, PmrepoError, SpecError, UnpinnedSourceError, UsageError, step
from ..fsutil import sha256_file, write_atomic
from ..layout import Layout, timings_file
from ..lock import WorkdirLock
from ..manifest import Component, Dist, Release, redact_url
from ..notes.render import render_notes
from ..options import Options as Options  # the run's options (cli.py fills them; tests import them here)
from ..progress import Console, Progress, Say, default_console, table
from ..records import BuildRecord
from ..render import lineage, specs
from ..render.environment import use_bytecode_cache
from ..schedule.graph import build_graph
from ..schedule.jobs import JobResult, JobSpec
from ..schedule.plan import DistPlan, ReusePlan, component_selection, plan_reuse
from ..schedule.scheduler import Scheduler, summary
from ..schedule.store import Store
from ..schedule.timings import TimingHistory
from ..sign.signer import Signer
from ..sources.pin import pin_sources
from . import preflight
from .plan_report import say_lacking, say_plan
from .preflight import Input as PreflightInput
from .publish_step import publish_outputs


class Pipeline:
    def __init__(self, opts: Options, say: Say | None = None, release: Release | None = None) -> None:
        self.opts = opts
        self.console: Console = default_console() if say is None else Console(say)
        if release is None:
            with self.console.reading(f"load {opts.release}", Path(opts.release)):
                release = manifest.load(opts.release)
        self.release: Release = release
        if opts.jobs is not None and opts.jobs < 1:
            raise UsageError(f"--jobs {opts.jobs}: must be 1 or more")
        names = {c.name for c in self.release.components}
        for flag, given in (("--force", set(opts.force) - {"*"}), ("--component", set(opts.components))):
            unknown = sorted(given - names)
            if unknown:
                raise UsageError(
                    f"{flag} {unknown[0]}: no such component in {self.release.path} — fix: use one of "
                    f"{', '.join(self.release.component_names())}"
                )
        for d in opts.dists:
            if d not in self.release.dists:
                raise UsageError(
                    f"--dist {d}: not a target of {self.release.path} — fix: use one of {', '.join(self.release.dists)}"
                )
        self.dists = [self.release.dists[d] for d in (opts.dists or tuple(self.release.dists))]
        self.layout = Layout(self.release.release_id, opts.outdir, opts.workdir)
        self.template_cache: Path = self.layout.template_cache
        self.say: Say = self.console.say
        self._builder: Builder | None = None
        self.run_info: RunInfo | None = None  # set when a run starts building (the provenance records it)
        self.signer: Signer | None = None
        if opts.sign:
            from ..sign.signer import key_from_env

            log = self.layout.log("sign.log")
            self.signer = Signer(key_from_env(log_file=log), log)

    # -- preflight --------------------------------------------------------
    @property
    def builder(self) -> Builder:
        if self._builder is None:
            options = dict(self.opts.backend_options)
            if self.opts.backend == "mock":
                # mock's roots are named per work directory (its owner) and their stable configs live there
                options.setdefault("state_dir", self.layout.mock_state.resolve())
            self._builder = get_builder(self.opts.backend, **options)
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
        late = preflight.future_date(self.release)
        if late is not None:
            out.append(late)
        unpinned = [(c, s) for c, s in sources.unpinned(self.release) if components is None or c.name in components]
        if unpinned:
            comp, src = unpinned[0]
            out.append(
                UnpinnedSourceError(
                    f"{self.release.path}: components.{comp.name}.sources: {len(unpinned)} source(s) without sha256 "
                    f"(first: {redact_url(src.url or '')}) "
                    f"— fix: run `./build.py pin --release {self.release.path}` where the network "
                    "reaches upstream (trust on first use), review the diff, commit"
                )
            )
        missing = [c for c in self.release.components if not c.spec.is_file()]
        if missing:
            out.append(
                SpecError(
                    f"{self.release.path}: components.{missing[0].name}.spec: {missing[0].spec} does not "
                    f"exist ({len(missing)} component(s) without a spec template) "
                    "— fix: write the template"
                )
            )
        try:
            self.builder.check_available()
        except PmrepoError as exc:
            out.append(exc)
        out += self.upgrade_from_problems()
        try:
            # what build would refuse about the dists' repositories: check refuses it too
            self.builder.check_dists(self.release.dists.values(), self.release.path)
        except PmrepoError as exc:
            out.append(exc)
        return out

    def shaping_options(self) -> dict[str, object]:
        """The options that shape this run's output, as plain data (the provenance records them)."""
        o = self.opts
        chosen = {
            "dists": [d.name for d in self.dists],
            "backend": o.backend,
            "backendOptions": o.backend_options,
            "sign": o.sign,
            "gates": o.gates,
            "installCheck": o.install_check,
            "container": o.container,
            "containerImage": o.container_image,
            "upgradeFrom": o.upgrade_from,
            "components": list(o.components),
        }
        # a mirror's user:password (--mock-opt mirror.base=https://u:p@…) is never published
        plain: dict[str, object] = redacted(json.loads(json.dumps(chosen, default=str, sort_keys=True)))
        return plain

    def preflight_input(self) -> PreflightInput:
        """What preflight looks at; what build would refuse is asked only when the run builds."""
        log = self.layout.log("preflight.log") if self.opts.workdir.is_dir() else None
        return PreflightInput(
            self.release, tuple(self.dists), self.opts.workdir, self.opts.outdir, log, self._build_preflight
        )

    def _build_preflight(self) -> tuple[list[str], str]:
        found = [str(e) for e in self.preflight_problems()]
        return found, "" if found else f"sources pinned, specs present, backend {self.builder.name} available"

    def upgrade_from_problems(self) -> list[PmrepoError]:
        """``--upgrade-from`` checked before anything is built: the previous release
        (release.follows) and its repository packages are there for every dist."""
        if self.opts.upgrade_from is None or self.opts.container == "none":
            return []
        for dist in self.dists:
            try:
                previous_repo_packages(self.release, dist, self.opts.upgrade_from)
            except PmrepoError as exc:
                return [exc]
        return []

    @functools.cached_property
    def origins(self) -> dict[tuple[str, str], specs.Origin]:
        """(component, dist) -> the release where that build's NEVRA first appeared (``lineage``):
        its %changelog date and SOURCE_DATE_EPOCH, so an unchanged component builds the same bits."""
        return lineage.origins(self.release, [d.name for d in self.dists], self.console.watch)

    def source_key(self, comp: Component, dist: str) -> str:
        """The sources directory of ``comp``'s build for ``dist``: one per entry, and one per origin
        when its dists' builds have different ones (a project tree is packed with its build's date)."""
        mine = self.origins[(comp.name, dist)]
        theirs = {self.origins[(comp.name, d.name)] for d in self.dists if d.name in comp.dists}
        return comp.key if len(theirs) == 1 else f"{comp.key}@{mine.vr}"

    # -- steps --------------------------------------------------------------
    def render(self) -> dict[tuple[str, str], Path]:
        """Render every component spec per dist into the work directory."""
        out: dict[tuple[str, str], Path] = {}
        use_bytecode_cache(self.template_cache)
        for dist in self.dists:
            comps = self.release.components_for(dist.name)
            tick = self.console.counter(f"{dist.name}: specs rendered", len(comps))
            dated = [self.origins[(comp.name, dist.name)] for comp in comps]
            texts = specs.render_components(self.release, dist, comps, dated)  # in one child with limits, in order
            for n, (comp, text) in enumerate(zip(comps, texts, strict=True), 1):
                path = self.layout.dist(dist.name).spec(comp.name)
                if not (path.is_file() and path.read_text() == text):  # a rerun rewrites nothing
                    write_atomic(path, text)
                out[(comp.name, dist.name)] = path
                tick(n)
        return out

    def fetch_sources(self, components: set[str] | None = None) -> dict[str, tuple[Path, tuple[str, ...]]]:
        """The sources of each wanted component entry, keyed by ``source_key`` (per-dist entries of
        one component have their own sources; so have an entry's builds of different origins)."""
        fetcher = sources.Fetcher(self.layout.cache, say=self.say)
        out: dict[str, tuple[Path, tuple[str, ...]]] = {}
        wanted = {
            (self.source_key(c, d.name), c.key): (c, self.origins[(c.name, d.name)])
            for d in self.dists
            for c in self.release.components_for(d.name)
            if components is None or c.name in components
        }
        for (key, _), (comp, origin) in sorted(wanted.items(), key=lambda kv: kv[0]):
            dest = self.layout.sources(key)
            shutil.rmtree(dest, ignore_errors=True)
            files = sources.prepare(comp, self.release, dest, fetcher, origin.epoch)
            out[key] = (dest, tuple(sha256_file(f) for f in files))
        return out

    def plan(
        self, rendered: dict[tuple[str, str], Path], strict: bool = True, cache: Path | None = None
    ) -> dict[str, DistPlan]:
        """Build graphs per dist. ``strict``: a BuildRequires that no component
        provides and the backend cannot satisfy is an error (``build``); else it
        is only listed in ``graph.external`` (``plan`` shows it)."""
        plans: dict[str, DistPlan] = {}
        for dist in self.dists:
            log = self.layout.dist(dist.name).log("rpmspec.log")
            log.unlink(missing_ok=True)
            comps = self.release.components_for(dist.name)
            tick = self.console.counter(f"{dist.name}: specs parsed", len(comps))
            infos = {}
            for n, c in enumerate(comps, 1):
                infos[c.name] = specs.inspect_cached(
                    rendered[(c.name, dist.name)], dist, cache or self.layout.specinfo_cache, log
                )
                tick(n)
            for comp in self.release.components_for(dist.name):
                built = set(infos[comp.name].packages)
                missing = [p for p in comp.packages_for(dist.name) if p not in built and not p.endswith("-debuginfo")]
                if missing:
                    raise SpecError(
                        f"{self.release.path}: components.{comp.name}.packages.{dist.name}: "
                        f"{', '.join(missing)} not built by {rendered[(comp.name, dist.name)]} "
                        f"(it builds {', '.join(sorted(built))}) — fix: correct the list or the spec"
                    )
            external = self.builder.can_provide if strict else (lambda cap: True)
            graph = build_graph(dist.name, infos, external, self.builder.remedy)
            plans[dist.name] = DistPlan(dist, infos, graph)
        return plans

    def job_specs(
        self,
        rendered: dict[tuple[str, str], Path],
        srcs: dict[str, tuple[Path, tuple[str, ...]]],
        plans: dict[str, DistPlan],
        only: set[tuple[str, str]] | None = None,
    ) -> dict[tuple[str, str], JobSpec]:
        """The scheduler's jobs: (component, dist) -> what builds it, and what its time estimate reads."""
        jobs: dict[tuple[str, str], JobSpec] = {}
        for c, d in rendered:
            entry = self.release.component_for(c, d)
            assert entry is not None, (c, d)
            if only is None or (c, d) in only:
                where, digests = srcs[self.source_key(entry, d)]
                jobs[(c, d)] = JobSpec(
                    c,
                    plans[d].dist,
                    rendered[(c, d)],
                    where,
                    digests,
                    source_date_epoch=self.origins[(c, d)].epoch,
                    version=entry.version,
                    weight=entry.weight.get(d),
                    packages=len(plans[d].infos[c].packages),
                )
        return jobs

    def build(
        self,
        rendered: dict[tuple[str, str], Path],
        srcs: dict[str, tuple[Path, tuple[str, ...]]],
        plans: dict[str, DistPlan],
        only: set[tuple[str, str]] | None = None,
    ) -> dict[tuple[str, str], JobResult]:
        jobs = self.job_specs(rendered, srcs, plans, only)
        n = self.opts.jobs or self.builder.default_jobs(os.cpu_count() or 1)
        reused = self.reuse_plan(plans)
        sched = Scheduler(
            self.builder,
            Store(self.layout.store),
            n,
            self.release.epoch,
            Progress(len(jobs), console=self.console),
            self.opts.force,
            history=TimingHistory(timings_file(), self.say),
            reuse=reused.jobs(jobs),
            take=reused.take,
        )
        for line in reused.lines():
            self.say(line)
        self.say(
            f"building {len(jobs) - len(sched.reuse)} jobs ({len({c for c, _ in jobs})} components x "
            f"{len(self.dists)} dists) with {self.builder.name}, {n} at a time"
            + (f"; {len(sched.reuse)} taken from the previous release" if sched.reuse else "")
        )
        try:
            results = sched.run({d: p.graph for d, p in plans.items()}, jobs)
        finally:
            self.builder.finish(self.layout.logs)
            reused.close()
        logs = self.layout.release_logs / "build-summary.txt"
        self.say(summary(results, logs))
        self.say(f"build logs: {logs}")
        if not self.builder.shippable:
            self.say(f"NOT SHIPPABLE: {self.builder.unshippable_reason()}")
        failed = [r for r in results.values() if r.status == "failed"]
        if failed:
            f = failed[0]
            skipped = sum(1 for r in results.values() if r.status == "skipped")
            where = "" if f.log is None or str(f.log) in f.error else f" (log: {f.log})"
            raise BuildError(
                f"{len(failed)} build(s) failed, {skipped} skipped; first: {f.component} ({f.dist}): {f.error}{where}"
            )
        return results

    def reuse_plan(self, plans: dict[str, DistPlan]) -> ReusePlan:
        """The jobs taken from the previous release's output, where the NEVRA gate finds it (``reuse``)."""
        root = self.opts.upgrade_from or self.opts.outdir
        return plan_reuse(self.release, plans, self.origins, root, self.layout, self.console.step)

    def checks(self) -> list[Check]:
        """The checks after assembly, in order: the same list for ``all`` and ``gate``
        (``checks.default_checks``), the previous release located here for the upgrade test."""
        o = self.opts
        upgrade_from = o.upgrade_from
        previous = (
            None
            if upgrade_from is None
            else functools.partial(previous_repo_packages, self.release, upgrade_from=upgrade_from)
        )
        opts = CheckOptions(o.install_check, o.gates, o.container, o.container_image, o.container_pm_options)
        # the NEVRA gate: the previous release's output under --upgrade-from, else beside this one's
        predecessor = functools.partial(predecessor_output, self.release, root=upgrade_from or o.outdir)
        return default_checks(self.release, opts, previous, self.say, predecessor)

    def assembly(self, dist: Dist, check_list: list[Check] | None = None) -> Assembly:
        return Assembly(
            self.release,
            dist,
            self.layout.dist(dist.name),
            self.say,
            signer=self.signer,
            checks=self.checks() if check_list is None else check_list,
            backend=self.opts.backend,
            step=self.console.step,
            unshippable=self.builder.unshippable_reason(),
            run_info=self.run_info,
            build_repos=self.builder.build_repositories(dist),
        )

    def assemble(
        self, dist: Dist, results: dict[tuple[str, str], JobResult], check_list: list[Check] | None = None
    ) -> Path:
        return self.assembly(dist, check_list).run(results)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One run at a time per work directory and per output directory."""
        with WorkdirLock(self.opts.workdir), WorkdirLock(self.opts.outdir, "output directory"):
            yield

    # -- the subcommands, one method each ---------------------------------------
    def run_all(self, lock: bool = True) -> dict[str, Path]:
        """``all``: every step, the checks, the output in place; a summary table."""
        t0 = time.monotonic()
        self.preflight()
        self.run_info = RunInfo.now(self.shaping_options())
        with self.locked() if lock else contextlib.nullcontext():
            self.say(
                f"release {self.release.release_id} from {self.release.path}: "
                f"{len(self.release.component_names())} components, dists {', '.join(d.name for d in self.dists)}"
            )
            with step("render"), self.console.step("render specs"):
                rendered = self.render()
            with step("sources"), self.console.step("sources"):
                srcs = self.fetch_sources()
            with step("plan"), self.console.step("build plan (rpmspec)"):
                plans = self.plan(rendered)
            for dname, p in plans.items():
                self.say(f"{dname}: build waves: " + " | ".join(", ".join(w) for w in p.graph.waves()))
            with step("build"):
                results = self.build(rendered, srcs, plans)
            outputs = {}
            with step("assemble"):
                clean_scratch(self.layout.staging)
            check_list = self.checks()  # one list for every dist (the container engine is detected once)
            for d in self.dists:
                with step(f"assemble {d.name}"):
                    outputs[d.name] = self.assemble(d, results, check_list)
        records = {d: BuildRecord.read(self.layout.dist(d).output.build_json) for d in outputs}
        rows = []
        for dname, rec in records.items():
            for fname, info in sorted(rec.files.items()):
                rows.append((dname, fname, f"{info.size / 1024:.0f} KiB", info.sha256[:16]))
        self.say(table(["dist", "repo package", "size", "sha256"], rows))
        for dname, rec in records.items():
            for check, note in rec.checks.items():
                self.say(f"{dname}: {check}: {note}")
            if not rec.shippable:
                self.say(f"{dname}: NOT SHIPPABLE ({rec.not_shippable}); publish refuses it")
        self.say(f"done in {time.monotonic() - t0:.1f}s: {', '.join(str(p) for p in outputs.values())}")
        return outputs

    def run_check(self) -> None:
        """``check``: the manifest is valid and buildable here (writes nothing)."""
        rel = self.release
        late = preflight.future_date(rel)  # before the specs are rendered and parsed
        if late is not None:
            raise late
        self.say(
            f"{rel.path}: valid manifest for {rel.release_id} "
            f"({len(rel.component_names())} components, dists {', '.join(rel.dists)})"
        )
        if shutil.which("rpmspec"):
            # rendered and parsed in a scratch directory: `check` writes nothing of the user's but
            # the work directory's specinfo cache (shared with plan and build: a rerun parses nothing)
            with tempfile.TemporaryDirectory(prefix="pmrepo-check-") as tmp:
                scratch = Pipeline(
                    dataclasses.replace(self.opts, workdir=Path(tmp) / "work", outdir=Path(tmp) / "out"),
                    say=lambda s: None,
                    release=rel,
                )
                scratch.console, scratch.template_cache = self.console, self.template_cache
                with self.console.step(f"render specs ({self._jobs_text()})"):
                    rendered = scratch.render()
                with self.console.step(f"parse specs (rpmspec, cache {self.layout.specinfo_cache})"):
                    plans = scratch.plan(rendered, strict=False, cache=self.layout.specinfo_cache)
                for dname, plan in plans.items():
                    self.say(f"== {dname}")
                    say_lacking(self.console, scratch.builder, plan, say_none=True)
        with self.console.step("preflight (sources, spec templates, backend)"):
            self.preflight()
        self.say(f"buildable here with backend {self.builder.name}")

    def _jobs_text(self) -> str:
        n = sum(len(self.release.components_for(d.name)) for d in self.dists)
        return f"{n} component specs for {', '.join(d.name for d in self.dists)}"

    def run_render(self) -> None:
        with self.locked():
            with self.console.step(f"render specs ({self._jobs_text()})"):
                rendered = self.render()
            for (comp, dist), path in sorted(rendered.items()):
                self.say(f"{comp} {dist}: {path}")

    def run_sources(self) -> None:
        with WorkdirLock(self.opts.workdir):  # writes only the work directory: the output's lock stays free
            self.preflight()
            for comp, (path, digests) in self.fetch_sources().items():
                self.say(f"{comp}: {path} ({len(digests)} file(s))")

    def run_build(self) -> dict[tuple[str, str], JobResult]:
        """``build``: every job, or with ``--component`` only those and their chain."""
        with self.locked():
            if not self.opts.components:
                self.preflight()
                rendered = self.render()
                return self.build(rendered, self.fetch_sources(), self.plan(rendered))
            # --component: the chain comes from the build graph, so only its sources must be pinned
            rendered = self.render()
            plans = self.plan(rendered)
            only = component_selection(plans, self.opts.components, [d.name for d in self.dists])
            names = {c for c, _ in only or ()}
            self.preflight(names)
            return self.build(rendered, self.fetch_sources(names), plans, only)

    def run_plan(self) -> None:
        """``plan``: per dist the build order, the waves and the repo package's contents."""
        with WorkdirLock(self.opts.workdir):  # writes only the work directory: the output's lock stays free
            with self.console.step(f"render specs ({self._jobs_text()})"):
                rendered = self.render()
            with self.console.step(f"parse specs (rpmspec, cache {self.layout.specinfo_cache})"):
                plans = self.plan(rendered, strict=False)
            reused = self.reuse_plan(plans)
        say_plan(self.release, plans, self.builder, self.console, reused)

    def run_gate(self) -> list[DistRun]:
        """``gate``: the checks of ``all`` (the same list, the reports in the same
        places) on what ``all`` assembled; a table, then the first failure."""
        runs = []
        with self.locked():
            check_list = self.checks()
            for dist in self.dists:
                where = self.layout.dist(dist.name)
                if not (where.tree / "repodata").is_dir():
                    raise GateError(
                        f"{where.work}: nothing assembled for {dist.name} — fix: run `./build.py all "
                        f"--release {self.release.path}` first"
                    )
                ctx = CheckContext.for_dist(
                    self.release, dist, where, where.output.rpms(), where.output, say=self.say, step=self.console.step
                )
                runs.append(run_checks(check_list, ctx, "gate"))
        self.say(check_summary(runs))
        for dist in self.dists:
            self.say(f"reports: {self.layout.dist(dist.name).reports}")
        for run in runs:
            run.raise_for_failure()
        return runs

    def run_notes(self) -> list[Path]:
        """``notes``: the release notes from the manifest and what was built (build.json, installed.json)."""
        with WorkdirLock(self.opts.outdir, "output directory"), self.console.step("release notes"):
            paths = render_notes(self.release, self.layout.release_out, repo_dir=self.opts.outdir, say=self.say)
        for path in paths:
            self.say(str(path))
        return paths

    def run_pin(self) -> None:
        """``pin``: record the sha256 of every unpinned URL source (trust on first use)."""
        with WorkdirLock(self.opts.workdir):
            pin_sources(self.release, self.layout.cache, self.console)

    def run_publish(
        self, target: str, *, dry_run: bool = False, replace: bool = False, allow_unchecked: bool = False
    ) -> None:
        """``publish``: vouch for the outputs, regenerate the notes, SHA256SUMS, upload atomically."""
        if not target:
            raise UsageError("publish: no mirror given — fix: pass --target URL or set PUBLISH_TARGET")
        rel = self.release
        with self.locked():
            result = publish_outputs(
                rel,
                self.layout,
                tuple(self.dists),
                self.preflight_input,
                self.opts.outdir,
                target,
                self.console,
                dry_run=dry_run,
                replace=replace,
                allow_unchecked=allow_unchecked,
                allow_insecure_auth=self.opts.allow_insecure_auth,
            )
        if not dry_run:
            self.say(f"published {result.files} files to {result.url}")

    def run_preflight(
        self,
        *,
        sign: bool = False,
        target: str | None = None,
        replace: bool = False,
        container: str = "none",
        container_image: str | None = None,
    ) -> list[str]:
        """``preflight``: everything a release run needs, checked at once; one line per problem."""
        needs = preflight.Needs(
            build=True, sign=sign, target=target, replace=replace, container=container, container_image=container_image
        )
        good = preflight.check(self.preflight_input(), needs)
        for line in good:
            self.say(f"preflight: ok: {line}")
        return good
