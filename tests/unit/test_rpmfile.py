"""pmrepo.rpmfile: an RPM's lead and signature header read just far enough to tell a build from
its signatures, on RPM files made here byte by byte (the format: rpm's lib/rpmlead.c, signature.c)."""

from __future__ import annotations

import hashlib
import re
import struct
from pathlib import Path

import pytest

from pmrepo import rpmfile
from pmrepo.rpmfile import LEAD_MAGIC, LEAD_SIZE, RpmFileError, layout, unsigned_digest

RSA, SHA256, SIZE = 268, 273, 1000  # RPMSIGTAG_RSA, RPMTAG_SHA256HEADER, RPMSIGTAG_SIZE


def sig_header(tags: list[int], data: bytes) -> bytes:
    index = b"".join(struct.pack(">IIII", tag, 7, 0, len(data)) for tag in tags)
    return rpmfile.HEADER_MAGIC + b"\0" * 4 + struct.pack(">II", len(tags), len(data)) + index + data


def rpm(path: Path, tags: list[int], sig_data: bytes, body: bytes = b"HEADER+PAYLOAD") -> Path:
    """A lead, a signature header with ``tags``, its padding to 8 bytes, then ``body``."""
    head = LEAD_MAGIC + b"\3\0" + b"\0" * (LEAD_SIZE - 6) + sig_header(tags, sig_data)
    path.write_bytes(head + b"\0" * (-len(head) % 8) + body)
    return path


def test_the_header_starts_after_the_padded_signature_header(tmp_path: Path) -> None:
    got = layout(rpm(tmp_path / "a.rpm", [SHA256, SIZE], b"x" * 13))
    assert got.header_start == 96 + 16 + 2 * 16 + 16  # 157 rounded up to 8
    assert got.signature_tags == frozenset({SHA256, SIZE}) and not got.signed
    assert layout(rpm(tmp_path / "b.rpm", [RSA, SHA256], b"y" * 8)).signed


def test_a_build_has_one_digest_however_it_is_signed(tmp_path: Path) -> None:
    body = b"the header and payload" * 100
    plain = rpm(tmp_path / "plain.rpm", [SHA256], b"d" * 32, body)
    signed = rpm(tmp_path / "signed.rpm", [SHA256, RSA], b"d" * 32 + b"s" * 287, body)
    assert unsigned_digest(plain) == unsigned_digest(signed) == hashlib.sha256(body).hexdigest()
    other = rpm(tmp_path / "other.rpm", [SHA256], b"d" * 32, body + b"!")
    assert unsigned_digest(other) != unsigned_digest(plain)


@pytest.mark.parametrize(
    "content,why",
    [
        (b"", "not an RPM file"),
        (b"\0" * 200, "not an RPM file"),  # no lead magic
        (LEAD_MAGIC + b"\0" * 92 + b"\0" * 16, "not an RPM file"),  # no header magic
        (LEAD_MAGIC + b"\0" * 92 + rpmfile.HEADER_MAGIC, "not an RPM file"),  # cut inside the intro
    ],
)
def test_what_is_no_rpm_is_refused(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "x.rpm"
    path.write_bytes(content)
    with pytest.raises(RpmFileError, match=f"^{re.escape(str(path))}: {why}"):
        layout(path)


def test_a_truncated_or_oversized_signature_header_is_refused(tmp_path: Path) -> None:
    good = rpm(tmp_path / "a.rpm", [SHA256, SIZE], b"x" * 64).read_bytes()
    cut = tmp_path / "cut.rpm"
    cut.write_bytes(good[: 96 + 16 + 20])  # inside the index
    with pytest.raises(RpmFileError, match="truncated signature header"):
        layout(cut)
    cut.write_bytes(good[: 96 + 16 + 32 + 10])  # inside the data
    with pytest.raises(RpmFileError, match="truncated after the signature header"):
        unsigned_digest(cut)
    huge = tmp_path / "huge.rpm"
    intro = rpmfile.HEADER_MAGIC + b"\0" * 4 + struct.pack(">II", 1, rpmfile.MAX_SIGNATURE_HEADER)
    huge.write_bytes(LEAD_MAGIC + b"\0" * 92 + intro)
    with pytest.raises(RpmFileError, match="signature header of 67108880 bytes: not an RPM file rpm writes"):
        layout(huge)
    assert issubclass(RpmFileError, ValueError)
