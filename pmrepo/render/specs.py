"""Spec files: render component templates per dist, and ask ``rpmspec`` what a
rendered spec builds, provides and BuildRequires under that dist's macros.

Template context (all templates, component and tool specs alike):
  ``rel``      the Release (rel.repositories, rel.repo("main").prefix, rel.metapackage, …)
  ``dist``     the Dist (dist.name, dist.tag, dist.rhel, dist.os_requires)
  ``changelog_date``  the release date as %changelog wants it — for a component,
               the date of the release where its NEVRA first appeared (its ``Origin``,
               found by :mod:`pmrepo.render.lineage`), so an unchanged component renders,
               and builds, the same in every release that ships it
Component specs additionally get:
  ``name``, ``version``, ``release`` (without %{dist}), ``summary``,
  ``sources`` (file names, Source0…), ``patches`` (file names, Patch0…),
  ``changes`` (the manifest's change note; by default "Update to V-R for
  <the origin release>"), ``component`` (the Component).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..fsutil import NotRegularFileError, check_regular, write_atomic
from ..manifest import Component, Dist, Release
from ..run import Result, run
from ..sandbox import spec_parse
from . import limits as render_limits
from .environment import COMPONENT_TEXT_FIELDS, RELEASE_TEXT_FIELDS, neutral, render_spec


@dataclass(frozen=True)
class Origin:
    """The release a component's build takes its %changelog date, default change text and
    SOURCE_DATE_EPOCH from: where its NEVRA first appeared (``lineage.origins``)."""

    name: str  # the release's package name, e.g. pacemaker-repo
    vr: str  # its version-release
    date: dt.date

    @classmethod
    def of(cls, release: Release) -> Origin:
        return cls(release.name, release.vr, release.date)

    @property
    def epoch(self) -> int:
        """The date, midnight UTC (as ``Release.epoch``)."""
        return calendar.timegm(self.date.timetuple())


def base_context(release: Release, dist: Dist, date: dt.date | None = None) -> dict[str, Any]:
    return {"rel": release, "dist": dist, "changelog_date": (date or release.date).strftime("%a %b %d %Y")}


def component_context(release: Release, dist: Dist, comp: Component, origin: Origin | None = None) -> dict[str, Any]:
    origin = origin or Origin.of(release)
    ctx = base_context(release, dist, origin.date)
    ctx.update(
        name=comp.name,
        version=comp.version,
        release=comp.release,
        summary=comp.summary,
        sources=[s.filename for s in comp.sources],
        patches=[p.name for p in comp.patches],
        changes=comp.changes or f"Update to {comp.version}-{comp.release} for {origin.name} {origin.vr}",
        component=comp,
    )
    return ctx


def spec_problem(release: Release, comp: Component) -> SpecError | None:
    """Why ``comp``'s spec template cannot be rendered (missing, or not a regular file), or None."""
    try:
        check_regular(comp.spec)
        return None
    except (OSError, NotRegularFileError) as exc:
        problem = f"{comp.spec} does not exist" if isinstance(exc, FileNotFoundError) else str(exc)
    return SpecError(
        f"{release.path}: components.{comp.name}.spec: {problem} — "
        f'fix: write the template (a regular file) or set spec = "…" (spec_dir is {release.spec_dir})'
    )


def render_component(release: Release, dist: Dist, comp: Component, origin: Origin | None = None) -> str:
    """``comp``'s spec for ``dist``; ``origin`` (default: ``release``) dates its %changelog."""
    return next(render_components(release, dist, [comp], [origin]))


def render_components(
    release: Release,
    dist: Dist,
    comps: Sequence[Component],
    origins: Sequence[Origin | None] | None = None,
) -> Iterator[str]:
    """Each component's spec for ``dist``, in order, as it is rendered: all of them in one
    child process with limits (render_limits), each checked against its neutral render;
    ``origins`` (one per component, default: ``release``) date their %changelog."""
    for comp in comps:
        problem = spec_problem(release, comp)
        if problem is not None:
            raise problem
    plain = neutral(release, RELEASE_TEXT_FIELDS)
    dated = list(origins) if origins is not None else [None] * len(comps)

    def job(comp: Component, origin: Origin) -> Callable[[], str]:
        return lambda: render_spec(
            comp.spec,
            component_context(release, dist, comp, origin),
            component_context(plain, dist, neutral(comp, COMPONENT_TEXT_FIELDS), origin),
            what=f"{comp.name} ({dist.name})",
            root=release.spec_dir,
        )

    yield from render_limits.each(
        [(str(comp.spec), job(comp, origin or Origin.of(release))) for comp, origin in zip(comps, dated, strict=True)]
    )


def define_args(defines: dict[str, str]) -> list[str]:
    args: list[str] = []
    for key, value in defines.items():
        args += ["--define", f"{key} {value}"]
    return args


@dataclass(frozen=True)
class SpecInfo:
    """What rpmspec says a rendered spec produces for one dist."""

    path: Path
    source_name: str
    packages: tuple[str, ...]  # binary package names
    evr: str  # version-release of the main package, with %{dist}
    arches: dict[str, str]  # package -> BuildArch ("noarch" or "x86_64")
    provides: dict[str, tuple[str, ...]]  # package -> capability names it provides
    buildrequires: tuple[str, ...]  # capability names (operators stripped)


_LINE_ERROR = re.compile(r"^error: line (\d+): (.*)$")


def rpmspec_query(spec: Path, args: list[str], log: Path | None) -> Result:
    """``rpmspec -q <args>`` of ``spec``, whatever its exit code: a parse runs the spec's
    ``%(…)`` macros, so it is confined like a build (sandbox.py)."""
    with spec_parse(spec) as (box, readable):
        argv, env = box.command(["rpmspec", "-q", *args, str(readable)], {}, quiet=True)
        return run(argv, log_file=log, env=env, check=False)


def _query(spec: Path, dist: Dist, args: list[str], log: Path | None) -> list[str]:
    res = rpmspec_query(spec, [*define_args(dist.rpm_defines()), *args], log)
    if res.returncode != 0:
        raise SpecError(parse_failure(spec, res.output, log))
    return [ln for ln in res.output.splitlines() if ln.strip() and not ln.startswith(("warning:", "error:"))]


def parse_failure(spec: Path, output: str, log: Path | None) -> str:
    """One line for a spec rpmspec cannot parse: the first ``error: line N:``
    with the cause, and the text of that line of the rendered spec."""
    where = f" (log: {log})" if log else ""
    errors = [ln.strip() for ln in output.splitlines() if ln.startswith("error:")]
    for err in errors:
        m = _LINE_ERROR.match(err)
        if m:
            n, cause = int(m.group(1)), m.group(2)
            try:
                text = spec.read_text().splitlines()[n - 1].strip()
            except (OSError, IndexError):
                text = ""
            quoted = f" — the line reads: {text[:120]!r}" if text and text not in cause else ""
            return f"{spec}: line {n}: {cause}{quoted}{where} — fix: correct the template or the manifest value"
    first = errors[0][len("error:") :].strip() if errors else (output.strip().splitlines() or ["no output"])[-1]
    return f"{spec}: rpmspec cannot parse it: {first}{where}"


def _cap_name(dep: str) -> str:
    return dep.split()[0] if dep.split() else dep


def inspect_cached(spec: Path, dist: Dist, cache: Path, log: Path | None = None) -> SpecInfo:
    """``inspect``, remembered under ``cache`` by the spec's text and the dist's
    macros: a no-op rerun does not start rpmspec again."""
    key = hashlib.sha256(json.dumps([spec.read_text(), dist.rpm_defines()], sort_keys=True).encode()).hexdigest()
    entry = cache / f"{key}.json"
    if entry.is_file():
        data = json.loads(entry.read_text())
        return SpecInfo(
            path=spec,
            source_name=data["source_name"],
            packages=tuple(data["packages"]),
            evr=data["evr"],
            arches=data["arches"],
            provides={k: tuple(v) for k, v in data["provides"].items()},
            buildrequires=tuple(data["buildrequires"]),
        )
    info = inspect(spec, dist, log)
    data = dataclasses.asdict(info)
    del data["path"]
    write_atomic(entry, json.dumps(data))
    return info


def inspect(spec: Path, dist: Dist, log: Path | None = None) -> SpecInfo:
    """Parse ``spec`` under ``dist``'s macros with rpmspec (real rpm parsing)."""
    sep = "\x1f"
    qf = f"%{{NAME}}{sep}%{{VERSION}}-%{{RELEASE}}{sep}%{{ARCH}}{sep}[%{{PROVIDES}},]\n"
    lines = _query(spec, dist, ["--qf", qf], log)
    packages: list[str] = []
    arches: dict[str, str] = {}
    provides: dict[str, tuple[str, ...]] = {}
    evr = ""
    for ln in lines:
        parts = ln.split(sep)
        if len(parts) != 4:
            continue
        name, vr, arch, provs = parts
        packages.append(name)
        arches[name] = arch
        provides[name] = tuple(sorted({name} | {_cap_name(p) for p in provs.split(",") if p.strip()}))
        if not evr:
            evr = vr
    if not packages:
        raise SpecError(f"{spec}: rpmspec found no binary packages")
    src = _query(spec, dist, ["--srpm", "--qf", "%{NAME}\n"], log)
    brs = _query(spec, dist, ["--buildrequires"], log)
    return SpecInfo(
        path=spec,
        source_name=src[0].strip() if src else packages[0],
        packages=tuple(packages),
        evr=evr,
        arches=arches,
        provides=provides,
        buildrequires=tuple(sorted({_cap_name(b) for b in brs})),
    )
