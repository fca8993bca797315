"""A release's templates are rendered in a child process with limits.

A release's spec templates come with the manifest: they are rendered by jinja2's
``ImmutableSandboxedEnvironment`` (``render.py``: no attribute of Python's internals, no
changing the values they are given, ``range`` at most 100000 items), and — because a
sandboxed template can still ask for any amount of memory or time (``"x" * 4000000000``,
recursion, loops in loops) — in a forked child process bounded by the operating system:

* memory: ``RLIMIT_AS`` of the child at its size when forked plus ``TEMPLATE_MEMORY``
  (an allocation beyond fails there, with MemoryError, never in the tool);
* time: ``TEMPLATE_DEADLINE`` seconds per template (``SIGALRM`` in the child; the parent
  kills the child when it does not answer shortly after);
* output: a rendered text larger than ``TEMPLATE_MAX_BYTES`` is refused;
* recursion: Python's own limit (RecursionError), reported as such.

Each failure is one line naming the template, and ends the batch. The child is forked, so
it starts at once with everything the parent loaded (the compiled templates of its
environments, the bytecode cache); one child renders a whole batch (a dist's components),
and sends each result back as it is done, so the caller can show progress.
"""

from __future__ import annotations

import os
import select
import signal
import struct
import time
from collections.abc import Callable, Iterable, Iterator

from ..errors import SpecError
from ..limits import TEMPLATE_DEADLINE, TEMPLATE_MAX_BYTES, TEMPLATE_MEMORY

_IN_CHILD = False  # set in the child: a job that renders again runs inline
_GRACE = 5.0  # seconds the parent waits beyond the deadline for the child's own report
_HEAD = struct.Struct("!BI")  # status (0 ok, 1 error), payload length


class _Timeout(BaseException):
    """Raised by SIGALRM in the child (a BaseException: no template code catches it)."""


def each(jobs: Iterable[tuple[str, Callable[[], str]]]) -> Iterator[str]:
    """The result of each job (label, function returning the rendered text), in order,
    computed in one child process with the limits above; a failure raises SpecError."""
    todo = list(jobs)
    if _IN_CHILD or not todo:
        for _label, fn in todo:
            yield fn()
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: render, report, and leave without running anything of the parent's
        try:
            os.close(read_end)
            _child(todo, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        for label, _fn in todo:
            status, text = _receive(read_end, label, pid)
            if status != 0:
                raise SpecError(text)
            yield text
    finally:
        os.close(read_end)
        _reap(pid)


def one(label: str, fn: Callable[[], str]) -> str:
    return next(each([(label, fn)]))


def _child(todo: list[tuple[str, Callable[[], str]]], out: int) -> None:
    global _IN_CHILD
    _IN_CHILD = True
    _limit_memory()

    def alarm(_signum: int, _frame: object) -> None:
        raise _Timeout

    signal.signal(signal.SIGALRM, alarm)
    for label, fn in todo:
        status, text = 1, ""
        try:
            signal.setitimer(signal.ITIMER_REAL, TEMPLATE_DEADLINE)
            text = fn()
            status = 0
            if len(text.encode()) > TEMPLATE_MAX_BYTES:
                status, text = 1, f"{label}: the rendered text is larger than {TEMPLATE_MAX_BYTES} bytes"
        except _Timeout:
            text = f"{label}: not rendered within {TEMPLATE_DEADLINE:.0f}s (a loop without end?)"
        except MemoryError:
            text = f"{label}: rendering needs more than {TEMPLATE_MEMORY >> 20} MiB of memory"
        except RecursionError:
            text = f"{label}: the template recurses without end (a macro calling itself?)"
        except SpecError as exc:  # already one line naming the template (see render._render)
            text = str(exc)
        except Exception as exc:
            text = f"{label}: {type(exc).__name__}: {_short(str(exc))}"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if status != 0 and "— fix:" not in text:
            text += " — fix: correct the template"
        data = text.encode()
        _write_all(out, _HEAD.pack(status, len(data)) + data)
        if status != 0:
            return


def _short(text: str, limit: int = 300) -> str:
    """An exception's text on one short line (a MemoryError's or a SecurityError's may quote a huge value)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit] + "…"


def _limit_memory() -> None:
    """The child's address space: what it has now (the parent's, shared copy-on-write) plus TEMPLATE_MEMORY."""
    import resource

    size = 0
    try:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = size + TEMPLATE_MEMORY
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or want < soft:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int, label: str, pid: int) -> tuple[int, str]:
    """The next (status, text) from the child, or SpecError when it dies or overruns its deadline."""
    deadline = time.monotonic() + TEMPLATE_DEADLINE + _GRACE
    head = _read_exactly(fd, _HEAD.size, deadline, label, pid)
    status, length = _HEAD.unpack(head)
    if length > TEMPLATE_MAX_BYTES + 4096:
        raise SpecError(f"{label}: the renderer sent {length} bytes — fix: correct the template")
    return status, _read_exactly(fd, length, deadline, label, pid).decode()


def _read_exactly(fd: int, n: int, deadline: float, label: str, pid: int) -> bytes:
    parts: list[bytes] = []
    while n:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, left))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            raise SpecError(
                f"{label}: not rendered within {TEMPLATE_DEADLINE:.0f}s (the renderer was killed) "
                "— fix: correct the template"
            )
        block = os.read(fd, min(n, 1 << 20))
        if not block:
            raise SpecError(
                f"{label}: the renderer ended without a result ({_status(pid)}) — fix: correct the template"
            )
        parts.append(block)
        n -= len(block)
    return b"".join(parts)


def _status(pid: int) -> str:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return "already reaped"
    if not done:
        return "still running"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}"


def _reap(pid: int) -> None:
    """The child is done (it exits after its last report) or is killed; either way it is waited for."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if not done:
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:  # it exits right after its last report: no fixed sleep
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    return
                time.sleep(0.0005)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass
