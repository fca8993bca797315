"""The checks after assembly: ONE ordered list, run the same way by ``all``
(on the staging output, before it is renamed into place) and by ``gate``
(on the output already in place).

Order: fresh-root install, then the release gates (digest, compat, closure,
rpmlint), then the container install test and, when the previous release's
packages are given, the upgrade in place from them. Every check writes its report to
``DistLayout.reports`` (``work/<release>/<dist>/gates/``; the reports are then
copied to the output's ``gates/``) and returns a one-line note; a failed check
does not stop the cheaper ones after it, but a check that ``needs_passed``
(the container test) runs only when every check before it passed. After the
list, the first failure is raised (one line).

``build.json`` records the notes per ``record`` name: ``fresh-root install``,
``gates`` (the four release gates, one note) and ``container install`` (the
install test, and the upgrade's note after a ``;``).
"""
from __future__ import annotations

import abc
import contextlib
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, ClassVar, Sequence

from . import freshroot as installcheck
from ..errors import GateError, PmrepoError
from .gates import Gate, GateContext, default_gates
from .container import (ContainerReport, ContainerSettings, Engine, InstallGate, previous_repo_packages,
                              upgrade_test)
from ..layout import REPORT_LOGS, DistLayout, Output
from ..manifest import Dist, Release
from ..progress import table

Say = Callable[[str], None]
StepFn = Callable[[str], contextlib.AbstractContextManager[None]]

# checks every published output must have passed (publish refuses the others unless --allow-unchecked)
REQUIRED_CHECKS = ("fresh-root install", "gates")


def _quiet_step(label: str) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


@dataclass
class CheckContext:
    """One assembled dist, as every check sees it."""

    release: Release
    dist: Dist
    layout: DistLayout
    repo_rpms: list[Path]  # the repo packages (name, -debuginfo, -src)
    output: Output  # where records go (installed.json): the staging output in `all`, the final one in `gate`
    say: Say = print
    step: StepFn = _quiet_step

    def repo_package_set(self) -> list[Path]:
        """The release's repo packages (main, -debuginfo, -src) among ``repo_rpms``, in that order."""
        rel = self.release
        names = [f"{n}-{rel.vr}{self.dist.tag}.{rel.arch}.rpm" for n in rel.repo_package_names()]
        by_name = {p.name: p for p in self.repo_rpms}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise GateError(f"{self.layout.output.root}: no {', '.join(missing)} among the repo packages — fix: run "
                            f"`./build.py all --release {rel.path}` first")
        return [by_name[n] for n in names]

    def main_repo_rpm(self) -> Path:
        rel = self.release
        want = f"{rel.name}-{rel.vr}{self.dist.tag}.{rel.arch}.rpm"
        found = next((p for p in self.repo_rpms if p.name == want), None)
        if found is None:
            raise GateError(f"{self.layout.output.root}: no {want} among the repo packages — fix: run "
                            f"`./build.py all --release {rel.path}` first")
        return found

    def gate_context(self) -> GateContext:
        """The gates' view: the repository ``tree`` (with the group file), the
        debuginfo tree, the SRPMs, the rendered specs and the repo packages."""
        where = self.layout
        tree, debug, src = where.tree, where.debuginfo_tree, where.src_tree
        # the SRPM repository's packages are checked, but it is no binary repository for the closure
        repos = tuple(r for r in (tree, debug) if (r / "repodata").is_dir())
        rpms = [*sorted((tree / "rpm").glob("*.rpm")), *sorted((debug / "rpm").glob("*.rpm")),
                *sorted((src / "rpm").glob("*.src.rpm")), *self.repo_rpms]
        return GateContext(dist=self.dist, report_dir=where.reports, rpms=tuple(rpms),
                           specs=tuple(sorted(where.specs.glob("*.spec"))), repos=repos,
                           arch=self.release.arch, grouped=(tree,) if tree in repos else ())


@dataclass
class CheckResult:
    check: str
    record: str
    passed: bool
    note: str
    report: Path | None = None
    error: PmrepoError | None = None
    ran: bool = True


class Check(abc.ABC):
    """One check of an assembled dist."""

    name: ClassVar[str] = "check"
    record: ClassVar[str] = "check"  # its key in build.json's checks
    needs_passed: ClassVar[bool] = False  # run only when every earlier check passed

    @abc.abstractmethod
    def run(self, ctx: CheckContext) -> CheckResult:
        """Run the check; a failure is returned (``error``), not raised."""

    def label(self, ctx: CheckContext) -> str:
        return f"{ctx.dist.name}: {self.name}"


class FreshRootInstall(Check):
    """``rpm -i`` of the repo package into an empty root, ``dnf install`` of the metapackage, erase."""

    name = "fresh-root install"
    record = "fresh-root install"

    def label(self, ctx: CheckContext) -> str:
        return f"{ctx.dist.name}: fresh-root install check"

    def run(self, ctx: CheckContext) -> CheckResult:
        report = ctx.layout.reports / f"fresh-root-install-{ctx.dist.name}.txt"
        report.parent.mkdir(parents=True, exist_ok=True)
        try:
            res = installcheck.check(ctx.release, ctx.dist, ctx.repo_package_set(), ctx.layout.log("installcheck.log"))
        except PmrepoError as exc:
            report.write_text(f"fresh-root install ({ctx.dist.name}): FAILED — {exc}\n")
            return CheckResult(self.name, self.record, False, str(exc), report, exc)
        extra = f" + {len(res.os_packages)} from base repositories" if res.os_packages else ""
        note = (f"{len(ctx.release.repos)} repositories seen; installed and erased {len(res.installed)} packages"
                f"{extra} ({res.method})")
        report.write_text(f"fresh-root install ({ctx.dist.name}): PASSED — {note}\n\n"
                          + "".join(f"[ok] {n}-{vr}\n" for n, vr in sorted(res.installed.items())))
        return CheckResult(self.name, self.record, True, note, report)


class GateCheck(Check):
    """One release gate (pmrepo.gates) as a check; its note joins the other gates' under ``gates``."""

    record = "gates"

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.gate.name} gate"

    def run(self, ctx: CheckContext) -> CheckResult:
        gctx = ctx.gate_context()
        report = self.gate.run(gctx)
        path = report.write(self.gate.report_path(gctx))
        if report.passed:
            return CheckResult(self.name, self.record, True, f"{self.gate.name} passed", path)
        return CheckResult(self.name, self.record, False, report.error_message(), path, GateError(report.error_message()))


class ContainerInstall(Check):
    """The operator's install (and erase) in a container of the dist's image; writes installed.json."""

    name = "container install"
    record = "container install"
    needs_passed = True

    def __init__(self, settings: ContainerSettings | None = None, *, local_image: bool = False,
                 require_engine: bool = True, say: Say | None = None) -> None:
        self.settings = settings or ContainerSettings()
        self.local_image = local_image
        self.require_engine = require_engine
        self.say = say
        self.engine: Engine | None = None  # detected once for every dist
        self.results: dict[str, ContainerReport] = {}  # dist -> the install test's report (the upgrade reuses its image)

    def run(self, ctx: CheckContext) -> CheckResult:
        gate = InstallGate(ctx.release, settings=self.settings, outdirs={ctx.dist.name: ctx.output.root},
                           local_image=self.local_image, require_engine=self.require_engine, engine=self.engine,
                           say=self.say or ctx.say)
        gctx = GateContext(dist=ctx.dist, report_dir=ctx.layout.reports, rpms=tuple(ctx.repo_rpms))
        report = gate.run(gctx)
        self.engine = gate.engine
        path = report.write(gate.report_path(gctx))
        if not report.passed:
            return CheckResult(self.name, self.record, False, report.error_message(), path,
                               GateError(report.error_message()))
        res = gate.reports.get(ctx.dist.name)
        if res is not None:
            self.results[ctx.dist.name] = res
        if res is None:  # no engine and require_engine=False
            return CheckResult(self.name, self.record, True,
                               "; ".join(w.message for w in report.warnings) or "not run", path)
        return CheckResult(self.name, self.record, True, f"passed in {res.image} ({res.engine}): "
                           f"{len(res.installed)} packages installed, checked and erased", path)


class Upgrade(Check):
    """Upgrade in place from the previous release (``release.follows``), whose repo packages are under the
    output root ``upgrade_from``, in the image and engine of the container install test before it."""

    name = "upgrade"
    record = "container install"
    needs_passed = True

    def __init__(self, install: ContainerInstall, upgrade_from: Path) -> None:
        self.install = install
        self.upgrade_from = upgrade_from

    def run(self, ctx: CheckContext) -> CheckResult:
        res = self.install.results.get(ctx.dist.name)
        if res is None:  # the install test did not run (no engine, and none required)
            return CheckResult(self.name, self.record, True, "not run: no container engine", ran=False)
        try:
            prev, olds = previous_repo_packages(ctx.release, ctx.dist, self.upgrade_from)
            news = ctx.repo_package_set()
        except GateError as exc:
            return CheckResult(self.name, self.record, False, str(exc), None, exc)
        up = upgrade_test(prev, ctx.release, ctx.dist, olds, news, report_dir=ctx.layout.reports,
                          settings=replace(self.install.settings, image=res.image, images={}),
                          engine=self.install.engine, say=self.install.say or ctx.say)
        report = up.junit
        if not up.ok:
            msg = f"upgrade gate failed for {ctx.dist.name}: {up.summary()}"
            return CheckResult(self.name, self.record, False, msg, report, GateError(msg))
        return CheckResult(self.name, self.record, True, f"upgrade from {prev.release_id} passed "
                           f"({len(up.installed)} packages at the new versions)", report)


def release_gates(release: Release) -> list[Check]:
    """The release gates, cheapest first (``gates.default_gates``)."""
    return [GateCheck(g) for g in default_gates(release)]


@dataclass
class CheckRun:
    """What the list of checks found for one dist."""

    dist: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def failed(self) -> CheckResult | None:
        return next((r for r in self.results if not r.passed), None)

    def notes(self) -> dict[str, str]:
        """build.json's checks: one note per record name, in order (the gates' joined)."""
        out: dict[str, str] = {}
        for r in self.results:
            if r.ran and r.passed:
                sep = ", " if r.record == "gates" else "; "
                out[r.record] = f"{out[r.record]}{sep}{r.note}" if r.record in out else r.note
        return out

    def rows(self) -> list[tuple[str, str, str, str]]:
        return [(self.dist, r.check, "passed" if r.passed else ("FAILED" if r.ran else "not run"),
                 r.report.name if r.report else "-") for r in self.results]

    def raise_for_failure(self) -> None:
        failed = self.failed
        if failed is not None:
            raise failed.error or GateError(failed.note)


def run_checks(checks: Sequence[Check], ctx: CheckContext) -> CheckRun:
    """Run ``checks`` in order on one dist; every report lands in ``ctx.layout.reports``
    and is copied (without the logs) to ``ctx.output.reports``."""
    out = CheckRun(ctx.dist.name)
    where = ctx.layout.reports
    # consecutive checks of one record (the release gates) also run as one step, named by the record
    groups: list[list[Check]] = []
    for check in checks:
        if groups and groups[-1][0].record == check.record:
            groups[-1].append(check)
        else:
            groups.append([check])
    try:
        for group in groups:
            outer = ctx.step(f"{ctx.dist.name}: {group[0].record}") if len(group) > 1 else contextlib.nullcontext()
            with outer:
                for check in group:
                    if check.needs_passed and out.failed is not None:
                        out.results.append(CheckResult(check.name, check.record, False,
                                                       f"not run: {out.failed.check} failed", ran=False))
                        continue
                    with ctx.step(check.label(ctx)):
                        result = check.run(ctx)
                    out.results.append(result)
                    ctx.say(f"{ctx.dist.name}: {result.check}: {'passed' if result.passed else 'FAILED'}"
                            f"{'' if result.passed and result.note.endswith('passed') else ': ' + result.note}")
    finally:
        if where.is_dir():
            shutil.copytree(where, ctx.output.reports, dirs_exist_ok=True, ignore=shutil.ignore_patterns(REPORT_LOGS))
    return out


def summary(runs: Sequence[CheckRun]) -> str:
    return table(["dist", "check", "result", "report"], [row for r in runs for row in r.rows()])


__all__ = ["REQUIRED_CHECKS", "Check", "CheckContext", "CheckResult", "CheckRun", "ContainerInstall",
           "FreshRootInstall", "GateCheck", "Upgrade", "release_gates", "run_checks", "summary"]
