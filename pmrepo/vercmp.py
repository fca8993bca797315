"""rpm's version ordering (``rpmvercmp`` of rpm 4.18, ``lib/rpmvercmp.c``), in
Python: the order ``rpm -U``/yum use for version and release strings such as
``1.2.6f56``. Tested against rpm's own answers (``rpm.vercmp`` in rpm's Lua)."""
from __future__ import annotations


def _alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def vercmp(a: str, b: str) -> int:
    """-1, 0 or 1 as rpm orders the version (or release) strings ``a`` and ``b``."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not _alnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < len(b) and not _alnum(b[j]) and b[j] not in "~^":
            j += 1
        ca, cb = a[i:i + 1], b[j:j + 1]
        if ca == "~" or cb == "~":  # tilde sorts before everything, even the end
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i, j = i + 1, j + 1
            continue
        if ca == "^" or cb == "^":  # caret sorts after the end, before anything else
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i, j = i + 1, j + 1
            continue
        if not (ca and cb):
            break
        isnum = ca.isdigit()
        kind = str.isdigit if isnum else str.isalpha
        ei, ej = i, j
        while ei < len(a) and a[ei].isascii() and kind(a[ei]):
            ei += 1
        while ej < len(b) and b[ej].isascii() and kind(b[ej]):
            ej += 1
        sa, sb = a[i:ei], b[j:ej]
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
        i, j = ei, ej
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def vr_cmp(a: tuple[str, str], b: tuple[str, str]) -> int:
    """Compare (version, release) pairs as rpm does (no epoch: the manifests have none)."""
    return vercmp(a[0], b[0]) or vercmp(a[1], b[1])
