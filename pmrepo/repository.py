"""Repository trees and their metadata, readable by yum 3.2.29 (el6) and 3.4 (el7).

``createrepo_c`` is always called with explicit flags (gzip XML, sha256,
sqlite databases, the group file) and its output is verified afterwards:
a newer createrepo_c whose defaults changed (zstd, no sqlite) is caught here,
and so is a package it skipped (it logs "invalid packages" and exits 0):
the indexed packages must be exactly the files put into the tree.
"""
from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .errors import RepositoryError
from .run import run
from .verify import check_index

REPO_NS = "{http://linux.duke.edu/metadata/repo}"
XML_TYPES = ("primary", "filelists", "other")
DB_TYPES = ("primary_db", "filelists_db", "other_db")
READABLE_XML = (".xml.gz",)  # yum 3.2.29 reads XML metadata in practice only gzip-compressed
READABLE_DB = (".sqlite.bz2", ".sqlite.gz")


def createrepo_args(directory: Path, groupfile: Path | None, revision: int) -> list[str]:
    """The createrepo_c command line: every choice explicit, none a default."""
    args = [
        "createrepo_c",
        "--database",
        "--checksum", "sha256",
        "--repomd-checksum", "sha256",
        "--general-compress-type", "gz",  # XML and sqlite: yum 3.2.29 reads gz
        "--revision", str(revision),
        "--set-timestamp-to-revision",
        "--workers", "2",
    ]
    if groupfile is not None:
        args += ["--groupfile", str(groupfile)]
    args.append(str(directory))
    return args


@dataclass(frozen=True)
class RepoMetadata:
    """What repomd.xml says: type -> (location href, checksum type)."""

    path: Path
    entries: dict[str, tuple[str, str]]

    def href(self, kind: str) -> str:
        return self.entries[kind][0]


def read_repomd(repo: Path) -> RepoMetadata:
    repomd = repo / "repodata" / "repomd.xml"
    try:
        root = ET.parse(repomd).getroot()
    except (OSError, ET.ParseError) as exc:
        raise RepositoryError(f"{repomd}: unreadable repository metadata: {exc}") from None
    entries: dict[str, tuple[str, str]] = {}
    for data in root.findall(f"{REPO_NS}data"):
        kind = data.get("type", "")
        loc = data.find(f"{REPO_NS}location")
        csum = data.find(f"{REPO_NS}checksum")
        entries[kind] = (loc.get("href", "") if loc is not None else "",
                         csum.get("type", "") if csum is not None else "")
    return RepoMetadata(repomd, entries)


def verify(repo: Path, *, group: bool) -> RepoMetadata:
    """Check that the metadata is what el6/el7 yum can read; raise otherwise."""
    md = read_repomd(repo)
    wanted = list(XML_TYPES) + list(DB_TYPES) + (["group", "group_gz"] if group else [])
    for kind in wanted:
        if kind not in md.entries:
            raise RepositoryError(f"{md.path}: no '{kind}' metadata — el6/el7 yum need it; createrepo_c flags are wrong")
    for kind, (href, csum) in md.entries.items():
        if csum not in ("sha256", "sha"):
            raise RepositoryError(f"{md.path}: {kind} uses checksum {csum!r}; el6/el7 yum need sha256")
        if kind in XML_TYPES and not href.endswith(READABLE_XML):
            raise RepositoryError(f"{md.path}: {kind} is {href}; yum 3.2.29 reads only gzip XML")
        if kind in DB_TYPES and not href.endswith(READABLE_DB):
            raise RepositoryError(f"{md.path}: {kind} is {href}; yum 3.2/3.4 read only bz2/gz sqlite")
        if not (repo / href).is_file():
            raise RepositoryError(f"{md.path}: {kind} points at missing {href}")
    return md


def make_repository(directory: Path, rpms: Iterable[Path], *, groupfile: Path | None, revision: int,
                    log: Path, before_index: Callable[[list[Path]], None] | None = None) -> RepoMetadata:
    """Copy ``rpms`` into ``directory/rpm/`` and write verified metadata.
    ``before_index`` (e.g. signing) gets the copies before createrepo_c reads them."""
    rpm_dir = directory / "rpm"
    rpm_dir.mkdir(parents=True, exist_ok=True)
    copies = []
    for rpm in rpms:
        target = rpm_dir / rpm.name
        shutil.copyfile(rpm, target)
        copies.append(target)
    if before_index is not None and copies:
        before_index(copies)
    for target in copies:
        os.utime(target, (revision, revision))  # primary.xml records file mtimes
    run(createrepo_args(directory, groupfile, revision), log_file=log, error=RepositoryError)
    for path in (directory / "repodata").iterdir():
        os.utime(path, (revision, revision))
    md = verify(directory, group=groupfile is not None)
    check_index(directory, copies, log)
    return md
