"""The release a release follows, as its output holds it: its repository packages for the upgrade
test (``checks.Upgrade``) and its published output for the NEVRA gate (``checks.NevraCheck``) and
the builds taken from it (``schedule.reuse``)."""

from __future__ import annotations

from pathlib import Path

from .. import manifest
from ..errors import GateError, PmrepoError
from ..layout import Layout
from ..manifest import Dist, Release
from .nevra import Predecessor


def previous_repo_packages(release: Release, dist: Dist, upgrade_from: Path) -> tuple[Release, list[Path]]:
    """The release ``release`` follows, and its repository packages for ``dist``
    under the output root ``upgrade_from`` (``<release_id>/<dist>/``)."""
    where = release.follows_path()
    if where is None:
        raise GateError(
            f"{release.path}: release.follows is not set, so there is no previous release to upgrade from "
            "— fix: set follows, or drop --upgrade-from"
        )
    prev = manifest.load(where)
    d = prev.dists.get(dist.name)
    if d is None:
        raise GateError(
            f"{where}: the previous release has no dist {dist.name} to upgrade from — fix: drop --upgrade-from"
        )
    base = Layout(prev.release_id, upgrade_from).dist(dist.name).output.root
    rpms = [base / name for name in prev.repo_rpm_names(d)]
    missing = [str(p) for p in rpms if not p.is_file()]
    if missing:
        raise GateError(
            f"upgrade test ({dist.name}): the previous release's repository packages are not there: "
            f"{', '.join(missing)} — fix: build {where.name} into {upgrade_from} (build.py all --outdir …)"
        )
    return prev, rpms


def predecessor_output(release: Release, dist: Dist, root: Path) -> Predecessor:
    """The previous release's published output for ``dist`` under the output root ``root``
    (``<release_id>/<dist>/``: where ``all`` put it), for the NEVRA gate."""
    where = release.follows_path()
    if where is None:
        return Predecessor(why_none="release.follows is not set: the first release")
    try:
        prev = manifest.load(where)
    except PmrepoError as exc:
        return Predecessor(missing=f"its manifest does not load ({exc})")
    d = prev.dists.get(dist.name)
    if d is None:
        return Predecessor(why_none=f"{prev.release_id} has no {dist.name}")
    out = Layout(prev.release_id, root).dist(dist.name).output
    rpms = tuple(out.root / name for name in prev.repo_rpm_names(d))
    absent = [p.name for p in rpms if not p.is_file()]
    if absent:
        return Predecessor(
            prev,
            out,
            missing=f"{prev.release_id} is not in {root} (no {absent[0]}) — fix: pass --upgrade-from DIR, "
            "the output root holding it",
        )
    return Predecessor(prev, out, rpms)
