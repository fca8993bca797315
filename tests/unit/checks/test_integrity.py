"""A repository's metadata read as input (review M5): repomd.xml's locations stay inside the
repository, files are regular, primary.xml is inflated to a bound and parsed without DTDs."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from pmrepo.checks.integrity import index_entries
from pmrepo.fsutil import FileTooLargeError, iter_gzip, read_regular
from pmrepo.repomd import RepomdError, read_repomd

REPOMD = """<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="primary"><checksum type="sha256">00</checksum><location href="{href}"/></data>
</repomd>
"""


def _repo(tmp_path: Path, href: str) -> Path:
    (tmp_path / "repodata").mkdir(parents=True, exist_ok=True)
    (tmp_path / "repodata" / "repomd.xml").write_text(REPOMD.format(href=href))
    return tmp_path


@pytest.mark.parametrize("href", ["/etc/shadow", "../primary.xml.gz", "repodata/../../p.xml.gz"])
def test_a_location_outside_the_repository_is_refused(tmp_path: Path, href: str) -> None:
    repo = _repo(tmp_path / "r", href)
    with pytest.raises(RepomdError, match="is outside the repository"):
        read_repomd(repo).location("primary")
    with pytest.raises(RepomdError, match="is outside the repository"):
        index_entries(repo)


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "repodata/p.xml.gz")
    os.mkfifo(repo / "repodata" / "p.xml.gz")
    with pytest.raises(Exception, match="a FIFO, not a regular file"):
        index_entries(repo)
    os.unlink(repo / "repodata" / "repomd.xml")
    os.mkfifo(repo / "repodata" / "repomd.xml")
    with pytest.raises(RepomdError, match="a FIFO, not a regular file"):
        read_repomd(repo)


def test_inflating_stops_at_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb") as gz:
        for _ in range(8):
            gz.write(b"\0" * (1 << 20))
    assert sum(len(b) for b in iter_gzip(path, limit=8 << 20)) == 8 << 20
    with pytest.raises(FileTooLargeError, match=r"more than 1048576 bytes decompressed"):
        for _ in iter_gzip(path, limit=1 << 20, chunk=1 << 16):
            pass
    with pytest.raises(FileTooLargeError, match=r"more than 10 bytes, the most"):
        read_regular(path, limit=10)
    assert read_regular(path, limit=1 << 20) == path.read_bytes()
