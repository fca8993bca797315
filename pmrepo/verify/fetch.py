"""A published release over HTTP(S), downloaded for ``verify``: ``SHA256SUMS``, its signature when
there is one, and every file it lists — nothing else can be known without a directory listing.

Downloads go through :class:`pmrepo.sources.fetch.Fetcher`: raw bytes (``Accept-Encoding: identity``),
at most ``PMREPO_FETCH_MAX_BYTES`` per file, ``PMREPO_FETCH_DEADLINE`` seconds per file (its headers
too: :mod:`pmrepo.httpread`) and 60 s without data, progress every 2 s; names from ``SHA256SUMS``
must be plain relative names, each written only under the (private) destination directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote, urljoin

import requests

from ..checksums import SUMS_NAME, SUMS_SIGNATURE, read_sha256sums
from ..errors import SourceError, VerifyError
from ..httpread import AnswerError, Client
from ..layout import safe_relative
from ..progress import Console
from ..sources.fetch import Fetcher


def _url(base: str, name: str) -> str:
    return urljoin(base, "/".join(quote(part) for part in name.split("/")))


def _exists(url: str, client: Client) -> bool:
    """Whether the server has ``url`` (HEAD; a 404 or 410 is no, anything else: try to download it)."""
    try:
        with client.request("HEAD", url) as (resp, _):
            return resp.status_code not in (404, 410)
    except (requests.RequestException, AnswerError):
        return True  # the download says what is wrong


def fetch_release(url: str, dest: Path, console: Console, *, client: Client | None = None) -> dict[str, str]:
    """Download the release at ``url`` into ``dest``; returns {file: why its download failed}.
    ``client``: what the requests go through (publish's target: its session, no redirect); None:
    a client of the download's own."""
    base = url if url.endswith("/") else url + "/"
    own = client is None
    fetcher = Fetcher(dest / ".parts", say=console.say, client=client)
    client = fetcher.http()
    try:
        return _fetch_all(base, dest, fetcher, client, console)
    finally:
        if own:
            client.close()


def _fetch_all(base: str, dest: Path, fetcher: Fetcher, client: Client, console: Console) -> dict[str, str]:

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
    if _exists(_url(base, SUMS_SIGNATURE), client):
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
