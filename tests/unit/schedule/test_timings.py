"""The host-wide build time history (timings.json) and the estimates made from it."""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from pmrepo.records import TIMINGS_MAX_BYTES, TIMINGS_MAX_ENTRIES, BuildTime, RecordError, TimingRecord
from pmrepo.schedule.estimates import estimate, static_estimates
from pmrepo.schedule.timings import TimingHistory

KEY = ("pacemaker", "1.1.14", "el7", "rpmbuild")


def history(tmp_path: Path) -> tuple[TimingHistory, list[str]]:
    lines: list[str] = []
    return TimingHistory(tmp_path / "cache" / "pmrepo" / "timings.json", lines.append), lines


def test_the_test_session_never_uses_the_real_cache() -> None:
    assert Path(os.environ["PMREPO_CACHE_DIR"]) != Path.home() / ".cache" / "pmrepo"


def test_recorded_times_come_back_private_and_merged(tmp_path: Path) -> None:
    h, lines = history(tmp_path)
    assert h.load() == {}
    h.record([(KEY, 80.0)], now=100.0)
    TimingHistory(h.path, lines.append).record([(KEY, 90.0), (("libqb", "1.0", "el7", "rpmbuild"), 16.0)], now=200.0)
    got = h.load()
    assert got[KEY].seconds == (80.0, 90.0) and got[KEY].when == 200.0
    assert got[("libqb", "1.0", "el7", "rpmbuild")].seconds == (16.0,)
    assert stat.S_IMODE(h.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(h.path.parent.stat().st_mode) == 0o700
    assert lines == []
    for n in range(5):  # the newest three measurements per key
        h.record([(KEY, float(n + 1))], now=300.0 + n)
    assert h.load()[KEY].seconds == (3.0, 4.0, 5.0)


def test_a_broken_file_is_ignored_with_a_line_and_replaced(tmp_path: Path) -> None:
    h, lines = history(tmp_path)
    h.record([(KEY, 80.0)])
    h.path.write_text("{not json")
    assert h.load() == {}
    assert len(lines) == 1 and str(h.path) in lines[0] and "not readable JSON" in lines[0] and "ignored" in lines[0]
    h.record([(KEY, 70.0)])
    assert h.load()[KEY].seconds == (70.0,)


@pytest.mark.parametrize("content,message", [
    ({"format": 1, "times": [{"component": "a", "version": "1", "dist": "el7", "backend": "b", "seconds": [-1],
                              "when": 1}]}, r"times\[0\]\.seconds"),
    ({"format": 1, "times": [{"component": "", "version": "1", "dist": "el7", "backend": "b", "seconds": [1],
                              "when": 1}]}, r"times\[0\]\.component"),
    ({"format": 1, "times": "x"}, '"times" is not a list'),
    ({"format": 99, "times": []}, "newer than this pmrepo reads"),
    ([1, 2], "not a JSON object"),
])
def test_bad_fields_are_one_line_record_errors(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "timings.json"
    path.write_text(json.dumps(content))
    with pytest.raises(RecordError, match=message):
        TimingRecord.read(path)


def test_a_symlink_is_never_followed(tmp_path: Path) -> None:
    h, lines = history(tmp_path)
    h.record([(KEY, 80.0)])
    secret = tmp_path / "elsewhere.json"
    secret.write_text(h.path.read_text())
    h.path.unlink()
    h.path.symlink_to(secret)
    assert h.load() == {}
    assert "a symlink is never followed" in lines[-1]
    h.record([(KEY, 1.0)])  # the write replaces the link, the target stays as it was
    assert not h.path.is_symlink() and json.loads(secret.read_text())["times"][0]["seconds"] == [80.0]


def test_an_oversized_or_special_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "timings.json"
    path.write_bytes(b" " * (TIMINGS_MAX_BYTES + 1))
    with pytest.raises(RecordError, match="more than the"):
        TimingRecord.read(path)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(RecordError, match="not a regular file"):
        TimingRecord.read(path)


def test_a_directory_open_to_others_is_not_used(tmp_path: Path) -> None:
    h, lines = history(tmp_path)
    h.path.parent.mkdir(parents=True)
    h.path.parent.chmod(0o777)
    h.record([(KEY, 80.0)])
    assert not h.path.exists()
    assert "open to other users" in lines[0] and "PMREPO_CACHE_DIR" in lines[0]


def test_the_file_keeps_only_the_newest_entries(tmp_path: Path) -> None:
    times = tuple(BuildTime(f"c{i}", "1", "el7", "b", (1.0,), float(i + 1)) for i in range(TIMINGS_MAX_ENTRIES + 5))
    path = TimingRecord(times).write(tmp_path / "timings.json")
    kept = TimingRecord.read(path).times
    assert len(kept) == TIMINGS_MAX_ENTRIES and min(t.when for t in kept) == 6.0


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
