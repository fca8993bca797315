"""The one wrapper through which every external command runs.

It logs the exact command line, captures stdout+stderr into a log file, and
raises a typed error carrying the tail of that log when the command fails.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
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
) -> Result:
    """Run ``argv``; output goes to ``log_file`` (appended) and is returned.

    On a non-zero exit (and ``check``) raise ``error``: a ``CommandError``
    subclass gets (argv, code, log, tail); any other PmrepoError subclass gets
    a one-line message with the last log line.
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
    try:
        proc = subprocess.run(
            args,
            cwd=cwd,
            env=full_env,
            input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
        )
        output, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or "") if isinstance(exc.stdout, str) else ""
        output += f"\n[pmrepo] timed out after {timeout}s\n"
        code = -9
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("a") as fh:
            fh.write(f"$ {cmdline}\n")
            if cwd:
                fh.write(f"# cwd: {cwd}\n")
            fh.write(output)
            fh.write(f"# exit: {code}\n")
    result = Result(args, code, output, log_file)
    if check and code != 0:
        tail = "\n".join(output.splitlines()[-TAIL_LINES:])
        if issubclass(error, CommandError):
            raise error(args, code, log_file, tail)
        where = f" (log: {log_file})" if log_file else ""
        raise error(f"{args[0]} exited {code}{where}: {summary_line(tail)}")
    return result
