"""The one ordered list of checks: order, what a failure stops, notes per record, reports' place."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.checks import Check, CheckContext, Findings, run_checks
from pmrepo.errors import GateError
from pmrepo.layout import Layout, Output


class Fake(Check):
    ran: ClassVar[list[str]] = []

    def __init__(self, name: str, record: str, ok: bool = True, needs_passed: bool = False) -> None:
        self._name, self._record, self.ok, self._needs = name, record, ok, needs_passed

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._name

    @property
    def id(self) -> str:  # type: ignore[override]
        return self._name

    @property
    def record(self) -> str:  # type: ignore[override]
        return self._record

    @property
    def needs_passed(self) -> bool:  # type: ignore[override]
        return self._needs

    def run(self, ctx: CheckContext) -> Findings:
        Fake.ran.append(self._name)
        assert ctx.layout is not None
        report = ctx.layout.reports / f"{self._name}-{ctx.dist.name}.txt"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("ok\n" if self.ok else "bad\n")
        (ctx.layout.reports / "logs").mkdir(exist_ok=True)
        (ctx.layout.reports / "logs" / f"{self._name}.log").write_text("log\n")
        if self.ok:
            return Findings(self._name, ctx.dist.name, path=report, note=f"{self._name} passed")
        return Findings(self._name, ctx.dist.name, path=report, note=f"{self._name} failed",
                        failure=GateError(f"{self._name} failed"))


def _output(ctx: CheckContext) -> Output:
    """The context's output (the ctx fixture always has one)."""
    assert ctx.output is not None
    return ctx.output


@pytest.fixture
def ctx(tmp_path: Path) -> CheckContext:
    rel = manifest.load(DEMO)
    where = Layout(rel.release_id, tmp_path / "out", tmp_path / "work").dist("el7")
    out = Output(tmp_path / "staging")
    out.root.mkdir()
    Fake.ran = []
    return CheckContext(rel, rel.dists["el7"], where, [], out, say=lambda s: None)


def test_in_order_notes_per_record_reports_copied(ctx: CheckContext) -> None:
    checks = [Fake("install", "fresh-root install"), Fake("digest", "gates"), Fake("compat", "gates"),
              Fake("container", "container install", needs_passed=True)]
    found = run_checks(checks, ctx)
    assert Fake.ran == ["install", "digest", "compat", "container"]
    assert found.notes() == {"fresh-root install": "install passed", "gates": "digest passed, compat passed",
                             "container install": "container passed"}
    found.raise_for_failure()  # nothing failed
    assert sorted(p.name for p in _output(ctx).reports.iterdir()) == [
        "compat-el7.txt", "container-el7.txt", "digest-el7.txt", "install-el7.txt", "results.json"]  # no logs/


def test_a_failure_runs_the_cheap_checks_skips_the_container_and_raises_the_first(ctx: CheckContext) -> None:
    checks = [Fake("install", "fresh-root install", ok=False), Fake("digest", "gates", ok=False),
              Fake("compat", "gates"), Fake("container", "container install", needs_passed=True)]
    found = run_checks(checks, ctx)
    assert Fake.ran == ["install", "digest", "compat"]
    assert [r[2] for r in found.rows()] == ["FAILED", "FAILED", "passed", "not run"]
    assert found.notes() == {"gates": "compat passed"}
    with pytest.raises(GateError, match=r"^install failed$"):
        found.raise_for_failure()
    assert (_output(ctx).reports / "install-el7.txt").read_text() == "bad\n"  # reports even of a failed run


def test_no_step_starts_twice_under_one_label(ctx: CheckContext) -> None:
    """Issue 26: `gate --upgrade-from` printed `el7: container install: started` twice (the group of
    the record "container install" and its first check, of that name): each label starts once."""
    import contextlib
    from collections import Counter
    from collections.abc import Iterator

    started: list[str] = []

    @contextlib.contextmanager
    def step(label: str) -> Iterator[None]:
        started.append(label)
        yield

    checks = [Fake("digest gate", "gates"), Fake("compat gate", "gates"),
              Fake("container install", "container install"), Fake("upgrade", "container install")]
    run_checks(checks, CheckContext(ctx.release, ctx.dist, ctx.layout, [], ctx.output, say=lambda s: None, step=step))
    assert [n for n, k in Counter(started).items() if k > 1] == [], started
    assert started == ["el7: gates", "el7: digest gate", "el7: compat gate", "el7: container install + upgrade",
                       "el7: container install", "el7: upgrade"]


def test_results_hold_the_latest_run_of_every_check(ctx: CheckContext) -> None:
    """Issue 26: `all` records every check's result; a later `gate` replaces those of the checks it ran
    (a failure too), keeps the others: publish vouches for this record."""
    from pmrepo.records import CheckResults

    run_checks([Fake("install", "fresh-root install"), Fake("digest", "gates"), Fake("compat", "gates")], ctx, "all")
    first = CheckResults.read(_output(ctx).check_results)
    assert {k: (r.verdict, r.command) for k, r in first.results.items()} == {
        "install": ("passed", "all"), "digest": ("passed", "all"), "compat": ("passed", "all")}
    assert first.failed() == [] and first.missing({"digest": "gates", "closure": "gates"}) == ("gates",)
    run_checks([Fake("digest", "gates", ok=False), Fake("container", "container install", needs_passed=True)],
               ctx, "gate")
    latest = CheckResults.read(_output(ctx).check_results)
    assert {k: (r.verdict, r.command) for k, r in latest.results.items()} == {
        "install": ("passed", "all"), "digest": ("FAILED", "gate"), "compat": ("passed", "all"),
        "container": ("not run", "gate")}
    assert [r.check for r in latest.failed()] == ["digest", "container"]  # the failure first, then what it stopped
    assert latest.results["digest"].report == "digest-el7.txt" and latest.results["digest"].note == "digest failed"
