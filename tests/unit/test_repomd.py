"""pmrepo.repomd: the one reader of repodata/repomd.xml: its entries, each metadata file's
location kept inside the repository, and the reasons it is unreadable (no file, a DTD, too big)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pmrepo.errors import RepositoryError
from pmrepo.limits import REPOMD_MAX_BYTES
from pmrepo.repomd import RepomdEntry, RepomdError, read_repomd

REPOMD = """<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1</revision>
  <data type="primary">
    <checksum type="sha256"> 4e2f </checksum>
    <open-checksum type="sha256">99</open-checksum>
    <location href="repodata/4e2f-primary.xml.gz"/>
  </data>
  <data type="group"><checksum type="sha">ab</checksum><location href="{href}"/></data>
  <data type="other"/>
</repomd>
"""


def repo(tmp_path: Path, text: str = REPOMD, href: str = "repodata/comps.xml") -> Path:
    (tmp_path / "repodata").mkdir(parents=True, exist_ok=True)
    (tmp_path / "repodata" / "repomd.xml").write_text(text.replace("{href}", href))
    return tmp_path


def test_the_entries_of_repomd(tmp_path: Path) -> None:
    md = read_repomd(repo(tmp_path))
    assert md.path == tmp_path / "repodata" / "repomd.xml" and set(md.entries) == {"primary", "group", "other"}
    assert md.entries["primary"] == RepomdEntry("primary", "repodata/4e2f-primary.xml.gz", "sha256", "4e2f", "sha256")
    assert md.entries["group"].open_checksum_type == "" and md.entries["group"].checksum_type == "sha"
    assert md.entries["other"] == RepomdEntry("other", "", "", "", "")  # a bare entry reads as empty values
    assert md.href("primary") == "repodata/4e2f-primary.xml.gz"
    assert md.location("group") == tmp_path / "repodata" / "comps.xml"
    with pytest.raises(KeyError):
        md.href("filelists")


@pytest.mark.parametrize("href", ["/etc/shadow", "../comps.xml", "repodata/../../comps.xml", "out/comps.xml"])
def test_a_location_outside_the_repository_is_refused(tmp_path: Path, href: str) -> None:
    os.symlink("/etc", tmp_path / "out")
    md = read_repomd(repo(tmp_path, href=href))
    with pytest.raises(RepomdError) as exc:
        md.location("group")
    assert str(exc.value) == (f"{md.path}: the group metadata's location {href!r} is outside the repository")
    assert exc.value.reason == "group location outside the repository"


def test_no_repomd_is_named_as_createrepo_not_run(tmp_path: Path) -> None:
    with pytest.raises(RepomdError) as exc:
        read_repomd(tmp_path)
    assert str(exc.value) == f"{tmp_path}/repodata/repomd.xml: unreadable repository metadata: no such file"
    assert exc.value.reason == "no repodata/repomd.xml (createrepo_c did not run)"
    assert isinstance(exc.value, RepositoryError)


def test_no_dtd_no_entities(tmp_path: Path) -> None:
    text = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        '<repomd xmlns="http://linux.duke.edu/metadata/repo">&b;</repomd>'
    )
    with pytest.raises(RepomdError, match="unreadable repository metadata") as exc:
        read_repomd(repo(tmp_path, text))
    assert exc.value.reason.startswith("unreadable: ")


@pytest.mark.parametrize("bad", ["<repomd", "not xml at all", "\ufeff\0"])
def test_broken_xml_is_one_line(tmp_path: Path, bad: str) -> None:
    with pytest.raises(RepomdError) as exc:
        read_repomd(repo(tmp_path, bad))
    assert "unreadable repository metadata" in str(exc.value) and "\n" not in str(exc.value)


def test_a_repomd_larger_than_the_bound_or_a_symlink_is_not_read(tmp_path: Path) -> None:
    big = repo(tmp_path / "big")
    with (big / "repodata" / "repomd.xml").open("ab") as fh:
        fh.truncate(REPOMD_MAX_BYTES + 1)
    with pytest.raises(RepomdError, match=f"more than {REPOMD_MAX_BYTES} bytes"):
        read_repomd(big)
    real = repo(tmp_path / "real")
    linked = tmp_path / "linked"
    (linked / "repodata").mkdir(parents=True)
    (linked / "repodata" / "repomd.xml").symlink_to(real / "repodata" / "repomd.xml")
    with pytest.raises(RepomdError, match="unreadable repository metadata"):
        read_repomd(linked)
