"""`new-release` (issue 17): the next manifest from the current one through
tomlkit, --set per component or per dist, refusals in one line; rpm's order."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import cli, manifest
from pmrepo.errors import UsageError
from pmrepo.manifest.next_release import derive, parse_set
from pmrepo.run import run
from pmrepo.vercmp import vercmp

SHA = "a" * 64
SMALL = f"""# the head comment stays
[release]
version = "2.0"
release = "1"
date = 2017-01-06
spec_dir = "."
change_notes = {{ ja = ["古い"], en = ["old"] }}

[dists.el6]
rhel = 6
[dists.el7]
rhel = 7

[[components]]
name = "fence-agents"
version = "4.0.22"
release = "1"
require = "="  # an inline comment stays
packages.el6 = ["fence-agents"]
packages.el7 = ["fence-agents-all", "fence-agents-common"]
sources = [{{ url = "https://example.org/fence-agents-4.0.22.tar.xz", sha256 = "{SHA}" }},
           {{ url = "https://example.org/extra.tar.gz", sha256 = "{SHA}" }}]
changes = "Old text."
change_notes = {{ ja = ["古い"], en = ["old"] }}

[[components]]
name = "pcs"
version = "0.9.143"
release = "1"
dists = ["el7"]
packages = ["pcs"]
sources = [{{ url = "https://example.org/v0.9.143.tar.gz", filename = "pcs-0.9.143.tar.gz", sha256 = "{SHA}" }}]
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    for n in ("fence-agents", "pcs"):
        (tmp_path / f"{n}.spec.j2").write_text("Name: {{ name }}\n")
    path = tmp_path / "2.0-1.toml"
    path.write_text(SMALL)
    return path


def test_round_trip_sets_and_keeps_layout(small: Path) -> None:
    res = derive(small, "2.1", "1", "2017-03-01", ["pcs=0.9.150-1"])
    text = res.path.read_text()
    assert res.path == small.parent / "2.1-1.toml"
    assert "# the head comment stays" in text and '# an inline comment stays' in text
    rel = manifest.load(res.path)
    assert (rel.vr, rel.follows, str(rel.date)) == ("2.1-1", "2.0-1.toml", "2017-03-01")
    pcs = rel.component("pcs")
    assert pcs.vr == "0.9.150-1" and pcs.changes == "" and not pcs.change_notes
    assert (pcs.sources[0].url, pcs.sources[0].filename) == ("https://example.org/v0.9.150.tar.gz",
                                                             "pcs-0.9.150.tar.gz")
    assert pcs.sources[0].sha256 is None  # pin must record the new file
    fa = rel.component("fence-agents")  # untouched: pins and texts stay
    assert fa.vr == "4.0.22-1" and fa.sources[0].sha256 == SHA and fa.changes == "Old text."
    assert not rel.change_notes  # the release's own change text described 2.0-1
    assert any("pin 1 source" in t for t in res.todo)


def test_dist_prefix_splits_then_updates(small: Path) -> None:
    res = derive(small, "2.1", "1", "2017-03-01", ["el7:fence-agents=4.0.25-1"])
    rel = manifest.load(res.path)
    e6, e7 = rel.entries("fence-agents")
    assert (e6.dists, e6.vr, e6.sources[0].sha256) == (("el6",), "4.0.22-1", SHA)
    assert (e7.dists, e7.vr, e7.sources[0].sha256) == (("el7",), "4.0.25-1", None)
    assert e7.sources[0].url == "https://example.org/fence-agents-4.0.25.tar.xz"
    # a URL without the version names the same file: it keeps its pin (a changed file is then an error, not TOFU)
    assert (e7.sources[1].url, e7.sources[1].sha256) == ("https://example.org/extra.tar.gz", SHA)
    assert (e6.packages, e7.packages) == ({"el6": ("fence-agents",)},
                                          {"el7": ("fence-agents-all", "fence-agents-common")})
    assert "\n\n[[components]]\nname = \"fence-agents\"\nversion = \"4.0.25\"" in res.path.read_text()
    # the next release updates the existing el6 entry (no third entry), rebuilt with a git-hash release
    nxt = manifest.load(derive(res.path, "2.2", "1", "2017-05-01", ["el6:fence-agents=4.0.22-2.1f56"]).path)
    assert [(c.dists, c.vr) for c in nxt.entries("fence-agents")] == [(("el6",), "4.0.22-2.1f56"),
                                                                       (("el7",), "4.0.25-1")]
    # both dists of one component in one call
    both = manifest.load(derive(small, "2.1", "2", "2017-03-01",
                                ["el6:fence-agents=4.0.23-1", "el7:fence-agents=4.0.25-1"]).path)
    assert [(c.dists, c.vr) for c in both.entries("fence-agents")] == [(("el6",), "4.0.23-1"),
                                                                        (("el7",), "4.0.25-1")]


@pytest.mark.parametrize("args,problem", [
    (["nope=1-1"], "no component nope"),
    (["el8:pcs=1-1"], "el8 is not a dist"),
    (["el6:pcs=1-1"], "pcs is not built for el6"),
    (["pcs=0.9.143-1"], "does not sort after 0.9.143-1"),
    (["pcs=0.9.99-1"], "does not sort after"),
    (["pcs=0.9.143-1~rc"], "expected [dist:]name=version-release"),
    (["pcs=0.9.150"], "expected [dist:]name=version-release"),
])
def test_refusals_are_one_line(small: Path, args: list[str], problem: str) -> None:
    with pytest.raises(UsageError) as err:
        derive(small, "2.1", "1", "2017-03-01", args)
    msg = str(err.value)
    assert "\n" not in msg and problem in msg and "fix:" in msg, msg
    assert not (small.parent / "2.1-1.toml").exists()  # nothing half-written


def test_refuses_missing_source(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--from .*no such manifest — fix: pass the current"):
        derive(tmp_path / "nope.toml", "2.1", "1", "2017-03-01", [])


def test_refuses_existing_target_and_older_release(small: Path) -> None:
    (small.parent / "2.1-1.toml").write_text("keep me")
    with pytest.raises(UsageError, match="already exists"):
        derive(small, "2.1", "1", "2017-03-01", [])
    assert (small.parent / "2.1-1.toml").read_text() == "keep me"
    with pytest.raises(UsageError, match=r"does not sort after 2\.0-1"):
        derive(small, "2.0", "0.9", "2017-03-01", [])


def test_refuses_an_output_outside_the_manifests_directory(small: Path, tmp_path: Path) -> None:
    """The new manifest's relative paths (spec_dir, specs, sources) are relative to its directory:
    written elsewhere they would point nowhere, so --output elsewhere is refused in one line."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(UsageError) as err:
        derive(small, "2.1", "1", "2017-03-01", [], elsewhere / "2.1-1.toml")
    msg = str(err.value)
    assert "\n" not in msg and "--output" in msg and f"not in {small.parent}" in msg and "fix: write" in msg
    assert list(elsewhere.iterdir()) == []
    # beside the source it is accepted
    assert derive(small, "2.1", "1", "2017-03-01", [], small.parent / "next.toml").path == small.parent / "next.toml"


def test_cli_new_release_on_the_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    src = tmp_path / "demo" / "release.toml"
    rc = cli.main(["new-release", "--from", str(src), "--to", "1.1-1", "--date", "2026-12-01",
                   "--set", "el7:demo-plugin=0.6-1.1f56"])
    out = capsys.readouterr().out
    assert rc == 0 and "demo-plugin (el7): 0.5-1 -> 0.6-1.1f56" in out and "left to do:" in out
    rel = manifest.load(tmp_path / "demo" / "1.1-1.toml")
    assert rel.component_for("demo-plugin", "el7").vr == "0.6-1.1f56"  # type: ignore[union-attr]
    assert rel.component_for("demo-plugin", "el6").vr == "0.5-1"  # type: ignore[union-attr]
    rc = cli.main(["new-release", "--from", str(src), "--to", "1.1-1", "--date", "2026-12-01"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "already exists" in err


@pytest.mark.parametrize(("argv", "named"), [
    (["--version", "2.1", "--release", "1"], "--release and --version no longer name the new release"),
    (["--release", "1"], "--release no longer names the new release"),  # the manifest everywhere else
    (["--version", "2.1", "--to", "2.1-1"], "--version no longer names the new release"),
    ([], "--to is missing"),
    (["--to", "2.1"], "--to 2.1: not VERSION-RELEASE"),
    (["--to", "2.1-1-1"], "--to 2.1-1-1: not VERSION-RELEASE"),
    (["--to", "2.1~rc1-1"], "--to 2.1~rc1-1: invalid version '2.1~rc1'"),
])
def test_cli_new_release_takes_the_target_as_to(small: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                               named: str) -> None:
    rc = cli.main(["new-release", "--from", str(small), *argv, "--date", "2017-03-01"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and named in err and "— fix:" in err, err
    if "--to" not in argv or "--version" in argv:
        assert "--to VERSION-RELEASE, e.g. --to 1.1.15-1.1" in err  # the new spelling, named
    assert sorted(p.name for p in small.parent.glob("*.toml")) == ["2.0-1.toml"]  # nothing written
    assert cli.main(["new-release", "--from", str(small), "--to", "2.1-1", "--date", "2017-03-01"]) == 0
    assert manifest.load(small.parent / "2.1-1.toml").vr == "2.1-1"


def test_parse_set() -> None:
    s = parse_set("el7:fence-agents=4.0.25-1.2f56")
    assert (s.dist, s.name, s.version, s.release) == ("el7", "fence-agents", "4.0.25", "1.2f56")


PAIRS = [("1.2.6f56", "1.2.6"), ("1.2.6f56", "1.2.6f6"), ("1.0a", "1.0.1"), ("1.0", "1.0.0"), ("2", "10"),
         ("1.01", "1.1"), ("a", "1"), ("1a", "1b"), ("1.1f56", "1.2"), ("1~rc1", "1"), ("1^git1", "1"),
         ("1^git1", "1.1"), ("1~rc1", "1~rc2"), ("1.0", "1.0"), ("abc", "abd"), ("1_0", "1.0"), ("1.", "1"),
         ("2.1f56", "2.1"), ("4.0.22", "4.0.25"), ("0.9.143", "0.9.99"), ("1+1", "1.1"), ("1.0.", "1.0")]


def test_vercmp_agrees_with_rpm() -> None:
    if shutil.which("rpm") is None:
        pytest.skip("rpm is not installed here (`make setup` installs it): rpm's own answers are the reference")
    lua = " ".join(f'print(rpm.vercmp("{a}", "{b}") .. " ") print(rpm.vercmp("{b}", "{a}") .. " ")' for a, b in PAIRS)
    out = run(["rpm", "--eval", f"%{{lua: {lua}}}"]).output.split()
    want = [int(x) for x in out]
    got = [v for a, b in PAIRS for v in (vercmp(a, b), vercmp(b, a))]
    assert got == want and len(want) == 2 * len(PAIRS)


def test_three_releases_of_the_real_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """1.1.14-1.1 -> 1.1.15-1.1 -> 1.1.16-1.1 -> 1.1.16-1.2 by new-release alone (in a copy of releases/ and specs/,
    taken as the project): each loads, only the unpinned sources are left, the notes mark per dist."""
    from conftest import ROOT

    from pmrepo import defaults
    from pmrepo.notes.collect import collect
    for d in ("releases", "specs"):
        shutil.copytree(ROOT / d, tmp_path / d)
    monkeypatch.setattr(defaults, "checkout", lambda: tmp_path)
    path = tmp_path / "releases" / "1.1.14-1.1.toml"
    steps = [("1.1.15", "1.1", "2017-01-06", ["pacemaker=1.1.15-1", "el7:fence-agents=4.0.25-1"]),
             ("1.1.16", "1.1", "2017-06-01",
              ["el6:libqb=1.0.1-1", "el7:libqb=1.0.1-2.1f56", "el6:fence-agents=4.0.22-2"]),
             ("1.1.16", "1.2", "2017-07-01", ["el6:pcs=0.9.158-1", "el7:resource-agents=3.9.7-2"])]
    for version, release, date, sets in steps:
        res = derive(path, version, release, date, sets)
        assert res.path.name == f"{version}-{release}.toml" and any(t.startswith("pin ") for t in res.todo)
        path = res.path
    rel = manifest.load(path)
    assert [(c.dists, c.vr) for c in rel.entries("fence-agents")] == [(("el6",), "4.0.22-2"), (("el7",), "4.0.25-1")]
    assert [(c.dists, c.vr) for c in rel.entries("libqb")] == [(("el6",), "1.0.1-1"), (("el7",), "1.0.1-2.1f56")]
    assert rel.component_for("fence-agents", "el7").packages_for("el7")[0] == "fence-agents-all"  # type: ignore[union-attr]
    mid = collect(manifest.load(tmp_path / "releases" / "1.1.16-1.1.toml"), repo_dir=None)
    marks = {(d.dist.name, ln.name): (ln.bold, ln.dist_label) for d in mid.dists for ln in d.lines}
    assert marks[("el6", "libqb")] == (True, "RHEL 6") and marks[("el7", "libqb")] == (True, "RHEL 7")
    assert marks[("el6", "fence-agents")] == (True, "RHEL 6") and marks[("el7", "fence-agents")] == (False, "RHEL 7")
    assert marks[("el7", "pacemaker")] == (False, "") and marks[("el6", "ldirectord")] == (False, "")
    notes = collect(rel, repo_dir=None)
    marks = {(d.dist.name, ln.name): (ln.bold, ln.dist_label) for d in notes.dists for ln in d.lines}
    assert marks[("el6", "pcs")] == (True, "RHEL 6") and marks[("el7", "pcs")] == (False, "RHEL 7")
    assert marks[("el6", "libqb")] == (False, "RHEL 6")
    # a subpackage on its own line follows its component per dist
    assert marks[("el7", "ldirectord")] == (True, "RHEL 7") and marks[("el6", "ldirectord")] == (False, "RHEL 6")


# -- issue 26: only version-bearing parts of a source URL change; pins of rewritten sources go whole

def _one_url(tmp_path: Path, url: str, extra: str = "", version: str = "2", inline: bool = False) -> Path:
    (tmp_path / "foo.spec.j2").write_text("Name: {{ name }}\n")
    src = f'{{ url = "{url}", sha256 = "{SHA}", size = 401 }}{extra}'
    entry = f'name = "foo", version = "{version}", release = "1", require = "=", packages = ["foo"], sources = [{src}]'
    comps = f"components = [{{ {entry} }}]\n" if inline else ""
    table = "" if inline else "\n[[components]]\n" + entry.replace(", ", "\n", 4).replace('packages = ["foo"], ',
                                                                                          'packages = ["foo"]\n') + "\n"
    path = tmp_path / "1-1.toml"
    path.write_text(f'{comps}[release]\nversion = "1"\nrelease = "1"\ndate = 2017-01-06\nspec_dir = "."\n\n'
                    f"[dists.el6]\nrhel = 6\n[dists.el7]\nrhel = 7\n{table}")
    manifest.load(path)
    return path


@pytest.mark.parametrize("url,want", [
    ("https://mirror2.example.org/v2/foo-2.tar.gz", "https://mirror2.example.org/v3/foo-3.tar.gz"),
    ("http://127.0.0.1:18095/foo-2.tar.gz", "http://127.0.0.1:18095/foo-3.tar.gz"),
    ("https://github.com/team2/foo/releases/download/v2/foo-2.tar.gz",
     "https://github.com/team2/foo/releases/download/v3/foo-3.tar.gz"),
    ("https://u2:p2@host2.example.org:2222/foo-2/foo_2.tar.gz?x=a#f",
     "https://u2:p2@host2.example.org:2222/foo-3/foo_3.tar.gz?x=a#f"),
])
def test_new_release_keeps_scheme_user_host_port_and_owner(tmp_path: Path, url: str, want: str) -> None:
    res = derive(_one_url(tmp_path, url), "1", "2", "2017-02-01", ["foo=3-1"])
    src = manifest.load(res.path).component("foo").sources[0]
    assert (src.url, src.sha256, src.size) == (want, None, None)
    assert 'sha256' not in res.path.read_text() and "size" not in res.path.read_text()


def test_new_release_rewrites_libqb_twice(tmp_path: Path) -> None:
    """libqb's URL has its version in the tag segment and the file name: both move."""
    url = "https://github.com/ClusterLabs/libqb/releases/download/v1.0/libqb-1.0.tar.xz"
    path = _one_url(tmp_path, url, version="1.0")
    res = derive(path, "1", "2", "2017-02-01", ["el7:foo=1.0.1-1"])
    e6, e7 = manifest.load(res.path).entries("foo")
    assert e7.sources[0].url == "https://github.com/ClusterLabs/libqb/releases/download/v1.0.1/libqb-1.0.1.tar.xz"
    assert (e6.sources[0].url, e6.sources[0].sha256, e6.sources[0].size) == (url, SHA, 401)


@pytest.mark.parametrize("url,problem", [
    ("https://example.org/release-2/foo-2.tar.gz", "would still name the old version 2 (in 'release-2')"),
    ("https://example.org/download?id=2", "no version 2 in the path of https://example.org/download?id=2"),
])
def test_new_release_refuses_a_url_it_cannot_rewrite(tmp_path: Path, url: str, problem: str) -> None:
    path = _one_url(tmp_path, url)
    with pytest.raises(UsageError) as err:
        derive(path, "1", "2", "2017-02-01", ["foo=3-1"])
    msg = str(err.value)
    assert "\n" not in msg and problem in msg and "components.foo.sources[0]" in msg and "fix: derive without" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1-1.toml", "foo.spec.j2"]


def test_a_fixed_helper_url_keeps_its_pin(tmp_path: Path) -> None:
    extra = f', {{ url = "https://example.org/helper.tar.gz", sha256 = "{"b" * 64}" }}'
    res = derive(_one_url(tmp_path, "https://example.org/foo-2.tar.gz", extra), "1", "2", "2017-02-01", ["foo=3-1"])
    main, helper = manifest.load(res.path).component("foo").sources
    assert (main.url, main.sha256) == ("https://example.org/foo-3.tar.gz", None)
    assert (helper.url, helper.sha256) == ("https://example.org/helper.tar.gz", "b" * 64)
    assert any("kept https://example.org/helper.tar.gz" in c for c in res.changed)


def test_a_new_release_of_the_same_version_keeps_the_pins(small: Path) -> None:
    rel = manifest.load(derive(small, "2.1", "1", "2017-03-01", ["pcs=0.9.143-2"]).path)
    assert rel.component("pcs").sources[0].sha256 == SHA and rel.component("pcs").vr == "0.9.143-2"


def test_pin_after_new_release_on_a_sized_source(tmp_path: Path) -> None:
    from pmrepo.sources.pin import record_pins

    res = derive(_one_url(tmp_path, "https://example.org/v2/foo-2.tar.gz"), "1", "2", "2017-02-01", ["foo=3-1"])
    text = record_pins(res.path.read_text(), res.path, [("foo", "https://example.org/v3/foo-3.tar.gz", "c" * 64)],
                       {"https://example.org/v3/foo-3.tar.gz": 512})
    res.path.write_text(text)
    src = manifest.load(res.path).component("foo").sources[0]
    assert (src.sha256, src.size) == ("c" * 64, 512)


def test_inline_components_split_per_dist(tmp_path: Path) -> None:
    """`components = [{…}]` (an inline array) and --set el7:…: valid TOML, both entries, the pins as they were."""
    path = _one_url(tmp_path, "https://example.org/foo-2.tar.gz", inline=True)
    res = derive(path, "1", "2", "2017-02-01", ["el7:foo=3-1"])
    e6, e7 = manifest.load(res.path).entries("foo")
    assert (e6.dists, e6.vr, e6.sources[0].sha256, e6.sources[0].size) == (("el6",), "2-1", SHA, 401)
    assert (e7.dists, e7.vr, e7.sources[0].url) == (("el7",), "3-1", "https://example.org/foo-3.tar.gz")


def test_set_with_a_newline_is_one_line(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["new-release", "--from", str(small), "--to", "2.1-1", "--date", "2017-03-01",
                   "--set", "pcs=0.9.150-1\nx"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "'pcs=0.9.150-1\\nx'" in err and "fix:" in err, err


def test_output_a_directory_or_not_toml(small: Path) -> None:
    # the manifest's own directory, as `--output dir/` gives it: the default name in it
    assert derive(small, "2.1", "1", "2017-03-01", [], small.parent).path == small.parent / "2.1-1.toml"
    with pytest.raises(UsageError) as err:
        derive(small, "2.2", "1", "2017-03-01", [], small.parent / "x.txt")
    assert "a release manifest is a .toml file" in str(err.value) and f"{small.parent / '2.2-1.toml'}" in str(err.value)
    elsewhere = small.parent / "sub"
    elsewhere.mkdir()
    with pytest.raises(UsageError) as err:
        derive(small, "2.2", "1", "2017-03-01", [], elsewhere)
    assert f"e.g. --output {small.parent / '2.2-1.toml'}" in str(err.value), err.value
    assert not (small.parent / "x.txt").exists() and list(elsewhere.iterdir()) == []


def test_a_date_after_today_is_refused(small: Path) -> None:
    import datetime as dt

    later = dt.date.today() + dt.timedelta(days=4)
    with pytest.raises(UsageError) as err:
        derive(small, "2.1", "1", later.isoformat(), [])
    msg = str(err.value)
    assert "\n" not in msg and f"--date: {later} is after today ({dt.date.today()}" in msg and "fix:" in msg
    assert derive(small, "2.1", "1", dt.date.today().isoformat(), []).path.is_file()  # today is fine
