"""``pmrepo.builders.mock.roots``: who mock acts as under sudo and the job directory handed to that user
(refused in one line where that user cannot reach it), and the explicit clean: mock's directories read
from ``--debug-config``, each root's slots found in its basedir, what was freed, and the stable config
removed only when mock removed everything (mock replaced by a stand-in ``run``)."""

from __future__ import annotations

import grp
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pmrepo.builders.mock import roots
from pmrepo.errors import BuildError
from pmrepo.run import Result

NOBODY = 65534


# -- the invoking user ------------------------------------------------------------------------


def _no_group(name: str) -> object:
    raise KeyError(name)


@pytest.mark.parametrize(
    "euid, sudo_uid, expected",
    [(1000, "1000", None), (0, "", None), (0, "abc", None), (0, "0", None), (0, "1000", 1000)],
)
def test_mock_acts_as_the_sudo_user_only_when_root_under_sudo(
    monkeypatch: pytest.MonkeyPatch, euid: int, sudo_uid: str, expected: int | None
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    monkeypatch.setenv("SUDO_UID", sudo_uid)
    monkeypatch.setenv("SUDO_GID", "1001")
    monkeypatch.setattr(grp, "getgrnam", _no_group)
    got = roots.invoker()
    assert got == (None if expected is None else (expected, 1001))


def test_the_mock_group_is_preferred_to_sudo_gid(monkeypatch: pytest.MonkeyPatch) -> None:
    class Group:
        gr_gid = 135

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("SUDO_UID", "1000")
    monkeypatch.setenv("SUDO_GID", "1001")
    monkeypatch.setattr(grp, "getgrnam", lambda name: Group())
    assert roots.invoker() == (1000, 135)


def test_the_first_directory_a_user_cannot_enter(tmp_path: Path) -> None:
    job = tmp_path / "open" / "closed" / "job"
    job.mkdir(parents=True)
    (tmp_path / "open").chmod(0o755)
    (tmp_path / "open" / "closed").chmod(0o700)
    closed_to_others = [p for p in reversed(job.resolve().parents) if not p.stat().st_mode & 0o001]
    assert roots.unreachable(job, NOBODY, NOBODY) == closed_to_others[0]  # pytest's 0700 base, or closed/
    assert roots.unreachable(job, os.geteuid(), os.getegid()) is None  # the owner enters everything
    st = (tmp_path / "open" / "closed").stat()
    assert not roots._may(st, NOBODY, NOBODY, 1) and roots._may(st, st.st_uid, NOBODY, 7)
    assert roots._may(st, NOBODY, st.st_gid, 0) and not roots._may(os.stat("/"), NOBODY, NOBODY, 2)


def test_without_sudo_the_job_directory_stays_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roots, "invoker", lambda: None)
    before = tmp_path.stat()
    with roots.invoker_access(tmp_path):
        assert tmp_path.stat().st_uid == before.st_uid


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a directory to another user needs root (sudo's case)")
def test_under_sudo_the_job_directory_is_the_users_while_mock_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = Path(os.environ.get("PMREPO_TEST_OPEN_DIR", "/var/tmp")) / f"pmrepo-roots-test-{os.getpid()}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(mode=0o755)
    try:
        outdir = base / "job"
        outdir.mkdir(mode=0o755)
        (outdir / "mock.cfg").write_text("x\n")
        monkeypatch.setattr(roots, "invoker", lambda: (NOBODY, NOBODY))
        with roots.invoker_access(outdir):
            assert (outdir.stat().st_uid, outdir.stat().st_gid) == (NOBODY, NOBODY)
            (outdir / "mock-result").mkdir()
            os.chown(outdir / "mock-result", NOBODY, NOBODY)  # what mock makes as that user
        assert outdir.stat().st_uid == 0 and (outdir / "mock-result").stat().st_uid == 0
        assert (outdir / "mock.cfg").stat().st_uid == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_job_directory_the_user_cannot_reach_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = tmp_path / "closed"
    (closed / "job").mkdir(parents=True)
    closed.chmod(0o700)
    monkeypatch.setattr(roots, "invoker", lambda: (NOBODY, NOBODY))
    with pytest.raises(BuildError) as info, roots.invoker_access(closed / "job"):
        pass
    message = str(info.value)
    assert message.startswith(
        f"{closed / 'job'}: mock creates its result directory as the invoking user (SUDO_UID 65534)"
    )
    assert "(mode 0700) — fix: give --workdir a path uid 65534 can reach" in message and "\n" not in message
    assert (closed / "job").stat().st_uid == os.geteuid()


# -- the explicit clean ----------------------------------------------------------------------------


def test_mocks_directories_come_from_its_debug_config() -> None:
    out = "config_opts['basedir'] = '/srv/mock'\nconfig_opts['cache_topdir'] = '/srv/cache'\n"
    assert roots.mock_dirs(out) == (Path("/srv/mock"), Path("/srv/cache"))
    assert roots.mock_dirs("config_opts['root'] = 'x'\n") == (Path("/var/lib/mock"), Path("/var/cache/mock"))
    assert roots.mock_dirs("config_opts['basedir'] = '/a\\'b'\n")[0] == Path("/var/lib/mock")  # not a plain string


def test_disk_usage_counts_hard_links_once_and_follows_no_symlink(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "big").write_bytes(os.urandom(64 * 1024))
    os.link(tmp_path / "d" / "big", tmp_path / "d" / "link")
    (tmp_path / "d" / "sym").symlink_to("/usr")
    one, partial = roots.disk_usage([tmp_path / "d"])
    assert not partial and 64 * 1024 <= one < 2 * 64 * 1024
    assert roots.disk_usage([tmp_path / "missing"]) == (0, False)


@pytest.mark.parametrize(
    "n, shown", [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (5 * 2**20, "5.0 MiB"), (3 * 2**40, "3072.0 GiB")]
)
def test_sizes_are_shown_in_binary_units(n: int, shown: str) -> None:
    assert roots.human(n) == shown


def test_the_slots_of_a_root_are_found_in_the_basedir(tmp_path: Path) -> None:
    for name in ("r-pmrepo0", "r-bootstrap-pmrepo0", "r-bootstrap-pmrepo2", "r-other", "rx-pmrepo5", "r-pmrepo1x"):
        (tmp_path / name).mkdir()
    slot = re.compile(r"pmrepo\d+\Z")
    assert roots.root_slots(tmp_path, "r", slot) == ["pmrepo0", "pmrepo2"]
    assert roots.root_slots(tmp_path / "missing", "r", slot) == []


class FakeMock:
    """``run`` for the clean: --debug-config names ``basedir``; --scrub=all removes a slot's roots and
    the caches, exiting ``scrub_code``."""

    def __init__(self, basedir: Path, cachedir: Path, scrub_code: int = 0) -> None:
        self.basedir, self.cachedir, self.scrub_code = basedir, cachedir, scrub_code
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], **kw: Any) -> Result:
        argv = [str(a) for a in argv]
        self.calls.append(argv)
        if argv[-1] == "--debug-config":
            out = f"config_opts['basedir'] = '{self.basedir}'\nconfig_opts['cache_topdir'] = '{self.cachedir}'\n"
            return Result(argv, 0, out, None)
        root, slot = Path(argv[2]).stem, argv[4]
        if self.scrub_code == 0:
            for path in (
                self.basedir / f"{root}-{slot}",
                self.basedir / f"{root}-bootstrap-{slot}",
                self.cachedir / root,
            ):
                shutil.rmtree(path, ignore_errors=True)
        return Result(argv, self.scrub_code, "", None)


def _mock_host(tmp_path: Path) -> tuple[Path, Path, Path]:
    state, basedir, cachedir = tmp_path / "state", tmp_path / "lib", tmp_path / "cache"
    state.mkdir()
    (state / "pmrepo-el7-x86_64-w1.cfg").write_text("config\n")
    for d in ("pmrepo-el7-x86_64-w1-pmrepo0", "pmrepo-el7-x86_64-w1-bootstrap-pmrepo0", "pmrepo-el7-x86_64-w1-pmrepo1"):
        (basedir / d).mkdir(parents=True)
        (basedir / d / "data").write_bytes(os.urandom(8192))
    (cachedir / "pmrepo-el7-x86_64-w1").mkdir(parents=True)
    (cachedir / "pmrepo-el7-x86_64-w1" / "cache.tar.gz").write_bytes(os.urandom(8192))
    return state, basedir, cachedir


def test_the_clean_scrubs_every_slot_and_says_what_it_freed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state, basedir, cachedir = _mock_host(tmp_path)
    fake = FakeMock(basedir, cachedir)
    monkeypatch.setattr(roots, "run", fake)
    said: list[str] = []
    (cleaned,) = roots.clean_roots(state, "mock", "pmrepo", tmp_path / "clean.log", said.append)
    assert said == ["mock-clean: 1/1 pmrepo-el7-x86_64-w1"]
    cfg = str(state / "pmrepo-el7-x86_64-w1.cfg")
    assert fake.calls == [
        ["mock", "-r", cfg, "--debug-config"],
        ["mock", "-r", cfg, "--uniqueext", "pmrepo0", "--scrub=all"],
        ["mock", "-r", cfg, "--uniqueext", "pmrepo1", "--scrub=all"],
    ]
    assert cleaned.root == "pmrepo-el7-x86_64-w1" and cleaned.slots == ("pmrepo0", "pmrepo1")
    assert len(cleaned.paths) == 4 and cleaned.freed >= 4 * 8192 and cleaned.failed == () and not cleaned.partial
    assert not (state / "pmrepo-el7-x86_64-w1.cfg").exists()


def test_a_failed_scrub_keeps_the_config_for_the_next_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state, basedir, cachedir = _mock_host(tmp_path)
    monkeypatch.setattr(roots, "run", FakeMock(basedir, cachedir, scrub_code=60))
    (cleaned,) = roots.clean_roots(state, "mock", "pmrepo", tmp_path / "clean.log", lambda s: None)
    assert cleaned.failed == (60, 60) and cleaned.freed == 0
    assert (state / "pmrepo-el7-x86_64-w1.cfg").is_file()


def test_a_root_with_no_slot_left_is_scrubbed_once_for_its_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, basedir, cachedir = _mock_host(tmp_path)
    shutil.rmtree(basedir)
    fake = FakeMock(basedir, cachedir)
    monkeypatch.setattr(roots, "run", fake)
    (cleaned,) = roots.clean_roots(state, "mock", "pmrepo", tmp_path / "clean.log", lambda s: None)
    assert cleaned.slots == ("pmrepo0",) and [c[4] for c in fake.calls[1:]] == ["pmrepo0"]
    assert not (cachedir / "pmrepo-el7-x86_64-w1").exists()


def test_nothing_to_clean_without_a_state_dir(tmp_path: Path) -> None:
    assert roots.clean_roots(tmp_path / "none", "mock", "pmrepo", tmp_path / "log", lambda s: None) == []
