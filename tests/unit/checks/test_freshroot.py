"""The fresh-root install check's decisions, with rpm and dnf played by a fake host that keeps an
rpm database and a file tree in the root: what is installed at which version, what dnf sees of
each repository, what the erase leaves — each mismatch one line; no scriptlet ever runs (every
rpm and dnf call carries the switches); the dnf line with and without a mount namespace; the
report's note about the scriptlets not run; the fresh root named after this run, killed runs'
roots removed, and this run's removed whatever happens (real rpm and dnf:
tests/integration/test_gates.py and the demo build)."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.checks import CheckContext, FreshRootInstall, freshroot
from pmrepo.checks.freshroot import (
    DNF_NO_SCRIPTS,
    ROOT_PREFIX,
    RPM_NO_SCRIPTS,
    InstallReport,
    base_repo_args,
    check,
    new_root,
    scriptlet_note,
)
from pmrepo.errors import InstallCheckError, PmrepoError
from pmrepo.owner import Owner
from pmrepo.run import Result

RELEASE = manifest.load(DEMO)
EL7 = RELEASE.dists["el7"]
OWN = dict.fromkeys(RELEASE.repo_package_names(), f"{RELEASE.vr}{EL7.tag}")


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The check's roots go to this test's own temporary directory."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


class FakeHost:
    """rpm and dnf as the check runs them, on a root: the repository packages install their
    .repo files and trees, ``dnf install`` puts ``self.stack`` there, erase takes it away."""

    def __init__(self) -> None:
        self.stack = dict(RELEASE.shipped(EL7))  # what `dnf install <metapackage>` installs
        self.tree = {r.repo_id: [f"{r.package}-payload-1-1.noarch"] for r in RELEASE.repositories}
        self.seen_missing: set[str] = set()  # RPMs dnf does not list
        self.scripts = "demod %post %preun\nlibdemo\nlibdemo-devel\n"
        self.repo_section = True  # the .repo files carry their section
        self.leave = ""  # a path under the parent directory the erase leaves
        self.installed: dict[str, str] = {}
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], *, log_file: Path | None = None, error: type[PmrepoError]) -> Result:
        args = [str(a) for a in argv]
        self.calls.append(args)
        assert error is InstallCheckError
        out = self.dnf(args[args.index("dnf") :]) if "dnf" in args else self.rpm(args)
        return Result(args, 0, out, log_file)

    def rpm(self, args: list[str]) -> str:
        assert args[:2] == ["rpm", "--root"]
        root, verb = Path(args[2]), args[3]
        if verb == "-i":
            for repo in RELEASE.repositories:
                repo_file = root / "etc/yum.repos.d" / repo.repo_file
                repo_file.parent.mkdir(parents=True, exist_ok=True)
                repo_file.write_text(f"[{repo.repo_id}]\n" if self.repo_section else "[other]\n")
                rpms = root / repo.rpm_dir.lstrip("/")
                rpms.mkdir(parents=True)
                for name in self.tree[repo.repo_id]:
                    (rpms / f"{name}.rpm").write_bytes(b"rpm")
            self.installed.update(OWN)
        elif verb == "-e":
            for name in args[6:]:
                self.installed.pop(name)
            shutil.rmtree(root / RELEASE.parent_dir.lstrip("/"))
            for repo in RELEASE.repositories:
                (root / "etc/yum.repos.d" / repo.repo_file).unlink()
            if self.leave:
                (root / self.leave.lstrip("/")).parent.mkdir(parents=True)
                (root / self.leave.lstrip("/")).write_text("left")
        elif verb == "-qa" and args[5].startswith("%{NAME} %{VERSION}"):
            return "".join(f"{n} {vr}\n" for n, vr in self.installed.items())
        elif verb == "-qa":
            return self.scripts
        return ""

    def dnf(self, args: list[str]) -> str:
        if "repoquery" in args:
            repo = next(a.removeprefix("--repo=") for a in args if a.startswith("--repo="))
            seen = [n for n in self.tree[repo] if n not in self.seen_missing]
            return "Last metadata expiration check: now\n" + "".join(f"{n}\n" for n in seen)
        if "install" in args:
            self.installed.update(self.stack)
        if "remove" in args:
            for name in args[args.index("remove") + 1 :]:
                if not name.startswith("-"):  # the baseurl redirects follow the names
                    self.installed.pop(name)
        return ""


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> FakeHost:
    fake = FakeHost()
    monkeypatch.setattr(freshroot, "run", fake)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # no mount namespace: the baseurls redirected
    return fake


def repo_rpms(tmp_path: Path) -> list[Path]:
    return [tmp_path / n for n in RELEASE.repo_rpm_names(EL7)]


def test_install_verify_and_erase_without_a_scriptlet(host: FakeHost, tmp_path: Path, private_tmp: Path) -> None:
    report = check(RELEASE, EL7, repo_rpms(tmp_path), tmp_path / "install.log")
    assert report == InstallReport(
        "el7",
        dict(RELEASE.shipped(EL7)) | OWN,
        {},
        "baseurl redirected into the root (no mount namespace available)",
        {"demod": ["%post", "%preun"]},
    )
    rpm_changes = [c for c in host.calls if c[0] == "rpm" and c[3] in ("-i", "-e")]
    assert [c[3] for c in rpm_changes] == ["-i", "-e"]
    assert all(c[4:6] == list(RPM_NO_SCRIPTS) for c in rpm_changes)  # no package code runs on the host
    dnfs = [c for c in host.calls if c[0] == "dnf"]
    assert len(dnfs) == 5 and all(DNF_NO_SCRIPTS in c for c in dnfs)  # 3 repoqueries, install, remove
    assert dnfs[3][-4:-3] == ["demo-all"]  # `dnf install <metapackage>`, then the redirects
    root = Path(rpm_changes[0][2])
    redirects = [a for a in dnfs[3] if ".baseurl=" in a]
    assert redirects == [f"--setopt={r.repo_id}.baseurl=file://{root}{r.prefix}/" for r in RELEASE.repositories]
    assert sorted(dnfs[4][dnfs[4].index("remove") + 1 : dnfs[4].index(redirects[0])]) == sorted(RELEASE.shipped(EL7))
    assert not root.exists() and list(private_tmp.iterdir()) == []  # the root is removed
    assert root.name.startswith(f"{ROOT_PREFIX}el7-{Owner.me().tag()}-")


def test_dnf_runs_in_a_private_mount_namespace_when_it_can(
    host: FakeHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    report = check(RELEASE, EL7, repo_rpms(tmp_path), tmp_path / "install.log")
    assert report.method == "private mount namespace, .repo files unchanged"
    wrapped = [c for c in host.calls if c[0] == "unshare"]
    assert len(wrapped) == 5 and not [c for c in host.calls if c[0] == "dnf"]
    first = wrapped[0]
    assert first[:5] == ["unshare", "--mount", "--propagation", "private", "sh"]
    root = first[first.index("dnf") :][2].removeprefix("--installroot=")
    assert first[6] == (
        f"set -e; mount -t tmpfs pmrepo /opt; mkdir -p /opt/pmrepo-demo; mount --bind {root}/opt/pmrepo-demo "
        '/opt/pmrepo-demo; exec "$@"'
    )
    assert not [a for c in wrapped for a in c if ".baseurl=" in a]  # the .repo files used unchanged


def test_no_mount_over_a_system_directory(host: FakeHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    under_usr = dataclasses.replace(RELEASE, parent_dir="/usr/pmrepo-demo")
    report = check(under_usr, EL7, repo_rpms(tmp_path), tmp_path / "install.log")
    assert report.method.startswith("baseurl redirected") and not [c for c in host.calls if c[0] == "unshare"]


def test_base_repositories_supply_the_os_and_never_a_component(host: FakeHost, tmp_path: Path) -> None:
    based = dataclasses.replace(EL7, base_repos={"updates": "http://m/u/", "base": "http://m/b/"})
    excludes = "libdemo*,demod*,demo-plugin*,demo-tools*,demo-units*,demo-extras*"
    assert base_repo_args(RELEASE, based) == [
        "--repofrompath=pmrepo-base-base,http://m/b/",
        f"--setopt=pmrepo-base-base.excludepkgs={excludes}",
        "--repofrompath=pmrepo-base-updates,http://m/u/",
        f"--setopt=pmrepo-base-updates.excludepkgs={excludes}",
    ]
    assert base_repo_args(RELEASE, EL7) == []
    host.stack["bash"] = "4.2.46-34.el7"
    report = check(RELEASE, based, repo_rpms(tmp_path), tmp_path / "install.log")
    assert report.os_packages == {"bash": "4.2.46-34.el7"} and "bash" not in report.installed
    assert all(a in c for c in host.calls if c[0] == "dnf" for a in base_repo_args(RELEASE, based))


def _fails(tmp_path: Path) -> str:
    with pytest.raises(InstallCheckError) as err:
        check(RELEASE, EL7, repo_rpms(tmp_path), tmp_path / "install.log")
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_repo_package_without_its_section(host: FakeHost, tmp_path: Path, private_tmp: Path) -> None:
    host.repo_section = False
    assert _fails(tmp_path) == "demo-repo: did not install /etc/yum.repos.d/pmrepo-demo.repo with [pmrepo-demo]"
    assert list(private_tmp.iterdir()) == []  # the root is removed on failure too


def test_dnf_must_see_every_package_of_a_tree(host: FakeHost, tmp_path: Path) -> None:
    host.tree["pmrepo-demo"].append("extra-1-1.noarch")
    host.seen_missing.add("extra-1-1.noarch")
    assert _fails(tmp_path) == (
        "el7: dnf sees 1 packages in [pmrepo-demo], its tree /opt/pmrepo-demo/demo/rpm holds 2 "
        f"(missing: extra-1-1.noarch) (log: {tmp_path / 'install.log'})"
    )


def test_versions_unexpected_and_missing_packages_are_named(host: FakeHost, tmp_path: Path) -> None:
    host.stack["libdemo"] = "1.1-1.el7"
    host.stack["bash"] = "4.2.46-34.el7"
    del host.stack["demod"]
    msg = _fails(tmp_path)
    assert msg.startswith("el7: install of demo-all: ") and msg.endswith(f" (log: {tmp_path / 'install.log'})")
    problems = msg.removeprefix("el7: install of demo-all: ").rsplit(" (log: ", 1)[0].split("; ")
    assert sorted(problems) == [
        "demod was not installed",
        "libdemo is 1.1-1.el7, manifest says 1.2-1.el7",
        "unexpected package bash-4.2.46-34.el7 (no base_repos for el7)",
    ]


def test_what_the_erase_leaves_behind(host: FakeHost, tmp_path: Path) -> None:
    host.leave = f"{RELEASE.parent_dir}/demo/stray.conf"
    assert _fails(tmp_path) == (
        "el7: after erase, left behind: /opt/pmrepo-demo/demo, /opt/pmrepo-demo/demo/stray.conf"
    )


def test_the_note_names_the_scriptlets_not_run() -> None:
    assert scriptlet_note({}) == "no package has scriptlets"
    assert scriptlet_note({"demod": ["%post", "%preun"], "a": ["%pre"]}) == (
        "scriptlets not run on the host (--noscripts --notriggers): a (%pre), demod (%post %preun); "
        "the container install test runs them"
    )
    many = {f"p{i}": ["%post"] for i in range(7)}
    assert scriptlet_note(many).startswith(
        "scriptlets not run on the host (--noscripts --notriggers): p0 (%post), p1 (%post), p2 (%post), "
        "p3 (%post), p4 (%post) and 2 more; "
    )
    assert " and " not in scriptlet_note({f"p{i}": ["%post"] for i in range(5)})


def test_the_scriptlet_query_asks_for_every_kind_of_scriptlet_and_trigger(host: FakeHost, tmp_path: Path) -> None:
    check(RELEASE, EL7, repo_rpms(tmp_path), tmp_path / "install.log")
    qf = next(c[5] for c in host.calls if c[3] == "-qa" and not c[5].startswith("%{NAME} %{VERSION}"))
    kinds = re.findall(r"%\|([A-Z]+)\?\{ (%%[a-z]+)\}\|", qf)
    assert [k for k, _ in kinds] == [
        "PRETRANSPROG", "PREINPROG", "POSTINPROG", "PREUNPROG", "POSTUNPROG", "POSTTRANSPROG",
        "TRIGGERSCRIPTPROG", "FILETRIGGERSCRIPTPROG", "TRANSFILETRIGGERSCRIPTPROG",
    ]  # fmt: skip
    assert qf.startswith("%{NAME}") and qf.endswith("\\n")


def test_a_new_root_is_named_after_this_run_and_killed_runs_roots_go(private_tmp: Path) -> None:
    me = Owner.me()
    dead = dataclasses.replace(me, start=me.start + 1)  # this pid with another start time: gone
    stale = private_tmp / f"{ROOT_PREFIX}el7-{dead.tag()}-abcd1234"
    (stale / "var").mkdir(parents=True)
    alive = private_tmp / f"{ROOT_PREFIX}el6-{me.tag()}-efgh5678"  # this run's own: kept
    alive.mkdir()
    other = private_tmp / f"{ROOT_PREFIX}el7-no-owner-recorded"
    other.mkdir()
    said: list[str] = []
    root = new_root("el7", said.append)
    assert root.parent == private_tmp and root.is_dir() and list(root.iterdir()) == []
    assert root.name.startswith(f"{ROOT_PREFIX}el7-{me.tag()}-")
    assert not stale.exists() and alive.is_dir() and other.is_dir()
    assert said == [f"removed {stale}, left by a run that no longer exists (pid {me.pid})"]
    assert oct(root.stat().st_mode & 0o777) == "0o700"  # mkdtemp's: private


# -- the check of one dist ------------------------------------------------------------------


def _ctx(tmp_path: Path, rpms: list[Path]) -> CheckContext:
    return CheckContext(release=RELEASE, dist=EL7, report_dir=tmp_path / "gates", repo_rpms=tuple(rpms))


def test_the_check_reports_what_it_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    got: list[tuple[list[Path], Path]] = []

    def fake_check(rel: manifest.Release, dist: manifest.Dist, rpms: list[Path], log: Path) -> InstallReport:
        got.append((rpms, log))
        return InstallReport("el7", {"demod": "1.0-3.el7", "libdemo": "1.2-1.el7"}, {"bash": "4.2"}, "m", {})

    monkeypatch.setattr(freshroot, "check", fake_check)
    rpms = repo_rpms(tmp_path)
    found = FreshRootInstall().run(_ctx(tmp_path, rpms[::-1]))  # in any order: main, -debuginfo, -src
    assert got == [(rpms, tmp_path / "gates" / "logs" / "installcheck.log")]
    assert found.passed and found.findings == []
    assert found.note == (
        "3 repositories seen; installed and erased 2 packages + 1 from base repositories (m); no package has scriptlets"
    )
    assert (tmp_path / "gates" / "fresh-root-install-el7.txt").read_text() == (
        f"fresh-root install (el7): PASSED — {found.note}\n\n[ok] demod-1.0-3.el7\n[ok] libdemo-1.2-1.el7\n"
    )
    assert found.path == tmp_path / "gates" / "fresh-root-install-el7.txt"


def test_a_failed_install_is_one_finding_and_the_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_check(rel: manifest.Release, dist: manifest.Dist, rpms: list[Path], log: Path) -> InstallReport:
        raise InstallCheckError("el7: install of demo-all: demod was not installed")

    monkeypatch.setattr(freshroot, "check", fake_check)
    found = FreshRootInstall().run(_ctx(tmp_path, repo_rpms(tmp_path)))
    assert not found.passed and isinstance(found.failure, InstallCheckError)
    assert [(f.file, f.check, f.id) for f in found.errors] == [
        ("el7", "fresh-root install", "fresh-root-install.failed")
    ]
    assert found.note == "el7: install of demo-all: demod was not installed"
    assert (tmp_path / "gates" / "fresh-root-install-el7.txt").read_text() == (
        "fresh-root install (el7): FAILED — el7: install of demo-all: demod was not installed\n"
    )


def test_missing_repo_packages_fail_the_check_with_the_fix(tmp_path: Path) -> None:
    found = FreshRootInstall().run(_ctx(tmp_path, repo_rpms(tmp_path)[:1]))
    assert not found.passed and found.errors[0].id == "fresh-root-install.failed"
    assert found.note == (
        f"{tmp_path / 'gates'}: no demo-repo-debuginfo-1.0-1.el7.x86_64.rpm, demo-repo-src-1.0-1.el7.x86_64.rpm "
        f"among the repo packages — fix: run `./build.py all --release {RELEASE.path}` first"
    )


def test_the_check_is_required_and_recorded_as_its_own() -> None:
    assert (FreshRootInstall.id, FreshRootInstall.record, FreshRootInstall.required) == (
        "fresh-root-install",
        "fresh-root install",
        True,
    )
    ctx = CheckContext(release=RELEASE, dist=EL7)
    assert FreshRootInstall().label(ctx) == "el7: fresh-root install check"
