"""The content-addressed build store: ``<root>/<dist>/<component>/<key>/``. A finished job's
results enter it only when complete (temporary directory + rename), so a run killed at any moment
leaves only whole entries; an entry records the sha256 of every RPM it holds, each reuse checks them
again (and ``rpm -K`` digests), and a damaged entry is discarded with a line saying why."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..builders import BuildOutput
from ..errors import PmrepoError
from ..fsutil import sha256_file

if TYPE_CHECKING:
    pass


class Store:
    """Completed build results: ``<root>/<dist>/<component>/<key>/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def entry(self, dist: str, component: str, key: str) -> Path:
        return self.root / dist / component / key

    def lookup(
        self, dist: str, component: str, key: str, say: Callable[[str], None] | None = None
    ) -> BuildOutput | None:
        """The verified entry for ``key`` as the builder's output, or None. A
        damaged entry is removed (``say`` gets one line naming the file and
        what was done)."""
        e = self.entry(dist, component, key)
        if not e.is_dir():
            return None
        problem = self.verify(e)
        if problem is None:
            return self.output(e)
        self.discard(e)
        (say or print)(f"build store: {problem}: entry {e} discarded, rebuilding {component} ({dist})")
        return None

    def verify(self, entry: Path) -> str | None:
        """What is wrong with a stored entry (None: every RPM is the one recorded)."""
        from ..checks.integrity import recorded_rpms

        try:
            meta = json.loads((entry / "meta.json").read_text())
        except (OSError, ValueError):
            return f"{entry / 'meta.json'} is missing or unreadable"
        recorded = meta.get("rpms")
        if not isinstance(recorded, dict) or not recorded:
            return f"{entry / 'meta.json'} records no RPM checksums"
        srpm, binary = meta.get("srpm"), meta.get("binary")
        if not isinstance(srpm, str) or not isinstance(binary, list) or not binary or set(recorded) != {srpm, *binary}:
            return f"{entry / 'meta.json'} does not say which RPM is the SRPM and which are binary"
        return recorded_rpms(entry, recorded, entry / "meta.json")

    @staticmethod
    def output(entry: Path) -> BuildOutput:
        """A verified entry's BuildOutput, from its meta.json (the files the builder returned)."""
        meta = json.loads((entry / "meta.json").read_text())
        return BuildOutput(
            srpm=entry / meta["srpm"],
            rpms=tuple(entry / n for n in meta["binary"]),
            logs=tuple(entry / n for n in meta.get("logs", [])),
        )

    def discard(self, entry: Path) -> None:
        shutil.rmtree(entry, ignore_errors=True)

    def last_seconds(self, dist: str, component: str) -> float | None:
        """How long the newest stored build of ``component`` for ``dist`` took (None: no such build)."""
        metas = sorted((self.root / dist / component).glob("*/meta.json"), key=lambda p: p.stat().st_mtime)
        if not metas:
            return None
        try:
            seconds = json.loads(metas[-1].read_text()).get("seconds")
            return max(0.1, float(seconds)) if isinstance(seconds, int | float) else None
        except (ValueError, OSError):
            return None

    def staging(self, dist: str, component: str) -> Path:
        """A fresh build directory. Its path is fixed per job so that paths a
        build records (debug info) are the same on every run: one run per work
        directory at a time (see lock.py) makes that safe."""
        path = self.root / ".tmp" / dist / component
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def commit(
        self, staging: Path, dist: str, component: str, key: str, meta: dict[str, object], out: BuildOutput
    ) -> BuildOutput:
        """Rename a finished build into the store; an existing entry under the
        same key (a forced rebuild) is replaced: moved aside, then removed.
        Returns ``out`` with its paths in the entry."""
        for p in (out.srpm, *out.rpms, *out.logs):
            if p.parent.resolve() != staging.resolve():
                raise PmrepoError(
                    f"{component} ({dist}): the builder returned {p}, outside its output directory {staging}"
                )
        files = [out.srpm, *out.rpms]
        meta = dict(
            meta,
            rpms={p.name: sha256_file(p) for p in sorted(files)},
            srpm=out.srpm.name,
            binary=sorted(p.name for p in out.rpms),
            logs=sorted(p.name for p in out.logs),
        )
        (staging / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        target = self.entry(dist, component, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if target.exists():
            old = self.root / ".tmp" / "replaced" / dist / component
            shutil.rmtree(old, ignore_errors=True)
            old.parent.mkdir(parents=True, exist_ok=True)
            target.rename(old)
        staging.rename(target)
        if old is not None:
            shutil.rmtree(old)
        return self.output(target)

    def clean_staging(self) -> None:
        shutil.rmtree(self.root / ".tmp", ignore_errors=True)
