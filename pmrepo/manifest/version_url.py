"""A component's version in a source URL or file name, found and replaced where it names
the version only (``new-release``).

A URL is split with :mod:`urllib.parse`; its scheme, user, host and port are never
touched, nor its query or fragment. Of its path, only

* the file name (the last segment): every occurrence of the version that stands as a
  token of its own (``foo-2.tar.gz``, ``v2.tar.gz``, ``foo_2.zip``; not ``foo2``, nor
  the ``2`` of ``2.1``), and
* a directory segment that is the version, or the component's name with its version
  (``v1.0``, ``1.0``, ``libqb-1.0``, ``Pacemaker-1.1.14``; not ``team2``)

are rewritten. :func:`replace_in_url` refuses (:class:`VersionNotFound`) a URL whose path
carries no version, and one that would still carry the old version after the rewrite
(:class:`VersionRemains`): a segment it does not know how to rewrite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit


class VersionNotFound(ValueError):
    """No version-bearing part in the URL (or file name)."""


@dataclass
class VersionRemains(ValueError):
    """The old version is still in the rewritten URL, in ``part``."""

    url: str
    part: str


def _token(version: str) -> str:
    # not glued to a letter, digit or a dotted number before it; not continued by one after it
    return rf"(?<![A-Za-z0-9.])(?P<v>[vV]?){re.escape(version)}(?![A-Za-z0-9]|\.[0-9])"


def has_version(text: str, version: str) -> bool:
    """Whether ``version`` stands in ``text`` as a token of its own."""
    return re.search(_token(version), text) is not None


def replace_in_name(name: str, old: str, new: str) -> tuple[str, int]:
    """A file name with every token ``old`` replaced by ``new``, and how many there were."""
    return re.subn(_token(old), lambda m: m.group("v") + new, name)


def _segment(segment: str, component: str, old: str, new: str) -> str:
    """A directory segment that is ``[name-|name_][v]old`` with ``old`` replaced; any other unchanged."""
    m = re.fullmatch(rf"(?P<head>(?:{re.escape(component)}[-_])?[vV]?){re.escape(old)}", segment, re.IGNORECASE)
    return segment if m is None else m.group("head") + new


def replace_in_url(url: str, component: str, old: str, new: str) -> str:
    """``url`` with ``old`` replaced by ``new`` in its version-bearing path segments (see the module)."""
    parts = urlsplit(url)
    start = len(parts.scheme) + 1 if parts.scheme else 0
    if url[start : start + 2] == "//":
        start += 2 + len(parts.netloc)
    path = parts.path
    if not url[start:].startswith(path):  # pragma: no cover - urlsplit keeps the path as written
        raise VersionNotFound(url)
    segments = path.split("/")
    found = 0
    for i, seg in enumerate(segments):
        if i == len(segments) - 1:
            segments[i], n = replace_in_name(seg, old, new)
            found += n
        else:
            segments[i] = _segment(seg, component, old, new)
            found += segments[i] != seg
    if not found:
        raise VersionNotFound(url)
    rest = url[start + len(path) :]
    out = url[:start] + "/".join(segments) + rest
    for part in ("/".join(segments), rest):
        for seg in re.split(r"[/?&#=]", part):
            if has_version(seg, old):
                raise VersionRemains(out, seg)
    return out
