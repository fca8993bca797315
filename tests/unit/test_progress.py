"""pmrepo.progress: one Console for every line: timed steps, "still running" when a step is
silent, counters, numbered job lines, and the summary tables."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pmrepo import progress
from pmrepo.progress import Console, Progress, quiet_step, table


def lines() -> tuple[Console, list[str]]:
    out: list[str] = []
    return Console(out.append), out


def wait_for(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_a_step_says_started_and_done_or_failed() -> None:
    con, out = lines()
    with con.step("render"):
        pass
    with pytest.raises(KeyError), con.step("plan"):
        raise KeyError("x")
    assert out[0] == "render: started" and re.fullmatch(r"render: done in \d+\.\ds", out[1])
    assert out[2] == "plan: started" and re.fullmatch(r"plan: failed after \d+\.\ds", out[3])
    assert con._active == {}  # a failed step is ended too


def test_a_silent_step_is_reported_as_still_running_innermost_per_thread() -> None:
    out: list[str] = []
    con = Console(out.append, interval=0.05)
    with con.step("build"), con.watch("libqb el7"):
        wait_for(lambda: any("still running" in ln for ln in out))
    report = next(ln for ln in out if "still running" in ln)
    assert re.fullmatch(r"\[\s*\d+\.\ds\] … still running: libqb el7 \(\d+s\)", report), report
    wait_for(lambda: con._thread is None)  # the watcher ends with the last step


def test_steps_of_two_threads_are_both_named() -> None:
    out: list[str] = []
    con = Console(out.append, interval=0.05)
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with con.watch("el6 job"):
            entered.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    entered.wait(5)
    with con.watch("el7 job"):
        wait_for(lambda: any("el6 job" in ln and "el7 job" in ln for ln in out))
    release.set()
    t.join()


def test_a_watch_is_silent_when_quick_and_quiet_step_shows_nothing() -> None:
    con, out = lines()
    with con.watch("load manifest"):
        pass
    with quiet_step("anything"):
        pass
    assert out == []


def test_reading_a_large_file_is_announced_with_its_size(tmp_path: Path) -> None:
    con, out = lines()
    small, big = tmp_path / "small.toml", tmp_path / "big.toml"
    small.write_text("x")
    with big.open("wb") as fh:
        fh.truncate(3 * progress.LARGE_FILE)
    with con.reading("load small", small), con.reading("load big", big), con.reading("gone", tmp_path / "no"):
        pass
    assert out == ["load big (3 MiB)"]


def test_a_counter_says_how_far_at_most_every_so_often() -> None:
    con, out = lines()
    tick = con.counter("specs rendered", 3, every=0.0)
    for n in (1, 2, 3):
        tick(n)
    assert out == ["  specs rendered: 1/3", "  specs rendered: 2/3"]  # the last is the step's own "done" line
    rare = con.counter("specs parsed", 3, every=3600.0)
    rare(1)
    rare(2)
    assert out == ["  specs rendered: 1/3", "  specs rendered: 2/3"]  # not yet a second since it began


def test_job_lines_share_one_number_per_job() -> None:
    con, out = lines()
    prog = Progress(2, console=con)
    prog.started("libqb", "el7")
    prog.started("pacemaker", "el7")
    assert prog.done == 0
    prog.finished("libqb", "el7", "built", 12.34)
    prog.finished("corosync", "el6", "reused", 0)  # never started: still numbered once
    assert prog.done == 2
    texts = [re.sub(r"^\[\s*\d+\.\ds\] ", "", ln) for ln in out]
    assert texts == [
        "[ 1/2] libqb el7: started",
        "[ 2/2] pacemaker el7: started",
        "[ 1/2] libqb el7: built in 12.3s",
        "[ 3/2] corosync el6: reused in 0.0s",
    ]


def test_a_live_console_rewrites_its_still_running_line() -> None:
    stream = io.StringIO()
    con = Console(stream=stream, live=True, interval=0.05)
    with con.watch("slow"):
        wait_for(lambda: "still running" in stream.getvalue())
        con.say("a line")
    text = stream.getvalue()
    assert text.startswith("\r\x1b[K[") and "\r\x1b[Ka line\n" in text  # the live line is cleared first


def test_live_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    assert Console(stream=Tty()).live and not Console(stream=io.StringIO()).live
    assert not Console(lambda s: None, stream=Tty()).live  # a sink is never a terminal
    monkeypatch.setenv("CI", "true")
    assert not Console(stream=Tty()).live
    plain = io.StringIO()
    Console(stream=plain).say("hello")
    assert plain.getvalue() == "hello\n"


def test_the_default_console_is_one() -> None:
    assert progress.default_console() is progress.default_console()


def test_table_aligns_its_columns() -> None:
    assert table(["dist", "package", "size"], [("el7", "pacemaker-repo", "12 KiB"), ("el6", "x", 3)]) == (
        "dist  package         size\n"
        "----  --------------  ------\n"
        "el7   pacemaker-repo  12 KiB\n"
        "el6   x               3"
    )
    assert table(["a"], []) == "a\n-"
    with pytest.raises(ValueError):  # a row wider than the headers is a programming error, not a cut row
        table(["a"], [("one", "two")])
