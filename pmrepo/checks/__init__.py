"""Everything that verifies a build: ONE ordered list of checks
(``default_checks``), run the same way by ``all`` (on the staging output,
before it is renamed into place), by ``gate`` (on the output already in
place) and by the tests.

Order: fresh-root install, then the release gates (digest, compat, closure,
rpmlint), then the container install test and, when the previous release is
handed in, the upgrade in place from it. Every check writes its report to
``DistLayout.reports`` (``work/<release>/<dist>/gates/``; the reports are then
copied to the output's ``gates/``) and returns its ``Findings`` (a one-line
note, finding kinds with stable ids: ``checks.ids``); a failed check does not
stop the cheaper ones after it, but a check that ``needs_passed`` (the
container test) runs only when every check before it passed. After the list,
the first failure is raised (one line).

``build.json`` records the notes per ``record`` name: ``fresh-root install``,
``gates`` (the four release gates, one note) and ``container install`` (the
install test, and the upgrade's note after a ``;``).

A new check: one ``Check`` subclass in this package and one line in
``default_checks`` (plus its finding kinds in ``ids.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..errors import GateError
from ..manifest import Dist, Release
from ..progress import Say, StepFn
from .base import (Check, CheckContext, CheckRun, DistRun, Finding, Findings, GateReport, Outcome, Severity,
                   run_checks, summary)
from .closure import ClosureCheck
from .compat import CompatCheck
from .container import ContainerReport, ContainerSettings, Engine, InstallGate, upgrade_test
from .digest import DigestCheck
from .freshroot import FreshRootInstall
from .rpmlint import RpmlintCheck, release_filters

# the previous release and its repository packages for one dist (located by the pipeline)
Previous = Callable[[Dist], tuple[Release, list[Path]]]


class ContainerInstall(Check):
    """The operator's install (and erase) in a container of the dist's image; writes installed.json."""

    id = "install"
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

    def run(self, ctx: CheckContext) -> Findings:
        outdir = {ctx.dist.name: ctx.output.root} if ctx.output is not None else {}
        gate = InstallGate(ctx.need_release(), settings=self.settings, outdirs=outdir, local_image=self.local_image,
                           require_engine=self.require_engine, engine=self.engine, say=self.say or ctx.say)
        found = gate.run(replace(ctx, rpms=tuple(ctx.repo_rpms)))
        self.engine = gate.engine
        if not found.passed:
            return found
        res = gate.reports.get(ctx.dist.name)
        if res is None:  # no engine and require_engine=False
            found.note = "; ".join(w.message for w in found.warnings) or "not run"
            return found
        self.results[ctx.dist.name] = res
        found.note = (f"passed in {res.image} ({res.engine}): "
                      f"{len(res.installed)} packages installed, checked and erased")
        return found


class Upgrade(Check):
    """Upgrade in place from the previous release (``release.follows``), whose repo packages
    the pipeline locates (``previous``), in the image and engine of the container install test."""

    id = "upgrade"
    name = "upgrade"
    record = "container install"
    needs_passed = True

    def __init__(self, install: ContainerInstall, previous: Previous) -> None:
        self.install = install
        self.previous = previous

    def run(self, ctx: CheckContext) -> Findings:
        found = Findings(self.id, ctx.dist.name)
        res = self.install.results.get(ctx.dist.name)
        if res is None:  # the install test did not run (no engine, and none required)
            found.note, found.ran = "not run: no container engine", False
            return found
        try:
            prev, olds = self.previous(ctx.dist)
            news = ctx.repo_package_set()
        except GateError as exc:
            return _failed(found, exc)
        up = upgrade_test(prev, ctx.need_release(), ctx.dist, olds, news, report_dir=ctx.reports,
                          settings=replace(self.install.settings, image=res.image, images={}),
                          engine=self.install.engine, say=self.install.say or ctx.say)
        found.path = up.junit
        if not up.ok:
            return _failed(found, GateError(f"upgrade gate failed for {ctx.dist.name}: {up.summary()}"))
        found.note = f"upgrade from {prev.release_id} passed ({len(up.installed)} packages at the new versions)"
        return found


def _failed(found: Findings, exc: GateError) -> Findings:
    found.error(found.dist, found.check, str(exc), "upgrade.failed")
    found.note, found.failure = str(exc), exc
    return found


@dataclass(frozen=True)
class CheckOptions:
    """Which checks a run asked for (the CLI's --no-install-check, --no-gates, --container, --container-image)."""

    install_check: bool = True
    gates: bool = True
    container: str = "none"  # none, auto (skipped with a warning if no engine works), podman, docker
    container_image: str | None = None  # "local": pmrepo's own test image


def default_checks(release: Release | None, opts: CheckOptions = CheckOptions(), previous: Previous | None = None,
                   say: Say | None = None) -> list[Check]:
    """THE ordered list: cheapest first; the container tests last (they need the others passed)."""
    image = opts.container_image
    install = ContainerInstall(ContainerSettings(engine=opts.container, image=None if image == "local" else image),
                               local_image=image == "local", require_engine=opts.container != "auto", say=say)
    container = opts.container != "none"

    def upgrade() -> Check:
        assert previous is not None
        return Upgrade(install, previous)

    listed: list[tuple[bool, Callable[[], Check]]] = [
        (opts.install_check, FreshRootInstall),
        (opts.gates, DigestCheck),
        (opts.gates, CompatCheck),
        (opts.gates, ClosureCheck),
        (opts.gates, lambda: RpmlintCheck(extra_filters=release_filters(release) if release else {})),
        (container, lambda: install),
        (container and previous is not None, upgrade),
    ]
    return [make() for wanted, make in listed if wanted]


# the records every published output must have passed (publish refuses the others unless --allow-unchecked)
REQUIRED_CHECKS = tuple(dict.fromkeys(c.record for c in (FreshRootInstall, DigestCheck)))

__all__ = ["REQUIRED_CHECKS", "Check", "CheckContext", "CheckOptions", "CheckRun", "ClosureCheck", "CompatCheck",
           "ContainerInstall", "DigestCheck", "DistRun", "Finding", "Findings", "FreshRootInstall", "GateReport",
           "Outcome", "Previous", "RpmlintCheck", "Severity", "StepFn", "Upgrade", "default_checks", "run_checks",
           "summary"]
