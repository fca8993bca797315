"""Gate 2 — compatibility with each target dist's rpm and yum.

Every RPM and SRPM is checked against what that dist's rpm can install:
its ``rpmlib()`` requirements, payload compressor, file digest algorithm,
package format (lead + v4 header) and header size. Every repository's
``repodata/`` is checked against what that dist's yum reads: gzip XML for
primary/filelists/other, sqlite databases (gz/bz2), sha256/sha1 checksums,
the group file when one is expected, and that each listed file is there
with the checksum repomd.xml gives.

What each dist supports is table-driven: ``pmrepo.checks.el_support.SUPPORT``, keyed by
the dist's RHEL major version, is the one place to change (the repository
step reads the same table). Headers are read
with ``rpm -qp --qf`` (``rpmquery.query_rpm``); the lead and header sizes
from the file's first bytes; repomd.xml with ``pmrepo.repomd.read_repomd``.
"""

from __future__ import annotations

import abc
import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from ..errors import GateError
from ..layout import repomd_xml
from ..repomd import Repomd, RepomdError, read_repomd
from .base import Check, CheckContext, Findings
from .el_support import SUPPORT, DistSupport, support_for
from .rpmquery import RpmHeader, query_rpm

__all__ = ["SUPPORT", "CompatCheck", "DistSupport", "support_for"]


# How to fix a package that needs a feature the target lacks.
FEATURE_FIXES: Mapping[str, str] = {
    "PayloadIsZstd": "build with --define '_binary_payload w9.gzdio' (and _source_payload)",
    "RichDependencies": "replace boolean dependencies like (a or b) with plain Requires",
    "CaretInVersions": "remove '^' from versions",
    "TildeInVersions": "remove '~' from versions",
    "LargeFiles": "ship no file over 4 GiB; under rpm >= 6 also define _rpmformat 4",
    "ScriptletExpansion": "drop -e (runtime expansion) from scriptlets",
    "DynamicBuildRequires": "replace %generate_buildrequires with static BuildRequires",
}


# -- the file's own layout: lead and header sizes ------------------------------

LEAD_MAGIC = b"\xed\xab\xee\xdb"
HEADER_MAGIC = b"\x8e\xad\xe8"
LEAD_SIZE = 96


@dataclass(frozen=True)
class RpmLayout:
    lead_major: int
    lead_minor: int
    signature_type: int
    header_version: int
    header_tags: int
    header_data: int

    @property
    def header_bytes(self) -> int:
        return 16 + 16 * self.header_tags + self.header_data


def read_layout(path: Path) -> RpmLayout:
    """Parse the lead, skip the signature header, size the main header."""
    with path.open("rb") as fh:
        lead = fh.read(LEAD_SIZE)
        if len(lead) < LEAD_SIZE or lead[:4] != LEAD_MAGIC:
            raise ValueError("not an RPM file (bad lead magic)")
        major, minor = lead[4], lead[5]
        (sigtype,) = struct.unpack(">h", lead[78:80])
        sig = fh.read(16)
        if len(sig) < 16 or sig[:3] != HEADER_MAGIC:
            raise ValueError("bad signature header magic")
        il, dl = struct.unpack(">II", sig[8:16])
        size = 16 * il + dl
        fh.seek(LEAD_SIZE + 16 + size + (-size % 8))  # the signature header is padded to 8 bytes
        hdr = fh.read(16)
        if len(hdr) < 16 or hdr[:3] != HEADER_MAGIC:
            raise ValueError("bad main header magic")
        hil, hdl = struct.unpack(">II", hdr[8:16])
        return RpmLayout(major, minor, sigtype, hdr[3], hil, hdl)


# -- RPM checks (one class each) ------------------------------------------------


@dataclass(frozen=True)
class RpmFacts:
    path: Path
    header: RpmHeader
    layout: RpmLayout


Subject = TypeVar("Subject", RpmFacts, Repomd)


class Rule(abc.ABC, Generic[Subject]):
    """One rule about one subject on the dist of ``ctx``: a package (its ``RpmFacts``) or a
    repository (its ``Repomd``); its findings have the kind id ``compat.<name>``."""

    name: ClassVar[str]

    def check(self, subject: Subject, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        self.find(subject, ctx, sup, report.scoped(f"compat.{self.name}"))

    @abc.abstractmethod
    def find(self, subject: Subject, ctx: CheckContext, sup: DistSupport, report: Findings) -> None: ...


class RpmFormatRule(Rule[RpmFacts]):
    """A v4 package old rpm can open: lead v3/v4, header-style signature, v1 header."""

    name = "rpm-format"

    def find(self, rpm: RpmFacts, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        lay = rpm.layout
        if lay.lead_major not in sup.lead_majors:
            report.error(
                rpm.path,
                "rpm-format",
                f"lead version {lay.lead_major}.{lay.lead_minor}: {ctx.dist.name} "
                f"rpm {sup.rpm} reads only v3/v4 packages — fix: build a v4 package (define _rpmformat 4)",
            )
        if lay.signature_type != 5:
            report.error(
                rpm.path,
                "rpm-format",
                f"signature type {lay.signature_type} (not a header signature): "
                f"{ctx.dist.name} rpm {sup.rpm} refuses it",
            )
        if lay.header_version != 1:
            report.error(
                rpm.path,
                "rpm-format",
                f"header version {lay.header_version}: {ctx.dist.name} rpm {sup.rpm} "
                "reads only version 1 headers — fix: build a v4 package",
            )
        if rpm.header.payload_format not in ("", "cpio"):
            report.error(
                rpm.path,
                "payload-format",
                f"payload format {rpm.header.payload_format!r}: {ctx.dist.name} "
                f"rpm {sup.rpm} reads only cpio payloads — fix: build a v4 package",
            )


class HeaderSizeRule(Rule[RpmFacts]):
    name = "header-size"

    def find(self, rpm: RpmFacts, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        lay = rpm.layout
        if lay.header_tags > sup.header_max_tags:
            report.error(
                rpm.path,
                "header-size",
                f"{lay.header_tags} header tags exceed {ctx.dist.name} rpm {sup.rpm}'s limit of {sup.header_max_tags}",
            )
        if lay.header_data > sup.header_max_data:
            report.error(
                rpm.path,
                "header-size",
                f"header data store of {lay.header_data} bytes exceeds {ctx.dist.name} "
                f"rpm {sup.rpm}'s limit of {sup.header_max_data} — fix: split the package (fewer files)",
            )
        if lay.header_bytes > sup.header_max_bytes:
            report.error(
                rpm.path,
                "header-size",
                f"header of {lay.header_bytes} bytes exceeds {ctx.dist.name} rpm "
                f"{sup.rpm}'s limit of {sup.header_max_bytes} (32 MiB) — fix: split the package",
            )


class RpmlibRule(Rule[RpmFacts]):
    """Every rpmlib(X) requirement must be a feature the dist's rpm provides."""

    name = "rpmlib"

    def find(self, rpm: RpmFacts, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        for req in rpm.header.requires:
            if not (req.name.startswith("rpmlib(") and req.name.endswith(")")):
                continue
            feature = req.name[len("rpmlib(") : -1]
            if feature in sup.rpmlib:
                continue
            fix = FEATURE_FIXES.get(feature, "rebuild without it")
            report.error(
                rpm.path, req.name, f"{ctx.dist.name}'s rpm {sup.rpm} does not support it ({req}) — fix: {fix}"
            )


class PayloadRule(Rule[RpmFacts]):
    name = "payload"

    def find(self, rpm: RpmFacts, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        comp = rpm.header.payload_compressor or "gzip"  # rpm's default when the tag is absent
        if comp not in sup.payload_compressors:
            report.error(
                rpm.path,
                f"payload {comp}",
                f"{ctx.dist.name}'s rpm {sup.rpm} cannot decompress a {comp} payload "
                f"(it reads {', '.join(sorted(sup.payload_compressors))}) — fix: "
                f"build with --define '_binary_payload w9.gzdio'",
            )


class FileDigestRule(Rule[RpmFacts]):
    name = "file-digest"

    def find(self, rpm: RpmFacts, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        algo = rpm.header.file_digest_algo
        if algo is None or algo in sup.file_digests:
            return
        report.error(
            rpm.path,
            f"file digest algorithm {algo}",
            f"{ctx.dist.name}'s rpm {sup.rpm} cannot verify it "
            f"(it knows {', '.join(sup.file_digests.values())}) — fix: define _binary_filedigest_algorithm 8",
        )


RPM_RULES: tuple[Rule[RpmFacts], ...] = (
    RpmFormatRule(),
    HeaderSizeRule(),
    RpmlibRule(),
    PayloadRule(),
    FileDigestRule(),
)

# -- repository checks (one class each) ------------------------------------------

_MAGIC = (  # (prefix, compression name)
    (b"\x1f\x8b", "gz"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x00ZCK1", "zck"),
    (b"\x5d\x00\x00", "lzma"),
    (b"<?xml", "none"),
    (b"SQLite format 3\x00", "none"),
)
_HASHES = {
    "sha": "sha1",
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "md5": "md5",
}


def compression_of(path: Path) -> str:
    """What the file's first bytes say it is compressed with ("none": plain)."""
    with path.open("rb") as fh:
        head = fh.read(16)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return "unknown"


class MetadataTypesRule(Rule[Repomd]):
    """primary/filelists/other and their sqlite databases must all be listed."""

    name = "metadata-types"

    def find(self, md: Repomd, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        for kind in sup.xml_types:
            if kind not in md.entries:
                report.error(md.path, kind, f"no '{kind}' metadata — {ctx.dist.name}'s yum {sup.yum} needs it")
        for kind in sup.db_types:
            if kind not in md.entries:
                report.error(
                    md.path,
                    kind,
                    f"no sqlite database '{kind}' — {ctx.dist.name}'s yum {sup.yum} expects "
                    "the databases — fix: run createrepo_c with --database",
                )


class CompressionRule(Rule[Repomd]):
    """Each listed file is compressed with something the dist's yum reads (by its bytes)."""

    name = "metadata-compression"

    def find(self, md: Repomd, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        for kind, entry in md.entries.items():
            file = md.repo / entry.href
            if not file.is_file():
                continue  # IntegrityRule reports it
            comp = compression_of(file)
            if kind in sup.xml_types:
                allowed = sup.xml_compression
            elif kind in sup.db_types:
                allowed = sup.db_compression
            elif kind == "group":
                allowed = frozenset({"none"})
            elif kind == "group_gz" or kind.endswith("_gz"):
                allowed = frozenset({"gz"})
            elif kind.endswith("_zck"):
                report.warning(file, f"{kind} (zck)", f"{ctx.dist.name}'s yum {sup.yum} ignores zchunk metadata")
                continue
            else:
                allowed = frozenset({"gz", "bz2", "none"})  # updateinfo, modules, …
            if comp not in allowed:
                report.error(
                    file,
                    f"{kind} compression {comp}",
                    f"{ctx.dist.name}'s yum {sup.yum} reads "
                    f"{kind} only as {'/'.join(sorted(allowed))} — fix: createrepo_c "
                    "--general-compress-type=gz --database (createrepo_c 1.x: --compatibility)",
                )


class ChecksumTypeRule(Rule[Repomd]):
    name = "checksum-type"

    def find(self, md: Repomd, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        bad: dict[str, list[str]] = {}  # checksum type -> entries using it
        for kind, entry in md.entries.items():
            for ctype in (entry.checksum_type, entry.open_checksum_type):
                if ctype and ctype not in sup.checksums and kind not in bad.setdefault(ctype, []):
                    bad[ctype].append(kind)
        for ctype, kinds in bad.items():
            if kinds:
                report.error(
                    md.path,
                    f"checksum {ctype}",
                    f"used by {', '.join(kinds)}; {ctx.dist.name}'s yum "
                    f"{sup.yum} verifies only sha256/sha1 — fix: createrepo_c --checksum sha256 "
                    "--repomd-checksum sha256",
                )


class GroupFileRule(Rule[Repomd]):
    name = "group-file"

    def find(self, md: Repomd, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        if ctx.expects_group(md.repo) and "group" not in md.entries:
            report.error(
                md.path,
                "group",
                f"no comps group file, but the release defines a group — "
                f"`yum groupinstall` on {ctx.dist.name} would fail — fix: createrepo_c --groupfile comps.xml",
            )


class IntegrityRule(Rule[Repomd]):
    """Every file repomd.xml lists exists and matches its checksum."""

    name = "metadata-integrity"

    def find(self, md: Repomd, ctx: CheckContext, sup: DistSupport, report: Findings) -> None:
        for kind, entry in md.entries.items():
            file = md.repo / entry.href
            if not entry.href or not file.is_file():
                report.error(md.path, kind, f"lists {entry.href or '(no location)'}, which does not exist")
                continue
            algo = _HASHES.get(entry.checksum_type)
            if algo is None:
                continue  # ChecksumTypeRule reports unknown types
            digest = hashlib.new(algo)
            with file.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            if digest.hexdigest() != entry.checksum:
                report.error(
                    file,
                    f"{kind} checksum",
                    f"does not match repomd.xml ({entry.checksum_type}) — "
                    "yum would refuse the repository — fix: re-run createrepo_c",
                )


REPO_RULES: tuple[Rule[Repomd], ...] = (
    MetadataTypesRule(),
    CompressionRule(),
    ChecksumTypeRule(),
    GroupFileRule(),
    IntegrityRule(),
)


class CompatCheck(Check):
    id = "compat"
    name = "compat gate"
    required = True

    def run(self, ctx: CheckContext) -> Findings:
        sup = support_for(ctx.dist)
        report = Findings(self.id, ctx.dist.name)
        log = ctx.log(f"compat-{ctx.dist.name}.log")
        for path in ctx.rpms:
            report.items.append(str(path))
            try:
                facts = RpmFacts(path, query_rpm(path, log), read_layout(path))
            except (GateError, ValueError, OSError) as exc:
                report.error(
                    path, "rpm-format", f"{ctx.dist.name}'s rpm {sup.rpm} cannot read it: {exc}", "compat.unreadable"
                )
                continue
            for rule in RPM_RULES:
                rule.check(facts, ctx, sup, report)
        for repo in ctx.repos:
            repomd = repomd_xml(repo)
            report.items.append(str(repomd))
            try:
                md = read_repomd(repo)
            except RepomdError as exc:
                report.error(repomd, "repomd.xml", exc.reason, "compat.repomd")
                continue
            for rrule in REPO_RULES:
                rrule.check(md, ctx, sup, report)
        return report
