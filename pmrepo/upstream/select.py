"""Which upstream version is the newest in a component's series: the tags (or versions) an
nvchecker source found, read through the entry's ``upstream`` spelling, pre-releases and other
series left out, ordered as rpm orders versions (:mod:`pmrepo.vercmp`).

Pure functions on strings, so every rule has a unit test: a tag spelled ``Pacemaker-{version}``
gives its version; ``1.1.15-rc1``, ``2.0a1``, ``3.0.0-beta``, ``1.0-pre2`` and ``…dev…`` are
pre-releases; a series ``1.1`` keeps ``1.1`` and ``1.1.x``, never ``1.10`` or ``2.0``. When no tag
has the spelling, or a tag of another spelling is newer in the series than every tag of it (the
project changed how it tags), the answer is a problem, not a version.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..manifest.model import Upstream
from ..vercmp import vercmp

PRERELEASE_RE = re.compile(r"(?i)(alpha|beta|rc|pre|dev|snapshot)|(?<=\d)[ab]\d*(?![A-Za-z])")
# a version at the end of a tag of any spelling (v1.3, glue-1.0.13, pm_diskd-2.3): at least one dot
_VERSION_AT_END = re.compile(r"(?<![A-Za-z0-9])v?([0-9]+(?:\.[0-9]+)+)\Z")
_rpm_key = functools.cmp_to_key(vercmp)


@dataclass(frozen=True)
class Pick:
    """What the found tags or versions say: the newest in series (or a problem), and what was left out."""

    newest: str | None
    problem: str | None = None
    matched: int = 0  # versions read (tags of the spelling)
    prereleases_skipped: int = 0
    other_series: int = 0


def is_prerelease(version: str) -> bool:
    return PRERELEASE_RE.search(version) is not None


def in_series(version: str, series: str | None) -> bool:
    return series is None or version == series or version.startswith(series + ".")


def tag_pattern(tag: str) -> re.Pattern[str]:
    """The regular expression of a tag spelling: ``{version}`` is a version starting with a digit."""
    before, _, after = tag.partition("{version}")
    return re.compile(f"{re.escape(before)}([0-9][A-Za-z0-9._+~-]*){re.escape(after)}")


def newest(versions: Iterable[str]) -> str:
    return max(versions, key=_rpm_key)


def _respelled(found: list[str], pattern: re.Pattern[str], best: str, up: Upstream) -> str | None:
    """A problem when a tag spelled otherwise carries a release newer than ``best`` in the series."""
    newer = []
    for tag in found:
        m = _VERSION_AT_END.search(tag)
        if pattern.fullmatch(tag) or m is None:
            continue
        version = m.group(1)
        if in_series(version, up.series) and vercmp(version, best) > 0:
            newer.append((version, tag))
    if not newer:
        return None
    version, tag = max(newer, key=lambda vt: _rpm_key(vt[0]))
    spelling = tag[: len(tag) - len(version)] + "{version}"
    return (
        f"tag spelling changed? {tag} is newer than {up.tag.replace('{version}', best)} — fix: set "
        f'upstream.tag = "{spelling}" if that is the project\'s new spelling'
    )


def pick(found: list[str], up: Upstream) -> Pick:
    """The newest version in ``up``'s series among ``found`` (tags for git, versions otherwise)."""
    pattern = tag_pattern(up.tag) if up.kind == "git" else None
    if pattern is not None:
        versions = [m.group(1) for t in found if (m := pattern.fullmatch(t))]
        if not versions:
            shown = ", ".join(sorted(found, key=_rpm_key, reverse=True)[:3])
            return Pick(
                None,
                f"no tag spelled {up.tag} among {len(found)} tag(s) ({shown}, …) — fix: set upstream.tag to the "
                "project's spelling",
            )
    else:
        versions = list(found)
    releases = [v for v in versions if up.prereleases or not is_prerelease(v)]
    skipped = len(versions) - len(releases)
    series = [v for v in releases if in_series(v, up.series)]
    counts = {"matched": len(versions), "prereleases_skipped": skipped, "other_series": len(releases) - len(series)}
    if not series:
        what = f"in series {up.series}" if up.series else "that is not a pre-release"
        shown = newest(versions) if versions else "none"
        return Pick(None, f"no version {what} among {len(versions)} (newest: {shown})", **counts)
    best = newest(series)
    problem = _respelled(found, pattern, best, up) if pattern is not None else None
    return Pick(None if problem else best, problem, **counts)
