"""The real release's notes from its manifests alone, held against the
published 1.1.14-1.1 release page (../shared/reference/, read here, never
copied into the project): ★, bold, versions, groups and their order for the
16 packages the page lists; the upgrade warning and the known issues.

The page's marks are read from its version list ("バージョン一覧"): one
``* **name-version-release** ★`` line per package, under four group headings.
Our page also lists the metapackage (pacemaker-all) in the repository
package's group; the page does not, so it is left out of the comparison.
"""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass

import pytest
from conftest import ROOT
from test_notes import SECTIONS, sections, version_lines

PAGE = ROOT.parent / "shared" / "reference" / "pacemaker-1.1.14-1.1-release-page.md"
REAL = ROOT / "releases" / "1.1.14-1.1.toml"
PAGE_LINE = re.compile(r"^(?P<indent>\s*)\*\s+(?P<b1>\*\*)?(?P<nvr>[A-Za-z][A-Za-z0-9_.+-]*-[0-9][^*\s]*)"
                       r"(?P<b2>\*\*)?\s*(?P<star>★)?\s*$")
GROUP_LINE = re.compile(r"^(?P<indent>\s*)\*\s+(?P<title>[^*★]+?)\s*$")


@dataclass(frozen=True)
class Mark:
    name: str
    vr: str
    star: bool
    bold: bool


def page_version_list(text: str) -> list[tuple[str, list[Mark]]]:
    """(group title, marks) in the page's order."""
    start = text.index("バージョン一覧")
    end = text.index("補足", start)
    groups: list[tuple[str, list[Mark]]] = []
    for line in text[start:end].splitlines()[1:]:
        m = PAGE_LINE.match(line)
        if m:
            name, version, release = m["nvr"].rsplit("-", 2)
            assert bool(m["b1"]) == bool(m["b2"]), line
            groups[-1][1].append(Mark(name, f"{version}-{release}", bool(m["star"]), bool(m["b1"])))
            continue
        g = GROUP_LINE.match(line)
        if g:
            groups.append((g["title"], []))
    return groups


@pytest.fixture(scope="module")
def page() -> list[tuple[str, list[Mark]]]:
    if not PAGE.is_file():
        pytest.skip(f"the published release page is not at {PAGE} (../shared/reference/ beside the checkout)")
    groups = page_version_list(PAGE.read_text())
    assert sum(len(m) for _, m in groups) == 16, groups  # the page lists 16 packages
    return groups


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`./build.py notes --release releases/1.1.14-1.1.toml`, manifests only (an empty output root)."""
    out = tmp_path_factory.mktemp("page-notes")
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "notes", "--release", str(REAL), "--outdir",
                           str(out)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stderr
    d = out / "pacemaker-repo-1.1.14-1.1"
    return {p.name: p.read_text() for p in d.glob("RELEASE-NOTES.*.md")}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("dist,tag", [("el6", ".el6"), ("el7", ".el7")])
def test_marks_and_groups_as_the_published_page(page, pages, lang: str, dist: str, tag: str) -> None:
    md = pages[f"RELEASE-NOTES.{lang}.md"]
    titles, lines = version_lines(md, lang, dist, tag)
    ours = {ln.name: Mark(ln.name, ln.nvr[len(ln.name) + 1: -len(tag)], ln.star, ln.bold) for ln in lines}
    theirs = [m for _, marks in page for m in marks]
    assert len(theirs) == 16
    for m in theirs:
        assert m.name in ours, f"{m.name} is on the published page, not on ours"
        assert ours[m.name] == m, f"{m.name}: ours {ours[m.name]}, published {m}"
    assert set(ours) - {m.name for m in theirs} == {"pacemaker-all"}
    # the same groups, in the same order, with the same packages in the same order
    block = sections(sections(md)[SECTIONS[lang]["list"]], "### ")
    dist_block = next(v for k, v in block.items() if dist in k)
    our_groups = [[LINE.name for LINE in version_lines_of(sec, tag)] for sec in sections(dist_block, "#### ").values()]
    our_groups[0].remove("pacemaker-all")
    assert our_groups == [[m.name for m in marks] for _, marks in page]
    assert len(titles) == len(page) == 4


def version_lines_of(block: str, tag: str):
    from test_notes import LINE_RE, Line

    out = []
    for ln in block.splitlines():
        m = LINE_RE.match(ln)
        if m:
            nvr = m.group("bold") or m.group("plain")
            out.append(Line(nvr.rsplit("-", 2)[0], nvr, bool(m.group("star")), bool(m.group("bold")), ""))
    return out


@pytest.mark.parametrize("lang,warn,known,changes", [("ja", "バージョンアップ時の注意", "既知の問題", "変更点"),
                                                     ("en", "Upgrade warnings", "Known issues", "Changes")])
def test_upgrade_warning_known_issues_and_changes(pages, lang: str, warn: str, known: str, changes: str) -> None:
    md = pages[f"RELEASE-NOTES.{lang}.md"]
    secs = sections(md)
    heads = list(secs)
    # prominent, near the top: right after the overview, before the downloads
    assert heads.index(warn) == 1, heads
    w = secs[warn]
    assert all(ln.startswith(">") for ln in w.strip().splitlines()), "a block quote"
    assert "**" in w and "corosync-2.3.5-1" in w and "mcastaddr" in w and "mcastport" in w
    k = secs[known]
    items = [ln for ln in k.splitlines() if re.match(r"^  - ", ln)]
    assert "- pacemaker" in k.splitlines()  # the component's entry, its issues as sub-bullets
    assert len(items) == 2 and "pacemakerd" in items[0] and "crm_mon" in items[1] and "Failed Actions" in items[1]
    c = secs[changes]
    corosync = c[c.index("- corosync 2.3.4-1 → 2.3.5-1"):].split("\n\n")[0].splitlines()
    assert len(corosync) == 4 and all(ln.startswith("  - ") for ln in corosync[1:])
    assert c.count("\n  - ") >= 8 + 3 + 2 + 3  # pacemaker, corosync, cluster-glue, resource-agents bullets


@pytest.mark.parametrize("lang,title", [("ja", "クラスタの設定"), ("en", "Configuring the cluster")])
def test_configuration_sections_and_uninstall(pages, lang: str, title: str) -> None:
    md = pages[f"RELEASE-NOTES.{lang}.md"]
    secs = sections(md)
    conf = secs[title]
    assert "mcastaddr: 239.255.10.2" in conf and "PCMK_fail_fast=yes" in conf and "soft_margin=6" in conf
    assert "initctl stop pacemaker.combined" in md and "systemctl stop pacemaker" in md
    # the uninstall step erases the whole expected install set, pssh and the -libs packages included
    erase = [ln for ln in secs[SECTIONS[lang]["uninstall"]].splitlines() if ln.startswith("# yum erase ")]
    assert len(erase) == 2
    for line in erase:
        names = line.split()[3:]
        assert {"pacemaker", "corosync", "libqb", "cluster-glue", "cluster-glue-libs", "resource-agents", "crmsh",
                "pssh", "pm_crmgen", "pm_diskd", "pm_extras", "pm_logconv-cs", "pacemaker-all"} <= set(names)
        assert not {"pcs", "pm_ctl", "ldirectord"} & set(names)


def test_page_parser_sees_the_marks(page) -> None:
    """The parser reads the page's marks (it can tell a plain line from a starred or bold one)."""
    marks = {m.name: m for _, ms in page for m in ms}
    assert marks["pssh"] == Mark("pssh", "2.3.1-5", True, False)
    assert marks["ldirectord"] == Mark("ldirectord", "3.9.7-1", False, True)
    assert marks["pm_ctl"] == Mark("pm_ctl", "2.0-1", False, False)
    assert [t for t, _ in page][1:] == ["主要コンポーネント", "Linux-HA Japan拡張コンポーネント", "追加コンポーネント"]
