"""The mock backend, driven against a stand-in ``mock`` (tests/fake_mock/mock).

mock cannot be installed on this host. The stand-in records its argv and
config, executes the config as mock does, installs BuildRequires from the
file:// repositories it names (reading their createrepo_c metadata) and builds
real RPMs with rpmbuild. What is asserted here is everything pmrepo controls:
the command lines, the rendered configs, the local repository of earlier
results, and how mock's exit codes and logs become errors.
"""
from __future__ import annotations

import dataclasses
import gzip
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO, ROOT

from pmrepo import manifest
from pmrepo.builders import BuildRequest, get_builder
from pmrepo.builders.mock.builder import EXIT_CODES, MockBuilder
from pmrepo.builders.mock.exits import (
    MockArchError,
    MockArgumentError,
    MockBootstrapError,
    MockBuildDepsToolError,
    MockBuildError,
    MockChainError,
    MockConfigError,
    MockError,
    MockExternalDepsError,
    MockInterruptedError,
    MockLockedError,
    MockLvmError,
    MockPackageError,
    MockPackageManagerError,
    MockPrivilegeError,
    MockResultDirError,
    MockRootError,
    MockStateError,
    MockTimeoutError,
    MockUnshareError,
    MockVersionError,
)
from pmrepo.errors import BuildError, ToolMissingError, UsageError
from pmrepo.fsutil import sha256_file, write_atomic
from pmrepo.progress import Progress
from pmrepo.render.specs import inspect, render_component
from pmrepo.run import run
from pmrepo.schedule.graph import build_graph
from pmrepo.schedule.jobs import JobSpec
from pmrepo.schedule.scheduler import Scheduler
from pmrepo.schedule.store import Store
from pmrepo.sources import Fetcher, prepare

FAKE_DIR = Path(__file__).resolve().parents[1] / "fake_mock"
NS = {"c": "http://linux.duke.edu/metadata/common", "repo": "http://linux.duke.edu/metadata/repo"}

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("rpmbuild", "createrepo_c", "rpm2archive")),
                                reason="needs rpmbuild, createrepo_c and rpm2archive (make setup)")


# -- helpers -----------------------------------------------------------------

def exec_config(text: str) -> dict[str, Any]:
    """Execute a mock config the way mock does: Python with ``config_opts`` in scope."""
    opts: dict[str, Any] = {"macros": {}, "environment": {}, "plugin_conf": {}}
    exec(compile(text, "mock.cfg", "exec"), {"config_opts": opts})
    return opts


def yum_conf(opts: dict[str, Any]) -> dict[str, dict[str, str]]:
    import configparser
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(opts["yum.conf"])
    return {s: dict(cp[s]) for s in cp.sections()}


def primary_packages(repo: Path) -> set[str]:
    """Package names listed in a repository's primary metadata."""
    repomd = ET.parse(repo / "repodata" / "repomd.xml")
    location = repomd.find("repo:data[@type='primary']/repo:location", NS)
    href = location.get("href") if location is not None else None
    assert href is not None, repo
    with gzip.open(repo / href) as fh:
        root = ET.parse(fh).getroot()
    return {p.findtext("c:name", namespaces=NS) or "" for p in root.findall("c:package", NS)}


def rpm_query(rpm: Path, *args: str) -> list[str]:
    return run(["rpm", "-qp", *args, str(rpm)]).output.split()


@pytest.fixture
def fake_mock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The stand-in mock first on PATH; returns a reader of its recorded calls."""
    monkeypatch.setenv("PATH", f"{FAKE_DIR}{os.pathsep}{os.environ['PATH']}")
    record = tmp_path / "mock-calls.jsonl"
    for var in list(os.environ):  # every stand-in knob, and sudo's: each test sets what it needs
        if var.startswith("FAKE_MOCK_") or var in ("SUDO_UID", "SUDO_GID", "USERHELPER_UID"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("FAKE_MOCK_RECORD", str(record))
    monkeypatch.setenv("FAKE_MOCK_BASEDIR", str(tmp_path / "mock-lib"))
    monkeypatch.setenv("FAKE_MOCK_CACHEDIR", str(tmp_path / "mock-cache"))
    # mock's config dir and the user's home (site-defaults.cfg, ~/.config/mock.cfg): empty, this test's
    monkeypatch.setenv("FAKE_MOCK_CONFDIR", str(tmp_path / "mock-etc"))
    monkeypatch.setenv("FAKE_MOCK_HOME", str(tmp_path / "mock-home"))
    for var in list(os.environ):
        if var.startswith("PMREPO_MIRROR_"):
            monkeypatch.delenv(var)

    def calls() -> list[dict[str, Any]]:
        if not record.exists():
            return []
        return [json.loads(ln) for ln in record.read_text().splitlines()]
    return calls


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    """The demo release with rendered specs and prepared sources per dist."""
    rel = manifest.load(DEMO)
    work = tmp_path_factory.mktemp("demo")
    fetcher = Fetcher(work / "cache")
    jobs: dict[tuple[str, str], JobSpec] = {}
    for comp in rel.components:
        dest = work / "sources" / comp.name
        files = prepare(comp, rel, dest, fetcher)
        digests = tuple(sha256_file(f) for f in files)
        for d in comp.dists:
            spec = work / d / "specs" / f"{comp.name}.spec"
            write_atomic(spec, render_component(rel, rel.dists[d], comp))
            jobs[(comp.name, d)] = JobSpec(comp.name, rel.dists[d], spec, dest, digests)
    return rel, work, jobs


@pytest.fixture(scope="module")
def tools_srpm(demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SRPM (demo-tools, noarch, el7) for the tests that only need mock to be called."""
    rel, _, jobs = demo
    job = jobs[("demo-tools", "el7")]
    out = tmp_path_factory.mktemp("srpm")
    req = BuildRequest(job.component, job.dist, job.spec, job.sources, (), out, rel.epoch)
    return MockBuilder().build_srpm(req)


def request_for(demo, component: str, dist: str, outdir: Path, deps: tuple[Path, ...] = ()) -> BuildRequest:
    rel, _, jobs = demo
    job = jobs[(component, dist)]
    outdir.mkdir(parents=True, exist_ok=True)
    return BuildRequest(job.component, job.dist, job.spec, job.sources, deps, outdir, rel.epoch)


# -- the rendered config --------------------------------------------------------

# What mock's own configs for these targets say, read from mock's source
# (github.com/rpm-software-management/mock, mock-core-configs/etc/mock/eol/):
#   el6 = epel-6-x86_64.cfg -> templates/epel-6.tpl -> templates/centos-6.tpl (commit 606bb74)
#   el7 = centos+epel-7-x86_64.cfg -> templates/centos-7.tpl (commit e50bb84) + epel-7.tpl
# Facts, copied by hand; pmrepo's template must agree with them (or the deviation is listed).
MOCK_TEMPLATE: dict[str, dict[str, Any]] = {
    "el6": {
        "opts": {"dist": "el6", "releasever": "6", "package_manager": "yum", "isolation": "simple",
                 "chroot_setup_cmd": "install @buildsys-build",  # epel-6.tpl
                 "ssl_ca_bundle_path": "/etc/pki/tls/certs/ca-bundle.crt",  # epel-6.tpl
                 "bootstrap_image": "centos:6"},
        "repos": {  # (baseurl, enabled, gpgcheck, gpgkey)
            "base": ("https://vault.centos.org/6.10/os/$basearch/", "1", "1",
                     "file:///usr/share/distribution-gpg-keys/centos/RPM-GPG-KEY-CentOS-6"),
            "updates": ("https://vault.centos.org/6.10/updates/$basearch/", "0", "1",
                        "file:///usr/share/distribution-gpg-keys/centos/RPM-GPG-KEY-CentOS-6"),
            "extras": ("https://vault.centos.org/6.10/extras/$basearch/", "1", "1",
                       "file:///usr/share/distribution-gpg-keys/centos/RPM-GPG-KEY-CentOS-6"),
            "epel": (None, "1", "1", "file:///usr/share/distribution-gpg-keys/epel/RPM-GPG-KEY-EPEL-6"),
        },
    },
    "el7": {
        "opts": {"dist": "el7", "releasever": "7", "package_manager": "yum",
                 "chroot_setup_cmd": "install @buildsys-build",  # epel-7.tpl
                 "bootstrap_image": "quay.io/centos/centos:7"},
        "repos": {
            "base": ("https://vault.centos.org/7.9.2009/os/$basearch/", "1", "1",
                     "file:///usr/share/distribution-gpg-keys/centos/RPM-GPG-KEY-CentOS-7"),
            "updates": ("https://vault.centos.org/7.9.2009/updates/$basearch/", "1", "1",
                        "file:///usr/share/distribution-gpg-keys/centos/RPM-GPG-KEY-CentOS-7"),
            "extras": ("https://vault.centos.org/7.9.2009/extras/$basearch/", "1", "1",
                       "file:///usr/share/distribution-gpg-keys/centos/RPM-GPG-KEY-CentOS-7"),
            "epel": (None, "1", "1", "file:///usr/share/distribution-gpg-keys/epel/RPM-GPG-KEY-EPEL-7"),
        },
    },
}
# [main] of yum.conf, identical in centos-6.tpl and centos-7.tpl
MOCK_TEMPLATE_MAIN = {
    "keepcache": "1", "debuglevel": "2", "reposdir": "/dev/null", "logfile": "/var/log/yum.log",
    "retries": "20", "obsoletes": "1", "gpgcheck": "0", "assumeyes": "1", "syslog_ident": "mock",
    "syslog_device": "", "metadata_expire": "0", "mdpolicy": "group:primary", "best": "1",
    "protected_packages": "", "user_agent": "{{ user_agent }}",
}
# every repo section of both templates: failovermethod=priority, skip_if_unavailable=False
MOCK_TEMPLATE_REPO = {"failovermethod": "priority", "skip_if_unavailable": "False"}
# Deliberate differences, each with its reason:
#  - epel: mock's templates use a mirrorlist that no longer serves EOL EPEL; pmrepo uses the archive by baseurl.
#  - el6 bootstrap image: mock's short name 'centos:6' resolves through the shortnames alias of a Fedora/EL
#    build host ("centos" = "quay.io/centos/centos"); pmrepo names it so, fully qualified.
#  - no [centos-sclo-sclo]/[centos-sclo-rh] (enabled for the x86_64 build root in centos-6.tpl and centos-7.tpl;
#    only the bootstrap's yum_install_command disables them): Software Collections packages are namespaced
#    (devtoolset-N-*, rh-*) and satisfy no ordinary BuildRequires of the components; leaving them out keeps
#    the build roots on the repositories the install check and closure gate use (docs/mock-build-host.md).
#  - no [fastrack]/[centosplus]: disabled in the template.
QUALIFIED = {"centos:6": "quay.io/centos/centos:6"}
EPEL_ARCHIVE = {"el6": "https://archives.fedoraproject.org/pub/archive/epel/6/$basearch/",
                "el7": "https://archives.fedoraproject.org/pub/archive/epel/7/$basearch/"}


REAL_RELEASES = [ROOT / "releases" / "1.1.14-1.1.toml", ROOT / "releases" / "1.1.13-1.1.toml"]


@pytest.mark.parametrize("release", [DEMO, *REAL_RELEASES], ids=["demo", "1.1.14-1.1", "1.1.13-1.1"])
@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_config_matches_mocks_own_templates(fake_mock, dist, release) -> None:
    """The demo's and the real releases' configs use mock's template values: https vault URLs,
    el6 [updates] disabled; the differences that remain are listed below with their reasons."""
    rel = manifest.load(release)
    b = MockBuilder()
    text = b.render_config(rel.dists[dist])
    opts = exec_config(text)
    facts = MOCK_TEMPLATE[dist]
    for key, value in facts["opts"].items():
        assert opts.get(key) == QUALIFIED.get(value, value), (dist, key)
    if "isolation" not in facts["opts"]:
        assert "isolation" not in opts  # el7: mock's own default
    if "ssl_ca_bundle_path" not in facts["opts"]:
        assert "ssl_ca_bundle_path" not in opts
    repos = yum_conf(opts)
    assert repos["main"] == MOCK_TEMPLATE_MAIN
    for repoid, (url, enabled, gpgcheck, gpgkey) in facts["repos"].items():
        r = repos[repoid]
        assert r["baseurl"] == (url or EPEL_ARCHIVE[dist]), (dist, repoid)
        assert (r["enabled"], r["gpgcheck"], r["gpgkey"]) == (enabled, gpgcheck, gpgkey), (dist, repoid)
        for key, value in MOCK_TEMPLATE_REPO.items():
            assert r[key] == value, (dist, repoid, key)
    assert set(repos) == {"main", *facts["repos"]}  # no local repo without earlier results
    # what pmrepo adds on top: its own root name (per run owner), arch and the explicit %dist
    assert opts["root"] == f"pmrepo-{dist}-x86_64-{b.owner}" and opts["target_arch"] == "x86_64"
    assert opts["legal_host_arches"] == ("x86_64",)
    assert opts["macros"]["%dist"] == f".{dist}" and opts["macros"]["%_binary_payload"] == "w9.gzdio"


def test_config_table_check_can_fail(demo, fake_mock) -> None:
    """The comparison above catches a template that drifts from mock's values."""
    import pmrepo.builders.mock.config as mockmod
    rel = demo[0]
    broken = dict(mockmod.TEMPLATE_FACTS)
    broken[6] = {**broken[6], "enabled": {**broken[6]["enabled"], "updates": True}}
    old = mockmod.TEMPLATE_FACTS
    mockmod.TEMPLATE_FACTS = broken
    try:
        repos = yum_conf(exec_config(MockBuilder().render_config(rel.dists["el6"])))
    finally:
        mockmod.TEMPLATE_FACTS = old
    assert repos["updates"]["enabled"] != MOCK_TEMPLATE["el6"]["repos"]["updates"][1]


def test_config_el7_details(demo, fake_mock) -> None:
    rel = demo[0]
    opts = exec_config(MockBuilder().render_config(rel.dists["el7"]))
    assert opts["macros"]["%el7"] == "1"
    assert opts["macros"]["%_unitdir"] == "/usr/lib/systemd/system"  # the manifest's dist macros
    assert "pmrepo-local" not in yum_conf(opts)


def test_config_overrides_of_template_values(demo, fake_mock) -> None:
    rel = demo[0]
    el6 = rel.dists["el6"]
    # --mock-opt enable.updates=1, bootstrap_image.el6=…, isolation=nspawn
    b = MockBuilder(isolation="nspawn", repo_enabled={"el6/updates": True, "el7/extras": False},
                    bootstrap_images={"el6": "registry.internal/centos:6"})
    opts = exec_config(b.render_config(el6))
    assert opts["isolation"] == "nspawn"
    assert opts["bootstrap_image"] == "registry.internal/centos:6"
    repos = yum_conf(opts)
    assert repos["updates"]["enabled"] == "1" and repos["extras"]["enabled"] == "1"
    assert "--isolation=nspawn" in b.command(Path("c.cfg"), Path("s.src.rpm"), Path("r"), "x", el6)
    assert yum_conf(exec_config(b.render_config(rel.dists["el7"])))["extras"]["enabled"] == "0"
    # the manifest naming a repository enables it
    el6m = dataclasses.replace(el6, base_repos={"updates": "http://m.example/6.10/updates/$basearch/"})
    assert yum_conf(exec_config(MockBuilder().render_config(el6m)))["updates"]["enabled"] == "1"
    with pytest.raises(UsageError, match="no repository 'nosuch'"):
        MockBuilder(repo_enabled={"nosuch": True}).render_config(el6)
    with pytest.raises(UsageError, match=r"bootstrap_image\.el6"):
        MockBuilder(bootstrap_images={"el6": "centos:{{ x }}"})


def test_mock_opt_parsing() -> None:
    from pmrepo.builders.mock.options import mock_options
    opts = mock_options(["enable.el6/updates=1", "bootstrap_image.el7=q.example/c:7", "bootstrap_image=x:1",
                         "keep_roots=1"], clean_roots=True)
    assert opts == {"reuse_roots": False, "keep_roots": True, "repo_enabled": {"el6/updates": True},
                    "bootstrap_images": {"el7": "q.example/c:7", "": "x:1"}}
    with pytest.raises(UsageError, match="expected 0 or 1"):
        mock_options(["enable.updates=yes"])


def test_mirror_overrides(demo, fake_mock, monkeypatch: pytest.MonkeyPatch) -> None:
    rel = demo[0]
    el7 = dataclasses.replace(rel.dists["el7"], mock_base_repos={}, base_repos={
        "base": "http://manifest.example/centos/7/os/$basearch/",
        "updates": "http://manifest.example/centos/7/updates/$basearch/",
        "sclo": "http://manifest.example/centos/7/sclo/$basearch/",
    })
    b = MockBuilder(mirrors={"el6/extras": "http://option.example/el6-only/",
                             "extras": "http://option.example/extras/"})
    before = b.config_id(el7)
    monkeypatch.setenv("PMREPO_MIRROR_EPEL", "http://env.example/epel/$releasever/$basearch/")
    monkeypatch.setenv("PMREPO_MIRROR_UPDATES", "http://env.example/generic-updates/")
    monkeypatch.setenv("PMREPO_MIRROR_EL7_UPDATES", "http://env.example/el7-updates/")
    repos = yum_conf(exec_config(b.render_config(el7)))
    assert repos["base"]["baseurl"] == "http://manifest.example/centos/7/os/$basearch/"  # manifest over default
    assert repos["updates"]["baseurl"] == "http://env.example/el7-updates/"  # per-dist env over generic env
    assert repos["extras"]["baseurl"] == "http://option.example/extras/"  # option; the el6-only one ignored
    assert repos["epel"]["baseurl"] == "http://env.example/epel/$releasever/$basearch/"  # env over default
    assert repos["sclo"]["baseurl"] == "http://manifest.example/centos/7/sclo/$basearch/"  # a new repo
    assert repos["sclo"]["gpgcheck"] == "0"  # no known key for a repo the manifest adds
    assert repos["base"]["gpgcheck"] == "1"  # a mirror of the vault serves the same signed packages
    # a mirror change changes the backend config, hence every build key
    assert b.config_id(el7) != before
    monkeypatch.delenv("PMREPO_MIRROR_EPEL")
    monkeypatch.delenv("PMREPO_MIRROR_UPDATES")
    monkeypatch.delenv("PMREPO_MIRROR_EL7_UPDATES")
    assert b.config_id(el7) == before


@pytest.mark.parametrize("env, value, named", [
    ("PMREPO_MIRROR_BASE", "http://mirror.example/a b/", "PMREPO_MIRROR_BASE"),
    ("PMREPO_MIRROR_EL7_EPEL", 'http://x/"""', "PMREPO_MIRROR_EL7_EPEL"),
    ("PMREPO_MIRROR_BASE", "mirror.example/centos", "PMREPO_MIRROR_BASE"),
])
def test_bad_mirror_is_a_one_line_error(demo, fake_mock, monkeypatch, env, value, named) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(UsageError) as exc:
        MockBuilder().render_config(demo[0].dists["el7"])
    msg = str(exc.value)
    assert named in msg and "fix:" in msg and "\n" not in msg


def test_dist_without_builtin_mirrors_needs_base_repos(demo, fake_mock) -> None:
    el8 = dataclasses.replace(demo[0].dists["el7"], name="el8", tag=".el8", rhel=8, base_repos={}, mock_base_repos={})
    with pytest.raises(UsageError, match=r"\[dists.el8\] base_repos"):
        MockBuilder().render_config(el8)
    el8 = dataclasses.replace(el8, base_repos={"baseos": "http://m.example/8/BaseOS/$basearch/os/"})
    assert set(yum_conf(exec_config(MockBuilder().render_config(el8)))) == {"main", "baseos"}


# -- command line, outputs, logs -------------------------------------------------

def test_single_build_command_line_and_outputs(demo, fake_mock, tmp_path: Path) -> None:
    b = MockBuilder(isolation="nspawn", root_cache=False, yum_cache=True)
    req = request_for(demo, "libdemo", "el7", tmp_path / "out")
    out = b.build(req)
    [version, call] = fake_mock()
    assert version["argv"] == ["--version"]
    cfg = req.outdir.resolve() / "mock.cfg"
    assert call["argv"] == [
        "-r", str(cfg), "--rebuild", str(out.srpm.resolve()), "--resultdir", str(req.outdir.resolve() / "mock-result"),
        "--uniqueext", "pmrepo0", "--isolation=nspawn", "--no-cleanup-after",
        "--disable-plugin=root_cache", "--enable-plugin=yum_cache",
    ]
    assert call["init"] and call["isolation"] == "nspawn" and not call["cleaned_after"]
    assert call["config"] == cfg.read_text()  # mock got exactly the rendered config
    opts = exec_config(call["config"])
    assert opts["isolation"] == "nspawn"
    assert opts["environment"]["SOURCE_DATE_EPOCH"] == str(req.source_date_epoch)
    assert "pmrepo-local" not in yum_conf(opts)  # nothing built earlier: no local repo
    assert not (req.outdir / "local-repo").exists()
    names = sorted(p.name for p in out.rpms)
    assert names == ["libdemo-1.2-1.el7.x86_64.rpm", "libdemo-debuginfo-1.2-1.el7.x86_64.rpm",
                     "libdemo-devel-1.2-1.el7.x86_64.rpm"]  # %dist from the config's macros
    assert all(p.parent == req.outdir and p.is_file() for p in out.rpms)
    assert out.srpm.name == "libdemo-1.2-1.el7.src.rpm"
    for log in ("build.log", "root.log", "state.log", "hw_info.log", "installed_pkgs.log", "mock.log"):
        assert (req.outdir / log).is_file(), log
    assert {p.name for p in out.logs} >= {"hw_info.log", "installed_pkgs.log"}
    assert req.log == req.outdir / "build.log"
    assert "rpmbuild --rebuild" in req.log.read_text()  # mock's own build.log is the job's log
    assert not (req.outdir / "mock-result").exists()


def test_el6_default_command_line(demo) -> None:
    rel = demo[0]
    b = MockBuilder()
    argv = b.command(Path("/w/mock.cfg"), Path("/w/x.src.rpm"), Path("/w/r"), "pmrepo0", rel.dists["el6"])
    assert argv == ["mock", "-r", "/w/mock.cfg", "--rebuild", "/w/x.src.rpm", "--resultdir", "/w/r",
                    "--uniqueext", "pmrepo0", "--isolation=simple", "--no-cleanup-after"]
    argv = b.command(Path("/w/mock.cfg"), Path("/w/x.src.rpm"), Path("/w/r"), "pmrepo0", rel.dists["el7"], True)
    assert argv[-3:] == ["pmrepo0", "--no-clean", "--no-cleanup-after"]  # a root this run already set up
    argv = MockBuilder(reuse_roots=False).command(Path("/w/mock.cfg"), Path("/w/x.src.rpm"), Path("/w/r"),
                                                  "pmrepo0", rel.dists["el7"], True)
    assert argv[-1] == "pmrepo0"  # --clean-roots: mock's own clean before and after


def test_three_deep_chain_sees_earlier_results(demo, fake_mock, tmp_path: Path) -> None:
    """libdemo -> demod -> demo-plugin through the scheduler: each later build's
    mock config holds a local repository with the earlier results, and the
    stand-in really installed them from its metadata to compile."""
    rel, _, jobs = demo
    chosen = ("libdemo", "demod", "demo-plugin", "demo-tools")
    specs = {(c, "el7"): jobs[(c, "el7")] for c in chosen}
    builder = get_builder("mock")
    infos = {c: inspect(specs[(c, "el7")].spec, rel.dists["el7"]) for c in chosen}
    graph = build_graph("el7", infos, builder.can_provide, builder.remedy)
    assert graph.deps["demo-plugin"] == {"demod"} and graph.deps["demod"] == {"libdemo"}
    sched = Scheduler(builder, Store(tmp_path / "store"), jobs=2, source_date_epoch=rel.epoch,
                      progress=Progress(len(specs), stream=io.StringIO()))
    results = sched.run({"el7": graph}, specs)
    assert {k: r.status for k, r in results.items()} == dict.fromkeys(specs, "built"), \
        {k: r.error for k, r in results.items()}

    calls = {Path(c["argv"][c["argv"].index("--rebuild") + 1]).name.rsplit("-", 2)[0]: c
             for c in fake_mock() if c["mode"] == "rebuild"}
    assert set(calls) == set(chosen)
    # order: each starts after what it BuildRequires has finished
    assert calls["demod"]["start"] >= calls["libdemo"]["end"]
    assert calls["demo-plugin"]["start"] >= calls["demod"]["end"]

    def local_repo(name: str) -> Path | None:
        repos = yum_conf(exec_config(calls[name]["config"]))
        local = [r for r in repos if r.startswith("pmrepo-local-")]
        if not local:
            return None
        assert local == [f"pmrepo-local-{name}-{local[0].rsplit('-', 1)[1]}"]  # the job's own id
        url = repos[local[0]]["baseurl"]
        assert url.startswith("file:///")
        return Path(url[len("file://"):])

    assert local_repo("libdemo") is None and local_repo("demo-tools") is None
    demod_repo, plugin_repo = local_repo("demod"), local_repo("demo-plugin")
    assert demod_repo is not None and plugin_repo is not None
    # the repo was built in the job's output dir, which then became its store entry;
    # the metadata there lists exactly the earlier results
    assert demod_repo.name == "local-repo" and plugin_repo.name == "local-repo"
    demod_entry, plugin_entry = results[("demod", "el7")].entry, results[("demo-plugin", "el7")].entry
    assert demod_entry is not None and plugin_entry is not None
    demod_repo = demod_entry / "local-repo"
    plugin_repo = plugin_entry / "local-repo"
    assert primary_packages(demod_repo) == {"libdemo", "libdemo-devel", "libdemo-debuginfo"}
    assert primary_packages(plugin_repo) == {"libdemo", "libdemo-devel", "libdemo-debuginfo",
                                             "demod", "demod-devel", "demod-debuginfo"}
    assert {p.name for p in plugin_repo.glob("*.rpm")} >= {
        "demod-1.0-3.el7.x86_64.rpm", "demod-devel-1.0-3.el7.x86_64.rpm"}
    # the repodata is what yum 3 reads: gzip XML, sqlite, sha256
    repomd = (plugin_repo / "repodata" / "repomd.xml").read_text()
    assert "primary_db" in repomd and 'type="sha256"' in repomd and ".xml.zst" not in repomd
    # what the stand-in installed into the chroot from the local repo, found through that metadata
    installed = {i["nvra"].rsplit("-", 2)[0]: i["repo"] for i in calls["demod"]["installed"]}
    assert set(installed) == {"libdemo-devel", "libdemo"}
    assert all(r.startswith("pmrepo-local-demod-") for r in installed.values())
    plugin_installed = {i["nvra"].rsplit("-", 2)[0] for i in calls["demo-plugin"]["installed"]}
    assert "demod-devel" in plugin_installed
    root_log = (demod_entry / "root.log").read_text()
    assert "Installing libdemo-devel-1.2-1.el7.x86_64 from pmrepo-local-demod-" in root_log
    # demod really linked the libdemo built earlier in this run
    demod = demod_entry / "demod-1.0-3.el7.x86_64.rpm"
    assert "libdemo.so.1()(64bit)" in rpm_query(demod, "--requires")
    # concurrent jobs never shared a build root
    spans = [(c["start"], c["end"], c["argv"][c["argv"].index("--uniqueext") + 1]) for c in calls.values()]
    overlapping = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1:] if a[0] < b[1] and b[0] < a[1]]
    assert overlapping, "jobs=2 with independent components should overlap"
    assert all(a[2] != b[2] for a, b in overlapping)
    assert all(c["exit"] == 0 for c in calls.values())


# -- exit codes and logs ------------------------------------------------------------

# mockbuild/exception.py (mock, commit 4bc80c3): every exit code mock defines, the class pmrepo
# raises and the log that explains it (where mock writes the failure); 2 is optparse's "no such option".
@pytest.mark.parametrize("code, cls, log", [
    (2, MockArgumentError, "mock.log"),
    (3, MockConfigError, "mock.log"),
    (5, MockArgumentError, "mock.log"),
    (6, MockArchError, "mock.log"),
    (10, MockBuildError, "build.log"),
    (11, MockTimeoutError, "build.log"),
    (20, MockRootError, "root.log"),
    (25, MockLvmError, "mock.log"),
    (30, MockPackageManagerError, "root.log"),
    (31, MockExternalDepsError, "root.log"),
    (40, MockPackageError, "mock.log"),
    (50, MockError, "mock.log"),
    (60, MockLockedError, "mock.log"),
    (65, MockLvmError, "mock.log"),
    (70, MockResultDirError, "mock.log"),
    (80, MockUnshareError, "mock.log"),
    (90, MockBootstrapError, "root.log"),
    (110, MockStateError, "state.log"),
    (1, MockError, "mock.log"),
    (4, MockChainError, "mock.log"),
    (7, MockInterruptedError, "mock.log"),
    (120, MockBuildDepsToolError, "root.log"),
    (129, MockInterruptedError, "mock.log"),
    (141, MockInterruptedError, "mock.log"),
    (143, MockInterruptedError, "mock.log"),
])
def test_exit_code_mapping(demo, fake_mock, tools_srpm, tmp_path, monkeypatch, code, cls, log) -> None:
    monkeypatch.setenv("FAKE_MOCK_FAIL", str(code))
    req = request_for(demo, "demo-tools", "el7", tmp_path / "out")
    with pytest.raises(cls) as exc:
        MockBuilder().build_binary(req, tools_srpm)
    err = exc.value
    assert type(err) is cls and isinstance(err, MockError)
    assert err.returncode == code
    assert err.log == req.outdir.resolve() / log
    assert err.tail.strip().splitlines()[-1] == f"FAKE-MOCK-FAILURE code={code}"
    msg = str(err)
    assert "\n" not in msg
    assert f"exit {code}" in msg and f"{log}: FAKE-MOCK-FAILURE code={code}" in msg and "demo-tools (el7)" in msg
    assert req.log.is_file()  # the job always has a build.log to point at


def test_real_build_failure_shows_rpmbuild_not_mock_traceback(demo, fake_mock, tmp_path: Path) -> None:
    rel = demo[0]
    spec = tmp_path / "broken.spec"
    spec.write_text("Name: broken\nVersion: 1\nRelease: 1%{?dist}\nSummary: s\nLicense: MIT\n"
                    "%description\nd\n%build\necho 'compiler says: boom' >&2\nexit 3\n%files\n")
    src = tmp_path / "src"
    src.mkdir()
    req = BuildRequest("broken", rel.dists["el7"], spec, src, (), tmp_path / "out", rel.epoch)
    req.outdir.mkdir()
    with pytest.raises(MockBuildError) as exc:
        MockBuilder().build(req)
    err = exc.value
    assert err.log == req.outdir.resolve() / "build.log"
    assert "compiler says: boom" in err.tail
    assert "mockbuild.exception" not in err.tail  # mock's epilogue is cut off
    assert "build.log: Bad exit status from" in str(err) and "(%build)" in str(err)


def test_missing_mock_names_the_build_host_setup(demo, tmp_path: Path, tools_srpm: Path) -> None:
    b = MockBuilder(mock_cmd="mock-not-installed-here")
    with pytest.raises(ToolMissingError, match="mock' group"):
        b.check_available()
    req = request_for(demo, "demo-tools", "el7", tmp_path / "out")
    with pytest.raises(ToolMissingError):
        b.build_binary(req, tools_srpm)


def test_options_and_jobs() -> None:
    b = MockBuilder()
    assert b.default_jobs(1) == 1 and b.default_jobs(2) == 1 and b.default_jobs(8) == 4
    with pytest.raises(UsageError):
        MockBuilder(isolation="chroot")
    with pytest.raises(UsageError):
        MockBuilder(mirrors={"el7/bad id": "http://x/"}).repos_for(manifest.load(DEMO).dists["el7"])
    assert isinstance(get_builder("mock", reuse_roots=False), MockBuilder)


# The table against mock 6.7's own code (exception.py, mock.py's exits): tests/unit/builders/mock/test_exits.py


def test_exit_2_without_setuid_wrapper_is_not_a_usage_error(demo, fake_mock, tools_srpm, tmp_path,
                                                              monkeypatch) -> None:
    """mock's EPERM path exits 2 like a usage error; the message says what it is and how to run mock."""
    req = request_for(demo, "demo-tools", "el7", tmp_path / "out")
    b = MockBuilder()
    b.check_version()
    monkeypatch.setenv("FAKE_MOCK_EPERM", "1")
    with pytest.raises(MockPrivilegeError) as exc:
        b.build_binary(req, tools_srpm)
    msg = str(exc.value)
    assert exc.value.returncode == 2 and "setuid wrapper" in msg and "'mock' group" in msg and "\n" not in msg


def test_mock_version_as_plain_root_says_how_to_run(fake_mock, monkeypatch) -> None:
    """mock refuses the plain root account (rootcheck), even for --version: pmrepo says so."""
    if os.getuid() != 0:
        pytest.skip("mock's rootcheck only refuses uid 0; this test runs as a normal user")
    monkeypatch.setenv("FAKE_MOCK_ROOTCHECK", "1")
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.delenv("USERHELPER_UID", raising=False)
    with pytest.raises(MockPrivilegeError) as exc:
        MockBuilder().check_version()
    msg = str(exc.value)
    assert "plain root account" in msg and "'mock' group" in msg and "sudo" in msg and "\n" not in msg
    monkeypatch.setenv("SUDO_UID", "1000")  # as under sudo: mock runs
    assert MockBuilder().check_version() >= (2, 1)


# -- build roots: one per (dist, slot), reused for the run --------------------------------

def chain_specs(demo, chosen: tuple[str, ...]):
    rel, _, jobs = demo
    specs = {(c, "el7"): jobs[(c, "el7")] for c in chosen}
    infos = {c: inspect(specs[(c, "el7")].spec, rel.dists["el7"]) for c in chosen}
    return specs, infos


def run_chain(demo, builder, tmp_path: Path, chosen: tuple[str, ...], jobs: int):
    rel = demo[0]
    specs, infos = chain_specs(demo, chosen)
    graph = build_graph("el7", infos, builder.can_provide, builder.remedy)
    sched = Scheduler(builder, Store(tmp_path / "store"), jobs=jobs, source_date_epoch=rel.epoch,
                      progress=Progress(len(specs), stream=io.StringIO()))
    results = sched.run({"el7": graph}, specs)
    assert {k: r.status for k, r in results.items()} == dict.fromkeys(specs, "built"), \
        {k: r.error for k, r in results.items()}
    return results


CHAIN = ("libdemo", "demod", "demo-plugin")  # each BuildRequires the one before


def test_chain_of_three_initialises_one_root(demo, fake_mock, tmp_path: Path) -> None:
    builder = MockBuilder(state_dir=tmp_path / "work" / "mock")
    results = run_chain(demo, builder, tmp_path, CHAIN, jobs=1)
    calls = [c for c in fake_mock() if c["mode"] == "rebuild"]
    assert len(calls) == 3
    assert [c["init"] for c in calls] == [True, False, False]  # one root init for the whole chain
    assert {c["argv"][c["argv"].index("--uniqueext") + 1] for c in calls} == {"pmrepo0"}
    assert "--no-clean" not in calls[0]["argv"] and all("--no-clean" in c["argv"] for c in calls[1:])
    assert all("--no-cleanup-after" in c["argv"] for c in calls) and not any(c["cleaned_after"] for c in calls)
    root = tmp_path / "mock-lib" / f"pmrepo-el7-x86_64-{builder.owner}-pmrepo0"
    assert (root / "root" / ".initialized").is_file() and (root / "buildroot.lock").is_file()
    # the reused root keeps what earlier jobs installed (as mock's does): demo-plugin's build root
    # lists libdemo-devel, installed for demod
    pkgs = (results[("demo-plugin", "el7")].entry / "installed_pkgs.log").read_text().split()
    assert any(p.startswith("libdemo-devel-") for p in pkgs) and any(p.startswith("demod-devel-") for p in pkgs)
    assert [n.rsplit("-", 2)[0] for n in sorted(
        i["nvra"] for i in calls[2]["installed"])] == ["demod", "demod-devel"]  # only what was new
    # the end of the run cleans the root it used
    assert sorted(builder._roots) == [(f"pmrepo-el7-x86_64-{builder.owner}", "pmrepo0")]
    boot = tmp_path / "mock-lib" / f"pmrepo-el7-x86_64-{builder.owner}-bootstrap-pmrepo0"
    assert (boot / "root" / ".initialized").is_file()  # mock's bootstrap root, prepared with the first init
    assert [c.get("bootstrap_from") for c in calls] == ["image", "kept", "kept"]
    builder.finish(tmp_path / "logs")
    clean = [c for c in fake_mock() if c["mode"] in ("clean", "scrub")]
    assert [c["argv"][-1] for c in clean] == ["--clean"]  # the build root; the bootstrap stays (--scrub
    assert all("pmrepo0" in c["argv"] and c["exit"] == 0 for c in clean)  # removed it with its cache)
    assert not root.exists() and sorted(builder._roots) == []


def test_clean_roots_initialises_a_root_per_job(demo, fake_mock, tmp_path: Path) -> None:
    builder = MockBuilder(reuse_roots=False)  # --clean-roots
    run_chain(demo, builder, tmp_path, CHAIN, jobs=1)
    calls = [c for c in fake_mock() if c["mode"] == "rebuild"]
    assert [c["init"] for c in calls] == [True, True, True]
    assert all(c["cleaned_after"] for c in calls)  # mock's own cleanup_on_success
    assert not any("--no-clean" in c["argv"] or "--no-cleanup-after" in c["argv"] for c in calls)
    assert sorted(builder._roots) == []
    # a builder without an owner's work dir (a private state dir): no later run can reuse its roots,
    # so its end removes them all, bootstrap and caches too (mock --scrub=all)
    builder.finish(tmp_path / "logs")
    assert [c["argv"][-1] for c in fake_mock() if c["mode"] == "scrub"] == ["--scrub=all"]
    assert list((tmp_path / "mock-lib").iterdir()) == [] and list((tmp_path / "mock-cache").iterdir()) == []


def test_parallel_slots_have_own_roots_and_share_caches(demo, fake_mock, tmp_path: Path, monkeypatch) -> None:
    """Two slots' first inits on a cold cache both install from the network, as in mock: the
    root cache lock is held only while unpacking or packing; the yum cache lock serialises their
    package installs (yum_cache.py preyum/postyum)."""
    monkeypatch.setenv("FAKE_MOCK_INIT_SECONDS", "0.5")  # long enough for the two first jobs to overlap
    builder = MockBuilder(state_dir=tmp_path / "work" / "mock")
    run_chain(demo, builder, tmp_path, ("libdemo", "demo-tools", "demod", "demo-plugin"), jobs=2)
    calls = [c for c in fake_mock() if c["mode"] == "rebuild"]
    per_slot: dict[str, int] = {}
    for c in calls:
        ext = c["argv"][c["argv"].index("--uniqueext") + 1]
        per_slot[ext] = per_slot.get(ext, 0) + int(c["init"])
    assert set(per_slot) == {"pmrepo0", "pmrepo1"} and set(per_slot.values()) == {1}  # 1 init per slot
    lib = tmp_path / "mock-lib"
    root = f"pmrepo-el7-x86_64-{builder.owner}"
    assert sorted(p.name for p in lib.iterdir()) == [f"{root}-bootstrap-pmrepo0", f"{root}-bootstrap-pmrepo1",
                                                     f"{root}-pmrepo0", f"{root}-pmrepo1"]
    assert all((p / "buildroot.lock").is_file() for p in lib.iterdir())
    cache = tmp_path / "mock-cache"
    assert sorted(p.name for p in cache.iterdir()) == [root, f"{root}-bootstrap"]  # shared by both exts
    assert (cache / root / "root_cache" / "rootcache.lock").is_file() and (cache / root / "yumcache.lock").is_file()
    firsts = [c for c in calls if c["init"]]
    # a cold cache: an init that starts before the first cache is packed installs from the network
    # too (no lock waits for it); one that starts later unpacks it (ordering, not timing)
    packs = [e for c in firsts for what, kind, s, e in c["locks"] if (what, kind) == ("build:rootcache", "exclusive")]
    for c in firsts:
        unpacks = [s for what, kind, s, e in c["locks"] if (what, kind) == ("build:rootcache", "shared")]
        assert c["init_from"] == "network" or (c["init_from"] == "cache" and unpacks[0] >= min(packs)), c
    assert "network" in [c["init_from"] for c in firsts]
    # the package installs never overlapped: the yum cache lock
    held = sorted((s, e) for c in firsts for what, kind, s, e in c["locks"] if what == "build:yumcache")
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(held))
    builder.finish(tmp_path / "logs")
    assert sorted(p.name for p in lib.iterdir()) == [f"{root}-bootstrap-pmrepo0", f"{root}-bootstrap-pmrepo1"]


def test_stand_in_cleans_after_a_build_unless_told(demo, fake_mock, tools_srpm: Path, tmp_path: Path) -> None:
    """mock cleans the root after a --resultdir build (cleanup_on_success): the stand-in too."""
    rel = demo[0]
    cfg = tmp_path / "m.cfg"
    cfg.write_text(MockBuilder(owner="").render_config(rel.dists["el7"]))
    stand_in = str(FAKE_DIR / "mock")
    root = tmp_path / "mock-lib" / "pmrepo-el7-x86_64-t"
    base = [stand_in, "-r", str(cfg), "--rebuild", str(tools_srpm), "--resultdir", str(tmp_path / "r"),
            "--uniqueext", "t"]
    assert run(base, check=False).returncode == 0
    assert not (root / "root").exists()
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == sorted(
        ["build.log", "root.log", "state.log", "hw_info.log", "installed_pkgs.log", tools_srpm.name,
         tools_srpm.name.replace(".src.rpm", ".noarch.rpm")])
    assert run([*base, "-N"], check=False).returncode == 0
    assert (root / "root" / ".initialized").is_file()
    cfg.write_text(cfg.read_text() + "config_opts['cleanup_on_success'] = False\n")
    assert run([*base, "--cleanup-after"], check=False).returncode == 0  # the command line wins
    assert not (root / "root").exists()
    assert run(base, check=False).returncode == 0  # the config's cleanup_on_success=False
    assert (root / "root").exists()
    # keys mock defaults are not required: a config with root and yum.conf only builds
    cfg.write_text("config_opts['root'] = 'tiny'\nconfig_opts['legal_host_arches'] = ('x86_64',)\n"
                   "config_opts['yum.conf'] = '[main]\\n[base]\\nbaseurl=http://x.example/\\n'\n")
    assert run(base, check=False).returncode == 0
    # ... but no enabled repository at all is a package-manager error, as in mock
    cfg.write_text("config_opts['root'] = 'tiny'\nconfig_opts['legal_host_arches'] = ('x86_64',)\n")
    assert run(base, check=False).returncode == 30


class ExtraOption(MockBuilder):
    def command(self, *args, **kw):
        return [*super().command(*args, **kw), "--frobnicate"]


def test_unknown_option_is_an_srpm_to_mock(demo, fake_mock, tools_srpm, tmp_path) -> None:
    """mock >= 2.13 (parse_known_args) takes an option it does not know as an SRPM path
    and fails to open it; pmrepo names the option and the mock version it needs."""
    req = request_for(demo, "demo-tools", "el7", tmp_path / "out")
    with pytest.raises(MockArgumentError) as exc:
        ExtraOption().build_binary(req, tools_srpm)
    err = exc.value
    assert err.returncode == 1 and err.log == req.outdir.resolve() / "mock.log"
    msg = str(err)
    assert "took unknown option as an SRPM path: --frobnicate (exit 1)" in msg
    assert "mock.log: Cannot find/open srpm: --frobnicate —" in msg
    assert "mock >= 2.5" in msg and "\n" not in msg
    [call] = [c for c in fake_mock() if c["mode"] == "rebuild"]
    assert call["exit"] == 1 and not call["init"]  # it failed before touching the root


def test_unknown_option_with_optparse_era_mock(demo, fake_mock, tools_srpm, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_MOCK_OPTPARSE", "1")
    monkeypatch.setenv("FAKE_MOCK_VERSION", "2.12")
    req = request_for(demo, "demo-tools", "el7", tmp_path / "out")
    with pytest.raises(MockArgumentError, match=r"rejected unknown option --frobnicate \(exit 2\)"):
        ExtraOption().build_binary(req, tools_srpm)
    # the options pmrepo really passes are all known to that mock generation too
    MockBuilder().build_binary(request_for(demo, "demo-tools", "el7", tmp_path / "ok"), tools_srpm)


@pytest.mark.parametrize("version, ok", [("6.1", True), ("2.5", True), ("2.4", False), ("2.0", False),
                                         ("1.4.15", False), ("unreleased_version", False)])
def test_mock_version_is_checked_once(demo, fake_mock, tools_srpm, tmp_path, monkeypatch, version, ok) -> None:
    monkeypatch.setenv("FAKE_MOCK_VERSION", version)
    b = MockBuilder()
    if not ok:
        with pytest.raises(MockVersionError) as exc:
            b.check_available()
        msg = str(exc.value)
        assert "mock >= 2.5" in msg and "fix:" in msg and "\n" not in msg
        if version[0].isdigit():
            assert f"mock {version} is too old" in msg and "user_agent" in msg
        return
    for i in range(2):
        b.build_binary(request_for(demo, "demo-tools", "el7", tmp_path / f"o{i}"), tools_srpm)
    assert [c["mode"] for c in fake_mock()].count("version") == 1


def test_pipeline_build_with_mock_cleans_its_roots_at_the_end(fake_mock, tmp_path: Path, monkeypatch) -> None:
    """The whole demo (el7) through the pipeline with --backend mock: one root init per slot,
    and at the end of the run every build root is cleaned (mock --clean), logged in
    logs/mock-clean.log; the bootstrap root stays, for the next run."""
    from pmrepo.pipeline.orchestrator import Options, Pipeline
    opts = Options(release=DEMO, workdir=tmp_path / "w", outdir=tmp_path / "o", dists=("el7",), backend="mock",
                   jobs=1, install_check=False, gates=False)
    p = Pipeline(opts, say=lambda _: None)
    rendered = p.render()
    results = p.build(rendered, p.fetch_sources(), p.plan(rendered))
    rebuilds = [c for c in fake_mock() if c["mode"] == "rebuild"]
    assert len(rebuilds) == len(results) >= 4
    assert sum(c["init"] for c in rebuilds) == 1  # jobs=1: one slot, one root, one init
    clean = [c for c in fake_mock() if c["mode"] in ("clean", "scrub")]
    assert [c["argv"][-1] for c in clean] == ["--clean"] and all(c["exit"] == 0 for c in clean)
    assert (tmp_path / "w" / "logs" / "mock-clean.log").is_file()
    left = [p.name for p in (tmp_path / "mock-lib").iterdir()]
    assert len(left) == 1 and left[0].endswith("-bootstrap-pmrepo0")  # the build root removed, its bootstrap kept


def test_clean_roots_flag(capsys) -> None:
    from pmrepo.cli import main
    assert main(["build", "--clean-roots"]) == 2
    assert "--clean-roots is for the mock backend" in capsys.readouterr().err


class BadIsolation(MockBuilder):
    def command(self, *args, **kw):
        return [a.replace("--isolation=simple", "--isolation=chroot") for a in super().command(*args, **kw)]


def test_bad_option_value_is_a_usage_error(demo, fake_mock, tools_srpm, tmp_path) -> None:
    """An option value mock does not accept fails in the stand-in as in mock: --isolation has no
    argparse choices, set_config_opts_per_cmdline raises BadCmdline (exit 5)."""
    rel, _, jobs = demo
    job = jobs[("demo-tools", "el6")]
    req = BuildRequest(job.component, job.dist, job.spec, job.sources, (), tmp_path / "out", rel.epoch)
    req.outdir.mkdir()
    with pytest.raises(MockArgumentError, match=r"exit 5\); mock.log: .*Bad option for '--isolation'. Unknown "
                                                 r"value: chroot") as exc:
        BadIsolation().build(req)
    assert exc.value.returncode == 5


# -- issue 19: mock on a real build host ----------------------------------------------------

def rebuild_calls(fake_mock) -> list[dict[str, Any]]:
    return [c for c in fake_mock() if c["mode"] == "rebuild"]


def run_owner(demo, tmp_path: Path, state_dir: Path, store: str, **kw: Any) -> tuple[MockBuilder, dict]:
    """One run of the chain with a builder owned by ``state_dir`` (as the pipeline's work
    directory owns it), ended as the pipeline ends it (``finish``)."""
    builder = MockBuilder(state_dir=state_dir, **kw)
    results = run_chain(demo, builder, tmp_path / store, CHAIN, jobs=1)
    builder.finish(tmp_path / "logs")
    return builder, results


def test_second_run_unpacks_the_root_cache(demo, fake_mock, tmp_path: Path) -> None:
    """mock's root_cache deletes cache.tar.gz when a config path is newer than it: the backend
    keeps each job's config at the root's stable mtime, so the second run's first job (and every
    later job) unpacks the cache instead of installing the root from the network."""
    state = tmp_path / "work" / "mock"
    run_owner(demo, tmp_path, state, "store1")
    first = rebuild_calls(fake_mock)
    assert [c.get("init_from") for c in first] == ["network", "kept", "kept"]
    b2, _ = run_owner(demo, tmp_path, state, "store2")
    second = rebuild_calls(fake_mock)[len(first):]
    assert [c.get("init_from") for c in second] == ["cache", "kept", "kept"], \
        [c.get("build_cache_invalidated_by") for c in second]
    # the root's stable config is in the owner's state dir, written once
    stable = state / f"pmrepo-el7-x86_64-{b2.owner}.cfg"
    assert stable.is_file() and second[0]["config_mtime_ns"] == stable.stat().st_mtime_ns
    # ... and the rule is not bypassed: a real change of the root's content rebuilds the cache
    run_owner(demo, tmp_path, state, "store3", chroot_setup_cmd="install @buildsys-build ccache")
    third = rebuild_calls(fake_mock)[len(first) + len(second):]
    assert third[0]["init_from"] == "network" and third[0]["build_cache_invalidated_by"] == third[0]["config_path"]


def test_clean_roots_unpacks_the_root_cache_per_job(demo, fake_mock, tmp_path: Path) -> None:
    """--clean-roots: a fresh root per job, each from the root cache after the first."""
    state = tmp_path / "work" / "mock"
    run_owner(demo, tmp_path, state, "store1", reuse_roots=False)
    assert [c["init_from"] for c in rebuild_calls(fake_mock)] == ["network", "cache", "cache"]
    run_owner(demo, tmp_path, state, "store2", reuse_roots=False)
    assert [c["init_from"] for c in rebuild_calls(fake_mock)[3:]] == ["cache", "cache", "cache"]
    left = [p.name for p in (tmp_path / "mock-lib").iterdir()]
    assert len(left) == 1 and "-bootstrap-" in left[0]  # every build root cleaned, the bootstrap kept


def test_stand_in_root_cache_age_rule(demo, fake_mock, tools_srpm: Path, tmp_path: Path) -> None:
    """The stand-in follows root_cache.py: a config newer than cache.tar.gz deletes it; an older
    one keeps it; --disable-plugin=root_cache neither uses nor makes a cache."""
    cfg = tmp_path / "m.cfg"
    cfg.write_text(MockBuilder(owner="").render_config(demo[0].dists["el7"]))
    base = [str(FAKE_DIR / "mock"), "-r", str(cfg), "--rebuild", str(tools_srpm), "--resultdir",
            str(tmp_path / "r"), "--uniqueext", "t"]
    cache = tmp_path / "mock-cache" / "pmrepo-el7-x86_64" / "root_cache" / "cache.tar.gz"
    assert run(base, check=False).returncode == 0 and cache.is_file()
    assert run(base, check=False).returncode == 0
    cfg.touch()  # the config is now newer than the cache
    os.utime(cache, (cache.stat().st_atime - 10, cache.stat().st_mtime - 10))
    assert run(base, check=False).returncode == 0
    os.utime(cfg, (1, 1))  # older than the cache: kept
    assert run(base, check=False).returncode == 0
    assert run([*base, "--disable-plugin=root_cache"], check=False).returncode == 0
    assert [c["init_from"] for c in rebuild_calls(fake_mock)] == ["network", "cache", "network", "cache", "network"]


def test_stand_in_locks_like_mock(demo, fake_mock, tools_srpm: Path, tmp_path: Path) -> None:
    """mockbuild/buildroot.py: a build falls back to the shared lock when another process holds
    the root (and then builds in it without an init); 60 only when even that is refused, and from
    --clean/--scrub, which need the exclusive lock."""
    cfg = tmp_path / "m.cfg"
    cfg.write_text(MockBuilder(owner="").render_config(demo[0].dists["el7"]))
    stand_in = str(FAKE_DIR / "mock")
    build = [stand_in, "-r", str(cfg), "--rebuild", str(tools_srpm), "--resultdir", str(tmp_path / "r"),
             "--uniqueext", "t", "-N"]
    clean = [stand_in, "-r", str(cfg), "--uniqueext", "t", "--clean"]
    rootdir = tmp_path / "mock-lib" / "pmrepo-el7-x86_64-t"
    assert run(build, check=False).returncode == 0
    # another process (a helper holding a lock, as a second mock would) holds the root
    holder = ("import fcntl, sys, time; fh = open(sys.argv[1], 'a+'); "
              "fcntl.lockf(fh.fileno(), fcntl.LOCK_SH if sys.argv[2] == 'sh' else fcntl.LOCK_EX); "
              "print('locked', flush=True); time.sleep(60)")
    for mode, build_exit in (("sh", 0), ("ex", 60)):
        proc = subprocess.Popen(["python3", "-c", holder, str(rootdir / "buildroot.lock"), mode],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
            assert run([*build, "-n"], check=False).returncode == build_exit, mode
            assert run(build, check=False).returncode == 60, mode  # without -n mock cleans first: exclusive
            assert run(clean, check=False).returncode == 60, mode
        finally:
            proc.kill()
            proc.wait()
    calls = rebuild_calls(fake_mock)
    assert [c["exit"] for c in calls] == [0, 0, 60, 60, 60]
    assert calls[1]["lock"] == "shared" and not calls[1]["init"]  # built in the held root, no init
    assert run(clean, check=False).returncode == 0 and not rootdir.exists()


def test_two_runs_from_different_work_dirs_keep_apart(fake_mock, tmp_path: Path) -> None:
    """Two demo builds at once from two work directories (the stand-in's slow root init makes
    them overlap): each uses only roots named for its own work directory, both finish, and
    each cleans only its own roots (nothing is left in mock's basedir)."""
    env = dict(os.environ, FAKE_MOCK_INIT_SECONDS="1", CI="true")
    root = Path(__file__).resolve().parents[2]
    procs = []
    for name in ("a", "b"):
        argv = [sys.executable, str(root / "build.py"), "build", "--release", str(DEMO), "--dist", "el7",
                "--backend", "mock", "--jobs", "1", "--workdir", str(tmp_path / name / "work"),
                "--outdir", str(tmp_path / name / "out")]
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    calls = rebuild_calls(fake_mock)
    by_run = {name: [c for c in calls if c["config_path"].startswith(str(tmp_path / name))] for name in ("a", "b")}
    assert all(by_run.values()) and len(by_run["a"]) + len(by_run["b"]) == len(calls)
    roots = {name: {c["root_dir"] for c in cs} | {c["bootstrap_dir"] for c in cs} for name, cs in by_run.items()}
    assert not roots["a"] & roots["b"]
    caches = {name: {c["cache_dir"] for c in cs} for name, cs in by_run.items()}
    assert not caches["a"] & caches["b"]
    span = {name: (min(c["start"] for c in cs), max(c["end"] for c in cs)) for name, cs in by_run.items()}
    assert span["a"][0] < span["b"][1] and span["b"][0] < span["a"][1], f"the two runs should overlap: {span}"
    assert all(c["lock"] == "exclusive" for c in calls)  # nobody fell back to another run's root
    # each run cleaned its own build roots; the bootstraps and caches stay until `mock-clean`
    assert all("-bootstrap-" in p.name for p in (tmp_path / "mock-lib").iterdir())
    proc = cli("mock-clean", "--workdir", str(tmp_path / "a" / "work"))
    assert proc.returncode == 0, proc.stderr
    assert "freed" in proc.stdout and "1 root(s)" in proc.stdout, proc.stdout
    left = {p.name for p in (tmp_path / "mock-lib").iterdir()} | {p.name for p in (tmp_path / "mock-cache").iterdir()}
    b_root = {Path(c["root_dir"]).name.rsplit("-", 1)[0] for c in by_run["b"]}.pop()  # pmrepo-el7-x86_64-<b>
    assert left and all(n.startswith(b_root) for n in left), left  # only b's are left


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], check=False,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)


def test_check_refuses_what_build_refuses(fake_mock, tmp_path: Path, monkeypatch) -> None:
    """`check --backend mock` and `build --backend mock` share one validation of the dists'
    repositories: a base_repos URL build would reject is not "buildable"."""
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "release.toml"
    text = path.read_text()
    old = 'macros = { _unitdir = "/usr/lib/systemd/system" }\n'
    assert old in text
    path.write_text(text.replace(old, old + 'base_repos = { main = "http://m.example/7/os/$basearch/" }\n', 1))
    for cmd in ("check", "build"):
        where = ["--workdir", str(tmp_path / "w"), "--outdir", str(tmp_path / "o")] if cmd == "build" else []
        proc = cli(cmd, "--release", str(path), "--backend", "mock", *where)
        assert proc.returncode == 2, (cmd, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "buildable" not in proc.stdout, (cmd, proc.stdout, proc.stderr)
        assert f"{path}: [dists.el7] base_repos: invalid repository id 'main'" in lines[0]
        assert "fix:" in lines[0] and "Traceback" not in lines[0]
    assert rebuild_calls(fake_mock) == []


def test_misspelt_mirror_variable_is_reported(fake_mock, tmp_path: Path, monkeypatch) -> None:
    """PMREPO_MIRROR_UPDATE (no S) names no repository: one line naming it and the ids that exist,
    where before it was silently ignored (the build reached the public mirror)."""
    monkeypatch.setenv("PMREPO_MIRROR_UPDATE", "http://mirror.internal/centos/updates/")
    common = ["--backend", "mock"]
    proc = cli("check", *common)
    assert proc.returncode == 2 and "buildable" not in proc.stdout
    [line] = proc.stderr.strip().splitlines()
    assert "PMREPO_MIRROR_UPDATE" in line and "base, epel, extras, updates" in line and "fix:" in line
    monkeypatch.delenv("PMREPO_MIRROR_UPDATE")
    monkeypatch.setenv("PMREPO_MIRROR_EL6_UPDATES", "http://mirror.internal/centos/6/updates/")
    proc = cli("check", *common)
    assert proc.returncode == 0 and "buildable here with backend mock" in proc.stdout, proc.stderr


def test_mock_errors_live_beside_the_backend_under_one_root() -> None:
    from pmrepo import errors
    for cls, *_ in EXIT_CODES.values():
        assert cls.__module__ == "pmrepo.builders.mock.exits" and issubclass(cls, errors.BuildError)
        assert not hasattr(errors, cls.__name__)  # one home: errors.py imports nothing of the backends


# -- issue 27: mock as mock 6.7's code behaves ---------------------------------------------------

def network_events(calls: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, root) of every network contact the stand-in counted: pull, install, update."""
    return [(e["kind"], e["root"]) for c in calls for e in c.get("network", [])]


@pytest.mark.parametrize("reuse", [True, False], ids=["reused-roots", "clean-roots"])
def test_second_run_pulls_no_image_and_installs_nothing(demo, fake_mock, tmp_path: Path, reuse: bool) -> None:
    """Two runs of the chain on one work directory: the first pulls the bootstrap image and installs
    the bootstrap and the build root from the network (once); the second does neither, with and
    without --clean-roots — the end of a run leaves the bootstrap and both root caches (mock's
    --scrub=bootstrap would have removed the bootstrap and its cache). Only the `yum update` of each
    clean init from the cache still reaches the network. The explicit clean removes all of it."""
    state = tmp_path / "work" / "mock"
    b1, _ = run_owner(demo, tmp_path, state, "store1", reuse_roots=reuse)
    first = rebuild_calls(fake_mock)
    assert sorted(set(network_events(first)) - {("update", "build")}) == [
        ("install", "bootstrap"), ("install", "build"), ("pull", "bootstrap")]
    root = f"pmrepo-el7-x86_64-{b1.owner}"
    lib, cache = tmp_path / "mock-lib", tmp_path / "mock-cache"
    assert (lib / f"{root}-bootstrap-pmrepo0" / "root" / ".initialized").is_file()  # the end of run 1 kept it
    for name in (root, f"{root}-bootstrap"):
        assert (cache / name / "root_cache" / "cache.tar.gz").is_file(), name
    run_owner(demo, tmp_path, state, "store2", reuse_roots=reuse)
    second = rebuild_calls(fake_mock)[len(first):]
    events = network_events(second)
    assert not [e for e in events if e[0] in ("pull", "install")], events
    assert [c["bootstrap_from"] for c in second] == ["kept"] * 3
    updates = sum(1 for e in events if e == ("update", "build"))
    assert updates == (1 if reuse else 3)  # one clean init per slot, or per job with --clean-roots
    # the explicit clean: every root, bootstrap and cache of this work dir, and what it freed
    b = MockBuilder(state_dir=state)
    cleaned = b.clean_all(tmp_path / "logs")
    assert [c.root for c in cleaned] == [root] and cleaned[0].freed > 0 and not cleaned[0].failed
    assert list(lib.iterdir()) == [] and list(cache.iterdir()) == [] and list(state.iterdir()) == []


def test_parallel_jobs_have_their_own_local_repository_ids(demo, fake_mock, tmp_path: Path) -> None:
    """Two jobs of one dist at once, each with earlier results: distinct repository ids (mock
    shares yum's cache, keyed by repo id, between the slots), each resolving against its own."""
    libdemo = MockBuilder(state_dir=tmp_path / "state").build(request_for(demo, "libdemo", "el7", tmp_path / "lib"))
    demod = MockBuilder(state_dir=tmp_path / "state").build(
        request_for(demo, "demod", "el7", tmp_path / "demod", libdemo.rpms))
    b = MockBuilder(state_dir=tmp_path / "state")
    reqs = [request_for(demo, "demod", "el7", tmp_path / "j1", libdemo.rpms),
            request_for(demo, "demo-plugin", "el7", tmp_path / "j2", libdemo.rpms + demod.rpms)]
    import threading
    errors: list[BaseException] = []

    def one(req: BuildRequest) -> None:
        try:
            b.build(req)
        except BaseException as exc:  # reported below
            errors.append(exc)
    threads = [threading.Thread(target=one, args=(r,)) for r in reqs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    calls = rebuild_calls(fake_mock)[-2:]
    assert {c["argv"][c["argv"].index("--uniqueext") + 1] for c in calls} == {"pmrepo0", "pmrepo1"}
    ids = []
    for call, req in zip(sorted(calls, key=lambda c: c["config_path"]), reqs, strict=True):
        local = {k: v for k, v in yum_conf(exec_config(call["config"])).items() if k.startswith("pmrepo-local")}
        assert len(local) == 1, local
        [(repoid, section)] = local.items()
        assert section["baseurl"] == (req.outdir.resolve() / "local-repo").as_uri()
        assert {i["repo"] for i in call["installed"]} == {repoid}  # resolved against its own repository
        ids.append(repoid)
    assert len(set(ids)) == 2, ids


def test_root_under_sudo_hands_the_job_dir_to_sudo_uid(demo, fake_mock, tools_srpm, monkeypatch) -> None:
    """pmrepo run as root through sudo: mock creates --resultdir as SUDO_UID with the mock group
    (UidManager; the stand-in too), so the backend makes each job directory that user's while mock
    runs, and root's again after; a work dir SUDO_UID cannot enter is refused in one line."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the case is pmrepo run as root through sudo (this run is not root)")
    import pwd
    nobody = pwd.getpwnam("nobody")
    monkeypatch.setenv("SUDO_UID", str(nobody.pw_uid))
    monkeypatch.setenv("SUDO_GID", str(nobody.pw_gid))
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="pmrepo-sudo-", dir="/var/tmp"))
    try:
        base.chmod(0o755)  # reachable by SUDO_UID, as a checkout under the user's home is
        req = request_for(demo, "demo-tools", "el7", base / "out")
        out = MockBuilder().build_binary(req, tools_srpm)
        assert out.rpms and all(p.stat().st_uid == 0 for p in out.rpms)
        assert req.outdir.stat().st_uid == 0 and all(p.lstat().st_uid == 0 for p in req.outdir.iterdir())
        [call] = rebuild_calls(fake_mock)
        assert call["exit"] == 0
        base.chmod(0o700)  # now SUDO_UID cannot enter it
        with pytest.raises(BuildError) as exc:
            MockBuilder().build_binary(request_for(demo, "demo-tools", "el7", base / "out2"), tools_srpm)
        msg = str(exc.value)
        assert f"SUDO_UID {nobody.pw_uid}" in msg and f"cannot enter {base}" in msg and "fix:" in msg
        assert "\n" not in msg
    finally:
        shutil.rmtree(base, ignore_errors=True)


def stand_in(cfg: Path, srpm: Path, result: Path, *extra: str) -> list[str]:
    return [str(FAKE_DIR / "mock"), "-r", str(cfg), "--rebuild", str(srpm), "--resultdir", str(result),
            "--uniqueext", "t", *extra]


def test_stand_in_root_cache_reads_every_config_mock_reads(demo, fake_mock, tools_srpm, tmp_path, monkeypatch) -> None:
    """mock's root cache is compared with every config file load_config read: site-defaults.cfg,
    chroot-aliases.cfg, the -r config and its includes, ~/.mock/user.cfg, ~/.config/mock.cfg.
    Editing any of them after run 1 deletes the cache (the stand-in checked only the -r file)."""
    confdir, home = tmp_path / "etc-mock", tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".mock").mkdir()
    confdir.mkdir()
    files = {"site": confdir / "site-defaults.cfg", "aliases": confdir / "chroot-aliases.cfg",
             "user": home / ".mock" / "user.cfg", "config": home / ".config" / "mock.cfg",
             "include": tmp_path / "extra.tpl"}
    for path in files.values():
        path.write_text("# nothing\n")
    monkeypatch.setenv("FAKE_MOCK_CONFDIR", str(confdir))
    monkeypatch.setenv("FAKE_MOCK_HOME", str(home))
    cfg = tmp_path / "m.cfg"
    cfg.write_text(f"include({str(files['include'])!r})\n" + MockBuilder(owner="").render_config(demo[0].dists["el7"]))
    old = 10**9  # every config older than the cache
    for path in [*files.values(), cfg]:
        os.utime(path, (old, old))
    assert run(stand_in(cfg, tools_srpm, tmp_path / "r"), check=False).returncode == 0
    [first] = rebuild_calls(fake_mock)
    assert set(first["config_paths"]) == {str(p) for p in [*files.values(), cfg]}
    assert first["init_from"] == "network"
    for name, path in files.items():
        assert run(stand_in(cfg, tools_srpm, tmp_path / "r"), check=False).returncode == 0  # kept
        path.touch()  # now newer than the cache
        assert run(stand_in(cfg, tools_srpm, tmp_path / "r"), check=False).returncode == 0
        os.utime(path, (old, old))
        kept, rebuilt = rebuild_calls(fake_mock)[-2:]
        assert kept["init_from"] == "cache", name
        assert rebuilt["init_from"] == "network" and rebuilt["build_cache_invalidated_by"] == str(path), name


def test_stand_in_root_cache_age_counts_from_creation(demo, fake_mock, tools_srpm, tmp_path, monkeypatch) -> None:
    """max_age_days (15) is counted from the cache's ctime — when it was made — not from its mtime
    or a config's: 14 days later it is unpacked, 16 days later rebuilt, for the bootstrap too."""
    cfg = tmp_path / "m.cfg"
    cfg.write_text(MockBuilder(owner="").render_config(demo[0].dists["el7"]))
    os.utime(cfg, (10**9, 10**9))
    base = stand_in(cfg, tools_srpm, tmp_path / "r")
    assert run(base, check=False).returncode == 0
    cache = tmp_path / "mock-cache" / "pmrepo-el7-x86_64" / "root_cache" / "cache.tar.gz"
    os.utime(cache, (10**9 + 1, 10**9 + 1))  # an old mtime: the age rule does not look at it
    monkeypatch.setenv("FAKE_MOCK_TIME_SHIFT", str(14 * 86400))
    assert run(base, check=False).returncode == 0
    boot = tmp_path / "mock-lib" / "pmrepo-el7-x86_64-bootstrap-t"
    shutil.rmtree(boot)  # without its root, the bootstrap is made from its cache, or from the image
    monkeypatch.setenv("FAKE_MOCK_TIME_SHIFT", str(16 * 86400))
    assert run(base, check=False).returncode == 0
    calls = rebuild_calls(fake_mock)
    assert [c["init_from"] for c in calls] == ["network", "cache", "network"]
    assert calls[2]["build_cache_invalidated_by"] == "age" and calls[2]["bootstrap_cache_invalidated_by"] == "age"
    assert [c["bootstrap_from"] for c in calls] == ["image", "kept", "image"]


def test_stand_in_exit_codes_of_bad_input(demo, fake_mock, tools_srpm, tmp_path: Path) -> None:
    """As mock: a bad --isolation value or plugin name and a config's bad macro are BadCmdline (5),
    a missing -r config is ConfigError (3), a bad --scrub choice is argparse's usage error (2)."""
    cfg = tmp_path / "m.cfg"
    cfg.write_text(MockBuilder(owner="").render_config(demo[0].dists["el7"]))
    bad_macro = tmp_path / "bad.cfg"
    bad_macro.write_text(cfg.read_text() + "config_opts['macros']['%two words'] = '1'\n")
    cases = [
        (stand_in(cfg, tools_srpm, tmp_path / "r", "--isolation=chroot"), 5, "Bad option for '--isolation'"),
        (stand_in(cfg, tools_srpm, tmp_path / "r", "--disable-plugin=nosuch"), 5, "--disable-plugin=nosuch"),
        (stand_in(tmp_path / "missing.cfg", tools_srpm, tmp_path / "r"), 3, "Non-existing Mock config"),
        (stand_in(bad_macro, tools_srpm, tmp_path / "r"), 5, "Bad macros"),
        ([str(FAKE_DIR / "mock"), "-r", str(cfg), "--scrub=everything"], 2, "invalid choice"),
    ]
    for argv, code, text in cases:
        res = run(argv, check=False)
        assert (res.returncode, text in res.output) == (code, True), (argv[3:], res.returncode, res.output)
