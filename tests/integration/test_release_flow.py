"""A signed demo release through the CLI path: build --sign, gate, publish.

Signing, the .repo file with gpgcheck, the shipped public key and the
publish step are exercised together, with a throwaway key."""
from __future__ import annotations

import configparser
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import gpgkeys
import pytest
from conftest import DEMO, ROOT

from pmrepo.run import run
from pmrepo.sign import signer as sign


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("signed")
    key = gpgkeys.generate_key("pmrepo test", "test@pmrepo.invalid")
    env = {**os.environ, "PMREPO_GPG_KEY": key.fingerprint, "GNUPGHOME": str(key.gnupghome)}
    cmd = [sys.executable, str(ROOT / "build.py"), "all", "--release", str(DEMO), "--dist", "el7", "--sign",
           "--workdir", str(base / "work"), "--outdir", str(base / "repo")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    yield base, key, proc, env
    gpgkeys.cleanup(key)


def test_signed_build_verifies_everything(signed) -> None:
    base, _key, proc, _ = signed
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "el7: signed and verified" in proc.stdout
    out = base / "repo" / "demo-repo-1.0-1" / "el7"
    pub = out / "RPM-GPG-KEY-pmrepo-demo"
    assert pub.is_file() and "BEGIN PGP PUBLIC KEY BLOCK" in pub.read_text()
    assert "PRIVATE" not in pub.read_text()
    checks = sign.verify_rpms(sorted(out.glob("*.rpm")), pub)
    assert len(checks) == 3
    tree = base / "work" / "demo-repo-1.0-1" / "el7" / "tree"
    assert (tree / "repodata" / "repomd.xml.asc").is_file()
    sign.verify_repomd(tree / "repodata", pub)


def test_repo_file_turns_on_gpgcheck_and_ships_the_key(signed, tmp_path: Path) -> None:
    base, _, proc, _ = signed
    assert proc.returncode == 0
    rpm = base / "repo" / "demo-repo-1.0-1" / "el7" / "demo-repo-1.0-1.el7.x86_64.rpm"
    files = run(["rpm", "-qpl", str(rpm)]).output.split()
    assert "/opt/pmrepo-demo/demo/RPM-GPG-KEY-pmrepo-demo" in files
    assert "/opt/pmrepo-demo/demo/repodata/repomd.xml.asc" in files
    copy = tmp_path / "r.rpm"
    copy.write_bytes(rpm.read_bytes())
    run(["rpm2archive", str(copy)], cwd=tmp_path)
    with tarfile.open(tmp_path / "r.rpm.tgz") as tar:
        member = tar.extractfile("./etc/yum.repos.d/pmrepo-demo.repo")
        assert member is not None
        cp = configparser.ConfigParser()
        cp.read_string(member.read().decode())
    sec = cp["pmrepo-demo"]
    assert (sec["gpgcheck"], sec["repo_gpgcheck"], sec["gpgkey"]) == ("1", "1", "file:///opt/pmrepo-demo/demo/RPM-GPG-KEY-pmrepo-demo")
    # the -debuginfo and -src packages: their own signed repositories, their own copy of the key
    for suffix, root in (("-debuginfo", "demo-debuginfo"), ("-src", "demo-src")):
        other = rpm.parent / rpm.name.replace("demo-repo-", f"demo-repo{suffix}-")
        files = run(["rpm", "-qpl", str(other)]).output.split()
        assert f"/opt/pmrepo-demo/{root}/RPM-GPG-KEY-pmrepo-demo" in files
        assert f"/opt/pmrepo-demo/{root}/repodata/repomd.xml.asc" in files


def test_no_private_key_material_in_work_tree_or_logs(signed) -> None:
    base, key, proc, _ = signed
    assert proc.returncode == 0
    for path in base.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            data = path.read_bytes()
            assert b"PRIVATE KEY" not in data, path
    assert not str(key.gnupghome).startswith(str(ROOT))


def test_publish_after_signed_build(signed, tmp_path: Path) -> None:
    base, _, proc, env = signed
    assert proc.returncode == 0
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    notes = subprocess.run([sys.executable, str(ROOT / "build.py"), "notes", "--release", str(DEMO),
                            "--outdir", str(base / "repo")], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert notes.returncode == 0, notes.stderr
    cmd = [sys.executable, str(ROOT / "build.py"), "publish", "--release", str(DEMO), "--dist", "el7",
           "--workdir", str(base / "work"), "--outdir", str(base / "repo"), "--target", str(mirror)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stderr
    published = mirror / "demo-repo-1.0-1"
    assert (published / "SHA256SUMS").is_file() and (published / "el7" / "demo-repo-1.0-1.el7.x86_64.rpm").is_file()
    run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=published)
    for name in ("RELEASE-NOTES.ja.md", "RELEASE-NOTES.en.html"):
        assert (published / name).is_file() and name in (published / "SHA256SUMS").read_text()
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert again.returncode != 0 and "already published" in again.stderr and "--replace" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
