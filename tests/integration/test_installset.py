"""The expected install set (pmrepo.assemble.installset): pacemaker-all's Requires
resolved over the packages' own Requires/Provides — from the rendered specs
before a build, from the built RPMs after one — and how the notes use it."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, DemoBuild

from pmrepo import manifest
from pmrepo.assemble import installset
from pmrepo.checks import freshroot as installcheck
from pmrepo.errors import SpecError
from pmrepo.notes.collect import collect

REAL = ROOT / "releases" / "1.1.14-1.1.toml"


@pytest.fixture(scope="module")
def rel14() -> manifest.Release:
    return manifest.load(REAL)


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_real_release_from_the_rendered_specs(rel14: manifest.Release, dist: str) -> None:
    got = installset.expected(rel14, rel14.dists[dist])
    assert got.source == "rendered specs"
    assert got.packages[0] == "pacemaker-all"
    # pssh: not required by pacemaker-all, but by crmsh
    assert "pssh" in got and got.why["pssh"] == "crmsh"
    # the subpackages the mains require come in too; what nothing requires stays out
    subpackages = {"pacemaker-libs", "pacemaker-cli", "pacemaker-cluster-libs", "corosynclib", "cluster-glue-libs"}
    assert subpackages <= set(got.packages)
    assert not {"pm_ctl", "pcs", "ldirectord", "fence-agents", "fence-agents-all", "crmsh-test"} & set(got.packages)
    # requirements no package of the release provides are left to the base repositories
    assert {"openssh-clients", "ipmitool", "psmisc", "python-lxml"} <= set(got.from_base)
    assert not set(got.packages) & set(got.from_base)


def test_a_requirement_dropped_from_a_spec_drops_the_package(rel14: manifest.Release, tmp_path: Path) -> None:
    """The set follows the specs: without crmsh's `Requires: pssh`, pssh is not installed."""
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    crmsh = specs / "crmsh.spec.j2"
    text = crmsh.read_text()
    assert "Requires:       pssh\n" in text
    crmsh.write_text(text.replace("Requires:       pssh\n", ""))
    comps = tuple(dataclasses.replace(c, spec=specs / c.spec.name) for c in rel14.components)
    got = installset.expected(dataclasses.replace(rel14, components=comps), rel14.dists["el7"])
    assert "pssh" not in got and "crmsh" in got


def test_a_spec_rpmspec_cannot_parse_is_one_line_error(rel14: manifest.Release, tmp_path: Path) -> None:
    bad = tmp_path / "pssh.spec.j2"
    bad.write_text("Name: pssh\n%description\n%files\n%if\n")
    comps = tuple(dataclasses.replace(c, spec=bad) if c.name == "pssh" else c for c in rel14.components)
    with pytest.raises(SpecError) as exc:
        installset.expected(dataclasses.replace(rel14, components=comps), rel14.dists["el7"])
    assert "\n" not in str(exc.value) and "rpmspec" in str(exc.value)


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_from_the_built_rpms_is_what_a_real_install_brings(demo_build: DemoBuild, dist: str, tmp_path: Path) -> None:
    """Computed from the built RPMs (recorded in build.json by the assembly) it equals what
    rpm -i + dnf install really put into a fresh root."""
    rel = demo_build.release
    d = rel.dists[dist]
    tree = demo_build.tree(dist)
    got = installset.expected(rel, d, rpms=sorted((tree / "rpm").glob("*.rpm")))
    assert got.source == "built RPMs"
    report = installcheck.check(rel, d, demo_build.repo_rpms(dist), tmp_path / "ic.log")
    really = {n for n in report.installed if n not in rel.repo_package_names()}
    assert set(got.packages) == really
    recorded = json.loads((demo_build.outputs[dist] / "build.json").read_text())["expected_install"]
    assert set(recorded) == really


def test_notes_say_which_source_the_star_has(demo_build: DemoBuild, tmp_path: Path) -> None:
    """installed.json wins; without it build.json's set (built RPMs); without a build, the specs."""
    rel = demo_build.release
    repo = tmp_path / "repo"
    shutil.copytree(demo_build.outdir / rel.release_id, repo / rel.release_id)
    for dist in rel.dists:
        (repo / rel.release_id / dist / "installed.json").unlink(missing_ok=True)
    ij = repo / rel.release_id / "el7" / "installed.json"
    ij.write_text(json.dumps({"dist": "el7", "release": rel.release_id, "packages": {"demo-all": "1.0-1.el7"}}))
    notes = collect(rel, repo_dir=repo)
    by = {d.dist.name: d for d in notes.dists}
    assert by["el7"].star_source == "installed"
    assert {ln.name for ln in by["el7"].lines if ln.star} == {rel.name, "demo-all"}  # the record wins
    assert by["el6"].star_source == "built RPMs"
    assert {ln.name for ln in by["el6"].lines if ln.star} == {rel.name, "demo-all", "libdemo", "demod", "demo-plugin",
                                                              "demo-tools"}
    nothing = collect(rel, repo_dir=tmp_path / "none")
    assert {d.star_source for d in nothing.dists} == {"rendered specs"}
