"""Sources: project-local trees packed deterministically, and URLs fetched
into a content-addressed cache with sha256 verification.

A download goes to a temporary file; only a complete file whose sha256
matches enters the cache (``cache/<sha256>``), by rename. The cache is
content-addressed: an entry's name is its hash, and that is checked again on
every use. An entry whose content no longer matches its name is deleted (one
line says so) and fetched again.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import shutil
import stat
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

import requests
import tomlkit
import urllib3
from tomlkit.items import InlineTable

from ..errors import SourceError, UnpinnedSourceError
from ..fsutil import NotRegularFileError, file_kind, open_regular, read_regular, sha256_file, write_atomic
from ..httpread import BrokenOff, Client, Late, Oversized
from ..limits import fetch_deadline, fetch_max_bytes
from ..manifest import Component, Release, Source, redact_url

log = logging.getLogger("pmrepo.sources.fetch")

CHUNK = 1 << 16


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
                with _open_input(path, follow=False) as fh:  # still the regular file check_packable saw
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


ARCHIVE_MAGIC = {  # file name ending -> (offset, magic) of what pin accepts as that archive
    (".tar.gz", ".tgz", ".gz"): (0, b"\x1f\x8b"),
    (".tar.bz2", ".tbz2", ".bz2"): (0, b"BZh"),
    (".tar.xz", ".txz", ".xz"): (0, b"\xfd7zXZ\x00"),
    (".zip",): (0, b"PK\x03\x04"),
    (".tar",): (257, b"ustar"),
    (".rpm",): (0, b"\xed\xab\xee\xdb"),
}


def check_archive(path: Path, filename: str, url: str) -> None:
    """A body that is not an archive of the type its name says (an HTML error
    page served with 200, say) is refused; names of other types pass."""
    for endings, (offset, magic) in ARCHIVE_MAGIC.items():
        if filename.endswith(endings):
            with path.open("rb") as fh:
                fh.seek(offset)
                head = fh.read(len(magic))
            if head != magic:
                with path.open("rb") as fh:
                    start = fh.read(16)
                raise SourceError(
                    f"{redact_url(url)}: the server sent {path.stat().st_size} bytes starting {start!r}, "
                    f"not a {endings[0]} archive — fix: check the URL (an error page?) and pin again"
                )
            return


@dataclass
class Fetcher:
    """Downloads URLs into ``cache_dir`` keyed by sha256, bounded: the raw bytes
    (``Accept-Encoding: identity``, nothing decoded) are hashed; at most
    ``size`` bytes (a source's pinned size) or ``max_bytes``; within
    ``deadline`` seconds per file, its status line and headers too (httpread), and
    ``timeout`` per read; progress every ``progress_every`` seconds. The bounds come from the environment
    (``PMREPO_FETCH_MAX_BYTES``, ``PMREPO_FETCH_DEADLINE``) when not given."""

    cache_dir: Path
    timeout: float = 60.0
    say: Callable[[str], None] = log.warning
    max_bytes: int = field(default_factory=fetch_max_bytes)
    deadline: float = field(default_factory=fetch_deadline)
    progress_every: float = 2.0
    client: Client | None = None  # what downloads go through (publish's: its session, no redirect); None: its own

    def cached(self, sha256: str) -> Path:
        return self.cache_dir / sha256

    def download(self, url: str, size: int | None = None) -> tuple[Path, str]:
        """Download ``url`` to a temporary file in the cache dir; return it and its sha256.
        The caller decides whether it enters the cache."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".part-", dir=self.cache_dir)
        tmp = Path(name)
        h = hashlib.sha256()
        shown = redact_url(url)
        try:
            with os.fdopen(fd, "wb") as out:
                parsed = urlparse(url)
                if parsed.scheme == "file":  # confined when the manifest was loaded; a regular file
                    with _open_input(Path(unquote(parsed.path)), follow=True) as src:
                        for block in iter(lambda: src.read(CHUNK), b""):
                            h.update(block)
                            out.write(block)
                else:
                    self._http(url, shown, size, out, h)
        except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as exc:
            tmp.unlink(missing_ok=True)
            raise SourceError(
                f"{shown}: download failed: {exc.__class__.__name__}: {str(exc).replace(url, shown)}"
            ) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, h.hexdigest()

    def http(self) -> Client:
        """The client downloads go through: the one given, else one of this fetcher's own (redirects
        followed, as release downloads need; the deadline covers headers too: httpread)."""
        if self.client is None:
            self.client = Client(self.deadline, self.timeout)
        return self.client

    def _http(self, url: str, shown: str, size: int | None, out: IO[bytes], h: Any) -> None:
        cap = size if size is not None else self.max_bytes
        why = "its pinned size" if size is not None else "PMREPO_FETCH_MAX_BYTES"
        fix = "fix: check the URL, or raise PMREPO_FETCH_MAX_BYTES for a large unpinned source"
        client = self.http()
        shown_at = [time.monotonic()]

        def sink(block: bytes) -> None:
            h.update(block)
            out.write(block)

        try:
            with client.request("GET", url, headers={"Accept-Encoding": "identity"}) as (resp, started):
                resp.raise_for_status()
                expected = resp.headers.get("Content-Length")
                if expected is not None and expected.isdigit() and int(expected) > cap:
                    raise SourceError(
                        f"{shown}: the server announces {expected} bytes, more than {cap} ({why}) — {fix}"
                    )

                def progress(got: int) -> None:
                    now = time.monotonic()
                    if now - shown_at[0] >= self.progress_every:
                        shown_at[0] = now
                        total = f" of {expected}" if expected else ""
                        self.say(f"  fetching {shown}: {got}{total} bytes, {now - started:.0f}s")

                got = client.read(resp, started, cap, sink, progress)
        except Oversized:
            raise SourceError(f"{shown}: more than {cap} bytes ({why}) — {fix}") from None
        except Late as exc:
            raise SourceError(
                f"{shown}: not finished after {client.deadline:.0f}s ({exc.got} bytes so far) — "
                "fix: use a faster mirror, or raise PMREPO_FETCH_DEADLINE"
            ) from None
        except BrokenOff as exc:
            raise SourceError(f"{shown}: download failed: {exc.reason} after {exc.got} bytes") from None
        if expected is not None and expected.isdigit() and got != int(expected):
            raise SourceError(f"{shown}: short download ({got} of {expected} bytes)")

    def fetch(self, url: str, sha256: str, size: int | None = None) -> Path:
        """Return the cached file for ``sha256``, downloading ``url`` if needed."""
        target = self.cached(sha256)
        if target.is_file():
            got = sha256_file(target)
            if got == sha256:
                return target
            target.unlink()
            self.say(
                f"source cache: {target} is corrupt (its content hashes to {got[:16]}…, not its name): "
                f"deleted, fetching {redact_url(url)} again"
            )
            try:
                tmp, got = self.download(url, size)
            except SourceError as exc:
                raise SourceError(
                    f"source cache: {target} was corrupt and has been deleted; fetching it again failed: {exc}"
                ) from None
        else:
            tmp, got = self.download(url, size)
        if got != sha256:
            tmp.unlink(missing_ok=True)
            raise SourceError(
                f"{redact_url(url)}: sha256 mismatch: manifest says {sha256}, server sent {got} — "
                "fix: check the upstream file, then re-pin deliberately"
            )
        tmp.replace(target)
        return target


def _open_input(path: Path, *, follow: bool) -> IO[bytes]:
    """A source, patch or cached file opened as fsutil.open_regular does: a FIFO or device is
    refused in one line (never read, never waited on)."""
    try:
        return open_regular(path, follow=follow)
    except NotRegularFileError as exc:
        raise SourceError(f"{exc} — fix: use a regular file as a source or patch") from None


def copy_private(src: Path, target: Path, original: Path | None) -> None:
    """Copy ``src`` to ``target`` with no more permission than the original file
    had (``original``'s mode, at most 0644; 0644 for a download), never
    following a symlink at ``target``."""
    with _open_input(src, follow=False) as inp:
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


def unpinned(release: Release) -> list[tuple[Component, Source]]:
    return [(c, s) for c in release.components for s in c.sources if not s.pinned]


def pin(release: Release, fetcher: Fetcher) -> list[tuple[str, str, str]]:
    """Download every unpinned URL source and record its sha256 in the manifest.

    Trust on first use: the checksum is whatever the server sends now. Returns
    (component, url, sha256) for every source pinned. The manifest is rewritten
    atomically, through tomlkit (its comments and layout stay as they are);
    already pinned sources are left alone.
    """
    pinned: list[tuple[str, str, str]] = []
    sizes: dict[str, int] = {}
    for comp, src in unpinned(release):
        assert src.url is not None
        tmp, digest = fetcher.download(src.url)
        try:
            check_archive(tmp, src.filename, src.url)
        except SourceError:
            tmp.unlink(missing_ok=True)
            raise
        sizes[src.url] = tmp.stat().st_size
        target = fetcher.cached(digest)
        tmp.replace(target)
        pinned.append((comp.name, src.url, digest))
    if pinned:
        text = read_regular(release.path).decode()
        write_atomic(release.path, record_pins(text, release.path, pinned, sizes))
    return pinned


def record_pins(text: str, path: Path, pins: list[tuple[str, str, str]], sizes: dict[str, int] | None = None) -> str:
    """``text`` (a manifest) with ``sha256 = digest`` (and ``size``, when known) added to each
    (component, url, digest)'s source; everything else — comments, order, inline or expanded
    tables — is kept. A source written as a bare URL string becomes ``{ url = …, sha256 = … }``."""
    doc = tomlkit.parse(text)
    comps = doc.get("components", [])
    done: set[tuple[str, str]] = set()
    for name, url, digest in pins:
        if (name, url) in done:  # one URL in several per-dist entries: pinned in all of them at once
            continue
        done.add((name, url))
        where = f"{path}: components.{name}.sources"
        entries = [c for c in comps if c.get("name") == name]
        if not entries:
            raise SourceError(f"{where}: no [[components]] entry named {name} — fix: reload the manifest and pin again")
        per_entry = []
        for comp in entries:
            srcs = comp.get("sources", [])
            for i, entry in enumerate(srcs):  # a bare URL string becomes a table that can hold the digest
                if isinstance(entry, str) and str(entry) == url:
                    table = tomlkit.inline_table()
                    table.append("url", url)
                    srcs[i] = table
            per_entry.append([s for s in srcs if isinstance(s, dict) and s.get("url") == url and "sha256" not in s])
        if not any(per_entry) or any(len(srcs) > 1 for srcs in per_entry):
            n = max(len(srcs) for srcs in per_entry)
            raise SourceError(f'{where}: {n} unpinned sources with url = "{redact_url(url)}" — fix: list each URL once')
        for srcs in per_entry:
            if srcs:
                _add_key(srcs[0], "sha256", digest)
                if sizes and url in sizes:
                    _add_key(srcs[0], "size", sizes[url])
    return tomlkit.dumps(doc)


def _add_key(table: Any, key: str, value: str | int) -> None:
    """Add ``key`` at the end of a table; an inline table keeps its spacing (``{ url = "…", sha256 = "…" }``).
    A key already there (a ``size`` written by hand, or by an older ``new-release``) gets the new value."""
    if key in table:
        table[key] = value
        return
    if not isinstance(table, InlineTable):
        table[key] = value
        return
    body = table.value.body  # tomlkit appends after the closing space: move that space behind the new key
    trailing: list[Any] = []
    while body and body[-1][0] is None:
        trailing.insert(0, body.pop())
    item = tomlkit.item(value)
    item.trivia.indent = " "
    table.append(key, item)
    body.extend(trailing)
