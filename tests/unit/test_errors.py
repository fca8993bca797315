"""pmrepo.errors: one hierarchy rooted in PmrepoError, every error one line (with its fix), the
summary line picked from a command's output tail, an OSError named by its step."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from pmrepo import errors
from pmrepo.errors import (
    BuildError,
    CommandError,
    FileSystemError,
    ManifestError,
    PmrepoError,
    UsageError,
    describe_os_error,
    step,
    summary_line,
)


def test_error_lines() -> None:
    tail = (
        "+ make\ncc -o demod demod.c\ndemod.c:3: error: 'x' undeclared\nmake: *** [demod] Error 1\n"
        "error: Bad exit status from /var/tmp/rpm-tmp.1 (%build)\n\nRPM build errors:\n"
    )
    assert summary_line(tail) == "make: *** [demod] Error 1"
    assert summary_line("") == "no output"
    err = CommandError(["rpmbuild", "-bb", "x.spec"], 1, Path("/w/build.log"), tail)
    assert str(err) == "rpmbuild exited 1 (log: /w/build.log): make: *** [demod] Error 1"
    merr = ManifestError("/m/r.toml", "components.x.version", "contains '~'", "write 1.0")
    assert str(merr) == "/m/r.toml: components.x.version: contains '~' — fix: write 1.0" and merr.exit_code == 2


def test_summary_line_without_an_error_word_is_the_last_meaningful_line() -> None:
    assert summary_line("building\nwrote x.rpm\n\n# exit: 1\n") == "wrote x.rpm"
    assert summary_line("Error: nothing provides libfoo\ntry to add '--skip-broken'\n") == (
        "Error: nothing provides libfoo"
    )
    assert summary_line("\n\n# cwd: /tmp\n") == "no output"  # only boilerplate


def test_command_error_without_a_log_and_its_fields() -> None:
    err = CommandError(["createrepo_c", "."], 2, None, "oops: permission denied\n")
    assert str(err) == "createrepo_c exited 2: oops: permission denied"
    assert (err.argv, err.returncode, err.log, err.exit_code) == (["createrepo_c", "."], 2, None, 1)


def test_every_error_class_is_a_pmrepo_error_with_an_exit_code() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    assert len(classes) >= 20
    for cls in classes:
        assert issubclass(cls, PmrepoError), cls
        assert cls.exit_code in (1, 2), cls
    assert (ManifestError.exit_code, UsageError.exit_code, PmrepoError.exit_code) == (2, 2, 1)
    assert issubclass(errors.UnpinnedSourceError, errors.SourceError)


def test_build_error_carries_its_log_and_tail() -> None:
    err = BuildError("libdemo (el7) failed", Path("/w/log"), "tail")
    assert (str(err), err.log, err.tail) == ("libdemo (el7) failed", Path("/w/log"), "tail")


def test_os_error_names_the_step_path_and_fix() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/w/x")
    assert describe_os_error(full, "assemble el7") == (
        "assemble el7: /w/x: No space left on device — fix: free space on the file system holding /w/x, then rerun"
    )
    denied = OSError(errno.EACCES, "Permission denied", "/a", None, "/b")
    assert describe_os_error(denied) == "/a → /b: Permission denied — fix: check that the path exists and is writable"
    quota = OSError(errno.EDQUOT, "Disk quota exceeded")  # no file name
    assert describe_os_error(quota) == (
        "Disk quota exceeded — fix: free space on the file system holding the work and output directories, then rerun"
    )


def test_a_shutil_error_names_its_first_failure_and_how_many_more() -> None:
    one = shutil.Error([("a", "b", "[Errno 28] No space left on device")])
    assert describe_os_error(one, "copy") == (
        "copy: copying a to b failed: [Errno 28] No space left on device — fix: free space there"
    )
    many = shutil.Error([("a", "b", "[Errno 13] Permission denied"), ("c", "d", "x"), ("e", "f", "y")])
    assert describe_os_error(many) == (
        "copying a to b failed: [Errno 13] Permission denied (+2 more) — fix: check that the path is writable"
    )


def test_step_turns_an_os_error_into_one_line_and_lets_others_through() -> None:
    with pytest.raises(FileSystemError) as exc, step("render"):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/w/spec")
    assert (
        str(exc.value) == "render: /w/spec: No such file or directory — fix: check that the path exists and is writable"
    )
    assert exc.value.__cause__ is None and exc.value.__suppress_context__  # no traceback chain for the CLI
    with pytest.raises(ValueError, match="not an OSError"), step("render"):
        raise ValueError("not an OSError")
    with step("quiet"):
        pass  # nothing raised: nothing changed
