"""A component entry's `upstream` (issue 29): every form loads with its defaults; every shell,
option-like or otherwise malformed value is refused at load in one line naming the field; the
real manifests and the demo carry it for every component; it does not shape the packages."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import DEMO, ROOT

from pmrepo import manifest
from pmrepo.assemble.assembly import _digest, package_shape
from pmrepo.errors import ManifestError

HEAD = """[release]
version = "1"
release = "1"
date = 2016-01-22
spec_dir = "."
[dists.el6]
rhel = 6
[dists.el7]
rhel = 7
[[components]]
name = "pacemaker"
version = "1.1.14"
release = "1"
require = "="
packages = ["pacemaker"]
"""


def load(tmp_path: Path, upstream: str) -> manifest.Release:
    path = tmp_path / "r.toml"
    path.write_text(HEAD + f"upstream = {upstream}\n")
    return manifest.load(path)


def test_every_form_loads_with_its_defaults(tmp_path: Path) -> None:
    (tmp_path / "repos" / "pm").mkdir(parents=True)
    up = load(tmp_path, '{ git = "https://github.com/ClusterLabs/pacemaker", tag = "Pacemaker-{version}", '
                        'series = "1.1" }').components[0].upstream
    assert up == manifest.Upstream("git", "https://github.com/ClusterLabs/pacemaker", "Pacemaker-{version}", "",
                                   "1.1", False)
    up = load(tmp_path, '{ git = "repos/pm" }').components[0].upstream
    assert up is not None and (up.location, up.tag, up.series, up.prereleases) == (
        str(tmp_path / "repos" / "pm"), "{version}", None, False)
    up = load(tmp_path, f'{{ git = "file://{tmp_path}/repos/pm", prereleases = true }}').components[0].upstream
    assert up is not None and up.location == str(tmp_path / "repos" / "pm") and up.prereleases
    up = load(tmp_path, '{ pypi = "pssh" }').components[0].upstream
    assert up is not None and (up.kind, up.location) == ("pypi", "pssh")
    up = load(tmp_path, "{ page = \"http://127.0.0.1:8080/corosync/releases/\", "
                        "regex = 'corosync-([0-9.]+)\\.tar\\.gz', series = \"2\" }").components[0].upstream
    assert up is not None and (up.kind, up.regex, up.series) == ("page", r"corosync-([0-9.]+)\.tar\.gz", "2")
    path = tmp_path / "r.toml"
    path.write_text(HEAD)
    assert manifest.load(path).components[0].upstream is None  # optional: not tracked


HOSTILE = [
    ('{ git = "x; touch /tmp/owned" }', "upstream.git"),
    ('{ git = "--upload-pack=touch /tmp/owned" }', "upstream.git"),
    ('{ git = "-uvx" }', "upstream.git"),
    ('{ git = "sub/--upload-pack=x" }', "upstream.git"),
    ('{ git = "ext::sh -c touch% /tmp/owned" }', "upstream.git"),
    ('{ git = "https://github.com/a/b; touch /tmp/owned" }', "upstream.git"),
    ('{ git = "https://github.com/a/$(touch /tmp/owned)" }', "upstream.git"),
    ('{ git = "https://github.com/a/`id`" }', "upstream.git"),
    ('{ git = "https://user:secret@github.com/a/b" }', "upstream.git"),
    ('{ git = "https://github.com/a/b\'" }', "upstream.git"),
    ('{ git = "https://-oProxyCommand=x/a" }', "upstream.git"),
    ('{ git = "https://github.com/a/../../b" }', "upstream.git"),
    ('{ git = "https://github.com/a/b?x=1" }', "upstream.git"),
    ('{ git = "http://github.com/a/b" }', "upstream.git"),
    ('{ git = "ssh://git@github.com/a/b" }', "upstream.git"),
    ('{ git = "git@github.com:a/b" }', "upstream.git"),
    ('{ git = "/srv/git/b" }', "upstream.git"),
    ('{ git = "../../outside" }', "upstream.git"),
    ('{ git = "file:///etc" }', "upstream.git"),
    ('{ git = "file://host/x" }', "upstream.git"),
    ('{ git = "a\\nb" }', "upstream.git"),
    ('{ git = "https://github.com/a/b", tag = "Pacemaker-1.1" }', "upstream.tag"),
    ('{ git = "https://github.com/a/b", tag = "{version}-{version}" }', "upstream.tag"),
    ('{ git = "https://github.com/a/b", tag = "v{version}; rm -rf /" }', "upstream.tag"),
    ('{ git = "https://github.com/a/b", tag = "-{version}" }', "upstream.tag"),
    ('{ git = "https://github.com/a/b", tag = "{ver}" }', "upstream.tag"),
    ('{ git = "https://github.com/a/b", series = "1.x; id" }', "upstream.series"),
    ('{ git = "https://github.com/a/b", prereleases = "yes" }', "upstream.prereleases"),
    ('{ git = "https://github.com/a/b", regex = "(x)" }', "upstream.regex"),
    ('{ git = "https://github.com/a/b", pypi = "x" }', "upstream"),
    ('{ series = "1" }', "upstream"),
    ('{ git = "https://github.com/a/b", url = "x" }', "upstream.url"),
    ('"https://github.com/a/b"', "upstream"),
    ('{ pypi = "pssh; id" }', "upstream.pypi"),
    ('{ pypi = "-pssh" }', "upstream.pypi"),
    ('{ pypi = "pssh", tag = "v{version}" }', "upstream.tag"),
    ("{ page = \"https://h/x y\", regex = '(x)' }", "upstream.page"),
    ("{ page = \"https://h/x'\", regex = '(x)' }", "upstream.page"),
    ("{ page = \"ftp://h/x\", regex = '(x)' }", "upstream.page"),
    ('{ page = "https://h/x" }', "upstream.regex"),
    ("{ page = \"https://h/x\", regex = 'x' }", "upstream.regex"),
    ("{ page = \"https://h/x\", regex = '(a)(b)' }", "upstream.regex"),
    ("{ page = \"https://h/x\", regex = '(x' }", "upstream.regex"),
]


@pytest.mark.parametrize("value,field", HOSTILE, ids=[v for v, _ in HOSTILE])
def test_a_bad_value_is_refused_at_load_in_one_line(tmp_path: Path, value: str, field: str) -> None:
    with pytest.raises(ManifestError) as exc:
        load(tmp_path, value)
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"{tmp_path / 'r.toml'}: components.pacemaker.{field}")
    assert exc.value.field == f"components.pacemaker.{field}" and " — fix: " in text
    assert field == "upstream.url" or exc.value.problem != "unknown field"  # upstream is a field; the value is bad
    assert not Path("/tmp/owned").exists()


@pytest.mark.parametrize("path", ["releases/1.1.14-1.1.toml", "releases/1.1.13-1.1.toml", "pmrepo/demo/release.toml"])
def test_the_real_manifests_and_the_demo_track_every_component(path: str) -> None:
    rel = manifest.load(ROOT / path)
    untracked = [c.key for c in rel.components if c.upstream is None]
    assert not untracked, f"{path}: no upstream for {untracked}"
    if path.startswith("releases/"):
        kinds = {c.upstream.kind for c in rel.components if c.upstream}
        assert kinds == {"git", "pypi", "page"}
        assert all(c.upstream.location.startswith(("https://", "http://"))
                   for c in rel.components if c.upstream and c.upstream.kind != "pypi")
        assert rel.component("pacemaker").upstream == manifest.Upstream(
            "git", "https://github.com/ClusterLabs/pacemaker", "Pacemaker-{version}", "", "1.1", False)


def test_upstream_does_not_shape_the_packages() -> None:
    rel = manifest.load(DEMO)
    dist = rel.dists["el7"]
    moved = dataclasses.replace(rel.components[0], upstream=manifest.Upstream("pypi", "libdemo"))
    assert _digest(package_shape(dataclasses.replace(rel, components=(moved, *rel.components[1:])), dist)) == \
        _digest(package_shape(rel, dist))
