"""pmrepo.options: the run's options as one value; what a command line leaves out is the same
default here as in the option table, so a caller of the library gets what the CLI gets."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from pmrepo.cli.option_table import GROUPS
from pmrepo.options import Options

#: the groups whose options a pipeline run takes (the others need arguments or are per command)
RUN_GROUPS = ("dist", "backend", "component", "build", "checks", "container", "upstream")


def test_only_the_directories_and_the_manifest_are_required(tmp_path: Path) -> None:
    opts = Options(release=tmp_path / "r.toml", workdir=tmp_path / "w", outdir=tmp_path / "o")
    assert (opts.dists, opts.backend, opts.jobs, opts.force, opts.components) == ((), "rpmbuild", None, frozenset(), ())
    assert (opts.install_check, opts.gates, opts.sign, opts.allow_insecure_auth) == (True, True, False, False)
    assert (opts.container, opts.container_image, opts.upgrade_from) == ("none", None, None)
    with pytest.raises(TypeError):
        Options(release=tmp_path / "r.toml", workdir=tmp_path / "w")  # type: ignore[call-arg]


def test_each_run_has_its_own_backend_options(tmp_path: Path) -> None:
    a = Options(tmp_path, tmp_path, tmp_path)
    b = Options(tmp_path, tmp_path, tmp_path)
    a.backend_options["keep_roots"] = True
    assert b.backend_options == {}
    assert dataclasses.replace(a, workdir=tmp_path / "x").backend_options == {"keep_roots": True}


def test_the_defaults_are_the_option_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    p = argparse.ArgumentParser(add_help=False)
    rows = [o for g in RUN_GROUPS for o in GROUPS[g]]
    for o in rows:
        p.add_argument(*o.flags, **o.kw)
    args = p.parse_args([])
    defaults = {f.name: f.default for f in dataclasses.fields(Options) if f.default is not dataclasses.MISSING}
    compared = 0
    for o in rows:
        if o.dest not in defaults or o.dest in ("container", "backend"):  # per command; from the environment
            continue
        value = getattr(args, o.dest)
        assert (o.convert(value) if o.convert and value is not None else value) == defaults[o.dest], o.dest
        compared += 1
    assert compared >= 12
