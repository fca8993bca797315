"""``pmrepo upstream``: what is new upstream, for every component entry of a release.

The entries' ``upstream`` fields become an nvchecker configuration that this module writes
privately into the work directory (``Layout.upstream``: a 0700 directory of this user's, the file
0600, replaced atomically, never through a symlink); nvchecker loads it and dispatches every entry
to pmrepo's own sources (:mod:`pmrepo.upstream_sources`: git through ``pmrepo.run`` as an argument
vector, bounded HTTP), several at a time; each answer is read by :mod:`pmrepo.upstream_select`
(spelling, series, pre-releases, rpm's order) as it arrives, with a progress line. The result —
the table, the ``new-release --set`` arguments, JSON — is :mod:`pmrepo.upstream_report`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from . import manifest
from .errors import ManifestError, PmrepoError, UsageError
from .layout import Layout
from .manifest import Component, Release, Upstream
from .progress import Console
from .upstream_select import pick
from .upstream_sources import DEFAULT_TIMEOUT, pypi_url, register
from .vercmp import vercmp

MAX_CONCURRENCY = 8
SOURCE = {"git": "pmrepo_git", "page": "pmrepo_page", "pypi": "pmrepo_pypi"}
# exit statuses of `pmrepo upstream` (and of new-release --from-upstream when it cannot check)
EXIT_NOTHING_NEW, EXIT_NEWER, EXIT_FAILED = 0, 3, 4


class UpstreamError(PmrepoError):
    """An upstream could not be checked (new-release --from-upstream), or its directory is not private."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Check:
    """One component entry against its upstream."""

    component: Component
    newest: str | None = None  # the newest version in the series
    problem: str | None = None  # why it could not be checked (one line)
    found: int = 0  # tags or versions the source found
    prereleases_skipped: int = 0

    @property
    def upstream(self) -> Upstream | None:
        return self.component.upstream

    @property
    def status(self) -> str:
        """untracked, failed, newer, current (the newest is shipped) or ahead (shipped is newer)."""
        if self.upstream is None:
            return "untracked"
        if self.problem is not None or self.newest is None:
            return "failed"
        order = vercmp(self.newest, self.component.version)
        return "newer" if order > 0 else "current" if order == 0 else "ahead"


def describe(up: Upstream) -> str:
    """Where an upstream is, in one short phrase (errors and the report)."""
    where = manifest.redact_url(up.location)
    if up.kind == "git":
        return f"{where} (tags {up.tag})"
    return f"PyPI {where}" if up.kind == "pypi" else where


def private_dir(path: Path) -> Path:
    """``path`` created (0700) or checked: a directory of this user's, not a symlink, not writable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise UpstreamError(
            f"{path}: not a private directory of yours (a symlink, another owner or group/world access) — fix: remove "
            "it; pmrepo upstream creates it with mode 0700"
        )
    return path


def write_private(path: Path, text: str) -> None:
    """``text`` into ``path`` (mode 0600) through a new file renamed into place: an existing file
    or symlink there is replaced, never written through."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def config_entry(comp: Component, timeout: float, log: Path) -> dict[str, Any]:
    """One nvchecker entry: the source and where it reads, and the rest of the component's
    ``upstream`` (tag, series, prereleases: read by ``upstream_select`` from the manifest's model),
    so the file says everything a check of it uses."""
    up = comp.upstream
    assert up is not None
    entry: dict[str, Any] = {"source": SOURCE[up.kind], "timeout": timeout}
    if up.kind == "git":
        entry |= {"git": up.location, "log": str(log)}
    elif up.kind == "page":
        entry |= {"url": up.location, "regex": up.regex}
    else:
        entry |= {"url": pypi_url(up.location), "pypi": up.location}
    entry |= {"tag": up.tag, "prereleases": up.prereleases}
    if up.series:
        entry["series"] = up.series
    return entry


def write_config(rel: Release, layout: Layout, timeout: float) -> Path:
    """The nvchecker configuration of every tracked entry, written privately into ``layout.upstream``."""
    private_dir(layout.upstream)
    private_dir(layout.upstream_logs)
    doc = tomlkit.document()
    doc.add(tomlkit.comment("generated by pmrepo upstream from the release manifest; rewritten on every run"))
    doc["__config__"] = {"max_concurrency": MAX_CONCURRENCY}
    for comp in rel.components:
        if comp.upstream is not None:
            doc[comp.key] = config_entry(comp, timeout, layout.upstream_log(comp.key))
    write_private(layout.upstream_config, tomlkit.dumps(doc))
    return layout.upstream_config


def run_nvchecker(config: Path, on_result: Callable[[str, Any], None]) -> None:
    """nvchecker over ``config``: each entry's raw answer (a list of versions or tags, or an
    exception) goes to ``on_result(name, answer)`` as it arrives."""
    from nvchecker import core
    from nvchecker.util import EntryWaiter, RawResult

    register()
    try:
        entries, options = core.load_file(str(config), use_keymanager=False)
    except core.FileLoadError as exc:  # a file pmrepo wrote: only a broken work directory gets here
        raise UpstreamError(f"{config}: nvchecker cannot load it ({exc}) — fix: remove it and rerun") from None

    async def main() -> None:
        queue: asyncio.Queue[RawResult] = asyncio.Queue()
        futures = core.Dispatcher().dispatch(
            entries,
            asyncio.Semaphore(options.max_concurrency),
            queue,
            options.keymanager,
            EntryWaiter(),
            1,
            options.source_configs,
        )
        runner = asyncio.ensure_future(asyncio.gather(*futures))
        left = set(entries)
        try:
            while left:
                get = asyncio.ensure_future(queue.get())
                await asyncio.wait({get, runner}, return_when=asyncio.FIRST_COMPLETED)
                if not get.done():
                    get.cancel()
                    break  # every worker ended: an entry without an answer is reported below
                raw = get.result()
                left.discard(raw.name)
                on_result(raw.name, raw.version)
        except BaseException:  # on_result failed (stdout closed, interrupted): stop the workers, quietly
            runner.cancel()
            with contextlib.suppress(BaseException):
                await runner
            raise
        await runner
        for name in sorted(left):
            on_result(name, RuntimeError("nvchecker gave no answer"))

    asyncio.run(main())


def _answer(comp: Component, answer: Any) -> Check:
    """An nvchecker answer read for ``comp``: the newest in series, or the one-line problem."""
    from nvchecker.api import GetVersionError

    up = comp.upstream
    assert up is not None
    if isinstance(answer, GetVersionError):
        return Check(comp, problem=f"{describe(up)}: {answer.msg}")
    if isinstance(answer, BaseException):
        first = (str(answer).splitlines() or [type(answer).__name__])[0]
        return Check(comp, problem=f"{describe(up)}: cannot be checked: {first}")
    found = [str(a) for a in (answer if isinstance(answer, list) else [answer])]
    p = pick(found, up)
    problem = f"{describe(up)}: {p.problem}" if p.problem else None
    return Check(comp, p.newest, problem, len(found), p.prereleases_skipped)


def _progress_text(c: Check) -> str:
    if c.status == "failed":
        return f"could not check ({c.problem})"
    return {"newer": f"{c.newest} (newer than {c.component.version})", "current": f"{c.newest} (shipped)"}.get(
        c.status, f"{c.newest} (shipped {c.component.version} is newer)"
    )


def check(rel: Release, layout: Layout, console: Console, timeout: float = DEFAULT_TIMEOUT) -> tuple[Check, ...]:
    """Every component entry of ``rel`` against its upstream, in manifest order; the nvchecker
    configuration is written into ``layout.upstream``."""
    if not timeout > 0:
        raise UsageError(f"--timeout {timeout}: must be more than 0 seconds — fix: e.g. --timeout 30")
    tracked = [c for c in rel.components if c.upstream is not None]
    if not tracked:
        raise ManifestError(
            rel.path,
            "components",
            "no component has an upstream",
            'add upstream = { git = "https://…", tag = "v{version}" } (or pypi = …, or page = … with regex) '
            "to the components to track",
        )
    by_key = {c.key: c for c in tracked}
    done: dict[str, Check] = {}

    def on_result(name: str, answer: Any) -> None:
        c = _answer(by_key[name], answer)
        done[name] = c
        console.say(f"[{console.elapsed():7.1f}s] [{len(done):>2}/{len(tracked)}] {name}: {_progress_text(c)}")

    with console.step(f"upstream checks ({len(tracked)} of {rel.release_id})"):
        config = write_config(rel, layout, timeout)
        console.say(f"  nvchecker configuration: {config}")
        run_nvchecker(config, on_result)
    return tuple(done.get(c.key) or Check(c) for c in rel.components)
