"""The one exception hierarchy's messages: a failed command's one line from its log's tail, and a
manifest error naming file, field and fix."""

from __future__ import annotations

from pathlib import Path

from pmrepo.errors import CommandError, ManifestError, summary_line


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
