"""pmrepo(1) is generated from the CLI tables and cannot drift from --help: the checked-in page is what
the generator writes today, each command's options read as its --help spells them, and the
ENVIRONMENT section lists exactly the PMREPO_* variables the code reads."""
from __future__ import annotations

import argparse
import contextlib
import io
import re
from pathlib import Path

import pytest
from conftest import ROOT

from pmrepo import cli
from pmrepo.cli import manpage
from pmrepo.cli.option_table import GROUPS

PAGE = ROOT / "docs" / "pmrepo.1"
REGENERATE = "run `python3 -m pmrepo.cli.manpage --output docs/pmrepo.1` and commit it"


def test_the_checked_in_page_is_what_the_generator_writes() -> None:
    assert PAGE.read_text() == manpage.render(), f"docs/pmrepo.1 is stale — {REGENERATE}"


def test_a_changed_help_text_makes_the_page_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above can fail: a command's help changed in the table is a different page."""
    changed = cli.COMMANDS["plan"].__class__(**{**vars(cli.COMMANDS["plan"]), "text": "planted help text"})
    monkeypatch.setitem(cli.COMMANDS, "plan", changed)
    page = manpage.render()
    assert "planted help text" in page and page != PAGE.read_text()


def help_of(command: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.parser("pmrepo").parse_args([command, "--help"])
    return out.getvalue()


def words(text: str) -> str:
    return " ".join(text.split())


def section_of(page: str, command: str) -> str:
    return page.split(f"\n.SS {manpage.roff(command)}\n", 1)[1].split("\n.S", 1)[0]


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_each_command_reads_as_its_help(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every option of ``pmrepo COMMAND --help`` — its spelling and its help text — is in the
    command's section of the page, and the page lists no option --help does not."""
    monkeypatch.setenv("COLUMNS", "10000")  # argparse wraps at hyphens: one line per option instead
    text = help_of(command)
    helped = words(text)
    section = section_of(manpage.render(), command)
    assert manpage.roff(cli.COMMANDS[command].text) in section
    listed = re.findall(r"^\\fB(.*)\\fR$", section, re.M)[1:]  # after the synopsis: one .TP tag per option
    options = list(manpage.command_options(command))
    assert len(listed) == len(options) == sum(
        1 for g in cli.COMMANDS[command].groups for o in GROUPS[g] if o.kw.get("help") is not argparse.SUPPRESS)
    for opt in options:
        spelled = manpage.invocation(opt)
        assert spelled in helped, f"{command}: the page spells {spelled!r}, --help does not"
        assert words(str(opt.kw.get("help", ""))) in helped
        assert manpage.roff(spelled) in listed
    # argparse's option lines: "  --jobs JOBS, -j JOBS   help…" (one line each at this width)
    flags = {word for line in text.splitlines() if line.startswith("  -")
             for word in re.findall(r"(?:^|, )(-[-\w]+)", line.strip().split("  ")[0])} - {"-h", "--help"}
    assert flags or not any(f.startswith("-") for o in options for f in o.flags), text  # setup, explain: none
    assert flags == {f for o in options for f in o.flags if f.startswith("-")}, f"{command}: --help and the page differ"


def code_variables(sources: dict[str, str]) -> set[str]:
    """The PMREPO_* names the code reads or sets (the mirror variables as their one prefix)."""
    names: set[str] = set()
    for text in sources.values():
        names |= {"PMREPO_MIRROR_" if n.startswith("PMREPO_MIRROR_") else n
                  for n in re.findall(r"PMREPO_MIRROR_|PMREPO_[A-Z0-9_]*[A-Z0-9]", text)}
    return names


def documented_variables() -> set[str]:
    names: set[str] = set()
    for spelled, _ in manpage.ENVIRONMENT:
        for name in spelled.split(", "):
            names.add("PMREPO_MIRROR_" if name.startswith("PMREPO_MIRROR_") else name)
    return {n for n in names if n.startswith("PMREPO_")}


def environment_problems(sources: dict[str, str]) -> list[str]:
    in_code = code_variables(sources)
    problems = [f"{n}: read by the code, not in manpage.ENVIRONMENT (or INTERNAL)"
                for n in sorted(in_code - documented_variables() - manpage.INTERNAL)]
    problems += [f"{n}: in the man page, read by no code" for n in sorted((documented_variables() | manpage.INTERNAL)
                                                                        - in_code)]
    return problems


def package_sources() -> dict[str, str]:
    return {str(p): p.read_text() for p in sorted((ROOT / "pmrepo").rglob("*.py")) if p.name != "manpage.py"}


def test_environment_lists_the_variables_the_code_reads() -> None:
    assert environment_problems(package_sources()) == []
    page = manpage.render()
    for spelled, _ in manpage.ENVIRONMENT:
        assert manpage.roff(spelled) in page


def test_a_new_variable_or_a_gone_one_is_found() -> None:
    sources = package_sources()
    planted = {**sources, "planted.py": 'os.environ.get("PMREPO_PLANTED_KNOB")'}
    assert environment_problems(planted) == [
        "PMREPO_PLANTED_KNOB: read by the code, not in manpage.ENVIRONMENT (or INTERNAL)"]
    gone = {k: v.replace("PMREPO_PYPI_URL", "PMREPO_PYPI") for k, v in sources.items()}
    assert "PMREPO_PYPI_URL: in the man page, read by no code" in environment_problems(gone)


def test_roff_escapes_what_would_be_markup() -> None:
    assert manpage.roff("--dist el7") == "\\-\\-dist el7"
    assert manpage.roff(".hidden") == "\\&.hidden" and manpage.roff("'quote") == "\\&'quote"
    assert manpage.roff("a\\b …") == "a\\eb \\[u2026]"


def test_main_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "pmrepo.1"
    assert manpage.main(["--output", str(out)]) == 0
    assert out.read_text() == PAGE.read_text()
