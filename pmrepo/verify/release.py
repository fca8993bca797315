"""``verify DIR|URL``: a published release checked as an operator or a mirror admin receives it.

A *release directory* (``repo/<release>/`` or its copy on a mirror; over HTTP(S) downloaded first,
:mod:`pmrepo.verify.fetch`) is checked as a whole:

* ``SHA256SUMS`` lists every file and every listed file has its sha256; ``SHA256SUMS.asc`` is a
  signature of it by the release key;
* the key: the public key each dist ships (``RPM-GPG-KEY-*``), the same in every dist — trusted
  as shipped, or checked against the one ``--key FILE`` gives (a key got elsewhere);
* per dist: every repository package's signature; the SBOM beside them (valid SPDX 2.3, their
  sha256); each package's payload — one repository, checked by :mod:`pmrepo.verify.repository`
  (repomd.xml.asc, repodata against the files, every RPM's signature, the SBOM inside against
  the RPMs and against the copy outside); the provenance (a valid Statement whose subjects are
  exactly the dist's files with their sha256; its DSSE signature by the release key).

A *repository directory* (``repodata/repomd.xml`` in it: an installed ``<prefix>/`` or a mirror
of one) gets the repository's checks alone.

An unsigned release (no key shipped, none given) is checked for everything but signatures; each
signature not checked is said on a ``NOT CHECKED`` line. Every problem is one ``FAIL`` line as it
is found; a summary table follows; any problem makes the exit non-zero. ``publish`` runs the same
verification on what it uploaded, before it switches the release into place
(:func:`publish_check`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from ..attest import provenance, sbom
from ..checksums import NOT_LISTED, SUMS_NAME, SUMS_SIGNATURE, read_sha256sums
from ..errors import PublishError, SigningError, VerifyError
from ..httpread import Client
from ..layout import BUILD_JSON, PROVENANCE_SUFFIX, PUBLIC_KEY_PREFIX, REPODATA_DIR, REPOMD_XML, SBOM_SUFFIX
from ..progress import Console, default_console
from ..publish.mirrors import DirTarget, HttpTarget, Target
from ..records import BuildRecord, RecordError
from ..sign.signer import public_key_fingerprints, verify_detached
from .fetch import fetch_release
from .report import Context, Report
from .repository import check_repository, check_rpm_signatures, extract_payload, repository_roots


def _is_url(location: str) -> bool:
    return urlsplit(location).scheme in ("http", "https")


def verify(
    location: str, *, key: Path | None = None, console: Console | None = None, client: Client | None = None
) -> Report:
    """Check the release (or repository) at ``location``, a directory or an http(s) URL; ``key``:
    the public key to trust instead of the one the release ships; ``client``: what an URL is
    downloaded through (None: a client of its own)."""
    console = console or default_console()
    report = Report(console.say)
    if key is not None and not key.is_file():
        raise VerifyError(f"--key {key}: no such file — fix: give the release's exported public key")
    with tempfile.TemporaryDirectory(prefix="pmrepo-verify-") as tmp:
        ctx = Context(report, console, Path(tmp), log=Path(tmp) / "commands.log")
        if _is_url(location):
            root = ctx.scratch / "download" / (Path(urlsplit(location).path.rstrip("/")).name or "release")
            with console.step(f"download {location}"):
                failed = fetch_release(location, root, console, client=client)
            for name, why in failed.items():
                report.fail("files", name, f"download failed: {why}")
            ctx.complete_listing = False
        else:
            root = Path(location)
            if not root.is_dir():
                raise VerifyError(f"{location}: no such directory — fix: give a release directory or its URL")
        if (root / REPODATA_DIR / REPOMD_XML).is_file():
            _verify_repository_dir(root, location.rstrip("/"), ctx, key)
        else:
            _verify_release_dir(root, ctx, key)
    return report


def run_verify(location: str, *, key: Path | None = None, console: Console | None = None) -> Report:
    """``verify``: the report, the summary table, and VerifyError when anything failed."""
    console = console or default_console()
    report = verify(location, key=key, console=console)
    for line in report.gaps():
        console.say(line)
    console.say(report.summary())
    failed, skipped = report.failed, report.skipped
    if failed:
        raise VerifyError(
            f"{location}: {len(failed)} problem(s), each on a FAIL line above — fix: do not use this copy; "
            "download the release again from its publisher"
        )
    gaps = f"; {len(skipped)} not checked (the NOT CHECKED lines)" if skipped else ""
    console.say(f"verify: {location}: all {len(report.findings) - len(skipped)} checks passed{gaps}")
    return report


# -- the release directory -------------------------------------------------------------------------


def _walk(root: Path, ctx: Context) -> dict[str, Path]:
    """Every regular file under ``root`` by its name in SHA256SUMS form; anything else is a problem."""
    files: dict[str, Path] = {}
    for dirpath, dirs, names in os.walk(root):
        here = Path(dirpath)
        for d in list(dirs):
            if (here / d).is_symlink():
                ctx.report.fail("files", (here / d).relative_to(root).as_posix(), "a symbolic link, not a directory")
                dirs.remove(d)
        for n in names:
            path = here / n
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() or not path.is_file():
                ctx.report.fail("files", rel, "not a regular file")
            else:
                files[rel] = path
    return files


def _verify_release_dir(root: Path, ctx: Context, given: Path | None) -> None:
    files = _walk(root, ctx)
    dists = sorted({n.split("/")[0] for n in files if n.count("/") == 1 and n.endswith((".rpm", f"/{BUILD_JSON}"))})
    if not dists:
        raise VerifyError(
            f"{root}: no dist directory with repository packages — fix: give a release directory "
            "(repo/<release>/, its copy on a mirror or its URL) or a repository (with repodata/)"
        )
    with ctx.console.step(f"key, {SUMS_NAME} and its signature ({len(files)} files)"):
        ctx.key = _trusted_key(root, dists, files, ctx, given)
        _check_sums(root, files, ctx)
        _check_sums_signature(root, ctx)
    for dist in dists:
        with ctx.console.step(f"verify {dist}"):
            _verify_dist(root, dist, files, ctx)


def _trusted_key(
    root: Path, dists: Sequence[str], files: Mapping[str, Path], ctx: Context, given: Path | None
) -> Path | None:
    """The key signatures are checked against: ``given``, else the one the dists ship (None: unsigned)."""
    report = ctx.report
    shipped = sorted(n for n in files if n.count("/") == 1 and n.split("/")[1].startswith(PUBLIC_KEY_PREFIX))
    fprs: dict[str, set[str]] = {}
    for name in shipped:
        try:
            fprs[name] = public_key_fingerprints(files[name], ctx.log)
        except SigningError:
            fprs[name] = set()
        if not fprs[name]:
            report.fail("key", name, "holds no public key")
    want = public_key_fingerprints(given, ctx.log) if given is not None else None
    if given is not None and not want:
        raise VerifyError(f"--key {given}: holds no public key — fix: give an armored public key (gpg --export -a)")
    for dist in dists:
        if shipped and not any(n.startswith(f"{dist}/") for n in shipped):
            report.fail("key", f"{dist}/", "ships no public key (the other dists do)")
    if not shipped:
        for dist in dists:
            record = _build_record(files.get(f"{dist}/{BUILD_JSON}"))
            if record is not None and record.signed:
                report.fail("key", f"{dist}/{BUILD_JSON}", "records a signed build, but the dist ships no public key")
        if given is None:
            ctx.console.say("key: no public key shipped: an unsigned release (signatures are not checked)")
        return given
    reference = want if want is not None else fprs[shipped[0]]
    whose = f"the --key {given.name}" if given is not None else shipped[0]
    for name in shipped:
        report.check("key", name, None if fprs[name] and fprs[name] == reference else f"is not the same key as {whose}")
    if given is None:
        ctx.console.say(
            f"key: trusting the key shipped in the release, {', '.join(sorted(reference))} ({shipped[0]}) — compare "
            "it with the fingerprint its publisher gives, or pass --key FILE"
        )
    return given or files[shipped[0]]


def _build_record(path: Path | None) -> BuildRecord | None:
    if path is None:
        return None
    try:
        return BuildRecord.read(path)
    except RecordError:
        return None


def _check_sums(root: Path, files: Mapping[str, Path], ctx: Context) -> None:
    report = ctx.report
    if SUMS_NAME not in files:
        report.fail("sums", SUMS_NAME, "missing — a published release has one (publish writes it)")
        return
    try:
        sums = read_sha256sums(files[SUMS_NAME], error=VerifyError)
    except VerifyError as exc:
        report.fail("sums", SUMS_NAME, str(exc).replace(f"{files[SUMS_NAME]}", SUMS_NAME))
        return
    names = sorted(set(sums) | (set(files) - NOT_LISTED))
    tick = ctx.console.counter("sha256 of the files", len(names))
    for n, name in enumerate(names, 1):
        if name not in files:
            report.fail("sums", name, f"listed in {SUMS_NAME} but missing")
        elif name not in sums:
            report.fail("sums", name, f"not listed in {SUMS_NAME}: a file that is not part of the release")
        else:
            report.check(
                "sums", name, None if ctx.sha256(files[name]) == sums[name] else f"sha256 differs from {SUMS_NAME}"
            )
        tick(n)
    if not ctx.complete_listing:
        report.skip(
            "sums", "(files not listed)", f"over HTTP there is no listing: files {SUMS_NAME} does not name are not seen"
        )


def _check_sums_signature(root: Path, ctx: Context) -> None:
    asc, sums = root / SUMS_SIGNATURE, root / SUMS_NAME
    if ctx.key is None:
        why = "no public key shipped to check it against" if asc.is_file() else f"unsigned release: no {SUMS_SIGNATURE}"
        ctx.report.skip("sums-signature", SUMS_SIGNATURE, why)
    elif not asc.is_file():
        ctx.report.fail("sums-signature", SUMS_SIGNATURE, f"missing: the release is signed, {SUMS_NAME} is not")
    elif sums.is_file():
        try:
            verify_detached(sums, asc, ctx.key, ctx.log)
            ctx.report.ok("sums-signature", SUMS_SIGNATURE)
        except SigningError:
            ctx.report.fail(
                "sums-signature",
                SUMS_SIGNATURE,
                f"does not verify: {SUMS_NAME} or its signature was changed, or another key signed it",
            )


# -- one dist --------------------------------------------------------------------------------------


def _verify_dist(root: Path, dist: str, files: Mapping[str, Path], ctx: Context) -> None:
    pkgs = sorted(p for n, p in files.items() if n.startswith(f"{dist}/") and n.count("/") == 1 and n.endswith(".rpm"))
    names = {p: f"{dist}/{p.name}" for p in pkgs}
    check_rpm_signatures(pkgs, names, ctx, dist)
    view = _dist_sbom(root / dist, dist, pkgs, ctx)
    for p in pkgs:
        dest = ctx.scratch / "payload" / dist / p.name
        with ctx.console.step(f"{dist}: {p.name}: the repository in its payload"):
            problem = extract_payload(p, dest, ctx)
            roots = [] if problem else repository_roots(dest)
            if problem or len(roots) != 1:
                ctx.report.fail("payload", names[p], problem or f"{len(roots)} repositories in its payload, not 1")
            else:
                ctx.report.ok("payload", names[p])
                label = f"{names[p]}:/{roots[0].relative_to(dest).as_posix()}"
                expected = view.contains.get(p.name, {}) if view is not None else None
                check_repository(roots[0], label, ctx, expected=expected, holder=p.name)
        shutil.rmtree(dest, ignore_errors=True)
    _dist_provenance(dist, files, ctx)


def _one(pattern_files: Sequence[str], dist: str, what: str, ctx: Context, check: str) -> str | None:
    if len(pattern_files) != 1:
        ctx.report.fail(check, f"{dist}/", f"{len(pattern_files)} {what} files, not 1")
        return None
    return pattern_files[0]


def _dist_sbom(d: Path, dist: str, pkgs: Sequence[Path], ctx: Context) -> sbom.SbomView | None:
    name = _one(sorted(p.name for p in d.glob(f"*{SBOM_SUFFIX}")), dist, f"SPDX (*{SBOM_SUFFIX})", ctx, "sbom")
    if name is None:
        return None
    view, where = sbom.read(d / name), f"{dist}/{name}"
    for problem in view.problems:
        ctx.report.fail("sbom", where, problem)
    present = {p.name: p for p in pkgs}
    for file in sorted(set(present) | set(view.described)):
        subject = f"{dist}/{file}"
        if file not in present:
            ctx.report.fail("sbom", subject, f"described by {name} but missing")
        elif file not in view.described:
            ctx.report.fail("sbom", subject, f"not described by {name}")
        elif view.described[file] is None:
            ctx.report.fail("sbom", subject, f"{name} lists it without its sha256")
        else:
            same = view.described[file] == ctx.sha256(present[file])
            ctx.report.check("sbom", subject, None if same else f"sha256 differs from {name}")
    if not view.problems:
        ctx.report.ok("sbom", where, "valid SPDX 2.3")
    return view


def _dist_provenance(dist: str, files: Mapping[str, Path], ctx: Context) -> None:
    report = ctx.report
    mine = sorted(n for n in files if n.startswith(f"{dist}/") and n.count("/") == 1 and n.endswith(PROVENANCE_SUFFIX))
    where = _one(mine, dist, f"provenance (*{PROVENANCE_SUFFIX})", ctx, "provenance")
    if where is None:
        return
    view = provenance.read(files[where])
    for problem in view.problems:
        report.fail("provenance", where, problem)
    _provenance_signature(view, where, ctx)
    subjects = view.subjects()
    actual = {n: p for n, p in files.items() if n.startswith(f"{dist}/") and n != where}
    for name in sorted(set(subjects) | set(actual)):
        if name not in actual:
            report.fail("provenance", name, f"a subject of {where}, but missing")
        elif name not in subjects:
            report.fail("provenance", name, f"not a subject of {where}: not a file this build made")
        else:
            same = subjects[name] == ctx.sha256(actual[name])
            report.check("provenance", name, None if same else f"sha256 differs from its subject in {where}")
    if not view.problems:
        report.ok("provenance", where, "valid in-toto Statement v1, SLSA provenance v1")


def _provenance_signature(view: provenance.ProvenanceView, where: str, ctx: Context) -> None:
    claim = provenance.field_at(view.statement, "predicate", "buildDefinition", "internalParameters", "signed")
    says_signed = claim is True
    if view.signed:
        if ctx.key is None:
            ctx.report.skip("provenance-signature", where, "no public key shipped to check its signature against")
            return
        try:
            fpr = provenance.verify_signatures(view, ctx.key, log=ctx.log)
        except SigningError as exc:
            ctx.report.fail("provenance-signature", where, str(exc).replace(f"{view.path}: ", ""))
            return
        ctx.report.ok("provenance-signature", where, f"signed by {fpr}")
    elif ctx.key is not None or says_signed:
        why = "its statement says it was signed" if says_signed else "the release is signed"
        ctx.report.fail("provenance-signature", where, f"not signed (a bare statement, no DSSE envelope), but {why}")
    else:
        ctx.report.skip("provenance-signature", where, "unsigned release: the provenance is a bare statement")


# -- a repository directory ------------------------------------------------------------------------


def _verify_repository_dir(root: Path, label: str, ctx: Context, given: Path | None) -> None:
    keys = sorted(root.glob(f"{PUBLIC_KEY_PREFIX}*"))
    ctx.key = given or (keys[0] if keys else None)
    if given is None and keys:
        fprs = ", ".join(sorted(public_key_fingerprints(keys[0], ctx.log)))
        ctx.console.say(
            f"key: trusting the key shipped in the repository, {fprs} ({keys[0].name}) — or pass --key FILE"
        )
    with ctx.console.step(f"verify the repository {label}"):
        check_repository(root, label, ctx)


# -- publish ---------------------------------------------------------------------------------------


def publish_check(source_dir: Path, console: Console) -> Callable[[Target, str], None]:
    """What ``publish`` runs on the uploaded copy before it switches it into place: the same
    verification, on the mirror's directory or over HTTP; for an rsync target the mirror's copy
    is the local one byte for byte (publish checked the sha256 of every file there), which is
    verified instead."""

    def check(target: Target, staging: str) -> None:
        client = None
        if isinstance(target, DirTarget):
            location = str(target.root / staging)
        elif isinstance(target, HttpTarget):  # its session, its watchdog: every answer within the deadline
            location, client = target.url(staging, collection=True), target.client
        else:
            location = str(source_dir)
            console.say(
                f"publish: the copy at {target.display}{staging}/ has every file's sha256; verifying {location}"
            )
        report = verify(location, console=console, client=client)
        console.say(report.summary())
        if report.failed:
            first = report.failed[0]
            raise PublishError(
                f"{target.display}{staging}/: verification of the upload failed ({len(report.failed)} problem(s); "
                f"first: {first.subject}: {first.check}: {first.detail}); the release was not switched into place "
                "— fix: rebuild the release, or check the mirror's storage, then rerun publish"
            )

    return check
