"""The container install test's decisions, in a fake container: an engine that answers the
session's shell lines from a model of the image (an rpm database and the files under the
repositories' roots). What the metapackage brought at which version, what else came in (a
package shadowing a component fails; an OS package fails or, allowed, warns), the smoke commands,
the steps skipped after a failure, installed.json written only when every step passed, and the
check's findings (real podman: tests/integration/test_container.py)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.checks import CheckContext, ContainerInstall
from pmrepo.checks.container import ContainerError, ContainerReport, ContainerSettings, install, install_test
from pmrepo.checks.container.engine import Engine
from pmrepo.run import Result

RELEASE = manifest.load(DEMO)
EL7 = RELEASE.dists["el7"]
OWN = dict.fromkeys(RELEASE.repo_package_names(), f"{RELEASE.vr}{EL7.tag}")


class Box(Engine):
    """A container engine whose one container is a model of the image: ``exec`` shell lines are
    answered from its rpm database (``packages``) and files; ``answers`` overrides a line by prefix."""

    def __init__(self, release: manifest.Release = RELEASE, dist: manifest.Dist = EL7) -> None:
        super().__init__("podman", "/usr/bin/podman", {}, "4.3.1")
        self.release, self.dist = release, dist
        self.packages = {"bash": "4.2.46-34.el7"}  # the image's own
        self.stack = dict(release.shipped(dist))  # what `yum install <metapackage>` adds
        self.files: set[str] = set()
        self.answers: dict[str, tuple[int, str]] = {}
        self.calls: list[list[str]] = []
        self.scripts: list[str] = []

    def run(
        self,
        args: Sequence[str],
        log: Path | None,
        *,
        check: bool = True,
        input_text: str | None = None,
        timeout: float | None = None,
    ) -> Result:
        self.calls.append(list(args))
        if args[0] != "exec":  # ps, run -d, kill, rm
            return Result(list(args), 0, "", log)
        self.scripts.append(args[-1])
        code, out = self.sh(args[-1])
        return Result(list(args), code, out, log)

    def sh(self, script: str) -> tuple[int, str]:  # noqa: C901 — one answer per shell line of the session
        rel = self.release
        for prefix, answer in self.answers.items():
            if script.startswith(prefix):
                return answer
        words = shlex.split(script) if not script.startswith(("for ", "if ")) else []
        if script.startswith("rpm -qa"):
            return 0, "".join(f"{n}\t{vr}\n" for n, vr in sorted(self.packages.items()))
        if script.startswith("test -f /etc/yum.repos.d/CentOS-Base.repo"):
            return 3, ""  # no CentOS-Base.repo in this image
        if script.startswith(("rpm -ivh", "rpm -Uvh")):
            self.packages.update(OWN)
            self.files |= {r.prefix for r in rel.repositories} | {rel.parent_dir}
            return 0, ""
        if script.startswith("grep -qxF") or script.startswith("rpm -V"):
            return 0, ""
        if script.startswith("command -v yum"):
            return 0, "/usr/bin/yum\n"
        if "repolist enabled" in script:
            mark = re.search(r"echo (\S+) \$\?", script)
            assert mark is not None
            listing = "".join(f"Repo-id      : {r.repo_id}\nRepo-pkgs    : 2\n" for r in rel.repositories)
            return 0, listing + f"{mark[1]} 0\n" + "".join(f"{r.repo_id} 2\n" for r in rel.repositories)
        if words[:2] == ["yum", "-y"] and "install" in words:
            self.packages.update(self.stack)
            return 0, "Complete!\n"
        if words[:2] == ["yum", "-y"] and "erase" in words:
            for name in words[words.index("erase") + 1 :]:
                self.packages.pop(name, None)
            return 0, "Complete!\n"
        if script.startswith("rpm -e"):
            for name in words[2:]:
                self.packages.pop(name, None)
            self.files.clear()
            return 0, ""
        if script.startswith("if [ -e"):  # paths_under: what is left under the roots
            return 0, "".join(f"{f}\n" for f in sorted(self.files))
        if script.startswith("for f in"):  # .repo files left
            return 0, ""
        if script in {c.smoke for c in rel.components}:
            return 0, f"{words[0]} 1.0\n"
        raise AssertionError(f"the fake container has no answer to {script!r}")


def repo_rpms(tmp_path: Path) -> list[Path]:
    out = []
    for name in RELEASE.repo_rpm_names(EL7):
        (tmp_path / name).write_bytes(b"rpm")
        out.append(tmp_path / name)
    return out


def steps(report: ContainerReport) -> list[tuple[str, str]]:
    return [(s.name, s.status) for s in report.steps]


def run_test(tmp_path: Path, box: Box, **settings: object) -> ContainerReport:
    return install_test(
        RELEASE,
        EL7,
        repo_rpms(tmp_path)[0],  # the main one: its siblings are found beside it
        outdir=tmp_path / "out",
        report_dir=tmp_path / "reports",
        settings=ContainerSettings(containers_conf=None, **settings),  # type: ignore[arg-type]
        engine=box,
    )


def test_the_operators_install_and_erase_pass(tmp_path: Path) -> None:
    box = Box()
    report = run_test(tmp_path, box)
    assert steps(report) == [
        ("start container", "pass"),
        ("exclude in CentOS-Base.repo", "skip"),
        (f"rpm -ivh {' '.join(RELEASE.repo_rpm_names(EL7))}", "pass"),
        ("yum sees the repositories", "pass"),
        ("yum install demo-all", "pass"),
        ("packages at manifest versions", "pass"),
        ("nothing unexpected", "pass"),
        ("rpm -V", "pass"),
        ("smoke demod: demod --version", "pass"),
        ("smoke demo-tools: democtl --version", "pass"),
        ("yum erase stack", "pass"),
        ("rpm -e demo-repo demo-repo-debuginfo demo-repo-src", "pass"),
        ("nothing left", "pass"),
    ]
    assert report.ok and report.installed == RELEASE.shipped(EL7) and report.extras == {}
    record = json.loads((tmp_path / "out" / "installed.json").read_text())
    assert record["packages"] == RELEASE.shipped(EL7) and record["image"] == "centos:7"
    assert report.installed_json == tmp_path / "out" / "installed.json"
    assert (tmp_path / "reports" / "install-el7.junit.xml").is_file()
    assert (tmp_path / "reports" / "install-el7.table.txt").read_text().endswith(report.summary() + "\n")
    start = next(c for c in box.calls if c[:2] == ["run", "-d"])
    assert start[start.index("--network") + 1] == "none"
    mounts = [start[i + 1] for i, a in enumerate(start) if a == "-v"]
    assert mounts == sorted(f"{p.resolve()}:/tmp/pmrepo/{p.name}:ro" for p in repo_rpms(tmp_path))
    assert box.calls[-2:] == [
        ["kill", start[start.index("--name") + 1]],
        ["rm", "-f", start[start.index("--name") + 1]],
    ]
    assert "yum -y  install demo-all" in box.scripts
    verify = next(s for s in box.scripts if s.startswith("rpm -V"))
    assert set(verify.split()[2:]) == set(RELEASE.shipped(EL7)) | set(OWN)


def test_a_wrong_version_and_a_package_shadowing_a_component_fail(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "installed.json").write_text("{}")  # a stale one: removed
    box = Box()
    box.stack["libdemo"] = "1.1-1.el7"
    box.stack["demod-compat"] = "0.1-1.el7"  # matches demod*: an OS package in our name
    box.stack["zlib"] = "1.2.7-18.el7"
    del box.stack["demo-units"]
    report = run_test(tmp_path, box)
    assert not report.ok and not (tmp_path / "out" / "installed.json").exists()
    assert report.step("packages at manifest versions").detail == (
        "demo-units was not installed; libdemo is 1.1-1.el7, manifest says 1.2-1.el7"
    )
    assert report.step("nothing unexpected").status == "fail"
    assert report.step("nothing unexpected").detail == (
        "packages matching our components that the release does not ship: demod-compat-0.1-1.el7; "
        "other extras: zlib-1.2.7-18.el7"
    )
    assert report.extras == {"demod-compat": "0.1-1.el7", "zlib": "1.2.7-18.el7"}
    assert report.summary().startswith(
        "el7: install test failed at 'packages at manifest versions': demo-units was not installed; "
    ) and report.summary().endswith(f" (+1 more) (log: {tmp_path / 'reports' / 'install-el7.log'})")


@pytest.mark.parametrize(("allowed", "status"), [(False, "fail"), (True, "warn")])
def test_an_os_package_fails_unless_allowed(tmp_path: Path, allowed: bool, status: str) -> None:
    box = Box()
    box.stack["zlib"] = "1.2.7-18.el7"
    report = run_test(tmp_path, box, allow_os_extras=allowed)
    step = report.step("nothing unexpected")
    assert (step.status, step.detail) == (status, "not shipped by the release: zlib-1.2.7-18.el7")
    assert report.ok is allowed


def test_a_failed_install_skips_the_checks_and_names_yums_last_words(tmp_path: Path) -> None:
    box = Box()
    box.answers["yum -y  install"] = (1, "Resolving\nError: Package: demod requires libdemo.so.1\n")
    report = run_test(tmp_path, box)
    assert report.step("yum install demo-all").status == "fail"
    assert report.step("yum install demo-all").detail == "Resolving; Error: Package: demod requires libdemo.so.1"
    for name in ("packages at manifest versions", "nothing unexpected", "rpm -V", "smoke"):
        assert (report.step(name).status, report.step(name).detail) == ("skip", "the install step failed")
    assert report.step("yum erase stack").status == "skip"  # nothing was installed
    assert not report.ok


def test_a_smoke_command_that_fails_and_one_not_installed(tmp_path: Path) -> None:
    box = Box()
    box.answers["demod --version"] = (127, "sh: demod: command not found\n")
    del box.stack["demo-tools"]  # democtl's package not installed: its smoke skipped
    report = run_test(tmp_path, box)
    smoke = report.step("smoke demod: demod --version")
    assert (smoke.status, smoke.detail) == ("fail", "exit 127: sh: demod: command not found")
    tools = report.step("smoke demo-tools: democtl --version")
    assert (tools.status, tools.detail) == ("skip", "demo-tools is not installed by demo-all")


def test_rpm_verify_output_fails_the_step(tmp_path: Path) -> None:
    box = Box()
    box.answers["rpm -V"] = (1, "S.5....T.  c /etc/demod.conf\n")
    report = run_test(tmp_path, box)
    assert (report.step("rpm -V").status, report.step("rpm -V").detail) == ("fail", "S.5....T.  c /etc/demod.conf")


def test_an_image_without_yum_or_dnf(tmp_path: Path) -> None:
    box = Box()
    box.answers["command -v yum"] = (1, "")
    report = run_test(tmp_path, box)
    assert report.step("yum install demo-all").detail == "centos:7 has neither yum nor dnf"
    assert report.step(" sees the repositories").status == "skip"  # the tool's name is empty


# -- the check ------------------------------------------------------------------------------


def _ctx(tmp_path: Path, rpms: Sequence[Path]) -> CheckContext:
    return CheckContext(release=RELEASE, dist=EL7, report_dir=tmp_path / "gates", repo_rpms=tuple(rpms))


def test_the_check_passes_with_each_step_an_item(tmp_path: Path) -> None:
    check = ContainerInstall(ContainerSettings(containers_conf=None))
    check.engine = Box()
    found = check.run(_ctx(tmp_path, repo_rpms(tmp_path)))
    assert found.passed and found.note == "passed in centos:7 (podman): 9 packages installed, checked and erased"
    assert found.items[0] == "start container" and len(found.items) == 13
    assert [(f.file, f.id, f.severity.value) for f in found.findings] == [
        ("exclude in CentOS-Base.repo", "install.skipped", "I")
    ]
    assert check.results["el7"].ok and (tmp_path / "installed.json").is_file()  # beside the package: no output


def test_a_failed_step_is_an_error_naming_the_log(tmp_path: Path) -> None:
    box = Box()
    box.stack["zlib"] = "1.2.7-18.el7"
    check = ContainerInstall(ContainerSettings(containers_conf=None))
    check.engine = box
    found = check.run(_ctx(tmp_path, repo_rpms(tmp_path)))
    log = tmp_path / "gates" / "install-el7.log"
    assert [(f.file, f.check, f.message, f.id) for f in found.errors] == [
        ("nothing unexpected", "install test", f"not shipped by the release: zlib-1.2.7-18.el7 (log: {log})",
         "install.step")
    ]  # fmt: skip


def test_no_repository_package_among_the_rpms(tmp_path: Path) -> None:
    found = ContainerInstall().run(_ctx(tmp_path, []))
    assert [(f.file, f.message, f.id) for f in found.errors] == [
        (
            "demo-repo (el7)",
            "no repository package among the gate's RPMs — fix: build it first (build.py repo)",
            "install.repo-package",
        )
    ]


@pytest.mark.parametrize("required", [True, False])
def test_no_working_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, required: bool) -> None:
    def no_engine(choice: str, conf: Path | None, log: Path | None) -> Engine:
        raise ContainerError("no working container engine (podman: not installed) — fix: install podman")

    monkeypatch.setattr(install, "detect_engine", no_engine)
    found = ContainerInstall(require_engine=required).run(_ctx(tmp_path, repo_rpms(tmp_path)))
    name = RELEASE.repo_rpm_name(EL7)
    if required:
        assert not found.passed and [(f.file, f.id) for f in found.errors] == [(name, "install.engine")]
    else:
        assert found.passed and [(f.file, f.id) for f in found.warnings] == [(name, "install.engine")]
        assert found.note.startswith("install test not run: no working container engine") and found.items == [name]
