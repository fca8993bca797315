"""The one interface of every check: a ``Check`` (stable ``id``, ``name``,
``record``, what it needs) runs on one ``CheckContext`` and returns its
``Findings``; each finding carries a stable kind id (``checks.ids``).

A check writes nothing itself unless its report has its own format:
``run_checks`` writes the text report (``<id>-<dist>.txt``) and its
machine-readable twin (``.json``) of every check that returned none.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..errors import GateError, PmrepoError
from ..fsutil import write_atomic
from ..layout import REPORT_LOGS, DistLayout, Output, repo_rpm_dir, repodata_dir
from ..manifest import Dist, Release
from ..progress import Say, StepFn, quiet_step, table
from ..records import CheckResult, CheckResults, RecordError
from . import ids


class Severity(enum.Enum):
    ERROR = "E"
    WARNING = "W"
    INFO = "I"


@dataclass(frozen=True)
class Finding:
    """One problem found by a check: which file, which feature, what — and its stable kind id."""

    file: str  # the RPM, spec, repomd.xml … the finding is about (path or name)
    severity: Severity
    check: str  # e.g. "rpmlib(PayloadIsZstd)", rpmlint's "no-group-tag", "Requires"
    message: str
    id: str = ""  # stable kind (``checks.ids.KINDS``), e.g. "compat.rpmlib", "rpmlint.no-group-tag"

    def line(self) -> str:
        return f"{self.file}: {self.severity.value}: {self.check}: {self.message}"


@dataclass
class Findings:
    """What one check found for one dist, and its verdict (the one result type)."""

    check: str  # the check's id
    dist: str
    items: list[str] = field(default_factory=list)  # everything that was checked
    findings: list[Finding] = field(default_factory=list)
    path: Path | None = None  # where the report was written
    note: str = ""  # the one-line note for build.json (default: "<check> passed" / the first error)
    failure: PmrepoError | None = None  # a failure that is no finding (e.g. the install check's own error)
    ran: bool = True
    kind: str = ""  # default kind id of what ``add`` records (see ``scoped``)
    # descriptions of kinds ``ids.KINDS`` does not hold: rpmlint's own ids, in rpmlint's words (``rpmlint -e``)
    descriptions: dict[str, str] = field(default_factory=dict)

    def scoped(self, kind: str) -> Findings:
        """The same findings, recording ``kind`` by default (shares the lists)."""
        return Findings(self.check, self.dist, self.items, self.findings, kind=kind)

    def add(
        self, file: str | os.PathLike[str], severity: Severity, check: str, message: str, kind: str | None = None
    ) -> Finding:
        kind_id = kind or self.kind or f"{self.check}.finding"
        ids.known(kind_id)
        finding = Finding(os.fspath(file), severity, check, message, kind_id)
        self.findings.append(finding)
        return finding

    def error(self, file: str | os.PathLike[str], check: str, message: str, kind: str | None = None) -> Finding:
        return self.add(file, Severity.ERROR, check, message, kind)

    def warning(self, file: str | os.PathLike[str], check: str, message: str, kind: str | None = None) -> Finding:
        return self.add(file, Severity.WARNING, check, message, kind)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def passed(self) -> bool:
        return not self.errors and self.failure is None

    def for_file(self, file: str) -> list[Finding]:
        return [f for f in self.findings if f.file == file]

    def summary(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        return (
            f"{self.check} gate ({self.dist}): {verdict} — {len(self.items)} checked, "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )

    def error_message(self) -> str:
        """One line: check, dist, and the first error's file, feature and message."""
        if self.failure is not None:
            return str(self.failure)
        if self.passed:
            return self.summary()
        first = self.errors[0]
        more = len(self.errors) - 1
        extra = f" (+{more} more error(s))" if more else ""
        where = f"; report: {self.path}" if self.path else ""
        return f"{self.check} gate failed for {self.dist}: {first.file}: {first.check}: {first.message}{extra}{where}"

    def one_line(self) -> str:
        """The note build.json and the progress line show."""
        if self.note:
            return self.note
        return f"{self.check} passed" if self.passed else self.error_message()

    def exception(self) -> PmrepoError:
        return self.failure or GateError(self.error_message())

    def describe(self, kind: str) -> str:
        """What a finding of ``kind`` means (``ids.describe``, or rpmlint's own words for its ids)."""
        return self.descriptions.get(kind) or ids.describe(kind)

    def text(self) -> str:
        lines = [self.summary(), ""]
        by_file: dict[str, list[Finding]] = {}
        for f in self.findings:
            by_file.setdefault(f.file, []).append(f)
        for item in self.items:
            lines += _item_lines(item, by_file.pop(item, []))
        for item, found in by_file.items():  # findings about things not in items (e.g. a repository)
            lines += _item_lines(item, found)
        kinds = dict.fromkeys(f.id for f in self.findings if f.id)
        if kinds:
            lines += ["", "What the findings mean (`pmrepo explain <id>`):"]
            for kind in kinds:
                first, *rest = self.describe(kind).splitlines() or [""]
                lines += [f"  {kind}: {first}", *(f"    {r}" if r else "" for r in rest)]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, object]:
        """The machine-readable report: every finding with its stable kind id."""
        return {
            "check": self.check,
            "dist": self.dist,
            "passed": self.passed,
            "checked": len(self.items),
            "findings": [
                {
                    "id": f.id,
                    "description": self.describe(f.id),
                    "severity": f.severity.name.lower(),
                    "file": f.file,
                    "what": f.check,
                    "message": f.message,
                }
                for f in self.findings
            ],
        }

    def write(self, path: Path) -> Path:
        """Write the text report and its ``.json`` twin atomically (temp file renamed into place)."""
        write_atomic(path, self.text())
        write_atomic(path.with_suffix(".json"), json.dumps(self.as_json(), indent=2) + "\n")
        self.path = path
        return path


def _item_lines(item: str, found: list[Finding]) -> list[str]:
    status = "FAIL" if any(f.severity is Severity.ERROR for f in found) else "ok"
    return [
        f"[{status}] {item}",
        *(f"    {f.severity.value}: {f.check}: {f.message}{f' [{f.id}]' if f.id else ''}" for f in found),
    ]


@dataclass(frozen=True)
class CheckContext:
    """Everything a check looks at for one dist (the one context).

    The pipeline builds it with ``for_dist``; a test may give only ``dist``,
    ``report_dir`` and the files to look at."""

    release: Release | None
    dist: Dist
    layout: DistLayout | None = None
    repo_rpms: Sequence[Path] = ()  # the repo packages (name, -debuginfo, -src)
    output: Output | None = None  # where records go (installed.json): staging in `all`, the final output in `gate`
    say: Say = print
    step: StepFn = quiet_step
    report_dir: Path | None = None  # reports and logs go here (default: the layout's reports)
    rpms: tuple[Path, ...] = ()  # binary RPMs and SRPMs
    specs: tuple[Path, ...] = ()  # rendered spec files
    repos: tuple[Path, ...] = ()  # repository directories (each with repodata/)
    arch: str = "x86_64"  # the target basearch
    grouped: tuple[Path, ...] = ()  # repositories (of ``repos``) that must carry a comps group file
    base_repos: Mapping[str, str] | None = None  # overrides dist.base_repos (id -> baseurl or path)

    def __post_init__(self) -> None:
        if self.report_dir is None and self.layout is not None:
            object.__setattr__(self, "report_dir", self.layout.reports)

    @classmethod
    def for_dist(
        cls,
        release: Release,
        dist: Dist,
        where: DistLayout,
        repo_rpms: Sequence[Path],
        output: Output,
        say: Say = print,
        step: StepFn = quiet_step,
    ) -> CheckContext:
        """An assembled dist: the repository tree (with the group file), the debuginfo
        tree, the SRPMs, the rendered specs and the repo packages."""
        tree, debug, src = where.tree, where.debuginfo_tree, where.src_tree
        # the SRPM repository's packages are checked, but it is no binary repository for the closure
        repos = tuple(r for r in (tree, debug) if repodata_dir(r).is_dir())
        rpms = [
            *sorted(repo_rpm_dir(tree).glob("*.rpm")),
            *sorted(repo_rpm_dir(debug).glob("*.rpm")),
            *sorted(repo_rpm_dir(src).glob("*.src.rpm")),
            *repo_rpms,
        ]
        return cls(
            release,
            dist,
            where,
            tuple(repo_rpms),
            output,
            say,
            step,
            rpms=tuple(rpms),
            specs=tuple(sorted(where.specs.glob("*.spec"))),
            repos=repos,
            arch=release.arch,
            grouped=(tree,) if tree in repos else (),
        )

    @property
    def reports(self) -> Path:
        if self.report_dir is None:
            raise GateError(f"{self.dist.name}: no report directory for the checks")
        return self.report_dir

    def expects_group(self, repo: Path) -> bool:
        return repo.resolve() in {g.resolve() for g in self.grouped}

    def bases(self) -> Mapping[str, str]:
        return self.dist.base_repos if self.base_repos is None else self.base_repos

    @property
    def log_dir(self) -> Path:
        return self.reports / REPORT_LOGS

    def log(self, name: str) -> Path:
        return self.log_dir / name

    def need_release(self) -> Release:
        if self.release is None:
            raise GateError(f"{self.dist.name}: this check needs the release")
        return self.release

    def repo_package_set(self) -> list[Path]:
        """The release's repo packages (main, -debuginfo, -src) among ``repo_rpms``, in that order."""
        rel = self.need_release()
        names = rel.repo_rpm_names(self.dist)
        by_name = {p.name: p for p in self.repo_rpms}
        missing = [n for n in names if n not in by_name]
        if missing:
            where = self.layout.output.root if self.layout is not None else self.reports
            raise GateError(
                f"{where}: no {', '.join(missing)} among the repo packages — fix: run "
                f"`./build.py all --release {rel.path}` first"
            )
        return [by_name[n] for n in names]


class Check(abc.ABC):
    """One check of an assembled dist. A new check: one subclass and one line in ``default_checks``."""

    id: ClassVar[str] = "check"  # stable: report file names and finding kind ids start with it
    name: ClassVar[str] = "check"  # label and summary-table text
    record: ClassVar[str] = "gates"  # its key in build.json's checks
    needs_passed: ClassVar[bool] = False  # run only when every earlier check passed
    required: ClassVar[bool] = False  # publish refuses an output without its record (unless --allow-unchecked)
    writes_report: ClassVar[bool] = True  # run_checks writes <id>-<dist>.txt (+ .json) unless the check set a path

    @abc.abstractmethod
    def run(self, ctx: CheckContext) -> Findings:
        """Run the check; a failure is returned (in the findings), not raised."""

    def label(self, ctx: CheckContext) -> str:
        return f"{ctx.dist.name}: {self.name}"

    def report_path(self, ctx: CheckContext) -> Path:
        return ctx.reports / f"{self.id}-{ctx.dist.name}.txt"


@dataclass
class Outcome:
    """One check's run in a list: the check's words and what it found."""

    check: str  # its name
    record: str
    found: Findings
    required: bool = False  # the check's own flag (publish refuses an output without its passing result)
    check_id: str = ""  # the check's id ("" : the findings')

    @property
    def passed(self) -> bool:
        return self.found.passed

    @property
    def note(self) -> str:
        return self.found.one_line()


@dataclass
class DistRun:
    """What the list of checks found for one dist."""

    dist: str
    results: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> Outcome | None:
        return next((r for r in self.results if not r.passed), None)

    def notes(self) -> dict[str, str]:
        """build.json's checks: one note per record name, in order (the gates' joined)."""
        out: dict[str, str] = {}
        for r in self.results:
            if r.found.ran and r.passed:
                sep = ", " if r.record == "gates" else "; "
                out[r.record] = f"{out[r.record]}{sep}{r.note}" if r.record in out else r.note
        return out

    def rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (
                self.dist,
                r.check,
                "passed" if r.passed else ("FAILED" if r.found.ran else "not run"),
                r.found.path.name if r.found.path else "-",
            )
            for r in self.results
        ]

    def raise_for_failure(self) -> None:
        failed = self.failed
        if failed is not None:
            raise failed.found.exception()


def _groups(checks: Sequence[Check]) -> list[list[Check]]:
    """Consecutive checks of one record (the release gates) also run as one step, named by the record."""
    groups: list[list[Check]] = []
    for check in checks:
        if groups and groups[-1][0].record == check.record:
            groups[-1].append(check)
        else:
            groups.append([check])
    return groups


def _group_label(group: Sequence[Check], ctx: CheckContext) -> str:
    """The step of a group: named by its record, or by its checks when one of them already has
    that label (``container install`` then ``upgrade``: never two ``container install: started``)."""
    label = f"{ctx.dist.name}: {group[0].record}"
    if any(c.label(ctx) == label for c in group):
        return f"{ctx.dist.name}: {' + '.join(c.name for c in group)}"
    return label


def _run_one(check: Check, ctx: CheckContext, out: DistRun) -> None:
    if check.needs_passed and out.failed is not None:
        why = f"not run: {out.failed.check} failed"
        skipped = Findings(check.id, ctx.dist.name, note=why, failure=GateError(why), ran=False)
        out.results.append(Outcome(check.name, check.record, skipped, check.required, check.id))
        return
    with ctx.step(check.label(ctx)):
        found = check.run(ctx)
    if found.path is None and found.ran and check.writes_report:
        found.write(check.report_path(ctx))
    result = Outcome(check.name, check.record, found, check.required, check.id)
    out.results.append(result)
    ctx.say(
        f"{ctx.dist.name}: {result.check}: {'passed' if result.passed else 'FAILED'}"
        f"{'' if result.passed and result.note.endswith('passed') else ': ' + result.note}"
    )


def run_checks(checks: Sequence[Check], ctx: CheckContext, command: str = "") -> DistRun:
    """Run ``checks`` in order on one dist; a failed check does not stop the cheaper ones after
    it, but one that ``needs_passed`` runs only when every check before it passed. Every report
    lands in ``ctx.reports`` and is copied (without the logs) to ``ctx.output.reports``, where
    ``results.json`` then holds each check's latest result (this run's replacing the earlier
    ones; ``command`` names who ran them: all, gate)."""
    out = DistRun(ctx.dist.name)
    try:
        for group in _groups(checks):
            outer = ctx.step(_group_label(group, ctx)) if len(group) > 1 else contextlib.nullcontext()
            with outer:
                for check in group:
                    _run_one(check, ctx, out)
    finally:
        where = ctx.report_dir
        if ctx.output is not None and where is not None and where.is_dir():
            shutil.copytree(where, ctx.output.reports, dirs_exist_ok=True, ignore=shutil.ignore_patterns(REPORT_LOGS))
        if ctx.output is not None:  # also when no check ran: the output then has no result to vouch for
            record_results(ctx.output, ctx.dist.name, out, command)
    return out


def record_results(output: Output, dist: str, run: DistRun, command: str) -> None:
    """``run``'s results into ``output``'s ``results.json``, replacing the earlier ones of the same checks."""
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    latest = [
        CheckResult(
            check=r.check_id or r.found.check,
            name=r.check,
            record=r.record,
            passed=r.passed,
            ran=r.found.ran,
            required=r.required,
            report=r.found.path.name if r.found.path else "",
            note=r.note,
            command=command,
            at=at,
        )
        for r in run.results
    ]
    try:
        earlier = CheckResults.read_or_none(output.check_results) or CheckResults(dist)
    except RecordError:  # unreadable: this run's results are the ones that count
        earlier = CheckResults(dist)
    earlier.merged(latest).write(output.check_results)


def summary(runs: Sequence[DistRun]) -> str:
    return table(["dist", "check", "result", "report"], [row for r in runs for row in r.rows()])
