"""Every parser of another tool's output or of a file format, on recorded-style text."""
from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo.builders.mock.options import mock_options
from pmrepo.checks.base import Severity
from pmrepo.checks.closure import expand_url, parse_repoclosure
from pmrepo.checks.rpmlint import parse_output
from pmrepo.checksums import read_sha256sums, render
from pmrepo.errors import PublishError, UsageError
from pmrepo.sign.signer import _parse_rpm_kv

RPMLINT = """\
\x1b[1mlibdemo.x86_64: E: library-without-ldconfig-postin /usr/lib64/libdemo.so.1\x1b[0m
demod.x86_64: W: no-manual-page-for-binary demod
demo.spec:12: W: macro-in-comment %install
demo-tools.noarch: I: checking
libdemo.src: E: no-signature
2 packages and 1 specfiles checked; 2 errors, 2 warnings, 0 badness; has taken 0.4 s
"""


def test_rpmlint_output() -> None:
    msgs = parse_output(RPMLINT)
    assert [(m.who, m.lineno, m.severity, m.id) for m in msgs] == [
        ("libdemo.x86_64", None, Severity.ERROR, "library-without-ldconfig-postin"),
        ("demod.x86_64", None, Severity.WARNING, "no-manual-page-for-binary"),
        ("demo.spec", 12, Severity.WARNING, "macro-in-comment"),
        ("demo-tools.noarch", None, Severity.INFO, "checking"),
        ("libdemo.src", None, Severity.ERROR, "no-signature"),
    ]
    assert msgs[0].detail == "/usr/lib64/libdemo.so.1" and msgs[4].detail == ""


REPOCLOSURE = """\
Last metadata expiration check: 0:00:01 ago.
package: demod-1.0-1.el7.x86_64 from pmrepo-demo
  unresolved deps (2):
    libdemo.so.1()(64bit)
    demo-units = 1.0-1.el7
package: demo-all-1.0-1.el7.noarch from pmrepo-demo
  unresolved deps (1):
    psmisc
Error: Repoclosure ended with unresolved dependencies.
"""


def test_repoclosure_output() -> None:
    got = parse_repoclosure(REPOCLOSURE)
    assert [(u.nevra, u.repo, u.requires) for u in got] == [
        ("demod-1.0-1.el7.x86_64", "pmrepo-demo", ("libdemo.so.1()(64bit)", "demo-units = 1.0-1.el7")),
        ("demo-all-1.0-1.el7.noarch", "pmrepo-demo", ("psmisc",)),
    ]
    assert parse_repoclosure("Last metadata expiration check: now\n") == []


def test_yum_variables_in_base_urls() -> None:
    assert expand_url("http://v/7.9/os/$basearch/", "x86_64", 7) == "http://v/7.9/os/x86_64/"
    assert expand_url("http://v/${releasever}/$arch", "x86_64", 6) == "http://v/6/x86_64"
    assert expand_url("some/dir", "x86_64", 7) == str(Path("some/dir").resolve())


def test_sha256sums_round_trip_and_refusals(tmp_path: Path) -> None:
    sums = {"el7/a.rpm": "a" * 64, "RELEASE-NOTES.en.md": "b" * 64}
    path = tmp_path / "SHA256SUMS"
    path.write_text(render(sums))
    assert read_sha256sums(path) == sums
    for text, why in [("zz  a.rpm\n", "not a sha256sum line"), (f"{'a' * 64}  ../etc/passwd\n", "not a plain relative"),
                      (f"{'a' * 64}  x\n{'b' * 64}  x\n", "listed twice")]:
        path.write_text(text)
        with pytest.raises(PublishError, match=why):
            read_sha256sums(path)


RPM_KV = """\
/r/good.rpm:
    Header V4 RSA/SHA256 Signature, key ID c74c8dd2: OK
    Header SHA256 digest: OK
    Payload SHA256 digest: OK
/r/unsigned.rpm:
    Header SHA256 digest: OK
    Payload SHA256 digest: OK
/r/other.rpm:
    Header V4 RSA/SHA256 Signature, key ID 0badcafe: OK
    Header SHA256 digest: OK
/r/broken.rpm:
    Header V4 RSA/SHA256 Signature, key ID c74c8dd2: OK
    Payload SHA256 digest: BAD (Expected 1 != 2)
"""


def test_rpm_kv_verdicts() -> None:
    paths = ["/r/good.rpm", "/r/unsigned.rpm", "/r/other.rpm", "/r/broken.rpm", "/r/missing.rpm"]
    got = {c.path: (c.ok, c.reason) for c in _parse_rpm_kv(RPM_KV, paths, {"c74c8dd2"})}
    assert got["/r/good.rpm"] == (True, "OK")
    assert got["/r/unsigned.rpm"] == (False, "not signed")
    assert got["/r/other.rpm"] == (False, "signed by key 0badcafe, not by c74c8dd2")
    assert got["/r/broken.rpm"][0] is False and "BAD" in got["/r/broken.rpm"][1]
    assert got["/r/missing.rpm"] == (False, "rpm could not read it")


def test_mock_options() -> None:
    assert mock_options(["isolation=simple", "keep_roots=1", "mirror.base=http://m/", "mock_cmd=/x/mock"]) == {
        "isolation": "simple", "keep_roots": True, "mock_cmd": "/x/mock", "mirrors": {"base": "http://m/"}}
    for bad, why in [("isolation", "expected KEY=VALUE"), ("isolation=chroot", "simple or nspawn"),
                     ("ccache=yes", "expected 0 or 1"), ("colour=red", "unknown option")]:
        with pytest.raises(UsageError, match=why):
            mock_options([bad])


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


def test_mock_log_tail_stops_at_mocks_epilogue(tmp_path: Path) -> None:
    from pmrepo.builders.mock.builder import explaining_tail

    log = tmp_path / "build.log"
    log.write_text("Executing(%build)\n+ make\ndemod.c:3: error: 'x' undeclared\nmake: *** [demod] Error 1\n"
                   "Child return code was: 1\nEXCEPTION: [Error('Command failed')]\nTraceback (most recent call last):\n")
    tail, line = explaining_tail(log)
    assert "Child return code" not in tail and "Traceback" not in tail
    assert line in ("make: *** [demod] Error 1", "demod.c:3: error: 'x' undeclared")
    assert explaining_tail(tmp_path / "missing.log") == ("", "no output")
