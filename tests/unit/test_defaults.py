"""pmrepo.defaults: the tool's own files are package data; default work/ and repo/ follow the
checkout, else the current directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from pmrepo import cli, defaults


def test_default_directories_in_the_checkout_and_outside(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert defaults.checkout() == ROOT
    assert defaults.workdir() == ROOT / "work" and defaults.outdir() == ROOT / "repo"
    installed = tmp_path / "site-packages" / "pmrepo"  # no build.py / pyproject.toml beside it
    installed.mkdir(parents=True)
    monkeypatch.setattr(defaults, "PACKAGE", installed)
    monkeypatch.chdir(tmp_path)
    assert defaults.checkout() is None
    assert defaults.workdir() == tmp_path / "work" and defaults.outdir() == tmp_path / "repo"


@pytest.mark.parametrize("beside", ["build.py", "pyproject.toml"])
def test_a_checkout_needs_both_build_py_and_pyproject(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, beside: str
) -> None:
    root = tmp_path / "tree"
    (root / "pmrepo").mkdir(parents=True)
    (root / beside).write_text("")  # only one of the two
    monkeypatch.setattr(defaults, "PACKAGE", root / "pmrepo")
    monkeypatch.chdir(tmp_path)
    assert defaults.checkout() is None and defaults.base_dir() == tmp_path
    (root / ({"build.py", "pyproject.toml"} - {beside}).pop()).write_text("")
    assert defaults.checkout() == root and defaults.workdir() == root / "work"
    (root / "build.py").unlink()
    (root / "build.py").mkdir()  # a directory of that name is no checkout's build.py
    assert defaults.checkout() is None


def test_the_demo_release_is_package_data() -> None:
    assert defaults.DEMO_RELEASE.parent.parent == Path(cli.__file__).resolve().parent.parent
    assert defaults.DEMO_RELEASE.is_file()
    assert defaults.PACKAGE.is_absolute() and (defaults.PACKAGE / "defaults.py").is_file()
    assert defaults.BUILD_USER == "pmrepo-build"
