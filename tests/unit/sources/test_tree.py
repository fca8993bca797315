"""``pmrepo.sources.tree``: a project tree packed byte-identically for identical content, and only
with what may be packed (no symlink out of the tree, no FIFO)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from pmrepo import sources
from pmrepo.errors import SourceError

# -- packing a tree ----------------------------------------------------------------------------


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "README").write_text("x\n")
    (root / "configure").write_text("#!/bin/sh\n")
    (root / "configure").chmod(0o750)
    (root / "sub" / "a.c").write_text("int a;\n")
    (root / "sub" / "a.o").write_bytes(b"object")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"cache")
    return root


def test_a_packed_tree_is_byte_identical_for_identical_content(tmp_path: Path) -> None:
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    os.utime(two / "README", (1, 1))
    if os.geteuid() == 0:  # another owner (as a checkout by another user has): not in the tarball
        os.chown(two / "README", 65534, 65534)
    sources.pack_tree(one, "x-1", tmp_path / "one.tar.gz", 1_700_000_000)
    sources.pack_tree(two, "x-1", tmp_path / "two.tar.gz", 1_700_000_000)
    data = (tmp_path / "one.tar.gz").read_bytes()
    assert data == (tmp_path / "two.tar.gz").read_bytes()
    assert data[4:8] == b"\0\0\0\0"  # no timestamp in the gzip header
    with tarfile.open(tmp_path / "one.tar.gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == ["x-1", "x-1/README", "x-1/configure", "x-1/sub", "x-1/sub/a.c"]  # sorted, no .o/cache
    assert {(m.uid, m.gid, m.uname, m.mtime) for m in members.values()} == {(0, 0, "root", 1_700_000_000)}
    assert (members["x-1/configure"].mode, members["x-1/README"].mode, members["x-1/sub"].mode) == (0o755, 0o644, 0o755)
    sources.pack_tree(one, "x-1", tmp_path / "later.tar.gz", 1_700_000_001)
    assert (tmp_path / "later.tar.gz").read_bytes() != data  # the mtime is the build's SOURCE_DATE_EPOCH


@pytest.mark.parametrize("entry", ["symlink up", "absolute symlink", "fifo"])
def test_packed_tree_refuses_escaping_symlinks_and_fifos(tmp_path: Path, entry: str) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "README").write_text("x\n")
    (tmp_path / "outside").write_text("not part of the source\n")
    if entry == "symlink up":
        (tree / "sub" / "link").symlink_to("../../outside")
    elif entry == "absolute symlink":
        (tree / "sub" / "link").symlink_to(tree / "README")
    else:
        os.mkfifo(tree / "sub" / "link")
    with pytest.raises(SourceError, match=r"sub/link: .* — fix:"):
        sources.pack_tree(tree, "x-1", tmp_path / "x.tar.gz", 1_700_000_000)
    assert not (tmp_path / "x.tar.gz").exists()


def test_packed_tree_keeps_a_relative_symlink_inside_it(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "README").write_text("x\n")
    (tree / "sub" / "link").symlink_to("../README")
    sources.pack_tree(tree, "x-1", tmp_path / "x.tar.gz", 1_700_000_000)
    with tarfile.open(tmp_path / "x.tar.gz") as tar:
        assert tar.getmember("x-1/sub/link").linkname == "../README"


# -- archives by their names --------------------------------------------------------------------
