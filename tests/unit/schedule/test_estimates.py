"""``pmrepo.schedule.estimates``: each job's estimated build time from the first level that knows it
(this host's history, the store, an older version, the manifest's weight, the sources' size), the
unitless levels scaled to measured seconds, and the one line that says where the estimates came from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pmrepo.records import BuildTime
from pmrepo.schedule.estimates import Estimate, describe, estimate, source_bytes, static_estimates


@dataclass(frozen=True)
class Job:
    component: str
    version: str = "1"
    weight: float | None = None
    packages: int = 1
    sources: Path = Path("/nonexistent")


def test_estimates_take_the_first_level_that_knows_the_job(tmp_path: Path) -> None:
    hist = {
        ("exact", "1", "el7", "rpmbuild"): BuildTime("exact", "1", "el7", "rpmbuild", (10.0, 30.0, 20.0), 5.0),
        ("other", "1", "el7", "mock"): BuildTime("other", "1", "el7", "mock", (40.0,), 5.0),
        ("older", "0.9", "el7", "rpmbuild"): BuildTime("older", "0.9", "el7", "rpmbuild", (50.0,), 5.0),
        ("older", "0.8", "el7", "rpmbuild"): BuildTime("older", "0.8", "el7", "rpmbuild", (99.0,), 1.0),
    }
    jobs = {(n, "el7"): Job(n) for n in ("exact", "other", "older", "stored", "weighed", "new")}
    jobs[("weighed", "el7")] = Job("weighed", weight=3.0)
    got = estimate(jobs, "rpmbuild", hist, lambda d, c: 7.0 if c == "stored" else None)
    assert {j[0]: (e.source, e.seconds) for j, e in got.items()} == {
        "exact": ("history", 20.0),  # the median of the newest measurements
        "other": ("history", 40.0),  # another backend's time of the same version
        "older": ("older version", 50.0),  # the newest other version
        "stored": ("store", 7.0),
        # the weight scaled by nothing (no job has both a time and a weight), the static
        # estimate (1.0: no sources, one package each) by the median time of the known jobs
        "weighed": ("weight", 3.0),
        "new": ("static", pytest.approx(30.0)),
    }
    assert got[("new", "el7")].timed and not got[("weighed", "el7")].timed


def test_weights_and_static_estimates_are_scaled_to_measured_seconds(tmp_path: Path) -> None:
    hist = {("a", "1", "el7", "b"): BuildTime("a", "1", "el7", "b", (100.0,), 1.0)}
    jobs = {("a", "el7"): Job("a", weight=10.0), ("w", "el7"): Job("w", weight=30.0), ("s", "el7"): Job("s")}
    got = estimate(jobs, "b", hist)
    assert got[("w", "el7")].seconds == pytest.approx(300.0) and got[("w", "el7")].timed
    assert got[("s", "el7")].source == "static" and got[("s", "el7")].timed


def test_without_any_time_nothing_is_timed(tmp_path: Path) -> None:
    got = estimate({("a", "el7"): Job("a", weight=5.0), ("b", "el7"): Job("b")}, "b", {})
    assert not any(e.timed for e in got.values())


def test_static_estimates_follow_the_sources_size(tmp_path: Path) -> None:
    sizes = {"small": 1000, "median": 4000, "big": 16000}
    jobs = {}
    for name, size in sizes.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "src.tar.gz").write_bytes(b"x" * size)
        jobs[(name, "el7")] = Job(name, packages=50 if name == "small" else 1, sources=tmp_path / name)
    got = static_estimates(jobs)
    assert got[("median", "el7")] == pytest.approx(1.0)
    assert got[("small", "el7")] < got[("median", "el7")] < got[("big", "el7")] == pytest.approx(0.25 + 0.75 * 4)
    none = {(n, "el7"): Job(n, packages=p) for n, p in (("one", 1), ("many", 9), ("mid", 3))}
    by_packages = static_estimates(none)  # no sources: the number of binary packages
    assert by_packages[("one", "el7")] < by_packages[("mid", "el7")] < by_packages[("many", "el7")]


def test_the_stores_newest_build_beats_an_older_versions_time() -> None:
    hist = {("a", "0.9", "el7", "b"): BuildTime("a", "0.9", "el7", "b", (50.0,), 5.0)}
    jobs = {("a", "el7"): Job("a", version="1.0")}
    assert estimate(jobs, "b", hist)[("a", "el7")] == Estimate(50.0, "older version")
    assert estimate(jobs, "b", hist, lambda d, c: 12.0)[("a", "el7")] == Estimate(12.0, "store")


def test_this_backends_time_beats_a_newer_one_of_another_backend() -> None:
    hist = {
        ("a", "1", "el7", "mock"): BuildTime("a", "1", "el7", "mock", (300.0,), 9.0),
        ("a", "1", "el7", "rpmbuild"): BuildTime("a", "1", "el7", "rpmbuild", (60.0,), 1.0),
    }
    jobs = {("a", "el7"): Job("a")}
    assert estimate(jobs, "rpmbuild", hist)[("a", "el7")].seconds == 60.0
    assert estimate(jobs, "mock", hist)[("a", "el7")].seconds == 300.0
    other_dist = {("a", "el6"): Job("a")}
    assert estimate(other_dist, "rpmbuild", hist)[("a", "el6")].source == "static"  # el7's times are not el6's


def test_a_job_without_a_version_is_looked_up_as_dash() -> None:
    hist = {("a", "-", "el7", "b"): BuildTime("a", "-", "el7", "b", (8.0,), 1.0)}
    assert estimate({("a", "el7"): Job("a", version="")}, "b", hist)[("a", "el7")] == Estimate(8.0, "history")


def test_a_weight_that_is_not_positive_is_ignored() -> None:
    got = estimate({("a", "el7"): Job("a", weight=0.0), ("b", "el7"): Job("b", weight=-3.0)}, "b", {})
    assert {e.source for e in got.values()} == {"static"}


def test_without_sources_or_packages_every_static_estimate_is_one() -> None:
    assert static_estimates({("a", "el7"): Job("a", packages=0), ("b", "el7"): Job("b", packages=0)}) == {
        ("a", "el7"): 1.0,
        ("b", "el7"): 1.0,
    }


def test_the_size_of_the_sources_is_their_regular_files_only(tmp_path: Path) -> None:
    (tmp_path / "a.tar.gz").write_bytes(b"x" * 100)
    (tmp_path / "b.patch").write_bytes(b"x" * 20)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.tar").write_bytes(b"x" * 1000)
    big = tmp_path.parent / f"{tmp_path.name}-big"
    big.write_bytes(b"x" * 5000)
    os.symlink(big, tmp_path / "link.tar")
    assert source_bytes(tmp_path) == 120
    assert source_bytes(tmp_path / "missing") == 0


def test_the_line_counts_the_levels_in_order() -> None:
    got = {
        ("a", "el7"): Estimate(1.0, "static", False),
        ("b", "el7"): Estimate(1.0, "history"),
        ("c", "el7"): Estimate(1.0, "static", False),
        ("d", "el7"): Estimate(1.0, "store"),
    }
    assert describe(got) == "1 history, 1 store, 2 static"
    assert describe({}) == ""
