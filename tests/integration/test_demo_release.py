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

from pmrepo.assemble import repository
from pmrepo.checks import freshroot as installcheck
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
    hidden = [p.name for p in demo_build.outdir.iterdir() if p.name.startswith(".")]
    assert hidden == [".pmrepo.lock"], "staging left behind"


@pytest.mark.parametrize("dist", DISTS)
def test_repo_package_file_list(demo_build: DemoBuild, dist: str) -> None:
    files = qp_list(demo_build.repo_rpm(dist), "-l")
    rpm_files = sorted(Path(f).name for f in files if f.startswith("/opt/pmrepo-demo/demo/rpm/"))
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
    assert "/opt/pmrepo-demo/demo/repodata/repomd.xml" in files
    assert not [f for f in files if "debuginfo" in f or f.endswith(".src.rpm")]
    assert qp(demo_build.repo_rpm(dist), "%{ARCH}") == "x86_64"

    dbg = qp_list(demo_build.repo_rpm(dist, "-debuginfo"), "-l")
    assert sorted(Path(f).name for f in dbg if f.startswith("/opt/pmrepo-demo/demo-debuginfo/rpm/")) == [
        f"demo-plugin-debuginfo-0.5-1.{dist}.x86_64.rpm", f"demod-debuginfo-1.0-3.{dist}.x86_64.rpm",
        f"libdemo-debuginfo-1.2-1.{dist}.x86_64.rpm"]
    assert "/opt/pmrepo-demo/demo-debuginfo/repodata/repomd.xml" in dbg
    src = qp_list(demo_build.repo_rpm(dist, "-src"), "-l")
    srcs = sorted(Path(f).name for f in src if f.startswith("/opt/pmrepo-demo/demo-src/rpm/"))
    n_components = 6 if dist == "el7" else 5
    assert len(srcs) == n_components and f"libdemo-1.2-1.{dist}.src.rpm" in srcs
    assert all(s.endswith(".src.rpm") for s in srcs)
    assert "/opt/pmrepo-demo/demo-src/repodata/repomd.xml" in src  # a real yum repository of the SRPMs


@pytest.mark.parametrize("dist", DISTS)
def test_three_repositories_laid_out_as_the_predecessor(demo_build: DemoBuild, dist: str) -> None:
    """Each package: its own root, its own %config(noreplace) .repo file, the shared
    parent directory, files root:root, RPMs 0644, no automatic dependencies."""
    roots = {"": "demo", "-debuginfo": "demo-debuginfo", "-src": "demo-src"}
    repo_files = {"": "pmrepo-demo.repo", "-debuginfo": "pmrepo-demo-debuginfo.repo", "-src": "pmrepo-demo-src.repo"}
    for suffix, root in roots.items():
        rpm = demo_build.repo_rpm(dist, suffix)
        rows = [ln.split(" ") for ln in qp(rpm, "[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms} "
                                               "%{FILEUSERNAME}:%{FILEGROUPNAME}\n]").splitlines()]
        by_name = {r[0]: r for r in rows}
        assert by_name[f"/etc/yum.repos.d/{repo_files[suffix]}"][1] == "cn"  # %config(noreplace)
        assert by_name["/opt/pmrepo-demo"][2].startswith("d")  # owns the shared parent
        assert by_name[f"/opt/pmrepo-demo/{root}"][2].startswith("d")
        others = [n for n in by_name if n.startswith("/opt/") and n not in ("/opt/pmrepo-demo",
                                                                            f"/opt/pmrepo-demo/{root}")]
        assert others and all(n.startswith(f"/opt/pmrepo-demo/{root}/") for n in others), suffix
        assert {r[3] for r in rows} == {"root:root"}
        assert all(r[2] == "-rw-r--r--" for r in rows if r[0].endswith(".rpm")), suffix
        reqs = [r for r in qp_list(rpm, "--requires") if not r.startswith("rpmlib(")]
        assert reqs == [], f"{rpm.name}: {reqs}"


@pytest.mark.parametrize("dist", DISTS)
def test_repo_file_contents(demo_build: DemoBuild, dist: str, tmp_path: Path) -> None:
    for suffix, section, name, root in (("", "pmrepo-demo", "pmrepo demo repository", "demo"),
                                        ("-debuginfo", "pmrepo-demo-debuginfo", "pmrepo-demo-debuginfo",
                                         "demo-debuginfo"),
                                        ("-src", "pmrepo-demo-src", "pmrepo-demo-src", "demo-src")):
        text = (demo_build.workdir / demo_build.release.release_id / dist / "specs" / f"{section}.repo").read_text()
        cp = configparser.ConfigParser()
        cp.read_string(text)
        assert cp.sections() == [section]
        assert dict(cp[section]) == {"name": name, "baseurl": f"file:///opt/pmrepo-demo/{root}/", "enabled": "1",
                                     "gpgcheck": "0"}
        # the file really inside the package is this one
        unpack = tmp_path / f"unpack{suffix}"
        unpack.mkdir()
        copy = unpack / "repo.rpm"
        copy.write_bytes(demo_build.repo_rpm(dist, suffix).read_bytes())
        run(["rpm2archive", str(copy)], cwd=unpack)
        with tarfile.open(unpack / "repo.rpm.tgz") as tar:
            member = tar.extractfile(f"./etc/yum.repos.d/{section}.repo")
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
    units = {"demo-units"} if dist == "el7" else set()
    assert mandatory == {"demo-all", "libdemo", "demod", "demo-plugin", "demo-tools"} | units
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
            *(tree.parent / "src-tree").glob("rpm/*.rpm"), *demo_build.outputs[dist].glob("*.rpm")]
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
    n = 9 if dist == "el7" else 8  # the stack and the three repository packages
    assert meta["checks"]["fresh-root install"].startswith(f"3 repositories seen; installed and erased {n} packages")
    gates = meta["checks"]["gates"]
    assert gates.startswith("digest passed, compat passed, closure passed, rpmlint passed, NEVRA: "), gates
    assert "NEVRA: not compared: demo-repo-0.9-1 is not in " in gates  # 0.9-1, which 1.0-1 follows, is not built
    assert (demo_build.outputs[dist] / "gates" / f"rpmlint-{dist}.txt").is_file()
    log = (demo_build.workdir / demo_build.release.release_id / dist / "logs" / "installcheck.log").read_text()
    assert "install demo-all" in log and "remove" in log
    for repo_id in ("pmrepo-demo", "pmrepo-demo-debuginfo", "pmrepo-demo-src"):
        assert f"--repo={repo_id}" in log  # dnf saw each repository
    assert meta["expected_install"][0] == "demo-all" and "libdemo" in meta["expected_install"]


def test_install_check_catches_a_version_mismatch(demo_build: DemoBuild, tmp_path: Path) -> None:
    """The check is not a rubber stamp: against a manifest that expects another
    demod release, the same repo package fails."""
    import dataclasses

    rel = demo_build.release
    comps = tuple(dataclasses.replace(c, release="99") if c.name == "demod" else c for c in rel.components)
    wrong = dataclasses.replace(rel, components=comps)
    with pytest.raises(InstallCheckError, match=r"demod is 1.0-3.el7, manifest says 1.0-99.el7"):
        installcheck.check(wrong, rel.dists["el7"], demo_build.repo_rpms("el7"), tmp_path / "ic.log")


def test_install_check_catches_a_missing_repository(demo_build: DemoBuild, tmp_path: Path) -> None:
    """Without the -src package's repository in place (its tree gone), the check fails naming it."""
    rpms = demo_build.repo_rpms("el7")
    with pytest.raises(InstallCheckError,
                       match=r"demo-repo-src: did not install /etc/yum.repos.d/pmrepo-demo-src.repo"):
        installcheck.check(demo_build.release, demo_build.release.dists["el7"], rpms[:2], tmp_path / "ic.log")


def test_summary_and_progress_printed(demo_build: DemoBuild) -> None:
    text = "\n".join(demo_build.log)
    assert "el6: build waves: demo-extras, demo-tools, libdemo | demod | demo-plugin" in text
    assert "component    dist  status" in text
    assert "repo package" in text and "done in" in text
    assert "el7: gates: digest passed, compat passed, closure passed, rpmlint passed" in text
