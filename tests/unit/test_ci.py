"""The workflows' step logic (pmrepo/ci.py) run the way the runner runs it: the
environment of a push, a tag v1.1.14-1.1 and a manual run with an input, a
$GITHUB_ENV file, and artifacts laid out as actions/download-artifact leaves them.
Checked: the manifest chosen, what the later steps see, the output layout."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from pmrepo import ci, manifest

DEMO = "pmrepo/demo/release.toml"
REAL = "releases/1.1.14-1.1.toml"


def runner_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """A GitHub runner's environment for one step (no variable of this machine's leaks in)."""
    env_file, out_file = tmp_path / "github_env", tmp_path / "github_output"
    env_file.write_text("")
    out_file.write_text("")
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GITHUB_ACTIONS": "true", "CI": "true",
            "GITHUB_ENV": str(env_file), "GITHUB_OUTPUT": str(out_file), "PYTHONPATH": str(ROOT)}
    return base | values


def step(env: dict[str, str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python3 -m pmrepo.ci ARGS` as the workflow's run: line calls it."""
    return subprocess.run([sys.executable, "-m", "pmrepo.ci", *args], env=env, cwd=cwd, text=True,
                          capture_output=True, timeout=120, check=False)


def exported(env: dict[str, str], var: str = "GITHUB_ENV") -> dict[str, str]:
    lines = Path(env[var]).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


PUSH = {"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main"}
PULL = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_REF_NAME": "7/merge"}
TAG = {"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1.1.14-1.1", "GITHUB_REF_NAME": "v1.1.14-1.1"}
MANUAL = {"GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main"}


@pytest.mark.parametrize(("event", "extra", "want", "release_id"), [
    (PUSH, {"DEFAULT_RELEASE": DEMO}, DEMO, "demo-repo-1.0-1"),
    (PULL, {"DEFAULT_RELEASE": DEMO}, DEMO, "demo-repo-1.0-1"),
    (PUSH, {"DEFAULT_RELEASE": REAL}, REAL, "pacemaker-repo-1.1.14-1.1"),
    # a tag chooses its own manifest, whatever the default and the input say
    (TAG, {"DEFAULT_RELEASE": DEMO, "INPUT_RELEASE": "releases/1.1.13-1.1.toml"}, REAL, "pacemaker-repo-1.1.14-1.1"),
    (MANUAL, {"DEFAULT_RELEASE": REAL, "INPUT_RELEASE": "releases/1.1.13-1.1.toml"}, "releases/1.1.13-1.1.toml",
     "pacemaker-repo-1.1.13-1.1"),
    (MANUAL, {"DEFAULT_RELEASE": REAL, "INPUT_RELEASE": ""}, REAL, "pacemaker-repo-1.1.14-1.1"),
    # an input on a push (a re-run's leftover) is not used
    (PUSH, {"DEFAULT_RELEASE": DEMO, "INPUT_RELEASE": REAL}, DEMO, "demo-repo-1.0-1"),
], ids=["push", "pull-request", "push-real", "tag", "manual-input", "manual-default", "push-ignores-input"])
def test_the_manifest_a_run_builds(tmp_path: Path, event: dict[str, str], extra: dict[str, str], want: str,
                                   release_id: str) -> None:
    env = runner_env(tmp_path, **event, **extra)
    res = step(env, "select-release")
    assert res.returncode == 0, res.stderr
    assert exported(env) == {"RELEASE": want, "RELEASE_ID": release_id}
    assert exported(env, "GITHUB_OUTPUT") == {"release": want, "release_id": release_id}
    assert manifest.load(ROOT / want).release_id == release_id
    assert f"release manifest: {want} ({release_id})" in res.stdout


@pytest.mark.parametrize(("event", "extra", "named"), [
    ({**TAG, "GITHUB_REF": "refs/tags/v9.9-9", "GITHUB_REF_NAME": "v9.9-9"}, {},
     "no release manifest releases/9.9-9.toml"),
    ({**TAG, "GITHUB_REF": "refs/tags/vnext", "GITHUB_REF_NAME": "vnext"}, {}, "not v<version>-<release>"),
    (MANUAL, {"INPUT_RELEASE": "../../etc/passwd"}, "outside the checkout"),
    (MANUAL, {"INPUT_RELEASE": "/etc/hostname"}, "outside the checkout"),
    (MANUAL, {"INPUT_RELEASE": "README.md"}, "is not a release manifest"),
    # a newline would let the value write a second variable (e.g. LD_PRELOAD) into $GITHUB_ENV
    (MANUAL, {"INPUT_RELEASE": "releases/1.1.14-1.1.toml\nLD_PRELOAD=/tmp/x.so"}, "newline or control character"),
    (PUSH, {"DEFAULT_RELEASE": ""}, "no release manifest given"),
], ids=["tag-without-manifest", "bad-tag", "input-dotdot", "input-absolute", "input-not-toml", "input-newline",
        "no-default"])
def test_a_bad_choice_is_one_annotated_line_and_exports_nothing(tmp_path: Path, event: dict[str, str],
                                                                extra: dict[str, str], named: str) -> None:
    env = runner_env(tmp_path, **{"DEFAULT_RELEASE": DEMO, **event, **extra})
    res = step(env, "select-release")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error::") and named in lines[0] and "fix:" in lines[0], lines
    assert "Traceback" not in res.stderr
    assert Path(env["GITHUB_ENV"]).read_text() == "" and Path(env["GITHUB_OUTPUT"]).read_text() == ""


def test_a_tag_must_be_the_release_its_manifest_holds(tmp_path: Path) -> None:
    """releases/X.toml whose version-release is not X (a copied manifest not yet edited) is refused."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "pmrepo" / "demo", root / "releases")
    (root / "releases" / "release.toml").rename(root / "releases" / "2.0-1.toml")
    with pytest.raises(ci.UsageError, match=r"holds 1\.0-1, the tag says 2\.0-1 — fix:"):
        ci.select_release({**TAG, "GITHUB_REF": "refs/tags/v2.0-1", "GITHUB_REF_NAME": "v2.0-1"}, root)
    (root / "releases" / "release-0.9.toml").rename(root / "releases" / "0.9-1.toml")
    sel = ci.select_release({**TAG, "GITHUB_REF": "refs/tags/v0.9-1", "GITHUB_REF_NAME": "v0.9-1"}, root)
    assert sel == ci.Selection(Path("releases/0.9-1.toml"), "demo-repo-0.9-1", "tag v0.9-1")


def artifacts_of(tmp_path: Path, dists: list[str]) -> Path:
    """What actions/download-artifact with `pattern: repo-*` leaves: one directory per artifact."""
    base = tmp_path / "artifacts"
    for dist in dists:
        d = base / f"repo-{dist}"
        d.mkdir(parents=True)
        (d / f"demo-repo-1.0-1.{dist}.x86_64.rpm").write_bytes(b"rpm")
        (d / "build.json").write_text("{}")
        (d / "gates").mkdir()
        (d / "gates" / "digest.txt").write_text("ok")
    return base


def test_artifacts_move_into_the_output_layout(tmp_path: Path) -> None:
    base = artifacts_of(tmp_path, ["el6", "el7"])
    env = runner_env(tmp_path, RELEASE=DEMO, OUTDIR=str(tmp_path / "repo"))
    res = step(env, "collect-artifacts", str(base))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "repo" / "demo-repo-1.0-1"
    assert sorted(p.name for p in out.iterdir()) == ["el6", "el7"]
    for dist in ("el6", "el7"):
        assert sorted(p.name for p in (out / dist).iterdir()) == [
            "build.json", f"demo-repo-1.0-1.{dist}.x86_64.rpm", "gates"]
        assert (out / dist / "gates" / "digest.txt").read_text() == "ok"
        assert f"{dist}: {out / dist} (3 entries" in res.stdout
    assert not list(base.iterdir())  # moved, not copied


@pytest.mark.parametrize(("dists", "setup", "named"), [
    ([], None, "no repo-<dist>/ artifact"),
    (["el6", "el8"], None, "has no dist 'el8'"),
    (["el7"], "existing", "already there"),
], ids=["none", "unknown-dist", "output-exists"])
def test_bad_artifacts_are_refused_before_anything_moves(tmp_path: Path, dists: list[str], setup: str | None,
                                                         named: str) -> None:
    base = artifacts_of(tmp_path, dists)
    base.mkdir(exist_ok=True)
    out = tmp_path / "repo"
    if setup == "existing":
        (out / "demo-repo-1.0-1" / "el7").mkdir(parents=True)
    env = runner_env(tmp_path, RELEASE=DEMO, OUTDIR=str(out))
    res = step(env, "collect-artifacts", str(base))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error::") and named in lines[0] and "fix:" in lines[0], lines
    assert sorted(p.name for p in base.iterdir()) == [f"repo-{d}" for d in dists]  # nothing moved


def test_the_step_script_needs_only_the_standard_library() -> None:
    """The workflows run it before `make setup` (a bare Fedora image has python3, nothing else)."""
    res = subprocess.run([sys.executable, "-S", "-c", "import pmrepo.ci, sys; "
                          "print(sorted(m for m in sys.modules "
                          "if m.split('.')[0] in ('jinja2', 'requests', 'tomlkit', 'yaml')))"],
                         cwd=ROOT, env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=60, check=False)
    assert res.returncode == 0 and res.stdout.strip() == "[]", res.stderr
