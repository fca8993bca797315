"""The one way an input file is opened (``fsutil.open_regular``) at the unit layer (issue 33): each kind
of special file refused by its name, a symlink refused unless followed, a FIFO or symlink swapped in
after the check caught on the open descriptor without blocking, no descriptor left behind, the file
handed back blocking. (tests/integration/test_trust_special_files.py drives the same through the pipeline.)"""
from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from pmrepo import fsutil
from pmrepo.fsutil import NotRegularFileError, check_regular, file_kind, open_regular, read_regular


@pytest.mark.parametrize("mode,kind", [
    (stat.S_IFREG, "a regular file"), (stat.S_IFDIR, "a directory"), (stat.S_IFLNK, "a symlink"),
    (stat.S_IFIFO, "a FIFO"), (stat.S_IFSOCK, "a socket"), (stat.S_IFBLK, "a block device"),
    (stat.S_IFCHR, "a character device"), (0, "a special file"),
])
def test_file_kinds_are_named(mode: int, kind: str) -> None:
    assert file_kind(mode | 0o644) == kind


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    reg = tmp_path / "reg"
    reg.write_bytes(b"data\n")
    (tmp_path / "link").symlink_to(reg)
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    sock.close()
    return {p.name: p for p in tmp_path.iterdir()}


@pytest.mark.parametrize("name,kind", [("dir", "a directory"), ("fifo", "a FIFO"), ("sock", "a socket"),
                                       ("link", "a symlink")])
def test_special_files_and_symlinks_are_refused_by_default(files: dict[str, Path], name: str, kind: str) -> None:
    for call in (open_regular, read_regular, check_regular):
        with pytest.raises(NotRegularFileError) as err:
            call(files[name])
        assert str(err.value) == f"{files[name]}: {kind}, not a regular file" and err.value.kind == kind


def test_a_character_device_is_refused() -> None:
    with pytest.raises(NotRegularFileError, match="a character device, not a regular file"):
        read_regular(Path("/dev/null"), follow=True)


def test_a_regular_file_and_a_followed_symlink_are_read(files: dict[str, Path]) -> None:
    assert read_regular(files["reg"]) == b"data\n"
    assert read_regular(files["link"], follow=True) == b"data\n"
    check_regular(files["reg"])
    with open_regular(files["reg"]) as fh:
        assert os.get_blocking(fh.fileno()) and fh.read() == b"data\n"
    assert fsutil.sha256_file(files["link"]) == fsutil.sha256_file(files["reg"])  # digests follow symlinks


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _regular_once(monkeypatch: pytest.MonkeyPatch, like: Path) -> None:
    """The first lstat (open_regular's check) sees a regular file: the file is replaced just after it."""
    real, calls = os.lstat, []
    regular = real(like)

    def lstat(path: object) -> os.stat_result:
        calls.append(path)
        return regular if len(calls) == 1 else real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(fsutil.os, "lstat", lstat)


def test_a_fifo_swapped_in_after_the_check_is_refused_without_blocking(files: dict[str, Path],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """lstat said regular (the file was replaced after it): the open does not wait for a writer
    (O_NONBLOCK) and fstat on the descriptor refuses it; the descriptor is closed."""
    _regular_once(monkeypatch, files["reg"])
    before = _open_fds()
    with pytest.raises(NotRegularFileError, match="a FIFO, not a regular file"):
        open_regular(files["fifo"])
    assert _open_fds() == before


def test_a_symlink_swapped_in_after_the_check_is_refused(files: dict[str, Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _regular_once(monkeypatch, files["reg"])
    with pytest.raises(NotRegularFileError, match=r"a symlink \(it changed while being opened\)"):
        open_regular(files["link"])
    with pytest.raises(FileNotFoundError):  # any other error of the open passes through
        open_regular(files["reg"].parent / "missing")


def test_a_file_removed_after_the_check_is_not_called_a_symlink(files: dict[str, Path],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _regular_once(monkeypatch, files["reg"])
    with pytest.raises(FileNotFoundError):
        open_regular(files["reg"].parent / "gone")
