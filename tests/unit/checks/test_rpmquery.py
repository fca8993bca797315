"""The one reader of ``rpm -qp --qf``: the query format it builds, the tagged lines it parses (rpm's
own warnings between them dropped), and on it one package's header, the files of packages and
their dependencies (rpm is faked: its recorded-style answer is given, the command line checked)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from pmrepo.checks import rpmquery
from pmrepo.checks.rpmquery import RpmHeader, RpmRequire, package_deps, packaged_files, query, query_rpm
from pmrepo.errors import GateError, InstallCheckError, PmrepoError
from pmrepo.run import Result


class FakeRpm:
    """``run`` as rpmquery calls it: records argv, log and error type; answers ``output``."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.calls: list[tuple[list[str], Path | None, type[PmrepoError]]] = []

    def __call__(self, argv: Sequence[str], *, log_file: Path | None = None, error: type[PmrepoError]) -> Result:
        self.calls.append((list(argv), log_file, error))
        return Result(list(argv), 0, self.output, log_file)


@pytest.fixture
def rpm(monkeypatch: pytest.MonkeyPatch) -> FakeRpm:
    fake = FakeRpm("")
    monkeypatch.setattr(rpmquery, "run", fake)
    return fake


def test_query_builds_one_format_with_scalars_then_arrays(rpm: FakeRpm, tmp_path: Path) -> None:
    scalars, arrays = {"NAME": "%{NAME}", "V": "%{VERSION}"}, {"F": "%{FILENAMES}"}
    query([Path("/r/a.rpm"), Path("/r/b.rpm")], scalars, arrays, log=tmp_path / "q.log", error=InstallCheckError)
    argv, log, error = rpm.calls[0]
    qf = "@@\\n@NAME=%{NAME}\\n@V=%{VERSION}\\n[@F=%{FILENAMES}\\n]"
    assert argv == ["rpm", "-qp", "--nosignature", "--nodigest", "--qf", qf, "/r/a.rpm", "/r/b.rpm"]
    assert (log, error) == (tmp_path / "q.log", InstallCheckError)
    query([Path("/r/a.rpm")], {"NAME": "%{NAME}"})
    assert rpm.calls[1][0][5] == "@@\\n@NAME=%{NAME}\\n" and rpm.calls[1][2] is GateError  # no arrays; the default


def test_query_parses_one_record_per_package_and_drops_rpms_own_lines(rpm: FakeRpm) -> None:
    rpm.output = (
        "@NAME=before-any-record\n"  # no record started yet: dropped
        "@@\n@NAME=a\n@F=/etc/a.conf\n@F=/usr/bin/a\n"
        "warning: /r/b.rpm: Header V4 RSA/SHA256 Signature, key ID 0badcafe: NOKEY\n"
        "@@\n@NAME=b\n@DESC=x=y=z\n@EMPTY=\n@novalue\n"
    )
    got = query([Path("/r/a.rpm"), Path("/r/b.rpm")], {"NAME": "%{NAME}"})
    assert got == [
        {"NAME": ["a"], "F": ["/etc/a.conf", "/usr/bin/a"]},
        {"NAME": ["b"], "DESC": ["x=y=z"], "EMPTY": [""]},
    ]
    rpm.output = "error: open of /r/c.rpm failed: No such file or directory\n"
    assert query([Path("/r/c.rpm")], {"NAME": "%{NAME}"}) == []


HEADER = """\
@@
@NAME=demod
@EPOCHNUM=2
@VERSION=1.0
@RELEASE=3.el7
@PAYLOADCOMPRESSOR=xz
@PAYLOADFORMAT=cpio
@FILEDIGESTALGO=8
@ARCH=x86_64
@REQUIRE=libdemo\t=\t1.2-1.el7
@REQUIRE=/bin/sh\t\t
@REQUIRE=rpmlib(PayloadIsXz)\t<=\t5.2-1
"""


def test_query_rpm_reads_the_header_the_gates_need(rpm: FakeRpm, tmp_path: Path) -> None:
    rpm.output = HEADER
    hdr = query_rpm(Path("/r/demod.rpm"), log=tmp_path / "h.log")
    assert hdr == RpmHeader(
        path=Path("/r/demod.rpm"),
        name="demod",
        epoch=2,
        version="1.0",
        release="3.el7",
        arch="x86_64",
        payload_compressor="xz",
        payload_format="cpio",
        file_digest_algo=8,
        requires=(
            RpmRequire("libdemo", "=", "1.2-1.el7"),
            RpmRequire("/bin/sh", "", ""),
            RpmRequire("rpmlib(PayloadIsXz)", "<=", "5.2-1"),
        ),
    )
    assert (hdr.key, hdr.nevra) == ("demod.x86_64", "demod-2:1.0-3.el7.x86_64")
    assert [str(r) for r in hdr.requires] == ["libdemo = 1.2-1.el7", "/bin/sh", "rpmlib(PayloadIsXz) <= 5.2-1"]
    qf = rpm.calls[0][0][5]
    assert "@ARCH=%|SOURCEPACKAGE?{src}:{%{ARCH}}|\\n" in qf  # an SRPM's arch is "src"
    assert "[@REQUIRE=%{REQUIRENAME}\\t%{REQUIREFLAGS:depflags}\\t%{REQUIREVERSION}\\n]" in qf
    assert rpm.calls[0][1] == tmp_path / "h.log"


def test_absent_tags_read_as_rpms_defaults(rpm: FakeRpm) -> None:
    """``(none)`` is how rpm prints an absent tag: no epoch, no payload tags, no file digests."""
    rpm.output = (
        "@@\n@NAME=demo-all\n@EPOCHNUM=(none)\n@VERSION=1.0\n@RELEASE=1\n@PAYLOADCOMPRESSOR=(none)\n"
        "@PAYLOADFORMAT=(none)\n@FILEDIGESTALGO=(none)\n@ARCH=src\n@REQUIRE=x\t(none)\t(none)\n"
    )
    hdr = query_rpm(Path("demo-all.src.rpm"))
    assert (hdr.epoch, hdr.payload_compressor, hdr.payload_format, hdr.file_digest_algo) == (0, "", "", None)
    assert hdr.requires == (RpmRequire("x", "", ""),) and hdr.nevra == "demo-all-1.0-1.src"
    rpm.output = "@@\n@NAME=x\n@REQUIRE=only-a-name\n"  # the fields rpm did not print: empty
    hdr = query_rpm(Path("x.rpm"))
    assert (hdr.version, hdr.arch, hdr.requires) == ("", "", (RpmRequire("only-a-name", "", ""),))


@pytest.mark.parametrize("output", ["", "warning: x.rpm: not an rpm package\n", "@@\n@VERSION=1\n"])
def test_a_header_rpm_could_not_read_is_one_line_with_the_fix(rpm: FakeRpm, output: str) -> None:
    rpm.output = output
    with pytest.raises(GateError) as err:
        query_rpm(Path("/r/x.rpm"))
    assert str(err.value) == "/r/x.rpm: rpm could not read the package header — fix: rebuild it"


def test_packaged_files_digest_only_regular_files(rpm: FakeRpm) -> None:
    rpm.output = (
        "@@\n@NAME=demo-repo\n"
        "@FILE=/etc/yum.repos.d/pmrepo-demo.repo\tab12\t-rw-r--r--\n"
        "@FILE=/opt/pmrepo-demo/demo\t\tdrwxr-xr-x\n"
        "@FILE=/opt/pmrepo-demo/link\t\tlrwxrwxrwx\n"
        "@FILE=/opt/pmrepo-demo/demo/rpm/a.rpm\tcd34\t-rw-r--r--\n"
        "@FILE=a malformed entry\n"
        "@@\n@NAME=demo-repo-src\n@FILE=/opt/pmrepo-demo/demo-src/rpm/a.src.rpm\tef56\t-rw-r--r--\n"
        "@@\n@FILE=/no/name\tff\t-rw-r--r--\n"  # a record without its NAME: skipped
    )
    got = packaged_files([Path("a.rpm"), Path("b.rpm")], error=InstallCheckError)
    assert got == {
        "/etc/yum.repos.d/pmrepo-demo.repo": ("demo-repo", "ab12"),
        "/opt/pmrepo-demo/demo": ("demo-repo", ""),
        "/opt/pmrepo-demo/link": ("demo-repo", ""),
        "/opt/pmrepo-demo/demo/rpm/a.rpm": ("demo-repo", "cd34"),
        "/opt/pmrepo-demo/demo-src/rpm/a.src.rpm": ("demo-repo-src", "ef56"),
    }
    argv, _, error = rpm.calls[0]
    assert "[@FILE=%{FILENAMES}\\t%{FILEDIGESTS}\\t%{FILEMODES:perms}\\n]" in argv[5] and error is InstallCheckError


def test_package_deps_names_requires_provides_and_files(rpm: FakeRpm) -> None:
    rpm.output = (
        "@@\n@NAME=demod\n@REQ=libdemo.so.1()(64bit)\n@REQ=/bin/sh\n@PROV=demod\n@PROV=demod(x86-64)\n"
        "@FILE=/usr/sbin/demod\n"
        "@@\n@NAME=demo-all\n@PROV=demo-all\n"  # no requires, no files
        "@@\n@REQ=orphan\n"  # no NAME: not a package
    )
    got = package_deps([Path("a.rpm"), Path("b.rpm"), Path("c.rpm")])
    assert got == [
        ("demod", ["libdemo.so.1()(64bit)", "/bin/sh"], ["demod", "demod(x86-64)"], ["/usr/sbin/demod"]),
        ("demo-all", [], ["demo-all"], []),
    ]
    assert "[@REQ=%{REQUIRENAME}\\n][@PROV=%{PROVIDENAME}\\n][@FILE=%{FILENAMES}\\n]" in rpm.calls[0][0][5]
