"""The closure gate's pure parts: dnf repoclosure's output parsed, yum variables in base URLs."""

from __future__ import annotations

from pathlib import Path

from pmrepo.checks.closure import expand_url, parse_repoclosure

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
