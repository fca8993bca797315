"""The container install test: the operator's install and erase of the
repository packages in a container of the dist's image (``install_test``),
and ``ContainerInstall``, the check that runs it for one dist."""

from __future__ import annotations

import fnmatch
import shlex
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ...fsutil import write_atomic
from ...layout import Output
from ...manifest import Component, Dist, Release
from ...progress import Say
from ...records import InstallRecord
from ..base import Check, CheckContext, Findings, Severity
from .engine import ContainerError, Engine, detect_engine
from .image import ensure_image
from .session import (
    FAIL,
    PASS,
    SKIP,
    WARN,
    ContainerReport,
    ContainerSettings,
    Session,
    erase_repo_packages,
    first_lines,
    last_lines,
    nothing_left,
    repo_package_set,
)


def install_test(
    release: Release,
    dist: Dist,
    repo_rpm: Path | Sequence[Path],
    *,
    outdir: Path,
    report_dir: Path,
    settings: ContainerSettings | None = None,
    engine: Engine | None = None,
    say: Say | None = None,
) -> ContainerReport:
    """Run the operator's install and uninstall of the repository packages in a container.

    ``repo_rpm`` is the main repository package (its -debuginfo and -src
    siblings are taken from the same directory) or the list of all three.

    ``outdir`` receives ``installed.json`` when every step passed (a stale one
    is removed otherwise); ``report_dir`` receives ``install-<dist>.log``,
    ``install-<dist>.junit.xml`` and ``install-<dist>.table.txt`` (the table).
    Raises ContainerError only when no engine works; a failing step is
    reported, not raised (``report.ok``; ContainerInstall turns it into findings).
    """
    settings = settings or ContainerSettings()
    say = say or (lambda s: None)
    rpms = repo_package_set(release, dist, repo_rpm)
    report_dir.mkdir(parents=True, exist_ok=True)
    log = report_dir / f"install-{dist.name}.log"
    log.write_text(f"# pmrepo install test of {', '.join(map(str, rpms))} ({release.release_id}, {dist.name})\n")
    engine = engine or detect_engine(settings.engine, settings.containers_conf, log)
    t_all = time.monotonic()
    s = Session(engine, settings, release, dist, rpms, log, say)
    report = ContainerReport(release.release_id, dist.name, engine.name, s.image, rpms[0].name, s.steps, log=log)
    ours = release.shipped(dist)
    try:
        if s.start():
            try:
                _run_steps(s, report, ours)
            except ContainerError as exc:  # the container itself misbehaved (e.g. rpm -qa failed)
                s.record("(container)", FAIL, str(exc), time.monotonic())
    finally:
        s.stop()
    report.seconds = time.monotonic() - t_all
    installed_json = Output(outdir).installed_json
    if report.ok:
        InstallRecord(
            dist=dist.name,
            release=release.release_id,
            packages=dict(report.installed),
            metapackage=release.metapackage,
            image=s.image,
            engine=engine.name,
        ).write(installed_json)
        report.installed_json = installed_json
    else:
        installed_json.unlink(missing_ok=True)
    report.junit = report_dir / f"install-{dist.name}.junit.xml"
    report.to_junit().write(report.junit, encoding="utf-8", xml_declaration=True)
    write_atomic(report_dir / f"install-{dist.name}.table.txt", report.table() + "\n\n" + report.summary() + "\n")
    return report


def _run_steps(s: Session, report: ContainerReport, ours: dict[str, str]) -> None:
    rel = s.release
    before = s.rpm_qa()
    s.exclude()
    repo_ok = s.install_repo_package()

    tool = s.package_manager()
    if repo_ok:
        s.check_repositories(tool)
    else:
        s.record(
            f"{tool or 'yum'} sees the repositories", SKIP, "the repository packages did not install", time.monotonic()
        )

    # 3. yum install -y <metapackage>
    t0 = time.monotonic()
    install_ok = False
    added: dict[str, str] = {}
    if not repo_ok:
        s.record(f"yum install {rel.metapackage}", SKIP, "the repository package did not install", t0)
    elif not tool:
        s.record(f"yum install {rel.metapackage}", FAIL, f"{s.image} has neither yum nor dnf", t0)
    else:
        res = s.pm(tool, "install", [rel.metapackage])
        after = s.rpm_qa()
        added = {n: vr for n, vr in after.items() if before.get(n) != vr and n not in rel.repo_package_names()}
        gone = sorted(set(before) - set(after))
        name = f"{tool} install {rel.metapackage}"
        if res.returncode != 0:
            s.record(name, FAIL, last_lines(res.output, 6), t0)
        else:
            install_ok = True
            extra = f"; removed: {', '.join(gone)}" if gone else ""
            s.record(name, PASS, f"{len(added)} packages: {', '.join(sorted(added))}{extra}", t0)
    report.installed = dict(added)

    # 4. checks
    if install_ok:
        _check_packages(s, report, ours, added)
        _check_verify(s, ours, added)
        _check_smoke(s, added)
    else:
        for name in ("packages at manifest versions", "nothing unexpected", "rpm -V", "smoke"):
            s.record(name, SKIP, "the install step failed", time.monotonic())

    # 5. uninstall: the stack, then the repository package
    t0 = time.monotonic()
    stack = sorted(added)
    if not stack:
        s.record("yum erase stack", SKIP, "nothing was installed", t0)
    elif not tool:
        s.record("yum erase stack", SKIP, "no yum or dnf", t0)
    else:
        res = s.pm(tool, "erase", stack)
        s.record(
            f"{tool} erase stack",
            PASS if res.returncode == 0 else FAIL,
            f"{len(stack)} packages" if res.returncode == 0 else last_lines(res.output, 6),
            t0,
        )
    erase_repo_packages(s, repo_ok)
    nothing_left(s, ours)


def _check_packages(s: Session, report: ContainerReport, ours: dict[str, str], added: dict[str, str]) -> None:
    t0 = time.monotonic()
    rel, dist = s.release, s.dist
    required = [rel.metapackage, *rel.required_mains(dist)]
    problems = [f"{n} was not installed" for n in required if n not in added]
    problems += [
        f"{n} is {vr}, manifest says {ours[n]}" for n, vr in sorted(added.items()) if n in ours and vr != ours[n]
    ]
    if problems:
        s.record("packages at manifest versions", FAIL, "; ".join(problems), t0)
    else:
        got = [f"{n}-{added[n]}" for n in required]
        more = sorted(set(added) & set(ours) - set(required))
        s.record(
            "packages at manifest versions",
            PASS,
            ", ".join(got) + (f"; also pulled in: {', '.join(more)}" if more else ""),
            t0,
        )

    t0 = time.monotonic()
    extras = {n: vr for n, vr in added.items() if n not in ours}
    report.extras = extras
    pats = rel.exclude_patterns(dist.name)
    shadow = sorted(f"{n}-{vr}" for n, vr in extras.items() if any(fnmatch.fnmatchcase(n, p) for p in pats))
    other = sorted(f"{n}-{vr}" for n, vr in extras.items() if not any(fnmatch.fnmatchcase(n, p) for p in pats))
    if shadow:
        s.record(
            "nothing unexpected",
            FAIL,
            "packages matching our components that the release does not ship: "
            + ", ".join(shadow)
            + (f"; other extras: {', '.join(other)}" if other else ""),
            t0,
        )
    elif other:
        s.record(
            "nothing unexpected",
            WARN if s.settings.allow_os_extras else FAIL,
            "not shipped by the release: " + ", ".join(other),
            t0,
        )
    else:
        s.record("nothing unexpected", PASS, "every installed package is shipped by the release", t0)


def _check_verify(s: Session, ours: dict[str, str], added: dict[str, str]) -> None:
    t0 = time.monotonic()
    names = sorted(n for n in added if n in ours) + s.release.repo_package_names()
    res = s.sh("rpm -V " + " ".join(shlex.quote(n) for n in names))
    if res.returncode != 0 or res.output.strip():
        s.record("rpm -V", FAIL, first_lines(res.output, 8) or f"exit {res.returncode}", t0)
    else:
        s.record("rpm -V", PASS, f"{len(names)} packages clean", t0)


def _check_smoke(s: Session, added: dict[str, str]) -> None:
    comps: list[Component] = [c for c in s.release.components_for(s.dist.name) if c.smoke]
    if not comps:
        s.record("smoke", SKIP, "no component has a smoke command", time.monotonic())
    for comp in comps:
        t0 = time.monotonic()
        name = f"smoke {comp.name}: {comp.smoke}"
        if not any(p in added for p in comp.packages_for(s.dist.name)):
            s.record(name, SKIP, f"{comp.name} is not installed by {s.release.metapackage}", t0)
            continue
        assert comp.smoke is not None
        res = s.sh(comp.smoke, timeout=120)
        s.record(
            name,
            PASS if res.returncode == 0 else FAIL,
            (
                first_lines(res.output, 2)
                if res.returncode == 0
                else f"exit {res.returncode}: {last_lines(res.output, 4)}"
            ),
            t0,
        )


# -- the install test as the check of one dist ---------------------------------------------


class ContainerInstall(Check):
    """The operator's install (and erase) in a container of the dist's image; writes installed.json.

    The repository package is the one among ``ctx.repo_rpms`` (or ``ctx.rpms``) named
    ``release.repo_rpm_name(dist)``; ``installed.json`` goes to ``ctx.output`` or, without
    one, beside that package. With ``local_image``, the Debian-based test image is built
    (or reused) and used for every dist. Without a working engine the check fails, unless
    ``require_engine`` is false: then it passes with a warning (the fresh-root install ran).
    """

    id = "install"  # install-<dist>.txt, "install gate failed for <dist>: …"
    name = "container install"
    record = "container install"
    needs_passed = True

    def __init__(
        self,
        settings: ContainerSettings | None = None,
        *,
        local_image: bool = False,
        require_engine: bool = True,
        say: Say | None = None,
    ) -> None:
        self.settings = settings or ContainerSettings()
        self.local_image = local_image
        self.require_engine = require_engine
        self.say = say
        self.engine: Engine | None = None  # detected once for every dist
        # dist -> the install test's report (the upgrade reuses its image)
        self.results: dict[str, ContainerReport] = {}

    def run(self, ctx: CheckContext) -> Findings:
        rel = ctx.need_release()
        found = Findings(self.id, ctx.dist.name)
        want = rel.repo_rpm_name(ctx.dist)
        rpm = next((p for p in (*ctx.repo_rpms, *ctx.rpms) if p.name == want), None)
        if rpm is None:
            found.error(
                f"{rel.name} ({ctx.dist.name})",
                "repo package",
                "no repository package among the gate's RPMs — fix: build it first (build.py repo)",
                "install.repo-package",
            )
            return found
        settings = self._settings(ctx, rpm, found)
        if settings is None:
            return found
        outdir = ctx.output.root if ctx.output is not None else rpm.parent
        res = install_test(
            rel,
            ctx.dist,
            rpm,
            outdir=outdir,
            report_dir=ctx.reports,
            settings=settings,
            engine=self.engine,
            say=self.say or ctx.say,
        )
        self.results[ctx.dist.name] = res
        _step_findings(res, found)
        if found.passed:
            found.note = (
                f"passed in {res.image} ({res.engine}): {len(res.installed)} packages installed, checked and erased"
            )
        return found

    def _settings(self, ctx: CheckContext, rpm: Path, found: Findings) -> ContainerSettings | None:
        """The engine (detected once) and image; None (and the finding) when no engine works."""
        settings = self.settings
        try:
            if self.engine is None:
                self.engine = detect_engine(
                    settings.engine, settings.containers_conf, ctx.log(f"install-engine-{ctx.dist.name}.log")
                )
            if self.local_image:
                info = ensure_image(self.engine, log_dir=ctx.log_dir, say=self.say or ctx.say)
                settings = replace(settings, image=info.ref, images={})
        except ContainerError as exc:
            if self.require_engine:
                found.error(rpm.name, "container engine", str(exc), "install.engine")
            else:
                found.items.append(rpm.name)
                found.warning(rpm.name, "container engine", f"install test not run: {exc}", "install.engine")
                found.note = f"install test not run: {exc}"
            return None
        return settings


def _step_findings(res: ContainerReport, found: Findings) -> None:
    for step in res.steps:
        found.items.append(step.name)
        if step.status == FAIL:
            found.error(step.name, "install test", f"{step.detail} (log: {res.log})", "install.step")
        elif step.status == WARN:
            found.warning(step.name, "install test", step.detail, "install.step")
        elif step.status == SKIP:
            found.add(step.name, Severity.INFO, "skipped", step.detail, "install.skipped")
