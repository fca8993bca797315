"""One exception hierarchy for everything pmrepo reports to a user.

Every error renders as a single line (``str(err)``); the CLI prints it and
exits non-zero, never with a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

_NOISE = re.compile(
    r"try to add '--skip-broken'|^RPM build errors:|Bad exit status from /var/tmp/rpm-tmp"
    r"|^# (exit|cwd):|^\s*$"
)
_SIGNAL = re.compile(
    r"error|nothing provides|conflict|no match|not found|cannot|can't|failed|denied|no such|missing", re.IGNORECASE
)


def summary_line(tail: str) -> str:
    """The line of a command's output tail that best says what went wrong:
    the last one that looks like an error, skipping tool boilerplate."""
    lines = [ln.strip() for ln in tail.splitlines() if not _NOISE.search(ln)]
    for line in reversed(lines):
        if _SIGNAL.search(line):
            return line
    return lines[-1] if lines else "no output"


class PmrepoError(Exception):
    """Root of all pmrepo errors. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class FileSystemError(PmrepoError):
    """A file could not be written or read during a step (ENOSPC, EACCES, …)."""


def describe_os_error(exc: OSError, step: str | None = None) -> str:
    """One line for an OSError: the step, the path and the cause — also for
    ``shutil.Error``, whose message is the list of every failed copy."""
    what = f"{step}: " if step else ""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        failures = exc.args[0]
        src, dst, why = [*list(failures[0]), "", "", ""][:3]
        more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
        fix = "free space there" if "No space left" in str(why) else "check that the path is writable"
        return f"{what}copying {src} to {dst} failed: {why}{more} — fix: {fix}"
    path = exc.filename or ""
    if exc.filename2:
        path = f"{path} → {exc.filename2}"
    cause = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = f"free space on the file system holding {exc.filename or 'the work and output directories'}, then rerun"
    else:
        fix = "check that the path exists and is writable"
    return f"{what}{path + ': ' if path else ''}{cause} — fix: {fix}"


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Run a pipeline step; an OSError escaping it becomes one line naming the step."""
    try:
        yield
    except OSError as exc:
        raise FileSystemError(describe_os_error(exc, name)) from None


class ManifestError(PmrepoError):
    """An invalid release manifest: names the file, the field and the fix."""

    exit_code = 2

    def __init__(self, path: Path | str, field: str, problem: str, fix: str) -> None:
        self.path = Path(path)
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {field}: {problem} — fix: {fix}")


class UsageError(PmrepoError):
    exit_code = 2


class CommandError(PmrepoError):
    """An external command failed; carries its log path and the log's tail."""

    def __init__(self, argv: list[str], returncode: int, log: Path | None, tail: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.log = log
        self.tail = tail
        where = f" (log: {log})" if log else ""
        super().__init__(f"{argv[0]} exited {returncode}{where}: {summary_line(tail)}")


class ToolMissingError(PmrepoError):
    """A required executable is not installed."""


class SourceError(PmrepoError):
    """A source could not be fetched, verified or packed."""


class UnpinnedSourceError(SourceError):
    """A URL source has no sha256: the tool refuses to build it."""


class SpecError(PmrepoError):
    """A spec template failed to render or parse."""


class GraphError(PmrepoError):
    """The build graph is unusable: a cycle or an unsatisfiable BuildRequires."""


class BuildError(PmrepoError):
    """A package build failed."""

    def __init__(self, message: str, log: Path | None = None, tail: str = "") -> None:
        self.log = log
        self.tail = tail
        super().__init__(message)


class RepositoryError(PmrepoError):
    """Repository metadata is missing or not readable by the targets."""


class InstallCheckError(PmrepoError):
    """The install check found a missing, extra or leftover package."""


class GateError(PmrepoError):
    """A release gate failed."""


class LockError(PmrepoError):
    """Another run holds the work directory."""


class PublishError(PmrepoError):
    """Publishing to the mirror failed or was refused."""


class SigningError(PmrepoError):
    """Signing or signature verification failed."""


class NotesError(PmrepoError):
    """Release notes could not be generated (e.g. build results that do not match the manifest)."""


class AttestationError(PmrepoError):
    """An SBOM or a provenance could not be made, signed or read."""


class VerifyError(PmrepoError):
    """``verify`` found problems in a release (each listed on its own line before this one)."""
