"""The installable package: `pip install .` into a fresh virtualenv gives a `pmrepo` command that
works from a directory outside the checkout (templates, macros, gate configs and the demo release
are package data; work/ and repo/ default to the current directory)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

# what a checkout holds that is not source: outputs and VCS at its top, caches anywhere
TOP_NOT_SOURCE = {".git", "work", "repo", "build", "dist", ".pytest_cache"}


def _not_source(directory: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(directory) == ROOT:
        ignored |= TOP_NOT_SOURCE & set(names)
    elif Path(directory) == ROOT / "bench":
        ignored |= {"out"} & set(names)
    return ignored


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the venv's pmrepo command, a directory outside the checkout to run it in)."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip(f"{sys.executable} has no pip module (`make setup` needs it too: install python3-pip)")
    base = tmp_path_factory.mktemp("pkg")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=_not_source)  # pip builds in the source tree: never in the checkout itself
    venv = base / "venv"
    # --system-site-packages: the dependencies setup installed (and pip itself) satisfy the package's
    # requirements offline; pmrepo is not among them, so everything pmrepo comes from this install
    proc = _run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], cwd=base)
    assert proc.returncode == 0, proc.stderr
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if all(importlib.util.find_spec(m) is not None for m in ("setuptools", "wheel")):
        pip += ["--no-build-isolation", "--no-index"]  # offline: the host's setuptools builds the wheel
    # else pip fetches the build backend (pyproject's build-system) from PyPI, as a user's `pip install .` does
    proc = _run([*pip, str(src)], cwd=base)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = base / "elsewhere"
    run.mkdir()
    return venv / "bin" / "pmrepo", run


def test_pmrepo_help_lists_the_subcommands(installed: tuple[Path, Path]) -> None:
    pmrepo, cwd = installed
    proc = _run([str(pmrepo), "--help"], cwd)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: pmrepo ")
    for cmd in ("setup", "check", "plan", "all", "demo", "gate", "notes", "pin", "publish"):
        assert f"\n    {cmd} " in proc.stdout, cmd
    proc = _run([str(pmrepo), "notes", "--help"], cwd)
    assert proc.returncode == 0 and "--backend" not in proc.stdout and "--outdir" in proc.stdout


def test_installed_package_runs_from_its_own_files(installed: tuple[Path, Path]) -> None:
    pmrepo, cwd = installed
    python = pmrepo.parent / "python"
    proc = _run([str(python), "-c", "import pmrepo.defaults as d; print(d.PACKAGE); print(d.checkout())"], cwd)
    package, checkout = proc.stdout.split()
    assert not package.startswith(str(ROOT)) and "site-packages" in package and checkout == "None"


def test_check_plan_and_notes_of_the_demo_outside_the_checkout(installed: tuple[Path, Path]) -> None:
    pmrepo, cwd = installed
    proc = _run([str(pmrepo), "check"], cwd)
    assert proc.returncode == 0, proc.stderr
    assert "site-packages/pmrepo/demo/release.toml: valid manifest for demo-repo-1.0-1" in proc.stdout
    proc = _run([str(pmrepo), "plan", "--dist", "el7"], cwd)
    assert proc.returncode == 0, proc.stderr
    order = proc.stdout.split("build order: ")[1].splitlines()[0].split(" -> ")
    assert "== el7 " in proc.stdout and order.index("libdemo") < order.index("demod") < order.index("demo-plugin")
    proc = _run([str(pmrepo), "notes"], cwd)
    assert proc.returncode == 0, proc.stderr
    assert (cwd / "work").is_dir()  # plan's rendered specs: work/ of the current directory
    notes = cwd / "repo" / "demo-repo-1.0-1"
    assert sorted(p.name for p in notes.glob("RELEASE-NOTES.*")) == [
        "RELEASE-NOTES.en.fragment.html", "RELEASE-NOTES.en.html", "RELEASE-NOTES.en.md",
        "RELEASE-NOTES.ja.fragment.html", "RELEASE-NOTES.ja.html", "RELEASE-NOTES.ja.md"]
    assert ".pmrepo-notes pre {" in (notes / "RELEASE-NOTES.en.html").read_text()  # the stylesheet is package data


def test_demo_builds_from_the_installed_package(installed: tuple[Path, Path]) -> None:
    """The whole pipeline for one dist (rpmbuild, createrepo_c, install check, gates) from package data."""
    pmrepo, cwd = installed
    proc = _run([str(pmrepo), "demo", "--dist", "el7", "--container", "none"], cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = cwd / "repo" / "demo-repo-1.0-1" / "el7"
    assert sorted(p.name for p in out.glob("*.rpm")) == [
        "demo-repo-1.0-1.el7.x86_64.rpm", "demo-repo-debuginfo-1.0-1.el7.x86_64.rpm",
        "demo-repo-src-1.0-1.el7.x86_64.rpm"]
    assert (out / "build.json").is_file()


def test_a_bad_option_is_one_line(installed: tuple[Path, Path]) -> None:
    pmrepo, cwd = installed
    proc = _run([str(pmrepo), "all", "--jobs", "0", "--workdir", str(cwd / "w"), "--outdir", str(cwd / "o")], cwd)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pmrepo: error: --jobs 0"), proc.stderr


def test_upstream_of_the_installed_demo_reads_its_bundled_upstreams(installed: tuple[Path, Path]) -> None:
    """The demo's upstreams (git bundles) are package data: `pmrepo upstream` works installed, offline."""
    pmrepo, cwd = installed
    proc = _run([str(pmrepo), "upstream", "--json", "--workdir", str(cwd / "w-up")], cwd)
    assert proc.returncode == 3, proc.stderr  # newer versions
    import json
    data = json.loads(proc.stdout)
    assert "site-packages/pmrepo/demo/upstream/" in data["components"][0]["upstream"]["location"]
    assert data["set"] == ["libdemo=1.3-1", "demod=1.1-1"]


def man_warnings(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``man`` with every groff warning on, 80 columns, no pager: what it printed and warned."""
    env = {**env, "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat", "LC_ALL": "C.UTF-8"}
    return subprocess.run(["man", "--warnings=all", *argv], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=env, timeout=120)


def test_pip_install_puts_the_man_page_where_man_finds_it(installed: tuple[Path, Path]) -> None:
    """`pip install .` installs share/man/man1/pmrepo.1 (the checked-in page, byte for byte); `man -l`
    renders it without a warning and `man pmrepo` finds it through PATH (man-db maps <prefix>/bin to
    <prefix>/share/man), so an installed pmrepo has its manual."""
    if shutil.which("man") is None:
        pytest.skip("no man command (man-db): `make setup` installs it (pmrepo/hostsetup.py's TOOLS)")
    pmrepo, _ = installed
    page = pmrepo.parent.parent / "share" / "man" / "man1" / "pmrepo.1"
    assert page.is_file(), sorted(str(p) for p in pmrepo.parent.parent.rglob("*.1"))
    assert page.read_bytes() == (ROOT / "docs" / "pmrepo.1").read_bytes()
    env = {k: v for k, v in os.environ.items() if k not in ("MANPATH", "PYTHONPATH", "VIRTUAL_ENV")}
    proc = man_warnings(["-l", str(page)], env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "pmrepo - build, check and publish a Pacemaker repository package" in proc.stdout
    for section in ("SYNOPSIS", "COMMANDS", "ENVIRONMENT", "FILES", "SEE ALSO"):
        assert f"\n{section}\n" in proc.stdout, section
    env["PATH"] = f"{pmrepo.parent}:{env.get('PATH', '/usr/bin:/bin')}"
    proc = man_warnings(["-w", "pmrepo"], env)
    assert proc.returncode == 0 and proc.stdout.strip() == str(page), proc.stdout + proc.stderr


def test_man_warns_on_a_broken_page(tmp_path: Path) -> None:
    """The warning check above can fail: a page with an unknown request and a bad escape is warned about."""
    if shutil.which("man") is None:
        pytest.skip("no man command (man-db): `make setup` installs it (pmrepo/hostsetup.py's TOOLS)")
    broken = tmp_path / "broken.1"
    broken.write_text((ROOT / "docs" / "pmrepo.1").read_text() + ".XYZZY not a macro\n\\(zz\n")
    proc = man_warnings(["-l", str(broken)], dict(os.environ))
    assert proc.stderr != ""
