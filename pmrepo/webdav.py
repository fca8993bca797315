"""What publish reads from a WebDAV server, bounded: an answer's body (at most a number of
bytes, within a deadline, as sent — never decompressed) and a PROPFIND listing, parsed with
defusedxml (no DTD, no entity, no external reference). Used by ``publish_targets.HttpTarget``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .errors import PublishError
from .limits import FETCH_DEADLINE_ENV

if TYPE_CHECKING:
    import requests

CHUNK = 1024 * 1024


def read_body(
    resp: requests.Response, limit: int, what: str, sink: Callable[[bytes], None], *, deadline: float, started: float
) -> int:
    """Hand ``resp``'s body to ``sink`` block by block: at most ``limit`` bytes, and finished
    ``deadline`` seconds after ``started`` (when the request was sent), else one line. The
    answer is closed either way. Returns the body's size."""
    import requests
    import urllib3

    method, url = resp.request.method, resp.url
    got = 0
    try:
        while block := resp.raw.read1(CHUNK, decode_content=False):
            got += len(block)
            if got > limit:
                raise PublishError(
                    f"{method} {url}: the answer is larger than {limit} bytes while {what} — "
                    "fix: check the mirror (a WebDAV server that answers as expected)"
                )
            if time.monotonic() - started > deadline:
                raise PublishError(
                    f"{method} {url}: the answer is not finished after {deadline:.0f}s while {what} "
                    f"({got} bytes so far) — fix: check the mirror, or raise {FETCH_DEADLINE_ENV}"
                )
            sink(block)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        raise PublishError(
            f"{method} {url} broke off ({type(exc).__name__}) while {what} — fix: check the mirror, then rerun"
        ) from None
    finally:
        resp.close()
    return got


def child_names(body: bytes, root_url: str) -> set[str]:
    """The names directly under ``root_url`` in a PROPFIND ``multistatus`` answer."""
    from defusedxml import DefusedXmlException  # requirements.txt
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        tree = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, OverflowError):
        raise PublishError(
            f"PROPFIND {root_url}: the answer is not plain XML — fix: the target must be a WebDAV server"
        ) from None
    root = (urlsplit(root_url).path or "/").rstrip("/")
    names = set()
    for href in tree.iter("{DAV:}href"):
        path = unquote(urlsplit((href.text or "").strip()).path).rstrip("/")
        if path == root or not path.startswith(root + "/"):
            continue
        rest = path[len(root) + 1 :]
        if rest and "/" not in rest:
            names.add(rest)
    return names
