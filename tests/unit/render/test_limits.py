"""pmrepo.render.limits: a batch of renders in one forked child with limits, each result sent back
in order; every failure (an exception, the deadline, memory, recursion, a text too large, a child
that dies) one line naming the template, ending the batch. Plain functions stand in for templates."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pmrepo.errors import SpecError
from pmrepo.render import limits as render_limits


def failure(jobs: list[tuple[str, Callable[[], str]]]) -> tuple[list[str], str]:
    """The results before the failure, and its one line."""
    got: list[str] = []
    with pytest.raises(SpecError) as exc:
        got.extend(render_limits.each(jobs))
    assert "\n" not in str(exc.value) and str(exc.value).endswith("— fix: correct the template"), exc.value
    return got, str(exc.value)


def test_the_results_come_back_in_order_from_one_child() -> None:
    got = list(render_limits.each([("a", lambda: f"{os.getpid()}"), ("b", lambda: f"{os.getpid()} é")]))
    first, second = got[0], got[1].split()[0]
    assert first == second != str(os.getpid())  # rendered in one child process, not here
    assert got[1].endswith(" é")  # text, not bytes
    assert list(render_limits.each([])) == []
    assert render_limits.one("c", lambda: "x" * 100_000) == "x" * 100_000  # larger than a pipe's buffer


def test_an_exception_ends_the_batch_naming_the_template(tmp_path: Path) -> None:
    after = tmp_path / "after"

    def later() -> str:
        after.write_text("ran")
        return "later"

    def bad() -> str:
        raise ValueError("no\n   such   filter 'x'")

    got, line = failure([("ok.spec.j2", lambda: "fine"), ("bad.spec.j2", bad), ("c", later)])
    assert got == ["fine"]
    assert line == "bad.spec.j2: ValueError: no such filter 'x' — fix: correct the template"
    assert not after.exists()  # nothing after the failure ran


def test_a_spec_error_keeps_its_own_fix() -> None:
    def bad() -> str:
        raise SpecError("t.spec.j2: line 3: unknown tag — fix: close the block")

    with pytest.raises(SpecError) as exc:
        render_limits.one("t.spec.j2", bad)
    assert str(exc.value) == "t.spec.j2: line 3: unknown tag — fix: close the block"


def test_memory_and_recursion_are_named() -> None:
    def hungry() -> str:
        raise MemoryError

    def deep() -> str:
        return deep()

    assert re.fullmatch(
        r"m: rendering needs more than \d+ MiB of memory — fix: correct the template", failure([("m", hungry)])[1]
    )
    assert failure([("r", deep)])[1] == (
        "r: the template recurses without end (a macro calling itself?) — fix: correct the template"
    )


def test_a_long_message_is_cut_to_one_short_line() -> None:
    def loud() -> str:
        raise RuntimeError("x" * 5000)

    line = failure([("t", loud)])[1]
    assert line == "t: RuntimeError: " + "x" * 300 + "… — fix: correct the template"


def test_a_text_larger_than_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_limits, "TEMPLATE_MAX_BYTES", 10)
    assert render_limits.one("t", lambda: "0123456789") == "0123456789"
    assert failure([("t", lambda: "0123456789a")])[1] == (
        "t: the rendered text is larger than 10 bytes — fix: correct the template"
    )


def test_the_deadline_ends_a_render_that_never_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_limits, "TEMPLATE_DEADLINE", 1.0)

    def slow() -> str:
        time.sleep(30)
        return ""

    t0 = time.monotonic()
    line = failure([("slow", slow)])[1]
    assert line == "slow: not rendered within 1s (a loop without end?) — fix: correct the template"
    assert time.monotonic() - t0 < 10


def test_a_child_that_ignores_its_alarm_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_limits, "TEMPLATE_DEADLINE", 0.3)
    monkeypatch.setattr(render_limits, "_GRACE", 0.3)

    def stubborn() -> str:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(30)
        return ""

    t0 = time.monotonic()
    line = failure([("stuck", stubborn)])[1]
    assert line == "stuck: not rendered within 0s (the renderer was killed) — fix: correct the template"
    assert time.monotonic() - t0 < 10


def test_a_child_that_dies_is_one_line() -> None:
    line = failure([("gone", lambda: os._exit(3))])[1]
    assert re.fullmatch(
        r"gone: the renderer ended without a result \((exit 3|still running)\) — fix: correct the template", line
    ), line


def test_a_render_inside_the_child_runs_inline() -> None:
    def nested() -> str:
        inner = render_limits.one("inner", lambda: str(os.getpid()))
        return f"{os.getpid()} {inner}"

    outer, inner = render_limits.one("outer", nested).split()
    assert outer == inner != str(os.getpid())
    assert render_limits._IN_CHILD is False  # only the child's copy is marked
