"""Small file helpers every step shares: atomic writes, sha256 digests, and the one
way an input file is opened (:func:`open_regular`: regular files only)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import PmrepoError

_CHUNK = 1 << 20


class NotRegularFileError(PmrepoError):
    """An input path is not a regular file (a FIFO, socket, device, directory or a symlink
    where none may be). ``str()`` is ``<path>: <kind>, not a regular file``; callers that know
    the manifest field add it and the fix (``what``)."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = path, kind
        super().__init__(f"{path}: {kind}, not a regular file")


def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` is, for error lines: "a FIFO", "a block device", …"""
    for test, kind in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISCHR, "a character device"),
    ):
        if test(mode):
            return kind
    return "a special file"


def open_regular(path: Path, *, follow: bool = False) -> BinaryIO:
    """Open an input file for reading: a regular file, or NotRegularFileError.

    ``follow=False`` (paths the manifest names, already resolved and confined to the release's
    tree): a symlink in the last component is refused (``O_NOFOLLOW``) — one swapped in after
    the confinement check does not lead out. A FIFO, socket or device is refused before it is
    opened (``lstat``/``stat``) and again on the open descriptor (``fstat``), so a file
    replaced in between is caught too; ``O_NONBLOCK`` keeps the open of a FIFO from waiting for
    a writer. Nothing is read from anything but a regular file. ``FileNotFoundError`` and other
    OSErrors pass through."""
    path = Path(path)
    st = os.stat(path) if follow else os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFileError(path, file_kind(st.st_mode))
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow and os.path.islink(path):
            raise NotRegularFileError(path, "a symlink (it changed while being opened)") from None
        raise exc from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(path, file_kind(st.st_mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class FileTooLargeError(PmrepoError):
    """An input file is larger than what may be read of it (``str()``: ``<path>: more than N bytes``)."""

    def __init__(self, path: Path, limit: int, what: str = "") -> None:
        self.path, self.limit = path, limit
        super().__init__(f"{path}: more than {limit} bytes{what}, the most that is read of such a file")


def read_regular(path: Path, *, follow: bool = False, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``path`` (see :func:`open_regular`); with ``limit``, at most
    that many, else FileTooLargeError (nothing more is read)."""
    with open_regular(path, follow=follow) as fh:
        if limit is None:
            return fh.read()
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(Path(path), limit)
    return data


def iter_gzip(path: Path, *, limit: int, follow: bool = False, chunk: int = _CHUNK) -> Iterator[bytes]:
    """The decompressed content of the gzip file ``path`` (a regular file, see :func:`open_regular`)
    block by block: at most ``limit`` bytes in all, else FileTooLargeError — a small file that
    inflates without end stops there. ``OSError``/``EOFError``: not gzip, or cut short."""
    import gzip

    total = 0
    with open_regular(path, follow=follow) as raw, gzip.GzipFile(fileobj=raw) as gz:
        while block := gz.read(chunk):
            total += len(block)
            if total > limit:
                raise FileTooLargeError(Path(path), limit, " decompressed")
            yield block


def check_regular(path: Path, *, follow: bool = False) -> None:
    """``path`` is a regular file (opened and checked as :func:`open_regular` does, nothing read):
    for files another program reads, or that are read later."""
    open_regular(path, follow=follow).close()


CANNOT_CREATE = "cannot be created"  # how private_dir's problem starts when the directory could not be made


def private_dir(path: Path, refuse: int = 0o077, *, parents: bool = True) -> str | None:
    """Create ``path`` (mode 0700) when missing; what makes it unfit to hold this user's private
    files, or None: it must be a directory (not a symlink) of this user's with none of the mode
    bits ``refuse`` (0o077: no access for others; 0o022: nobody else may write)."""
    try:
        if parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # a file or symlink there too: said below
            path.mkdir(mode=0o700)
        st = os.lstat(path)
    except OSError as exc:
        return f"{CANNOT_CREATE} ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        return "is a symlink or not a directory"
    if st.st_uid != os.geteuid():
        return f"is owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    if st.st_mode & refuse:
        mode = stat.S_IMODE(st.st_mode)
        if refuse & 0o044:
            return f"is open to other users (mode {mode:04o}; it must be 0700)"
        return f"is group- or world-writable (mode {mode:04o})"
    return None


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a unique temporary file beside ``path``, then rename
    it into place: readers see the old file or the new one, never a part
    (a symlink at ``path`` is replaced, never followed). ``mode``: the file's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_regular(src: Path, dest: Path, *, owner: int | None = None) -> Path:
    """Copy the regular file ``src`` (never through a symlink: :func:`open_regular`) to ``dest``,
    a new file of this process's user (mode 0644) renamed into place: what another user wrote
    is taken as a copy of one's own, never as that user's file. ``owner``: ``src`` must also be
    that uid's (checked on the open descriptor), else NotRegularFileError."""
    with open_regular(src) as fh:
        uid = os.fstat(fh.fileno()).st_uid
        if owner is not None and uid != owner:
            raise NotRegularFileError(src, f"a file of uid {uid}, not of uid {owner}")
        fd, part = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                for block in iter(lambda: fh.read(_CHUNK), b""):
                    out.write(block)
            os.chmod(part, 0o644)
            os.replace(part, dest)
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
    return dest


def sha256_file(path: Path, *, follow: bool = True) -> str:
    """The sha256 of the regular file ``path`` (``follow=False``: not through a symlink)."""
    h = hashlib.sha256()
    with open_regular(path, follow=follow) as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()
