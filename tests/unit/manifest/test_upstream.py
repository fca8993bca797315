"""The `upstream` field's values at their edges (issue 33): what manifest_upstream refuses and accepts
just around each rule, and the exact fixes it gives."""
from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo.errors import ManifestError
from pmrepo.manifest.upstream import REGEX_MAX

from .test_upstream_manifest import load


def refused(tmp_path: Path, upstream: str) -> str:
    with pytest.raises(ManifestError) as err:
        load(tmp_path, upstream)
    msg = str(err.value)
    assert "\n" not in msg and "— fix:" in msg, msg
    return msg.split(": ", 1)[1]


@pytest.mark.parametrize("git", ["/srv/git/pm", "~/pm", "host:pm", "ssh://host/pm", "git://host/pm",
                                 "file://otherhost/pm", "file:///pm?x=1", "file:///pm#f", "file://localhost/pm?x",
                                 "https://github.com/-x/pm", "https://github.com/ClusterLabs/-pm",
                                 "https://github.com/a/../b", "https://h:8-0/x", "https://h:/x",
                                 "https://Git Hub.com/x",
                                 "https://github.com/a b"])
def test_git_locations_that_are_not_a_plain_https_url_or_a_tree_path(tmp_path: Path, git: str) -> None:
    assert "components.pacemaker.upstream.git:" in refused(tmp_path, f'{{ git = "{git}" }}')


@pytest.mark.parametrize("git", ["https://GitHub.com/ClusterLabs/pacemaker", "https://git-hub.example:8443/a1/b2.git",
                                 "https://github.com/a/b/", "https://h.example/a_b/c~d+e"])
def test_plain_https_git_urls_load(tmp_path: Path, git: str) -> None:
    up = load(tmp_path, f'{{ git = "{git}" }}').components[0].upstream
    assert up is not None and up.location == git


def test_the_kinds_are_exclusive_and_one_is_needed(tmp_path: Path) -> None:
    assert refused(tmp_path, "{ series = \"1\" }") == (
        "components.pacemaker.upstream: needs exactly one of git, pypi or page (got none) — fix: keep one of them")
    assert "(got ['git', 'pypi'])" in refused(tmp_path, '{ git = "https://h/x", pypi = "x" }')


def test_the_regex_bounds(tmp_path: Path) -> None:
    def page(regex: str) -> str:
        return f"{{ page = \"https://h/x/\", regex = '{regex}' }}"

    head = "x-([0-9.]+)"
    ok = head + "a" * (REGEX_MAX - len(head))
    assert REGEX_MAX == 300 and len(ok) == 300
    up = load(tmp_path, page(ok)).components[0].upstream
    assert up is not None and up.regex == ok
    for bad in (ok + "a", ""):
        assert "must be a one-line regular expression of at most 300 characters" in refused(tmp_path, page(bad))
    assert "not a valid regular expression" in refused(tmp_path, page("x-([0-9"))
    missing = refused(tmp_path, '{ page = "https://h/x/" }')
    assert missing == ("components.pacemaker.upstream.regex: missing — fix: "
                       r"add regex = 'name-([0-9.]+)\.tar\.gz' (one group: the version)")
    groups = refused(tmp_path, page("x-[0-9.]+"))
    assert groups.endswith(r"fix: write one group around the version, e.g. regex = 'name-([0-9.]+)\.tar\.gz' "
                           "(others as (?:…))")


@pytest.mark.parametrize("field,value", [("pypi", "py pi"), ("pypi", "pssh-"), ("series", "1. 2"), ("series", "a1"),
                                         ("tag", "v {version}"), ("tag", "-{version}")])
def test_names_series_and_tags_with_a_space_or_an_option_start(tmp_path: Path, field: str, value: str) -> None:
    up = f'{{ pypi = "pssh", {field} = "{value}" }}' if field == "series" else (
        f'{{ git = "https://h/x", tag = "{value}" }}' if field == "tag" else f'{{ pypi = "{value}" }}')
    assert f"components.pacemaker.upstream.{field}" in refused(tmp_path, up)


def test_an_absolute_path_is_refused_even_inside_the_release(tmp_path: Path) -> None:
    """A local repository is named relative to the release's tree: an absolute path is refused as such
    (not only when confinement would catch it)."""
    (tmp_path / "repos" / "pm").mkdir(parents=True)
    msg = refused(tmp_path, f'{{ git = "{tmp_path}/repos/pm" }}')
    assert "is not an https:// URL or a path in the release's tree" in msg, msg


@pytest.mark.parametrize("url",
                         ["file://otherhost{tree}/repos/pm", "file://{tree}/repos/pm?x=1", "file://{tree}/repos/pm#f"])
def test_a_file_url_inside_the_release_with_a_host_query_or_fragment_is_refused_as_such(tmp_path: Path,
                                                                                           url: str) -> None:
    (tmp_path / "repos" / "pm").mkdir(parents=True)
    assert "is not a local file:///path URL" in refused(tmp_path, f'{{ git = "{url.format(tree=tmp_path)}" }}')
