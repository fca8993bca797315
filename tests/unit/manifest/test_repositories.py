"""pmrepo.manifest.repositories: the three repositories of ``[release]`` read from their
declaration (``Repository``'s ``repo_value`` fields), defaulted from main's, each value checked,
then checked together: roots under ``parent_dir``, none inside another, distinct files and ids."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from pmrepo import manifest
from pmrepo.defaults import DEMO_RELEASE as DEMO
from pmrepo.errors import ManifestError
from pmrepo.manifest.fields import Reader
from pmrepo.manifest.repositories import load_repositories

from .demo_edit import edited_demo

WHERE = Path("/m/release.toml")


def load(**rel: Any) -> tuple[tuple[manifest.Repository, ...], str]:
    return load_repositories(Reader(WHERE), rel, "demo-repo", "1.0-1", "x86_64")


def refused(**rel: Any) -> str:
    with pytest.raises(ManifestError) as exc:
        load(**rel)
    msg = str(exc.value)
    assert msg.startswith(f"{WHERE}: ") and " — fix: " in msg and "\n" not in msg, msg
    return msg


def test_the_defaults_are_the_predecessors_layout() -> None:
    repos, parent = load()
    assert parent == "/opt/linux-ha"
    assert [(r.kind, r.package, r.prefix, r.repo_id, r.repo_name, r.repo_file) for r in repos] == [
        ("main", "demo-repo", "/opt/linux-ha/pacemaker", "linux-ha-ja-pacemaker", "linux-ha-ja-pacemaker",
         "pacemaker.repo"),
        ("debuginfo", "demo-repo-debuginfo", "/opt/linux-ha/pacemaker-debuginfo", "linux-ha-ja-pacemaker-debuginfo",
         "linux-ha-ja-pacemaker-debuginfo", "pacemaker-debuginfo.repo"),
        ("src", "demo-repo-src", "/opt/linux-ha/pacemaker-src", "linux-ha-ja-pacemaker-src",
         "linux-ha-ja-pacemaker-src", "pacemaker-src.repo"),
    ]  # fmt: skip
    assert {(r.vr, r.arch) for r in repos} == {("1.0-1", "x86_64")}


def test_the_other_repositories_follow_mains_values_and_keep_their_own() -> None:
    repos, parent = load(prefix="/srv/ha/main", repo_id="ha", repo_file="ha.repo", src_repo_id="ha-sources")
    assert parent == "/srv/ha"  # main's parent directory
    assert [r.prefix for r in repos] == ["/srv/ha/main", "/srv/ha/main-debuginfo", "/srv/ha/main-src"]
    assert [(r.repo_id, r.repo_name) for r in repos] == [
        ("ha", "ha"),
        ("ha-debuginfo", "ha-debuginfo"),
        ("ha-sources", "ha-sources"),  # the name follows the repository's own id
    ]
    assert [r.repo_file for r in repos] == ["ha.repo", "ha-debuginfo.repo", "ha-src.repo"]


@pytest.mark.parametrize(
    "rel,field,fix",
    [
        ({"prefix": "opt/x"}, "release.prefix", 'write prefix = "/opt/linux-ha/pacemaker"'),
        ({"debuginfo_prefix": "/opt/linux-ha/a/../b"}, "release.debuginfo_prefix", "/opt/linux-ha/<dir>"),
        ({"repo_id": "a[b]"}, "release.repo_id", "use letters, digits"),
        ({"src_repo_file": "src.conf"}, "release.src_repo_file", 'write src_repo_file = "x.repo"'),
        ({"parent_dir": "/usr"}, "release.parent_dir", "a directory of your own"),
        ({"parent_dir": "relative"}, "release.parent_dir", "a directory of your own"),
        ({"src_prefix": "/srv/src"}, "release.src_prefix", "put it under /opt/linux-ha/ or change parent_dir"),
        ({"prefix": "/opt/linux-ha/p", "debuginfo_prefix": "/opt/linux-ha/p/d"}, "release.debuginfo_prefix",
         'write debuginfo_prefix = "/opt/linux-ha/p-debuginfo"'),
        ({"src_prefix": "/opt/linux-ha/pacemaker"}, "release.src_prefix", "each repository needs its own root"),
        ({"src_repo_id": "linux-ha-ja-pacemaker"}, "release.repo_file", "give debuginfo_/src_repo_file"),
        ({"debuginfo_repo_file": "pacemaker.repo"}, "release.repo_file", "distinct .repo files and ids"),
        ({"repo_name": ""}, "release.repo_name", "non-empty string"),
    ],
)  # fmt: skip
def test_a_bad_repository_value_is_one_line_naming_its_key(rel: dict[str, str], field: str, fix: str) -> None:
    msg = refused(**rel)
    assert msg.startswith(f"{WHERE}: {field}: ") and fix in msg, msg


def test_mains_values_are_checked_before_the_others() -> None:
    assert "release.prefix:" in refused(prefix="bad", src_prefix="also bad")


def _with_mirror() -> type[manifest.Repository]:
    """A Repository with one more per-repository value, declared in one place (its field)."""
    mirror = manifest.repo_value(
        main_default=lambda main: f"https://mirror.example/{main['repo_id']}",
        default=lambda kind, main, own: f"{main['mirror']}-{kind}",
        pattern=manifest.HTTP_OR_FILE_URL_RE,
        main_fix='write {key} = "https://…"',
    )
    cls: type[manifest.Repository] = dataclasses.make_dataclass(
        "MirroredRepository", [("mirror", str, mirror)], bases=(manifest.Repository,), frozen=True
    )
    return cls


def test_a_new_repository_value_is_one_declaration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmrepo.assemble import assembly as assemble
    from pmrepo.manifest import repositories as manifest_repos

    monkeypatch.setattr(manifest_repos, "Repository", _with_mirror())
    path = edited_demo(
        tmp_path,
        'src_repo_file = "pmrepo-demo-src.repo"',
        'src_repo_file = "pmrepo-demo-src.repo"\nsrc_mirror = "https://src.example/"',
    )
    rel = manifest.load(path)  # src_mirror is a known key now: read, not refused
    assert [
        getattr(r, "mirror")  # noqa: B009 (a field Repository itself does not declare)
        for r in rel.repositories
    ] == [  # main's default, debuginfo's derived from it, src's own
        f"https://mirror.example/{rel.repo('main').repo_id}",
        f"https://mirror.example/{rel.repo('main').repo_id}-debuginfo",
        "https://src.example/",
    ]
    assert manifest_repos.repo_keys() >= {"mirror", "debuginfo_mirror", "src_mirror"}
    dist = rel.dists["el7"]
    other = dataclasses.replace(
        rel,
        repositories=tuple(
            dataclasses.replace(r, mirror="https://x/")  # type: ignore[call-arg]
            for r in rel.repositories
        ),
    )
    assert assemble._digest(assemble.package_shape(other, dist)) != assemble._digest(assemble.package_shape(rel, dist))
    path.write_text(path.read_text().replace('src_mirror = "https://src.example/"', 'src_mirror = "not a url"'))
    with pytest.raises(ManifestError) as err:
        manifest.load(path)
    assert "release.src_mirror" in str(err.value) and "invalid value 'not a url'" in str(err.value)
    assert 'write src_mirror = "https://…"' in str(err.value)
    monkeypatch.undo()  # without the declaration the key is unknown again
    with pytest.raises(ManifestError, match=r"release\.src_mirror"):
        manifest.load(path)


def test_the_loader_reads_exactly_the_declared_repository_values() -> None:
    from pmrepo.manifest import repositories as manifest_repos

    declared = [f.name for f in dataclasses.fields(manifest.Repository) if "repo_value" in f.metadata]
    assert declared == list(manifest.repo_values()) == ["prefix", "repo_id", "repo_name", "repo_file"]
    assert manifest_repos.repo_keys() == {
        n if k == "main" else f"{k}_{n}" for n in declared for k in manifest.REPO_KINDS
    }
    rel = manifest.load(DEMO)
    for kind in manifest.REPO_KINDS:  # one spelling: a repository's value lives on its Repository only
        for name in declared:
            assert not hasattr(rel, name if kind == "main" else f"{kind}_{name}"), name
    assert not hasattr(rel, "repos")
    with pytest.raises(AttributeError):
        rel.repo("main").prefix = "/x"  # type: ignore[misc]
