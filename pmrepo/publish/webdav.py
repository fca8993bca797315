"""What publish reads from a WebDAV server, bounded: an answer's body (at most a number of
bytes, within a deadline, as sent — never decompressed; :mod:`pmrepo.httpread`, whose
``Watchdog`` makes the deadline hold for the status line and headers too) and a PROPFIND
listing, parsed with defusedxml (no DTD, no entity, no external reference). Used by
``publish_targets.HttpTarget``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .. import httpread
from ..errors import PublishError
from ..httpread import Watchdog
from ..limits import FETCH_DEADLINE_ENV

if TYPE_CHECKING:
    import requests


def read_body(
    resp: requests.Response,
    limit: int,
    what: str,
    sink: Callable[[bytes], None],
    *,
    deadline: float,
    started: float,
    watchdog: Watchdog | None = None,
) -> int:
    """Hand ``resp``'s body to ``sink`` (httpread.read_body: at most ``limit`` bytes, finished
    ``deadline`` seconds after ``started``), else one line saying what publish was doing. The
    answer is closed (and ``watchdog`` disarmed) either way. Returns the body's size."""
    method, url = resp.request.method, resp.url
    try:
        return httpread.read_body(resp, limit, sink, deadline=deadline, started=started, watchdog=watchdog)
    except httpread.Oversized:
        raise PublishError(
            f"{method} {url}: the answer is larger than {limit} bytes while {what} — "
            "fix: check the mirror (a WebDAV server that answers as expected)"
        ) from None
    except httpread.Late as exc:
        raise PublishError(
            f"{method} {url}: the answer is not finished after {deadline:.0f}s while {what} "
            f"({exc.got} bytes so far) — fix: check the mirror, or raise {FETCH_DEADLINE_ENV}"
        ) from None
    except httpread.BrokenOff as exc:
        raise PublishError(
            f"{method} {url} broke off ({exc.reason}) while {what} — fix: check the mirror, then rerun"
        ) from None


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
