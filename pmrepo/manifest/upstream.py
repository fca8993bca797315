"""A component entry's ``upstream``: where its releases appear, validated when the manifest loads.

::

    upstream = { git = "https://github.com/ClusterLabs/pacemaker", tag = "Pacemaker-{version}", series = "1.1" }
    upstream = { pypi = "pssh" }
    upstream = { page = "https://build.clusterlabs.org/corosync/releases/", regex = 'corosync-([0-9.]+)\\.tar\\.gz' }

Exactly one of ``git`` (an ``https://`` URL; or, for repositories on this host, a path or
``file://`` URL inside the release's tree or the project), ``pypi`` (a project name) or ``page``
(an ``http(s)://`` URL, with ``regex``: one group, the version). ``tag`` (git only, default
``{version}``) spells a tag, ``{version}`` exactly once; ``series`` keeps versions equal to it or
starting with ``<series>.``; ``prereleases = true`` keeps rc/alpha/beta/pre/dev versions. Every value
is data: the grammars admit no space, quote, shell or TOML syntax, no option-like ``-`` start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .fields import Reader, confined_path
from .model import Upstream

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?"
# https://host[:port]/path: path segments of letters, digits and ._~+- (no %, @, ?, #, quote or space)
GIT_URL_RE = re.compile(rf"^https://{_HOST}(?:/[A-Za-z0-9._~+-]+)+/?\Z")
PAGE_URL_RE = re.compile(rf"^https?://{_HOST}(?:/[A-Za-z0-9._~+%-]*)*(?:\?[A-Za-z0-9._~+%=&-]*)?\Z")
LOCAL_PATH_RE = re.compile(r"^(?!-)[A-Za-z0-9._+/-]+\Z")  # a path on this host: no space, no shell character
TAG_RE = re.compile(r"^(?![-/.])[A-Za-z0-9._+/-]*\{version\}[A-Za-z0-9._+/-]*\Z")
PYPI_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")
SERIES_RE = re.compile(r"^[0-9]+(?:\.[0-9A-Za-z]+)*\Z")
REGEX_MAX = 300
KEYS = {"git", "pypi", "page", "tag", "regex", "series", "prereleases"}
_GIT_FIX = (
    'write git = "https://github.com/<owner>/<repo>" (path of letters, digits and ._~+-), or a path '
    "inside the release's tree for a repository on this host"
)


def _bad_segments(path: str) -> bool:
    return any(seg in ("..", ".") or seg.startswith("-") for seg in path.split("/")[3:] if seg)


def _git(r: Reader, fld: str, root: Path, value: str) -> str:
    """An https:// URL as given, or a local repository's absolute path (confined like a source path)."""
    if value.startswith("https://"):
        if not GIT_URL_RE.match(value) or _bad_segments(value):
            raise r.fail(fld, f"{value!r} is not a plain https:// repository URL", _GIT_FIX)
        return value
    if value.startswith("file://"):
        parts = urlsplit(value)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise r.fail(fld, f"{value!r} is not a local file:///path URL", _GIT_FIX)
        local = unquote(parts.path)
    elif "://" in value or value.startswith(("/", "~")) or ":" in value:
        raise r.fail(fld, f"{value!r} is not an https:// URL or a path in the release's tree", _GIT_FIX)
    else:
        local = value
    if not LOCAL_PATH_RE.match(local) or any(seg.startswith("-") for seg in local.split("/")):
        raise r.fail(
            fld,
            f"{value!r} is not an https:// URL or a plain path (letters, digits and ._+/-, no part starting with '-')",
            _GIT_FIX,
        )
    return str(confined_path(r, fld, root, local))


def _regex(r: Reader, fld: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > REGEX_MAX or "\n" in value:
        raise r.fail(
            fld, f"must be a one-line regular expression of at most {REGEX_MAX} characters", "write regex = '…'"
        )
    try:
        groups = re.compile(value).groups
    except re.error as exc:
        raise r.fail(fld, f"not a valid regular expression: {exc}", "fix the expression") from None
    if groups != 1:
        raise r.fail(
            fld,
            f"has {groups} groups; exactly one, the version, is read",
            r"write one group around the version, e.g. regex = 'name-([0-9.]+)\.tar\.gz' (others as (?:…))",
        )
    return value


def load_upstream(r: Reader, root: Path, data: Any, where: str) -> Upstream | None:
    """The ``upstream`` table of a component entry (``where``: ``components.<name>``), or None."""
    if data is None:
        return None
    fld = f"{where}.upstream"
    if not isinstance(data, dict):
        raise r.fail(fld, "must be a table", 'write upstream = { git = "https://…", tag = "v{version}" }')
    r.unknown(data, KEYS, fld)
    kinds = [k for k in ("git", "pypi", "page") if k in data]
    if len(kinds) != 1:
        raise r.fail(fld, f"needs exactly one of git, pypi or page (got {kinds or 'none'})", "keep one of them")
    kind = kinds[0]
    for key, allowed in (("tag", "git"), ("regex", "page")):
        if key in data and kind != allowed:
            raise r.fail(f"{fld}.{key}", f"is for a {allowed} upstream, this one is {kind}", f"remove {key}")
    value = r.str_(data, kind, fld)
    if kind == "git":
        location = _git(r, f"{fld}.git", root, value)
    elif kind == "pypi":
        location = r.str_(data, "pypi", fld, pattern=PYPI_RE, hint='a PyPI project name, e.g. pypi = "pssh"')
    else:
        if not PAGE_URL_RE.match(value):
            raise r.fail(
                f"{fld}.page",
                f"{value!r} is not a plain http(s):// URL",
                'write page = "https://host/path/" (letters, digits and ._~+%- in the path)',
            )
        location = value
        if "regex" not in data:
            raise r.fail(f"{fld}.regex", "missing", r"add regex = 'name-([0-9.]+)\.tar\.gz' (one group: the version)")
    tag = r.str_(data, "tag", fld, default="{version}")
    if not TAG_RE.match(tag) or tag.count("{version}") != 1:
        raise r.fail(
            f"{fld}.tag",
            f"{tag!r} does not spell a tag with {{version}} exactly once",
            'write tag = "v{version}" (letters, digits and ._+/- around {version})',
        )
    series = r.str_(data, "series", fld, default="") or None
    if series is not None and not SERIES_RE.match(series):
        raise r.fail(f"{fld}.series", f"{series!r} is not a version prefix", 'write series = "1.1"')
    pre = data.get("prereleases", False)
    if not isinstance(pre, bool):
        raise r.fail(f"{fld}.prereleases", f"must be true or false, got {pre!r}", "write prereleases = true")
    regex = _regex(r, f"{fld}.regex", data["regex"]) if kind == "page" else ""
    return Upstream(kind=kind, location=location, tag=tag, regex=regex, series=series, prereleases=pre)
