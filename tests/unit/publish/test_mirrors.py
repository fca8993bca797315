"""What publish lets through as a name (issue 33): the one-component names the mirror targets touch,
the relative names of ``SHA256SUMS``, the staging and old-release names a rerun cleans up, and the
file helpers every step shares (atomic writes, digests) — each refusal and each acceptance at its edge."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pmrepo import checksums, fsutil
from pmrepo.errors import PmrepoError, PublishError
from pmrepo.publish import mirrors as publish_targets
from pmrepo.publish.mirrors import RELEASE_ID_RE, TOKEN_HEX, _check_name, _check_rel, old_re, staging_re, staging_token

# -- names under the mirror root -------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "/", "a/b", ".", "..", "a\0b", "/etc"])
def test_a_root_entry_is_one_path_component(name: str) -> None:
    with pytest.raises(PublishError, match="not a single path component"):
        _check_name(name)


@pytest.mark.parametrize("name", ["a", ".staging-demo-1-0123456789ab", "...", "a..b", "-x"])
def test_plain_components_pass(name: str) -> None:
    assert _check_name(name) == name


@pytest.mark.parametrize("rel", ["", "/etc/passwd", "../x", "a/../../x", ".", "a/.."])
def test_a_sums_name_is_plain_and_relative(rel: str) -> None:
    with pytest.raises(PublishError, match="not a plain relative file name"):
        _check_rel(rel)


# ("./a" and "a/./b": pathlib drops the "." step, and the name stays inside the staging directory)
@pytest.mark.parametrize("rel", ["SHA256SUMS", "el7/x.rpm", "a..b/c", "el7/gates/rpmlint.txt", "./a", "a/./b"])
def test_plain_relative_names_pass(rel: str) -> None:
    assert _check_rel(rel) == rel


def test_the_staging_and_old_names_are_the_releases_own() -> None:
    token = staging_token()
    assert len(token) == TOKEN_HEX == 12 and all(c in "0123456789abcdef" for c in token)
    assert staging_token() != token  # random, never reused
    st, old = staging_re("demo-1.0-1"), old_re("demo-1.0-1")
    assert st.match(f".staging-demo-1.0-1-{token}") and old.match(f".old-demo-1.0-1-{token}")
    for other in (f".staging-demo-1.0-10-{token}", f".staging-demoX1.0-1-{token}", f".staging-demo-1.0-1-{token}0",
                  f".staging-demo-1.0-1-{token[:-1]}", f".staging-demo-1.0-1-{token.upper()}",
                  f"x.staging-demo-1.0-1-{token}",
                  f".old-demo-1.0-1-{token}"):
        assert not st.match(other), other  # another release's (or no release's) entry is never touched
    assert not old.match(f".staging-demo-1.0-1-{token}") and not old.match(f".old-demo-1.0-1-{token}/x")


@pytest.mark.parametrize("rid,ok", [("demo-repo-1.0-1", True), ("a", True), ("1.0_x+y", True), ("", False),
                                    ("-rf", False), (".hidden", False), ("a/b", False), ("a b", False),
                                    ("a\n", False), ("a;b", False), ("日本", False), ("Demo-Repo-1.0-1", True),
                                    ("demo-REPO-1", True), (" demo", False), ("demo ", False)])
def test_release_ids(rid: str, ok: bool) -> None:
    assert bool(RELEASE_ID_RE.match(rid)) is ok


# -- SHA256SUMS ------------------------------------------------------------------------------

DIGEST = hashlib.sha256(b"x").hexdigest()


def _sums(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "SHA256SUMS"
    path.write_text(text)
    return path


@pytest.mark.parametrize("line,problem", [
    (f"{DIGEST}  /etc/passwd", "not a plain relative name"),
    (f"{DIGEST}  ../x", "not a plain relative name"),
    (f"{DIGEST}  a/../../x", "not a plain relative name"),
    (f"{DIGEST}  ./a", "not a plain relative name"),
    (f"{DIGEST[:-1]}  a", "not a sha256sum line"),
    (f"{DIGEST}0  a", "not a sha256sum line"),
    (f"{DIGEST} a", "not a sha256sum line"),
    (f"{DIGEST}  ", "not a sha256sum line"),
    (f"{'g' * 64}  a", "not a sha256sum line"),
])
def test_a_sums_line_that_could_reach_outside_or_is_malformed_is_refused(tmp_path: Path, line: str,
                                                                          problem: str) -> None:
    with pytest.raises(PublishError, match=f"SHA256SUMS:2: .*{problem}"):
        checksums.read_sha256sums(_sums(tmp_path, f"{DIGEST}  ok\n{line}\n"))


def test_sums_lines_read_back(tmp_path: Path) -> None:
    path = _sums(tmp_path, f"\n{DIGEST.upper()} *el7/a b.rpm\n{DIGEST}  a..b\n")
    assert checksums.read_sha256sums(path) == {"el7/a b.rpm": DIGEST, "a..b": DIGEST}
    with pytest.raises(PublishError, match="'a' is listed twice"):
        checksums.read_sha256sums(_sums(tmp_path, f"{DIGEST}  a\n{DIGEST}  a\n"))

    class Other(PmrepoError):
        pass

    with pytest.raises(Other, match="cannot read"):
        checksums.read_sha256sums(tmp_path / "missing", error=Other)


def test_write_and_verify_round_trip(tmp_path: Path) -> None:
    (tmp_path / "el7").mkdir()
    (tmp_path / "el7" / "x.rpm").write_bytes(b"x")
    (tmp_path / "notes.md").write_bytes(b"")
    (tmp_path / "SHA256SUMS.asc").write_bytes(b"sig")  # never listed
    path = checksums.write_sha256sums(tmp_path)
    assert path.read_text() == f"{DIGEST}  el7/x.rpm\n{hashlib.sha256(b'').hexdigest()}  notes.md\n"
    assert checksums.verify_sha256sums(tmp_path) == {"el7/x.rpm": DIGEST, "notes.md": hashlib.sha256(b"").hexdigest()}
    assert checksums.list_files(tmp_path) == ["el7/x.rpm", "notes.md"]
    (tmp_path / "el7" / "x.rpm").write_bytes(b"y")
    with pytest.raises(PublishError, match=r"x\.rpm: sha256 .* differs from SHA256SUMS"):
        checksums.verify_sha256sums(tmp_path)
    (tmp_path / "el7" / "x.rpm").unlink()
    with pytest.raises(PublishError, match=r"x\.rpm: listed in SHA256SUMS but missing"):
        checksums.verify_sha256sums(tmp_path)


def test_only_names_inside_the_directory_are_listed(tmp_path: Path) -> None:
    (tmp_path / "rel").mkdir()
    (tmp_path / "outside").write_text("x")
    with pytest.raises(PublishError, match="not inside"):
        checksums.write_sha256sums(tmp_path / "rel", [tmp_path / "outside"])
    with pytest.raises(PublishError, match="not inside"):
        checksums.write_sha256sums(tmp_path / "rel", ["../outside"])
    (tmp_path / "rel" / "a\\b").write_text("x")
    with pytest.raises(PublishError, match="newline or backslash"):
        checksums.write_sha256sums(tmp_path / "rel")
    with pytest.raises(PublishError, match="no such file"):
        checksums.write_sha256sums(tmp_path / "rel", ["nope"])
    with pytest.raises(PublishError, match="not a directory"):
        checksums.write_sha256sums(tmp_path / "nope")


# -- the shared file helpers -------------------------------------------------------------------


def test_write_atomic_replaces_whole_with_0644_and_leaves_no_temporary(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        target = tmp_path / "new" / "dir" / "f.txt"
        fsutil.write_atomic(target, "text")
        assert target.read_text() == "text" and target.stat().st_mode & 0o777 == 0o644
        fsutil.write_atomic(target, b"\x00bytes")
        assert target.read_bytes() == b"\x00bytes"
        assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]
    finally:
        os.umask(old)


def test_write_atomic_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f"
    target.write_text("old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fsutil.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        fsutil.write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f"]


def test_sha256_file_reads_every_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(3 * 1024 + 5)
    (tmp_path / "f").write_bytes(data)
    monkeypatch.setattr(fsutil, "_CHUNK", 1024)
    assert fsutil.sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()
    (tmp_path / "e").write_bytes(b"")
    assert fsutil.sha256_file(tmp_path / "e") == hashlib.sha256(b"").hexdigest()
    assert publish_targets.sha256_file is fsutil.sha256_file


@pytest.mark.parametrize("kind", ["staging", "old"])
def test_a_cleanup_name_is_exactly_dot_kind_release_token(kind: str) -> None:
    """What a rerun deletes: `.staging-<release>-<12 hex>` / `.old-…` and nothing that looks alike."""
    pattern = (staging_re if kind == "staging" else old_re)("demo-1.0-1")
    good = f".{kind}-demo-1.0-1-0123456789ab"
    assert pattern.match(good)
    for bad in (f"x{kind}-demo-1.0-1-0123456789ab", f"_{kind}-demo-1.0-1-0123456789ab",
                f".{kind}-demo-1.0-1-0123456789a ", f".{kind}-demo-1.0-1-01234-6789ab",
                f".{kind}-demo-1.0-1-0123456789AB",
                f".{kind}-demo-1.0-1-0123456789ab\n", f".{kind}-demo-1.0-1-0123456789abc",
                f".{kind}-demo-1.0-1-0123456789a"):
        assert not pattern.match(bad), bad


@pytest.mark.parametrize("line", [f"{'-' * 64}  a", f"{' ' * 64}  a", f"{DIGEST} -a", f"{DIGEST}-*a"])
def test_a_sums_line_has_hex_then_one_space_and_a_space_or_star(tmp_path: Path, line: str) -> None:
    with pytest.raises(PublishError, match="SHA256SUMS:1: not a sha256sum line"):
        checksums.read_sha256sums(_sums(tmp_path, line + "\n"))


def test_an_unreadable_sums_file_says_why(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "latin1").write_bytes(b"\xe9\n")
    for path, why in [(tmp_path / "missing", "No such file or directory"), (tmp_path / "dir", "a directory"),
                      (tmp_path / "latin1", "not UTF-8")]:
        with pytest.raises(PublishError) as err:
            checksums.read_sha256sums(path)
        assert str(err.value) == f"{path}: cannot read ({why}) — fix: run the checksum step (write_sha256sums)"


def test_a_changed_file_is_named_with_both_digests_short(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    checksums.write_sha256sums(tmp_path)
    (tmp_path / "f").write_bytes(b"y")
    actual = hashlib.sha256(b"y").hexdigest()
    with pytest.raises(PublishError) as err:
        checksums.verify_sha256sums(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'f'}: sha256 {actual[:16]}… differs from SHA256SUMS ({DIGEST[:16]}…) — "
                              "fix: rebuild the release or regenerate SHA256SUMS")


def test_publish_target_urls(tmp_path: Path) -> None:
    from pmrepo.publish.mirrors import DirTarget, HttpTarget, RsyncTarget, make_target

    assert isinstance(make_target(str(tmp_path)), DirTarget)
    assert isinstance(make_target(f"file://{tmp_path}"), DirTarget)
    ssh = make_target("ssh://rel@mirror.example:2222/srv/pm/")
    assert isinstance(ssh, RsyncTarget) and (ssh.remote, ssh.port, ssh.root) == ("rel@mirror.example", 2222, "/srv/pm")
    assert isinstance(make_target("https://mirror.example/pm/"), HttpTarget)
    for bad, why in [("", "empty publish target"), ("file://host/x", "must be local"), ("ssh://u:pw@h/x", "password"),
                     ("ssh:///x", "no host"), ("ftp://h/x", "unsupported publish target scheme")]:
        with pytest.raises(PublishError, match=why):
            make_target(bad)
