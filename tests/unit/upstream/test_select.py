"""Reading upstream tags (issue 29): spelling, series, pre-releases, rpm's order, a changed
spelling. (The report made of the answers: tests/unit/upstream/test_report.py.)"""
from __future__ import annotations

import pytest

from pmrepo import manifest
from pmrepo.upstream.select import in_series, is_prerelease, pick

PACEMAKER = ["Pacemaker-1.1.13", "Pacemaker-1.1.14", "Pacemaker-1.1.15-rc1", "Pacemaker-1.1.15",
             "Pacemaker-1.1.16-rc2", "Pacemaker-2.0.0-rc1", "Pacemaker-2.0.0", "Pacemaker-1.0.13", "ASAN-test"]


def git(tag: str = "{version}", series: str | None = None, pre: bool = False) -> manifest.Upstream:
    return manifest.Upstream("git", "https://github.com/x/y", tag, "", series, pre)


def test_newest_in_series_rcs_and_other_series_left_out() -> None:
    p = pick(PACEMAKER, git("Pacemaker-{version}", "1.1"))
    assert (p.newest, p.problem, p.matched, p.prereleases_skipped) == ("1.1.15", None, 8, 3)
    assert pick(PACEMAKER, git("Pacemaker-{version}")).newest == "2.0.0"  # no series: every version
    assert pick(PACEMAKER, git("Pacemaker-{version}", "1.1", pre=True)).newest == "1.1.16-rc2"
    assert pick(PACEMAKER, git("Pacemaker-{version}", "1.0")).newest == "1.0.13"


def test_rpm_order_not_text_order() -> None:
    assert pick(["v1.1.9", "v1.1.10", "v1.1.2"], git("v{version}")).newest == "1.1.10"
    assert pick(["2.3.1", "2.3.1.1", "2.3"], git()).newest == "2.3.1.1"
    assert pick(["v1.0", "v1.0.1", "v2.0.0", "v0.17.1"], git("v{version}", "1.0")).newest == "1.0.1"


def test_a_prefix_spelling_is_read_exactly() -> None:
    tags = ["glue-1.0.11", "glue-1.0.12", "cluster-glue-1.0.12", "xglue-0.5", "glue-1.0.9", "Glue-1.0.10"]
    p = pick(tags, git("glue-{version}"))
    assert (p.newest, p.matched) == ("1.0.12", 3)  # cluster-glue-…, xglue-…, Glue-… are not spelled glue-…
    assert pick(["pm_diskd-2.1", "pm_diskd-2.2"], git("pm_diskd-{version}", "2")).newest == "2.2"
    assert pick(["release/1.0/final", "release/1.1/final"], git("release/{version}/final")).newest == "1.1"


def test_a_changed_spelling_is_a_problem_naming_the_new_one() -> None:
    p = pick(["glue-1.0.11", "glue-1.0.12", "v1.0.13"], git("glue-{version}", "1.0"))
    assert p.newest is None and p.problem is not None
    assert "v1.0.13 is newer than glue-1.0.12" in p.problem and 'upstream.tag = "v{version}"' in p.problem
    # another spelling that is older, a pre-release or in another series is no sign
    for tags in (["glue-1.0.12", "v1.0.11"], ["glue-1.0.12", "v1.0.13-rc1"], ["glue-1.0.12", "v2.0.1"]):
        assert pick(tags, git("glue-{version}", "1.0")).newest == "1.0.12", tags


def test_no_tag_of_the_spelling_or_no_version_in_series() -> None:
    p = pick(["v1.0", "v1.1"], git("Pacemaker-{version}"))
    assert p.newest is None and p.problem is not None and p.problem.startswith("no tag spelled Pacemaker-{version}")
    p = pick(["Pacemaker-2.0.0", "Pacemaker-1.1.15-rc1"], git("Pacemaker-{version}", "1.1"))
    assert p.newest is None and "no version in series 1.1 among 2 (newest: 2.0.0)" in str(p.problem)
    p = pick(["1.0rc1"], manifest.Upstream("pypi", "x"))
    assert p.newest is None and "not a pre-release" in str(p.problem)


@pytest.mark.parametrize("version,pre", [
    ("1.1.15-rc1", True), ("1.1.15rc1", True), ("2.0a1", True), ("2.0b2", True), ("3.0.0-beta", True),
    ("1.0-pre2", True), ("4.0.dev3", True), ("1.0-alpha", True), ("1.1.15", False), ("0.9.149", False),
    ("2.3.1.post1", False), ("4.0.25", False), ("1.0.12", False),
])
def test_prereleases(version: str, pre: bool) -> None:
    assert is_prerelease(version) is pre


@pytest.mark.parametrize("version,series,inside", [
    ("1.1", "1.1", True), ("1.1.21", "1.1", True), ("1.10", "1.1", False), ("2.0", "1.1", False),
    ("1.1.0.1", "1", True), ("11.0", "1", False), ("anything", None, True),
])
def test_series(version: str, series: str | None, inside: bool) -> None:
    assert in_series(version, series) is inside
