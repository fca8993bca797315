"""``pmrepo.schedule.jobs``: the job key — every input that changes a build changes it."""

from __future__ import annotations

from pathlib import Path

from pmrepo.schedule.jobs import JobSpec, job_key

from .jobs_for_tests import EL6, EL7, spec_job

# -- the job key ---------------------------------------------------------------------------------


def test_every_input_of_a_build_changes_its_key(tmp_path: Path) -> None:
    job = spec_job(tmp_path)
    key = job_key(job, "rpmbuild;x", ["k1", "k2"], 100)
    assert key == job_key(job, "rpmbuild;x", ["k2", "k1"], 100)  # dependency order does not matter
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    other = [
        job_key(job, "rpmbuild;y", ["k1", "k2"], 100),
        job_key(job, "rpmbuild;x", ["k1"], 100),
        job_key(job, "rpmbuild;x", ["k1", "k2"], 101),
        job_key(JobSpec("a", EL7, job.spec, job.sources, ("other",)), "rpmbuild;x", ["k1", "k2"], 100),
        job_key(JobSpec("a", EL6, job.spec, job.sources, job.source_digests), "rpmbuild;x", ["k1", "k2"], 100),
    ]
    job.spec.write_text("Name: a\nRelease: 2\n")
    other.append(job_key(job, "rpmbuild;x", ["k1", "k2"], 100))
    assert len({key, *other}) == len(other) + 1
    # what the estimate reads is no input of the build
    same = JobSpec("a", EL7, job.spec, job.sources, job.source_digests, version="9", weight=3.0, packages=7)
    assert job_key(same, "b", [], 1) == job_key(job, "b", [], 1)
