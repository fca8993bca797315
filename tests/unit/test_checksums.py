"""SHA256SUMS: rendered and read back, and the lines it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo.checksums import read_sha256sums, render
from pmrepo.errors import PublishError


def test_sha256sums_round_trip_and_refusals(tmp_path: Path) -> None:
    sums = {"el7/a.rpm": "a" * 64, "RELEASE-NOTES.en.md": "b" * 64}
    path = tmp_path / "SHA256SUMS"
    path.write_text(render(sums))
    assert read_sha256sums(path) == sums
    for text, why in [
        ("zz  a.rpm\n", "not a sha256sum line"),
        (f"{'a' * 64}  ../etc/passwd\n", "not a plain relative"),
        (f"{'a' * 64}  x\n{'b' * 64}  x\n", "listed twice"),
    ]:
        path.write_text(text)
        with pytest.raises(PublishError, match=why):
            read_sha256sums(path)
