"""The helpers the review found written three times (review N4): one private-directory check, size
bounds on what verify reads of release documents (the cap on an SBOM before spdx-tools validates it:
tests/unit/attest/test_sbom.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from pmrepo import fsutil
from pmrepo.attest import provenance, sbom
from pmrepo.limits import ATTESTATION_MAX_BYTES


def test_private_dir_is_made_0700_and_refused_when_unfit(tmp_path: Path) -> None:
    made = tmp_path / "a" / "b"
    assert fsutil.private_dir(made) is None and (made.stat().st_mode & 0o777) == 0o700
    made.chmod(0o755)
    assert fsutil.private_dir(made) == "is open to other users (mode 0755; it must be 0700)"
    assert fsutil.private_dir(made, 0o022) is None  # readable by others is fine where only writing is refused
    made.chmod(0o775)
    assert fsutil.private_dir(made, 0o022) == "is group- or world-writable (mode 0775)"
    os.symlink(made, tmp_path / "link")
    assert fsutil.private_dir(tmp_path / "link") == "is a symlink or not a directory"
    (tmp_path / "file").write_text("")
    assert fsutil.private_dir(tmp_path / "file") == "is a symlink or not a directory"
    assert (fsutil.private_dir(tmp_path / "file" / "x") or "").startswith(fsutil.CANNOT_CREATE)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another user")
def test_private_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    assert fsutil.private_dir(theirs) == f"is owned by uid 65534, not by you (uid {os.geteuid()})"


def test_release_documents_larger_than_the_bound_are_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as fh:  # sparse: nothing is written but the size
        fh.truncate(ATTESTATION_MAX_BYTES + 1)
    for view in (sbom.read(big), provenance.read(big)):
        assert view.problems[0] == f"not readable JSON: {big}: more than {ATTESTATION_MAX_BYTES} bytes, the most " \
                                   "that is read of such a file"
