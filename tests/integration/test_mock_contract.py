"""Contract tests: the mock backend and its stand-in held to mock 6.7's own code.

mock cannot build a chroot here (no EL mirror), but its code answers most questions without one
(tests/mock_reference.py makes it runnable, tests/mock_oracle.py asks): every config the backend
writes, loaded by mock's load_config and compared with mock-core-configs' templates; every command
line it issues, parsed by mock's command_parse; two runs' configs and times put to mock's
RootCache, for the build root and the bootstrap; the result directory put to UidManager; and for
what the stand-in imitates — exit codes of bad input, the root cache's rules — the same input to
both (tests/fake_mock/paired-mock), the same answer required. A stand-in with a planted divergence
fails them. Skipped when ``../shared/reference/mock-6.7`` is absent; the stand-in stays for
everything that needs a chroot (tests/integration/test_mock_backend.py).
"""
from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO, ROOT
from mock_reference import REFERENCE, MockReference, venv_python

from pmrepo import manifest
from pmrepo.builders import BuildRequest
from pmrepo.builders.mock.builder import MockBuilder
from pmrepo.builders.mock.roots import invoker_access, mock_dirs
from pmrepo.fsutil import write_atomic
from pmrepo.render.specs import render_component
from pmrepo.sources import Fetcher, prepare

FAKE_DIR = Path(__file__).resolve().parents[1] / "fake_mock"
PAIRED = FAKE_DIR / "paired-mock"
REAL_RELEASES = [ROOT / "releases" / "1.1.14-1.1.toml", ROOT / "releases" / "1.1.13-1.1.toml"]
# the mock-core-configs config of each target (mock-core-configs/etc/mock/eol/)
TEMPLATE_CONFIG = {"el6": "eol/epel-6-x86_64", "el7": "eol/centos+epel-7-x86_64"}
# what podman on a Fedora/EL host resolves mock's short image name to (containers-common shortnames)
SHORTNAMES = {"centos:6": "quay.io/centos/centos:6"}

pytestmark = [
    pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"mock 6.7's code not found at {REFERENCE} "
                       "(../shared/reference/mock-6.7): the contract tests need it"),
    pytest.mark.skipif(shutil.which("rpmbuild") is None, reason="needs rpmbuild (make setup)"),
]


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> MockReference:
    if not venv_python().exists():
        pytest.fail(f"the mock reference venv {venv_python().parent.parent} is missing — fix: run `make setup`")
    return MockReference(tmp_path_factory.mktemp("mock-6.7"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def sections(yum_conf: str) -> dict[str, dict[str, str]]:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(yum_conf)
    return {s: dict(cp[s]) for s in cp.sections()}


# -- every config the backend writes, as mock loads it ---------------------------------------

@pytest.fixture(scope="module")
def templates(ref: MockReference, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    out = {}
    for dist, name in TEMPLATE_CONFIG.items():
        answer = ref.ask({"q": "load", "name": name}, home)
        assert answer["exit"] == 0, answer
        out[dist] = answer["opts"]
    return out


@pytest.mark.parametrize("release", [DEMO, *REAL_RELEASES], ids=["demo", "1.1.14-1.1", "1.1.13-1.1"])
@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_backend_configs_load_in_mock_as_its_templates(ref, templates, home, tmp_path, release, dist) -> None:
    """mock's load_config reads the config the backend writes (with a job's local repository, as
    build_binary writes it) to the template's values: releasever, package manager, @buildsys-build,
    isolation, bootstrap settings, [main], base/updates/extras URLs, switches and GPG keys, EPEL's key."""
    rel = manifest.load(release)
    b = MockBuilder(state_dir=tmp_path / "state")
    repo = tmp_path / "job" / "local-repo"
    repo.mkdir(parents=True)
    cfg = tmp_path / "job" / "mock.cfg"
    write_atomic(cfg, b.render_config(rel.dists[dist], repo, 1234, local_id="pmrepo-local-x-0123456789"))
    answer = ref.ask({"q": "load", "name": str(cfg)}, home)
    assert answer["exit"] == 0, answer
    ours, theirs = answer["opts"], templates[dist]
    for key in ("dist", "releasever", "package_manager", "chroot_setup_cmd", "isolation", "ssl_ca_bundle_path",
                "use_bootstrap", "use_bootstrap_image", "target_arch", "legal_host_arches"):
        assert ours.get(key) == theirs.get(key), key
    # the template's yum_install_command adds --disablerepo=centos-sclo* for its SCLo repos, which
    # pmrepo leaves out (docs/mock-build-host.md): mock's own default is left
    assert theirs["yum_install_command"] == ours["yum_install_command"] + " --disablerepo=centos-sclo*"
    assert ours["bootstrap_image"] == SHORTNAMES.get(theirs["bootstrap_image"], theirs["bootstrap_image"])
    ours_yum, theirs_yum = sections(ours["yum.conf"]), sections(theirs["yum.conf"])
    main_ours = {k: v for k, v in ours_yum["main"].items() if k != "user_agent"}
    assert main_ours == {k: v for k, v in theirs_yum["main"].items() if k != "user_agent"}
    assert ours_yum["main"]["user_agent"] == f"Mock ({ours['root']}; x86_64)"  # mock expanded it: mock >= 2.5
    for repoid in ("base", "updates", "extras"):
        for key in ("baseurl", "gpgkey", "gpgcheck", "failovermethod", "skip_if_unavailable"):
            assert ours_yum[repoid][key] == theirs_yum[repoid][key], (repoid, key)
        assert ours_yum[repoid].get("enabled", "1") == theirs_yum[repoid].get("enabled", "1"), repoid
    assert (ours_yum["epel"]["gpgkey"], ours_yum["epel"]["gpgcheck"]) == (
        theirs_yum["epel"]["gpgkey"], theirs_yum["epel"]["gpgcheck"])
    local = ours_yum["pmrepo-local-x-0123456789"]
    assert local["baseurl"] == repo.as_uri() and local["enabled"] == "1"
    assert ours["environment"]["SOURCE_DATE_EPOCH"] == "1234"
    assert ours["macros"]["%dist"] == f".{dist}"
    assert ours["config_paths"] == sorted([str(cfg), str(ref.confdir / "site-defaults.cfg"),
                                           str(ref.confdir / "chroot-aliases.cfg")])


# -- every command line the backend issues, as mock parses it --------------------------------

def test_backend_command_lines_parse_in_mock(ref, home, tmp_path) -> None:
    rel = manifest.load(DEMO)
    cfg = tmp_path / "mock.cfg"
    write_atomic(cfg, MockBuilder(owner="x").render_config(rel.dists["el7"]))
    srpm, result = tmp_path / "x.src.rpm", tmp_path / "result"
    cases = []
    for b in (MockBuilder(), MockBuilder(isolation="nspawn", root_cache=False, yum_cache=True, ccache=True),
              MockBuilder(reuse_roots=False)):
        for dist in ("el6", "el7"):
            for initialised in (False, True):
                cases.append((b, dist, b.command(cfg, srpm, result, "pmrepo1", rel.dists[dist], initialised),
                              initialised))
    for b, dist, argv, initialised in cases:
        answer = ref.ask({"q": "cmdline", "argv": argv[1:]}, home)
        assert answer["exit"] == 0, (argv, answer)
        o = answer["options"]
        assert (o["mode"], o["chroot"], o["resultdir"], o["uniqueext"], answer["args"]) == (
            "rebuild", str(cfg), str(result), "pmrepo1", [str(srpm)])
        assert o["clean"] is not (b.reuse_roots and initialised)  # --no-clean: a root this run set up
        assert o["cleanup_after"] is (False if b.reuse_roots else None)  # -N keeps the root; else mock's default
        assert o["isolation"] == b.isolation_for(rel.dists[dist])
        c = answer["config"]
        assert c["unique-ext"] == "pmrepo1" and c["clean"] is o["clean"]
        assert (c["cleanup_on_success"], c["cleanup_on_failure"]) == ((False, False) if b.reuse_roots else (True, True))
        for plugin in ("root_cache", "yum_cache", "ccache"):
            wanted = getattr(b, plugin)
            if wanted is not None:
                assert c["plugins_enabled"][plugin] is wanted, plugin
    b = MockBuilder()
    clean = ref.ask({"q": "cmdline", "argv": b.clean_command(cfg, "pmrepo1", rel.dists["el6"])[1:]}, home)
    assert clean["exit"] == 0 and clean["options"]["mode"] == "clean" and clean["options"]["scrub"] == []
    scrub = ref.ask({"q": "cmdline", "argv": ["-r", str(cfg), "--uniqueext", "pmrepo1", "--scrub=all"]}, home)
    assert scrub["exit"] == 0 and scrub["options"]["mode"] == "clean" and scrub["options"]["scrub"] == ["all"]
    debug = ref.ask({"q": "cmdline", "argv": ["-r", str(cfg), "--debug-config"]}, home)
    assert debug["exit"] == 0 and debug["options"]["mode"] == "debugconfig"


def test_debug_config_names_the_dirs_the_clean_reads(ref, home, tmp_path) -> None:
    """mock-clean finds mock's basedir and cache_topdir in `mock --debug-config`: mock prints them
    only when they differ from its defaults, in the form mock_roots.mock_dirs reads."""
    rel = manifest.load(DEMO)
    cfg = tmp_path / "mock.cfg"
    text = MockBuilder(owner="x").render_config(rel.dists["el7"])
    write_atomic(cfg, text)
    default = ref.ask({"q": "debugconfig", "name": str(cfg)}, home)["output"]
    assert mock_dirs(default) == (Path("/var/lib/mock"), Path("/var/cache/mock"))
    write_atomic(cfg, text + f"config_opts['basedir'] = {str(tmp_path / 'b')!r}\n"
                 f"config_opts['cache_topdir'] = {str(tmp_path / 'c')!r}\n")
    moved = ref.ask({"q": "debugconfig", "name": str(cfg)}, home)["output"]
    assert mock_dirs(moved) == (tmp_path / "b", tmp_path / "c")


# -- the result directory under sudo, as UidManager creates it --------------------------------

def test_result_dir_is_creatable_for_sudo_uid(ref, home, monkeypatch) -> None:
    """mock's own Buildroot.create_resultdir under UidManager(SUDO_UID, mock gid): exit 70 on a job
    directory root made, and 0 while the backend hands it to SUDO_UID (invoker_access)."""
    if os.geteuid() != 0:
        pytest.skip("needs root: UidManager switches to SUDO_UID only from root (this run is not root)")
    import pwd
    import tempfile
    nobody = pwd.getpwnam("nobody")
    monkeypatch.setenv("SUDO_UID", str(nobody.pw_uid))
    monkeypatch.setenv("SUDO_GID", str(nobody.pw_gid))
    base = Path(tempfile.mkdtemp(prefix="pmrepo-contract-", dir="/var/tmp"))
    try:
        base.chmod(0o755)
        job = base / "job"
        job.mkdir()
        q = {"q": "uid", "resultdir": str(job / "mock-result"), "uid": nobody.pw_uid, "gid": nobody.pw_gid}
        assert ref.ask(q, home)["exit"] == 70  # what the backend did before
        with invoker_access(job):
            assert ref.ask(q, home) == {"exit": 0, "message": ""}
        assert job.stat().st_uid == 0 and (job / "mock-result").lstat().st_uid == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- the same input to mock and the stand-in, the same answer ---------------------------------

@pytest.fixture
def paired(ref: MockReference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """mock_cmd = tests/fake_mock/paired-mock: mock's answer and the stand-in's for every call, over
    one config dir (mock's own, with basedir and cache_topdir under tmp_path) and one home."""
    confdir = tmp_path / "etc-mock"
    shutil.copytree(ref.confdir, confdir, symlinks=True)
    with open(confdir / "site-defaults.cfg", "a") as fh:
        fh.write(f"config_opts['basedir'] = {str(tmp_path / 'lib')!r}\n"
                 f"config_opts['cache_topdir'] = {str(tmp_path / 'cache')!r}\n")
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    for var in list(os.environ):
        if var.startswith(("FAKE_MOCK_", "PAIRED_", "PMREPO_MIRROR_")) or var in ("SUDO_UID", "SUDO_GID"):
            monkeypatch.delenv(var)
    record = tmp_path / "paired.jsonl"
    monkeypatch.setenv("PAIRED_PY", str(venv_python()))
    monkeypatch.setenv("PAIRED_MOCK_PY", str(ref.py))
    monkeypatch.setenv("PAIRED_CONFDIR", str(confdir))
    monkeypatch.setenv("PAIRED_RECORD", str(record))
    monkeypatch.setenv("FAKE_MOCK_HOME", str(home))
    monkeypatch.setenv("FAKE_MOCK_RECORD", str(tmp_path / "stand-in.jsonl"))

    def answers() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        def read(p: Path) -> list[dict[str, Any]]:
            return [json.loads(ln) for ln in p.read_text().splitlines()] if p.exists() else []
        return read(record), read(tmp_path / "stand-in.jsonl")
    return answers


def exit_mismatches(pairs: list[dict[str, Any]]) -> list[tuple[list[str], int, int]]:
    """Calls where mock refused its input (an exit before any chroot work) and the stand-in
    answered otherwise, or mock went on and the stand-in refused the input (2, 3, 5)."""
    out = []
    for p in pairs:
        if "cmdline" not in p:
            continue
        want, got = p["cmdline"]["exit"], p["stand_in_exit"]
        if (want != 0 and got != want) or (want == 0 and got in (2, 3, 5)):
            out.append((p["argv"], want, got))
    return out


def bad_inputs(tmp_path: Path, srpm: Path) -> list[list[str]]:
    rel = manifest.load(DEMO)
    cfg = tmp_path / "ok.cfg"
    write_atomic(cfg, MockBuilder(owner="x").render_config(rel.dists["el7"]))
    bad_macro = tmp_path / "bad-macro.cfg"
    write_atomic(bad_macro, cfg.read_text() + "config_opts['macros']['%two words'] = '1'\n")
    raises = tmp_path / "raises.cfg"
    write_atomic(raises, cfg.read_text() + "config_opts['nosuchkey'] += 1\n")
    build = ["--rebuild", str(srpm), "--resultdir", str(tmp_path / "r"), "--uniqueext", "t"]
    return [
        ["-r", str(cfg), *build, "--isolation=chroot"],
        ["-r", str(cfg), *build, "--disable-plugin=nosuch"],
        ["-r", str(tmp_path / "missing.cfg"), *build],
        ["-r", "no-such-config-name", *build],
        ["-r", str(bad_macro), *build],
        ["-r", str(raises), *build],
        ["-r", str(cfg), "--scrub=everything"],
        ["-r", str(cfg), "--uniqueext", "t", "--scrub=all"],
    ]


def test_stand_in_exits_as_mock_on_bad_input(paired, tmp_path) -> None:
    for argv in bad_inputs(tmp_path, tmp_path / "x.src.rpm"):
        subprocess.run([str(PAIRED), *argv], check=False, capture_output=True)
    pairs, _ = paired()
    assert len(pairs) == 8 and [p["cmdline"]["exit"] for p in pairs] == [5, 5, 3, 3, 5, 3, 2, 0]
    assert exit_mismatches(pairs) == []


def planted(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the stand-in with one divergence from mock planted."""
    text = (FAKE_DIR / "mock").read_text()
    assert old in text
    path = tmp_path / "planted-mock"
    path.write_text(text.replace(old, new))
    return path


def test_a_planted_exit_divergence_fails_the_contract(paired, tmp_path, monkeypatch) -> None:
    """The stand-in's old answer, exit 2 for a bad --isolation (argparse choices), is caught."""
    monkeypatch.setenv("PAIRED_STAND_IN", str(planted(
        tmp_path, 'p.add_argument("--isolation")',
        'p.add_argument("--isolation", choices=["auto", "nspawn", "simple"])')))
    for argv in bad_inputs(tmp_path, tmp_path / "x.src.rpm"):
        subprocess.run([str(PAIRED), *argv], check=False, capture_output=True)
    mismatches = exit_mismatches(paired()[0])
    assert [(m[1], m[2]) for m in mismatches] == [(5, 2)] and "--isolation=chroot" in mismatches[0][0]


def cache_mismatches(pairs: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[str]:
    """For every build: did mock's RootCache delete / unpack the build root's and the bootstrap's
    cache where the stand-in did (``*_cache_invalidated_by``, init_from / bootstrap_from == cache)?"""
    builds = [p for p in pairs if "root_cache" in p]
    rebuilds = [r for r in records if r.get("mode") == "rebuild"]
    assert len(builds) == len(rebuilds), (len(builds), len(rebuilds))
    out = []
    for n, (p, r) in enumerate(zip(builds, rebuilds, strict=True)):
        for kind, made in (("build", r.get("init_from")), ("bootstrap", r.get("bootstrap_from"))):
            mock = p["root_cache"][kind]
            stand_in = {"deleted": bool(r.get(f"{kind}_cache_invalidated_by")), "unpacked": made == "cache"}
            if {k: mock[k] for k in stand_in} != stand_in:
                out.append(f"call {n} {kind}: mock {mock} stand-in {stand_in}")
    return out


@pytest.fixture(scope="module")
def libdemo_job(tmp_path_factory: pytest.TempPathFactory):
    rel = manifest.load(DEMO)
    work = tmp_path_factory.mktemp("libdemo")
    comp = next(c for c in rel.components if c.name == "libdemo")
    dest = work / "sources"
    prepare(comp, rel, dest, Fetcher(work / "cache"))
    spec = work / "libdemo.spec"
    write_atomic(spec, render_component(rel, rel.dists["el7"], comp))
    return rel, spec, dest


def two_runs_and_more(libdemo_job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path) -> MockBuilder:
    """Run 1 (cold), run 2 (nothing changed), run 3 (~/.config/mock.cfg edited, bootstrap root gone),
    run 4 (16 days later, bootstrap root gone): one libdemo job each, ended as the pipeline ends a run."""
    rel, spec, sources = libdemo_job
    state = tmp_path / "work" / "mock"
    boot = None
    for n in range(1, 5):
        if n == 3:
            (home / ".config" / "mock.cfg").write_text("# edited after run 1\n")
        if n == 4:
            monkeypatch.setenv("FAKE_MOCK_TIME_SHIFT", str(16 * 86400))
        if n >= 3 and boot is not None:
            shutil.rmtree(boot)  # without its root, the bootstrap comes from its cache or the image
        b = MockBuilder(state_dir=state, mock_cmd=str(PAIRED))
        out = tmp_path / f"run{n}"
        out.mkdir()
        b.build(BuildRequest("libdemo", rel.dists["el7"], spec, sources, (), out, rel.epoch))
        b.finish(tmp_path / "logs")
        boot = tmp_path / "lib" / f"{b.root_name(rel.dists['el7'])}-bootstrap-pmrepo0"
    return b


def test_root_cache_as_mock_decides_over_two_runs(paired, libdemo_job, tmp_path, monkeypatch) -> None:
    """mock's RootCache, given each run's configs and times: nothing to unpack on run 1; run 2
    unpacks the build root's cache (the job config keeps the stable mtime) and keeps the bootstrap;
    run 3, after ~/.config/mock.cfg changed, deletes both caches; run 4, 16 days on, deletes both
    for their age. The stand-in decided the same every time."""
    home = Path(os.environ["FAKE_MOCK_HOME"])
    two_runs_and_more(libdemo_job, tmp_path, monkeypatch, home)
    pairs, records = paired()
    builds = [p["root_cache"] for p in pairs if "root_cache" in p]
    assert [(b["build"]["existed"], b["build"]["deleted"], b["build"]["unpacked"]) for b in builds] == [
        (False, False, False), (True, False, True), (True, True, False), (True, True, False)]
    assert [(b["bootstrap"]["existed"], b["bootstrap"]["deleted"], b["bootstrap"]["unpacked"]) for b in builds] == [
        (False, False, False), (True, False, False), (True, True, False), (True, True, False)]
    assert "mock.cfg newer than root cache" in builds[2]["build"]["log"]
    assert "aged out" in builds[3]["build"]["log"] and "aged out" in builds[3]["bootstrap"]["log"]
    assert cache_mismatches(pairs, records) == []
    assert exit_mismatches(pairs) == []


def test_a_planted_cache_divergence_fails_the_contract(paired, libdemo_job, tmp_path, monkeypatch) -> None:
    """The stand-in's old rule, only the -r file against the cache, is caught on run 3."""
    monkeypatch.setenv("PAIRED_STAND_IN", str(planted(
        tmp_path, 'for path in cfg["config_paths"]:', "for path in [args.root]:")))
    two_runs_and_more(libdemo_job, tmp_path, monkeypatch, Path(os.environ["FAKE_MOCK_HOME"]))
    mismatches = cache_mismatches(*paired())
    assert mismatches and all(m.startswith("call 2 ") for m in mismatches), mismatches
