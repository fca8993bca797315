"""Verification of reused and assembled artifacts: RPM digests (``rpm -K``),
what createrepo_c really indexed compared with what was put in the tree, and a
repository package's payload unpacked within bounds (regular files and
directories only, nothing outside the destination) to read the tree it carries.

Used on every reuse of a build-store entry (scheduler), after every
createrepo_c run (repository), by the digest gate, for build.json's record of
every RPM (assemble), for a build taken from the previous release (reuse_take)
and by ``verify``'s repository check (release_repo).
"""

from __future__ import annotations

import os
import re
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import PmrepoError, RepositoryError
from ..fsutil import iter_gzip, sha256_file
from ..layout import safe_relative
from ..limits import METADATA_MAX_BYTES
from ..repomd import read_repomd
from ..run import run

COMMON_NS = "{http://linux.duke.edu/metadata/common}"
PAYLOAD_MAX_BYTES = int(os.environ.get("PMREPO_FETCH_MAX_BYTES") or 2 << 30)  # what one payload may unpack to
_K_LINE = re.compile(r"^(?P<path>/.+?):\s+(?P<verdict>.*)$")


def recorded_rpms(directory: Path, recorded: Mapping[str, str], record: Path) -> str | None:
    """What is wrong with the RPMs in ``directory`` compared with ``recorded``
    ({file name: sha256}, as ``record`` holds it), or None when every RPM is
    the one recorded and its digests are intact (``rpm -K --nosignature``)."""
    rpms = sorted(directory.glob("*.rpm"))
    present = {p.name for p in rpms}
    for name in sorted(set(recorded) | present):
        path = directory / name
        if name not in present:
            return f"{path} is missing"
        if name not in recorded:
            return f"{path} is not recorded in {record.name}"
        got = sha256_file(path)
        if got != recorded[name]:
            return f"{path} has sha256 {got[:16]}…, {record.name} records {str(recorded[name])[:16]}…"
    bad = rpm_digests(rpms)
    if bad:
        path, why = next(iter(bad.items()))
        return f"{path}: {why}"
    return None


def rpm_digests(rpms: Sequence[Path], *, log: Path | None = None, signatures: bool = False) -> dict[Path, str]:
    """``rpm -K`` every file; returns {file: what is wrong} for the bad ones.

    Without ``signatures`` only digests are checked (``--nosignature``); with
    it the signatures too, against the keys in rpm's keyring (the caller sets
    ``_dbpath`` via the key it imported; see pmrepo.sign.signer for signed releases)."""
    if not rpms:
        return {}
    paths = [Path(p).resolve() for p in rpms]
    argv = ["rpm", "-K", *([] if signatures else ["--nosignature"]), *map(str, paths)]
    res = run(argv, log_file=log, check=False)
    verdicts: dict[Path, str] = {}
    errors: dict[Path, str] = {}
    for line in res.output.splitlines():
        m = _K_LINE.match(line.strip())
        if m:
            verdicts[Path(m["path"])] = m["verdict"].strip()
        elif line.startswith("error:"):
            for p in paths:
                if str(p) in line:
                    errors[p] = line[len("error:") :].replace(str(p) + ":", "").strip()
    bad: dict[Path, str] = {}
    for p in paths:
        v = verdicts.get(p)
        if p in errors:
            bad[p] = errors[p]
        elif v is None:
            bad[p] = "rpm -K gave no verdict"
        elif "NOT OK" in v or not v.endswith("OK"):
            bad[p] = f"rpm -K: {v}"
    if res.returncode != 0 and not bad:
        bad[paths[0]] = f"rpm -K exited {res.returncode}"
    return bad


@dataclass(frozen=True)
class IndexEntry:
    """One package as primary.xml lists it."""

    file_name: str  # name-version-release.arch.rpm, from the header fields it records
    checksum_type: str
    checksum: str  # of the whole file (createrepo_c: the package's sha256)
    size: int | None  # the file's size ("package" attribute), None when absent


def index_entries(repo: Path) -> dict[str, IndexEntry]:
    """{location href: what primary.xml.gz records of it}. The file is where repomd.xml says,
    inside the repository, a regular file (never through a symlink), inflated to at most
    METADATA_MAX_BYTES and parsed with defusedxml: a repository from a mirror is input."""
    from defusedxml import DefusedXmlException  # requirements.txt
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    md = read_repomd(repo)
    if "primary" not in md.entries:
        raise RepositoryError(f"{md.path}: no primary metadata")
    primary = md.location("primary")
    try:
        parser = DefusedXMLParser(forbid_dtd=True)
        for block in iter_gzip(primary, limit=METADATA_MAX_BYTES):  # parsed as it inflates
            parser.feed(block)
        root = parser.close()
    except (OSError, EOFError, ParseError, DefusedXmlException, PmrepoError, ValueError) as exc:
        why = str(exc).replace(f"{primary}: ", "")
        raise RepositoryError(f"{primary}: unreadable primary metadata: {why}") from None
    out: dict[str, IndexEntry] = {}
    for pkg in root.findall(f"{COMMON_NS}package"):
        name = pkg.findtext(f"{COMMON_NS}name", "")
        arch = pkg.findtext(f"{COMMON_NS}arch", "")
        ver = pkg.find(f"{COMMON_NS}version")
        loc = pkg.find(f"{COMMON_NS}location")
        csum = pkg.find(f"{COMMON_NS}checksum")
        size = pkg.find(f"{COMMON_NS}size")
        v, r = (ver.get("ver", ""), ver.get("rel", "")) if ver is not None else ("", "")
        raw_size = size.get("package", "") if size is not None else ""
        out[loc.get("href", "") if loc is not None else ""] = IndexEntry(
            file_name=f"{name}-{v}-{r}.{arch}.rpm",
            checksum_type=csum.get("type", "") if csum is not None else "",
            checksum=(csum.text or "").strip().lower() if csum is not None else "",
            size=int(raw_size) if raw_size.isdigit() else None,
        )
    return out


def indexed(repo: Path) -> dict[str, str]:
    """{location href: name-version-release.arch.rpm} from primary.xml.gz."""
    return {href: entry.file_name for href, entry in index_entries(repo).items()}


def check_index(repo: Path, copies: Sequence[Path], log: Path | None = None) -> int:
    """Every file put into ``repo`` is indexed under its own NEVRA, and nothing
    else is; returns the count. createrepo_c skips an unreadable package with
    a log line and exit 0: this is where that becomes an error."""
    got = indexed(repo)
    want = {p.relative_to(repo).as_posix(): p.name for p in copies}
    missing = sorted(h for h in want if h not in got)
    where = f" (createrepo_c log: {log})" if log else ""
    if missing:
        raise RepositoryError(
            f"{repo}: createrepo_c indexed {len(got)} of {len(want)} packages; not indexed: "
            f"{', '.join(missing)}{where} — fix: the file is damaged; rebuild it (--force)"
        )
    extra = sorted(h for h in got if h not in want)
    if extra:
        raise RepositoryError(f"{repo}: metadata lists {', '.join(extra)}, which was not put in the tree")
    wrong = sorted(h for h in want if got[h] != want[h])
    if wrong:
        raise RepositoryError(
            f"{repo}: {wrong[0]} is indexed as {got[wrong[0]]} — its header does not match its "
            "file name; fix: rebuild it (--force)"
        )
    return len(got)


def unpack_payload(rpm: Path, dest: Path, log: Path | None) -> str | None:
    """:func:`extract_payload` with its command logged to ``log`` (``pmrepo.schedule.reuse`` takes builds so)."""
    dest.mkdir(parents=True)
    link = dest.parent / f".{dest.name}.rpm"
    os.symlink(rpm.resolve(), link)
    res = run(["rpm2archive", "-n", str(link)], log_file=log, check=False)
    archive = link.with_name(link.name + ".tar")
    link.unlink()
    if res.returncode != 0 or not archive.is_file():
        return f"rpm2archive could not read its payload ({res.output.strip().splitlines()[-1:] or ['no output']})"
    try:
        return _untar(archive, dest)
    finally:
        archive.unlink(missing_ok=True)


def _untar(archive: Path, dest: Path) -> str | None:
    total = 0
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                rel = safe_relative(member.name)
                if rel is None:
                    return f"payload entry {member.name!r} leaves the package's tree"
                target = dest.joinpath(*rel.parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isreg():
                    return f"payload entry /{rel} is not a regular file or directory"
                total += member.size
                if total > PAYLOAD_MAX_BYTES:
                    return f"payload unpacks to more than {PAYLOAD_MAX_BYTES} bytes (PMREPO_FETCH_MAX_BYTES)"
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                assert src is not None
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as out, src:
                    while block := src.read(1 << 20):
                        out.write(block)
    except (tarfile.TarError, OSError) as exc:
        return f"payload not readable: {exc}"
    return None
