"""Progress lines and summary tables for long work.

Every line of a run goes through one :class:`Console`. A step that can take
longer than a moment runs inside ``console.step(label)``: it prints
``label: started`` and ``label: done in 1.2s`` (or ``failed after …``), and
while any step is running and nothing else was printed for
:attr:`Console.interval` seconds, the console prints which steps are still
running and for how long (after a minute of silence only every
:attr:`Console.slow_interval` seconds, so a long compile does not flood a CI
log). On a terminal (and not under ``CI=true``) that "still running" line is
a live line, rewritten in place; otherwise it is a plain line.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

Say = Callable[[str], None]  # the one definition: a sink for one line of output
StepFn = Callable[[str], contextlib.AbstractContextManager[None]]  # announces and times one step (Console.step)
LARGE_FILE = 2**20  # bytes: reading a file this large is announced (Console.reading)


def quiet_step(label: str) -> contextlib.AbstractContextManager[None]:
    """A ``StepFn`` that shows nothing."""
    return contextlib.nullcontext()


def _live_default(stream: TextIO) -> bool:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    """Prints lines, times steps, and reports steps that are still running."""

    interval = 1.5  # seconds without a line before "still running"
    slow_interval = 15.0  # … once a step has been silent for a minute

    def __init__(
        self,
        sink: Say | None = None,
        stream: TextIO | None = None,
        live: bool | None = None,
        interval: float | None = None,
    ) -> None:
        self.stream = stream or sys.stdout
        self.sink = sink
        self.live = bool(live) if live is not None else (sink is None and _live_default(self.stream))
        if interval is not None:
            self.interval = interval
        self.start = time.monotonic()
        self.last = self.start  # the last line of any kind
        self.last_said = self.start  # the last line that was not a "still running" report
        self._lock = threading.RLock()
        self._active: dict[int, tuple[str, float, int]] = {}  # token -> (label, start, thread)
        self._next = 0
        self._live_shown = False
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    # -- output ------------------------------------------------------------------
    def _write(self, text: str) -> None:
        if self.sink is not None:
            self.sink(text)
        else:
            print(text, file=self.stream, flush=True)

    def _clear_live(self) -> None:
        if self._live_shown:
            self.stream.write("\r\x1b[K")
            self._live_shown = False

    def say(self, text: str) -> None:
        with self._lock:
            self._clear_live()
            self._write(text)
            self.last = self.last_said = time.monotonic()

    # -- steps ---------------------------------------------------------------------
    def begin(self, label: str) -> int:
        with self._lock:
            self._next += 1
            token = self._next
            self._active[token] = (label, time.monotonic(), threading.get_ident())
            if self._thread is None or not self._thread.is_alive():
                self._wake.clear()
                self._thread = threading.Thread(target=self._watch, name="pmrepo-progress", daemon=True)
                self._thread.start()
        return token

    def end(self, token: int) -> None:
        with self._lock:
            self._active.pop(token, None)
            if not self._active:
                self._clear_live()
                self._wake.set()

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        """``label: started`` … ``label: done in Ns``; silent stretches are reported."""
        self.say(f"{label}: started")
        token = self.begin(label)
        t0 = time.monotonic()
        try:
            yield
        except BaseException:
            self.end(token)
            self.say(f"{label}: failed after {time.monotonic() - t0:.1f}s")
            raise
        self.end(token)
        self.say(f"{label}: done in {time.monotonic() - t0:.1f}s")

    @contextlib.contextmanager
    def watch(self, label: str) -> Iterator[None]:
        """A step that prints no started/done lines (it is usually quick, e.g. loading
        the manifest), but a "still running" line when it is silent for too long."""
        token = self.begin(label)
        try:
            yield
        finally:
            self.end(token)

    @contextlib.contextmanager
    def reading(self, label: str, path: Path) -> Iterator[None]:
        """``watch(label)`` while ``path`` is read; a file of a MiB or more is announced at once with
        its size, so a large manifest's first line does not wait for the first "still running"."""
        with contextlib.suppress(OSError):
            size = path.stat().st_size
            if size >= LARGE_FILE:
                self.say(f"{label} ({size / 2**20:.0f} MiB)")
        with self.watch(label):
            yield

    def counter(self, label: str, total: int, every: float = 1.0) -> Callable[[int], None]:
        """``tick(n)`` after each of ``total`` items: prints ``label: n/total`` at most every
        ``every`` seconds, so a long loop says how far it is (not only that it still runs)."""
        last = [time.monotonic()]

        def tick(n: int) -> None:
            now = time.monotonic()
            if n < total and now - last[0] >= every:
                last[0] = now
                self.say(f"  {label}: {n}/{total}")

        return tick

    def _watch(self) -> None:
        while True:
            if self._wake.wait(0.2):
                with self._lock:
                    if not self._active:
                        self._thread = None
                        return
                    self._wake.clear()
            with self._lock:
                if not self._active:
                    continue
                now = time.monotonic()
                wait = self.interval if now - self.last_said < 60 else self.slow_interval
                if now - self.last < wait:
                    continue
                innermost: dict[int, tuple[str, float]] = {}  # per thread, the step it entered last
                for label, t0, thread in self._active.values():
                    if thread not in innermost or t0 >= innermost[thread][1]:
                        innermost[thread] = (label, t0)
                running = ", ".join(
                    f"{label} ({now - t0:.0f}s)" for label, t0 in sorted(innermost.values(), key=lambda lt: lt[1])
                )
                text = f"[{self.elapsed():7.1f}s] … still running: {running}"
                if self.live:
                    self.stream.write("\r\x1b[K" + text[: _columns() - 1])
                    self.stream.flush()
                    self._live_shown = True
                else:
                    self._write(text)
                self.last = now


def _columns() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


_DEFAULT: Console | None = None


def default_console() -> Console:
    """The process's console on stdout (the CLI's)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Console()
    return _DEFAULT


class Progress:
    """Prints ``[elapsed] [n/m] component dist: status`` lines, one number per job:
    the ``started`` and the ``built`` line of a job share it."""

    def __init__(self, total: int, stream: TextIO | None = None, console: Console | None = None) -> None:
        self.total = total
        self.console = console or (Console(stream=stream) if stream is not None else default_console())
        self._numbers: dict[tuple[str, str], int] = {}
        self._tokens: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    @property
    def done(self) -> int:
        return len(self._numbers) - len(self._tokens)

    def elapsed(self) -> float:
        return self.console.elapsed()

    def say(self, text: str) -> None:
        self.console.say(f"[{self.elapsed():7.1f}s] {text}")

    def number(self, what: str, dist: str) -> int:
        with self._lock:
            return self._numbers.setdefault((what, dist), len(self._numbers) + 1)

    def started(self, what: str, dist: str) -> None:
        n = self.number(what, dist)
        self.say(f"[{n:>2}/{self.total}] {what} {dist}: started")
        token = self.console.begin(f"{what} {dist}")
        with self._lock:
            self._tokens[(what, dist)] = token

    def finished(self, what: str, dist: str, status: str, seconds: float) -> None:
        n = self.number(what, dist)
        with self._lock:
            token = self._tokens.pop((what, dist), None)
        if token is not None:
            self.console.end(token)
        self.say(f"[{n:>2}/{self.total}] {what} {dist}: {status} in {seconds:.1f}s")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
