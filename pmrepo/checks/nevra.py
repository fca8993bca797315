"""The NEVRA gate (Koji's rule): a package this release builds whose NEVRA the
previous release already published must be the same build.

Two files under one name on a mirror, and two machines "on the same release"
running different bits, is what rpm and yum cannot tell apart: they take a NEVRA
to name one package (``yum update`` keeps the installed one). So every RPM of the
dist's three repositories is compared, by file name (``N-V-R.A.rpm``), with the
RPMs the previous release's repository packages carry (their headers' file
digests) in its published output (``<output root>/<previous release>/<dist>/``,
located by the pipeline): the same bytes pass, and so does the same build signed
anew (its unsigned digest, recorded in the previous ``build.json``); other bytes
are an error naming both files and the fix. Where the previous output is not
there the gate says it could not compare (a warning), never a silent pass. An
unchanged entry's RPMs are taken from that output instead of being built
(``pmrepo.schedule.reuse``): they pass by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..fsutil import sha256_file
from ..layout import Output
from ..manifest import Dist, Release
from ..records import BuildRecord, RecordError, RpmInfo
from ..rpmfile import RpmFileError, layout, unsigned_digest
from .base import Check, CheckContext, Findings
from .rpmquery import packaged_files


@dataclass(frozen=True)
class Predecessor:
    """The previous release's published output for one dist, as the pipeline found it."""

    release: Release | None = None  # None: nothing to compare with (no follows, or not this dist)
    output: Output | None = None
    repo_rpms: tuple[Path, ...] = ()  # its three repository packages
    missing: str = ""  # why it could not be compared ("" : it can)
    why_none: str = ""  # why there is nothing to compare with


# the previous release's output for one dist (located by the pipeline)
PredecessorOf = Callable[[Dist], Predecessor]


@dataclass
class _Published:
    """What the previous release published for one dist: RPM file name -> where, sha256, unsigned digest."""

    where: dict[str, str] = field(default_factory=dict)  # "<repo package> (<path inside>)"
    sha256: dict[str, str] = field(default_factory=dict)
    unsigned: dict[str, str] = field(default_factory=dict)  # from its build.json, where it agrees with the headers
    signed: bool = False


def _published(prev: Predecessor, ctx: CheckContext) -> _Published:
    assert prev.release is not None and prev.output is not None
    out = _Published()
    dirs = {r.rpm_dir.rstrip("/") for r in prev.release.repositories}
    files = packaged_files(list(prev.repo_rpms), log=ctx.log("nevra.log"))
    owners = {rpm.name.rsplit("-", 2)[0]: rpm.name for rpm in prev.repo_rpms}
    for path, (package, digest) in files.items():
        parent, _, name = path.rpartition("/")
        if parent in dirs and name.endswith(".rpm") and digest:
            out.where[name] = f"{owners.get(package, package)} ({path})"
            out.sha256[name] = digest
    try:
        record = BuildRecord.read(prev.output.build_json) if prev.output.build_json.is_file() else None
    except RecordError:
        record = None
    if record is not None:
        out.signed = record.signed
        recorded: dict[str, RpmInfo] = record.rpms
        out.unsigned = {n: i.unsigned for n, i in recorded.items() if out.sha256.get(n) == i.sha256}
    return out


class NevraCheck(Check):
    id = "nevra"
    name = "NEVRA gate"
    required = True

    def __init__(self, predecessor: PredecessorOf | None = None) -> None:
        self.predecessor = predecessor

    def run(self, ctx: CheckContext) -> Findings:
        found = Findings(self.id, ctx.dist.name, kind="nevra.rebuilt")
        rel = ctx.release
        prev = (
            self.predecessor(ctx.dist)
            if self.predecessor and rel is not None
            else Predecessor(missing="no previous release was located (no release, or no way to find its output)")
        )
        if prev.missing or (prev.release is not None and prev.output is None):
            where = rel.path if rel is not None else ctx.dist.name
            found.warning(where, "previous release", f"not compared: {prev.missing}", "nevra.not-compared")
            found.note = f"NEVRA: not compared: {prev.missing}"  # never a silent pass: the note and the report say it
            return found
        if prev.release is None or prev.output is None or rel is None:
            found.note = f"NEVRA: nothing to compare with ({prev.why_none})"
            return found
        theirs = _published(prev, ctx)
        owner = _components(rel, ctx.dist)
        ours = list(dict.fromkeys(p for p in ctx.rpms if p.name not in {r.name for r in ctx.repo_rpms}))
        found.items = [p.name for p in ours]
        same = 0
        for rpm in ours:
            if rpm.name not in theirs.sha256:
                continue  # a NEVRA of its own: new in this release
            verdict = _compare(rpm, theirs)
            if verdict == "same":
                same += 1
                continue
            where = f"{prev.release.release_id} published it in {theirs.where[rpm.name]}"
            if verdict == "unknown":
                found.warning(
                    rpm.name,
                    "NEVRA",
                    f"not compared: signed, and {prev.output.build_json} records no unsigned digest of it ({where})",
                    "nevra.not-compared",
                )
                continue
            comp = owner.get(_package_name(rpm.name), "<its component>")
            found.error(
                rpm.name,
                "NEVRA",
                f"{rpm} has other bytes than {rpm.name} as {where} (sha256 {sha256_file(rpm)[:16]}… ≠ "
                f"{theirs.sha256[rpm.name][:16]}…): one NEVRA, two builds — fix: bump "
                f"components.{comp}.release in {rel.path.name} (it is a new build), or reuse the build: leave the "
                f"entry as {prev.release.path.name} has it, and its RPMs are taken from {prev.release.release_id}'s "
                "output (pmrepo.schedule.reuse)",
            )
        if found.passed:
            found.note = f"NEVRA: {same} package(s) also in {prev.release.release_id}, the same builds" + (
                f" ({len(found.warnings)} not compared)" if found.warnings else ""
            )
        return found


def _compare(rpm: Path, theirs: _Published) -> str:
    """same | other | unknown (the files differ, one is signed, and no unsigned digest is recorded)."""
    if sha256_file(rpm) == theirs.sha256[rpm.name]:
        return "same"
    try:
        mine, signed = unsigned_digest(rpm), layout(rpm).signed
    except RpmFileError:
        return "other"
    if rpm.name in theirs.unsigned:
        return "same" if theirs.unsigned[rpm.name] == mine else "other"
    return "unknown" if signed or theirs.signed else "other"


def _components(rel: Release, dist: Dist) -> dict[str, str]:
    """RPM file name prefix -> component: every package (and SRPM) of the dist's builds, by its name."""
    out: dict[str, str] = {}
    for comp in rel.components_for(dist.name):
        for pkg in (*comp.packages_for(dist.name), *comp.debuginfo.get(dist.name, ()), comp.name):
            out[pkg] = comp.name
    return out


def _package_name(filename: str) -> str:
    """``name`` of ``name-version-release.arch.rpm``."""
    return filename.removesuffix(".rpm").rsplit(".", 1)[0].rsplit("-", 2)[0]
