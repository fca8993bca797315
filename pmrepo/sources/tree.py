"""A component's local inputs: a project tree packed into a tarball that is byte-identical for
identical content (sorted entries, fixed owner, mode and mtime, no gzip timestamp), holding only
files, directories and symlinks that stay inside it; and a local file opened as a regular file."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from pathlib import Path
from typing import IO

from ..errors import SourceError
from ..fsutil import NotRegularFileError, file_kind, open_regular, write_atomic

CHUNK = 1 << 16


def open_input(path: Path, *, follow: bool) -> IO[bytes]:
    """A source, patch or cached file opened as fsutil.open_regular does: a FIFO or device is
    refused in one line (never read, never waited on)."""
    try:
        return open_regular(path, follow=follow)
    except NotRegularFileError as exc:
        raise SourceError(f"{exc} — fix: use a regular file as a source or patch") from None


def check_packable(tree: Path, path: Path) -> None:
    """What a packed tree may hold: files, directories, and symlinks that stay
    inside the tree (relative, resolving under it) — no FIFO, socket or device."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        try:
            inside = not os.path.isabs(target) and path.resolve().is_relative_to(tree.resolve())
        except (RuntimeError, OSError):  # a symlink loop
            inside = False
        if not inside:
            raise SourceError(
                f"{path}: symlink to {target!r} leads outside the packed tree {tree} — fix: replace it "
                "with the file, or a relative link inside the tree"
            )
    elif not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise SourceError(
            f"{path}: {file_kind(st.st_mode)} cannot be packed into a source tarball — fix: remove it from {tree}"
        )


def pack_tree(tree: Path, top: str, out: Path, mtime: int) -> None:
    """Pack ``tree`` as ``top/…`` into a gzip tarball that is byte-identical
    for identical content: sorted entries, fixed owner, mode and mtime, and a
    gzip header without a timestamp or file name."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add(path: Path, arcname: str) -> None:
            info = tar.gettarinfo(str(path), arcname)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = mtime
            if info.isdir():
                info.mode = 0o755
            elif info.isfile():
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            if info.isfile():
                with open_input(path, follow=False) as fh:  # still the regular file check_packable saw
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)

        add(tree, top)
        for path in sorted(tree.rglob("*")):
            if "__pycache__" in path.parts or path.name.endswith((".o", ".so")):
                continue
            check_packable(tree, path)
            add(path, f"{top}/{path.relative_to(tree).as_posix()}")
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue())
    write_atomic(out, packed.getvalue())
