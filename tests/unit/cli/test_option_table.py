"""pmrepo.cli.option_table: every option one row (flags, argparse's keywords, a conversion into
its ``Options`` field), the groups a subcommand picks from, ``--container-pm-opt`` checked."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pmrepo import defaults
from pmrepo.cli import option_table
from pmrepo.cli.option_table import GROUPS, Opt, opt
from pmrepo.errors import UsageError


def parser(*groups: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    for name in groups:
        for o in GROUPS[name]:
            p.add_argument(*o.flags, **o.kw)
    return p


def convert(group: str, argv: list[str]) -> dict[str, object]:
    """The group's values of ``argv``, each converted as the CLI converts it."""
    args = parser(group).parse_args(argv)
    out: dict[str, object] = {}
    for o in GROUPS[group]:
        value = getattr(args, o.dest)
        out[o.dest] = o.convert(value) if o.convert and value is not None else value
    return out


def test_dest_is_the_first_flag_or_the_given_dest() -> None:
    assert opt("--container-image").dest == "container_image"
    assert opt("--jobs", "-j", type=int).dest == "jobs"
    assert opt("--dist", dest="dists", action="append").dest == "dists"
    assert opt("location").dest == "location"
    row = opt("--x", convert=tuple, help="h")
    assert row == Opt(("--x",), {"help": "h"}, tuple) and row.kw == {"help": "h"}


def test_every_group_builds_a_parser_and_every_row_says_what_it_does() -> None:
    for name, rows in GROUPS.items():
        parser(name)  # no flag twice in one group, every keyword one argparse knows
        for o in rows:
            text = o.kw.get("help")
            assert isinstance(text, str) and text and "\n" not in text, (name, o.flags)
    dests = [o.dest for o in GROUPS["new_release"]]
    assert len(dests) == len(set(dests))


def test_values_are_converted_into_their_options_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert convert("dist", ["--dist", "el6", "--dist", "el7"]) == {"dists": ("el6", "el7")}
    assert convert("dist", []) == {"dists": ()}
    assert convert("workdir", ["--workdir", "w"]) == {"workdir": tmp_path / "w"}  # resolved
    assert convert("build", ["--force", "-j", "3"]) == {"jobs": 3, "force": frozenset({"*"})}
    assert convert("build", ["--force", "a", "--force", "b"])["force"] == frozenset({"a", "b"})
    assert convert("component", ["--component", "x"]) == {"components": ("x",)}
    assert convert("checks", ["--no-gates"]) == {"install_check": True, "gates": False, "sign": False}
    got = convert("container", ["--upgrade-from", "prev", "--container-pm-opt=--setopt=a=1"])
    assert got["upgrade_from"] == tmp_path / "prev" and got["container_pm_options"] == ("--setopt=a=1",)
    assert got["container"] is None  # the command's policy decides (cli._engine)
    assert convert("upstream", ["--timeout", "2.5"]) == {"json": False, "upstream_timeout": 2.5}


def test_defaults_are_the_checkouts_directories_and_the_demo() -> None:
    values = convert("release", []) | convert("workdir", []) | convert("outdir", [])
    assert values == {"release": defaults.DEMO_RELEASE, "workdir": defaults.workdir(), "outdir": defaults.outdir()}
    assert option_table.DEMO == defaults.DEMO_RELEASE


def test_a_bad_choice_or_a_missing_required_option_is_refused() -> None:
    with pytest.raises(argparse.ArgumentError, match="invalid choice: 'chroot'"):
        parser("backend").parse_args(["--backend", "chroot"])
    with pytest.raises(argparse.ArgumentError, match="invalid int value"):
        parser("build").parse_args(["--jobs", "many"])
    with pytest.raises(SystemExit):  # argparse.exit_on_error does not cover required arguments
        parser("new_release").parse_args(["--date", "2026-01-01"])


@pytest.mark.parametrize("good", [["--setopt=skip_if_unavailable=1"], ["-q", "--nogpgcheck"], []])
def test_container_pm_options_that_are_yum_options(good: list[str]) -> None:
    assert option_table._pm_options(good) == tuple(good)


@pytest.mark.parametrize("bad", ["setopt=x", "--setopt=a b", "--x\tb", "--x\x1b[31m", "--a=1\n--b"])
def test_container_pm_option_that_is_not_one_yum_option_is_one_line(bad: str) -> None:
    with pytest.raises(UsageError) as exc:
        option_table._pm_options(["-q", bad])
    msg = str(exc.value)
    assert msg.startswith(f"--container-pm-opt {bad!r}: not one yum/dnf option — fix: give e.g. ")
    assert msg.endswith("(no spaces; repeat for more)") and "\n" not in msg


def test_the_backend_and_target_defaults_come_from_the_environment() -> None:
    code = (
        "from pmrepo.cli.option_table import GROUPS as G;"
        "print(G['backend'][0].kw['default'], repr(G['publish'][0].kw['default']))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PMREPO_BACKEND", "PUBLISH_TARGET")}
    env["PYTHONPATH"] = str(Path(option_table.__file__).resolve().parents[2])  # this package, not another
    plain = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert plain.stdout.split() == ["rpmbuild", "''"]
    env |= {"PMREPO_BACKEND": "mock", "PUBLISH_TARGET": "/srv/mirror"}
    given = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert given.stdout.split() == ["mock", "'/srv/mirror'"]
