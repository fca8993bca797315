"""Progress lines and summary tables for long work."""
from __future__ import annotations

import sys
import threading
import time
from typing import Sequence, TextIO


class Progress:
    """Prints ``[n/m] component dist: status (time, elapsed)`` lines."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.begun = 0
        self.start = time.monotonic()
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def say(self, text: str) -> None:
        with self._lock:
            print(f"[{self.elapsed():7.1f}s] {text}", file=self.stream, flush=True)

    def started(self, what: str, dist: str) -> None:
        with self._lock:
            self.begun += 1
            n = self.begun
        self.say(f"[{n:>2}/{self.total}] {what} {dist}: started")

    def finished(self, what: str, dist: str, status: str, seconds: float) -> None:
        with self._lock:
            self.done += 1
            n = self.done
        self.say(f"[{n:>2}/{self.total}] {what} {dist}: {status} in {seconds:.1f}s")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
