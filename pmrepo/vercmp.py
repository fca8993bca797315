"""rpm's version ordering (``rpmvercmp`` of rpm 4.18, ``lib/rpmvercmp.c``), in
Python: the order ``rpm -U``/yum use for version and release strings such as
``1.2.6f56``. Tested against rpm's own answers (``rpm.vercmp`` in rpm's Lua)."""

from __future__ import annotations


def _alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _skip(s: str, i: int) -> int:
    """Index of the next character of ``s`` at or after ``i`` that takes part in the ordering."""
    while i < len(s) and not _alnum(s[i]) and s[i] not in "~^":
        i += 1
    return i


def _marks(ca: str, cb: str) -> int | None:
    """The order decided by a ``~`` or ``^`` at the current position; 0 when both carry the
    same mark (skip it), None when neither does."""
    if ca == "~" or cb == "~":  # tilde sorts before everything, even the end
        if ca != "~":
            return 1
        return -1 if cb != "~" else 0
    if ca == "^" or cb == "^":  # caret sorts after the end, before anything else
        if not ca:
            return -1
        if not cb:
            return 1
        if ca != "^":
            return 1
        return -1 if cb != "^" else 0
    return None


def _segment(s: str, i: int, isnum: bool) -> int:
    """End of the run of digits (``isnum``) or letters starting at ``i``."""
    kind = str.isdigit if isnum else str.isalpha
    while i < len(s) and s[i].isascii() and kind(s[i]):
        i += 1
    return i


def _compare_segments(sa: str, sb: str, isnum: bool) -> int:
    if not sa:
        return -1  # arbitrary, as rpm
    if not sb:
        return 1 if isnum else -1
    if isnum:
        sa, sb = sa.lstrip("0"), sb.lstrip("0")
        if len(sa) != len(sb):
            return 1 if len(sa) > len(sb) else -1
    if sa != sb:
        return 1 if sa > sb else -1
    return 0


def vercmp(a: str, b: str) -> int:
    """-1, 0 or 1 as rpm orders the version (or release) strings ``a`` and ``b``."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        i, j = _skip(a, i), _skip(b, j)
        ca, cb = a[i : i + 1], b[j : j + 1]
        marks = _marks(ca, cb)
        if marks:
            return marks
        if marks == 0:
            i, j = i + 1, j + 1
            continue
        if not (ca and cb):
            break
        isnum = ca.isdigit()
        ei, ej = _segment(a, i, isnum), _segment(b, j, isnum)
        order = _compare_segments(a[i:ei], b[j:ej], isnum)
        if order:
            return order
        i, j = ei, ej
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def vr_cmp(a: tuple[str, str], b: tuple[str, str]) -> int:
    """Compare (version, release) pairs as rpm does (no epoch: the manifests have none)."""
    return vercmp(a[0], b[0]) or vercmp(a[1], b[1])
