"""``verify``'s checks of one yum repository, and the payload of a repository package that holds one.

A repository is a directory with ``rpm/``, ``repodata/`` and the dist's SBOM at its root — an
installed or mirrored ``<prefix>/``, or one taken out of a repository package's payload here:
``rpm2archive -n`` makes a tar of the payload, of which only directories and regular files are
taken, each confined to the scratch directory, written without following links, the whole
bounded in size.

Checks: ``repodata/repomd.xml.asc`` by the release key; each metadata file's checksum as
repomd.xml records it; primary's packages against the files in ``rpm/`` (each there, nothing
else, same sha256 and size); every RPM's signature (or, unsigned, its digests); the SBOM at the
root: valid, and listing exactly these RPMs with their sha256 — and, for an SRPM, exactly the
files its header holds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..attest import sbom
from ..checks.integrity import index_entries, rpm_digests, unpack_payload
from ..checks.rpmquery import query
from ..errors import PmrepoError, SigningError
from ..fsutil import NotRegularFileError, file_kind
from ..layout import REPODATA_DIR, REPOMD_XML, RPM_DIR, SBOM_SUFFIX, inside, repo_rpm_dir, repodata_dir
from ..repomd import Repomd, RepomdError, read_repomd
from ..sign.signer import check_rpms, verify_repomd
from .report import Context

RPM_BATCH = 100  # packages per rpm -K call (progress between them)


# -- the payload of a repository package ----------------------------------------------------------


def extract_payload(rpm: Path, dest: Path, ctx: Context) -> str | None:
    """The payload of ``rpm`` under ``dest`` (a new directory); the problem, or None."""
    return unpack_payload(rpm, dest, ctx.log)


def repository_roots(tree: Path) -> list[Path]:
    """The repositories under ``tree``: every directory with ``repodata/repomd.xml``."""
    return sorted(p.parent.parent for p in tree.rglob(f"{REPODATA_DIR}/{REPOMD_XML}") if p.is_file())


# -- RPMs ------------------------------------------------------------------------------------------


def check_rpm_signatures(rpms: Sequence[Path], names: Mapping[Path, str], ctx: Context, what: str) -> None:
    """Each RPM signed by the trusted key (rpm -Kv in a fresh rpmdb), or its digests when unsigned."""
    report = ctx.report
    tick = ctx.console.counter(f"{what}: rpm signatures", len(rpms))
    for start in range(0, len(rpms), RPM_BATCH):
        batch = list(rpms[start : start + RPM_BATCH])
        if ctx.key is not None:
            try:
                verdicts = {Path(c.path): (c.ok, c.reason) for c in check_rpms(batch, ctx.key, ctx.log)}
            except SigningError as exc:
                verdicts = {p: (False, str(exc)) for p in batch}
            for p in batch:
                ok, why = verdicts.get(p, (False, "rpm gave no verdict"))
                report.check("rpm-signature", names[p], None if ok else why, f"signed by {ctx.key.name}")
        else:
            bad = rpm_digests(batch, log=ctx.log)
            for p in batch:
                if p.resolve() in bad:
                    report.fail("rpm-signature", names[p], bad[p.resolve()])
                else:
                    report.skip("rpm-signature", names[p], "digests intact; signature not checked (unsigned release)")
        tick(start + len(batch))


# -- one repository --------------------------------------------------------------------------------


def check_repository(
    root: Path, label: str, ctx: Context, expected: Mapping[str, str] | None = None, holder: str | None = None
) -> sbom.SbomView | None:
    """Every check of the repository at ``root`` (``label``: how its files are named in the report);
    ``expected``: the {RPM: sha256} the SBOM beside the outputs says its package ``holder`` contains."""
    report = ctx.report
    rpms = _regular_rpms(root, label, ctx)
    names = {p: f"{label}/{p.relative_to(root).as_posix()}" for p in rpms}
    repomd = f"{label}/{REPODATA_DIR}/{REPOMD_XML}"
    _check_repomd_signature(root, repomd, ctx)
    _check_repodata(root, label, rpms, ctx)
    check_rpm_signatures(rpms, names, ctx, label)
    docs = sorted(root.glob(f"*{SBOM_SUFFIX}"))
    if len(docs) != 1:
        report.fail("sbom", f"{label}/", f"{len(docs)} SPDX documents (*{SBOM_SUFFIX}) at the repository's root, not 1")
        return None
    view = sbom.read(docs[0])
    where = f"{label}/{docs[0].name}"
    for problem in view.problems:
        report.fail("sbom", where, problem)
    listed = dict(view.contains.get(holder, {})) if holder else _best_match(view, {p.name for p in rpms})
    actual = {p.name: ctx.sha256(p) for p in rpms}
    _compare("sbom", listed, actual, ctx, prefix=f"{label}/rpm/", doc=docs[0].name)
    if expected is not None and dict(expected) != listed:
        report.fail("sbom", where, "differs from the copy beside the release's outputs")
    _check_srpm_contents([p for p in rpms if p.name.endswith(".src.rpm")], view, names, ctx, docs[0].name)
    if not view.problems:
        report.ok("sbom", where, f"{len(listed)} RPMs")
    return view


def _regular_rpms(root: Path, label: str, ctx: Context) -> list[Path]:
    """The RPMs in ``root/rpm``: regular files, there (a symlink or FIFO is a problem, never read)."""
    if inside(root, RPM_DIR) is None:
        ctx.report.fail("files", f"{label}/{RPM_DIR}", "a symbolic link out of the repository, not a directory")
        return []
    rpms = []
    for p in sorted(repo_rpm_dir(root).glob("*.rpm")):
        kind = file_kind(p.lstat().st_mode)
        if kind != "a regular file":
            ctx.report.fail("files", f"{label}/{p.relative_to(root).as_posix()}", f"{kind}, not a regular file")
        else:
            rpms.append(p)
    return rpms


def _check_repomd_signature(root: Path, repomd: str, ctx: Context) -> None:
    if ctx.key is None:
        ctx.report.skip("repomd-signature", repomd, "unsigned release: no public key to check repomd.xml.asc against")
        return
    for path in (repodata_dir(root) / REPOMD_XML, repodata_dir(root) / f"{REPOMD_XML}.asc"):
        if os.path.lexists(path) and inside(root, path.relative_to(root).as_posix()) != path:
            ctx.report.fail("repomd-signature", repomd, f"{path.name} leads out of the repository (a symlink)")
            return
        if os.path.lexists(path) and (kind := file_kind(path.lstat().st_mode)) != "a regular file":
            ctx.report.fail("repomd-signature", repomd, f"{path.name} is {kind}, not a regular file")
            return
    try:
        verify_repomd(repodata_dir(root), ctx.key, ctx.log)
    except SigningError:
        asc = repodata_dir(root) / f"{REPOMD_XML}.asc"
        why = "repomd.xml.asc is missing" if not asc.is_file() else "repomd.xml.asc does not verify"
        ctx.report.fail(
            "repomd-signature", repomd, f"{why}: repomd.xml or its signature was changed, or another key signed it"
        )
        return
    ctx.report.ok("repomd-signature", repomd)


def _check_repodata(root: Path, label: str, rpms: Sequence[Path], ctx: Context) -> None:
    report = ctx.report
    try:
        md = read_repomd(root)
    except PmrepoError as exc:
        report.fail("repodata", f"{label}/{REPODATA_DIR}/{REPOMD_XML}", str(exc).replace(str(root), label))
        return
    for kind, entry in sorted(md.entries.items()):
        report.check("repodata", f"{label}/{entry.href}", _metadata_problem(md, kind, ctx))
    try:
        entries = index_entries(root)
    except PmrepoError as exc:
        report.fail("repodata", f"{label}/{REPODATA_DIR}/{REPOMD_XML}", str(exc).replace(str(root), label))
        return
    files = {p.relative_to(root).as_posix(): p for p in rpms}
    for href in sorted(set(files) | set(entries)):
        name = f"{label}/{href}"
        if href not in files:
            report.fail("repodata", name, "listed in primary.xml but not in the repository")
        elif href not in entries:
            report.fail("repodata", name, "in the repository but not listed in primary.xml")
        else:
            e, p = entries[href], files[href]
            problem = None
            if e.checksum_type != "sha256" or e.checksum != ctx.sha256(p):
                problem = "sha256 differs from primary.xml"
            elif e.size is not None and e.size != p.stat().st_size:
                problem = f"size {p.stat().st_size} differs from primary.xml ({e.size})"
            elif e.file_name != p.name:
                problem = f"primary.xml lists it as {e.file_name}"
            report.check("repodata", name, problem)


def _metadata_problem(md: Repomd, kind: str, ctx: Context) -> str | None:
    """What is wrong with the ``kind`` metadata file repomd.xml lists (None: its sha256 matches);
    only a regular file inside the repository is read."""
    entry = md.entries[kind]
    if entry.checksum_type != "sha256":
        return f"{kind}: checksum type {entry.checksum_type!r}, not sha256"
    try:
        path = md.location(kind)
    except RepomdError:
        return f"{kind}: its location {entry.href!r} is outside the repository"
    if not os.path.lexists(path):
        return f"{kind}: listed in repomd.xml but missing"
    try:
        got = ctx.sha256(path)
    except NotRegularFileError as exc:
        return f"{kind}: {exc.kind}, not a regular file"
    return None if got == entry.checksum else f"{kind}: sha256 differs from repomd.xml"


def _best_match(view: sbom.SbomView, present: set[str]) -> dict[str, str]:
    """The contents of the repository package whose listing overlaps ``present`` most."""
    if not view.contains:
        return {}
    best = max(sorted(view.contains), key=lambda holder: len(present & set(view.contains[holder])))
    return dict(view.contains[best])


def _compare(
    check: str, listed: Mapping[str, str], actual: Mapping[str, str], ctx: Context, *, prefix: str, doc: str
) -> None:
    """Files ``listed`` in the document ``doc`` against the ``actual`` ones, both {name: sha256}."""
    for name in sorted(set(listed) | set(actual)):
        if name not in actual:
            ctx.report.fail(check, f"{prefix}{name}", f"listed in {doc} but missing")
        elif name not in listed:
            ctx.report.fail(check, f"{prefix}{name}", f"not listed in {doc}")
        elif listed[name] != actual[name]:
            ctx.report.fail(check, f"{prefix}{name}", f"sha256 differs from {doc}")


def _check_srpm_contents(
    srpms: Sequence[Path], view: sbom.SbomView, names: Mapping[Path, str], ctx: Context, doc: str
) -> None:
    """Each SRPM holds exactly the files (sources, patches, spec) the SBOM says, with their sha256."""
    if not srpms:
        return
    try:
        headers = query(srpms, {}, {"FILE": "%{FILENAMES}\\t%{FILEDIGESTS}"}, log=ctx.log)
    except PmrepoError as exc:
        for p in srpms:
            ctx.report.fail("sbom", names[p], f"its header is not readable: {exc}")
        return
    for path, tags in zip(srpms, headers, strict=False):
        held = dict(line.split("\t", 1) for line in tags.get("FILE", []) if "\t" in line)
        listed = view.srpm_files.get(path.name, {})
        held = {k: v.lower() for k, v in held.items()}
        _compare("sbom", listed, held, ctx, prefix=f"{names[path]}:", doc=f"{doc} (as in the SRPM)")
