"""What an upgrade does to the .repo files an operator may have edited.

Each repository package ships its .repo file as ``%config(noreplace)``: on
``rpm -Uvh``, a file the operator edited is kept, and when the new package's
file differs from the old package's, rpm writes the new one beside it as
``<file>.rpmnew`` — which the operator must merge (e.g. moving from an
unsigned to a signed release, the kept file still says ``gpgcheck=0``).
Which files changed is known before any build: both releases' .repo files are
rendered from their manifests with the same template (signed or not, as each
release was built).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..assemble.repopkg import render_repo_file
from ..layout import public_key_name
from ..manifest import Dist, Release


@dataclass(frozen=True)
class RepoFileChange:
    path: str  # /etc/yum.repos.d/<file>
    package: str  # the repository package that ships it
    removed: tuple[str, ...]  # setting lines of the previous release's file the new one no longer has
    added: tuple[str, ...]  # setting lines the new file has that the previous one did not

    @property
    def rpmnew(self) -> str:
        return self.path + ".rpmnew"


def _settings(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", ";"))]


def changed_repo_files(
    release: Release, previous: Release, dist: Dist, *, signed: bool, previous_signed: bool
) -> tuple[RepoFileChange, ...]:
    """The .repo files of ``dist`` whose shipped text changes from ``previous`` to ``release``
    (a repository the previous release did not have is new, not changed: nothing to merge)."""
    prev_dist = previous.dists.get(dist.name)
    if prev_dist is None:
        return ()
    old_key = public_key_name(previous.repo("main").repo_id) if previous_signed else None
    new_key = public_key_name(release.repo("main").repo_id) if signed else None
    before = {
        r.repo_file: (
            r,
            render_repo_file(previous, prev_dist, r, old_key),
        )
        for r in previous.repositories
    }
    out: list[RepoFileChange] = []
    for repo in release.repositories:
        if repo.repo_file not in before:
            continue
        old = _settings(before[repo.repo_file][1])
        new = _settings(render_repo_file(release, dist, repo, new_key))
        if old != new:
            out.append(
                RepoFileChange(
                    repo.repo_path,
                    repo.package,
                    tuple(ln for ln in old if ln not in new),
                    tuple(ln for ln in new if ln not in old),
                )
            )
    return tuple(out)
