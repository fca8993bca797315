"""Everything that verifies a build: ONE ordered list of checks
(``default_checks``), run the same way by ``all`` (on the staging output,
before it is renamed into place), by ``gate`` (on the output already in
place) and by the tests.

Order: fresh-root install, then the release gates (digest, compat, closure,
rpmlint, and the NEVRA gate against the previous release's published output),
then the container install test and, when the previous release is handed in,
the upgrade in place from it. Every check writes its report to
``DistLayout.reports`` (``work/<release>/<dist>/gates/``; the reports are then
copied to the output's ``gates/``) and returns its ``Findings`` (a one-line
note, finding kinds with stable ids: ``checks.ids``); a failed check does not
stop the cheaper ones after it, but a check that ``needs_passed`` (the
container test) runs only when every check before it passed. After the list,
the first failure is raised (one line).

``build.json`` records the notes per ``record`` name: ``fresh-root install``,
``gates`` (the five release gates, one note) and ``container install`` (the
install test, and the upgrade's note after a ``;``).

A new check: one ``Check`` subclass in this package and one line in
``default_checks`` (plus its finding kinds in ``ids.py``, which the reports and
``explain`` describe).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..manifest import Dist, Release
from ..progress import Say, StepFn
from . import ids
from .base import Check, CheckContext, DistRun, Finding, Findings, Outcome, Severity, run_checks, summary
from .closure import ClosureCheck
from .compat import CompatCheck
from .container import ContainerInstall, ContainerSettings, Previous, Upgrade
from .digest import DigestCheck
from .freshroot import FreshRootInstall
from .nevra import NevraCheck, Predecessor, PredecessorOf
from .rpmlint import RpmlintCheck, release_filters
from .rpmlint import explain as rpmlint_explain


@dataclass(frozen=True)
class CheckOptions:
    """Which checks a run asked for (the CLI's --no-install-check, --no-gates, --container, --container-image)."""

    install_check: bool = True
    gates: bool = True
    container: str = "none"  # none, auto (skipped with a warning if no engine works), podman, docker
    container_image: str | None = None  # "local": pmrepo's own test image
    container_pm_options: tuple[str, ...] = ()  # extra yum/dnf options in the container (--container-pm-opt)


def default_checks(
    release: Release | None,
    opts: CheckOptions = CheckOptions(),
    previous: Previous | None = None,
    say: Say | None = None,
    predecessor: PredecessorOf | None = None,
) -> list[Check]:
    """THE ordered list: cheapest first; the container tests last (they need the others passed)."""
    image = opts.container_image
    install = ContainerInstall(
        ContainerSettings(
            engine=opts.container, image=None if image == "local" else image, pm_options=opts.container_pm_options
        ),
        local_image=image == "local",
        require_engine=opts.container != "auto",
        say=say,
    )
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
        (opts.gates, lambda: NevraCheck(predecessor)),
        (container, lambda: install),
        (container and previous is not None, upgrade),
    ]
    return [make() for wanted, make in listed if wanted]


def _no_previous(dist: Dist) -> tuple[Release, list[Path]]:
    raise AssertionError("the full list is made to read its checks' ids and records, never run")


def every_check() -> list[Check]:
    """The full list, every switch on (made, never run): what the required records are read from."""
    return default_checks(None, CheckOptions(container="podman"), previous=_no_previous)


def required_records() -> tuple[str, ...]:
    """The build.json records of the ``required`` checks of the full list, in its order."""
    return tuple(dict.fromkeys(c.record for c in every_check() if c.required))


# the records every published output must have passed (publish refuses the others unless --allow-unchecked)
REQUIRED_CHECKS = required_records()
# the same, check by check: id -> record (publish reads each one's latest result in gates/results.json)
REQUIRED_CHECK_IDS: dict[str, str] = {c.id: c.record for c in every_check() if c.required}


def explain(finding_id: str) -> str:
    """``pmrepo explain``: what a finding id means (rpmlint's ``-e``). A check's own prefix
    (``compat`` or ``compat.``) lists its kinds; ``rpmlint.<id>`` is described by rpmlint itself."""
    check = finding_id.removesuffix(".")
    mine = [k for k in ids.KINDS if k.startswith(check + ".")]
    if finding_id in ids.KINDS:
        return f"{finding_id}: {ids.KINDS[finding_id].description}"
    if finding_id.startswith(ids.RPMLINT_PREFIX) and check != "rpmlint":
        name = finding_id.removeprefix(ids.RPMLINT_PREFIX)
        said = rpmlint_explain([name])
        if name not in said:
            raise UsageError(
                f"explain: rpmlint has no description of {name!r} (`rpmlint -e {name}`) — fix: copy the id "
                "from a report's finding (its [id] or the JSON's \"id\")"
            )
        return f"{finding_id}: {said[name]}"
    if mine:
        return "\n".join(f"{k}: {ids.KINDS[k].description}" for k in mine)
    same_check = [k for k in ids.KINDS if k.split(".", 1)[0] == finding_id.split(".", 1)[0]]
    fix = (
        f"use one of {', '.join(same_check)}"
        if same_check
        else f"a finding id starts with one of {', '.join(ids.prefixes())} (`pmrepo explain compat` lists a check's)"
    )
    raise UsageError(f"explain: no finding kind {finding_id!r} — fix: {fix}")


__all__ = [
    "REQUIRED_CHECKS",
    "REQUIRED_CHECK_IDS",
    "Check",
    "CheckContext",
    "CheckOptions",
    "ClosureCheck",
    "CompatCheck",
    "ContainerInstall",
    "DigestCheck",
    "DistRun",
    "Finding",
    "Findings",
    "FreshRootInstall",
    "NevraCheck",
    "Outcome",
    "Predecessor",
    "PredecessorOf",
    "Previous",
    "RpmlintCheck",
    "Severity",
    "StepFn",
    "Upgrade",
    "default_checks",
    "explain",
    "run_checks",
    "summary",
]
