"""The version in a source file name and URL (``pmrepo.manifest.version_url``, issue 26's rule) at its token
boundaries (issue 33): what stands as the version and what does not, exactly as its docstring says."""
from __future__ import annotations

import pytest

from pmrepo.manifest.version_url import VersionNotFound, _segment, replace_in_name, replace_in_url


@pytest.mark.parametrize("name,want,n", [
    ("foo-2.tar.gz", "foo-3.tar.gz", 1), ("v2.tar.gz", "v3.tar.gz", 1), ("V2.zip", "V3.zip", 1),
    ("foo_2.zip", "foo_3.zip", 1), ("foo 2.tar.gz", "foo 3.tar.gz", 1), ("foo-2-src.tar.gz", "foo-3-src.tar.gz", 1),
    ("foo-2-1.tar.gz", "foo-3-1.tar.gz", 1), ("foo-2.-x", "foo-3.-x", 1), ("2-2.tar.gz", "3-3.tar.gz", 2),
    ("foo-2 x", "foo-3 x", 1), ("foo-2. x", "foo-3. x", 1),
    # not the version: glued to a letter or digit before or after, or part of a dotted number
    ("foo2.tar.gz", "foo2.tar.gz", 0), ("FOO2.tar.gz", "FOO2.tar.gz", 0), ("12.tar.gz", "12.tar.gz", 0),
    ("1.2.tar.gz", "1.2.tar.gz", 0), ("2.1.tar.gz", "2.1.tar.gz", 0), ("foo-2a.tar.gz", "foo-2a.tar.gz", 0),
    ("foo-2A.tar.gz", "foo-2A.tar.gz", 0), ("foo-22.tar.gz", "foo-22.tar.gz", 0),
])
def test_the_version_as_a_token_of_its_own(name: str, want: str, n: int) -> None:
    assert replace_in_name(name, "2", "3") == (want, n)


@pytest.mark.parametrize("segment,want", [
    ("v1.0", "v1.0.1"), ("V1.0", "V1.0.1"), ("1.0", "1.0.1"), ("libqb-1.0", "libqb-1.0.1"),
    ("libqb_1.0", "libqb_1.0.1"),
    ("LIBQB-1.0", "LIBQB-1.0.1"),
    ("libqb+1.0", "libqb+1.0"), ("libqb 1.0", "libqb 1.0"), ("libqb.1.0", "libqb.1.0"), ("team1.0", "team1.0"),
    ("x-1.0", "x-1.0"), ("1.0-rc", "1.0-rc"), (" 1.0", " 1.0"), ("-1.0", "-1.0"), ("libqb--1.0", "libqb--1.0"),
])
def test_a_directory_segment_is_the_version_or_name_and_version(segment: str, want: str) -> None:
    assert _segment(segment, "libqb", "1.0", "1.0.1") == want


def test_host_user_port_query_and_fragment_are_never_rewritten() -> None:
    url = "https://u2:p2@h2.example:2222/v2/foo-2.tar.gz?v=2#2"
    with pytest.raises(ValueError):  # the query still names the old version: refused, not half-rewritten
        replace_in_url(url, "foo", "2", "3")
    assert replace_in_url("https://u2@h2.example:2222/v2/foo-2.tar.gz?x=a#f", "foo", "2", "3") == (
        "https://u2@h2.example:2222/v3/foo-3.tar.gz?x=a#f")
    with pytest.raises(VersionNotFound):
        replace_in_url("https://h2.example/download/foo.tar.gz", "foo", "2", "3")
