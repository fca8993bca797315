"""``pmrepo.builders.mock.builder``: what the mock backend decides and hands to mock — its options
checked, the root names, mock's command lines per slot, the version gate, the dists' repositories
refused up front, the stable config that keeps mock's root cache, and a build's results and exit
codes. mock itself is replaced by a stand-in ``run`` that records each command and leaves what mock
would; nothing here runs mock (tests/fake_mock and the integration layer do)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from pmrepo.builders.base import BuildRequest
from pmrepo.builders.mock import builder as mock_builder
from pmrepo.builders.mock import config as mock_config
from pmrepo.builders.mock import roots as mock_roots
from pmrepo.builders.mock.builder import MockBuilder, explaining_tail
from pmrepo.builders.mock.exits import MIN_MOCK_VERSION, MockPackageManagerError, MockPrivilegeError, MockVersionError
from pmrepo.errors import BuildError, UsageError
from pmrepo.manifest import Dist
from pmrepo.run import Result

EL6 = Dist("el6", ".el6", 6, {}, (), {}, "centos:6")
EL7 = Dist("el7", ".el7", 7, {}, (), {}, "centos:7")


def _builder(tmp_path: Path, **kw: Any) -> MockBuilder:
    return MockBuilder(state_dir=tmp_path / "state", **kw)


# -- options --------------------------------------------------------------------------------


def test_the_owner_is_a_hash_of_the_state_dir(tmp_path: Path) -> None:
    b = _builder(tmp_path)
    assert b.owner == hashlib.sha256(str((tmp_path / "state").resolve()).encode()).hexdigest()[:8]
    assert _builder(tmp_path).owner == b.owner and MockBuilder(state_dir=tmp_path / "other").owner != b.owner
    assert MockBuilder().owner != MockBuilder().owner  # no state dir: an owner of its own


@pytest.mark.parametrize(
    "option, message",
    [
        ({"owner": "a b"}, r"mock owner 'a b' — fix: use letters, digits and \._-"),
        ({"isolation": "chroot"}, r"mock isolation 'chroot' is not supported — fix: use simple or nspawn"),
        ({"uniqueext_prefix": ""}, r"mock uniqueext_prefix '' — fix: use letters"),
        ({"uniqueext_prefix": "a/../b"}, r"mock uniqueext_prefix 'a/\.\./b' — fix"),
        ({"bootstrap_images": {"el6": "centos 6"}}, r"mock bootstrap_image\.el6='centos 6': not an image reference"),
        ({"bootstrap_images": {"": "x';import os"}}, r"mock bootstrap_image=\"x';import os\": not an image"),
    ],
)
def test_a_bad_option_is_a_one_line_usage_error(tmp_path: Path, option: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        _builder(tmp_path, **option)
    assert "\n" not in str(info.value) and "fix:" in str(info.value)


def test_root_names_carry_the_owner_except_in_build_keys(tmp_path: Path) -> None:
    b = _builder(tmp_path, owner="w1")
    assert b.root_name(EL7) == "pmrepo-el7-x86_64-w1" and b.root_name(EL7, owned=False) == "pmrepo-el7-x86_64"
    assert _builder(tmp_path, owner="w2").config_id(EL7) == b.config_id(EL7)  # the work dir changes no key
    assert "pmrepo-el7-x86_64-w1" not in b.config_id(EL7)
    assert b.config_id(EL7).endswith("\n# reuse_roots=True\n")
    assert _builder(tmp_path, owner="w1", reuse_roots=False).config_id(EL7) != b.config_id(EL7)
    assert _builder(tmp_path, owner="w1", isolation="nspawn").config_id(EL6) != b.config_id(EL6)


def test_half_the_cores_build_at_once(tmp_path: Path) -> None:
    assert [_builder(tmp_path).default_jobs(n) for n in (1, 2, 3, 8)] == [1, 1, 1, 4]
    assert _builder(tmp_path).can_provide("anything-from-the-dists-repositories")


# -- mock's command lines ---------------------------------------------------------------------


def test_the_first_job_of_a_slot_cleans_the_root_and_keeps_it(tmp_path: Path) -> None:
    b = _builder(tmp_path)
    argv = b.command(Path("/w/mock.cfg"), Path("/w/a.src.rpm"), Path("/w/mock-result"), "pmrepo0", EL7)
    assert argv == [
        "mock", "-r", "/w/mock.cfg", "--rebuild", "/w/a.src.rpm",
        "--resultdir", "/w/mock-result", "--uniqueext", "pmrepo0", "--no-cleanup-after",
    ]  # fmt: skip
    again = b.command(Path("/w/mock.cfg"), Path("/w/a.src.rpm"), Path("/w/r"), "pmrepo0", EL7, initialised=True)
    assert again[-2:] == ["--no-clean", "--no-cleanup-after"]


def test_el6_runs_with_simple_isolation_and_plugins_as_asked(tmp_path: Path) -> None:
    b = _builder(tmp_path, root_cache=False, yum_cache=True, mock_cmd="/opt/mock/bin/mock")
    argv = b.command(Path("c.cfg"), Path("a.src.rpm"), Path("r"), "pmrepo1", EL6)
    assert argv[0] == "/opt/mock/bin/mock" and "--isolation=simple" in argv
    assert argv[-2:] == ["--disable-plugin=root_cache", "--enable-plugin=yum_cache"]
    assert not any("ccache" in a for a in argv)  # mock's default for what is not set
    assert not any(a.startswith("--isolation") for a in b.command(Path("c"), Path("a"), Path("r"), "x", EL7))


def test_clean_roots_gives_every_job_a_fresh_root(tmp_path: Path) -> None:
    b = _builder(tmp_path, reuse_roots=False)
    argv = b.command(Path("c.cfg"), Path("a.src.rpm"), Path("r"), "pmrepo0", EL7, initialised=True)
    assert "--no-clean" not in argv and "--no-cleanup-after" not in argv


def test_the_clean_command_is_the_build_root_of_one_slot(tmp_path: Path) -> None:
    b = _builder(tmp_path)
    assert b.clean_command(Path("c.cfg"), "pmrepo3", EL6) == [
        "mock", "-r", "c.cfg", "--uniqueext", "pmrepo3", "--isolation=simple", "--clean",
    ]  # fmt: skip


def test_parallel_jobs_of_one_root_get_their_own_slot(tmp_path: Path) -> None:
    b = _builder(tmp_path)
    with b._slot("r") as first, b._slot("r") as second, b._slot("other") as other:
        assert (first, second, other) == ("pmrepo0", "pmrepo1", "pmrepo0")
    with b._slot("r") as again:
        assert again == "pmrepo0"  # released


# -- the version gate -----------------------------------------------------------------------------


def _fake_run(outputs: dict[str, tuple[int, str]], calls: list[list[str]]) -> Callable[..., Result]:
    def fake(argv: Sequence[str], **kw: Any) -> Result:
        argv = [str(a) for a in argv]
        calls.append(argv)
        code, out = outputs.get(argv[-1], (0, ""))
        return Result(argv, code, out, kw.get("log_file"))

    return fake


def test_the_version_is_asked_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(mock_builder, "run", _fake_run({"--version": (0, "6.7\n")}, calls))
    b = _builder(tmp_path)
    assert b.check_version() == (6, 7) and b.check_version() == (6, 7)
    assert calls == [["mock", "--version"]]


@pytest.mark.parametrize(
    "code, output, error, message",
    [
        (
            0,
            "2.4\n",
            MockVersionError,
            r"mock 2\.4 is too old: pmrepo needs mock >= 2\.5 for config_opts\['user_agent'\]",
        ),
        (
            1,
            "",
            MockVersionError,
            r"did not give a version \(exit 1: no output\) — fix: install a released mock >= 2\.5",
        ),
        (0, "mock from git\n", MockVersionError, r"did not give a version \(exit 0: mock from git\)"),
        (1, "ERROR: mock will not run from the root account\n", MockPrivilegeError, r"plain root account \(exit 1\)"),
        (
            2,
            "OSError: [Errno 1] Operation not permitted\n",
            MockPrivilegeError,
            r"without its setuid wrapper \(exit 2\)",
        ),
    ],
)
def test_a_mock_that_cannot_serve_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, output: str, error: type[Exception], message: str
) -> None:
    assert MIN_MOCK_VERSION == (2, 5)
    monkeypatch.setattr(mock_builder, "run", _fake_run({"--version": (code, output)}, []))
    with pytest.raises(error, match=message) as info:
        _builder(tmp_path).check_version()
    assert "\n" not in str(info.value) and "— fix:" in str(info.value)


# -- the dists' repositories ---------------------------------------------------------------------


def test_a_misspelt_mirror_variable_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMREPO_MIRROR_EL7_BASE", "http://mirror.internal/7/os/$basearch/")
    _builder(tmp_path).check_dists([EL6, EL7])  # a repo of el7: fine
    monkeypatch.setenv("PMREPO_MIRROR_EPLE", "http://mirror.internal/epel/")
    with pytest.raises(UsageError) as info:
        _builder(tmp_path).check_dists([EL6, EL7])
    assert str(info.value) == (
        "environment PMREPO_MIRROR_EPLE: names no repository of dists el6, el7 — fix: use "
        "PMREPO_MIRROR_<REPOID> or PMREPO_MIRROR_<DIST>_<REPOID> with a repo id of base, epel, extras, updates"
    )


def test_a_bad_manifest_repository_is_named_with_the_manifest(tmp_path: Path) -> None:
    bad = Dist("el7", ".el7", 7, {}, (), {"base": "http://x/'quoted'/"}, "centos:7")
    with pytest.raises(UsageError, match=r"^manifest \[dists\.el7\] base_repos\.base: "):
        _builder(tmp_path).check_dists([bad])
    with pytest.raises(UsageError, match=r"^/r/release\.toml: \[dists\.el7\] base_repos\.base: .* — fix:"):
        _builder(tmp_path).check_dists([bad], Path("/r/release.toml"))


def test_the_recorded_repositories_are_the_enabled_ones_without_credentials(tmp_path: Path) -> None:
    b = _builder(
        tmp_path,
        mirrors={"el6/base": "https://me:s3cret@mirror.internal/6/os/$basearch/"},
        repo_enabled={"extras": False},
    )
    got = b.build_repositories(EL6)
    assert got is not None and set(got) == {"base", "epel"}  # el6's updates is off in mock's template
    assert got["base"] == "https://***@mirror.internal/6/os/$basearch/" and "s3cret" not in str(got)


# -- the stable config -------------------------------------------------------------------------------


def test_the_stable_config_is_rewritten_only_when_its_bytes_change(tmp_path: Path) -> None:
    b = _builder(tmp_path, owner="w1")
    path = b.root_config(EL7)
    assert path == tmp_path / "state" / "pmrepo-el7-x86_64-w1.cfg"
    assert path.read_text() == b.render_config(EL7)
    os.utime(path, (1_000_000, 1_000_000))
    assert b.root_config(EL7).stat().st_mtime == 1_000_000  # unchanged: mock's root cache stays valid
    b.chroot_setup_cmd = "install @buildsys-build ccache"
    assert b.root_config(EL7).stat().st_mtime != 1_000_000 and "ccache" in path.read_text()


def test_without_a_state_dir_the_builder_keeps_a_private_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(mock_builder, "run", _fake_run({}, calls))
    monkeypatch.setattr(mock_roots, "run", _fake_run({}, calls))
    b = MockBuilder()
    state = b.root_config(EL7).parent
    assert state.stat().st_mode & 0o777 == 0o700 and state.name.startswith("pmrepo-mock-state-")
    b.finish(tmp_path / "logs")
    assert b.state_dir is None and not state.exists()


# -- a build --------------------------------------------------------------------------------------------


class FakeMock:
    """``run`` for builds: createrepo_c makes repodata/; mock -r … --rebuild exits ``code`` and leaves
    ``rpms`` and ``logs`` in its result directory (and its config is kept for inspection)."""

    def __init__(self, code: int = 0, rpms: Sequence[str] = (), logs: dict[str, str] | None = None) -> None:
        self.code, self.rpms, self.logs = code, rpms, logs or {}
        self.calls: list[list[str]] = []
        self.configs: list[tuple[str, float]] = []

    def __call__(self, argv: Sequence[str], **kw: Any) -> Result:
        argv = [str(a) for a in argv]
        self.calls.append(argv)
        if argv[0] == "createrepo_c":
            (Path(argv[-1]) / "repodata").mkdir(exist_ok=True)
            return Result(argv, 0, "", None)
        if "--rebuild" in argv:
            cfg = Path(argv[argv.index("-r") + 1])
            self.configs.append((cfg.read_text(), cfg.stat().st_mtime))
            result = Path(argv[argv.index("--resultdir") + 1])
            result.mkdir(parents=True, exist_ok=True)
            for name in self.rpms:
                (result / name).write_bytes(b"rpm\n")
            for name, text in self.logs.items():
                (result / name).write_text(text)
            return Result(argv, self.code, "", None)
        return Result(argv, 0, "", None)


def _build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeMock, component: str = "a", deps: tuple[Path, ...] = ()
) -> tuple[MockBuilder, BuildRequest, Path]:
    monkeypatch.setattr(mock_builder, "run", fake)
    monkeypatch.setattr(MockBuilder, "check_available", lambda self: None)
    outdir = tmp_path / "jobs" / component
    outdir.mkdir(parents=True)
    srpm = tmp_path / f"{component}-1-1.el7.src.rpm"
    srpm.write_bytes(b"srpm\n")
    req = BuildRequest(component, EL7, tmp_path / "a.spec", tmp_path / "src", deps, outdir, 1_700_000_000)
    return _builder(tmp_path, owner="w1"), req, srpm


def test_a_build_takes_the_binary_rpms_and_mocks_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMock(0, ["a-1-1.el7.src.rpm", "a-1-1.el7.x86_64.rpm"], {"build.log": "ok\n", "root.log": "ok\n"})
    b, req, srpm = _build(tmp_path, monkeypatch, fake)
    out = b.build_binary(req, srpm)
    assert out.srpm == srpm and [p.name for p in out.rpms] == ["a-1-1.el7.x86_64.rpm"]  # mock's SRPM is not kept
    assert [p.name for p in out.logs] == ["build.log", "root.log", "mock.log"]
    assert not (req.outdir / "mock-result").exists()
    ((text, mtime),) = fake.configs
    assert mtime == b.root_config(EL7).stat().st_mtime  # the job's config dated like the root's stable one
    assert "config_opts['environment']['SOURCE_DATE_EPOCH'] = '1700000000'" in text
    assert "[pmrepo-local" not in text  # no dependencies: no local repository


def test_the_second_job_of_a_slot_reuses_its_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMock(0, ["a-1-1.el7.x86_64.rpm"])
    b, req, srpm = _build(tmp_path, monkeypatch, fake)
    b.build_binary(req, srpm)
    second = BuildRequest("b", EL7, req.spec, req.sources, (), tmp_path / "jobs" / "b", 1_700_000_000)
    second.outdir.mkdir()
    b.build_binary(second, srpm)
    first_argv, second_argv = (c for c in fake.calls if "--rebuild" in c)
    assert "--no-clean" not in first_argv and "--no-clean" in second_argv
    assert first_argv[first_argv.index("--uniqueext") + 1] == second_argv[second_argv.index("--uniqueext") + 1]
    calls: list[list[str]] = []
    monkeypatch.setattr(mock_builder, "run", _fake_run({}, calls))
    b.finish(tmp_path / "logs")  # the end of the run: the kept root is cleaned, once
    assert [c[-1] for c in calls] == ["--clean"] and calls[0][calls[0].index("--uniqueext") + 1] == "pmrepo0"
    calls.clear()
    b.finish(tmp_path / "logs")
    assert calls == []


def test_keep_roots_leaves_the_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMock(0, ["a-1-1.el7.x86_64.rpm"])
    b, req, srpm = _build(tmp_path, monkeypatch, fake)
    b.keep_roots = True
    b.build_binary(req, srpm)
    fake.calls.clear()
    b.finish(tmp_path / "logs")
    assert fake.calls == []


def test_earlier_results_are_a_local_repository_of_the_jobs_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = tmp_path / "dep-devel-1-1.el7.x86_64.rpm"
    dep.write_bytes(b"dep\n")
    fake = FakeMock(0, ["a-1-1.el7.x86_64.rpm"])
    b, req, srpm = _build(tmp_path, monkeypatch, fake, deps=(dep,))
    b.build_binary(req, srpm)
    repo = req.outdir.resolve() / "local-repo"
    assert (repo / dep.name).read_bytes() == b"dep\n"
    assert ["createrepo_c", "--general-compress-type=gz", "--database", "--checksum", "sha256", str(repo)] in fake.calls
    text = fake.configs[0][0]
    repo_id = mock_config.local_repo_id("a", repo)
    assert f"\n[{repo_id}]\n" in text and f"baseurl={repo.as_uri()}\n" in text


def test_a_failed_build_is_the_exit_codes_error_naming_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root_log = "DEBUG installing\nError: No Package found for libqb-devel\nChild return code was: 1\nTraceback\n"
    fake = FakeMock(30, ["a-1-1.el7.x86_64.rpm"], {"root.log": root_log})
    b, req, srpm = _build(tmp_path, monkeypatch, fake)
    with pytest.raises(MockPackageManagerError) as info:
        b.build_binary(req, srpm)
    assert str(info.value).startswith("a (el7): mock package manager failed (exit 30); root.log: Error: No Package")
    assert info.value.log == req.outdir / "root.log" and info.value.returncode == 30
    assert not (req.outdir / "mock-result").exists() and not (req.outdir / "a-1-1.el7.x86_64.rpm").exists()
    assert "before the package build started" in (req.outdir / "build.log").read_text()


def test_exit_0_without_binary_rpms_is_a_build_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b, req, srpm = _build(tmp_path, monkeypatch, FakeMock(0, ["a-1-1.el7.src.rpm"]))
    with pytest.raises(BuildError, match=r"^a \(el7\): mock exited 0 but left no binary RPMs in .*mock-result$"):
        b.build_binary(req, srpm)


def test_a_result_that_is_not_a_regular_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class LinkingMock(FakeMock):
        def __call__(self, argv: Sequence[str], **kw: Any) -> Result:
            res = super().__call__(argv, **kw)
            if "--rebuild" in res.argv:
                (Path(res.argv[res.argv.index("--resultdir") + 1]) / "a-1-1.el7.x86_64.rpm").symlink_to("/etc/shadow")
            return res

    b, req, srpm = _build(tmp_path, monkeypatch, LinkingMock(0))
    with pytest.raises(BuildError, match=r"^a \(el7\): .* — fix: mock leaves its results as regular files"):
        b.build_binary(req, srpm)


def test_mock_log_tail_stops_at_mocks_epilogue(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(
        "Executing(%build)\n+ make\ndemod.c:3: error: 'x' undeclared\nmake: *** [demod] Error 1\n"
        "Child return code was: 1\nEXCEPTION: [Error('Command failed')]\nTraceback (most recent call last):\n"
    )
    tail, line = explaining_tail(log)
    assert "Child return code" not in tail and "Traceback" not in tail
    assert line in ("make: *** [demod] Error 1", "demod.c:3: error: 'x' undeclared")
    assert explaining_tail(tmp_path / "missing.log") == ("", "no output")
