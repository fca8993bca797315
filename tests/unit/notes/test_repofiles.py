"""What an upgrade does to the .repo files (pmrepo.notes.repofiles): both releases' files rendered
from their manifests, compared setting by setting — the lines an edited, kept file lacks and the
``.rpmnew`` rpm writes beside it — with nothing reported for a dist or a file the previous release
did not have."""

from __future__ import annotations

import dataclasses

import pytest

from pmrepo import manifest
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.notes import repofiles
from pmrepo.notes.repofiles import RepoFileChange, changed_repo_files


@pytest.fixture(scope="module")
def pair() -> tuple[manifest.Release, manifest.Release]:
    rel = manifest.load(DEMO_RELEASE)
    follows = rel.follows_path()
    assert follows is not None
    return rel, manifest.load(follows)


def test_unsigned_to_signed_changes_every_repo_file(pair: tuple[manifest.Release, manifest.Release]) -> None:
    """Moving from an unsigned to a signed release: the kept, edited files still say gpgcheck=0."""
    rel, prev = pair
    changes = changed_repo_files(rel, prev, rel.dists["el7"], signed=True, previous_signed=False)
    assert [c.path for c in changes] == [f"/etc/yum.repos.d/{r.repo_file}" for r in rel.repositories]
    assert all(
        c.removed == ("gpgcheck=0",)
        and c.added[:2] == ("gpgcheck=1", "repo_gpgcheck=1")
        and c.added[2].startswith("gpgkey=file:///opt/pmrepo-demo/")
        for c in changes
    )
    assert changed_repo_files(rel, prev, rel.dists["el7"], signed=True, previous_signed=True) == ()


def test_signed_to_unsigned_is_the_same_change_the_other_way(pair: tuple[manifest.Release, manifest.Release]) -> None:
    rel, prev = pair
    changes = changed_repo_files(rel, prev, rel.dists["el6"], signed=False, previous_signed=True)
    main = changes[0]
    assert main.removed == (
        "gpgcheck=1",
        "repo_gpgcheck=1",
        "gpgkey=file:///opt/pmrepo-demo/demo/RPM-GPG-KEY-pmrepo-demo",
    )
    assert main.added == ("gpgcheck=0",) and main.package == "demo-repo"
    assert main.rpmnew == "/etc/yum.repos.d/pmrepo-demo.repo.rpmnew"
    assert [c.package for c in changes] == ["demo-repo", "demo-repo-debuginfo", "demo-repo-src"]


def test_a_changed_name_is_the_one_line_that_differs(pair: tuple[manifest.Release, manifest.Release]) -> None:
    rel, prev = pair
    renamed = tuple(
        dataclasses.replace(r, repo_name="the demo, renamed") if r.kind == "src" else r for r in rel.repositories
    )
    changes = changed_repo_files(
        dataclasses.replace(rel, repositories=renamed), prev, rel.dists["el7"], signed=False, previous_signed=False
    )
    assert changes == (
        RepoFileChange(
            "/etc/yum.repos.d/pmrepo-demo-src.repo",
            "demo-repo-src",
            ("name=pmrepo-demo-src",),
            ("name=the demo, renamed",),
        ),
    )


def test_nothing_to_merge_for_a_new_dist_or_a_new_file(pair: tuple[manifest.Release, manifest.Release]) -> None:
    rel, prev = pair
    without_el7 = dataclasses.replace(prev, dists={"el6": prev.dists["el6"]})
    assert changed_repo_files(rel, without_el7, rel.dists["el7"], signed=True, previous_signed=False) == ()
    moved = tuple(
        dataclasses.replace(r, repo_file="old-name.repo") if r.kind != "main" else r for r in prev.repositories
    )
    changes = changed_repo_files(
        rel, dataclasses.replace(prev, repositories=moved), rel.dists["el7"], signed=True, previous_signed=False
    )
    assert [c.package for c in changes] == ["demo-repo"]  # the other two files are new, not changed


def test_comments_and_blank_lines_are_no_settings() -> None:
    text = "# a comment\n\n[x]\n  ; another\nname=x\n   \nenabled=1 \n"
    assert repofiles._settings(text) == ["[x]", "name=x", "enabled=1"]
