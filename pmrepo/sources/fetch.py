"""Sources: project-local trees packed deterministically, and URLs fetched
into a content-addressed cache with sha256 verification.

A download goes to a temporary file; only a complete file whose sha256
matches enters the cache (``cache/<sha256>``), by rename. The cache is
content-addressed: an entry's name is its hash, and that is checked again on
every use. An entry whose content no longer matches its name is deleted (one
line says so) and fetched again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

import requests
import urllib3

from ..errors import SourceError
from ..fsutil import sha256_file
from ..httpread import BrokenOff, Client, Late, Oversized
from ..limits import fetch_deadline, fetch_max_bytes
from ..manifest import redact_url
from .tree import CHUNK, open_input

log = logging.getLogger("pmrepo.sources.fetch")


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
                    with open_input(Path(unquote(parsed.path)), follow=True) as src:
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
