"""The command line: a mistake is one line on stderr and a non-zero exit, never a traceback."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEMO, ROOT


def bad_manifest(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "release.toml"
    assert old in path.read_text(), f"fixture drifted: {old!r} not in the demo manifest"
    path.write_text(path.read_text().replace(old, new, 1))
    return path


def test_cli_prints_one_line_and_exits_nonzero(tmp_path: Path) -> None:
    path = bad_manifest(tmp_path, 'require = ">="', 'require = "~>"')
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "check", "--release", str(path)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "components.demo-plugin.require" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args,expect", [
    (["all", "--jobs", "0"], "--jobs 0: must be 1 or more"),
    (["all", "--force", "nosuch"], "--force nosuch: no such component"),
    (["all", "--mock-opt", "isolation=simple"], "--mock-opt is for the mock backend"),
    (["all", "--backend", "mock", "--mock-opt", "colour=red"], "--mock-opt colour: unknown option"),
    (["all", "--dist", "el9"], "--dist el9: not a target"),
    (["plan", "--workdir", "/proc/pmrepo-nope"], "/proc/pmrepo-nope"),
    (["publish"], "no mirror given"),
])
def test_cli_usage_errors_are_one_line(tmp_path: Path, args: list[str], expect: str) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k != "PUBLISH_TARGET"}
    if "--workdir" not in args:
        args = [*args, "--workdir", str(tmp_path / "w")]
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), *args, "--outdir", str(tmp_path / "o")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert expect in lines[0], lines[0]
    assert not list((tmp_path / "o").rglob("*.rpm"))
