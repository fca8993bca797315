"""Taking a build from the previous release's published output (``pmrepo.schedule.reuse``), verified first.

Per dist the previous release's three repository packages are checked and unpacked once
(:class:`Taker`, under a lock: the scheduler's jobs run in threads): each must be the file its
``build.json`` records (sha256), pass ``rpm -K`` (header and payload digests) and, when it was
signed, verify against the public key its output ships. Their payloads are unpacked as
``verify`` unpacks one (``checks.integrity.unpack_payload``: ``rpm2archive``, regular files and
directories only, every path confined to the scratch directory, bounded in size). Then each RPM
a job takes must be a regular file whose sha256 is the one the repository package's header, the
previous ``build.json`` (``rpms``) and the repository's ``primary.xml`` record, pass ``rpm -K``
(and its signature check when the release was signed), and carry in its header the NEVRA its
name says (binary packages: from that SRPM). Anything else refuses the job in one line — it is
neither taken nor built: a previous output that is not what was published must be restored.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from ..builders import BuildOutput
from ..checks.integrity import IndexEntry, index_entries, rpm_digests, unpack_payload
from ..checks.nevra import Predecessor
from ..checks.rpmquery import query
from ..errors import BuildError, PmrepoError
from ..fsutil import check_regular, sha256_file
from ..layout import PUBLIC_KEY_PREFIX, rpm_file_name, safe_relative
from ..progress import StepFn, quiet_step
from ..records import BuildRecord, RecordError
from ..sign.signer import check_rpms
from .reuse import Reuse, TakenRpm

REUSE_LOG = "reused-from.txt"  # in a reused job's store entry: where each of its RPMs came from


class ReuseError(BuildError):
    """The previous release's output is not what it published: nothing is taken from it."""


class Taker:
    """The previous release's published output of one dist, as builds to take."""

    def __init__(self, prev: Predecessor, scratch: Path, log: Path | None, step: StepFn = quiet_step) -> None:
        assert prev.release is not None and prev.output is not None
        self.prev, self.scratch, self.log, self.step = prev, scratch, log, step
        self.release_id = prev.release.release_id
        self._lock = threading.Lock()
        self._opened = False
        self._error = ""
        self._record: BuildRecord | None = None
        self._pubkey: Path | None = None
        self._index: dict[tuple[str, str], IndexEntry] = {}  # (repo package, path inside) -> primary.xml's entry

    def _fail(self, problem: str) -> ReuseError:
        assert self.prev.output is not None
        return ReuseError(
            f"not reused from {self.release_id}: {problem} — fix: restore {self.prev.output.root} as "
            f"{self.release_id} published it (from its mirror), or pass --upgrade-from the output root of a copy "
            "that verifies (what does not verify is neither taken nor built)"
        )

    def take(self, reuse: Reuse, dest: Path) -> BuildOutput:
        """``reuse``'s RPMs, verified, copied into ``dest`` (the job's staging directory)."""
        with self._lock:
            if not self._opened:
                self._opened = True
                try:
                    self._open()
                except ReuseError as exc:
                    self._error = str(exc)
                except PmrepoError as exc:
                    self._error = str(self._fail(str(exc)))
        if self._error:
            raise ReuseError(self._error)
        sources = [self._verified_file(f) for f in reuse.files]
        self._check_rpms(reuse, sources)
        for f, src in zip(reuse.files, sources, strict=True):
            shutil.copyfile(src, dest / f.name)
        (dest / REUSE_LOG).write_text(
            "".join(
                f"{f.name}: taken from {self.release_id}'s {f.repo_package} ({f.path}), sha256 {f.sha256}\n"
                for f in reuse.files
            )
        )
        return BuildOutput(
            srpm=dest / reuse.srpm.name, rpms=tuple(dest / f.name for f in reuse.binary), logs=(dest / REUSE_LOG,)
        )

    def close(self) -> None:
        """Remove what was unpacked."""
        shutil.rmtree(self.scratch, ignore_errors=True)

    # -- the repository packages, once per dist -------------------------------------------------
    def _open(self) -> None:
        prev = self.prev
        assert prev.output is not None and prev.release is not None
        try:
            self._record = record = BuildRecord.read(prev.output.build_json)
        except RecordError as exc:
            raise self._fail(str(exc)) from None
        if record.signed:
            keys = sorted(prev.output.root.glob(f"{PUBLIC_KEY_PREFIX}*"))
            if len(keys) != 1:
                raise self._fail(f"{prev.output.root} was signed, and holds {len(keys)} public keys, not 1")
            check_regular(keys[0])
            self._pubkey = keys[0]
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)
        for n, rpm in enumerate(prev.repo_rpms, 1):
            dest = self.scratch / rpm.name.removesuffix(".rpm")
            with self.step(
                f"take builds from {self.release_id}: check and unpack {rpm.name} ({n}/{len(prev.repo_rpms)})"
            ):
                self._check_repo_package(rpm, record)
                problem = unpack_payload(rpm, dest, self.log)
            if problem:
                raise self._fail(f"{rpm}: {problem}")
            for repo in prev.release.repositories:
                root = dest / repo.prefix.lstrip("/")
                if (root / "repodata").is_dir():
                    for href, entry in index_entries(root).items():
                        self._index[(rpm.name, f"{repo.prefix.rstrip('/')}/{href}")] = entry

    def _check_repo_package(self, rpm: Path, record: BuildRecord) -> None:
        assert self.prev.output is not None
        check_regular(rpm)
        recorded = record.files.get(rpm.name)
        if recorded is None:
            raise self._fail(f"{rpm} is not recorded in {self.prev.output.build_json}")
        got = sha256_file(rpm)
        if got != recorded.sha256:
            raise self._fail(
                f"{rpm} has sha256 {got[:16]}…, {self.prev.output.build_json} records {recorded.sha256[:16]}…"
            )
        self._digests_and_signatures([rpm])

    def _digests_and_signatures(self, rpms: list[Path]) -> None:
        bad = rpm_digests(rpms, log=self.log)
        if bad:
            path, why = next(iter(bad.items()))
            raise self._fail(f"{path}: {why}")
        if self._pubkey is not None:
            for sig in check_rpms(rpms, self._pubkey, self.log):
                if not sig.ok:
                    raise self._fail(f"{sig.path}: signature: {sig.reason} (key {self._pubkey.name})")

    # -- one job's RPMs ---------------------------------------------------------------------------
    def _verified_file(self, f: TakenRpm) -> Path:
        assert self._record is not None and self.prev.output is not None
        rel = safe_relative(f.path)
        if rel is None:
            raise self._fail(f"{f.repo_package} names {f.path!r}, a path outside its tree")
        src = self.scratch / f.repo_package.removesuffix(".rpm") / Path(*rel.parts)
        where = f"{f.name} in {f.repo_package} ({f.path})"
        try:
            check_regular(src)
        except (OSError, PmrepoError) as exc:
            raise self._fail(f"{where}: not unpacked as a regular file ({exc})") from None
        got = sha256_file(src)
        if got != f.sha256:
            raise self._fail(
                f"{where} has sha256 {got[:16]}…, its repository package's header records {f.sha256[:16]}…"
            )
        recorded = self._record.rpms.get(f.name)
        if self._record.rpms and (recorded is None or recorded.sha256 != got):
            said = f"records {recorded.sha256[:16]}…" if recorded else "does not record it"
            raise self._fail(f"{where} has sha256 {got[:16]}…, {self.prev.output.build_json} {said}")
        entry = self._index.get((f.repo_package, f.path))
        if entry is None or entry.checksum_type != "sha256" or entry.checksum != got:
            said = "does not list it" if entry is None else f"records {entry.checksum_type} {entry.checksum[:16]}…"
            raise self._fail(f"{where} has sha256 {got[:16]}…, its repository's primary.xml {said}")
        return src

    def _check_rpms(self, reuse: Reuse, sources: list[Path]) -> None:
        """``rpm -K`` (and the signatures) of one job's RPMs, and the NEVRA each header holds."""
        self._digests_and_signatures(sources)
        tags = {"NAME": "%{NAME}", "VR": "%{VERSION}-%{RELEASE}", "ARCH": "%|SOURCEPACKAGE?{src}:{%{ARCH}}|"}
        headers = query(sources, {**tags, "SOURCERPM": "%{SOURCERPM}"}, log=self.log, error=ReuseError)
        if len(headers) != len(sources):
            raise self._fail(f"rpm read {len(headers)} headers of {len(sources)} packages of {reuse.component}")
        for f, h in zip(reuse.files, headers, strict=True):
            first = {k: (v or [""])[0] for k, v in h.items()}
            named = rpm_file_name(first.get("NAME", ""), first.get("VR", ""), first.get("ARCH", ""))
            if named != f.name:
                raise self._fail(f"{f.name} in {f.repo_package}: its header says it is {named}")
            if f is not reuse.srpm and first.get("SOURCERPM") != reuse.srpm.name:
                raise self._fail(
                    f"{f.name} in {f.repo_package} was built from {first.get('SOURCERPM')}, not {reuse.srpm.name}"
                )
