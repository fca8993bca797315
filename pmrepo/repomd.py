"""The one reader of ``repodata/repomd.xml``, used by the repository step
(``repository.verify``), the index check (``verify.indexed``), the compat
gate and ``verify`` (``release_repo``): which metadata files a repository lists, where, with which checksums."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import PmrepoError, RepositoryError
from .fsutil import read_regular
from .layout import inside, repomd_xml
from .limits import REPOMD_MAX_BYTES

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

    def location(self, kind: str) -> Path:
        """Where the ``kind`` metadata file is: inside the repository, or RepomdError (an href
        that is absolute, has ``..`` or leads through a symlink out of it)."""
        path = inside(self.repo, self.href(kind))
        if path is None:
            raise RepomdError(
                f"{self.path}: the {kind} metadata's location {self.href(kind)!r} is outside the repository",
                f"{kind} location outside the repository",
            )
        return path


def read_repomd(repo: Path) -> Repomd:
    """What ``repo``'s repomd.xml lists: read as a bounded regular file (never through a symlink),
    parsed with defusedxml (no DTD, no entity)."""
    from defusedxml import DefusedXmlException  # requirements.txt
    from defusedxml.ElementTree import ParseError, fromstring

    path = repomd_xml(repo)
    try:
        text = read_regular(path, limit=REPOMD_MAX_BYTES)
        root = fromstring(text, forbid_dtd=True)
    except FileNotFoundError:
        raise RepomdError(
            f"{path}: unreadable repository metadata: no such file", "no repodata/repomd.xml (createrepo_c did not run)"
        ) from None
    except (OSError, ParseError, DefusedXmlException, PmrepoError, ValueError) as exc:
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
