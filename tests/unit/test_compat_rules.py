"""What el6/el7 rpm and yum read: the compat gate's rules on made-up headers and repositories."""
from __future__ import annotations

import bz2
import dataclasses
import gzip
import hashlib
import struct
from pathlib import Path

import pytest

from conftest import DEMO
from pmrepo import manifest, repository
from pmrepo.errors import RepositoryError
from pmrepo.checks import CheckContext, CompatCheck, Findings
from pmrepo.checks.rpmquery import RpmHeader, RpmRequire
from pmrepo.checks.compat import RPM_RULES, SUPPORT, DistSupport, RpmFacts, RpmLayout, compression_of, read_layout

DISTS = manifest.load(DEMO).dists
GOOD_LAYOUT = RpmLayout(lead_major=3, lead_minor=0, signature_type=5, header_version=1, header_tags=60, header_data=4000)


def header(**kw) -> RpmHeader:
    base = dict(path=Path("x.rpm"), name="x", epoch=0, version="1", release="1.el7", arch="x86_64",
                payload_compressor="gzip", payload_format="cpio", file_digest_algo=8,
                requires=(RpmRequire("rpmlib(CompressedFileNames)", "<=", "3.0.4-1"),
                          RpmRequire("rpmlib(PayloadFilesHavePrefix)", "<=", "4.0-1")))
    return RpmHeader(**(base | kw))


def findings(hdr: RpmHeader, dist: str, layout: RpmLayout = GOOD_LAYOUT, sup: DistSupport | None = None) -> list[str]:
    d = DISTS[dist]
    report = Findings("compat", dist)
    for check in RPM_RULES:
        check.check(RpmFacts(hdr.path, hdr, layout), d, sup or SUPPORT[d.rhel], report)
    return [f"{f.check}: {f.message}" for f in report.errors]


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_a_package_built_as_pmrepo_builds_passes(dist: str) -> None:
    assert findings(header(), dist) == []


@pytest.mark.parametrize("dist", ["el6", "el7"])
@pytest.mark.parametrize("bad,expect", [
    (dict(payload_compressor="zstd"), "payload zstd"),
    (dict(requires=(RpmRequire("rpmlib(PayloadIsZstd)", "<=", "5.4.18-1"),)), "rpmlib(PayloadIsZstd)"),
    (dict(payload_format="drpm"), "payload-format"),
    (dict(file_digest_algo=11), "file digest algorithm 11"),  # sha224: rpm 4.8 and 4.11 know 1, 2, 8, 9, 10
])
def test_what_old_rpm_cannot_read_is_an_error(dist: str, bad: dict, expect: str) -> None:
    got = findings(header(**bad), dist)
    assert len(got) == 1 and got[0].startswith(expect), got


def test_rpm_features_newer_than_4_8_fail_on_el6_only() -> None:
    hdr = header(requires=(RpmRequire("rpmlib(ScriptletExpansion)", "<=", "4.9.0-1"),))
    assert findings(hdr, "el7") == []
    assert [f.split(":")[0] for f in findings(hdr, "el6")] == ["rpmlib(ScriptletExpansion)"]


@pytest.mark.parametrize("layout,expect", [
    (RpmLayout(6, 0, 5, 1, 60, 4000), "rpm-format"),  # rpm 6 lead
    (RpmLayout(3, 0, 1, 1, 60, 4000), "rpm-format"),  # not a header signature
    (RpmLayout(3, 0, 5, 1, 70000, 4000), "header-size"),
])
def test_package_layout_rules(layout: RpmLayout, expect: str) -> None:
    assert [f.split(":")[0] for f in findings(header(), "el6", layout)] == [expect]


@pytest.mark.parametrize("dist", ["el6", "el7"])
@pytest.mark.parametrize("version", [0, 2, 3, 4])
def test_a_header_version_other_than_1_is_refused(dist: str, version: int) -> None:
    """rpm 4.8 and 4.11 read only version 1 headers (headerVerify's magic check)."""
    layout = RpmLayout(3, 0, 5, version, 60, 4000)
    got = findings(header(), dist, layout)
    assert len(got) == 1 and got[0].startswith(f"rpm-format: header version {version}:"), got


@pytest.mark.parametrize("dist", ["el6", "el7"])
@pytest.mark.parametrize("tags,data,bad", [
    (0xFFFF, 4000, False),  # hdrchkTags: rpm refuses a count with any of the high 16 bits set
    (0x10000, 4000, True),
    (60, 0xFFFFFF, False),  # hdrchkData: 16 MiB - 1 is the largest data store rpm reads
    (60, 0x1000000, True),
])
def test_header_limits_at_and_one_over_the_table(dist: str, tags: int, data: int, bad: bool) -> None:
    got = findings(header(), dist, RpmLayout(3, 0, 5, 1, tags, data))
    assert [f.split(":")[0] for f in got] == (["header-size"] if bad else []), got


def _narrow(**limits: int) -> DistSupport:
    return dataclasses.replace(SUPPORT[6], **limits)


@pytest.mark.parametrize("limits,layout", [
    (dict(header_max_tags=100), RpmLayout(3, 0, 5, 1, 100, 4000)),
    (dict(header_max_data=5000), RpmLayout(3, 0, 5, 1, 60, 5000)),
    # header_bytes = 16 (intro) + 16 per tag (index entry) + the data store
    (dict(header_max_bytes=16 + 16 * 60 + 4000), RpmLayout(3, 0, 5, 1, 60, 4000)),
])
def test_each_size_limit_is_inclusive(limits: dict, layout: RpmLayout) -> None:
    """Every limit is the largest accepted value: at it passes, one over fails (with the table's
    values the whole-header limit cannot be reached, so each rule is held to a narrowed row)."""
    sup = _narrow(**limits)
    assert layout.header_bytes == 16 + 16 * layout.header_tags + layout.header_data
    assert findings(header(), "el6", layout, sup) == []
    key = next(iter(limits))
    over = {"header_max_tags": dict(header_tags=layout.header_tags + 1),
            "header_max_data": dict(header_data=layout.header_data + 1),
            "header_max_bytes": dict(header_data=layout.header_data + 1)}[key]
    got = findings(header(), "el6", dataclasses.replace(layout, **over), sup)
    assert [f.split(":")[0] for f in got] == ["header-size"], got


def _rpm_bytes(lead_major: int = 3, tags: int = 2, data: int = 24) -> bytes:
    lead = b"\xed\xab\xee\xdb" + bytes([lead_major, 0]) + b"\0" * 72 + struct.pack(">h", 5) + b"\0" * 16
    sig = b"\x8e\xad\xe8\x01" + b"\0" * 4 + struct.pack(">II", 1, 5) + b"\0" * 16 + b"\0" * 5
    sig += b"\0" * (-(16 * 1 + 5) % 8)
    hdr = b"\x8e\xad\xe8\x01" + b"\0" * 4 + struct.pack(">II", tags, data) + b"\0" * (16 * tags + data)
    return lead + sig + hdr


def test_read_layout_parses_lead_signature_and_header(tmp_path: Path) -> None:
    p = tmp_path / "x.rpm"
    p.write_bytes(_rpm_bytes(lead_major=3, tags=7, data=100))
    lay = read_layout(p)
    assert (lay.lead_major, lay.signature_type, lay.header_version, lay.header_tags, lay.header_data) == (3, 5, 1, 7, 100)
    p.write_bytes(b"not an rpm" * 20)
    with pytest.raises(ValueError, match="bad lead magic"):
        read_layout(p)


# -- repositories ------------------------------------------------------------------------

def _repo(tmp: Path, *, xml: str = "gz", db: str = "bz2", checksum: str = "sha256", corrupt: str = "",
          drop: str = "") -> Path:
    """A repodata/ as createrepo_c writes it (files with real compression magic)."""
    rd = tmp / "repodata"
    rd.mkdir(parents=True)
    packers = {"gz": gzip.compress, "bz2": bz2.compress, "none": lambda b: b}
    entries = []
    kinds = [(k, f"{k}.xml.{xml}", xml) for k in ("primary", "filelists", "other")]
    kinds += [(f"{k}_db", f"{k}.sqlite.{db}", db) for k in ("primary", "filelists", "other")]
    for kind, name, comp in kinds:
        if kind == drop:
            continue
        body = packers[comp](b"SQLite format 3\x00" if "_db" in kind else b"<?xml version='1.0'?><x/>")
        (rd / name).write_bytes(body)
        digest = hashlib.new("sha1" if checksum == "sha" else checksum, body).hexdigest()
        if kind == corrupt:
            (rd / name).write_bytes(body + b"x")
        entries.append(f'<data type="{kind}"><checksum type="{checksum}">{digest}</checksum>'
                       f'<location href="repodata/{name}"/></data>')
    (rd / "repomd.xml").write_text('<?xml version="1.0"?><repomd xmlns="http://linux.duke.edu/metadata/repo">'
                                   + "".join(entries) + "</repomd>")
    return tmp


def gate_errors(repo: Path, dist: str) -> list[str]:
    ctx = CheckContext(release=None, dist=DISTS[dist], report_dir=repo / "reports", repos=(repo,))
    return [f.check for f in CompatCheck().run(ctx).errors]


def test_createrepo_c_output_with_pmrepo_flags_passes(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert gate_errors(repo, "el6") == [] and gate_errors(repo, "el7") == []
    md = repository.verify(repo, group=False)  # the repository step reads the same file the same way
    assert md.href("primary") == "repodata/primary.xml.gz"


@pytest.mark.parametrize("kw,expect", [
    (dict(xml="bz2"), "primary compression bz2"),
    (dict(checksum="sha512"), "checksum sha512"),
    (dict(corrupt="other_db"), "other_db checksum"),
    (dict(drop="filelists_db"), "filelists_db"),
])
def test_metadata_old_yum_cannot_read_fails(tmp_path: Path, kw: dict, expect: str) -> None:
    got = gate_errors(_repo(tmp_path, **kw), "el6")
    assert expect in got, got


def test_repository_verify_refuses_what_el6_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="yum 3.2.29 reads only gzip XML"):
        repository.verify(_repo(tmp_path / "a", xml="bz2"), group=False)
    with pytest.raises(RepositoryError, match="no 'group' metadata"):
        repository.verify(_repo(tmp_path / "b"), group=True)
    with pytest.raises(RepositoryError, match="unreadable repository metadata"):
        repository.verify(tmp_path / "nothing", group=False)


def test_compression_is_read_from_the_bytes(tmp_path: Path) -> None:
    for name, body, want in [("a.gz", gzip.compress(b"x"), "gz"), ("b.bz2", bz2.compress(b"x"), "bz2"),
                             ("c.zst", b"\x28\xb5\x2f\xfd....", "zstd"), ("d.xml.gz", b"<?xml ...", "none")]:
        (tmp_path / name).write_bytes(body)
        assert compression_of(tmp_path / name) == want, name


def test_one_table_for_the_repository_step_and_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pmrepo.targets.SUPPORT is what both read: widen it and both accept bz2 XML."""
    import dataclasses

    from pmrepo import targets

    repo = _repo(tmp_path, xml="bz2")
    assert "primary compression bz2" in gate_errors(repo, "el6")
    with pytest.raises(RepositoryError):
        repository.verify(repo, group=False)
    wide = {k: dataclasses.replace(v, xml_compression=frozenset({"gz", "bz2"})) for k, v in targets.SUPPORT.items()}
    monkeypatch.setattr(targets, "SUPPORT", wide)
    assert gate_errors(repo, "el6") == []
    assert repository.verify(repo, group=False).href("primary") == "repodata/primary.xml.bz2"
