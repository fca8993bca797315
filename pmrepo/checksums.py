"""``SHA256SUMS`` for a release directory, in ``sha256sum`` format.

One line per file, sorted by name, names relative to the directory and using
``/`` (``el7/pacemaker-repo-1.1.14-1.1.el7.x86_64.rpm``), so that an operator
can check a download with ``sha256sum -c SHA256SUMS`` and :mod:`pmrepo.publish.upload`
can check every file on the mirror against the same list.

``SHA256SUMS`` itself and its detached signature ``SHA256SUMS.asc`` are never
listed in it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from .errors import PmrepoError, PublishError
from .fsutil import NotRegularFileError, read_regular, write_atomic
from .fsutil import sha256_file as sha256_file  # re-exported: publish checks files with it

SUMS_NAME = "SHA256SUMS"
SUMS_SIGNATURE = "SHA256SUMS.asc"
NOT_LISTED = frozenset({SUMS_NAME, SUMS_SIGNATURE})

_LINE_RE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def _relative_name(directory: Path, path: Path) -> str:
    full = path if path.is_absolute() else directory / path
    try:
        rel = full.resolve().relative_to(directory.resolve())
    except ValueError:
        raise PublishError(
            f"{full}: not inside {directory} — fix: list only files under the release directory"
        ) from None
    name = rel.as_posix()
    if "\n" in name or "\\" in name:
        raise PublishError(f"{full}: file name contains a newline or backslash — fix: rename the file")
    return name


def list_files(directory: Path) -> list[str]:
    """Every regular file under ``directory`` (relative names, sorted) except
    ``SHA256SUMS`` and ``SHA256SUMS.asc`` at its top."""
    directory = Path(directory)
    names = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for f in files:
            p = Path(root) / f
            if p.is_file():
                name = _relative_name(directory, p)
                if name not in NOT_LISTED:
                    names.append(name)
    return sorted(names)


def render(sums: dict[str, str]) -> str:
    return "".join(f"{sums[name]}  {name}\n" for name in sorted(sums))


def write_sha256sums(directory: Path, files: Iterable[Path | str] | None = None) -> Path:
    """Write ``directory/SHA256SUMS`` for ``files`` (default: every file under
    ``directory``) and return its path. The file is replaced atomically."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PublishError(f"{directory}: not a directory — fix: build the release first")
    if files is None:
        names = list_files(directory)
    else:
        names = sorted({_relative_name(directory, Path(f)) for f in files} - NOT_LISTED)
    sums = {}
    for name in names:
        path = directory / name
        if not path.is_file():
            raise PublishError(f"{path}: no such file to checksum — fix: build it or drop it from the list")
        sums[name] = sha256_file(path)
    target = directory / SUMS_NAME
    write_atomic(target, render(sums))
    return target


def read_sha256sums(path: Path, *, error: type[PmrepoError] = PublishError) -> dict[str, str]:
    """Parse a ``sha256sum``-format file into {relative name: lower-case hex}."""
    path = Path(path)
    try:
        text = read_regular(path).decode()
    except (OSError, NotRegularFileError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else getattr(exc, "kind", "not UTF-8")
        raise error(f"{path}: cannot read ({why}) — fix: run the checksum step (write_sha256sums)") from None
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE_RE.match(line)
        if not m:
            raise error(f"{path}:{number}: not a sha256sum line — fix: regenerate {SUMS_NAME}")
        digest, name = m.group(1).lower(), m.group(2)
        if name.startswith("/") or ".." in name.split("/") or name.startswith("./"):
            raise error(f"{path}:{number}: '{name}' is not a plain relative name — fix: regenerate {SUMS_NAME}")
        if name in sums:
            raise error(f"{path}:{number}: '{name}' is listed twice — fix: regenerate {SUMS_NAME}")
        sums[name] = digest
    return sums


def verify_sha256sums(directory: Path, *, error: type[PmrepoError] = PublishError) -> dict[str, str]:
    """Check every file listed in ``directory/SHA256SUMS``; return the sums.

    Raises ``error`` naming the first file that is missing or differs."""
    directory = Path(directory)
    sums = read_sha256sums(directory / SUMS_NAME, error=error)
    for name, expected in sums.items():
        path = directory / name
        if not path.is_file():
            raise error(
                f"{path}: listed in {SUMS_NAME} but missing — fix: rebuild the release or regenerate {SUMS_NAME}"
            )
        actual = sha256_file(path)
        if actual != expected:
            raise error(
                f"{path}: sha256 {actual[:16]}… differs from {SUMS_NAME} ({expected[:16]}…) — "
                f"fix: rebuild the release or regenerate {SUMS_NAME}"
            )
    return sums
