"""Release gates: RPM digests, rpmlint, el6/el7 compatibility, dependency closure.

Usage::

    ctx = layout_context(release, release.dists["el7"], work / release.release_id / "el7",
                         report_dir=..., extra_rpms=repo_packages)
    reports = run_gates(default_gates(release), ctx)   # raises a one-line GateError on failure

Each gate writes ``<report_dir>/<gate>-<dist>.txt``; rpmlint also writes
``<report_dir>/rpmlint-<dist>/<file>.txt`` per package.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..manifest import Dist, Release
from .base import Finding, Gate, GateContext, GateReport, Severity, run_gates
from .closure import ClosureGate
from .compat import SUPPORT, CompatGate, DistSupport
from .digest import DigestGate
from .rpmlint import RpmlintGate, release_filters

__all__ = [
    "ClosureGate", "CompatGate", "DigestGate", "DistSupport", "Finding", "Gate", "GateContext", "GateReport", "RpmlintGate",
    "SUPPORT", "Severity", "default_gates", "layout_context", "release_filters", "run_gates",
]


def default_gates(release: Release | None = None) -> list[Gate]:
    """Cheapest first: digests, compat reads headers, closure runs dnf, rpmlint is slowest.
    With ``release``, rpmlint also gets that release's own filters (its prefix …)."""
    extra = release_filters(release) if release is not None else {}
    return [DigestGate(), CompatGate(), ClosureGate(), RpmlintGate(extra_filters=extra)]


def layout_context(release: Release, dist: Dist, dist_work: Path, report_dir: Path,
                   extra_rpms: Iterable[Path] = ()) -> GateContext:
    """The gate context for one dist of the work-dir layout: ``tree/`` (the
    repository, with the group file), ``debuginfo-tree/``, ``src-tree/`` (the
    SRPM repository: its packages are checked, but it is no binary
    repository for the closure) and ``specs/*.spec``; ``extra_rpms`` are e.g.
    the repository packages."""
    tree, debug, src = dist_work / "tree", dist_work / "debuginfo-tree", dist_work / "src-tree"
    repos = tuple(r for r in (tree, debug) if (r / "repodata").is_dir())
    rpms = [*sorted((tree / "rpm").glob("*.rpm")), *sorted((debug / "rpm").glob("*.rpm")),
            *sorted((src / "rpm").glob("*.src.rpm")), *extra_rpms]
    return GateContext(dist=dist, report_dir=report_dir, rpms=tuple(rpms),
                       specs=tuple(sorted((dist_work / "specs").glob("*.spec"))), repos=repos,
                       arch=release.arch, grouped=(tree,) if tree in repos else ())
