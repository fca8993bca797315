"""A published release over HTTP(S), downloaded for ``verify``: ``SHA256SUMS``, its signature when
there is one, and every file it lists — nothing else can be known without a directory listing.

Downloads go through :class:`pmrepo.sources.Fetcher`: raw bytes (``Accept-Encoding: identity``),
at most ``PMREPO_FETCH_MAX_BYTES`` per file, ``PMREPO_FETCH_DEADLINE`` seconds per file and 60 s
without data, progress every 2 s; names from ``SHA256SUMS`` must be plain relative names, each
written only under the (private) destination directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import requests

from .checksums import SUMS_NAME, SUMS_SIGNATURE, read_sha256sums
from .errors import SourceError, VerifyError
from .layout import safe_relative
from .progress import Console
from .sources import Fetcher

HEAD_TIMEOUT = 60.0


def _url(base: str, name: str) -> str:
    return urljoin(base, "/".join(quote(part) for part in name.split("/")))


def _exists(url: str, session: Any) -> bool:
    """Whether the server has ``url`` (HEAD; a 404 or 410 is no, anything else: try to download it)."""
    head = requests.head if session is None else session.head
    try:
        with head(url, timeout=HEAD_TIMEOUT, allow_redirects=True) as resp:
            return resp.status_code not in (404, 410)
    except requests.RequestException:
        return True  # the download says what is wrong


def fetch_release(url: str, dest: Path, console: Console, *, session: Any = None) -> dict[str, str]:
    """Download the release at ``url`` into ``dest``; returns {file: why its download failed}."""
    base = url if url.endswith("/") else url + "/"
    fetcher = Fetcher(dest / ".parts", say=console.say, session=session)

    def get(name: str) -> None:
        rel = safe_relative(name)
        if rel is None:
            raise SourceError(f"{name!r} is not a plain relative name")
        tmp, _ = fetcher.download(_url(base, name))
        target = dest.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(target)

    try:
        get(SUMS_NAME)
    except SourceError as exc:
        raise VerifyError(f"{_url(base, SUMS_NAME)}: cannot download it ({exc}) — fix: check the URL") from None
    names = sorted(read_sha256sums(dest / SUMS_NAME, error=VerifyError))
    if _exists(_url(base, SUMS_SIGNATURE), session):
        names.insert(0, SUMS_SIGNATURE)
    failed: dict[str, str] = {}
    tick = console.counter(f"download {base}", len(names))
    for n, name in enumerate(names, 1):
        try:
            get(name)
        except SourceError as exc:
            failed[name] = str(exc)
        tick(n)
    shutil.rmtree(fetcher.cache_dir, ignore_errors=True)  # partial downloads of the failed ones
    return failed
