"""The upgrade test: in place from the previous release, in a container
(``upgrade_test``), and ``Upgrade``, the check that runs it for one dist with
the previous release the pipeline located."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...errors import GateError
from ...fsutil import write_atomic
from ...layout import YUM_REPOS_D
from ...manifest import Dist, Release
from ...progress import Say
from ..base import Check, CheckContext, Findings
from ..rpmquery import packaged_files
from .engine import ContainerError, Engine, detect_engine
from .install import ContainerInstall
from .session import (
    FAIL,
    MOUNT_DIR,
    PASS,
    SKIP,
    ContainerReport,
    ContainerSettings,
    Session,
    erase_repo_packages,
    first_lines,
    last_lines,
    nothing_left,
    paths_under,
    repo_package_set,
    repo_roots,
    some,
)

# the previous release and its repository packages for one dist (located by the pipeline)
Previous = Callable[[Dist], tuple[Release, list[Path]]]


UPGRADE_MOUNT = {"old": f"{MOUNT_DIR}/old", "new": f"{MOUNT_DIR}/new"}
LOCAL_EDIT = "# edited locally by the pmrepo upgrade test"


def upgrade_test(
    old: Release,
    new: Release,
    dist: Dist,
    old_rpms: Path | Sequence[Path],
    new_rpms: Path | Sequence[Path],
    *,
    report_dir: Path,
    settings: ContainerSettings | None = None,
    engine: Engine | None = None,
    edit: str | None = "debuginfo",
    name: str = "upgrade",
    say: Say | None = None,
) -> ContainerReport:
    """Upgrade in place, as an operator does: the previous release's repository
    packages and ``yum install <metapackage>`` from them; then ``rpm -Uvh`` the
    new repository packages, ``yum clean all`` and ``yum update``.

    Checked: every package of ours is the new release's version-release (and
    each package the new metapackage needs is there); each .repo file is the
    one the new package carries — or, for the one edited locally before the
    upgrade (repository ``edit``: "main", "debuginfo", "src" or None), the
    edited file is kept and the new one lies beside it as ``.rpmnew`` when
    the packaged file changed, as ``%config(noreplace)`` promises; yum sees
    each new repository; ``rpm -V`` is clean (but for that edit); nothing of
    the old repositories is left (every file under the old and new roots
    belongs to a new repository package, no .repo file nor .rpmsave of the
    old ones remains); then the erase leaves nothing. ``old_rpms`` may be
    repository packages of another layout (e.g. the predecessor tool's).
    """
    settings = settings or ContainerSettings()
    say = say or (lambda s: None)
    olds = repo_package_set(old, dist, old_rpms)
    news = repo_package_set(new, dist, new_rpms)
    report_dir.mkdir(parents=True, exist_ok=True)
    log = report_dir / f"{name}-{dist.name}.log"
    log.write_text(f"# pmrepo upgrade test {old.release_id} -> {new.release_id} ({dist.name})\n")
    engine = engine or detect_engine(settings.engine, settings.containers_conf, log)
    mounts = {f"{UPGRADE_MOUNT['old']}/{p.name}": p for p in olds} | {
        f"{UPGRADE_MOUNT['new']}/{p.name}": p for p in news
    }
    t_all = time.monotonic()
    s = Session(engine, settings, new, dist, news, log, say, mounts=mounts)
    report = ContainerReport(
        new.release_id, dist.name, engine.name, s.image, news[0].name, s.steps, log=log, kind="upgrade"
    )
    try:
        if s.start():
            try:
                _run_upgrade(s, report, old, olds, news, edit)
            except ContainerError as exc:
                s.record("(container)", FAIL, str(exc), time.monotonic())
    finally:
        s.stop()
    report.seconds = time.monotonic() - t_all
    report.junit = report_dir / f"{name}-{dist.name}.junit.xml"
    report.to_junit().write(report.junit, encoding="utf-8", xml_declaration=True)
    write_atomic(report_dir / f"{name}-{dist.name}.table.txt", report.table() + "\n\n" + report.summary() + "\n")
    return report


@dataclass
class _Run:
    """One upgrade in one session: the two releases, their packages and what the steps learnt."""

    s: Session
    report: ContainerReport
    old: Release
    new: Release
    olds: list[Path]
    news: list[Path]
    tool: str = ""
    old_added: dict[str, str] = field(default_factory=dict)  # what the previous metapackage installed
    edited: str | None = None  # the .repo file edited locally before the upgrade
    after: dict[str, str] = field(default_factory=dict)  # rpm -qa after the upgrade

    @property
    def dist(self) -> Dist:
        return self.s.dist

    @property
    def ours(self) -> dict[str, str]:
        return self.new.shipped(self.dist)

    @property
    def old_names(self) -> set[str]:
        return set(self.old.shipped(self.dist)) | set(self.old.repo_package_names())


def _run_upgrade(
    s: Session, report: ContainerReport, old: Release, olds: list[Path], news: list[Path], edit: str | None
) -> None:
    new = s.release
    run_ = _Run(s, report, old, new, olds, news)
    before = s.rpm_qa()
    # the patterns of both releases' components (the new one's win for a component in both)
    both = replace(new, components=tuple({c.key: c for c in (*old.components, *new.components)}.values()))
    s.exclude(both.exclude_patterns(s.dist.name))
    run_.tool = s.package_manager()
    if not _install_previous(run_, before):  # 1. the previous release, as installed then
        return
    if edit is not None:
        _edit_repo_file(run_, edit)
    upgraded = _upgrade(run_)  # 2. the upgrade
    _check_versions(run_)  # 3. checks
    new_files = packaged_files(news, s.log, ContainerError)
    _check_repo_files(run_, new_files, packaged_files(olds, s.log, ContainerError))
    s.check_repositories(run_.tool)
    _check_verify(run_)
    _check_left_over(run_, new_files)
    report.installed = {n: vr for n, vr in run_.after.items() if n in run_.ours}
    _uninstall(run_, upgraded)  # 4. uninstall


def _install_previous(r: _Run, before: dict[str, str]) -> bool:
    s, old = r.s, r.old
    if not s.install_repo_package(r.olds, old):
        for step in ("yum install (previous)", "rpm -Uvh", "yum update", "checks"):
            s.record(step, SKIP, "the previous repository packages did not install", time.monotonic())
        return False
    t0 = time.monotonic()
    res = s.pm(r.tool, "install", [old.metapackage])
    r.old_added = {n: vr for n, vr in s.rpm_qa().items() if before.get(n) != vr}
    s.record(
        f"{r.tool} install {old.metapackage} (previous)",
        PASS if res.returncode == 0 else FAIL,
        f"{len(r.old_added)} packages" if res.returncode == 0 else last_lines(res.output, 6),
        t0,
    )
    return res.returncode == 0


def _edit_repo_file(r: _Run, edit: str) -> None:
    """The operator's local edit of one .repo file before the upgrade."""
    t0 = time.monotonic()
    target = r.old.repo(edit).repo_path
    res = r.s.sh(f"echo {shlex.quote(LOCAL_EDIT)} >> {shlex.quote(target)}")
    r.edited = target if res.returncode == 0 else None
    r.s.record(
        f"edit {target} locally", PASS if r.edited else FAIL, LOCAL_EDIT if r.edited else last_lines(res.output, 2), t0
    )


def _upgrade(r: _Run) -> bool:
    s, tool = r.s, r.tool
    upgraded = s.install_repo_package(r.news, r.new, verb="-Uvh")
    t0 = time.monotonic()
    res = s.sh(f"{tool} -y clean all")
    if res.returncode == 0:
        res = s.pm(tool, "update", [])
    s.record(
        f"{tool} clean all; {tool} update",
        PASS if res.returncode == 0 else FAIL,
        last_lines(res.output, 3 if res.returncode == 0 else 6),
        t0,
    )
    r.after = s.rpm_qa()
    return upgraded


def _check_versions(r: _Run) -> None:
    """Every package of ours at the new version-release; nothing only the old release shipped."""
    t0 = time.monotonic()
    new, dist, after, ours = r.new, r.dist, r.after, r.ours
    problems = []
    own_vr = f"{new.vr}{dist.tag}"
    for n in new.repo_package_names():
        if after.get(n) != own_vr:
            problems.append(f"{n} is {after.get(n, 'not installed')}, expected {own_vr}")
    for n in [new.metapackage, *new.required_mains(dist)]:
        if n not in after:
            problems.append(f"{n} is not installed")
    for n, vr in sorted(after.items()):
        if n in ours and vr != ours[n]:
            problems.append(f"{n} is {vr}, the new release has {ours[n]}")
        elif n in r.old_names and n not in ours and n not in new.repo_package_names():
            problems.append(f"{n}-{vr} of {r.old.release_id} is still installed, the new release does not ship it")
    changed = sorted(n for n in after if n in ours and r.old_added.get(n) not in (None, after[n]))
    r.s.record(
        "new versions installed",
        FAIL if problems else PASS,
        "; ".join(problems) or f"{len(changed)} packages upgraded: {', '.join(changed)}",
        t0,
    )


def _check_repo_files(r: _Run, new_files: dict[str, tuple[str, str]], old_files: dict[str, tuple[str, str]]) -> None:
    """Each .repo file the new package's (or the local edit kept, with .rpmnew); none of the old left."""
    t0 = time.monotonic()
    problems: list[str] = []
    notes: list[str] = []
    for repo in r.new.repositories:
        path = repo.repo_path
        want = new_files.get(path, ("", ""))[1]
        if not want:
            problems.append(f"{repo.package} does not carry {path}")
            continue
        res = r.s.sh(
            f"for f in {shlex.quote(path)} {shlex.quote(path + '.rpmnew')}; do "
            'if [ -f "$f" ]; then sha256sum "$f"; else echo "- $f"; fi; done'
        )
        # "<sha256> <file>" for a file there, "- <file>" for one that is not: absent from sums
        sums = {
            f: digest
            for digest, f in (ln.split() for ln in res.output.splitlines() if len(ln.split()) == 2)
            if digest != "-"
        }
        if path == r.edited:
            notes.append(_check_edited(r, path, want, sums, old_files, problems))
        elif sums.get(path) != want:
            problems.append(f"{path} is not the new package's file ({'missing' if path not in sums else 'differs'})")
        else:
            notes.append(f"{repo.repo_file} new")
    ours_repo = {x.repo_path for x in r.new.repositories}
    stale = sorted({p for p in old_files if p.startswith(f"{YUM_REPOS_D}/") and p not in ours_repo})
    if stale:
        res = r.s.sh(
            "for f in " + " ".join(shlex.quote(p) + "*" for p in stale) + '; do [ -e "$f" ] && echo "$f"; done; true'
        )
        left = [ln.strip() for ln in res.output.splitlines() if ln.strip().startswith(f"{YUM_REPOS_D}/")]
        if left:
            problems.append("left from the previous packages: " + ", ".join(left))
    r.s.record(".repo files", FAIL if problems else PASS, "; ".join(problems) or ", ".join(notes), t0)


def _check_edited(
    r: _Run, path: str, want: str, sums: dict[str, str], old_files: dict[str, tuple[str, str]], problems: list[str]
) -> str:
    """The locally edited .repo file: kept, and the new one beside it as .rpmnew when it changed."""
    packaged_changed = old_files.get(path, ("", ""))[1] != want
    kept = r.s.sh(f"tail -n 1 {shlex.quote(path)}").output.strip().endswith(LOCAL_EDIT)
    if not kept:
        problems.append(f"{path}: the local edit was not kept")
    if packaged_changed and sums.get(path + ".rpmnew") != want:
        problems.append(f"{path}: edited and changed by the new package, but no matching {path}.rpmnew")
    if not packaged_changed and sums.get(path + ".rpmnew", "-") != "-":
        problems.append(f"{path}.rpmnew although the packaged file did not change")
    return f"{Path(path).name} kept (edited)" + (" + .rpmnew" if packaged_changed else "")


def _check_verify(r: _Run) -> None:
    t0 = time.monotonic()
    edited = r.edited
    names = sorted(n for n in r.after if n in r.ours) + [n for n in r.new.repo_package_names() if n in r.after]
    res = r.s.sh("rpm -V " + " ".join(shlex.quote(n) for n in names))
    lines = [ln for ln in res.output.splitlines() if ln.strip() and not (edited and ln.rstrip().endswith(" " + edited))]
    r.s.record(
        "rpm -V",
        FAIL if lines else PASS,
        first_lines("\n".join(lines), 8)
        if lines
        else f"{len(names)} packages clean" + (f" (but the local edit of {edited})" if edited else ""),
        t0,
    )


def _check_left_over(r: _Run, new_files: dict[str, tuple[str, str]]) -> None:
    """Every path under the old and new roots belongs to a new repository package."""
    t0 = time.monotonic()
    dirs = repo_roots((r.old, r.new))
    present = paths_under(r.s, dirs)
    owned = set(new_files) | {str(Path(p).parent) for p in new_files}
    owned |= {str(q) for p in new_files for q in Path(p).parents}
    stray = sorted(present - owned)
    r.s.record(
        "nothing of the old repositories left",
        FAIL if stray else PASS,
        f"not in the new packages: {some(stray)}"
        if stray
        else f"{len(present)} paths under {', '.join(dirs)}, all the new packages'",
        t0,
    )


def _uninstall(r: _Run, upgraded: bool) -> None:
    s, tool, after = r.s, r.tool, r.after
    t0 = time.monotonic()
    stack = sorted(n for n in after if n in r.ours or n in r.old_names - set(r.old.repo_package_names()))
    if stack:
        res = s.pm(tool, "erase", stack)
        s.record(
            f"{tool} erase stack",
            PASS if res.returncode == 0 else FAIL,
            f"{len(stack)} packages" if res.returncode == 0 else last_lines(res.output, 6),
            t0,
        )
    erase_repo_packages(s, upgraded or any(n in s.rpm_qa() for n in r.new.repo_package_names()))
    if r.edited:  # the operator's own files: the edited %config kept as .rpmsave on erase, and the .rpmnew
        s.sh(f"rm -f {shlex.quote(r.edited)}.rpmsave {shlex.quote(r.edited)}.rpmnew")
    nothing_left(s, r.ours, also=(r.old,))


class Upgrade(Check):
    """Upgrade in place from the previous release (``release.follows``), whose repo packages
    the pipeline locates (``previous``), in the image and engine of the container install test."""

    id = "upgrade"
    name = "upgrade"
    record = "container install"
    needs_passed = True
    writes_report = False  # its reports are the upgrade test's (upgrade-<dist>.junit.xml, .table.txt, .log)

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
        up = upgrade_test(
            prev,
            ctx.need_release(),
            ctx.dist,
            olds,
            news,
            report_dir=ctx.reports,
            settings=replace(self.install.settings, image=res.image, images={}),
            engine=self.install.engine,
            say=self.install.say or ctx.say,
        )
        found.path = up.junit
        if not up.ok:
            return _failed(found, GateError(f"upgrade gate failed for {ctx.dist.name}: {up.summary()}"))
        found.note = f"upgrade from {prev.release_id} passed ({len(up.installed)} packages at the new versions)"
        return found


def _failed(found: Findings, exc: GateError) -> Findings:
    found.error(found.dist, found.check, str(exc), "upgrade.failed")
    found.note, found.failure = str(exc), exc
    return found
