"""Preflight: `make release` and `publish` check what they need before any
work and report every problem at once, one line each; `demo` refuses --release."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import gpgkeys
import pytest
from conftest import DemoBuild

from pmrepo.defaults import DEMO_RELEASE as DEMO

ROOT = Path(__file__).resolve().parents[2]
BUILD = [sys.executable, str(ROOT / "build.py")]


def _errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("build.py: error: ")]


@pytest.fixture(scope="module")
def key_env():
    key = gpgkeys.generate_key("pmrepo preflight test", "preflight@pmrepo.invalid")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMREPO_")}
    env.update({"PMREPO_GPG_KEY": key.fingerprint, "GNUPGHOME": str(key.gnupghome), "CI": "true"})
    yield env
    gpgkeys.cleanup(key)


def test_make_release_with_a_missing_mirror_stops_at_once(key_env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-mirror"
    t0 = time.monotonic()
    proc = subprocess.run(["make", "-C", str(ROOT), "release", f"RELEASE={DEMO}", f"PUBLISH_TARGET={missing}"],
                          capture_output=True, text=True, env=key_env, stdin=subprocess.DEVNULL, timeout=120)
    seconds = time.monotonic() - t0
    assert proc.returncode != 0
    errors = _errors(proc.stderr)
    assert len(errors) == 1 and str(missing) in errors[0] and "does not exist" in errors[0], proc.stderr
    assert "building" not in proc.stdout and "release demo-repo" not in proc.stdout, proc.stdout  # no work began
    print(f"make release with a missing mirror stopped after {seconds:.1f}s")  # measured, not asserted: no timed tests
    assert not missing.exists()


def test_every_problem_at_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMREPO_") and k != "GNUPGHOME"}
    env.update({"PMREPO_MIN_FREE_MIB": str(2**40), "GNUPGHOME": str(tmp_path / "no-keyring"), "CI": "true"})
    proc = subprocess.run([*BUILD, "preflight", "--release", str(DEMO), "--sign", "--container", "podman",
                           "--container-image", "localhost/pmrepo-no-such-image:1", "--target", str(tmp_path / "gone"),
                           "--workdir", str(tmp_path / "w"), "--outdir", str(tmp_path / "o")],
                          capture_output=True, text=True, env={**env, "PMREPO_GPG_KEY": "0" * 40},
                          stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = _errors(proc.stderr)
    assert len(errors) == 4, proc.stderr
    joined = "\n".join(errors)
    assert "MiB free" in joined and "PMREPO_MIN_FREE_MIB" in joined
    assert "signing: GNUPGHOME" in joined and str(tmp_path / "no-keyring") in joined
    assert "localhost/pmrepo-no-such-image:1" in joined
    assert str(tmp_path / "gone") in joined
    assert not (tmp_path / "w").exists() and not (tmp_path / "o").exists()  # nothing written


def test_a_usable_key_and_mirror_pass(key_env: dict[str, str], tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    proc = subprocess.run([*BUILD, "preflight", "--release", str(DEMO), "--sign", "--target", str(mirror),
                           "--workdir", str(tmp_path / "w"), "--outdir", str(tmp_path / "o")],
                          capture_output=True, text=True, env=key_env, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "signs" in proc.stdout and f"mirror {mirror} reachable" in proc.stdout
    assert list(mirror.iterdir()) == []


def test_unknown_key_is_refused(key_env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.run([*BUILD, "preflight", "--release", str(DEMO), "--sign"], capture_output=True, text=True,
                          env={**key_env, "PMREPO_GPG_KEY": "F" * 40}, stdin=subprocess.DEVNULL, timeout=120)
    errors = _errors(proc.stderr)
    assert proc.returncode == 2 and len(errors) == 1 and "no secret key" in errors[0], proc.stderr


def test_publish_checks_the_mirror_before_writing(demo_build: DemoBuild, tmp_path: Path) -> None:
    rid = demo_build.release.release_id
    out = tmp_path / "repo"
    shutil.copytree(demo_build.outdir / rid, out / rid)
    (out / rid / "SHA256SUMS").unlink(missing_ok=True)
    proc = subprocess.run([*BUILD, "publish", "--release", str(DEMO), "--outdir", str(out), "--workdir",
                           str(tmp_path / "w"), "--target", str(tmp_path / "absent")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    errors = _errors(proc.stderr)
    assert proc.returncode != 0 and len(errors) == 1 and str(tmp_path / "absent") in errors[0], proc.stderr
    assert not (out / rid / "SHA256SUMS").exists()  # refused before anything was written


def test_demo_refuses_release() -> None:
    proc = subprocess.run([*BUILD, "demo", "--release", str(ROOT / "releases" / "1.1.14-1.1.toml")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2 and "unrecognized arguments: --release" in proc.stderr and proc.stdout == ""


def test_a_date_after_today_is_refused_before_any_build(tmp_path: Path) -> None:
    """Issue 26: `check`, `preflight` and `all` refuse a release date after today in one line (rpmlint would
    refuse every package's %changelog only after the whole build), and `all` writes nothing."""
    import datetime as dt

    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "release.toml"
    later = dt.date.today() + dt.timedelta(days=4)
    path.write_text(path.read_text().replace("date = 2026-11-24", f"date = {later}", 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMREPO_")} | {"CI": "true"}
    dirs = ["--workdir", str(tmp_path / "w"), "--outdir", str(tmp_path / "o")]
    for command in ("check", "preflight", "all"):
        where = dirs[:2] if command == "check" else dirs
        proc = subprocess.run([*BUILD, command, "--release", str(path), *where], capture_output=True, text=True,
                              env=env, stdin=subprocess.DEVNULL, timeout=120)
        errors = _errors(proc.stderr)
        assert proc.returncode == 2 and len(errors) == 1, (command, proc.stderr)
        assert f"{path}: release.date: {later} is after today ({dt.date.today()}" in errors[0], errors
        assert "fix: write the release's date" in errors[0] and "render specs" not in proc.stdout, proc.stdout
    assert not (tmp_path / "o").exists() and not (tmp_path / "w" / "store").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="what is tested is pmrepo run as root (as non-root it builds as itself)")
def test_mock_preflight_refuses_root_without_a_build_user(tmp_path: Path) -> None:
    """Review N6: with mock, SRPMs, spec parses and rpmlint still run in the sandbox as the build
    user; root without one is refused in preflight, in one line, not at the first spec parse."""
    fake = Path(__file__).resolve().parents[1] / "fake_mock"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMREPO_", "SUDO_", "FAKE_MOCK_"))}
    env.update({"CI": "true", "PATH": f"{fake}:{env['PATH']}", "FAKE_MOCK_BASEDIR": str(tmp_path / "lib"),
                "FAKE_MOCK_CACHEDIR": str(tmp_path / "cache")})
    args = [*BUILD, "preflight", "--release", str(DEMO), "--backend", "mock",
            "--workdir", str(tmp_path / "w"), "--outdir", str(tmp_path / "o")]
    good = subprocess.run(args, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert good.returncode == 0, good.stderr  # the stand-in mock and the build user: preflight passes
    proc = subprocess.run(args, capture_output=True, text=True, env={**env, "PMREPO_BUILD_USER": "pmrepo-no-such-user"},
                          stdin=subprocess.DEVNULL, timeout=120)
    errors = _errors(proc.stderr)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(errors) == 1 and "no build user 'pmrepo-no-such-user'" in errors[0] and "run `make setup`" in errors[0]
