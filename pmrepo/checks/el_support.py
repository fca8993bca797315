"""What each target's rpm and yum read: the one table (``SUPPORT``, keyed by
the dist's RHEL major version). The compat gate checks every RPM and
repository against its dist's row; the repository step refuses metadata that
any target could not read (``common()``: what every row allows)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import GateError
from ..manifest import Dist

# rpmlib() features rpm 4.8.0 (el6) provides: rpm's rpmlibProvides table as of
# 4.8 (PayloadIsXz/Lzma: built with xz; FileCaps: built with libcap).
_RPMLIB_4_8 = frozenset(
    {
        "VersionedDependencies",
        "CompressedFileNames",
        "PayloadIsBzip2",
        "PayloadIsXz",
        "PayloadIsLzma",
        "PayloadFilesHavePrefix",
        "ExplicitPackageProvide",
        "HeaderLoadSortsTags",
        "ScriptletInterpreterArgs",
        "PartialHardlinkSets",
        "ConcurrentAccess",
        "BuiltinLuaScripts",
        "FileDigests",
        "FileCaps",
    }
)
# rpm 4.11 (el7) adds ScriptletExpansion (4.9) and TildeInVersions (4.10). Neither
# has LargeFiles, RichDependencies (4.12/4.13), CaretInVersions,
# DynamicBuildRequires (4.15) or PayloadIsZstd (4.14).
_RPMLIB_4_11 = _RPMLIB_4_8 | {"ScriptletExpansion", "TildeInVersions"}

# rpm 4.6+ file digests: the PGPHASHALGO numbers rpm 4.8/4.11 know.
_DIGESTS_4_8 = {1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512"}


@dataclass(frozen=True)
class DistSupport:
    """What one target's rpm and yum can read."""

    rpm: str  # version, for messages
    yum: str
    rpmlib: frozenset[str]  # rpmlib(<feature>) names provided
    payload_compressors: frozenset[str]
    file_digests: Mapping[int, str]
    lead_majors: frozenset[int]  # RPM lead versions accepted
    header_max_tags: int  # index entries per header
    header_max_data: int  # bytes of a header's data store
    header_max_bytes: int  # whole header
    xml_compression: frozenset[str]  # primary/filelists/other(.xml.<c>)
    db_compression: frozenset[str]  # *_db (sqlite.<c>)
    checksums: frozenset[str]  # repomd checksum types
    db_types: tuple[str, ...] = ("primary_db", "filelists_db", "other_db")
    xml_types: tuple[str, ...] = ("primary", "filelists", "other")


_EL6 = DistSupport(
    rpm="4.8",
    yum="3.2.29",
    rpmlib=_RPMLIB_4_8,
    payload_compressors=frozenset({"gzip", "bzip2", "xz", "lzma"}),
    file_digests=_DIGESTS_4_8,
    lead_majors=frozenset({3, 4}),
    header_max_tags=0xFFFF,  # hdrchkTags
    header_max_data=0xFFFFFF,  # hdrchkData: 16 MiB data store
    header_max_bytes=32 * 1024 * 1024,  # headerMaxbytes
    # yum 3.2.29 reads XML metadata in practice only gzip-compressed (xz needs
    # pyliblzma); the same conservative rule is kept for el7's yum 3.4.
    xml_compression=frozenset({"gz"}),
    db_compression=frozenset({"gz", "bz2"}),
    checksums=frozenset({"sha256", "sha1", "sha"}),  # "sha" is createrepo's name for sha1
)

SUPPORT: Mapping[int, DistSupport] = {
    6: _EL6,
    7: dataclasses.replace(_EL6, rpm="4.11", yum="3.4.3", rpmlib=_RPMLIB_4_11),  # the rest as el6
}


def support_for(dist: Dist) -> DistSupport:
    try:
        return SUPPORT[dist.rhel]
    except KeyError:
        raise GateError(
            f"compat gate: no compatibility table for dist {dist.name} (rhel {dist.rhel}) — fix: add "
            f"one to SUPPORT in {__file__}"
        ) from None


# the names the repository step's messages use for a compression
_COMPRESSION_WORDS = {"gz": "gzip", "bz2": "bz2", "xz": "xz", "zstd": "zstd"}


def words(compressions: frozenset[str]) -> str:
    return "/".join(_COMPRESSION_WORDS.get(c, c) for c in sorted(compressions))


def common() -> DistSupport:
    """What every target reads (the oldest target's versions, for messages)."""
    rows = [SUPPORT[k] for k in sorted(SUPPORT)]
    first = rows[0]
    return dataclasses.replace(
        first,
        rpmlib=frozenset.intersection(*(r.rpmlib for r in rows)),
        payload_compressors=frozenset.intersection(*(r.payload_compressors for r in rows)),
        xml_compression=frozenset.intersection(*(r.xml_compression for r in rows)),
        db_compression=frozenset.intersection(*(r.db_compression for r in rows)),
        checksums=frozenset.intersection(*(r.checksums for r in rows)),
    )
