"""The one wrapper through which every external command runs.

It logs the exact command line, captures stdout+stderr into a log file, and
raises a typed error carrying the tail of that log when the command fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import CommandError, PmrepoError, ToolMissingError, summary_line

log = logging.getLogger("pmrepo.run")

TAIL_LINES = 25


@dataclass(frozen=True)
class Result:
    argv: list[str]
    returncode: int
    output: str
    log: Path | None
    #: why pmrepo killed the command: "timeout", "output" (past ``max_output``), or None
    killed: str | None = None


def require_tool(name: str, hint: str = "") -> str:
    found = shutil.which(name)
    if not found:
        extra = f"; {hint}" if hint else "; run `make setup`"
        raise ToolMissingError(f"required command '{name}' is not installed{extra}")
    return found


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    log_file: Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    error: type[PmrepoError] = CommandError,
    input_text: str | None = None,
    timeout: float | None = None,
    max_output: int | None = None,
) -> Result:
    """Run ``argv``; output goes to ``log_file`` (appended) and is returned.

    ``timeout``: the command (its process group) is killed after that many seconds;
    ``max_output``: killed as soon as it has written more than that many bytes (a server's
    answer streamed through a command stays bounded); either way the exit code is -9 and
    ``Result.killed`` says which. On a non-zero exit (and ``check``) raise ``error``: a
    ``CommandError`` subclass gets (argv, code, log, tail); any other PmrepoError subclass
    gets a one-line message with the last log line.
    """
    args = [os.fspath(a) for a in argv]
    cmdline = shlex.join(args)
    log.debug("run: %s (cwd=%s)", cmdline, cwd or os.getcwd())
    full_env = None
    if env is not None:
        full_env = dict(os.environ)
        full_env.update(env)
    if shutil.which(args[0], path=(full_env or os.environ).get("PATH")) is None and not os.path.exists(args[0]):
        raise ToolMissingError(f"required command '{args[0]}' is not installed; run `make setup`")
    if max_output is not None:
        if input_text is not None:
            raise ValueError("run: max_output reads a command's output only; it takes no input_text")
        output, code, killed = _bounded(args, cwd, full_env, timeout, max_output)
    else:
        output, code, killed = _captured(args, cwd, full_env, input_text, timeout)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("a") as fh:
            fh.write(f"$ {cmdline}\n")
            if cwd:
                fh.write(f"# cwd: {cwd}\n")
            fh.write(output)
            fh.write(f"# exit: {code}\n")
    result = Result(args, code, output, log_file, killed)
    if check and code != 0:
        tail = "\n".join(output.splitlines()[-TAIL_LINES:])
        if issubclass(error, CommandError):
            raise error(args, code, log_file, tail)
        where = f" (log: {log_file})" if log_file else ""
        raise error(f"{args[0]} exited {code}{where}: {summary_line(tail)}")
    return result


def _captured(
    args: list[str], cwd: Path | None, env: Mapping[str, str] | None, input_text: str | None, timeout: float | None
) -> tuple[str, int, str | None]:
    """All of the command's output (stdout and stderr), its exit code, and "timeout" if it was killed."""
    try:
        proc = subprocess.run(
            args,
            cwd=cwd,
            env=env,
            input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or "") if isinstance(exc.stdout, str) else ""
        return output + f"\n[pmrepo] timed out after {timeout}s\n", -9, "timeout"
    return proc.stdout, proc.returncode, None


def _bounded(
    args: list[str], cwd: Path | None, env: Mapping[str, str] | None, timeout: float | None, max_output: int
) -> tuple[str, int, str | None]:
    """The command's output read in chunks, at most ``max_output`` bytes kept: past it, or past
    ``timeout``, its whole process group is killed (git's remote helpers too)."""
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    deadline = None if timeout is None else time.monotonic() + timeout
    buf = bytearray()
    killed: str | None = None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while killed is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                killed = "timeout"
            elif sel.select(left):
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > max_output:
                    killed = "output"
    if killed is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.stdout.close()
    code = proc.wait()
    output = bytes(buf[:max_output]).decode(errors="replace")
    if killed == "timeout":
        return output + f"\n[pmrepo] timed out after {timeout}s\n", -9, killed
    if killed == "output":
        return output + f"\n[pmrepo] killed: more than {max_output} bytes of output\n", -9, killed
    return output, code, None
