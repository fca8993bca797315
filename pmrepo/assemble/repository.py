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
from collections.abc import Callable, Iterable
from pathlib import Path

from ..checks import el_support as targets
from ..checks.integrity import check_index
from ..errors import RepositoryError
from ..layout import repo_rpm_dir, repodata_dir
from ..repomd import Repomd, read_repomd
from ..run import run


def createrepo_args(directory: Path, groupfile: Path | None, revision: int) -> list[str]:
    """The createrepo_c command line: every choice explicit, none a default."""
    args = [
        "createrepo_c",
        "--database",
        "--checksum",
        "sha256",
        "--repomd-checksum",
        "sha256",
        "--general-compress-type",
        "gz",  # XML and sqlite: yum 3.2.29 reads gz
        "--revision",
        str(revision),
        "--set-timestamp-to-revision",
        "--workers",
        "2",
    ]
    if groupfile is not None:
        args += ["--groupfile", str(groupfile)]
    args.append(str(directory))
    return args


def verify(repo: Path, *, group: bool) -> Repomd:
    """Check that the metadata is what every target's yum can read (the
    ``pmrepo.checks.el_support`` table the compat gate uses too); raise otherwise."""
    sup = targets.common()
    md = read_repomd(repo)
    wanted = [*sup.xml_types, *sup.db_types, *(["group", "group_gz"] if group else [])]
    for kind in wanted:
        if kind not in md.entries:
            raise RepositoryError(
                f"{md.path}: no '{kind}' metadata — el6/el7 yum need it; createrepo_c flags are wrong"
            )
    for kind, entry in md.entries.items():
        href, csum = entry.href, entry.checksum_type
        if csum not in sup.checksums:
            raise RepositoryError(
                f"{md.path}: {kind} uses checksum {csum!r}; yum {sup.yum} needs {'/'.join(sorted(sup.checksums))}"
            )
        if kind in sup.xml_types and not href.endswith(tuple(f".xml.{c}" for c in sup.xml_compression)):
            raise RepositoryError(
                f"{md.path}: {kind} is {href}; yum {sup.yum} reads only {targets.words(sup.xml_compression)} XML"
            )
        if kind in sup.db_types and not href.endswith(tuple(f".sqlite.{c}" for c in sup.db_compression)):
            raise RepositoryError(
                f"{md.path}: {kind} is {href}; yum {sup.yum} reads only {targets.words(sup.db_compression)} sqlite"
            )
        if not (repo / href).is_file():
            raise RepositoryError(f"{md.path}: {kind} points at missing {href}")
    return md


def make_repository(
    directory: Path,
    rpms: Iterable[Path],
    *,
    groupfile: Path | None,
    revision: int,
    log: Path,
    before_index: Callable[[list[Path]], None] | None = None,
) -> Repomd:
    """Copy ``rpms`` into ``directory/rpm/`` and write verified metadata.
    ``before_index`` (e.g. signing) gets the copies before createrepo_c reads them."""
    rpm_dir = repo_rpm_dir(directory)
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
    for path in repodata_dir(directory).iterdir():
        os.utime(path, (revision, revision))
    md = verify(directory, group=groupfile is not None)
    check_index(directory, copies, log)
    return md
