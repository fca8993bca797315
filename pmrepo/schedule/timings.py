"""How long builds took on this host: the scheduler's estimates before any build in a work directory.

One file per user, ``layout.timings_file()`` (``~/.cache/pmrepo/timings.json``
by default): every built job adds its seconds under (component, version,
dist, backend), so a fresh work directory — every CI run, every new checkout,
the next release — orders its jobs by what they cost last time on this host,
not by the depth of the chain alone.

The file is the tool's own: its directory is created with mode 0700 and
must be this user's, not a symlink, and not writable by others; the file is
read without following a symlink and only as a bounded regular file, and
written atomically (mode 0600) under a lock, merged with what another run
wrote meanwhile. The history only speeds builds up, so it never stops one: a
broken or unusable file is ignored with one line (and replaced by the next
write), never a traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..fsutil import private_dir
from ..records import TIMINGS_SAMPLES, BuildTime, RecordError, TimingRecord

Key = tuple[str, str, str, str]  # component, version, dist, backend


class TimingHistory:
    """The host-wide build times at ``path``; ``say`` gets one line for every problem."""

    def __init__(self, path: Path, say: Callable[[str], None] = print) -> None:
        self.path = path
        self.say = say

    def _usable_dir(self) -> bool:
        problem = private_dir(self.path.parent)
        if problem:
            self.say(
                f"build time history: {self.path.parent} {problem}: history not used — fix: remove it, or set "
                "PMREPO_CACHE_DIR to a directory of your own"
            )
        return problem is None

    def _read(self) -> TimingRecord | None:
        try:
            return TimingRecord.read(self.path)
        except RecordError as exc:
            self.say(f"build time history: {exc}: ignored (it is replaced when a build finishes)")
            return None

    def load(self) -> dict[Key, BuildTime]:
        """Every entry by key (empty when there is no usable history)."""
        if not self.path.parent.is_dir() or not self._usable_dir():
            return {}
        rec = self._read()
        return {t.key: t for t in rec.times} if rec else {}

    def record(self, measured: Iterable[tuple[Key, float]], now: float | None = None) -> None:
        """Add measured seconds (merged with what is there now; the newest TIMINGS_SAMPLES per key)."""
        measured = [(k, s) for k, s in measured if s > 0]
        if not measured or not self._usable_dir():
            return
        when = time.time() if now is None else now
        try:
            with self._locked():
                rec = self._read() or TimingRecord()
                times = {t.key: t for t in rec.times}
                for key, secs in measured:
                    old = times.get(key)
                    samples = ((*old.seconds, secs) if old else (secs,))[-TIMINGS_SAMPLES:]
                    times[key] = BuildTime(*key, seconds=tuple(round(s, 3) for s in samples), when=when)
                TimingRecord(tuple(times.values())).write(self.path)
        except OSError as exc:
            self.say(f"build time history: {self.path}: not written ({exc.strerror or exc})")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.path.with_name(f".{self.path.name}.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
