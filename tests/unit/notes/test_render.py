"""Release notes from the manifests alone: Markdown per language, HTML from the Markdown."""
from __future__ import annotations

import dataclasses

import pytest
from conftest import DEMO, ROOT

from pmrepo import manifest
from pmrepo.notes.collect import collect
from pmrepo.notes.render import render_texts

REAL = ROOT / "releases" / "1.1.14-1.1.toml"


@pytest.fixture(scope="module")
def demo_pages() -> dict[str, str]:
    return render_texts(collect(manifest.load(DEMO), repo_dir=None))


def test_six_pages(demo_pages: dict[str, str]) -> None:
    assert sorted(demo_pages) == ["RELEASE-NOTES.en.fragment.html", "RELEASE-NOTES.en.html", "RELEASE-NOTES.en.md",
                                  "RELEASE-NOTES.ja.fragment.html", "RELEASE-NOTES.ja.html", "RELEASE-NOTES.ja.md"]
    rel = manifest.load(DEMO)
    for lang in ("en", "ja"):
        md = demo_pages[f"RELEASE-NOTES.{lang}.md"]
        assert md.startswith("# ") and rel.name in md.splitlines()[0] and rel.vr in md.splitlines()[0]
        assert all(c.name in md for c in rel.components)


def test_html_is_the_markdown_rendered(demo_pages: dict[str, str]) -> None:
    html = demo_pages["RELEASE-NOTES.en.html"]
    md = demo_pages["RELEASE-NOTES.en.md"]
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert md.splitlines()[0].lstrip("# ") in html.split("<title>")[1]
    assert "<h1>" in html and ("<table>" in html) == ("|---" in md.replace(" ", "") or "| ---" in md)
    assert "<h1>" in demo_pages["RELEASE-NOTES.ja.html"] and 'lang="ja"' in demo_pages["RELEASE-NOTES.ja.html"]


def test_manifest_text_is_escaped_never_html() -> None:
    rel = manifest.load(DEMO)
    comps = tuple(dataclasses.replace(c, changes="<script>alert(1)</script> & more") if c.name == "demod" else c
                  for c in rel.components)
    pages = render_texts(collect(dataclasses.replace(rel, components=comps), repo_dir=None))
    assert "<script>" not in pages["RELEASE-NOTES.en.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in pages["RELEASE-NOTES.en.html"]


def test_real_release_notes_mark_what_changed_since_1_1_13() -> None:
    if not REAL.is_file():
        pytest.fail(f"{REAL} is missing")
    pages = render_texts(collect(manifest.load(REAL), repo_dir=None))
    md = pages["RELEASE-NOTES.en.md"]
    assert "1.1.13-1.1" in md and "**pacemaker-1.1.14-1" in md  # bold: changed since the predecessor


def _demo_copy(tmp_path, edit=None):
    import shutil
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / DEMO.name
    if edit:
        path.write_text(edit(path.read_text()))
    return manifest.load(path)


def test_upgrade_section_says_which_repo_files_to_merge_per_dist(tmp_path) -> None:
    """An operator who edited a .repo file keeps it on upgrade (%config(noreplace)); when the
    shipped file changed, the notes name the .rpmnew to merge and the settings that changed."""
    rel = _demo_copy(tmp_path, lambda t: t.replace('repo_name = "pmrepo demo repository"',
                                                    'repo_name = "pmrepo demo repository (new name)"'))
    md = render_texts(collect(rel, repo_dir=None))["RELEASE-NOTES.en.md"]
    upgrade = md.split("## Upgrade from demo-repo-0.9-1", 1)[1].split("\n## ", 1)[0]
    for dist in ("el6", "el7"):
        part = upgrade.split(f"({dist})", 1)[1].split("### ", 1)[0]
        assert ("- /etc/yum.repos.d/pmrepo-demo.repo (demo-repo): merge /etc/yum.repos.d/pmrepo-demo.repo.rpmnew; "
                "no longer: `name=pmrepo demo repository`; new: `name=pmrepo demo repository (new name)`") in part, part
        assert "pmrepo-demo-src.repo" not in part  # unchanged: nothing to merge
    ja = render_texts(collect(rel, repo_dir=None))["RELEASE-NOTES.ja.md"]
    assert ja.count("/etc/yum.repos.d/pmrepo-demo.repo.rpmnew を取り込む") == 2


def test_upgrade_section_says_nothing_to_merge_when_the_repo_files_are_the_same() -> None:
    md = render_texts(collect(manifest.load(DEMO), repo_dir=None))["RELEASE-NOTES.en.md"]
    assert md.count("The .repo files are the same as in demo-repo-0.9-1: a file you edited is kept as it is, "
                    "and no .rpmnew is written.") == 2
    assert ".rpmnew;" not in md




def test_each_page_is_reported_as_it_is_made() -> None:
    """Issue 26: a large manifest's pages take seconds each; `notes` says which page is done, n/total."""
    said: list[str] = []
    pages = render_texts(collect(manifest.load(DEMO), repo_dir=None), said.append)
    assert said == [f"{name} ({n}/6)" for n, name in enumerate(pages, 1)]
    assert said[0] == "RELEASE-NOTES.ja.md (1/6)" and said[-1] == "RELEASE-NOTES.en.fragment.html (6/6)"
