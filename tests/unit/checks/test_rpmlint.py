"""The rpmlint gate's parser of rpmlint's output (colour codes, spec line numbers, severities)."""

from __future__ import annotations

from pmrepo.checks.base import Severity
from pmrepo.checks.rpmlint import parse_output

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
