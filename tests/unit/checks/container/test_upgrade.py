"""The upgrade test's decisions, in the fake container of the install test's unit tests: every
package at the new version-release and none only the old release shipped; each .repo file the new
package's, or the locally edited one kept with the new one as ``.rpmnew`` exactly when the packaged
file changed (``%config(noreplace)``); ``rpm -V`` clean but for that edit; nothing of the old
repositories left; the steps skipped when the previous release does not install; and the check's
verdicts (real podman: tests/integration/test_container.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.checks import CheckContext, Upgrade
from pmrepo.checks.container import ContainerInstall, ContainerReport, ContainerSettings, Session, upgrade
from pmrepo.checks.container.upgrade import LOCAL_EDIT, upgrade_test
from pmrepo.errors import GateError

from .test_install import Box

RELEASE = manifest.load(DEMO)  # demo-repo-1.0-1
PREVIOUS = manifest.load(DEMO.parent / "release-0.9.toml")  # demo-repo-0.9-1
EL7 = RELEASE.dists["el7"]
NEW_VR, OLD_VR = f"{RELEASE.vr}{EL7.tag}", f"{PREVIOUS.vr}{EL7.tag}"
MAIN, DEBUG, SRC = (RELEASE.repo(k).repo_path for k in ("main", "debuginfo", "src"))


def packages(tmp_path: Path, rel: manifest.Release) -> list[Path]:
    out = []
    for name in rel.repo_rpm_names(EL7):
        (tmp_path / name).write_bytes(b"rpm")
        out.append(tmp_path / name)
    return out


def a_run(tmp_path: Path, box: Box, old: manifest.Release = PREVIOUS) -> upgrade._Run:
    """One upgrade's state in a session on ``box`` (the steps are called one by one)."""
    olds, news = packages(tmp_path, old), packages(tmp_path, RELEASE)
    log = tmp_path / "upgrade.log"
    s = Session(box, ContainerSettings(containers_conf=None), RELEASE, EL7, news, log, lambda line: None)
    report = ContainerReport(RELEASE.release_id, "el7", "podman", s.image, news[0].name, s.steps, kind="upgrade")
    return upgrade._Run(s, report, old, RELEASE, olds, news, tool="yum")


def last(r: upgrade._Run) -> tuple[str, str, str]:
    step = r.s.steps[-1]
    return step.name, step.status, step.detail


# -- every package at the new version ---------------------------------------------------------


def test_every_package_at_the_new_version_passes(tmp_path: Path) -> None:
    r = a_run(tmp_path, Box())
    r.old_added = dict(PREVIOUS.shipped(EL7))
    r.after = dict(RELEASE.shipped(EL7)) | dict.fromkeys(RELEASE.repo_package_names(), NEW_VR) | {"bash": "4.2"}
    upgrade._check_versions(r)
    changed = sorted(n for n, vr in RELEASE.shipped(EL7).items() if PREVIOUS.shipped(EL7)[n] != vr)
    assert changed == ["demo-all", "demo-extras", "demo-units", "demod", "demod-devel", "libdemo", "libdemo-devel"]
    assert last(r) == ("new versions installed", "pass", f"7 packages upgraded: {', '.join(changed)}")


def test_old_versions_and_what_only_the_old_release_shipped_are_named(tmp_path: Path) -> None:
    old = dataclasses.replace(PREVIOUS, metapackage="demo-everything")  # a name the new release does not ship
    r = a_run(tmp_path, Box(), old)
    r.after = dict(RELEASE.shipped(EL7)) | dict.fromkeys(RELEASE.repo_package_names(), NEW_VR)
    r.after |= {"libdemo": "1.1-1.el7", "demo-repo-src": OLD_VR, "demo-everything": OLD_VR}
    del r.after["demo-all"]
    upgrade._check_versions(r)
    name, status, detail = last(r)
    assert (name, status) == ("new versions installed", "fail")
    assert detail.split("; ") == [
        f"demo-repo-src is {OLD_VR}, expected {NEW_VR}",
        "demo-all is not installed",
        f"demo-everything-{OLD_VR} of demo-repo-0.9-1 is still installed, the new release does not ship it",
        "libdemo is 1.1-1.el7, the new release has 1.2-1.el7",
    ]


# -- the .repo files ----------------------------------------------------------------------------


def new_files(sums: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {path: ("demo-repo", digest) for path, digest in sums.items()}


def answer_sums(box: Box, path: str, *lines: str) -> None:
    """What ``sha256sum`` prints of ``path`` and ``path.rpmnew`` ("- <file>": not there)."""
    box.answers[f"for f in {path} {path}.rpmnew;"] = (0, "".join(f"{ln}\n" for ln in lines))


def three_new(box: Box) -> dict[str, tuple[str, str]]:
    for path, digest in ((MAIN, "m1"), (DEBUG, "d1"), (SRC, "s1")):
        answer_sums(box, path, f"{digest}  {path}", f"- {path}.rpmnew")
    return new_files({MAIN: "m1", DEBUG: "d1", SRC: "s1"})


def test_each_repo_file_is_the_new_packages(tmp_path: Path) -> None:
    box = Box()
    r = a_run(tmp_path, box)
    upgrade._check_repo_files(r, three_new(box), new_files({MAIN: "m0", DEBUG: "d0", SRC: "s0"}))
    assert last(r) == (
        ".repo files",
        "pass",
        "pmrepo-demo.repo new, pmrepo-demo-debuginfo.repo new, pmrepo-demo-src.repo new",
    )


def test_a_repo_file_that_differs_or_is_not_carried(tmp_path: Path) -> None:
    box = Box()
    r = a_run(tmp_path, box)
    ours = three_new(box)
    answer_sums(box, MAIN, f"m0  {MAIN}", f"- {MAIN}.rpmnew")
    del ours[SRC]
    upgrade._check_repo_files(r, ours, {})
    assert last(r)[1:] == (
        "fail",
        f"{MAIN} is not the new package's file (differs); demo-repo-src does not carry {SRC}",
    )


def test_a_missing_repo_file_is_named_missing(tmp_path: Path) -> None:
    box = Box()
    r = a_run(tmp_path, box)
    ours = three_new(box)
    answer_sums(box, DEBUG, f"- {DEBUG}", f"- {DEBUG}.rpmnew")
    upgrade._check_repo_files(r, ours, {})
    assert last(r)[1:] == ("fail", f"{DEBUG} is not the new package's file (missing)")


@pytest.mark.parametrize(
    ("changed", "rpmnew", "kept", "want"),
    [
        (True, "d1", True, ("pass", "pmrepo-demo-debuginfo.repo kept (edited) + .rpmnew")),
        (False, "-", True, ("pass", "pmrepo-demo-debuginfo.repo kept (edited)")),
        (True, "-", True, ("fail", f"{DEBUG}: edited and changed by the new package, but no matching {DEBUG}.rpmnew")),
        (True, "d0", True, ("fail", f"{DEBUG}: edited and changed by the new package, but no matching {DEBUG}.rpmnew")),
        (False, "d1", True, ("fail", f"{DEBUG}.rpmnew although the packaged file did not change")),
        (False, "-", False, ("fail", f"{DEBUG}: the local edit was not kept")),
    ],
)
def test_the_edited_repo_file_is_kept_with_rpmnew_as_noreplace_promises(
    tmp_path: Path, changed: bool, rpmnew: str, kept: bool, want: tuple[str, str]
) -> None:
    box = Box()
    r = a_run(tmp_path, box)
    r.edited = DEBUG
    ours = three_new(box)
    answer_sums(box, DEBUG, f"e9  {DEBUG}", f"{rpmnew}  {DEBUG}.rpmnew")
    box.answers[f"tail -n 1 {DEBUG}"] = (0, f"gpgcheck=0\n{LOCAL_EDIT}\n" if kept else "gpgcheck=0\n")
    olds = new_files({MAIN: "m0", DEBUG: "d0" if changed else "d1", SRC: "s0"})
    upgrade._check_repo_files(r, ours, olds)
    status, detail = last(r)[1:]
    assert status == want[0] and want[1] in detail.split("; ") + detail.split(", "), detail


def test_an_old_repo_file_left_behind_fails(tmp_path: Path) -> None:
    box = Box()
    r = a_run(tmp_path, box)
    old = "/etc/yum.repos.d/pacemaker.repo"
    box.answers[f"for f in {old}*;"] = (0, f"{old}.rpmsave\n")
    upgrade._check_repo_files(r, three_new(box), new_files({old: "p0", "/opt/x/rpm/a.rpm": "a0"}))
    assert last(r)[1:] == ("fail", f"left from the previous packages: {old}.rpmsave")


# -- rpm -V and what is left ------------------------------------------------------------------


def test_rpm_verify_is_clean_but_for_the_local_edit(tmp_path: Path) -> None:
    box = Box()
    r = a_run(tmp_path, box)
    r.after = dict(RELEASE.shipped(EL7)) | dict.fromkeys(RELEASE.repo_package_names(), NEW_VR)
    r.edited = DEBUG
    box.answers["rpm -V"] = (1, f"S.5....T.  c {DEBUG}\n")
    upgrade._check_verify(r)
    assert last(r) == ("rpm -V", "pass", f"12 packages clean (but the local edit of {DEBUG})")
    box.answers["rpm -V"] = (1, f"S.5....T.  c {DEBUG}\nmissing     /usr/sbin/demod\n")
    upgrade._check_verify(r)
    assert last(r) == ("rpm -V", "fail", "missing     /usr/sbin/demod")


def test_only_the_new_packages_paths_may_be_left_under_the_roots(tmp_path: Path) -> None:
    box = Box()
    r = a_run(tmp_path, box)
    carried = new_files({"/opt/pmrepo-demo/demo/rpm/a.rpm": "a1", "/opt/pmrepo-demo/demo/repodata/repomd.xml": "r1"})
    box.files = {"/opt/pmrepo-demo", "/opt/pmrepo-demo/demo", "/opt/pmrepo-demo/demo/rpm"} | set(carried)
    upgrade._check_left_over(r, carried)
    assert last(r)[:2] == ("nothing of the old repositories left", "pass")
    assert last(r)[2].startswith("5 paths under /opt/pmrepo-demo, /opt/pmrepo-demo/demo, ")
    box.files |= {"/opt/pmrepo-demo/demo/rpm/libdemo-1.1-1.el7.x86_64.rpm", "/opt/pmrepo-demo/demo-src/x"}
    upgrade._check_left_over(r, carried)
    assert last(r)[1:] == (
        "fail",
        "not in the new packages: /opt/pmrepo-demo/demo-src/x, /opt/pmrepo-demo/demo/rpm/libdemo-1.1-1.el7.x86_64.rpm",
    )


# -- the whole test and the check -------------------------------------------------------------


def test_when_the_previous_release_does_not_install_the_rest_is_skipped(tmp_path: Path) -> None:
    box = Box()
    box.answers["rpm -ivh"] = (1, "error: Failed dependencies:\n\tyum is needed by demo-repo-0.9-1.el7.x86_64\n")
    report = upgrade_test(
        PREVIOUS,
        RELEASE,
        EL7,
        packages(tmp_path, PREVIOUS),
        packages(tmp_path, RELEASE),
        report_dir=tmp_path / "reports",
        settings=ContainerSettings(containers_conf=None),
        engine=box,
    )
    names = " ".join(PREVIOUS.repo_rpm_names(EL7))
    assert [(s.name, s.status) for s in report.steps] == [
        ("start container", "pass"),
        ("exclude in CentOS-Base.repo", "skip"),
        (f"rpm -ivh {names}", "fail"),
        ("yum install (previous)", "skip"),
        ("rpm -Uvh", "skip"),
        ("yum update", "skip"),
        ("checks", "skip"),
    ]
    assert not report.ok and report.kind == "upgrade"
    assert report.summary().startswith(f"el7: upgrade test failed at 'rpm -ivh {names}': error: Failed dependencies:")
    assert (tmp_path / "reports" / "upgrade-el7.junit.xml").is_file()
    assert (tmp_path / "reports" / "upgrade-el7.table.txt").is_file()
    start = next(c for c in box.calls if c[:2] == ["run", "-d"])
    mounts = [start[i + 1].rsplit(":", 2)[1] for i, a in enumerate(start) if a == "-v"]
    assert sorted(mounts) == sorted(
        [f"/tmp/pmrepo/old/{n}" for n in PREVIOUS.repo_rpm_names(EL7)]
        + [f"/tmp/pmrepo/new/{n}" for n in RELEASE.repo_rpm_names(EL7)]
    )


def _ctx(tmp_path: Path) -> CheckContext:
    return CheckContext(
        release=RELEASE, dist=EL7, report_dir=tmp_path / "gates", repo_rpms=tuple(packages(tmp_path, RELEASE))
    )


def test_without_the_install_test_the_upgrade_does_not_run(tmp_path: Path) -> None:
    def previous(dist: manifest.Dist) -> tuple[manifest.Release, list[Path]]:
        raise AssertionError("not asked: nothing ran")

    found = Upgrade(ContainerInstall(), previous).run(_ctx(tmp_path))
    assert found.passed and found.ran is False and found.note == "not run: no container engine"
    assert (Upgrade.record, Upgrade.needs_passed, Upgrade.writes_report) == ("container install", True, False)


def test_no_previous_release_fails_the_check_in_one_line(tmp_path: Path) -> None:
    install = ContainerInstall()
    install.results["el7"] = ContainerReport(RELEASE.release_id, "el7", "podman", "centos:7", "x.rpm")
    why = "upgrade test (el7): the previous release's repository packages are not there: /x — fix: build it"

    def previous(dist: manifest.Dist) -> tuple[manifest.Release, list[Path]]:
        raise GateError(why)

    found = Upgrade(install, previous).run(_ctx(tmp_path))
    assert not found.passed and isinstance(found.failure, GateError) and found.note == why
    assert [(f.file, f.check, f.message, f.id) for f in found.errors] == [("el7", "upgrade", why, "upgrade.failed")]
    no_packages = CheckContext(release=RELEASE, dist=EL7, report_dir=tmp_path / "gates")
    found = Upgrade(install, lambda d: (PREVIOUS, [])).run(no_packages)
    assert found.errors[0].id == "upgrade.failed" and "among the repo packages — fix: run" in found.note
