"""The host-wide build time history (timings.json); the estimates made from it: test_estimates.py."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pmrepo.records import TIMINGS_MAX_BYTES, TIMINGS_MAX_ENTRIES, BuildTime, RecordError, TimingRecord
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
