"""docs/layout.md names what the checkout holds and every path pmrepo.layout builds."""
from __future__ import annotations

from conftest import ROOT

from pmrepo.run import run

OUTPUTS = {"work", "repo", "build", "dist", ".git", ".pytest_cache", "__pycache__"}
NOT_DESCRIBED = {"README.md", ".gitignore"}


def top_level() -> set[str]:
    """What the repository tracks at its top (what is on disk, outside git)."""
    if (ROOT / ".git").exists():
        return {line.split("/", 1)[0] for line in run(["git", "-C", str(ROOT), "ls-files"]).output.splitlines()
                if line.strip()}
    return {p.name for p in ROOT.iterdir() if p.name not in OUTPUTS and not p.name.endswith(".egg-info")}


def layout() -> str:
    """docs/layout.md's checkout and work/output tree sections (the pipeline table above them is
    held to the tree by tests/unit/test_docs.py)."""
    text = (ROOT / "docs" / "layout.md").read_text()
    return text.split("## The checkout\n", 1)[1]


def test_every_top_level_entry_and_template_dir_is_described() -> None:
    section = layout()
    missing = sorted(n for n in top_level() - NOT_DESCRIBED if n not in section)
    assert not missing, f"docs/layout.md does not mention {missing}"
    for sub in sorted(p.name for p in (ROOT / "pmrepo" / "templates").iterdir() if p.is_dir()):
        assert f"    {sub}/" in section, f"pmrepo/templates/{sub}/ is not in docs/layout.md"
    for line in section.splitlines():
        word = line.strip().split(" ", 1)[0]
        if line.startswith("    ") and not line.startswith("     ") and word and "," not in word:
            named = word.rstrip("/")
            assert (ROOT / named).exists() or named in OUTPUTS, f"docs/layout.md names {word}, not in the tree"


def test_work_and_output_trees_match_the_layout() -> None:
    """Every path pmrepo.layout builds is named in docs/layout.md."""
    from pathlib import Path

    from pmrepo.layout import DistLayout, Layout, Output

    lay = Layout("REL", Path("/out"), Path("/work"))
    dist = lay.dist("DIST")
    paths = [lay.sources("COMP").parent, lay.sums_file, dist.rpmbuild_top("meta"), dist.rpmbuild_top("repo"),
             dist.public_key("ID").parent]
    for obj, cls in ((lay, Layout), (dist, DistLayout), (dist.output, Output)):
        for name, attr in vars(cls).items():
            if isinstance(attr, property):
                value = getattr(obj, name)
                if isinstance(value, Path):
                    paths.append(value)
    assert len(paths) > 15
    section = layout()
    for path in paths:
        if path.name in ("REL", "DIST", "work", "out"):
            continue
        assert path.name in section, f"docs/layout.md does not name {path.name} ({path})"
    assert "RELEASE-NOTES" in section and "SHA256SUMS" in section
