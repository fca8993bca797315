"""Checksums and atomic publish: directory, local rsync, loopback WebDAV server."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from webdav_server import DavServer, DavState

from pmrepo import checksums
from pmrepo.errors import PublishError
from pmrepo.publish import mirrors as tg
from pmrepo.publish import upload as pub
from pmrepo.run import run

RID = "demo-repo-1.0-1"
RID2 = "demo-repo-1.0-2"


def make_release(base: Path, rid: str, salt: str = "") -> Path:
    d = base / rid
    (d / "el6").mkdir(parents=True)
    (d / "el7").mkdir()
    for dist in ("el6", "el7"):
        for name in ("demo-repo", "demo-repo-debuginfo", "demo-repo-src"):
            data = hashlib.sha256(f"{rid}{dist}{name}{salt}".encode()).digest() * 4096  # 128 KiB
            (d / dist / f"{name}-1.0-1.{dist}.x86_64.rpm").write_bytes(data)
    (d / "notes.ja.md").write_text(f"# {rid}{salt}\nリリースノート\n")
    (d / "notes.en.md").write_text(f"# {rid}{salt}\n")
    checksums.write_sha256sums(d)
    return d


def tree(root: Path) -> dict[str, str]:
    """Every file under root with its sha256 (relative names)."""
    return {p.relative_to(root).as_posix(): checksums.sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def same_tree(a: Path, b: Path) -> bool:
    return tree(a) == tree(b)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return make_release(tmp_path / "repo", RID)


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    m = tmp_path / "mirror"
    m.mkdir()
    return m


# ---------------------------------------------------------------- checksums

def test_sha256sums_format_is_sha256sum_compatible(src: Path) -> None:
    sums_file = src / "SHA256SUMS"
    lines = sums_file.read_text().splitlines()
    names = [ln.split("  ", 1)[1] for ln in lines]
    assert names == sorted(names) and "el7/demo-repo-1.0-1.el7.x86_64.rpm" in names
    assert "SHA256SUMS" not in names and len(names) == 8
    run(["sha256sum", "-c", "--strict", "--quiet", "SHA256SUMS"], cwd=src)
    assert checksums.read_sha256sums(sums_file) == checksums.verify_sha256sums(src)


def test_verify_sha256sums_names_the_changed_file(src: Path) -> None:
    victim = src / "el6" / "demo-repo-1.0-1.el6.x86_64.rpm"
    victim.write_bytes(victim.read_bytes()[:-1] + b"x")
    with pytest.raises(PublishError) as err:
        checksums.verify_sha256sums(src)
    assert str(victim) in str(err.value) and "\n" not in str(err.value)
    victim.unlink()
    with pytest.raises(PublishError, match="missing"):
        checksums.verify_sha256sums(src)


def test_write_sha256sums_subset_and_bad_lines(src: Path) -> None:
    checksums.write_sha256sums(src, [src / "notes.en.md", "el7/demo-repo-1.0-1.el7.x86_64.rpm"])
    assert list(checksums.read_sha256sums(src / "SHA256SUMS")) == ["el7/demo-repo-1.0-1.el7.x86_64.rpm", "notes.en.md"]
    (src / "SHA256SUMS").write_text("nonsense\n")
    with pytest.raises(PublishError, match=r"SHA256SUMS:1: not a sha256sum line"):
        checksums.read_sha256sums(src / "SHA256SUMS")


# ---------------------------------------------------------------- directory target

def test_directory_publish_refuse_force(src: Path, mirror: Path, tmp_path: Path) -> None:
    res = pub.publish(src, str(mirror), RID, log=tmp_path / "publish.log")
    assert not res.dry_run and not res.replaced and res.files == 9
    assert same_tree(src, mirror / RID)
    assert sorted(os.listdir(mirror)) == [RID]  # no staging left
    # re-publish is refused and changes nothing
    before = tree(mirror)
    with pytest.raises(PublishError, match=r"already published.*--replace"):
        pub.publish(src, f"file://{mirror}", RID)
    assert tree(mirror) == before
    # --force replaces it with the new content, atomically
    src2 = make_release(tmp_path / "repo2", RID, salt="rebuilt")
    res = pub.publish(src2, str(mirror), RID, force=True)
    assert res.replaced
    assert same_tree(src2, mirror / RID) and not same_tree(src, mirror / RID)
    assert sorted(os.listdir(mirror)) == [RID]  # old copy deleted


def test_dry_run_changes_nothing(src: Path, mirror: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    (mirror / "older-release").mkdir()
    stale = mirror / f".staging-{RID}-0123456789ab"
    stale.mkdir()
    before = {p: p.stat().st_mtime_ns for p in mirror.rglob("*")}
    res = pub.publish(src, str(mirror), RID, dry_run=True, echo=lines.append)
    assert res.dry_run and res.plan and len(lines) == len(res.plan)
    assert any(ln.startswith("[dry-run] would upload 9 files") for ln in lines)
    assert any("remove stale" in ln and stale.name in ln for ln in res.plan)
    assert any(ln.startswith("move ") and ln.endswith(f"{RID}/") for ln in res.plan)
    assert {p: p.stat().st_mtime_ns for p in mirror.rglob("*")} == before
    assert not (mirror / RID).exists()


def test_stale_staging_is_cleaned_other_releases_untouched(src: Path, mirror: Path) -> None:
    stale = mirror / f".staging-{RID}-0123456789ab"
    (stale / "el7").mkdir(parents=True)
    (stale / "el7" / "partial.rpm").write_bytes(b"half")
    foreign = mirror / f".staging-{RID}0-0123456789ab"  # another release id with the same prefix
    foreign.mkdir()
    pub.publish(src, str(mirror), RID)
    assert not stale.exists() and foreign.exists()
    assert same_tree(src, mirror / RID)


def test_source_is_checked_before_upload(src: Path, mirror: Path) -> None:
    (src / "el7" / "stray.rpm").write_bytes(b"not listed")
    with pytest.raises(PublishError, match=r"stray\.rpm: not listed in SHA256SUMS"):
        pub.publish(src, str(mirror), RID)
    (src / "el7" / "stray.rpm").unlink()
    (src / "notes.en.md").write_text("edited after checksumming\n")
    with pytest.raises(PublishError, match=r"notes\.en\.md: sha256"):
        pub.publish(src, str(mirror), RID)
    (src / "SHA256SUMS").unlink()
    with pytest.raises(PublishError, match="SHA256SUMS: missing"):
        pub.publish(src, str(mirror), RID)
    assert os.listdir(mirror) == []


def test_bad_targets(src: Path, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="does not exist"):
        pub.publish(src, str(tmp_path / "no-such-mirror"), RID)
    with pytest.raises(PublishError, match="unsupported publish target scheme"):
        pub.publish(src, "ftp://mirror.invalid/pub", RID)
    with pytest.raises(PublishError, match="contains credentials"):
        pub.publish(src, "https://user:secret@mirror.invalid/pub/", RID)
    with pytest.raises(PublishError, match="no such directory"):  # rsync: installed by `make setup`
        pub.publish(src, f"rsync://{tmp_path / 'no-such-mirror'}", RID)
    with pytest.raises(PublishError, match="release id"):
        pub.publish(src, str(tmp_path), "../evil")


# ---------------------------------------------------------------- rsync

def test_ssh_command_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tg.ENV_SSH, raising=False)
    t = tg.make_target("ssh://deploy@mirror.example.org:2222/srv/mirror")
    assert isinstance(t, tg.RsyncTarget)
    argv = t.rsync_argv(Path("/work/repo/r1"), ".staging-r1-0123456789ab")
    assert argv[0] == "rsync" and "--delete" in argv and "--protect-args" in argv
    assert argv[argv.index("--rsh") + 1] == "ssh -o BatchMode=yes -p 2222"
    assert argv[-2:] == ["/work/repo/r1/", "deploy@mirror.example.org:/srv/mirror/.staging-r1-0123456789ab/"]
    assert t.shell_argv("ls -1A") == ["ssh", "-o", "BatchMode=yes", "-p", "2222", "--", "deploy@mirror.example.org",
                                      "ls -1A"]
    monkeypatch.setenv(tg.ENV_SSH, "ssh -i /keys/mirror")
    t = tg.make_target("rsync://mirror.example.org/srv/my mirror")
    assert isinstance(t, tg.RsyncTarget)
    assert t.shell_argv("true")[:4] == ["ssh", "-i", "/keys/mirror", "-o"]
    assert t.shell_argv("true")[-2] == "mirror.example.org"
    assert t.path("r1") == "/srv/my mirror/r1"


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed (make setup)")
def test_rsync_local_publish_resume_and_force(src: Path, mirror: Path, tmp_path: Path) -> None:
    # a failed earlier run left a partial staging directory: it is reused
    stale = mirror / f".staging-{RID}-00000000000a"
    (stale / "el7").mkdir(parents=True)
    (stale / "el7" / "demo-repo-1.0-1.el7.x86_64.rpm").write_bytes(b"partial")
    (stale / "junk").write_bytes(b"junk")
    log = tmp_path / "rsync.log"
    res = pub.publish(src, f"rsync://{mirror}", RID, log=log)
    assert any(stale.name in ln for ln in res.plan)
    assert same_tree(src, mirror / RID) and os.listdir(mirror) == [RID]
    assert "rsync --recursive" in log.read_text() and "sha256sum" in log.read_text()
    with pytest.raises(PublishError, match="already published"):
        pub.publish(src, f"rsync://{mirror}", RID)
    src2 = make_release(tmp_path / "repo2", RID, salt="v2")
    pub.publish(src2, f"rsync://{mirror}", RID, force=True)
    assert same_tree(src2, mirror / RID) and os.listdir(mirror) == [RID]


# ---------------------------------------------------------------- HTTP (WebDAV)

@pytest.fixture
def dav(tmp_path: Path):
    www = tmp_path / "www"
    (www / "mirror").mkdir(parents=True)
    with DavServer(DavState(root=www)) as server:
        yield server


def test_http_publish_and_refuse(src: Path, dav: DavServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    url = dav.url + "mirror/"
    res = pub.publish(src, url, RID, log=tmp_path / "http.log")
    assert res.url == f"{url}{RID}/"
    www = dav.state.root / "mirror"
    assert same_tree(src, www / RID) and os.listdir(www) == [RID]
    methods = [m for m, _p, _c in dav.state.log]
    assert methods.count("PUT") == 9 and methods.count("GET") == 9  # every file re-downloaded
    move = [e for e in dav.state.log if e[0] == "MOVE"]
    assert len(move) == 1 and move[0][2] == 201
    with pytest.raises(PublishError, match="already published"):
        pub.publish(src, url, RID)
    dry = pub.publish(src, url, RID, force=True, dry_run=True, echo=lambda s: None)
    assert any(ln.startswith("replace ") for ln in dry.plan)


def test_http_dropped_connection_keeps_mirror_and_rerun_completes(
        src: Path, dav: DavServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    url = dav.url + "mirror/"
    www = dav.state.root / "mirror"
    pub.publish(src, url, RID)  # the previous release
    previous = tree(www / RID)
    src2 = make_release(tmp_path / "repo", RID2)

    dav.state.puts, dav.state.drop_put = 0, 4  # the 4th upload breaks off half-way
    with pytest.raises(PublishError, match=r"PUT .* failed"):
        pub.publish(src2, url, RID2)
    assert ("PUT", next(p for m, p, c in dav.state.log if c == -1), -1) in dav.state.log
    assert tree(www / RID) == previous  # previous release intact
    assert not (www / RID2).exists()  # nothing under the final name
    staging = [e for e in os.listdir(www) if e.startswith(f".staging-{RID2}-")]
    assert staging == []  # the partial upload was in staging, removed again after the failure (issue 25)

    dav.state.drop_put = None
    pub.publish(src2, url, RID2)  # the rerun completes
    assert same_tree(src2, www / RID2) and tree(www / RID) == previous
    assert sorted(os.listdir(www)) == [RID, RID2]  # stale staging removed


def test_http_forced_replace_survives_drop(src: Path, dav: DavServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    url = dav.url + "mirror/"
    www = dav.state.root / "mirror"
    pub.publish(src, url, RID)
    src2 = make_release(tmp_path / "repo2", RID, salt="rebuilt")
    dav.state.puts, dav.state.drop_put = 0, 9  # the last file
    with pytest.raises(PublishError):
        pub.publish(src2, url, RID, force=True)
    assert same_tree(src, www / RID)
    dav.state.drop_put = None
    assert pub.publish(src2, url, RID, force=True).replaced
    assert same_tree(src2, www / RID) and os.listdir(www) == [RID]


def test_http_verification_catches_corruption(src: Path, dav: DavServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    dav.state.corrupt = ("el6.x86_64.rpm",)
    with pytest.raises(PublishError, match="on the mirror differs from SHA256SUMS"):
        pub.publish(src, dav.url + "mirror/", RID)
    assert not (dav.state.root / "mirror" / RID).exists()


def test_http_credentials_env_and_netrc(src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    www = tmp_path / "www"
    (www / "mirror").mkdir(parents=True)
    netrc_file = tmp_path / "netrc"
    monkeypatch.setenv("NETRC", str(netrc_file))
    monkeypatch.delenv(tg.ENV_USER, raising=False)
    monkeypatch.delenv(tg.ENV_PASSWORD, raising=False)
    log = tmp_path / "http.log"
    with DavServer(DavState(root=www, auth=("uploader", "s3cret-pw"))) as server:
        url = server.url + "mirror/"
        with pytest.raises(PublishError, match=r"HTTP 401.*PMREPO_PUBLISH_USER") as err:
            pub.publish(src, url, RID, log=log)
        monkeypatch.setenv(tg.ENV_USER, "uploader")
        monkeypatch.setenv(tg.ENV_PASSWORD, "s3cret-pw")
        puts = len(server.state.log)
        with pytest.raises(PublishError, match=r"credentials \(environment\) would be sent in clear text over http:// "
                                               r"to 127\.0\.0\.1 — fix: use an https:// URL, "
                                               r"or pass --allow-insecure-auth") as plain:
            pub.publish(src, url, RID, log=log)
        assert len(server.state.log) == puts and "s3cret" not in str(plain.value)  # nothing was sent
        # allow_insecure_auth (--allow-insecure-auth) below: this test's server is http
        monkeypatch.setenv(tg.ENV_PASSWORD, "wrong")
        with pytest.raises(PublishError, match=r"HTTP 401.*environment"):
            pub.publish(src, url, RID, log=log, allow_insecure_auth=True)
        monkeypatch.setenv(tg.ENV_PASSWORD, "s3cret-pw")
        pub.publish(src, url, RID, log=log, allow_insecure_auth=True)
        monkeypatch.delenv(tg.ENV_USER)
        monkeypatch.delenv(tg.ENV_PASSWORD)
        netrc_file.write_text("machine 127.0.0.1 login uploader password s3cret-pw\n")
        netrc_file.chmod(0o600)
        src2 = make_release(tmp_path / "repo2", RID2)
        pub.publish(src2, url, RID2, log=log, allow_insecure_auth=True)
    assert same_tree(src, www / "mirror" / RID) and same_tree(src2, www / "mirror" / RID2)
    assert "s3cret" not in log.read_text() and "s3cret" not in str(err.value)
