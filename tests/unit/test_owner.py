"""Who owns a container or a scratch directory, and whether a later run may remove it
(issue 25 item 7): only what a certainly dead run left; never a live run's, never what
cannot be told (another host or pid namespace, no owner recorded), never a symlink."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from pmrepo.owner import Owner, owned_name, reap_dirs, start_time


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_me_is_alive_and_round_trips() -> None:
    me = Owner.me()
    assert me.pid == os.getpid() and me.start == start_time(os.getpid()) and me.alive()
    assert Owner.from_label(me.label()) == me and Owner.from_tag(me.tag()) == me
    assert Owner.from_tag("12345") is None and Owner.from_label("no-slash") is None
    assert Owner.from_tag(me.tag() + "\n") is None


def test_a_dead_or_reused_pid_is_dead() -> None:
    me = Owner.me()
    assert not replace(me, pid=_dead_pid()).alive()
    assert not replace(me, start=me.start + 1).alive()  # this pid, another process: a reused pid
    assert not replace(me, boot="ffffffff" if me.boot != "ffffffff" else "00000000").alive()  # rebooted since


def test_what_cannot_be_told_counts_as_alive() -> None:
    me = Owner.me()
    dead = _dead_pid()
    assert replace(me, host=socket.gethostname() + "-elsewhere", pid=dead).alive()
    assert replace(me, pidns=me.pidns + 1, pid=dead).alive()


def test_reap_dirs_removes_only_dead_owners_directories(tmp_path: Path) -> None:
    me = Owner.me()
    dead = replace(me, pid=_dead_pid())
    live = Path(tempfile.mkdtemp(prefix=owned_name("pmrepo-root-el7-"), dir=tmp_path))
    gone = tmp_path / f"pmrepo-root-el7-{dead.tag()}-abcd_123"
    (gone / "var" / "lib").mkdir(parents=True)
    legacy = tmp_path / "pmrepo-root-el7-q8z1x0ab"  # an older pmrepo's: no owner recorded
    legacy.mkdir()
    other = tmp_path / f"pmrepo-spec-{dead.tag()}-abcd_123"  # another prefix
    other.mkdir()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("x")
    link = tmp_path / f"pmrepo-root-el6-{dead.tag()}-zzzz_999"
    link.symlink_to(victim)
    said: list[str] = []
    assert reap_dirs(tmp_path, "pmrepo-root-", said.append) == [gone]
    assert live.is_dir() and legacy.is_dir() and other.is_dir() and link.is_symlink() and (victim / "keep").exists()
    assert said == [f"removed {gone}, left by a run that no longer exists (pid {dead.pid})"]
    assert reap_dirs(tmp_path / "absent", "pmrepo-root-") == []


def test_reap_dirs_leaves_another_users_directory(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    dead = replace(Owner.me(), pid=_dead_pid())
    theirs = tmp_path / f"pmrepo-root-el7-{dead.tag()}-abcd_123"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    assert reap_dirs(tmp_path, "pmrepo-root-") == [] and theirs.is_dir()
