"""An RPM file's own layout — a 96-byte lead, the signature header, then the
header and the payload — read just far enough to tell a build from its signatures.

``rpmsign --addsign`` rewrites only the signature header: the header and the
payload after it are the build itself (the signature covers them). So two files
of one NEVRA are the same build when :func:`unsigned_digest` (the sha256 of
everything after the signature header) agrees, however each was signed.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

LEAD_SIZE = 96
LEAD_MAGIC = b"\xed\xab\xee\xdb"
HEADER_MAGIC = b"\x8e\xad\xe8\x01"
# signature tags of an OpenPGP signature (rpm's RSA, DSA, PGP, GPG); a digest alone is no signature
SIGNATURE_TAGS = frozenset({267, 268, 1002, 1005})
MAX_SIGNATURE_HEADER = 64 << 20  # bytes: far more than any signature header (rpm's own limit is 64 MiB)
CHUNK = 1 << 20


class RpmFileError(ValueError):
    """Not an RPM file (or a truncated one)."""


@dataclass(frozen=True)
class RpmLayout:
    """Where the parts of one RPM file are."""

    header_start: int  # the header (after the signature header and its padding)
    signature_tags: frozenset[int]  # the tags of the signature header

    @property
    def signed(self) -> bool:
        return bool(self.signature_tags & SIGNATURE_TAGS)


def layout(path: Path) -> RpmLayout:
    """The parts of the RPM at ``path``; RpmFileError when it is none."""
    with open(path, "rb") as fh:
        lead = fh.read(LEAD_SIZE)
        intro = fh.read(16)
        if len(lead) < LEAD_SIZE or lead[:4] != LEAD_MAGIC or len(intro) < 16 or intro[:4] != HEADER_MAGIC:
            raise RpmFileError(f"{path}: not an RPM file (no lead and signature header)")
        entries, data = struct.unpack(">II", intro[8:16])
        size = 16 * entries + data
        if size > MAX_SIGNATURE_HEADER:
            raise RpmFileError(f"{path}: signature header of {size} bytes: not an RPM file rpm writes")
        index = fh.read(16 * entries)
        if len(index) < 16 * entries:
            raise RpmFileError(f"{path}: truncated signature header")
        tags = frozenset(struct.unpack(">I", index[i : i + 4])[0] for i in range(0, len(index), 16))
    start = LEAD_SIZE + 16 + size
    start += -start % 8  # the header starts on an 8-byte boundary
    if start > path.stat().st_size:
        raise RpmFileError(f"{path}: truncated after the signature header")
    return RpmLayout(start, tags)


def unsigned_digest(path: Path) -> str:
    """sha256 of the RPM's header and payload: the same for a build however it is signed."""
    start = layout(path).header_start
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(start)
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()
