"""The gate interface: each release gate is a class with a ``name`` and
``run(context) -> GateReport``; a report holds per-item findings, a verdict,
renders as a text report file and as one-line ``GateError`` message.

Shared here as well: ``query_rpm`` — the one ``rpm -qp --qf`` header query
the gates use (payload, digests, rpmlib requirements, name/arch).
"""
from __future__ import annotations

import abc
import enum
import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Mapping, Sequence

from ..errors import GateError
from ..fsutil import write_atomic
from ..layout import REPORT_LOGS
from ..manifest import Dist
from ..run import run


class Severity(enum.Enum):
    ERROR = "E"
    WARNING = "W"
    INFO = "I"


@dataclass(frozen=True)
class Finding:
    """One problem found by a gate: which file, which check/feature, what."""

    file: str  # the RPM, spec, repomd.xml … the finding is about (path or name)
    severity: Severity
    check: str  # e.g. "rpmlib(PayloadIsZstd)", rpmlint's "no-group-tag", "Requires"
    message: str

    def line(self) -> str:
        return f"{self.file}: {self.severity.value}: {self.check}: {self.message}"


@dataclass
class GateReport:
    """What one gate found for one dist."""

    gate: str
    dist: str
    items: list[str] = field(default_factory=list)  # everything that was checked
    findings: list[Finding] = field(default_factory=list)
    path: Path | None = None  # where write() put the text report

    def add(self, file: str | os.PathLike[str], severity: Severity, check: str, message: str) -> Finding:
        finding = Finding(os.fspath(file), severity, check, message)
        self.findings.append(finding)
        return finding

    def error(self, file: str | os.PathLike[str], check: str, message: str) -> Finding:
        return self.add(file, Severity.ERROR, check, message)

    def warning(self, file: str | os.PathLike[str], check: str, message: str) -> Finding:
        return self.add(file, Severity.WARNING, check, message)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def passed(self) -> bool:
        return not self.errors

    def for_file(self, file: str) -> list[Finding]:
        return [f for f in self.findings if f.file == file]

    def summary(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        return (f"{self.gate} gate ({self.dist}): {verdict} — {len(self.items)} checked, "
                f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")

    def error_message(self) -> str:
        """One line: gate, dist, and the first error's file, feature and message."""
        if self.passed:
            return self.summary()
        first = self.errors[0]
        more = len(self.errors) - 1
        extra = f" (+{more} more error(s))" if more else ""
        where = f"; report: {self.path}" if self.path else ""
        return f"{self.gate} gate failed for {self.dist}: {first.file}: {first.check}: {first.message}{extra}{where}"

    def text(self) -> str:
        lines = [self.summary(), ""]
        by_file: dict[str, list[Finding]] = {}
        for f in self.findings:
            by_file.setdefault(f.file, []).append(f)
        for item in self.items:
            found = by_file.pop(item, [])
            status = "FAIL" if any(f.severity is Severity.ERROR for f in found) else "ok"
            lines.append(f"[{status}] {item}")
            lines += [f"    {f.severity.value}: {f.check}: {f.message}" for f in found]
        for item, found in by_file.items():  # findings about things not in items (e.g. a repository)
            status = "FAIL" if any(f.severity is Severity.ERROR for f in found) else "ok"
            lines.append(f"[{status}] {item}")
            lines += [f"    {f.severity.value}: {f.check}: {f.message}" for f in found]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> Path:
        """Write the text report atomically (temp file renamed into place)."""
        write_atomic(path, self.text())
        self.path = path
        return path

    def raise_for_errors(self) -> None:
        if not self.passed:
            raise GateError(self.error_message())


@dataclass(frozen=True)
class GateContext:
    """Everything a gate looks at for one dist."""

    dist: Dist
    report_dir: Path  # reports and logs go here
    rpms: tuple[Path, ...] = ()  # binary RPMs and SRPMs
    specs: tuple[Path, ...] = ()  # rendered spec files
    repos: tuple[Path, ...] = ()  # repository directories (each with repodata/)
    arch: str = "x86_64"  # the target basearch
    grouped: tuple[Path, ...] = ()  # repositories (of ``repos``) that must carry a comps group file
    base_repos: Mapping[str, str] | None = None  # overrides dist.base_repos (id -> baseurl or path)

    def expects_group(self, repo: Path) -> bool:
        return repo.resolve() in {g.resolve() for g in self.grouped}

    def bases(self) -> Mapping[str, str]:
        return self.dist.base_repos if self.base_repos is None else self.base_repos

    @property
    def log_dir(self) -> Path:
        return self.report_dir / REPORT_LOGS

    def log(self, name: str) -> Path:
        return self.log_dir / name


class Gate(abc.ABC):
    """A release gate. Subclasses set ``name`` and implement ``run``."""

    name: ClassVar[str] = "gate"

    @abc.abstractmethod
    def run(self, ctx: GateContext) -> GateReport:
        """Check ``ctx`` and return the report (never raise for findings)."""

    def report_path(self, ctx: GateContext) -> Path:
        return ctx.report_dir / f"{self.name}-{ctx.dist.name}.txt"


def run_gates(gates: Sequence[Gate], ctx: GateContext, *, fail: bool = True,
              step: Callable[[str], AbstractContextManager[None]] | None = None) -> list[GateReport]:
    """Run every gate, write each report to ``<report_dir>/<gate>-<dist>.txt``;
    with ``fail``, raise the first failing gate's one-line GateError after all ran.
    ``step`` (e.g. ``Console.step``) announces and times each gate."""
    reports = []
    for gate in gates:
        with step(f"{ctx.dist.name}: {gate.name} gate") if step else nullcontext():
            report = gate.run(ctx)
        report.write(gate.report_path(ctx))
        reports.append(report)
    if fail:
        for report in reports:
            report.raise_for_errors()
    return reports


# -- RPM header queries -------------------------------------------------------

_FIELDS = ("NAME", "EPOCHNUM", "VERSION", "RELEASE", "PAYLOADCOMPRESSOR", "PAYLOADFORMAT", "FILEDIGESTALGO")
_QF = ("".join(f"@{f}=%{{{f}}}\\n" for f in _FIELDS)
       + "@ARCH=%|SOURCEPACKAGE?{src}:{%{ARCH}}|\\n"
       + "[@REQUIRE=%{REQUIRENAME}\\t%{REQUIREFLAGS:depflags}\\t%{REQUIREVERSION}\\n]")


@dataclass(frozen=True)
class RpmRequire:
    name: str
    flags: str  # "", "=", ">=", "<=", …
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.flags} {self.version}".strip() if self.flags else self.name


@dataclass(frozen=True)
class RpmHeader:
    """The header fields the gates need, as ``rpm -qp --qf`` reports them."""

    path: Path
    name: str
    epoch: int
    version: str
    release: str
    arch: str  # "src" for source packages
    payload_compressor: str  # "" when the tag is absent (rpm then assumes gzip)
    payload_format: str
    file_digest_algo: int | None  # None: no files or no tag (rpm then assumes MD5)
    requires: tuple[RpmRequire, ...]

    @property
    def key(self) -> str:
        """``name.arch`` — how rpmlint names a package in its output."""
        return f"{self.name}.{self.arch}"

    @property
    def nevra(self) -> str:
        ep = f"{self.epoch}:" if self.epoch else ""
        return f"{self.name}-{ep}{self.version}-{self.release}.{self.arch}"


def _none(value: str) -> str:
    return "" if value == "(none)" else value


def query_rpm(path: Path, log: Path | None = None) -> RpmHeader:
    """Read one RPM's header with ``rpm -qp --qf`` (no signature/digest checks)."""
    res = run(["rpm", "-qp", "--nosignature", "--nodigest", "--qf", _QF, str(path)],
              log_file=log, error=GateError)
    values: dict[str, str] = {}
    requires: list[RpmRequire] = []
    for line in res.output.splitlines():
        if not line.startswith("@") or "=" not in line:
            continue  # rpm's own warnings
        key, _, value = line[1:].partition("=")
        if key == "REQUIRE":
            name, flags, version = (value.split("\t") + ["", ""])[:3]
            requires.append(RpmRequire(name, _none(flags.strip()), _none(version)))
        else:
            values[key] = value
    if "NAME" not in values:
        raise GateError(f"{path}: rpm could not read the package header — fix: rebuild it")
    algo = _none(values.get("FILEDIGESTALGO", ""))
    epoch = _none(values.get("EPOCHNUM", ""))
    return RpmHeader(
        path=path,
        name=values["NAME"],
        epoch=int(epoch) if epoch.isdigit() else 0,
        version=values.get("VERSION", ""),
        release=values.get("RELEASE", ""),
        arch=values.get("ARCH", ""),
        payload_compressor=_none(values.get("PAYLOADCOMPRESSOR", "")),
        payload_format=_none(values.get("PAYLOADFORMAT", "")),
        file_digest_algo=int(algo) if algo.isdigit() else None,
        requires=tuple(requires),
    )
