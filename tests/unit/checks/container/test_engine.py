"""--container-pm-opt: extra yum/dnf options for the container tests, as the release workflow passes
them for the real centos:6/centos:7 images (no network: their [base]/[updates] mirrors are skipped,
the demo comes from its own repositories). They reach every yum call, repolist included."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from pmrepo import cli, manifest
from pmrepo.checks import CheckOptions, default_checks
from pmrepo.checks.container import ContainerInstall, ContainerSettings, Session
from pmrepo.checks.container.engine import Engine
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.run import Result

SKIP = "--setopt=skip_if_unavailable=1"


def options(*argv: str) -> Any:
    """The Options of a command line, as main() makes them."""
    args = cli.parser().parse_args(list(argv))
    for name, value in cli._fallbacks().items():
        if not hasattr(args, name):
            setattr(args, name, value)
    return cli._options(args)


def test_the_option_reaches_the_pipeline_and_the_container_settings() -> None:
    opts = options("gate", "--container", "podman", f"--container-pm-opt={SKIP}",
                   "--container-pm-opt=--disablerepo=extras")
    assert opts.container_pm_options == (SKIP, "--disablerepo=extras")
    checks = default_checks(None, CheckOptions(container="podman", container_pm_options=opts.container_pm_options))
    install = next(c for c in checks if isinstance(c, ContainerInstall))
    assert install.settings.pm_options == (SKIP, "--disablerepo=extras")
    assert options("gate").container_pm_options == ()
    assert options("all", "--container", "podman").container_pm_options == ()


@pytest.mark.parametrize("value", ["setopt=x", "--setopt=a b", "--setopt=a\n--x"])
def test_a_value_that_is_not_one_option_is_a_one_line_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gate", "--container", "podman", f"--container-pm-opt={value}"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--container-pm-opt" in err[0] and "fix:" in err[0], err


class _Recorder(Engine):
    """An engine that answers every `exec` with success and records the shell lines."""

    def __init__(self) -> None:
        super().__init__("podman", "/bin/false", {}, "test")
        self.lines: list[str] = []

    def run(self, args: Any, log: Any, *, check: bool = True, input_text: str | None = None,
            timeout: float | None = None) -> Result:
        self.lines.append(args[-1])
        return Result(list(args), 0, "", None)


def test_repolist_install_and_erase_all_get_the_options(tmp_path: Path) -> None:
    rel = manifest.load(DEMO_RELEASE)
    engine = _Recorder()
    s = Session(engine, ContainerSettings(pm_options=(SKIP,)), rel, rel.dists["el7"], [tmp_path / "r.rpm"],
                tmp_path / "log", lambda _: None)
    s.check_repositories("yum")
    s.pm("yum", "install", [rel.metapackage])
    s.pm("yum", "erase", ["demod"])
    assert engine.lines[0].startswith(f"yum -y -v {SKIP} repolist enabled")
    assert engine.lines[1] == f"yum -y {SKIP} install demo-all"
    assert engine.lines[2] == f"yum -y {SKIP} erase demod"
    assert str(ROOT)  # the checkout these modules come from
