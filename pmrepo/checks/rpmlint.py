"""Gate 1 — rpmlint over every RPM, SRPM and rendered spec of a dist.

Runs ``rpmlint -c pmrepo/checks/rpmlint.toml`` (rpmlint 2.x takes TOML
configuration with ``-c``; ``-r`` would take a legacy rpmlintrc with
``addFilter()`` lines — the project uses TOML, whose comments say why each
filter is legitimate for el6/el7). Host configuration under
``$XDG_CONFIG_DIRS/rpmlint`` is not loaded (``CONFIG_DISABLE_AUTOLOADING``),
so a result never depends on which distro's rpmlint config the build host
has installed.

Release-specific filters (``release_filters``: the repository packages'
install prefix and their arch) are generated per release into a second TOML
file, each with its reason; rpmlint then gets a directory holding both files
(``-c`` takes a file or a directory of *.toml files).

Errors (E:) fail the gate; warnings are reported. A per-package report is
written to ``<report_dir>/rpmlint-<dist>/<file>.txt``.

Runs are batched where rpmlint 2.4 allows it: all binary RPMs of a dist go
through one run (which also lets cross-package checks see the whole set,
e.g. a -devel package's library in the main package). SRPMs and spec files
get one run each: rpmlint 2.4 reuses check objects across the files of one
run, so a second SRPM or spec inherits the first one's state and draws
false errors (multiple-specfiles; rpmlint issue #1161).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import GateError
from ..fsutil import write_atomic
from ..manifest import Release
from ..run import require_tool, run
from ..sandbox import private_tree
from . import ids
from .base import Check, CheckContext, Findings, Severity
from .rpmquery import query_rpm

CONFIG = Path(__file__).with_name("rpmlint.toml")

# rpmlint's exit codes that mean "ran and reported" (0 clean, 64 errors,
# 65 errors only from --strict promotion, 66 badness threshold exceeded).
_REPORTED = {0, 64, 65, 66}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "<name>.<arch>: E: <id> <details>" or "<file>.spec:12: W: <id> <details>"
_LINE = re.compile(r"^(?P<who>\S+?):(?:(?P<lineno>\d+):)?\s+(?P<level>[EWI]):\s+(?P<id>\S+)(?:\s+(?P<detail>.*))?$")
_LEVELS = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO}


# an rpmlint check name as `rpmlint -e` takes it (never an option; "no-%build-section" has a %)
CHECK_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9%._+-]*\Z")
_UNKNOWN = "Unknown message"  # what `rpmlint -e` says of a name it has no description for
_ENV = {"CONFIG_DISABLE_AUTOLOADING": "1", "LC_ALL": "C.UTF-8"}


def explain(names: Sequence[str], log: Path | None = None) -> dict[str, str]:
    """rpmlint's own description of each of its checks ``names`` (one ``rpmlint -e`` run);
    a name rpmlint has no description for is left out."""
    wanted = [n for n in dict.fromkeys(names) if CHECK_NAME_RE.match(n)]
    if not wanted:
        return {}
    require_tool("rpmlint", "install the Debian package rpmlint (make setup)")
    res = run(
        ["rpmlint", "-c", str(CONFIG), "-e", *wanted],
        log_file=log,
        check=False,
        env=_ENV,
        timeout=120,
        max_output=1 << 20,
    )
    texts: dict[str, list[str]] = {}
    current = None
    for line in _ANSI.sub("", res.output).splitlines():
        head = line[:-1] if line.endswith(":") else None
        if head in wanted and head not in texts:
            current, texts[head] = head, []
        elif current is not None:
            texts[current].append(line)
    described = {n: "\n".join(lines).strip() for n, lines in texts.items()}
    return {n: t for n, t in described.items() if t and not t.startswith(_UNKNOWN)}


@dataclass(frozen=True)
class LintMessage:
    who: str  # how rpmlint named the package: name.arch, or the spec file name
    lineno: int | None
    severity: Severity
    id: str
    detail: str


def parse_output(text: str) -> list[LintMessage]:
    out = []
    for raw in text.splitlines():
        m = _LINE.match(_ANSI.sub("", raw).strip())
        if m:
            out.append(
                LintMessage(
                    m["who"],
                    int(m["lineno"]) if m["lineno"] else None,
                    _LEVELS[m["level"]],
                    m["id"],
                    (m["detail"] or "").strip(),
                )
            )
    return out


@dataclass(frozen=True)
class _Batch:
    files: tuple[Path, ...]
    keys: dict[str, Path]  # rpmlint's name for each file -> the file


@dataclass(frozen=True)
class _Outcome:
    batch: _Batch
    returncode: int
    output: str
    log: Path


def release_filters(release: Release) -> dict[str, str]:
    """Filters that depend on the release: regex -> why it is legitimate."""
    prefix = re.escape(release.parent_dir)
    repo_pkgs = re.escape(release.name)
    in_opt = f" dir-or-file-in-opt {prefix}(/|$)"
    no_binary = f"^{repo_pkgs}(-debuginfo|-src)?\\.{re.escape(release.arch)}: E: no-binary$"
    return {
        **release.rpmlint_filters,
        in_opt: (
            "the repository packages install the local yum repositories under the release's directory "
            f"{release.parent_dir} (an add-on under /opt/<provider>, as the FHS intends), by design"
        ),
        no_binary: (
            f"the repository packages are {release.arch} packages because the RPMs they carry are, "
            "yet contain no ELF files themselves"
        ),
    }


def filters_toml(filters: Mapping[str, str]) -> str:
    lines = ["# Generated by pmrepo for one release: filters that depend on it.", "Filters = ["]
    for regex, why in filters.items():
        lines += [f"    # {why}", f"    {json.dumps(regex)},"]
    return "\n".join([*lines, "]", ""])


LINT_TREE_PREFIX = "pmrepo-lint-"  # /var/tmp/pmrepo-lint-<owner tag>-XXXXXXXX: one batch's files


class RpmlintCheck(Check):
    id = "rpmlint"
    name = "rpmlint gate"
    required = True

    def __init__(self, config: Path = CONFIG, jobs: int = 2, extra_filters: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.jobs = max(1, jobs)
        self.extra_filters = dict(extra_filters or {})

    # -- batching ----------------------------------------------------------
    def _batches(self, ctx: CheckContext, report: Findings) -> list[_Batch]:
        log = ctx.log(f"rpmlint-{ctx.dist.name}-query.log")
        binary: list[dict[str, Path]] = []  # batches of binary RPMs with distinct name.arch
        singles: list[_Batch] = []
        for path in ctx.rpms:
            try:
                hdr = query_rpm(path, log)
            except GateError as exc:
                report.error(path, "rpm", str(exc), "rpmlint.unreadable")
                continue
            if hdr.arch == "src":
                singles.append(_Batch((path,), {hdr.key: path}))
                continue
            for group in binary:
                if hdr.key not in group:
                    group[hdr.key] = path
                    break
            else:
                binary.append({hdr.key: path})
        for spec in ctx.specs:
            singles.append(_Batch((spec,), {spec.name: spec}))
        return [_Batch(tuple(g.values()), g) for g in binary] + singles

    def _lint(self, batch: _Batch, config: Path, log: Path) -> _Outcome:
        """rpmlint of one batch. Linting a spec or an SRPM parses the spec and runs its
        ``%(…)`` macros: as root, rpmlint runs as the build user in the build's namespaces
        (sandbox.py), on links or copies of its files and configuration."""
        configs = sorted(config.iterdir()) if config.is_dir() else [config]
        with private_tree(LINT_TREE_PREFIX, [configs, *([f] for f in batch.files)]) as (box, placed):
            conf = placed[0][0].parent if config.is_dir() else placed[0][0]
            argv, env = box.command(
                ["rpmlint", "-c", str(conf), *(str(g[0]) for g in placed[1:])],
                _ENV,
                quiet=True,
            )
            res = run(argv, log_file=log, check=False, env=env)
        return _Outcome(batch, res.returncode, res.output, log)

    # -- the gate ----------------------------------------------------------
    def run(self, ctx: CheckContext) -> Findings:
        require_tool("rpmlint", "install the Debian package rpmlint (make setup)")
        if not self.config.is_file():
            raise GateError(f"{self.config}: rpmlint configuration missing — fix: restore pmrepo/checks/rpmlint.toml")
        report = Findings(self.id, ctx.dist.name)
        report.items += [str(p) for p in (*ctx.rpms, *ctx.specs)]
        batches = self._batches(ctx, report)
        logdir = ctx.reports / f"rpmlint-{ctx.dist.name}" / "logs"
        with tempfile.TemporaryDirectory(prefix="pmrepo-rpmlint-") as tmp:
            config = self.config
            if self.extra_filters:  # a directory of both files; rpmlint merges their Filters lists
                config = Path(tmp)
                shutil.copyfile(self.config, config / f"00-{self.config.name}")
                (config / "10-release.toml").write_text(filters_toml(self.extra_filters))
            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                outcomes = list(
                    pool.map(lambda ib: self._lint(ib[1], config, logdir / f"run-{ib[0]:03d}.log"), enumerate(batches))
                )
        for outcome in outcomes:
            self._collect(outcome, report)
        theirs = [f.id for f in report.findings if f.id.startswith(ids.RPMLINT_PREFIX) and f.id not in ids.KINDS]
        if theirs:  # the report describes each of rpmlint's ids in rpmlint's words
            names = [k.removeprefix(ids.RPMLINT_PREFIX) for k in theirs]
            said = explain(names, logdir / "explain.log")
            report.descriptions |= {
                ids.RPMLINT_PREFIX + name: said.get(
                    name, f"rpmlint's check {name}; rpmlint -e has no description of it"
                )
                for name in names
            }
        self._write_per_package(ctx, report)
        return report

    def _collect(self, outcome: _Outcome, report: Findings) -> None:
        batch = outcome.batch
        messages = parse_output(outcome.output)
        if outcome.returncode not in _REPORTED:
            last = outcome.output.strip().splitlines()[-1] if outcome.output.strip() else "no output"
            for f in batch.files:
                report.error(
                    f, "rpmlint", f"rpmlint exited {outcome.returncode} (log: {outcome.log}): {last}", "rpmlint.failed"
                )
            return
        errors = 0
        for msg in messages:
            path = batch.keys.get(msg.who)
            if path is None:
                # a message about something else (e.g. "(none)"): with one file it is that file's
                path = batch.files[0] if len(batch.files) == 1 else None
            where = f"line {msg.lineno}: " if msg.lineno else ""
            text = f"{where}{msg.detail}".strip() or "(no details)"
            if path is None:
                report.add(
                    f"rpmlint run {outcome.log.name}", msg.severity, msg.id, f"{msg.who}: {text}", f"rpmlint.{msg.id}"
                )
            else:
                report.add(path, msg.severity, msg.id, text, f"rpmlint.{msg.id}")
            errors += msg.severity is Severity.ERROR
        if outcome.returncode in (64, 65, 66) and errors == 0:
            for f in batch.files:
                report.error(
                    f,
                    "rpmlint",
                    f"rpmlint exited {outcome.returncode} but reported no parsable error (log: {outcome.log})",
                    "rpmlint.failed",
                )

    def _write_per_package(self, ctx: CheckContext, report: Findings) -> None:
        outdir = ctx.reports / f"rpmlint-{ctx.dist.name}"
        for item in report.items:
            found = report.for_file(item)
            verdict = "FAIL" if any(f.severity is Severity.ERROR for f in found) else "ok"
            lines = [f"{Path(item).name}: rpmlint ({ctx.dist.name}, config {self.config.name}): {verdict}"]
            lines += [f"{f.severity.value}: {f.check}: {f.message}" for f in found]
            write_atomic(outdir / f"{Path(item).name}.txt", "\n".join(lines) + "\n")
