"""Reuse the build (Koji's rule): a NEVRA the previous release published is taken from there,
never built again.

A (component, dist) whose entry is unchanged from the release it ``follows`` (``lineage``: the
same version-release, rendered spec, sources, patches and macros) is the same build. When the
previous release's published output is there — where the NEVRA gate looks for it
(``--upgrade-from DIR``, else ``--outdir``; ``checks.previous.predecessor_output``) — and its
repository packages carry every RPM of that build (the SRPM, each binary package rpmspec says
the spec makes, the debuginfo packages the manifest ships), the job is planned as a
:class:`Reuse`: the scheduler takes those RPMs out of the repository packages
(``reuse_take.Taker``: verified against the previous release's records before anything is
used) instead of building, reports the job ``reused from <release>``, and the rest of the
pipeline (repositories, checks, notes, SBOM, provenance) sees them as that job's results; the
NEVRA gate then passes by construction. Otherwise the job is built as before, and ``plan`` and
the build say why.

A reused build was built against its build dependencies as the previous release had them: when
one of them is built anew here, the line about it says so and how to rebuild it (bump its
release).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.nevra import Predecessor
from ..checks.rpmquery import packaged_files
from ..errors import PmrepoError
from ..layout import rpm_file_name
from ..manifest import Dist, Release
from ..records import BuildRecord, RecordError, ReusedRpm
from ..render.specs import Origin, SpecInfo
from .graph import BuildGraph

REUSE_FORMAT = "pmrepo-reuse-1"  # in every reused job's key: a new way of taking builds gets new keys


@dataclass(frozen=True)
class TakenRpm:
    """One RPM as the previous release published it."""

    name: str  # its file name
    repo_package: str  # the repository package carrying it (file name)
    path: str  # its path inside that package
    sha256: str  # as that package's header records it


@dataclass(frozen=True)
class Reuse:
    """One job taken from the previous release's output: its SRPM and binary RPMs."""

    component: str
    dist: str
    release_id: str  # the previous release
    srpm: TakenRpm
    binary: tuple[TakenRpm, ...]

    @property
    def files(self) -> tuple[TakenRpm, ...]:
        return (self.srpm, *self.binary)

    @property
    def key(self) -> str:
        """The job's key in the build store: the very files taken, and where from."""
        files = [[f.name, f.repo_package, f.path, f.sha256] for f in self.files]
        payload = [REUSE_FORMAT, self.release_id, self.dist, self.component, files]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()

    def records(self) -> dict[str, ReusedRpm]:
        """What build.json records of it (``records.ReusedRpm`` per RPM)."""
        return {f.name: ReusedRpm(self.release_id, f.repo_package, f.path, f.sha256) for f in self.files}


@dataclass(frozen=True)
class DistReuse:
    """What one dist takes from the previous release, and why the rest is built."""

    dist: str
    previous: str = ""  # the previous release's id ("" : none)
    reused: dict[str, Reuse] = field(default_factory=dict)  # component -> its reuse
    not_reused: dict[str, str] = field(default_factory=dict)  # unchanged component -> why it is built anyway
    none: str = ""  # why nothing can be taken from the previous release ("" : it can)


def published_rpms(prev: Predecessor, log: Path | None) -> dict[str, TakenRpm]:
    """Every RPM the previous release's three repository packages carry in its repositories."""
    assert prev.release is not None
    dirs = {r.rpm_dir.rstrip("/") for r in prev.release.repositories}
    out: dict[str, TakenRpm] = {}
    for rpm in prev.repo_rpms:
        for path, (_, digest) in packaged_files([rpm], log=log).items():
            parent, _, name = path.rpartition("/")
            if parent in dirs and name.endswith(".rpm") and digest:
                out[name] = TakenRpm(name, rpm.name, path, digest)
    return out


def _unusable(prev: Predecessor) -> str:
    """Why the previous release's output cannot give builds ("" : it can)."""
    if prev.release is None:
        return prev.why_none or "no previous release"
    if prev.missing or prev.output is None:
        return prev.missing or "its output was not located"
    try:
        record = BuildRecord.read(prev.output.build_json)
    except RecordError as exc:
        return f"its build.json is not usable ({exc})"
    if not record.shippable:
        return f"{prev.output.build_json} says its builds are not shippable ({record.not_shippable})"
    return ""


def _wanted(comp_debuginfo: Sequence[str], info: SpecInfo, published: Mapping[str, TakenRpm]) -> list[str]:
    """The file names of one build: its SRPM, each package the spec makes, the shipped debuginfo."""
    names = [f"{info.source_name}-{info.evr}.src.rpm"]
    names += [rpm_file_name(p, info.evr, info.arches.get(p, "noarch")) for p in info.packages]
    arches = sorted(set(info.arches.values()) - {"noarch"}) or ["noarch"]  # a debuginfo package's: its build's
    for pkg in comp_debuginfo:
        candidates = [rpm_file_name(pkg, info.evr, arch) for arch in arches]
        names.append(next((n for n in candidates if n in published), candidates[0]))
    return names


def plan_dist(
    release: Release,
    dist: Dist,
    prev: Predecessor,
    origins: Mapping[tuple[str, str], Origin],
    infos: Mapping[str, SpecInfo],
    log: Path | None = None,
) -> DistReuse:
    """Which of ``dist``'s jobs are taken from the previous release's output ``prev``."""
    why = _unusable(prev)
    if why:
        return DistReuse(dist.name, prev.release.release_id if prev.release else "", none=why)
    assert prev.release is not None
    pid = prev.release.release_id
    try:
        published = published_rpms(prev, log)
    except PmrepoError as exc:
        return DistReuse(dist.name, pid, none=f"its repository packages are not readable ({exc})")
    mine = Origin.of(release)
    reused: dict[str, Reuse] = {}
    not_reused: dict[str, str] = {}
    for comp in release.components_for(dist.name):
        if origins.get((comp.name, dist.name), mine) == mine or comp.name not in infos:
            continue  # new or changed here: built
        names = _wanted(comp.debuginfo.get(dist.name, ()), infos[comp.name], published)
        missing = [n for n in names if n not in published]
        if missing:
            not_reused[comp.name] = f"unchanged, but {pid} does not publish {missing[0]}"
            continue
        srpm, *binary = (published[n] for n in names)
        reused[comp.name] = Reuse(comp.name, dist.name, pid, srpm, tuple(binary))
    return DistReuse(dist.name, pid, reused, not_reused)


def stale(plan: DistReuse, graph: BuildGraph) -> dict[str, list[str]]:
    """Reused component -> its build dependencies built anew here (it was built against their
    earlier builds)."""
    out: dict[str, list[str]] = {}
    for name in plan.reused:
        anew = sorted(d for d in graph.deps.get(name, ()) if d not in plan.reused)
        if anew:
            out[name] = anew
    return out


def describe(plan: DistReuse, graph: BuildGraph, release: Release, indent: str = "") -> list[str]:
    """Lines for ``plan`` and the build: what is reused from where, what is built and why."""
    d = plan.dist
    if plan.none:
        return [f"{indent}{d}: nothing reused from the previous release: {plan.none}"]
    lines = []
    if plan.reused:
        lines.append(
            f"{indent}{d}: reused from {plan.previous}, not built ({len(plan.reused)}): "
            + ", ".join(sorted(plan.reused))
        )
    else:
        lines.append(f"{indent}{d}: nothing reused from {plan.previous} (every entry is new or changed)")
    for name, why in sorted(plan.not_reused.items()):
        lines.append(f"{indent}{d}: {name} is built: {why}")
    for name, deps in sorted(stale(plan, graph).items()):
        lines.append(
            f"{indent}{d}: {name} is {plan.previous}'s build, made against its {', '.join(deps)}, which "
            f"{'is' if len(deps) == 1 else 'are'} built anew here — fix: bump components.{name}.release in "
            f"{release.path.name} to rebuild it against {'it' if len(deps) == 1 else 'them'}"
        )
    return lines
