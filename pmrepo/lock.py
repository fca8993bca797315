"""One run per work directory: an flock held for the whole run."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from .errors import LockError


class WorkdirLock:
    def __init__(self, workdir: Path, what: str = "work directory") -> None:
        self.path = workdir / ".pmrepo.lock"
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> WorkdirLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise LockError(
                f"{self.path}: cannot open the {self.what}'s lock file ({exc.strerror}; a symlink is "
                "never followed) — fix: remove it"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = json.loads(os.read(fd, 4096) or b"{}")
            except ValueError:
                holder = {}
            os.close(fd)
            who = (
                f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('since', '?')} "
                f"({holder.get('cmd', '?')})"
            )
            flag = "--outdir" if self.what == "output directory" else "--workdir"
            raise LockError(
                f"{self.path.parent}: {self.what} {self.path.parent} is in use by {who} — fix: wait for it "
                f"or pass another {flag}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(
            fd,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "cmd": " ".join(sys.argv),
                }
            ).encode(),
        )
        self._fd = fd
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
