"""The one reader of ``repodata/repomd.xml``, used by the repository step
(``repository.verify``), the index check (``verify.indexed``) and the compat
gate: which metadata files a repository lists, where, with which checksums."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import RepositoryError
from .layout import repomd_xml

REPO_NS = "{http://linux.duke.edu/metadata/repo}"


class RepomdError(RepositoryError):
    """repomd.xml is missing or unreadable; ``reason`` is the short cause."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class RepomdEntry:
    type: str
    href: str
    checksum_type: str
    checksum: str
    open_checksum_type: str


@dataclass(frozen=True)
class Repomd:
    """What repomd.xml says: metadata type -> entry."""

    repo: Path
    path: Path
    entries: Mapping[str, RepomdEntry]

    def href(self, kind: str) -> str:
        return self.entries[kind].href


def read_repomd(repo: Path) -> Repomd:
    path = repomd_xml(repo)
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise RepomdError(
            f"{path}: unreadable repository metadata: no such file", "no repodata/repomd.xml (createrepo_c did not run)"
        ) from None
    except (OSError, ET.ParseError) as exc:
        raise RepomdError(f"{path}: unreadable repository metadata: {exc}", f"unreadable: {exc}") from None
    entries: dict[str, RepomdEntry] = {}
    for data in root.findall(f"{REPO_NS}data"):
        kind = data.get("type", "")
        loc = data.find(f"{REPO_NS}location")
        csum = data.find(f"{REPO_NS}checksum")
        ocsum = data.find(f"{REPO_NS}open-checksum")
        entries[kind] = RepomdEntry(
            type=kind,
            href=loc.get("href", "") if loc is not None else "",
            checksum_type=csum.get("type", "") if csum is not None else "",
            checksum=(csum.text or "").strip() if csum is not None else "",
            open_checksum_type=ocsum.get("type", "") if ocsum is not None else "",
        )
    return Repomd(repo, path, entries)
