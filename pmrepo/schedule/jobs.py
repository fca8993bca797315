"""The jobs the scheduler runs: one (component, dist) build (``JobSpec``), what it gave
(``JobResult``), and its key — the rendered spec, the sources' digests, the dist's and the build's
macros, the backend's configuration and the keys of its build dependencies: an unchanged key is a
build already in the store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..builders import BuildOutput, rpm_macro_defines
from ..manifest import Dist

if TYPE_CHECKING:
    from .reuse import Reuse


Job = tuple[str, str]  # (component, dist)


# a reused job's RPMs copied into its staging directory (``reuse_take.Taker.take``)
Take = Callable[["Reuse", Path], BuildOutput]


@dataclass(frozen=True)
class JobSpec:
    """Everything needed to build one component for one dist."""

    component: str
    dist: Dist
    spec: Path
    sources: Path
    source_digests: tuple[str, ...]
    # the build's SOURCE_DATE_EPOCH: its origin's date (lineage.origins); None: the scheduler's (the release's)
    source_date_epoch: int | None = None
    # what the time estimate reads (estimates.py): the component's version, the manifest's weight,
    # the number of binary packages the spec builds
    version: str = ""
    weight: float | None = None
    packages: int = 0


@dataclass
class JobResult:
    component: str
    dist: str
    status: str  # built / reused / failed / skipped
    seconds: float = 0.0
    key: str = ""
    entry: Path | None = None  # store entry with the results
    log: Path | None = None
    error: str = ""
    started: float = 0.0  # wall clock, for ordering checks and the benchmark
    finished: float = 0.0
    output: BuildOutput | None = None  # what the builder made (paths in the store entry)
    reused_from: Reuse | None = None  # not built: taken from the previous release's output

    @property
    def shown(self) -> str:
        """The status as the summary and progress show it."""
        if self.reused_from is None:
            return self.status
        where = self.reused_from.release_id
        return f"reused from {where}" if self.status == "reused" else f"{self.status} (not reused from {where})"

    @property
    def rpms(self) -> list[Path]:
        return sorted([*self.binary_rpms, *([self.srpm] if self.srpm else [])])

    @property
    def binary_rpms(self) -> list[Path]:
        return sorted(self.output.rpms) if self.output else []

    @property
    def srpm(self) -> Path | None:
        return self.output.srpm if self.output else None


def job_key(job: JobSpec, backend_id: str, dep_keys: Iterable[str], source_date_epoch: int) -> str:
    payload = {
        "spec": job.spec.read_text(),
        "sources": list(job.source_digests),
        "macros": rpm_macro_defines(job.dist, source_date_epoch),  # the dist's and the build's own
        "epoch": source_date_epoch,
        "backend": backend_id,
        "deps": sorted(dep_keys),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
