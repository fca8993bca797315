"""The demo release, built for real for el6 and el7 (issue 2's acceptance)."""
from __future__ import annotations

import configparser
import gzip
import json
import sqlite3
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import DemoBuild
from pmrepo import installcheck, repository
from pmrepo.errors import InstallCheckError
from pmrepo.run import run

DISTS = ["el6", "el7"]
# rpmlib() features rpm 4.8 (el6) reads; el7's 4.11 reads a superset of what we may emit.
EL6_RPMLIB = {"CompressedFileNames", "PayloadFilesHavePrefix", "FileDigests", "PayloadIsBzip2", "PayloadIsXz",
              "PayloadIsLzma", "VersionedDependencies", "PartialHardlinkSets", "ScriptletInterpreterArgs",
              "HeaderLoadSortsTags", "BuiltinLuaScripts", "FileCaps", "ConcurrentAccess"}


def qp(rpm: Path, fmt: str) -> str:
    return run(["rpm", "-qp", "--qf", fmt, str(rpm)]).output


def qp_list(rpm: Path, flag: str) -> list[str]:
    return [ln for ln in run(["rpm", "-qp", flag, str(rpm)]).output.splitlines() if ln]


@pytest.mark.parametrize("dist", DISTS)
def test_three_repo_packages_and_nothing_else(demo_build: DemoBuild, dist: str) -> None:
    out = demo_build.outputs[dist]
    assert out == demo_build.outdir / "demo-repo-1.0-1" / dist
    rpms = sorted(p.name for p in out.glob("*.rpm"))
    assert rpms == sorted([f"demo-repo-1.0-1.{dist}.x86_64.rpm", f"demo-repo-debuginfo-1.0-1.{dist}.x86_64.rpm",
                           f"demo-repo-src-1.0-1.{dist}.x86_64.rpm"])
    assert [p.name for p in demo_build.outdir.iterdir() if p.name.startswith(".")] == [".pmrepo.lock"], "staging left behind"


@pytest.mark.parametrize("dist", DISTS)
def test_repo_package_file_list(demo_build: DemoBuild, dist: str) -> None:
    files = qp_list(demo_build.repo_rpm(dist), "-l")
    rpm_files = sorted(Path(f).name for f in files if f.startswith("/opt/pmrepo-demo/rpm/"))
    expected = {"el6": ["demo-all-1.0-1.el6.noarch.rpm", "demo-extras-1.0-1.el6.noarch.rpm",
                        "demo-plugin-0.5-1.el6.x86_64.rpm", "demo-tools-2.0-1.el6.noarch.rpm",
                        "demod-1.0-3.el6.x86_64.rpm", "demod-devel-1.0-3.el6.x86_64.rpm",
                        "libdemo-1.2-1.el6.x86_64.rpm", "libdemo-devel-1.2-1.el6.x86_64.rpm"],
                "el7": ["demo-all-1.0-1.el7.noarch.rpm", "demo-extras-1.0-1.el7.noarch.rpm",
                        "demo-plugin-0.5-1.el7.x86_64.rpm", "demo-tools-2.0-1.el7.noarch.rpm",
                        "demo-units-1.0-1.el7.noarch.rpm",
                        "demod-1.0-3.el7.x86_64.rpm", "demod-devel-1.0-3.el7.x86_64.rpm",
                        "libdemo-1.2-1.el7.x86_64.rpm", "libdemo-devel-1.2-1.el7.x86_64.rpm"]}[dist]
    assert rpm_files == expected
    assert "/etc/yum.repos.d/pmrepo-demo.repo" in files
    assert "/opt/pmrepo-demo/repodata/repomd.xml" in files
    assert not [f for f in files if "debuginfo" in f or f.endswith(".src.rpm")]
    # %config(noreplace) on the .repo file
    cfg = qp(demo_build.repo_rpm(dist), "[%{FILENAMES} %{FILEFLAGS:fflags}\n]")
    assert "/etc/yum.repos.d/pmrepo-demo.repo cn" in cfg.splitlines()
    assert qp(demo_build.repo_rpm(dist), "%{ARCH}") == "x86_64"

    dbg = qp_list(demo_build.repo_rpm(dist, "-debuginfo"), "-l")
    assert sorted(Path(f).name for f in dbg if f.startswith("/opt/pmrepo-demo/debuginfo/rpm/")) == [
        f"demo-plugin-debuginfo-0.5-1.{dist}.x86_64.rpm", f"demod-debuginfo-1.0-3.{dist}.x86_64.rpm",
        f"libdemo-debuginfo-1.2-1.{dist}.x86_64.rpm"]
    assert "/opt/pmrepo-demo/debuginfo/repodata/repomd.xml" in dbg
    srcs = sorted(Path(f).name for f in qp_list(demo_build.repo_rpm(dist, "-src"), "-l") if f.endswith(".src.rpm"))
    n_components = 6 if dist == "el7" else 5
    assert len(srcs) == n_components and f"libdemo-1.2-1.{dist}.src.rpm" in srcs


@pytest.mark.parametrize("dist", DISTS)
def test_repo_file_contents(demo_build: DemoBuild, dist: str, tmp_path: Path) -> None:
    text = (demo_build.workdir / demo_build.release.release_id / dist / "specs" / "pmrepo-demo.repo").read_text()
    cp = configparser.ConfigParser()
    cp.read_string(text)
    assert cp.sections() == ["pmrepo-demo"]
    assert cp["pmrepo-demo"]["baseurl"] == "file:///opt/pmrepo-demo/"
    assert cp["pmrepo-demo"]["enabled"] == "1"
    assert cp["pmrepo-demo"]["gpgcheck"] == "0"
    # the file really inside the package is this one
    unpack = tmp_path / "unpack"
    unpack.mkdir()
    copy = unpack / "repo.rpm"
    copy.write_bytes(demo_build.repo_rpm(dist).read_bytes())
    run(["rpm2archive", str(copy)], cwd=unpack)
    with tarfile.open(unpack / "repo.rpm.tgz") as tar:
        member = tar.extractfile("./etc/yum.repos.d/pmrepo-demo.repo")
        assert member is not None and member.read().decode() == text


@pytest.mark.parametrize("dist", DISTS)
def test_repodata_is_readable_by_old_yum(demo_build: DemoBuild, dist: str) -> None:
    tree = demo_build.tree(dist)
    md = repository.read_repomd(tree)
    for kind in ("primary", "filelists", "other"):
        href, csum = md.entries[kind].href, md.entries[kind].checksum_type
        assert href.endswith(".xml.gz") and csum == "sha256"
        with gzip.open(tree / href) as fh:  # really gzip
            fh.read(10)
    for kind in ("primary_db", "filelists_db", "other_db"):
        href, csum = md.entries[kind].href, md.entries[kind].checksum_type
        assert href.endswith(".sqlite.gz") and csum == "sha256"
    # the sqlite database is a real one listing every package
    db = demo_build.workdir / f"primary-{dist}.sqlite"
    with gzip.open(tree / md.href("primary_db")) as src:
        db.write_bytes(src.read())
    names = {r[0] for r in sqlite3.connect(db).execute("select name from packages")}
    assert {"demo-all", "libdemo", "demod", "demo-plugin", "demo-tools"} <= names
    assert ("demo-units" in names) == (dist == "el7")


@pytest.mark.parametrize("dist", DISTS)
def test_group_in_metadata(demo_build: DemoBuild, dist: str) -> None:
    tree = demo_build.tree(dist)
    md = repository.read_repomd(tree)
    assert md.href("group").endswith(".xml") and md.href("group_gz").endswith(".xml.gz")
    group = ET.parse(tree / md.href("group")).getroot().find("group")
    assert group is not None and group.findtext("id") == "demo-all"
    reqs = {(p.text, p.get("type")) for p in group.iter("packagereq")}
    mandatory = {n for n, t in reqs if t == "mandatory"}
    optional = {n for n, t in reqs if t == "optional"}
    assert mandatory == {"demo-all", "libdemo", "demod", "demo-plugin", "demo-tools"} | ({"demo-units"} if dist == "el7" else set())
    assert optional == {"libdemo-devel", "demod-devel", "demo-extras"}


@pytest.mark.parametrize("dist", DISTS)
def test_metapackage_requires_and_operators(demo_build: DemoBuild, dist: str) -> None:
    meta = demo_build.tree(dist) / "rpm" / f"demo-all-1.0-1.{dist}.noarch.rpm"
    reqs = {r for r in qp_list(meta, "--requires") if not r.startswith("rpmlib(")}
    expected = {f"libdemo = 1.2-1.{dist}", f"demod = 1.0-3.{dist}", f"demo-plugin >= 0.5-1.{dist}", "demo-tools"}
    if dist == "el7":
        expected.add("demo-units = 1.0-1.el7")
    assert reqs == expected
    assert qp(meta, "%{ARCH}") == "noarch"


@pytest.mark.parametrize("dist", DISTS)
def test_every_output_rpm_is_readable_by_el6_rpm(demo_build: DemoBuild, dist: str) -> None:
    tree = demo_build.tree(dist)
    rpms = [*tree.glob("rpm/*.rpm"), *(tree.parent / "debuginfo-tree").glob("rpm/*.rpm"),
            *(tree.parent / "srpms").glob("*.rpm"), *demo_build.outputs[dist].glob("*.rpm")]
    assert len(rpms) == (19 if dist == "el6" else 21)
    for rpm in rpms:
        feats = {r.split("(", 1)[1].split(")", 1)[0] for r in qp_list(rpm, "--requires") if r.startswith("rpmlib(")}
        assert feats <= EL6_RPMLIB, f"{rpm.name}: {feats - EL6_RPMLIB}"
        assert qp(rpm, "%{PAYLOADCOMPRESSOR}") == "gzip", rpm.name
        assert qp(rpm, "%{FILEDIGESTALGO}") in ("8", "(none)"), rpm.name


def test_debuginfo_packages_have_real_debug_info(demo_build: DemoBuild) -> None:
    dbg = demo_build.tree("el7").parent / "debuginfo-tree" / "rpm" / "libdemo-debuginfo-1.2-1.el7.x86_64.rpm"
    assert any(f.endswith(".debug") for f in qp_list(dbg, "-l"))


def test_daemon_links_the_library_built_before_it(demo_build: DemoBuild) -> None:
    demod = demo_build.tree("el7") / "rpm" / "demod-1.0-3.el7.x86_64.rpm"
    assert "libdemo.so.1()(64bit)" in qp_list(demod, "--requires")


@pytest.mark.parametrize("dist", DISTS)
def test_fresh_root_install_and_erase_ran(demo_build: DemoBuild, dist: str) -> None:
    meta = json.loads((demo_build.outputs[dist] / "build.json").read_text())
    n = 7 if dist == "el7" else 6
    assert meta["checks"]["fresh-root install"].startswith(f"installed and erased {n} packages")
    assert meta["checks"]["gates"] == "digest passed, compat passed, closure passed, rpmlint passed"
    assert (demo_build.outputs[dist] / "gates" / f"rpmlint-{dist}.txt").is_file()
    log = (demo_build.workdir / demo_build.release.release_id / dist / "logs" / "installcheck.log").read_text()
    assert "install demo-all" in log and "remove" in log


def test_install_check_catches_a_version_mismatch(demo_build: DemoBuild, tmp_path: Path) -> None:
    """The check is not a rubber stamp: against a manifest that expects another
    demod release, the same repo package fails."""
    import dataclasses

    rel = demo_build.release
    comps = tuple(dataclasses.replace(c, release="99") if c.name == "demod" else c for c in rel.components)
    wrong = dataclasses.replace(rel, components=comps)
    with pytest.raises(InstallCheckError, match=r"demod is 1.0-3.el7, manifest says 1.0-99.el7"):
        installcheck.check(wrong, rel.dists["el7"], demo_build.repo_rpm("el7"), tmp_path / "ic.log")


def test_summary_and_progress_printed(demo_build: DemoBuild) -> None:
    text = "\n".join(demo_build.log)
    assert "el6: build waves: demo-extras, demo-tools, libdemo | demod | demo-plugin" in text
    assert "component    dist  status" in text
    assert "repo package" in text and "done in" in text
    assert "el7: gates: digest passed, compat passed, closure passed, rpmlint passed" in text
