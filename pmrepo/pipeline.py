"""The release pipeline, step by step; each step is also a CLI subcommand.

render → sources → plan (build graphs) → build (scheduler) → assemble
(repository, metapackage, repo packages, install check) → output under
``repo/<release_id>/<dist>/`` (temporary directory renamed into place).
"""
from __future__ import annotations

import calendar
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import installcheck, manifest, repopkg, repository, sources, specs
from .builders import Builder, get_builder
from .errors import BuildError, PmrepoError, SpecError, UsageError
from .graph import BuildGraph, build_graph
from .manifest import Dist, Release
from .progress import Progress, table
from .render import write_atomic
from .scheduler import JobResult, JobSpec, Scheduler, Store, summary

Say = Callable[[str], None]


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
    backend_options: dict[str, object] = field(default_factory=dict)


@dataclass
class DistPlan:
    dist: Dist
    infos: dict[str, specs.SpecInfo]
    graph: BuildGraph


class Pipeline:
    def __init__(self, opts: Options, say: Say | None = None) -> None:
        self.opts = opts
        self.release: Release = manifest.load(opts.release)
        for d in opts.dists:
            if d not in self.release.dists:
                raise UsageError(f"--dist {d}: not a target of {self.release.path} — fix: use one of "
                                 f"{', '.join(self.release.dists)}")
        self.dists = [self.release.dists[d] for d in (opts.dists or tuple(self.release.dists))]
        self.work = opts.workdir / self.release.release_id
        self.epoch = calendar.timegm(self.release.date.timetuple())
        self.say: Say = say or (lambda s: print(s, flush=True))
        self._builder: Builder | None = None

    # -- preflight --------------------------------------------------------
    @property
    def builder(self) -> Builder:
        if self._builder is None:
            self._builder = get_builder(self.opts.backend, **self.opts.backend_options)
        return self._builder

    def preflight(self) -> None:
        """Everything that can be refused before anything is written."""
        unpinned = sources.unpinned(self.release)
        if unpinned:
            comp, src = unpinned[0]
            raise sources.UnpinnedSourceError(
                f"{self.release.path}: components.{comp.name}.sources: {len(unpinned)} source(s) without sha256 "
                f"(first: {src.url}) — fix: run `./build.py pin --release {self.release.path}` where the network "
                "reaches upstream (trust on first use), review the diff, commit")
        missing = [c for c in self.release.components if not c.spec.is_file()]
        if missing:
            raise SpecError(f"{self.release.path}: components.{missing[0].name}.spec: {missing[0].spec} does not exist "
                            f"({len(missing)} component(s) without a spec template) — fix: write the template")
        self.builder.check_available()

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

    def fetch_sources(self) -> dict[str, tuple[Path, tuple[str, ...]]]:
        fetcher = sources.Fetcher(self.opts.workdir / "cache")
        out: dict[str, tuple[Path, tuple[str, ...]]] = {}
        wanted = {c.name for d in self.dists for c in self.release.components_for(d.name)}
        for comp in self.release.components:
            if comp.name not in wanted:
                continue
            dest = self.work / "sources" / comp.name
            shutil.rmtree(dest, ignore_errors=True)
            files = sources.prepare(comp, self.release, dest, fetcher)
            out[comp.name] = (dest, tuple(sources.sha256_file(f) for f in files))
        return out

    def plan(self, rendered: dict[tuple[str, str], Path]) -> dict[str, DistPlan]:
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
            graph = build_graph(dist.name, infos, self.builder.can_provide, self.builder.remedy)
            plans[dist.name] = DistPlan(dist, infos, graph)
        return plans

    def build(self, rendered: dict[tuple[str, str], Path], srcs: dict[str, tuple[Path, tuple[str, ...]]],
              plans: dict[str, DistPlan]) -> dict[tuple[str, str], JobResult]:
        jobs = {(c, d): JobSpec(c, plans[d].dist, rendered[(c, d)], srcs[c][0], srcs[c][1])
                for (c, d) in rendered}
        n = self.opts.jobs or self.builder.default_jobs(os.cpu_count() or 1)
        sched = Scheduler(self.builder, Store(self.opts.workdir / "store"), n, self.epoch,
                          Progress(len(jobs)), self.opts.force)
        self.say(f"building {len(jobs)} jobs ({len({c for c, _ in jobs})} components × "
                 f"{len(self.dists)} dists) with {self.builder.name}, {n} at a time")
        results = sched.run({d: p.graph for d, p in plans.items()}, jobs)
        self.say(summary(results))
        failed = [r for r in results.values() if r.status == "failed"]
        if failed:
            f = failed[0]
            skipped = sum(1 for r in results.values() if r.status == "skipped")
            raise BuildError(f"{len(failed)} build(s) failed, {skipped} skipped; first: {f.component} ({f.dist}): "
                             f"{f.error} (log: {f.log})")
        return results

    def assemble(self, dist: Dist, results: dict[tuple[str, str], JobResult]) -> Path:
        """Repository, metapackage and repo packages for ``dist``, then the
        install check; the output directory is renamed into place at the end.
        Reused when none of its inputs changed."""
        rel = self.release
        comps = rel.components_for(dist.name)
        by_name: dict[str, Path] = {}
        srpms: list[Path] = []
        for comp in comps:
            res = results[(comp.name, dist.name)]
            for rpm in res.binary_rpms:
                by_name[_rpm_name(rpm)] = rpm
            if res.srpm:
                srpms.append(res.srpm)
        ship, debug = [], []
        for comp in comps:
            for pkg in comp.packages_for(dist.name):
                if pkg not in by_name:
                    raise BuildError(f"{comp.name} ({dist.name}): package {pkg} listed in the manifest was not built "
                                     f"(built: {', '.join(sorted(_rpm_name(p) for p in results[(comp.name, dist.name)].binary_rpms))})")
                ship.append(by_name[pkg])
            for pkg in comp.debuginfo.get(dist.name, ()):
                if pkg not in by_name:
                    raise BuildError(f"{comp.name} ({dist.name}): debuginfo package {pkg} was not built — fix: "
                                     "correct components.*.debuginfo or build with debuginfo enabled")
                debug.append(by_name[pkg])
        comps_xml = repopkg.render_comps(rel, dist)
        key = _digest({
            "ship": [(p.name, results_key(results, p)) for p in ship],
            "debug": [p.name for p in debug], "srpms": [p.name for p in srpms],
            "keys": sorted(r.key for (c, d), r in results.items() if d == dist.name),
            "comps": comps_xml, "requires": repopkg.metapackage_requires(rel, dist),
            "templates": [_file_digest(p) for p in sorted((repopkg.SPECS).glob("pacemaker-*.spec.j2"))
                          + sorted(repopkg.REPO_TEMPLATES.glob("*.j2"))],
            "release": [rel.name, rel.vr, rel.prefix, rel.repo_id, rel.repo_file, rel.metapackage, rel.arch],
            "install_check": self.opts.install_check,
        })
        final = self.opts.outdir / rel.release_id / dist.name
        meta_path = final / "build.json"
        if meta_path.is_file():
            try:
                if json.loads(meta_path.read_text()).get("key") == key:
                    self.say(f"{dist.name}: repository and repo packages unchanged, reused {final}")
                    return final
            except ValueError:
                pass
        work = self.work / dist.name
        for sub in ("tree", "debuginfo-tree", "srpms"):
            shutil.rmtree(work / sub, ignore_errors=True)
        log = work / "logs" / "assemble.log"
        log.unlink(missing_ok=True)
        t0 = time.monotonic()
        meta_rpm = repopkg.build_metapackage(rel, dist, work, log, self.epoch)
        comps_file = work / "comps.xml"
        write_atomic(comps_file, comps_xml)
        repository.make_repository(work / "tree", [*ship, meta_rpm], groupfile=comps_file, revision=self.epoch, log=log)
        repository.make_repository(work / "debuginfo-tree", debug, groupfile=None, revision=self.epoch, log=log)
        (work / "srpms").mkdir(parents=True)
        for s in srpms:
            shutil.copyfile(s, work / "srpms" / s.name)
        self.say(f"{dist.name}: repository of {len(ship) + 1} packages, {len(debug)} debuginfo, {len(srpms)} SRPMs "
                 f"({time.monotonic() - t0:.1f}s)")
        repo_rpms = repopkg.build_repo_packages(rel, dist, work, tree=work / "tree", debuginfo_tree=work / "debuginfo-tree",
                                                srpm_dir=work / "srpms", log=log, epoch=self.epoch)
        main_rpm = next(p for p in repo_rpms if _rpm_name(p) == rel.name)
        self.say(f"{dist.name}: built {', '.join(p.name for p in repo_rpms)} ({time.monotonic() - t0:.1f}s)")
        check_note = "not run (--no-install-check)"
        if self.opts.install_check:
            report = installcheck.check(rel, dist, main_rpm, work / "logs" / "installcheck.log")
            check_note = f"installed and erased {len(report.installed)} packages ({report.method})"
            self.say(f"{dist.name}: install check: {check_note}")
        self.opts.outdir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{rel.release_id}-{dist.name}-", dir=self.opts.outdir))
        staging.chmod(0o755)
        try:
            for p in repo_rpms:
                shutil.copyfile(p, staging / p.name)
            files = {p.name: {"size": p.stat().st_size, "sha256": sources.sha256_file(p)} for p in repo_rpms}
            meta = {"dist": dist.name, "key": key, "release": rel.release_id, "install_check": check_note,
                    "packages": {_rpm_name(p): _rpm_vr(p, dist) for p in [*ship, meta_rpm]},
                    "files": files}
            (staging / "build.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                old = final.with_name(f".old-{dist.name}-{os.getpid()}")
                final.rename(old)
                staging.rename(final)
                shutil.rmtree(old)
            else:
                staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final

    def run_all(self) -> dict[str, Path]:
        from .lock import WorkdirLock

        t0 = time.monotonic()
        self.preflight()
        with WorkdirLock(self.opts.workdir):
            self.say(f"release {self.release.release_id} from {self.release.path}: "
                     f"{len(self.release.components)} components, dists {', '.join(d.name for d in self.dists)}")
            rendered = self.render()
            srcs = self.fetch_sources()
            plans = self.plan(rendered)
            for d, p in plans.items():
                self.say(f"{d}: build waves: " + " | ".join(", ".join(w) for w in p.graph.waves()))
            results = self.build(rendered, srcs, plans)
            outputs = {d.name: self.assemble(d, results) for d in self.dists}
        rows = []
        for dname, out in outputs.items():
            meta = json.loads((out / "build.json").read_text())
            for fname, info in sorted(meta["files"].items()):
                rows.append((dname, fname, f"{info['size'] / 1024:.0f} KiB", meta["install_check"]))
        self.say(table(["dist", "repo package", "size", "install check"], rows))
        self.say(f"done in {time.monotonic() - t0:.1f}s: {', '.join(str(p) for p in outputs.values())}")
        return outputs


def _rpm_name(path: Path) -> str:
    """Package name from an RPM file name (name-version-release.arch.rpm)."""
    stem = path.name[: -len(".rpm")]
    stem = stem.rsplit(".", 1)[0]  # arch
    return stem.rsplit("-", 2)[0]


def _rpm_vr(path: Path, dist: Dist) -> str:
    stem = path.name[: -len(".rpm")].rsplit(".", 1)[0]
    parts = stem.rsplit("-", 2)
    return f"{parts[1]}-{parts[2]}"


def results_key(results: dict[tuple[str, str], JobResult], rpm: Path) -> str:
    for r in results.values():
        if r.entry is not None and rpm.parent == r.entry:
            return r.key
    return ""


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
