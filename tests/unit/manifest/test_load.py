"""Manifest loading: valid manifests load; every invalid one is a one-line
error naming file, field and fix (the CLI's side: tests/integration/test_cli.py)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from conftest import DEMO, ROOT

from pmrepo import manifest
from pmrepo.errors import ManifestError

from .demo_edit import edited_demo


def test_demo_manifest_loads() -> None:
    rel = manifest.load(DEMO)
    assert rel.release_id == "demo-repo-1.0-1"
    assert rel.date == dt.date(2026, 11, 24)
    assert [c.name for c in rel.components] == ["libdemo", "demod", "demo-plugin", "demo-tools", "demo-units",
                                                "demo-extras"]
    assert rel.component("demo-units").dists == ("el7",)
    assert rel.dists["el7"].rpm_defines() == {"dist": ".el7", "rhel": "7", "el7": "1",
                                              "_unitdir": "/usr/lib/systemd/system"}
    assert rel.component("libdemo").sources[0].path == DEMO.parent / "src" / "libdemo"
    assert rel.follows_path() == DEMO.parent / "release-0.9.toml"


def test_defaults_are_the_linux_ha_japan_names(tmp_path: Path) -> None:
    text = """
[release]
version = "1.1.14"
release = "1.1"
date = 2016-01-22
spec_dir = "."  # the default, ../specs, is outside this temporary tree
[dists.el7]
rhel = 7
[[components]]
name = "x"
version = "1"
release = "1"
require = "="
packages = ["x"]
"""
    path = tmp_path / "r.toml"
    path.write_text(text)
    rel = manifest.load(path)
    assert (rel.name, rel.metapackage, *(getattr(rel.repo("main"), f) for f in ("prefix", "repo_id", "repo_file"))) == (
        "pacemaker-repo", "pacemaker-all", "/opt/linux-ha/pacemaker", "linux-ha-ja-pacemaker", "pacemaker.repo")
    # the predecessor's three repositories (../shared/reference/predecessor-layout.md)
    assert [(r.package, r.prefix, r.repo_file, r.repo_id, r.repo_name) for r in rel.repositories] == [
        ("pacemaker-repo", "/opt/linux-ha/pacemaker", "pacemaker.repo", "linux-ha-ja-pacemaker",
         "linux-ha-ja-pacemaker"),
        ("pacemaker-repo-debuginfo", "/opt/linux-ha/pacemaker-debuginfo", "pacemaker-debuginfo.repo",
         "linux-ha-ja-pacemaker-debuginfo", "linux-ha-ja-pacemaker-debuginfo"),
        ("pacemaker-repo-src", "/opt/linux-ha/pacemaker-src", "pacemaker-src.repo", "linux-ha-ja-pacemaker-src",
         "linux-ha-ja-pacemaker-src")]
    assert rel.parent_dir == "/opt/linux-ha" and rel.repositories[0].baseurl == "file:///opt/linux-ha/pacemaker/"
    # the repository value: its package's file name per dist and its paths, built once
    el7 = rel.dists["el7"]
    assert rel.repo_rpm_names(el7) == [f"pacemaker-repo{s}-{rel.vr}.el7.x86_64.rpm" for s in ("", "-debuginfo", "-src")]
    src_rpm = f"pacemaker-repo-src-{rel.vr}.el7.x86_64.rpm"
    assert rel.repo_rpm_name(el7, "src") == rel.repo("src").rpm_name(el7) == src_rpm
    main = rel.repo("main")
    assert (main.rpm_dir, main.repodata_dir, main.repo_path) == (
        "/opt/linux-ha/pacemaker/rpm", "/opt/linux-ha/pacemaker/repodata", "/etc/yum.repos.d/pacemaker.repo")
    assert rel.repo("main") is rel.repositories[0]  # the one value, not a copy folded on each access
    moved = dataclasses.replace(rel, repositories=(dataclasses.replace(main, prefix="/opt/linux-ha/other"),
                                                   *rel.repositories[1:]))
    assert (moved.repositories[0].prefix, moved.repo("main").rpm_dir) == ("/opt/linux-ha/other",
                                                                          "/opt/linux-ha/other/rpm")
    # a changed release's repositories follow its name, version-release and arch
    bumped = dataclasses.replace(rel, name="other-repo", version="2.0", arch="noarch")
    assert bumped.repo_rpm_names(el7) == [f"other-repo{s}-2.0-1.1.el7.noarch.rpm" for s in ("", "-debuginfo", "-src")]
    assert (rel.repo("debuginfo").repo_file, rel.repo("src").prefix) == ("pacemaker-debuginfo.repo",
                                                                         "/opt/linux-ha/pacemaker-src")
    assert rel.dists["el7"].tag == ".el7" and rel.dists["el7"].image == "centos:7"


BAD = [
    # (description, replace-old, replace-new, field in message, fix fragment)
    ("missing version", 'version = "1.0"\nrelease = "1"\nfollows', 'release = "1"\nfollows', "release.version",
     "add version"),
    ("tilde version", 'name = "libdemo"\nversion = "1.2"', 'name = "libdemo"\nversion = "1.2~rc1"',
     "components.libdemo.version", "no '-', '~'"),
    ("bad operator", 'require = ">="', 'require = "~>"', "components.demo-plugin.require", 'use "="'),
    ("unknown dist", 'dists = ["el7"]', 'dists = ["el8"]', "components.demo-units.dists", "use one of: el6, el7"),
    # issue 26: built nowhere, silently; and "demo-units is also shipped by demo-units"
    ("no dists", 'dists = ["el7"]', 'dists = []', "components.demo-units.dists", "remove dists to build it for every"),
    ("dist twice", 'dists = ["el7"]', 'dists = ["el7", "el7"]', "components.demo-units.dists", "list each dist once"),
    ("bad sha256", '{ path = "src/libdemo" }', '{ url = "https://example.org/x.tar.gz", sha256 = "abc" }',
     "components.libdemo.sources[0].sha256", "build.py pin"),
    ("missing path", '{ path = "src/libdemo" }', '{ path = "src/nope" }', "components.libdemo.sources[0].path",
     "point path"),
    ("url and path", '{ path = "src/libdemo" }', '{ path = "src/libdemo", url = "https://x/y.tgz" }',
     "components.libdemo.sources[0]", "exactly one"),
    ("unknown key", 'group = "extra"', 'group = "extra"\ncolour = "red"', "components.demo-extras.colour", "remove it"),
    ("no packages", 'packages = ["demo-extras"]', 'packages = []', "components.demo-extras.packages.el6",
     "list the packages"),
    ("bad date", "date = 2026-11-24", 'date = "yesterday"', "release.date", "YYYY-MM-DD"),
    ("bad prefix", 'prefix = "/opt/pmrepo-demo/demo"', 'prefix = "opt/demo/"', "release.prefix", "absolute"),
    ("duplicate", 'name = "demo-extras"', 'name = "demo-tools"', "components.demo-tools.dists", "its own dists"),
    ("dup package", 'packages = ["demo-extras"]', 'packages = ["demod"]', "components.demo-extras.packages",
     "from one component"),
    ("unknown group", 'group = "extra"', 'group = "misc"', "components.demo-extras.group", "note_groups"),
    ("toml syntax", "[release]", "[release", "(syntax)", "fix the TOML syntax"),
    ("missing follows", 'follows = "release-0.9.toml"', 'follows = "nope.toml"', "release.follows", "previous release"),
    ("tag with space", 'tag = ".el6"', 'tag = ".el 6"', "dists.el6.tag", 'tag = ".el6"'),
    ("macro name", 'macros = { _unitdir', 'macros = { "bad name"', "dists.el7.macros.bad name", "rpm macro name"),
    ("package name", 'packages = ["demo-tools"]', 'packages = ["demo tools"]', "components.demo-tools.packages.el6",
     "letters, digits"),
    ("smoke not text", 'smoke = "demod --version"', 'smoke = 3', "components.demod.smoke", "must be a string"),
    ("weight not a number", 'smoke = "demod --version"', 'smoke = "demod --version"\nweight = "heavy"',
     "components.demod.weight", "positive number"),
    ("weight of no dist", 'smoke = "demod --version"', 'smoke = "demod --version"\nweight = { el9 = 3 }',
     "components.demod.weight.el9", "use one of"),
    ("weight not positive", 'smoke = "demod --version"', 'smoke = "demod --version"\nweight = { el7 = 0 }',
     "components.demod.weight.el7", "positive number"),
    ("space in prefix", 'prefix = "/opt/pmrepo-demo/demo"', 'prefix = "/opt/pmrepo demo"', "release.prefix",
     "absolute"),
    ("parent is /opt", 'parent_dir = "/opt/pmrepo-demo"', 'parent_dir = "/opt"', "release.parent_dir",
     "a directory of your own"),
    ("root outside parent", 'src_prefix = "/opt/pmrepo-demo/demo-src"', 'src_prefix = "/srv/demo-src"',
     "release.src_prefix", "under /opt/pmrepo-demo/"),
    ("nested roots", 'debuginfo_prefix = "/opt/pmrepo-demo/demo-debuginfo"',
     'debuginfo_prefix = "/opt/pmrepo-demo/demo/debuginfo"', "release.debuginfo_prefix", "its own root"),
    ("shared repo file", 'src_repo_file = "pmrepo-demo-src.repo"', 'src_repo_file = "pmrepo-demo.repo"',
     "release.repo_file", "distinct"),
    ("root escapes parent", 'debuginfo_prefix = "/opt/pmrepo-demo/demo-debuginfo"',
     'debuginfo_prefix = "/opt/pmrepo-demo/../../etc/x"', "release.debuginfo_prefix", "/opt/pmrepo-demo/<dir>"),
    ("repo file name", 'src_repo_file = "pmrepo-demo-src.repo"', 'src_repo_file = "src.conf"',
     "release.src_repo_file", ".repo"),
    ("notes text one language", 'group = "extra"', 'group = "extra"\nknown_issues = { ja = "x" }',
     "components.demo-extras.known_issues.en", "every language"),
    ("notes text type", 'group = "extra"', 'group = "extra"\nchange_notes = 3', "components.demo-extras.change_notes",
     "list of non-empty strings"),
    ("section file missing", 'spec_dir = "specs"',
     'spec_dir = "specs"\nsections = [{ title = "a / b", ja = "x.ja.md", en = "x.en.md" }]',
     "release.sections[0].ja", "does not exist"),
    ("section file outside", 'spec_dir = "specs"',
     'spec_dir = "specs"\nsections = [{ title = "a / b", ja = "../x.md", en = "x.md" }]',
     "release.sections[0].ja", "next to the manifest"),
]


def test_a_weight_is_one_number_or_one_per_dist(tmp_path: Path) -> None:
    path = edited_demo(tmp_path, 'smoke = "demod --version"', 'smoke = "demod --version"\nweight = 12')
    demod = manifest.load(path).component_for("demod", "el7")
    assert demod is not None
    assert {c.name: dict(c.weight) for c in manifest.load(path).components if c.weight} == {
        "demod": dict.fromkeys(demod.dists, 12.0)}
    real = manifest.load(ROOT / "releases" / "1.1.14-1.1.toml")
    assert real.component_for("pacemaker", "el6").weight == {"el6": 108.0, "el7": 82.0}  # type: ignore[union-attr]


@pytest.mark.parametrize("desc,old,new,field,fix", BAD, ids=[b[0] for b in BAD])
def test_invalid_manifest_names_file_field_fix(tmp_path: Path, desc: str, old: str, new: str, field: str,
                                               fix: str) -> None:
    path = edited_demo(tmp_path, old, new)
    with pytest.raises(ManifestError) as err:
        manifest.load(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: {field}:"), msg
    assert "fix:" in msg and fix in msg, msg


