"""The container install test (issue 4.4) and what it records (4.5).

The fast tests check the pieces that need no container (exclude lines, the
expected package set, the reports). The container tests run the operator's
steps for real with podman (or docker) in the locally built Debian-based test
image, on the demo release as the pipeline built it,
and once on a deliberately mismatched manifest that must fail for the stated
reasons. The demo is built here (not with conftest's demo_build) with the
container install test as the pipeline's check and the other gates off, so
this file tests this gate alone.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import predecessor
import pytest
from conftest import DEMO, DemoBuild

from pmrepo import manifest
from pmrepo.assemble import repopkg
from pmrepo.checks import CheckContext, ContainerInstall, run_checks
from pmrepo.checks.container import (
    FAIL,
    PASS,
    SKIP,
    ContainerError,
    ContainerReport,
    ContainerSettings,
    Engine,
    Step,
    add_excludes,
    detect_engine,
    install_test,
    upgrade_test,
)
from pmrepo.checks.container.image import ImageInfo, ImageRecipe, ensure_image
from pmrepo.checks.previous import previous_repo_packages
from pmrepo.errors import GateError
from pmrepo.layout import Layout, Output
from pmrepo.pipeline.orchestrator import Options, Pipeline

EXPECTED = {
    "el7": {"demo-all": "1.0-1.el7", "libdemo": "1.2-1.el7", "demod": "1.0-3.el7", "demo-plugin": "0.5-1.el7",
            "demo-tools": "2.0-1.el7", "demo-units": "1.0-1.el7"},
    "el6": {"demo-all": "1.0-1.el6", "libdemo": "1.2-1.el6", "demod": "1.0-3.el6", "demo-plugin": "0.5-1.el6",
            "demo-tools": "2.0-1.el6"},
}


@pytest.fixture(scope="module")
def demo() -> manifest.Release:
    return manifest.load(DEMO)


# -- no container needed ---------------------------------------------------------------


def test_exclude_patterns_come_from_the_components(demo: manifest.Release) -> None:
    assert demo.exclude_patterns("el7") == ["libdemo*", "demod*", "demo-plugin*", "demo-tools*", "demo-units*",
                                             "demo-extras*"]
    assert "demo-units*" not in demo.exclude_patterns("el6")  # el7-only component
    # a component already covered by a shorter name's pattern adds nothing
    comps = list(demo.components)
    comps[3] = replace(comps[3], name="demod-tools")
    assert replace(demo, components=tuple(comps)).exclude_patterns("el7") == [
        "libdemo*", "demod*", "demo-plugin*", "demo-units*", "demo-extras*"]


def test_add_excludes_edits_base_and_updates_only() -> None:
    text = ("[base]\nname=CentOS-$releasever - Base\nbaseurl=http://mirror/os/\n\n"
            "[updates]\nname=Updates\nexclude=kernel* pacemaker*\n\n"
            "[extras]\nname=Extras\n")
    pats = ["pacemaker*", "corosync*"]
    new, found = add_excludes(text, pats)
    assert found == ["base", "updates"]
    assert new.splitlines()[:2] == ["[base]", "exclude=pacemaker* corosync*"]
    assert "exclude=kernel* pacemaker* corosync*" in new.splitlines()  # extended, nothing twice
    extras = new.split("[extras]")[1]
    assert "exclude" not in extras
    assert add_excludes(new, pats) == (new, found)  # idempotent
    _, found = add_excludes("[base]\nname=x\n", pats)
    assert found == ["base"]  # the caller reports the missing [updates]


def test_expected_packages_per_dist(demo: manifest.Release) -> None:
    el7, el6 = demo.dists["el7"], demo.dists["el6"]
    assert [demo.metapackage, *demo.required_mains(el7)] == ["demo-all", "libdemo", "demod", "demo-plugin",
                                                             "demo-tools",
                                            "demo-units"]
    assert [demo.metapackage, *demo.required_mains(el6)] == ["demo-all", "libdemo", "demod", "demo-plugin",
                                                             "demo-tools"]
    ours = demo.shipped(el7)
    assert ours["libdemo-devel"] == "1.2-1.el7" and ours["demo-all"] == "1.0-1.el7"
    assert "demo-extras" in ours and "demo-units" not in demo.shipped(el6)


def test_no_engine_is_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ContainerError) as exc:
        detect_engine("auto")
    msg = str(exc.value)
    assert "podman: not installed" in msg and "docker: not installed" in msg and "\n" not in msg
    with pytest.raises(ContainerError, match="not supported"):
        detect_engine("lxc")


def test_gate_without_engine(demo: manifest.Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No engine: the gate fails with the reason, or (require_engine=False) passes with a warning."""
    dist = demo.dists["el7"]
    ctx = CheckContext(release=demo, dist=dist, report_dir=tmp_path,
                       rpms=(tmp_path / "demo-repo-1.0-1.el7.x86_64.rpm",))
    monkeypatch.setenv("PATH", str(tmp_path))
    strict = ContainerInstall().run(ctx)
    assert not strict.passed and "no working container engine" in strict.error_message()
    lenient = ContainerInstall(require_engine=False).run(ctx)
    assert lenient.passed and "install test not run" in lenient.warnings[0].message
    missing = ContainerInstall().run(replace(ctx, rpms=()))
    assert not missing.passed and "no repository package" in missing.error_message()


def test_report_table_and_junit(tmp_path: Path) -> None:
    rep = ContainerReport("demo-repo-1.0-1", "el7", "podman", "img", "demo-repo.rpm", seconds=3.0, steps=[
        Step("start container", PASS, "img"), Step("rpm -V", FAIL, "S.5....T.  /usr/sbin/demod"),
        Step("smoke x", SKIP, "not installed")])
    assert not rep.ok
    assert "install test failed at 'rpm -V'" in rep.summary()
    lines = rep.table().splitlines()
    assert lines[0].split() == ["step", "status", "time", "detail"] and "FAIL" in lines[3]
    path = tmp_path / "j.xml"
    rep.to_junit().write(path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")


# -- in containers, for real ---------------------------------------------------------------


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    try:
        return detect_engine("auto", log=tmp_path_factory.mktemp("engine") / "engine.log")
    except ContainerError as exc:
        pytest.skip(f"no container engine works here, so the install test cannot run "
                    f"(the pipeline's fresh-root install check still covers the install): {exc}")


@pytest.fixture(scope="session")
def test_image(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> ImageInfo:
    """The Debian-based test image: built once (about 2-3 minutes), then reused."""
    if os.geteuid() != 0:
        pytest.skip("building the test image needs root (debootstrap, chroot)")
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (`./build.py setup` installs it): cannot build the test image")
    info = ensure_image(engine, log_dir=tmp_path_factory.mktemp("image"), say=print)
    print(f"test image {info.ref}: {'built' if info.built else 'reused'} in {info.seconds:.1f}s {info.phases}")
    return info


def test_image_is_cached_and_labelled(engine: Engine, test_image: ImageInfo, tmp_path: Path) -> None:
    t0 = time.monotonic()
    again = ensure_image(engine, log_dir=tmp_path)
    assert not again.built and time.monotonic() - t0 < 30
    assert again.digest == ImageRecipe().digest() == test_image.digest
    labels = engine.image_labels(test_image.ref)
    assert labels is not None and labels["pmrepo.recipe"] == test_image.digest
    if test_image.built:
        assert set(test_image.phases) == {"debootstrap", "configure", "import"}


def test_install_and_uninstall_el7(container_build: DemoBuild, engine: Engine, test_image: ImageInfo,
                                   tmp_path: Path) -> None:
    rel, dist = container_build.release, container_build.release.dists["el7"]
    outdir = container_build.outputs["el7"]  # installed.json goes beside the repo packages
    rep = install_test(rel, dist, container_build.repo_rpm("el7"), outdir=outdir, report_dir=tmp_path,
                       settings=ContainerSettings(image=test_image.ref), engine=engine)
    assert rep.ok, rep.table()
    names = [s.name for s in rep.steps]
    assert names == ["start container", "exclude in CentOS-Base.repo", "rpm -ivh demo-repo-1.0-1.el7.x86_64.rpm "
                     "demo-repo-debuginfo-1.0-1.el7.x86_64.rpm demo-repo-src-1.0-1.el7.x86_64.rpm",
                     "dnf sees the repositories", "dnf install demo-all", "packages at manifest versions",
                     "nothing unexpected", "rpm -V",
                     "smoke demod: demod --version", "smoke demo-tools: democtl --version", "dnf erase stack",
                     "rpm -e demo-repo demo-repo-debuginfo demo-repo-src", "nothing left"]
    assert all(s.status == PASS for s in rep.steps), rep.table()
    assert rep.step("exclude in CentOS-Base.repo").detail == (
        "exclude=libdemo* demod* demo-plugin* demo-tools* demo-units* demo-extras* in [base], [updates]")
    assert rep.step("smoke demod: demod --version").detail == "demod 1.0 (libdemo 1.2)"
    assert rep.installed == EXPECTED["el7"] and rep.extras == {}
    data = json.loads((outdir / "installed.json").read_text())
    assert data["dist"] == "el7" and data["packages"] == EXPECTED["el7"]
    assert rep.junit is not None
    suite = ET.parse(rep.junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == str(len(names)) and suite.get("failures") == "0"
    assert "dnf install demo-all" in (tmp_path / "install-el7.table.txt").read_text()
    assert rep.step("nothing left").detail == ("no package of ours, nothing under /opt/pmrepo-demo, "
                                                "no .repo file of ours")
    # three repositories, each with every package of its tree
    assert rep.step("dnf sees the repositories").detail == (
        "[pmrepo-demo] 9, [pmrepo-demo-debuginfo] 3, [pmrepo-demo-src] 6")
    log = (tmp_path / "install-el7.log").read_text()
    assert "rpm -ivh /tmp/pmrepo/demo-repo-1.0-1.el7.x86_64.rpm" in log and "--network none" in log


KILLED_INSTALL_TEST = """
import sys
from pathlib import Path
from pmrepo.checks.container import session
start = session.Session.start
def announce(self):
    print(self.name, flush=True)
    return start(self)
session.Session.start = announce
from pmrepo import manifest
from pmrepo.checks.container import ContainerSettings, install_test
rel = manifest.load(sys.argv[1])
install_test(rel, rel.dists["el7"], Path(sys.argv[2]), outdir=Path(sys.argv[3]), report_dir=Path(sys.argv[3]),
             settings=ContainerSettings(image=sys.argv[4]))
"""


def test_killed_install_test_leaves_a_container_the_next_run_removes(
        container_build: DemoBuild, engine: Engine, test_image: ImageInfo, tmp_path: Path) -> None:
    """kill -9 during the container check (issue 25 item 7): its container keeps running (tail -f);
    the next install test removes it, as its owner is dead, and leaves none of its own."""
    import re
    import signal
    import subprocess
    import sys

    rpm = container_build.repo_rpm("el7")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_INSTALL_TEST, str(DEMO), str(rpm), str(tmp_path / "killed"),
                             test_image.ref], stdout=subprocess.PIPE, text=True, start_new_session=True,
                            env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    assert proc.stdout is not None
    name = proc.stdout.readline().strip()

    def running() -> bool:
        res = engine.run(["inspect", "--format", "{{.State.Running}}", name], None, check=False, timeout=60)
        return res.returncode == 0 and res.output.strip().splitlines()[-1:] == ["true"]
    try:
        deadline = time.monotonic() + 300
        while not running():
            assert proc.poll() is None and time.monotonic() < deadline, "the install test ended before it was killed"
            time.sleep(0.2)
        time.sleep(1)  # into its steps
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    try:
        assert name.startswith("pmrepo-install-el7-") and running()  # what a killed run leaves
        lines: list[str] = []
        rep = install_test(container_build.release, container_build.release.dists["el7"], rpm, outdir=tmp_path / "o",
                           report_dir=tmp_path / "again", settings=ContainerSettings(image=test_image.ref),
                           engine=engine, say=lines.append)
        assert rep.ok, rep.table()
        gone = engine.run(["inspect", "--format", "{{.Name}}", name], None, check=False, timeout=60)
        assert gone.returncode != 0, f"{name} of the killed run is still there"
        assert f"removed container {name}, left by a run that no longer exists (pid {proc.pid})" in lines
        [own] = re.findall(r"--name (pmrepo-install-el7-[0-9a-f]+)", rep.log.read_text() if rep.log else "")
        assert engine.run(["inspect", own], None, check=False, timeout=60).returncode != 0  # the rerun's: gone too
    finally:
        engine.run(["rm", "-f", name], None, check=False, timeout=300)


@pytest.fixture(scope="module")
def container_build(test_image: ImageInfo, previous_build: DemoBuild,
                    tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The demo release through the real pipeline, the container install test (and the
    upgrade test from the previous release's packages) as its check."""
    base = tmp_path_factory.mktemp("demo-container")
    lines: list[str] = []
    opts = Options(release=DEMO, workdir=base / "work", outdir=base / "repo", gates=False,
                   container="auto", container_image="local", upgrade_from=previous_build.outdir)
    outputs = Pipeline(opts, say=lines.append).run_all()
    return DemoBuild(manifest.load(DEMO), opts.workdir, opts.outdir, outputs, lines)


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_pipeline_runs_the_install_test(container_build: DemoBuild, test_image: ImageInfo, dist: str) -> None:
    out = container_build.outputs[dist]
    data = json.loads((out / "installed.json").read_text())
    assert data["dist"] == dist and data["packages"] == EXPECTED[dist]  # no demo-units on el6
    assert data["image"] == test_image.ref
    note = json.loads((out / "build.json").read_text())["checks"]["container install"]
    assert note.startswith(f"passed in {test_image.ref}") and f"{len(EXPECTED[dist])} packages" in note
    suite = ET.parse(out / "gates" / f"install-{dist}.junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests") or 0) >= 11
    assert "[ok] nothing left" in (out / "gates" / f"install-{dist}.txt").read_text()
    assert "packages at manifest versions" in (out / "gates" / f"install-{dist}.table.txt").read_text()
    # and the upgrade in place from release-0.9's packages
    assert f"; upgrade from demo-repo-0.9-1 passed ({len(EXPECTED[dist])} packages at the new versions)" in note
    suite = ET.parse(out / "gates" / f"upgrade-{dist}.junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0" and int(suite.get("tests") or 0) == len(UPGRADE_STEPS)


def test_upgrade_needs_the_previous_packages(demo: manifest.Release, tmp_path: Path) -> None:
    """--upgrade-from pointing where the previous release was not built: one line naming the files and the fix."""
    with pytest.raises(GateError) as exc:
        previous_repo_packages(demo, demo.dists["el7"], tmp_path)
    msg = str(exc.value)
    assert "\n" not in msg and f"{tmp_path}/demo-repo-0.9-1/el7/demo-repo-0.9-1.el7.x86_64.rpm" in msg
    assert "fix: build release-0.9.toml" in msg
    with pytest.raises(GateError, match=r"release\.follows is not set"):
        previous_repo_packages(replace(demo, follows=None), demo.dists["el7"], tmp_path)


def test_mismatched_manifest_fails_for_the_stated_reasons(container_build: DemoBuild, engine: Engine,
                                                          test_image: ImageInfo, tmp_path: Path) -> None:
    """The same real repo package against a manifest that says otherwise: a wrong
    version, a package the release does not ship, a failing smoke command and a
    file left under the prefix must each fail their step."""
    rel = container_build.release
    comps = []
    for c in rel.components:
        if c.name == "libdemo":
            c = replace(c, version="1.3")
        elif c.name == "demod":
            c = replace(c, smoke="demod --version && exit 3")
        elif c.name == "demo-tools":
            prefix = rel.repo("main").prefix
            c = replace(c, smoke=f"mkdir -p {prefix}/state && touch {prefix}/state/stray")
        elif c.name == "demo-units":
            continue
        comps.append(c)
    wrong = replace(rel, components=tuple(comps))
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "installed.json").write_text("{}")  # stale: must not survive a failed test
    rep = install_test(wrong, wrong.dists["el7"], container_build.repo_rpm("el7"), outdir=outdir,
                       report_dir=tmp_path / "report", settings=ContainerSettings(image=test_image.ref), engine=engine)
    assert not rep.ok
    failed = {s.name: s.detail for s in rep.steps if s.status == FAIL}
    assert set(failed) == {"packages at manifest versions", "nothing unexpected",
                           "smoke demod: demod --version && exit 3", "nothing left"}, rep.table()
    assert "libdemo is 1.2-1.el7, manifest says 1.3-1.el7" in failed["packages at manifest versions"]
    assert "demo-units-1.0-1.el7" in failed["nothing unexpected"]
    assert failed["smoke demod: demod --version && exit 3"].startswith("exit 3")
    assert f"{rel.repo('main').prefix}/state/stray" in failed["nothing left"]
    assert rep.step("dnf erase stack").status == PASS  # the uninstall still ran
    assert not (outdir / "installed.json").exists()
    assert "install test failed at 'packages at manifest versions'" in rep.summary()
    assert rep.junit is not None
    junit = ET.parse(rep.junit).getroot().find("testsuite")
    assert junit is not None and junit.get("failures") == "4"


def test_failed_check_raises_one_line_and_records_nothing(container_build: DemoBuild, test_image: ImageInfo,
                                                          tmp_path: Path) -> None:
    """As the pipeline's check: a failing install raises GateError (the dist is not
    published), the reports still land in the staging directory, installed.json does not."""
    rel, dist = container_build.release, container_build.release.dists["el7"]
    check = ContainerInstall(ContainerSettings(image=test_image.ref, pm_options=("--no-such-option",)))
    staging = tmp_path / "staging"
    staging.mkdir()
    where = Layout(rel.release_id, tmp_path / "out", tmp_path / "work").dist("el7")
    found = run_checks([check], CheckContext(rel, dist, where, [container_build.repo_rpm("el7")], Output(staging)))
    with pytest.raises(GateError) as exc:
        found.raise_for_failure()
    msg = str(exc.value)
    # the options reach every dnf call (--container-pm-opt), so the repository listing is the first to fail
    assert "\n" not in msg and msg.startswith("install gate failed for el7: dnf sees the repositories: ")
    assert "dnf repolist exit 2: " in msg
    assert "--no-such-option" in msg or "no such option" in msg.lower()
    assert not (staging / "installed.json").exists()
    assert (staging / "gates" / "install-el7.junit.xml").is_file()


# -- upgrade in place ---------------------------------------------------------------------------

DEMO_PREVIOUS = DEMO.parent / "release-0.9.toml"
UPGRADE_STEPS = ["start container", "exclude in CentOS-Base.repo", "rpm -ivh {old}", "dnf install demo-all (previous)",
                 "edit /etc/yum.repos.d/{edited} locally", "rpm -Uvh {new}", "dnf clean all; dnf update",
                 "new versions installed", ".repo files", "dnf sees the repositories", "rpm -V",
                 "nothing of the old repositories left", "dnf erase stack",
                 "rpm -e demo-repo demo-repo-debuginfo demo-repo-src", "nothing left"]


def _names(rpms: list[Path]) -> str:
    return " ".join(p.name for p in rpms)


@pytest.fixture(scope="module")
def previous_build(test_image: ImageInfo, tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The demo's previous release (release-0.9.toml, the one release.toml follows), built for real."""
    base = tmp_path_factory.mktemp("demo-0.9")
    lines: list[str] = []
    opts = Options(release=DEMO_PREVIOUS, workdir=base / "work", outdir=base / "repo", gates=False, install_check=False)
    outputs = Pipeline(opts, say=lines.append).run_all()
    return DemoBuild(manifest.load(DEMO_PREVIOUS), opts.workdir, opts.outdir, outputs, lines)


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_upgrade_from_the_previous_release(container_build: DemoBuild, previous_build: DemoBuild, engine: Engine,
                                           test_image: ImageInfo, tmp_path: Path, dist: str) -> None:
    """0.9 installed and in use (its debuginfo .repo edited locally), then rpm -Uvh 1.0 and yum update."""
    old, new = previous_build.release, container_build.release
    assert manifest.load(DEMO).follows_path() == DEMO_PREVIOUS
    olds, news = previous_build.repo_rpms(dist), container_build.repo_rpms(dist)
    rep = upgrade_test(old, new, new.dists[dist], olds, news, report_dir=tmp_path,
                       settings=ContainerSettings(image=test_image.ref), engine=engine)
    assert rep.ok, rep.table()
    assert [s.name for s in rep.steps] == [n.format(old=_names(olds), new=_names(news),
                                                    edited="pmrepo-demo-debuginfo.repo")
                                           for n in UPGRADE_STEPS], rep.table()
    assert all(s.status == PASS for s in rep.steps), rep.table()
    assert rep.installed == EXPECTED[dist]
    upgraded = rep.step("new versions installed").detail
    assert "libdemo" in upgraded and "demod" in upgraded and "demo-all" in upgraded
    # the 0.9 and 1.0 .repo files are the same text: the edited one is kept, no .rpmnew
    assert rep.step(".repo files").detail == ("pmrepo-demo.repo new, pmrepo-demo-debuginfo.repo kept (edited), "
                                              "pmrepo-demo-src.repo new")
    assert "but the local edit of /etc/yum.repos.d/pmrepo-demo-debuginfo.repo" in rep.step("rpm -V").detail
    assert rep.summary().startswith(f"{dist}: upgrade test passed")
    assert (tmp_path / f"upgrade-{dist}.junit.xml").is_file()


def test_upgrade_from_the_predecessor_tools_layout(container_build: DemoBuild, previous_build: DemoBuild,
                                                   engine: Engine, test_image: ImageInfo, tmp_path: Path) -> None:
    """What operators have: repository packages the predecessor's script made (three
    specs, facts file's layout), carrying the 0.9 RPMs; their main .repo file edited."""
    old, new = previous_build.release, container_build.release
    trees = Layout(old.release_id, previous_build.outdir, previous_build.workdir).dist("el7").trees()
    olds = predecessor.build(old, old.dists["el7"], trees, tmp_path / "predecessor")
    assert [p.name for p in olds] == [p.name for p in previous_build.repo_rpms("el7")]
    news = container_build.repo_rpms("el7")
    rep = upgrade_test(old, new, new.dists["el7"], olds, news, report_dir=tmp_path / "r", edit="main",
                       settings=ContainerSettings(image=test_image.ref), engine=engine)
    assert rep.ok, rep.table()
    # name= changed (the section id then, the manifest's repo_name now): the edit stays, the new file is .rpmnew
    assert rep.step(".repo files").detail == ("pmrepo-demo.repo kept (edited) + .rpmnew, "
                                              "pmrepo-demo-debuginfo.repo new, pmrepo-demo-src.repo new")
    assert rep.installed == EXPECTED["el7"]


BROKEN = {
    # the new debuginfo package no longer owns its .repo file: rpm -U removes the old one
    "repo file dropped": (lambda text: "\n".join(ln for ln in text.splitlines()
                                                 if "yum.repos.d/pmrepo-demo-debuginfo.repo" not in ln) + "\n",
                          {"rpm -Uvh": "installed, but /etc/yum.repos.d/pmrepo-demo-debuginfo.repo has no "
                                       "[pmrepo-demo-debuginfo] section",
                           ".repo files": "demo-repo-debuginfo does not carry "
                                          "/etc/yum.repos.d/pmrepo-demo-debuginfo.repo",
                           "dnf sees the repositories": "[pmrepo-demo-debuginfo] not listed"}),
    # the .repo file without %config(noreplace): the operator's edit is overwritten
    "not noreplace": (lambda text: text.replace("%config(noreplace) "
                                                "%{_sysconfdir}/yum.repos.d/pmrepo-demo-debuginfo.repo",
                                                "%{_sysconfdir}/yum.repos.d/pmrepo-demo-debuginfo.repo"),
                      {".repo files": "/etc/yum.repos.d/pmrepo-demo-debuginfo.repo: the local edit was not kept"}),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_upgrade_fails(container_build: DemoBuild, previous_build: DemoBuild, engine: Engine,
                              test_image: ImageInfo, tmp_path: Path, case: str) -> None:
    old, new = previous_build.release, container_build.release
    dist = new.dists["el7"]
    rewrite, expected = BROKEN[case]
    where = Layout(new.release_id, tmp_path / "out", tmp_path / "work").dist("el7")
    trees = Layout(new.release_id, container_build.outdir, container_build.workdir).dist("el7").trees()
    news = repopkg.build_repo_packages(new, dist, where, trees=trees, log=tmp_path / "build.log", spec_text=rewrite)
    rep = upgrade_test(old, new, dist, previous_build.repo_rpms("el7"), news, report_dir=tmp_path / "r",
                       settings=ContainerSettings(image=test_image.ref), engine=engine)
    assert not rep.ok
    failed = {s.name.split(" demo-repo")[0]: s.detail for s in rep.steps if s.status == FAIL}
    assert set(failed) == set(expected), rep.table()
    for step, text in expected.items():
        assert text in failed[step], (step, failed[step])
    assert rep.summary().startswith("el7: upgrade test failed at")
