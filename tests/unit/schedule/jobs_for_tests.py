"""Jobs the schedule stage's unit tests build: the two dists and a job of one small spec."""

from __future__ import annotations

from pathlib import Path

from pmrepo.manifest import Dist
from pmrepo.schedule.jobs import JobSpec

EL7 = Dist("el7", ".el7", 7, {}, (), {}, "centos:7")
EL6 = Dist("el6", ".el6", 6, {}, (), {}, "centos:6")


def spec_job(tmp_path: Path, component: str = "a", dist: Dist = EL7, text: str = "Name: a\n") -> JobSpec:
    spec = tmp_path / "specs" / f"{component}-{dist.name}.spec"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(text)
    return JobSpec(component, dist, spec, tmp_path / "src", ("sha-of-a-tarball",), version="1", packages=1)
