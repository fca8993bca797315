"""pmrepo.lock: one run per work (and output) directory, an flock on ``.pmrepo.lock`` that names
its holder to the run it refuses, opened without following a symlink."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pmrepo.errors import LockError
from pmrepo.lock import WorkdirLock


def test_the_lock_records_its_holder_and_is_released(tmp_path: Path) -> None:
    work = tmp_path / "new" / "work"  # made when missing
    with WorkdirLock(work) as lock:
        holder = json.loads(lock.path.read_text())
        assert lock.path == work / ".pmrepo.lock"
        assert holder["pid"] == os.getpid() and set(holder) == {"pid", "host", "since", "cmd"}
    assert lock._fd is None
    with WorkdirLock(work):  # released: the next run takes it
        pass


def test_a_second_run_is_refused_naming_the_first(tmp_path: Path) -> None:
    with WorkdirLock(tmp_path), pytest.raises(LockError) as exc, WorkdirLock(tmp_path):
        pass
    msg = str(exc.value)
    assert msg.startswith(f"{tmp_path}: work directory {tmp_path} is in use by pid {os.getpid()} on ")
    assert msg.endswith("— fix: wait for it or pass another --workdir") and "\n" not in msg


def test_the_output_directory_names_its_own_flag(tmp_path: Path) -> None:
    with WorkdirLock(tmp_path, "output directory"), pytest.raises(LockError, match=r"pass another --outdir$"):
        WorkdirLock(tmp_path, "output directory").__enter__()


def test_an_unreadable_holder_is_still_refused(tmp_path: Path) -> None:
    with WorkdirLock(tmp_path) as lock:
        lock.path.write_text("not json")
        with pytest.raises(LockError, match=r"in use by pid \? on \? since \? \(\?\)"):
            WorkdirLock(tmp_path).__enter__()


def test_a_symlinked_lock_file_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / ".pmrepo.lock").symlink_to(victim)
    with pytest.raises(LockError) as exc, WorkdirLock(work):
        pass
    assert "a symlink is never followed" in str(exc.value) and str(exc.value).endswith("— fix: remove it")
    assert victim.read_text() == "precious\n"


def test_exit_without_enter_is_harmless(tmp_path: Path) -> None:
    WorkdirLock(tmp_path).__exit__(None, None, None)
    assert not (tmp_path / ".pmrepo.lock").exists()
