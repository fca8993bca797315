"""The expected install set: what ``yum install <metapackage>`` puts on the
machine, computed from the packages' own dependencies rather than guessed.

Start from the metapackage's Requires (``repopkg.metapackage_requires``) and
resolve every requirement, transitively, over the Requires/Provides of every
package the release ships for the dist:

* from the built RPMs where they exist (``rpm -qp``: Requires, Provides and
  the file list, so a file requirement is matched too);
* else from the rendered specs (``rpmspec -q`` under the dist's macros:
  Requires and Provides; the files a package will carry are not known).

A requirement no package of the release provides counts as satisfied by the
dist's base repositories (an OS package). ``rpmlib(…)`` requirements are
rpm's own. Versions are not compared: the release ships one version of each
package, and the metapackage pins them; this decides *which* packages come in.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..checks.rpmquery import package_deps
from ..errors import SpecError
from ..manifest import Dist, Release
from ..render.specs import define_args, parse_failure, render_components, rpmspec_query
from . import repopkg

SEP = "\x1f"
Source = Literal["built RPMs", "rendered specs"]


@dataclass(frozen=True)
class Deps:
    """One binary package's capabilities (names only)."""

    name: str
    requires: tuple[str, ...]
    provides: tuple[str, ...]  # includes its own name and, from RPMs, its files


@dataclass(frozen=True)
class InstallSet:
    packages: tuple[str, ...]  # release packages the install brings, metapackage first, in resolution order
    from_base: tuple[str, ...]  # requirements left to the dist's base repositories (OS packages)
    source: Source
    why: Mapping[str, str]  # package -> the package whose requirement brought it in

    def __contains__(self, name: object) -> bool:
        return name in self.packages


def _cap(dep: str) -> str:
    parts = dep.split()
    return parts[0] if parts else dep


def _deps(name: str, reqs: Iterable[str], provs: Iterable[str], files: Iterable[str]) -> Deps:
    requires = tuple(sorted({_cap(r) for r in reqs if r.strip() and not r.startswith("rpmlib(")}))
    provides = tuple(sorted({name, *(_cap(p) for p in provs if p.strip()), *(f for f in files if f)}))
    return Deps(name, requires, provides)


def _parse(lines: Iterable[str]) -> dict[str, Deps]:
    """rpmspec's lines: name, requires and provides (comma-terminated lists)."""
    out: dict[str, Deps] = {}
    for line in lines:
        parts = line.split(SEP)
        if len(parts) != 3:
            continue
        name = parts[0].strip()
        out[name] = _deps(name, parts[1].split(","), parts[2].split(","), [])
    return out


def deps_from_rpms(rpms: Iterable[Path], log: Path | None = None) -> dict[str, Deps]:
    paths = list(rpms)
    if not paths:
        return {}
    return {name: _deps(name, reqs, provs, files) for name, reqs, provs, files in package_deps(paths, log, SpecError)}


def deps_from_specs(release: Release, dist: Dist, log: Path | None = None) -> dict[str, Deps]:
    """Render every component's spec for ``dist`` and ask rpmspec."""
    out: dict[str, Deps] = {}
    qf = f"%{{NAME}}{SEP}[%{{REQUIRENAME}},]{SEP}[%{{PROVIDENAME}},]\\n"
    with tempfile.TemporaryDirectory(prefix=f"pmrepo-installset-{dist.name}-") as tmp:
        comps = release.components_for(dist.name)
        for comp, text in zip(comps, render_components(release, dist, comps), strict=True):
            spec = Path(tmp) / f"{comp.name}.spec"
            spec.write_text(text)
            res = rpmspec_query(spec, [*define_args(dist.rpm_defines()), "--qf", qf], log)
            if res.returncode != 0:
                raise SpecError(parse_failure(spec, res.output, log))
            out.update(_parse(ln for ln in res.output.splitlines() if not ln.startswith(("warning:", "error:"))))
    return out


def resolve(release: Release, dist: Dist, deps: Mapping[str, Deps], source: Source) -> InstallSet:
    """Resolve the metapackage's Requires over ``deps`` (only packages the release ships count)."""
    shipped = [p for p in release.shipped(dist) if p != release.metapackage]
    providers: dict[str, list[str]] = {}
    for name in shipped:  # manifest order: the first provider of a capability wins, unless one is named after it
        for cap in deps[name].provides if name in deps else (name,):
            providers.setdefault(cap, []).append(name)
    start = [_cap(r) for r in repopkg.metapackage_requires(release, dist)]
    packages = [release.metapackage]
    why: dict[str, str] = {}
    from_base: set[str] = set()
    queue = [(cap, release.metapackage) for cap in start]
    while queue:
        cap, wanted_by = queue.pop(0)
        cands = providers.get(cap)
        if not cands:
            from_base.add(cap)
            continue
        if any(c in packages for c in cands):
            continue
        pkg = cap if cap in cands else cands[0]
        packages.append(pkg)
        why[pkg] = wanted_by
        queue += [(r, pkg) for r in (deps[pkg].requires if pkg in deps else ())]
    return InstallSet(tuple(packages), tuple(sorted(from_base)), source, why)


def expected(
    release: Release, dist: Dist, *, rpms: Iterable[Path] | None = None, log: Path | None = None
) -> InstallSet:
    """From ``rpms`` (the dist's built packages) when given, else from the rendered specs."""
    if rpms is not None:
        return resolve(release, dist, deps_from_rpms(rpms, log), "built RPMs")
    return resolve(release, dist, deps_from_specs(release, dist, log), "rendered specs")
