"""rpm's version order (``pmrepo.vercmp``) against rpm's own ``rpm.vercmp`` (issue 33, hypothesis):
random version strings made of the characters the order treats differently (digits, letters, the
separators, ``~`` and ``^``, a non-ASCII letter), thirty pairs per rpm call, both ways round."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmrepo.run import run
from pmrepo.vercmp import vercmp, vr_cmp

pytestmark = pytest.mark.skipif(
    shutil.which("rpm") is None,
    reason="rpm is not installed here (`make setup` installs it): rpm's own answers are the reference "
    "(the fixed table in test_new_release.py::test_vercmp_agrees_with_rpm needs it too)",
)

# no '%' (rpm --eval would expand it), no braces or brackets (the Lua chunk and its long strings)
VERSION = st.text(st.sampled_from("0000111229aabzZ..._+~~^^é"), min_size=1, max_size=8)
# versions that differ a little: a shared stem and a short tail each
# (rpm.vercmp reads an [epoch:]version[-release]: no "-" or ":", not empty)
STEM = st.text(st.sampled_from("0129.ab"), max_size=5)
NEAR = st.tuples(STEM, VERSION, VERSION).map(lambda t: (t[0] + t[1], t[0] + t[2]))
PAIRS = st.lists(st.one_of(st.tuples(VERSION, VERSION), NEAR), min_size=30, max_size=30)


def rpm_vercmp(pairs: list[tuple[str, str]]) -> list[int]:
    """rpm.vercmp(a, b) and rpm.vercmp(b, a) for each pair, from one rpm process."""
    # (rpm's Lua print() writes its arguments into the expansion without separators)
    lua = " ".join(f'print(rpm.vercmp([==[{a}]==], [==[{b}]==]) .. " " .. rpm.vercmp([==[{b}]==], [==[{a}]==]) .. " ")'
                   for a, b in pairs)
    out = run(["rpm", "--eval", f"%{{lua: {lua}}}"]).output.split()
    return [int(x) for x in out]


@settings(max_examples=15, derandomize=True, deadline=None, database=None)
@given(PAIRS)
def test_vercmp_agrees_with_rpm_on_random_versions(pairs: list[tuple[str, str]]) -> None:
    want = rpm_vercmp(pairs)
    got = [v for a, b in pairs for v in (vercmp(a, b), vercmp(b, a))]
    assert len(want) == 2 * len(pairs)
    asked = [p for p in pairs for _ in (0, 1)]
    assert got == want, [(a, b, g, w) for (a, b), g, w in zip(asked, got, want, strict=True) if g != w]


def test_vr_cmp_orders_by_version_then_release() -> None:
    assert vr_cmp(("1.0", "2"), ("1.0", "10")) == -1 and vr_cmp(("1.0", "10"), ("1.0", "2")) == 1
    assert vr_cmp(("1.1", "1"), ("1.0", "99")) == 1 and vr_cmp(("1.0", "1"), ("1.0", "1")) == 0
    assert vr_cmp(("1.0", "1.el7"), ("1.0~rc1", "9")) == 1


# the cases random strings rarely reach: a mark on both sides at once, then a difference after it
EDGES = [("1^a", "1^b"), ("1^1", "1^1"), ("1^", "1^"), ("1~a", "1~b"), ("1~", "1~"), ("1^~", "1^~a"),
         ("a^b^c", "a^b^d"), ("1.0^git1", "1.0^git2"), ("1.0~rc1^2", "1.0~rc1^1"), ("^", "~"), ("1^", "1")]


def test_vercmp_agrees_with_rpm_where_both_sides_carry_a_mark() -> None:
    got = [v for a, b in EDGES for v in (vercmp(a, b), vercmp(b, a))]
    assert got == rpm_vercmp(EDGES)
