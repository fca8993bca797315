"""pmrepo's nvchecker sources: what ``pmrepo upstream``'s generated configuration names
(``source = "pmrepo_git"`` …), each an nvchecker source (``get_version(name, conf, *, cache,
keymanager)`` returning the versions or tags found, ``GetVersionError`` when it cannot).

They replace nvchecker's own ``git``, ``regex`` and ``pypi`` sources, which pmrepo must not use:
nvchecker's ``git`` source builds ``git ls-remote --tags --refs <url>`` as a *shell* string with the
URL unquoted, its HTTP client bounds no answer, and its ``pypi`` source cannot be pointed at
another index. Here:

- ``pmrepo_git`` runs git through ``pmrepo.run`` as an argument vector —
  ``git ls-remote --tags --refs -- <location>``: no shell, the location after ``--`` is never an
  option — with ``GIT_ALLOW_PROTOCOL`` limited to ``https`` (or ``file`` for a repository on this
  host), so no ``ext::`` or ``ssh`` transport can run a command, and no prompt.
- ``pmrepo_page`` and ``pmrepo_pypi`` read one bounded answer (``MAX_BYTES``, ``identity``
  encoding, the entry's timeout over the whole answer, its headers too) through
  :mod:`pmrepo.httpread`; the PyPI index is ``PMREPO_PYPI_URL``
  (default ``https://pypi.org/pypi``).

``register()`` makes them importable as ``nvchecker_source.<name>``, where nvchecker's dispatcher
looks sources up.
"""

from __future__ import annotations

import asyncio
import re
import sys
import types
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import summary_line
from ..httpread import BrokenOff, Client, Late, Oversized
from ..run import run

MAX_BYTES = 8 << 20  # a release page or a PyPI answer larger than this is refused
DEFAULT_TIMEOUT = 30.0
PYPI_DEFAULT = "https://pypi.org/pypi"


def _error(msg: str, **kw: Any) -> Exception:
    from nvchecker.api import GetVersionError

    err: Exception = GetVersionError(msg, **kw)
    return err


def ls_remote_argv(location: str) -> tuple[list[str], dict[str, str]]:
    """The argument vector and environment of listing ``location``'s tags: no shell, no option."""
    protocol = "https" if location.startswith("https://") else "file"
    env = {"GIT_ALLOW_PROTOCOL": protocol, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
    return ["git", "ls-remote", "--tags", "--refs", "--", location], env


def ls_remote(location: str, timeout: float, log: Path | None = None) -> list[tuple[str, str]]:
    """(tag, commit) of every tag of the repository at ``location``; a one-line error when it cannot."""
    argv, env = ls_remote_argv(location)
    res = run(argv, env=env, timeout=timeout, check=False, log_file=log, max_output=MAX_BYTES)
    if res.killed == "output":
        raise _error(f"answered more than {MAX_BYTES} bytes of tags (refused; git was stopped)")
    if res.returncode != 0:
        why = f"no answer within {timeout:.0f}s" if res.killed == "timeout" else git_message(res.output)
        raise _error(f"cannot be reached: {why}")
    out = []
    for line in res.output.splitlines():
        sha, sep, ref = line.partition("\trefs/tags/")
        if sep:
            out.append((ref.strip(), sha.strip()))
    return out


def git_message(output: str) -> str:
    """git's first ``fatal:``/``error:`` line (what it says went wrong), else the best line."""
    for line in output.splitlines():
        if line.startswith(("fatal: ", "error: ")):
            return line.split(": ", 1)[1].strip()
    return summary_line(output)


def fetch_bounded(url: str, timeout: float, max_bytes: int = MAX_BYTES) -> bytes:
    """One GET of ``url``: at most ``max_bytes`` raw bytes, within ``timeout`` seconds overall, its
    status line and headers too (httpread: a client of its own per call, as checks run in threads)."""
    client = Client(timeout, (min(timeout, 10.0), timeout))
    body = bytearray()
    try:
        with client.request("GET", url, headers={"Accept-Encoding": "identity"}) as (resp, started):
            if resp.status_code != 200:
                raise _error(f"cannot be read: HTTP {resp.status_code} {resp.reason}")
            if resp.headers.get("Content-Encoding", "identity") != "identity":
                raise _error(f"answered {resp.headers['Content-Encoding']}-encoded content (asked for identity)")
            client.read(resp, started, max_bytes, body.extend)
        return bytes(body)
    except Oversized:
        raise _error(f"answered more than {max_bytes} bytes") from None
    except Late:
        host = urlsplit(url).hostname or url
        raise _error(f"cannot be read: no complete answer from {host} within {timeout:.0f}s") from None
    except BrokenOff as exc:
        raise _error(f"cannot be read: the answer broke off ({exc.reason}) after {exc.got} bytes") from None
    except requests.RequestException as exc:
        raise _error(f"cannot be reached: {http_why(exc, url, timeout)}") from None
    finally:
        client.close()


_HTTP_CAUSES = (
    ("Unable to connect to proxy", "the proxy cannot be reached"),
    ("NameResolutionError", "host not found"),
    ("Failed to resolve", "host not found"),
    ("Connection refused", "connection refused"),
    ("Network is unreachable", "network unreachable"),
    ("CERTIFICATE_VERIFY_FAILED", "certificate not trusted"),
)


def http_why(exc: requests.RequestException, url: str, timeout: float) -> str:
    """requests' error in a few words (its text nests urllib3's several deep), with the host."""
    host = urlsplit(url).hostname or url
    if isinstance(exc, requests.Timeout):
        return f"no answer from {host} within {timeout:.0f}s"
    text = str(exc)
    for needle, why in _HTTP_CAUSES:
        if needle in text:
            return f"{why} ({host})"
    return f"{type(exc).__name__} ({host}): {text.splitlines()[0][:160] if text else ''}".rstrip(": ")


def pypi_url(project: str) -> str:
    import os

    base = (os.environ.get("PMREPO_PYPI_URL") or PYPI_DEFAULT).rstrip("/")
    return f"{base}/{project}/json"


def pypi_versions(data: Any) -> list[str]:
    """The versions of a PyPI JSON answer that have files, not all of them yanked."""
    releases = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(releases, dict):
        raise _error("the PyPI answer has no releases")
    out = []
    for version, files in releases.items():
        if isinstance(files, list) and files and not all(isinstance(f, dict) and f.get("yanked") for f in files):
            out.append(str(version))
    return out


def _timeout(conf: Mapping[str, Any]) -> float:
    return float(conf.get("timeout", DEFAULT_TIMEOUT))


def _log(conf: Mapping[str, Any]) -> Path | None:
    return Path(conf["log"]) if conf.get("log") else None


def _threaded(fn: Callable[[], Any]) -> Callable[[Hashable], Any]:
    async def call(key: Hashable) -> Any:
        return await asyncio.to_thread(fn)

    return call


async def git_source(name: str, conf: Mapping[str, Any], *, cache: Any, keymanager: Any = None) -> Any:
    from nvchecker.api import RichResult

    location, timeout = str(conf["git"]), _timeout(conf)
    tags = await cache.get(("pmrepo_git", location), _threaded(lambda: ls_remote(location, timeout, _log(conf))))
    if not tags:
        raise _error("has no tags")
    return [RichResult(version=tag, revision=sha, gitref=f"refs/tags/{tag}") for tag, sha in tags]


async def page_source(name: str, conf: Mapping[str, Any], *, cache: Any, keymanager: Any = None) -> Any:
    url, timeout, regex = str(conf["url"]), _timeout(conf), str(conf["regex"])
    body = await cache.get(("pmrepo_page", url), _threaded(lambda: fetch_bounded(url, timeout)))
    # the regex runs in a worker thread: a slow expression holds no other check up
    found = await asyncio.to_thread(lambda: re.findall(regex, body.decode("utf-8", errors="replace")))
    if not found:
        raise _error("the page has no match for the regex")
    return sorted(set(found))


async def pypi_source(name: str, conf: Mapping[str, Any], *, cache: Any, keymanager: Any = None) -> Any:
    import json

    url, timeout = str(conf["url"]), _timeout(conf)
    body = await cache.get(("pmrepo_pypi", url), _threaded(lambda: fetch_bounded(url, timeout)))
    try:
        data = json.loads(body)
    except ValueError:
        raise _error("the PyPI answer is not JSON") from None
    versions = pypi_versions(data)
    if not versions:
        raise _error("has no released versions")
    return versions


SOURCES: dict[str, Callable[..., Any]] = {
    "pmrepo_git": git_source,
    "pmrepo_page": page_source,
    "pmrepo_pypi": pypi_source,
}


def register() -> None:
    """Make the sources importable where nvchecker's dispatcher imports a source from
    (``nvchecker_source.<name>``)."""
    import nvchecker_source  # noqa: F401  # the namespace package, before its modules

    for name, fn in SOURCES.items():
        mod = types.ModuleType(f"nvchecker_source.{name}", fn.__doc__)
        mod.get_version = fn  # type: ignore[attr-defined]
        sys.modules[mod.__name__] = mod
