"""Which run owns a container or a scratch directory, and whether that run still lives.

A run killed with ``kill -9`` cannot clean up after itself: its install-test
container keeps running and its fresh root stays in the temporary directory.
Everything of that kind the tool creates carries its owner — this process:
the host, the boot (``/proc/sys/kernel/random/boot_id``), the pid namespace,
the pid and the process's start time (``/proc/<pid>/stat``, field 22) — so a
later run removes only what a dead owner left. A pid alone is not enough: it
is reused; the start time tells a reused pid from the original. Whatever the
owner cannot be told for (another host, another pid namespace, no owner
recorded — e.g. made by an older pmrepo) is treated as alive and never removed:
other runs on the same machine (other checkouts, other engineers) are left
alone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

_TAG = re.compile(r"(?P<boot>[0-9a-f]{8})\.(?P<pidns>\d+)\.(?P<pid>\d+)\.(?P<start>\d+)")


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:8]
    except OSError:
        return "00000000"


def _pid_ns(pid: int | str = "self") -> int:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return 0


def start_time(pid: int) -> int | None:
    """The process's start time (clock ticks after boot), or None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(text.rsplit(")", 1)[1].split()[19])  # field 22; the name in (…) may hold spaces
    except (IndexError, ValueError):
        return None


@dataclass(frozen=True)
class Owner:
    """One process on one host and boot."""

    host: str
    boot: str
    pidns: int
    pid: int
    start: int

    @classmethod
    def me(cls) -> Owner:
        pid = os.getpid()
        return cls(socket.gethostname(), _boot_id(), _pid_ns(), pid, start_time(pid) or 0)

    def tag(self) -> str:
        """The owner in a file name (the host is implied: a local directory)."""
        return f"{self.boot}.{self.pidns}.{self.pid}.{self.start}"

    def label(self) -> str:
        """The owner as a container label's value."""
        return f"{self.host}/{self.tag()}"

    @classmethod
    def from_tag(cls, text: str, host: str | None = None) -> Owner | None:
        m = _TAG.fullmatch(text)
        if m is None:
            return None
        return cls(host or socket.gethostname(), m["boot"], int(m["pidns"]), int(m["pid"]), int(m["start"]))

    @classmethod
    def from_label(cls, text: str) -> Owner | None:
        host, sep, tag = text.rpartition("/")
        return cls.from_tag(tag, host) if sep and host else None

    def alive(self) -> bool:
        """False only when this owner is certainly gone: on this host, this boot and this pid
        namespace, its pid is not running or is another process (another start time)."""
        if self.host != socket.gethostname() or self.pidns != _pid_ns():
            return True  # cannot tell from here
        if self.boot != _boot_id():
            return False  # the machine rebooted since
        return start_time(self.pid) == self.start


def owned_name(prefix: str) -> str:
    """A prefix for ``tempfile.mkdtemp`` that records this process as the directory's owner."""
    return f"{prefix}{Owner.me().tag()}-"


def reap_dirs(
    parent: Path, prefix: str, say: Callable[[str], None] | None = None, uids: Collection[int] = ()
) -> list[Path]:
    """Remove the directories ``<parent>/<prefix>[…-]<tag>-*`` (see ``owned_name``) whose owner is
    dead: only real directories (not symlinks) of this user's, or of one of ``uids`` (a tree root
    made and handed to the build user: ``sandbox.private_tree``). Returns what was removed."""
    owners = {os.geteuid(), *uids}
    removed: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        # <prefix>[<anything>-]<tag>-<mkdtemp's suffix, which has no "-">
        head, sep, _ = entry.name[len(prefix) :].rpartition("-")
        owner = Owner.from_tag(head.rpartition("-")[2]) if sep else None
        if owner is None or owner.alive():
            continue
        try:
            st = os.lstat(entry.path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid not in owners:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)  # never follows a symlink inside
        removed.append(Path(entry.path))
        if say is not None:
            say(f"removed {entry.path}, left by a run that no longer exists (pid {owner.pid})")
    return removed
