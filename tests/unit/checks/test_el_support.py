"""What el6's and el7's rpm and yum read: the one table (``SUPPORT``), the row of a dist, what every
row allows (``common``, the repository step's rule) and the words its messages use."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.assemble import repository
from pmrepo.checks import el_support as targets
from pmrepo.checks.el_support import SUPPORT, common, support_for, words
from pmrepo.errors import GateError, RepositoryError

from .test_compat import _repo, gate_errors

DISTS = manifest.load(DEMO).dists
NEWER_THAN_EL7 = {"LargeFiles", "RichDependencies", "CaretInVersions", "DynamicBuildRequires", "PayloadIsZstd"}


def test_the_table_is_frozen_and_an_unknown_dist_is_one_line() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SUPPORT[6].rpm = "4.9"  # type: ignore[misc]
    el5 = dataclasses.replace(DISTS["el6"], name="el5", rhel=5)
    with pytest.raises(GateError, match=r"no compatibility table for dist el5 \(rhel 5\) — fix: add one to SUPPORT"):
        support_for(el5)
    assert support_for(DISTS["el7"]) is SUPPORT[7]
    assert support_for(DISTS["el6"]) is SUPPORT[6]


def test_one_table_for_the_repository_step_and_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pmrepo.checks.el_support.SUPPORT is what both read: widen it and both accept bz2 XML."""
    repo = _repo(tmp_path, xml="bz2")
    assert "primary compression bz2" in gate_errors(repo, "el6")
    with pytest.raises(RepositoryError):
        repository.verify(repo, group=False)
    wide = {k: dataclasses.replace(v, xml_compression=frozenset({"gz", "bz2"})) for k, v in targets.SUPPORT.items()}
    monkeypatch.setattr(targets, "SUPPORT", wide)
    assert gate_errors(repo, "el6") == []
    assert repository.verify(repo, group=False).href("primary") == "repodata/primary.xml.bz2"


def test_el7_reads_what_el6_reads_plus_two_rpmlib_features() -> None:
    el6, el7 = SUPPORT[6], SUPPORT[7]
    assert (el6.rpm, el6.yum, el7.rpm, el7.yum) == ("4.8", "3.2.29", "4.11", "3.4.3")
    assert el7.rpmlib - el6.rpmlib == {"ScriptletExpansion", "TildeInVersions"}  # rpm 4.9 and 4.10
    assert el6.rpmlib < el7.rpmlib
    assert not (el7.rpmlib & NEWER_THAN_EL7)
    assert dataclasses.replace(el7, rpm=el6.rpm, yum=el6.yum, rpmlib=el6.rpmlib) == el6  # the rest as el6
    assert el6.payload_compressors == {"gzip", "bzip2", "xz", "lzma"} and "zstd" not in el6.payload_compressors
    assert dict(el6.file_digests) == {1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512"}
    assert el6.lead_majors == {3, 4}
    assert (el6.header_max_tags, el6.header_max_data, el6.header_max_bytes) == (0xFFFF, 0xFFFFFF, 32 * 1024 * 1024)
    assert el6.xml_compression == {"gz"} and el6.db_compression == {"gz", "bz2"}
    assert el6.checksums == {"sha256", "sha1", "sha"}
    assert el6.xml_types == ("primary", "filelists", "other")
    assert el6.db_types == ("primary_db", "filelists_db", "other_db")


def test_common_is_the_oldest_row_with_every_set_narrowed_to_what_all_rows_allow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert common() == SUPPORT[6]  # el7 only adds to el6: what both read is el6's row
    el6 = SUPPORT[6]
    narrow = dataclasses.replace(
        SUPPORT[7],
        rpmlib=frozenset({"PayloadIsXz", "ScriptletExpansion"}),
        payload_compressors=frozenset({"xz", "zstd"}),
        xml_compression=frozenset({"gz", "zstd"}),
        db_compression=frozenset({"bz2"}),
        checksums=frozenset({"sha256", "sha512"}),
    )
    monkeypatch.setattr(targets, "SUPPORT", {7: narrow, 6: el6})  # not in key order: the oldest is still el6
    got = common()
    assert (got.rpm, got.yum) == ("4.8", "3.2.29")
    assert got.rpmlib == {"PayloadIsXz"}
    assert got.payload_compressors == {"xz"}
    assert got.xml_compression == {"gz"}
    assert got.db_compression == {"bz2"}
    assert got.checksums == {"sha256"}
    assert got.header_max_tags == el6.header_max_tags  # what is no set is the oldest row's


def test_words_name_compressions_as_the_messages_do() -> None:
    assert words(frozenset({"gz", "bz2"})) == "bz2/gzip"  # sorted by the short names
    assert words(frozenset({"zstd", "xz"})) == "xz/zstd"
    assert words(frozenset({"gz"})) == "gzip"
    assert words(frozenset({"lz4"})) == "lz4"  # no word for it: its own name
    assert words(frozenset()) == ""
