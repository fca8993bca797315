"""The tool's own packages (pmrepo.assemble.repopkg): the metapackage's Requires per dist and per
``require`` mode, the comps group, the .repo files, and what building the repository packages
refuses before rpmbuild runs. (The packages built for real: tests/integration/.)"""

from __future__ import annotations

import configparser
import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pmrepo import manifest
from pmrepo.assemble import repopkg
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.errors import BuildError
from pmrepo.layout import Layout
from pmrepo.render.environment import TEMPLATES, render_template
from pmrepo.render.specs import base_context


@pytest.fixture(scope="module")
def demo() -> manifest.Release:
    return manifest.load(DEMO_RELEASE)


def test_repo_file_parses_and_names_the_release(demo: manifest.Release) -> None:
    """One template, one .repo file per repository: its own section, name= and root."""
    for repo in demo.repositories:
        body = repopkg.render_repo_file(demo, demo.dists["el7"], repo, None)
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read_string(body)
        assert cfg.sections() == [repo.repo_id], body
        assert dict(cfg[repo.repo_id]) == {
            "name": repo.repo_name,
            "baseurl": f"file://{repo.prefix}/",
            "enabled": "1",
            "gpgcheck": "0",
        }
        signed = configparser.ConfigParser(interpolation=None)
        signed.read_string(repopkg.render_repo_file(demo, demo.dists["el7"], repo, "RPM-GPG-KEY-x"))
        sec = signed[repo.repo_id]
        assert (sec["gpgcheck"], sec["repo_gpgcheck"], sec["gpgkey"]) == (
            "1",
            "1",
            f"file://{repo.prefix}/RPM-GPG-KEY-x",
        )


def test_comps_lists_the_metapackage_as_mandatory(demo: manifest.Release) -> None:
    root = ET.fromstring(repopkg.render_comps(demo, demo.dists["el7"]))
    group = root.find("group")
    assert group is not None and group.findtext("id") == demo.group_id
    mandatory = [p.text for p in group.iter("packagereq") if p.get("type") == "mandatory"]
    assert mandatory[0] == demo.metapackage and "libdemo" in mandatory


def test_metapackage_spec_requires_per_dist(demo: manifest.Release) -> None:
    for dname, dist in demo.dists.items():
        ctx = base_context(demo, dist) | {"requires": repopkg.metapackage_requires(demo, dist)}
        spec = render_template("specs/pacemaker-all.spec.j2", ctx)
        tags = [(k, v.strip()) for k, _, v in (ln.partition(":") for ln in spec.splitlines() if ln[:1].isupper())]
        assert ("Name", demo.metapackage) in tags and ("BuildArch", "noarch") in tags
        reqs = [v for k, v in tags if k == "Requires"]
        assert reqs == repopkg.metapackage_requires(demo, dist), dname
    assert ("demo-units" in " ".join(repopkg.metapackage_requires(demo, demo.dists["el7"]))) != (
        "demo-units" in " ".join(repopkg.metapackage_requires(demo, demo.dists["el6"]))
    )


@pytest.mark.parametrize(
    ("mode", "line"), [("=", "libdemo = 1.2-1.el6"), (">=", "libdemo >= 1.2-1.el6"), ("any", "libdemo"), ("none", None)]
)
def test_each_require_mode_is_one_requires_line(demo: manifest.Release, mode: str, line: str | None) -> None:
    comp = dataclasses.replace(demo.component("libdemo"), require=mode)
    assert repopkg.requirement(comp, demo.dists["el6"]) == line  # the main package, with the dist's tag


def test_the_os_requires_follow_the_components(demo: manifest.Release) -> None:
    el7 = dataclasses.replace(demo.dists["el7"], os_requires=("systemd", "openssh-clients"))
    reqs = repopkg.metapackage_requires(demo, el7)
    assert reqs[-2:] == ["systemd", "openssh-clients"] and reqs[0] == "libdemo = 1.2-1.el7"
    assert not any(r.startswith("demo-extras") for r in reqs)  # require = "none"


def test_group_members_mandatory_are_the_metapackage_and_the_required_mains(demo: manifest.Release) -> None:
    mandatory, optional = repopkg.group_members(demo, demo.dists["el6"])
    assert mandatory == ["demo-all", "libdemo", "demod", "demo-plugin", "demo-tools"]
    assert optional == ["libdemo-devel", "demod-devel", "demo-extras"]  # subpackages, and what is not required
    mandatory7, _ = repopkg.group_members(demo, demo.dists["el7"])
    assert mandatory7 == [*mandatory, "demo-units"]  # an el7-only component


def test_template_files_are_the_tool_s_spec_and_repo_templates() -> None:
    names = [p.relative_to(TEMPLATES).as_posix() for p in repopkg.template_files()]
    assert names == ["specs/pacemaker-all.spec.j2", "specs/pacemaker-repo.spec.j2", "repo/pacemaker.repo.j2"]


def _trees(base: Path, *, repodata: bool, sbom: str | None = None) -> dict[str, Path]:
    trees = {}
    for kind in ("main", "debuginfo", "src"):
        tree = base / kind
        (tree / "repodata").mkdir(parents=True)
        if repodata:
            (tree / "repodata" / "repomd.xml").write_text("<repomd/>")
        if sbom:
            (tree / sbom).write_text("{}")
        trees[kind] = tree
    return trees


def test_repo_packages_of_a_tree_without_repodata_are_refused_before_rpmbuild(
    demo: manifest.Release, tmp_path: Path
) -> None:
    where = Layout(demo.release_id, tmp_path / "repo", tmp_path / "work").dist("el7")
    trees = _trees(tmp_path / "trees", repodata=False)
    with pytest.raises(BuildError) as err:
        repopkg.build_repo_packages(demo, demo.dists["el7"], where, log=tmp_path / "log", trees=trees)
    assert str(err.value) == f"demo-repo (el7): the main repository {trees['main']} has no repodata"
    assert not where.rpmbuild_top("repo").exists()  # rpmbuild never ran
    for repo in demo.repositories:  # the .repo files are rendered first, one per repository
        body = where.spec(repo.repo_file).read_text()
        assert f"[{repo.repo_id}]" in body and "gpgcheck=0" in body


def test_repo_packages_without_the_named_sbom_are_refused(demo: manifest.Release, tmp_path: Path) -> None:
    where = Layout(demo.release_id, tmp_path / "repo", tmp_path / "work").dist("el6")
    trees = _trees(tmp_path / "trees", repodata=True)
    trees["src"] = _trees(tmp_path / "other", repodata=True, sbom="x.spdx.json")["src"]
    with pytest.raises(BuildError, match=r"the main repository .* has no x\.spdx\.json$"):
        repopkg.build_repo_packages(
            demo, demo.dists["el6"], where, log=tmp_path / "log", trees=trees, sbom_name="x.spdx.json"
        )
    key = where.spec(demo.repo("main").repo_file)
    with pytest.raises(BuildError):
        repopkg.build_repo_packages(
            demo,
            demo.dists["el6"],
            where,
            log=tmp_path / "log",
            trees=trees,
            gpg_key=tmp_path / "key.asc",
            sbom_name="x.spdx.json",
        )
    assert "gpgkey=file:///opt/pmrepo-demo/demo/RPM-GPG-KEY-pmrepo-demo" in key.read_text()
