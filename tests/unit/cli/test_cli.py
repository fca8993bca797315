"""Each subcommand offers only its own options, with a one-line description; defaults of the
options a subcommand lacks are the same everywhere."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from pmrepo import cli, defaults
from pmrepo.cli import option_table as cli_options


def options(cmd: str) -> set[str]:
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {s for a in sub.choices[cmd]._actions for s in a.option_strings if s.startswith("--")} - {"--help"}


@pytest.mark.parametrize("cmd,has,lacks", [
    ("setup", set(), {"--release", "--workdir"}),
    ("notes", {"--release", "--outdir"}, {"--backend", "--jobs", "--sign", "--container", "--dist", "--target"}),
    ("pin", {"--release", "--workdir"}, {"--outdir", "--backend", "--no-gates"}),
    ("check", {"--release", "--dist", "--workdir", "--backend", "--mock-opt"}, {"--outdir", "--force", "--sign"}),
    ("publish", {"--release", "--dist", "--workdir", "--outdir", "--target", "--dry-run", "--replace"},
     {"--backend", "--sign", "--force"}),
    ("gate", {"--container", "--container-image", "--workdir", "--outdir"}, {"--sign", "--jobs", "--target"}),
    ("all", {"--release", "--backend", "--jobs", "--force", "--sign", "--no-gates", "--no-install-check",
             "--container", "--mock-opt"}, {"--target", "--dry-run"}),
    ("demo", {"--backend", "--container", "--sign"}, {"--release", "--target"}),
    ("build", {"--component", "--host-buildrequires", "--force"}, {"--target", "--sign"}),
    ("plan", {"--host-buildrequires"}, {"--component"}),
])
def test_subcommand_options(cmd: str, has: set[str], lacks: set[str]) -> None:
    opts = options(cmd)
    assert has <= opts, has - opts
    assert not (lacks & opts), lacks & opts


def test_every_subcommand_has_a_one_line_description() -> None:
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(cli.COMMANDS)
    for name, p in sub.choices.items():
        assert p.description and "\n" not in p.description and len(p.description) < 100, name


def test_an_option_of_another_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.parser("pmrepo").parse_args(["notes", "--backend", "mock"])
    assert exc.value.code == 2 and "unrecognized arguments: --backend mock" in capsys.readouterr().err


def test_missing_options_get_the_same_defaults() -> None:
    fallbacks = cli._fallbacks()
    full = vars(cli.parser().parse_args(["all"])) | vars(cli.parser().parse_args(["publish"]))
    assert {k: full[k] for k in fallbacks} == fallbacks
    assert fallbacks["release"] == defaults.DEMO_RELEASE and fallbacks["sign"] is False


def test_every_option_fills_an_options_field_or_is_read_by_its_command() -> None:
    from dataclasses import fields

    from pmrepo.options import Options
    read_by_commands = {"mock_opt", "clean_roots", "host_buildrequires",  # -> backend_options
                        "target", "dry_run", "replace", "allow_unchecked",  # publish/preflight
                        # new-release
                        "from_", "to", "old_release", "old_version", "date", "set", "output", "from_upstream",
                        "location", "key",  # verify
                        "finding"}  # explain
    names = {f.name for f in fields(Options)}
    dests = {o.dest for group in cli.GROUPS.values() for o in group}
    assert dests - names == read_by_commands
    assert all(g in cli.GROUPS for c in cli.COMMANDS.values() for g in c.groups)
    assert all((c.call is None) != (c.standalone is None) for c in cli.COMMANDS.values())


def opts(*argv: str) -> Any:
    """The Options of a command line, as main() makes them."""
    args = cli.parser().parse_args(list(argv))
    for name, value in cli._fallbacks().items():
        if not hasattr(args, name):
            setattr(args, name, value)
    return cli._options(args)


def test_a_new_option_is_one_row_and_one_options_field(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from pmrepo.options import Options
    wider = dataclasses.make_dataclass("Wider", [("keep_staging", bool, dataclasses.field(default=False))],
                                       bases=(Options,))
    monkeypatch.setattr(cli, "Options", wider)  # the one Options field
    monkeypatch.setitem(cli.GROUPS, "build", (*cli.GROUPS["build"],  # the one row
                                             cli_options.opt("--keep-staging", action="store_true", help="keep it")))
    given = opts("all", "--keep-staging", "--no-gates", "--container", "podman")
    assert given.keep_staging is True and given.gates is False and given.container == "none"
    assert opts("build").keep_staging is False


def test_allow_insecure_auth_is_an_option_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from pmrepo.errors import PublishError
    from pmrepo.publish import mirrors as publish_targets
    before = dict(os.environ)
    assert opts("publish", "--allow-insecure-auth").allow_insecure_auth is True
    assert opts("publish").allow_insecure_auth is False
    assert dict(os.environ) == before  # carried in Options, nothing set in the process environment
    # the environment variable that carried it is read no more: only the option allows clear-text credentials
    monkeypatch.setenv("PMREPO_ALLOW_INSECURE_AUTH", "1")
    with pytest.raises(PublishError, match="--allow-insecure-auth"):
        publish_targets._refuse_plain_auth("http", "mirror.example", True, "netrc", False)
    publish_targets._refuse_plain_auth("http", "mirror.example", True, "netrc", True)


def test_per_command_policy() -> None:
    demo = opts("demo")
    assert (demo.release, demo.container, demo.container_image) == (defaults.DEMO_RELEASE, "auto", "local")
    assert opts("demo", "--no-gates").container == "none"
    pre = opts("preflight", "--sign", "--container", "podman")
    assert (pre.sign, pre.container) == (False, "none")
    full = opts("all", "--dist", "el7", "--force", "-j", "2", "--no-install-check", "--workdir", "w")
    assert (full.dists, full.force, full.jobs, full.install_check, full.container) == (
        ("el7",), frozenset({"*"}), 2, False, "none")
    assert full.workdir == Path("w").resolve()
