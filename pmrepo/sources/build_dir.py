"""A component's sources put into its build directory: project trees packed, local files and
cached downloads copied with no more permission than the original, every copy checked against
the manifest's sha256; an unpinned URL refused with the command that pins it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import SourceError, UnpinnedSourceError
from ..fsutil import sha256_file
from ..manifest import Component, Release, redact_url
from .fetch import Fetcher
from .tree import CHUNK, open_input, pack_tree


def copy_private(src: Path, target: Path, original: Path | None) -> None:
    """Copy ``src`` to ``target`` with no more permission than the original file
    had (``original``'s mode, at most 0644; 0644 for a download), never
    following a symlink at ``target``."""
    with open_input(src, follow=False) as inp:
        mode = 0o644 if original is None else os.stat(original).st_mode & 0o644
        target.unlink(missing_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            shutil.copyfileobj(inp, out, CHUNK)


def prepare(
    component: Component, release: Release, dest: Path, fetcher: Fetcher, epoch: int | None = None
) -> list[Path]:
    """Put every source and patch of ``component`` into ``dest``; return their paths. A project
    tree is packed with the mtime ``epoch`` (its build's SOURCE_DATE_EPOCH; default the release's).

    Refuses an unpinned URL source (no sha256) with UnpinnedSourceError.
    """
    dest.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for src in component.sources:
        target = dest / src.filename
        if src.path is not None:
            if src.path.is_dir():
                pack_tree(src.path, f"{component.name}-{component.version}", target, epoch or release.epoch)
            else:
                copy_private(src.path, target, src.path)
        else:
            assert src.url is not None
            if src.sha256 is None:
                raise UnpinnedSourceError(
                    f"{release.path}: components.{component.name}.sources: {redact_url(src.url)} has no sha256 — "
                    f'fix: run `./build.py pin --release {release.path}` (trust on first use) or add sha256 = "…"'
                )
            cached = fetcher.fetch(src.url, src.sha256, src.size)
            parsed = urlparse(src.url)
            copy_private(cached, target, Path(unquote(parsed.path)) if parsed.scheme == "file" else None)
            if sha256_file(target) != src.sha256:  # the copy that is used is the one checked
                target.unlink()
                raise SourceError(
                    f"{target}: copied from {cached} but its sha256 differs from the manifest's — "
                    "fix: check the disk, then rerun"
                )
        out.append(target)
    for patch in component.patches:
        target = dest / patch.name
        copy_private(patch, target, patch)
        out.append(target)
    return out
