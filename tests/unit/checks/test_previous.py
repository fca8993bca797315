"""The release a release follows, located in an output root: its repository packages for the
upgrade test (an error with the fix when they are not there) and its published output for the
NEVRA gate (a reason, never an error, when there is nothing or no way to compare)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.checks.nevra import Predecessor
from pmrepo.checks.previous import predecessor_output, previous_repo_packages
from pmrepo.errors import GateError, ManifestError
from pmrepo.layout import Output

RELEASE = manifest.load(DEMO)  # demo-repo-1.0-1, follows release-0.9.toml
PREVIOUS = manifest.load(DEMO.parent / "release-0.9.toml")
EL7 = RELEASE.dists["el7"]
EL8 = dataclasses.replace(EL7, name="el8", tag=".el8", rhel=8)  # a dist the previous release does not have


def _publish_previous(root: Path, dist: str = "el7") -> list[Path]:
    """The previous release's three repository packages where ``all --outdir root`` puts them."""
    out = root / PREVIOUS.release_id / dist
    out.mkdir(parents=True)
    rpms = [out / name for name in PREVIOUS.repo_rpm_names(PREVIOUS.dists[dist])]
    for rpm in rpms:
        rpm.write_bytes(b"rpm")
    return rpms


def _following(tmp_path: Path, text: str) -> manifest.Release:
    """The demo release, following a manifest with ``text`` beside it."""
    (tmp_path / "previous.toml").write_text(text)
    return dataclasses.replace(RELEASE, root=tmp_path, follows="previous.toml")


# -- the upgrade test's previous repository packages ---------------------------------------


def test_the_previous_repository_packages_main_first(tmp_path: Path) -> None:
    rpms = _publish_previous(tmp_path)
    prev, got = previous_repo_packages(RELEASE, EL7, tmp_path)
    assert prev.release_id == "demo-repo-0.9-1" and prev.path == PREVIOUS.path
    assert got == rpms
    assert [p.name for p in got] == [
        "demo-repo-0.9-1.el7.x86_64.rpm",
        "demo-repo-debuginfo-0.9-1.el7.x86_64.rpm",
        "demo-repo-src-0.9-1.el7.x86_64.rpm",
    ]


def test_no_follows_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    first = dataclasses.replace(RELEASE, follows=None)
    with pytest.raises(GateError) as err:
        previous_repo_packages(first, EL7, tmp_path)
    assert str(err.value) == (
        f"{RELEASE.path}: release.follows is not set, so there is no previous release to upgrade from "
        "— fix: set follows, or drop --upgrade-from"
    )


def test_a_dist_the_previous_release_lacks_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GateError, match=r"release-0\.9\.toml: the previous release has no dist el8 to upgrade from"):
        previous_repo_packages(RELEASE, EL8, tmp_path)


def test_missing_packages_are_named_with_where_to_build_them(tmp_path: Path) -> None:
    rpms = _publish_previous(tmp_path)
    rpms[1].unlink()
    rpms[2].unlink()
    with pytest.raises(GateError) as err:
        previous_repo_packages(RELEASE, EL7, tmp_path)
    assert str(err.value) == (
        f"upgrade test (el7): the previous release's repository packages are not there: {rpms[1]}, {rpms[2]} "
        f"— fix: build release-0.9.toml into {tmp_path} (build.py all --outdir …)"
    )
    rpms[1].mkdir()  # a directory of that name is no package
    rpms[2].write_bytes(b"rpm")
    with pytest.raises(GateError, match=r"not there: .*demo-repo-debuginfo-0\.9-1\.el7\.x86_64\.rpm —"):
        previous_repo_packages(RELEASE, EL7, tmp_path)


def test_a_previous_manifest_that_does_not_load_is_its_own_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as err:
        previous_repo_packages(_following(tmp_path, "[release\n"), EL7, tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'previous.toml'}: (syntax): not valid TOML")


# -- the NEVRA gate's predecessor ------------------------------------------------------------


def test_the_published_predecessor(tmp_path: Path) -> None:
    rpms = _publish_previous(tmp_path)
    got = predecessor_output(RELEASE, EL7, tmp_path)
    assert got.release is not None and got.release.release_id == "demo-repo-0.9-1"
    assert got.output == Output(tmp_path / "demo-repo-0.9-1" / "el7")
    assert got.repo_rpms == tuple(rpms)
    assert (got.missing, got.why_none) == ("", "")


def test_the_first_release_has_nothing_to_compare_with(tmp_path: Path) -> None:
    got = predecessor_output(dataclasses.replace(RELEASE, follows=None), EL7, tmp_path)
    assert got == Predecessor(why_none="release.follows is not set: the first release")


def test_a_dist_new_in_this_release_has_nothing_to_compare_with(tmp_path: Path) -> None:
    assert predecessor_output(RELEASE, EL8, tmp_path) == Predecessor(why_none="demo-repo-0.9-1 has no el8")


def test_a_predecessor_not_in_the_root_says_so_and_names_the_option(tmp_path: Path) -> None:
    got = predecessor_output(RELEASE, EL7, tmp_path)
    assert got.release is not None and got.output == Output(tmp_path / "demo-repo-0.9-1" / "el7")
    assert got.repo_rpms == ()
    assert got.missing == (
        f"demo-repo-0.9-1 is not in {tmp_path} (no demo-repo-0.9-1.el7.x86_64.rpm) — fix: pass --upgrade-from DIR, "
        "the output root holding it"
    )
    _publish_previous(tmp_path)[2].unlink()  # one of the three absent is as good as none
    assert "(no demo-repo-src-0.9-1.el7.x86_64.rpm)" in predecessor_output(RELEASE, EL7, tmp_path).missing


def test_a_predecessor_manifest_that_does_not_load_is_a_reason_not_an_error(tmp_path: Path) -> None:
    got = predecessor_output(_following(tmp_path, "[release\n"), EL7, tmp_path)
    assert got.release is None and got.output is None
    assert got.missing.startswith(f"its manifest does not load ({tmp_path / 'previous.toml'}: (syntax): not valid")
