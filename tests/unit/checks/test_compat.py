"""What el6/el7 rpm and yum read: the compat gate's rules on made-up headers and repositories."""
from __future__ import annotations

import bz2
import dataclasses
import gzip
import hashlib
import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.assemble import repository
from pmrepo.checks import CheckContext, CompatCheck, Findings
from pmrepo.checks.compat import RPM_RULES, SUPPORT, DistSupport, RpmFacts, RpmLayout, Rule, compression_of, read_layout
from pmrepo.checks.rpmquery import RpmHeader, RpmRequire

DISTS = manifest.load(DEMO).dists
GOOD_LAYOUT = RpmLayout(lead_major=3, lead_minor=0, signature_type=5, header_version=1, header_tags=60,
                        header_data=4000)


def header(**kw) -> RpmHeader:
    base: dict[str, Any] = {"path": Path("x.rpm"), "name": "x", "epoch": 0, "version": "1", "release": "1.el7",
                            "arch": "x86_64", "payload_compressor": "gzip", "payload_format": "cpio",
                            "file_digest_algo": 8,
                            "requires": (RpmRequire("rpmlib(CompressedFileNames)", "<=", "3.0.4-1"),
                                         RpmRequire("rpmlib(PayloadFilesHavePrefix)", "<=", "4.0-1"))}
    return RpmHeader(**(base | kw))


def findings(hdr: RpmHeader, dist: str, layout: RpmLayout = GOOD_LAYOUT, sup: DistSupport | None = None) -> list[str]:
    d = DISTS[dist]
    report = Findings("compat", dist)
    ctx = CheckContext(release=None, dist=d, report_dir=Path("/nonexistent/reports"))
    for check in RPM_RULES:
        check.check(RpmFacts(hdr.path, hdr, layout), ctx, sup or SUPPORT[d.rhel], report)
    return [f"{f.check}: {f.message}" for f in report.errors]


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_a_package_built_as_pmrepo_builds_passes(dist: str) -> None:
    assert findings(header(), dist) == []


@pytest.mark.parametrize("dist", ["el6", "el7"])
@pytest.mark.parametrize("bad,expect", [
    ({"payload_compressor": "zstd"}, "payload zstd"),
    ({"requires": (RpmRequire("rpmlib(PayloadIsZstd)", "<=", "5.4.18-1"),)}, "rpmlib(PayloadIsZstd)"),
    ({"payload_format": "drpm"}, "payload-format"),
    ({"file_digest_algo": 11}, "file digest algorithm 11"),  # sha224: rpm 4.8 and 4.11 know 1, 2, 8, 9, 10
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


def _narrow(**limits: Any) -> DistSupport:
    return dataclasses.replace(SUPPORT[6], **limits)


@pytest.mark.parametrize("limits,layout", [
    ({"header_max_tags": 100}, RpmLayout(3, 0, 5, 1, 100, 4000)),
    ({"header_max_data": 5000}, RpmLayout(3, 0, 5, 1, 60, 5000)),
    # header_bytes = 16 (intro) + 16 per tag (index entry) + the data store
    ({"header_max_bytes": 16 + 16 * 60 + 4000}, RpmLayout(3, 0, 5, 1, 60, 4000)),
])
def test_each_size_limit_is_inclusive(limits: dict, layout: RpmLayout) -> None:
    """Every limit is the largest accepted value: at it passes, one over fails (with the table's
    values the whole-header limit cannot be reached, so each rule is held to a narrowed row)."""
    sup = _narrow(**limits)
    assert layout.header_bytes == 16 + 16 * layout.header_tags + layout.header_data
    assert findings(header(), "el6", layout, sup) == []
    key = next(iter(limits))
    over = {"header_max_tags": {"header_tags": layout.header_tags + 1},
            "header_max_data": {"header_data": layout.header_data + 1},
            "header_max_bytes": {"header_data": layout.header_data + 1}}[key]
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
    assert (lay.lead_major, lay.signature_type, lay.header_version, lay.header_tags, lay.header_data) == (3, 5, 1, 7,
                                                                                                          100)
    p.write_bytes(b"not an rpm" * 20)
    with pytest.raises(ValueError, match="bad lead magic"):
        read_layout(p)


# -- repositories ------------------------------------------------------------------------

def _repo(tmp: Path, *, xml: str = "gz", db: str = "bz2", checksum: str = "sha256", corrupt: str = "",
          drop: str = "") -> Path:
    """A repodata/ as createrepo_c writes it (files with real compression magic)."""
    rd = tmp / "repodata"
    rd.mkdir(parents=True)
    packers: dict[str, Callable[[bytes], bytes]] = {"gz": gzip.compress, "bz2": bz2.compress, "none": lambda b: b}
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
    ({"xml": "bz2"}, "primary compression bz2"),
    ({"checksum": "sha512"}, "checksum sha512"),
    ({"corrupt": "other_db"}, "other_db checksum"),
    ({"drop": "filelists_db"}, "filelists_db"),
])
def test_metadata_old_yum_cannot_read_fails(tmp_path: Path, kw: dict, expect: str) -> None:
    got = gate_errors(_repo(tmp_path, **kw), "el6")
    assert expect in got, got




def test_compression_is_read_from_the_bytes(tmp_path: Path) -> None:
    for name, body, want in [("a.gz", gzip.compress(b"x"), "gz"), ("b.bz2", bz2.compress(b"x"), "bz2"),
                             ("c.zst", b"\x28\xb5\x2f\xfd....", "zstd"), ("d.xml.gz", b"<?xml ...", "none")]:
        (tmp_path / name).write_bytes(body)
        assert compression_of(tmp_path / name) == want, name




# -- issue 33: what the mutation run found unguarded in the unit layer -------------------------


def _lead(major: int = 3, minor: int = 0, sigtype: int = 5) -> bytes:
    return b"\xed\xab\xee\xdb" + bytes([major, minor]) + b"\0" * 72 + struct.pack(">h", sigtype) + b"\0" * 16


def _hdr(il: int, dl: int, version: int = 1) -> bytes:
    return b"\x8e\xad\xe8" + bytes([version]) + b"\0" * 4 + struct.pack(">II", il, dl) + b"\0" * (16 * il + dl)


@pytest.mark.parametrize("sig_data", range(0, 9))
def test_read_layout_finds_the_main_header_after_the_padded_signature(tmp_path: Path, sig_data: int) -> None:
    """The signature header is padded to a multiple of 8 bytes; the main header follows the padding."""
    sig = _hdr(1, sig_data)
    p = tmp_path / "x.rpm"
    p.write_bytes(_lead(4, 1, 5) + sig + b"\0" * (-(16 + sig_data) % 8) + _hdr(9, 333, version=1) + b"payload")
    assert read_layout(p) == RpmLayout(4, 1, 5, 1, 9, 333)
    p.write_bytes(_lead(3, 0, 1) + sig + b"\0" * (-(16 + sig_data) % 8) + _hdr(2, 7, version=3))
    assert read_layout(p) == RpmLayout(3, 0, 1, 3, 2, 7)
    assert read_layout(p).header_bytes == 16 + 16 * 2 + 7


@pytest.mark.parametrize("body,problem", [
    (b"\xed\xab\xee\xdb" + b"\0" * 50, "bad lead magic"),  # a lead cut short
    (_lead(), "bad signature header magic"),
    (_lead() + b"\x8e\xad\xe8\x01" + b"\0" * 4, "bad signature header magic"),  # the magic, then cut short
    (_lead() + b"\x8e\xad\xe9\x01" + b"\0" * 12, "bad signature header magic"),
    (_lead() + _hdr(0, 0), "bad main header magic"),
    (_lead() + _hdr(0, 0) + b"\x8e\xad\xe8\x01" + b"\0" * 4, "bad main header magic"),  # magic, then cut short
    (_lead() + _hdr(0, 0) + b"\x8e\xad\xe9\x01" + b"\0" * 12, "bad main header magic"),
])
def test_read_layout_refuses_a_cut_short_or_foreign_file(tmp_path: Path, body: bytes, problem: str) -> None:
    p = tmp_path / "x.rpm"
    p.write_bytes(body)
    with pytest.raises(ValueError, match=problem):
        read_layout(p)


def test_the_layout_and_facts_are_frozen_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        GOOD_LAYOUT.header_tags = 1  # type: ignore[misc]
    facts = RpmFacts(Path("x.rpm"), header(), GOOD_LAYOUT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.layout = GOOD_LAYOUT  # type: ignore[misc]


def test_a_plain_requirement_before_an_rpmlib_one_does_not_hide_it() -> None:
    hdr = header(requires=(RpmRequire("tbase", ">=", "1.0"), RpmRequire("rpmlib(PayloadIsZstd)", "<=", "5.4.18-1"),
                           RpmRequire("rpmlib", "", ""), RpmRequire("rpmlib(RichDependencies", "", "")))
    assert [f.split(":")[0] for f in findings(hdr, "el7")] == ["rpmlib(PayloadIsZstd)"]


def test_an_rpmlib_feature_without_a_known_fix_still_names_one() -> None:
    hdr = header(requires=(RpmRequire("rpmlib(SomethingNew)", "<=", "9-1"),))
    assert findings(hdr, "el6") == ["rpmlib(SomethingNew): el6's rpm 4.8 does not support it "
                                    "(rpmlib(SomethingNew) <= 9-1) — fix: rebuild without it"]


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_payload_defaults_and_digests(dist: str) -> None:
    assert findings(header(payload_compressor=""), dist) == []  # no tag: rpm's default, gzip
    assert findings(header(payload_compressor="xz", file_digest_algo=None), dist) == []
    got = findings(header(payload_compressor="lz4"), dist)
    assert got == [f"payload lz4: {dist}'s rpm {SUPPORT[DISTS[dist].rhel].rpm} cannot decompress a lz4 payload "
                   "(it reads bzip2, gzip, lzma, xz) — fix: build with --define '_binary_payload w9.gzdio'"]
    assert findings(header(payload_format=""), dist) == []  # no tag: cpio


def test_the_rule_base_is_one_and_abstract() -> None:
    with pytest.raises(TypeError):
        Rule()  # type: ignore[abstract]
    from pmrepo.checks import compat
    assert {type(r).__mro__[1] for r in (*compat.RPM_RULES, *compat.REPO_RULES)} == {Rule}
    assert not hasattr(compat, "RpmRule") and not hasattr(compat, "RepoRule")


def _repo_with(tmp: Path, extra: list[tuple[str, str, bytes]], **kw: object) -> Path:
    """``_repo``'s repository plus more listed files: (type, file name, body)."""
    repo = _repo(tmp, **kw)  # type: ignore[arg-type]
    repomd = repo / "repodata" / "repomd.xml"
    text = repomd.read_text()
    more = ""
    for kind, name, body in extra:
        (repo / "repodata" / name).write_bytes(body)
        digest = hashlib.sha256(body).hexdigest()
        more += (f'<data type="{kind}"><checksum type="sha256">{digest}</checksum>'
                 f'<open-checksum type="sha256">{digest}</open-checksum><location href="repodata/{name}"/></data>')
    repomd.write_text(text.replace("</repomd>", more + "</repomd>"))
    return repo


def gate_findings(repo: Path, dist: str = "el6", grouped: bool = False) -> tuple[list[str], list[str]]:
    ctx = CheckContext(release=None, dist=DISTS[dist], report_dir=repo / "reports", repos=(repo,),
                       grouped=(repo,) if grouped else ())
    report = CompatCheck().run(ctx)
    assert report.items == [str(repo / "repodata" / "repomd.xml")]
    return [f.check for f in report.errors], [f.check for f in report.warnings]


COMPS = b"<?xml version='1.0'?><comps/>"


@pytest.mark.parametrize("extra,errors,warnings", [
    ([("group", "comps.xml", COMPS)], [], []),
    ([("group", "comps.xml.gz", gzip.compress(COMPS))], ["group compression gz"], []),
    ([("group_gz", "comps.xml.gz", gzip.compress(COMPS))], [], []),
    ([("group_gz", "comps.xml", COMPS)], ["group_gz compression none"], []),
    ([("updateinfo_gz", "u.xml", COMPS)], ["updateinfo_gz compression none"], []),
    ([("updateinfo", "u.xml.bz2", bz2.compress(COMPS))], [], []),
    ([("updateinfo", "u.xml.xz", b"\xfd7zXZ\x00....")], ["updateinfo compression xz"], []),
    ([("primary_zck", "p.xml.zck", b"\x00ZCK1....")], [], ["primary_zck (zck)"]),
    ([("modules", "m.yaml", b"plain text, no magic")], ["modules compression unknown"], []),
])
def test_each_kind_of_listed_file_has_its_compressions(tmp_path: Path, extra: list, errors: list,
                                                        warnings: list) -> None:
    assert gate_findings(_repo_with(tmp_path, extra)) == (errors, warnings)


def test_plain_xml_and_sqlite_are_named_by_their_bytes(tmp_path: Path) -> None:
    for name, body in [("a.sqlite", b"SQLite format 3\x00" + b"\0" * 100), ("b.xml", b"<?xml version='1.0'?>")]:
        (tmp_path / name).write_bytes(body)
        assert compression_of(tmp_path / name) == "none", name
    (tmp_path / "c").write_bytes(b"SQLite format 3")  # without its NUL: not sqlite's header
    assert compression_of(tmp_path / "c") == "unknown"
    # the primary XML itself read as the wrong compression is refused
    got = gate_errors(_repo(tmp_path / "r", db="none"), "el6")
    assert got == ["primary_db compression none", "filelists_db compression none", "other_db compression none"], got


@pytest.mark.parametrize("drop", ["primary", "filelists", "other", "primary_db", "other_db"])
def test_every_metadata_type_yum_needs_must_be_listed(tmp_path: Path, drop: str) -> None:
    assert gate_errors(_repo(tmp_path, drop=drop), "el7") == [drop]


def test_group_file_is_required_only_where_expected(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert gate_findings(repo, grouped=True) == (["group"], [])
    assert gate_findings(repo, grouped=False) == ([], [])
    assert gate_findings(_repo_with(tmp_path / "g", [("group", "comps.xml", COMPS)]), grouped=True) == ([], [])


def test_checksum_types_are_reported_once_per_type_with_every_entry(tmp_path: Path) -> None:
    repo = _repo_with(tmp_path, [("group", "comps.xml", COMPS)], checksum="sha512")
    ctx = CheckContext(release=None, dist=DISTS["el6"], report_dir=repo / "reports", repos=(repo,))
    report = CompatCheck().run(ctx)
    bad = [f for f in report.errors if f.check.startswith("checksum")]
    assert [f.check for f in bad] == ["checksum sha512"]
    assert "used by primary, filelists, other, primary_db, filelists_db, other_db;" in bad[0].message
    assert gate_errors(_repo(tmp_path / "sha1", checksum="sha1"), "el6") == []
    assert gate_errors(_repo(tmp_path / "sha", checksum="sha"), "el6") == []


def test_integrity_names_a_missing_file_and_a_corrupt_one(tmp_path: Path) -> None:
    repo = _repo(tmp_path, corrupt="primary")
    (repo / "repodata" / "other.xml.gz").unlink()
    errors, _ = gate_findings(repo)
    assert errors == ["primary checksum", "other"], errors


def test_an_unreadable_package_and_repository_are_one_finding_each(tmp_path: Path) -> None:
    if shutil.which("rpm") is None:
        pytest.skip("rpm is not installed here (`make setup` installs it): the gate reads headers with rpm -qp; "
                    "tests/integration/test_gates.py::test_compat_unreadable_rpm_fails covers it with real packages")
    bogus = tmp_path / "bogus-1-1.noarch.rpm"
    bogus.write_bytes(b"not an rpm\n" * 20)
    ctx = CheckContext(release=None, dist=DISTS["el7"], report_dir=tmp_path / "reports", rpms=(bogus,),
                       repos=(tmp_path / "norepo",))
    report = CompatCheck().run(ctx)
    assert report.items == [str(bogus), str(tmp_path / "norepo" / "repodata" / "repomd.xml")]
    assert [(f.check, f.id) for f in report.errors] == [("rpm-format", "compat.unreadable"),
                                                         ("repomd.xml", "compat.repomd")]
    assert CompatCheck.required is True


@pytest.mark.parametrize("where", ["signature", "main"])
def test_read_layout_refuses_a_header_one_byte_short(tmp_path: Path, where: str) -> None:
    """15 of a header's 16 intro bytes, magic included, is a cut-short file, not a header."""
    short = b"\x8e\xad\xe8\x01" + b"\0" * 11
    p = tmp_path / "x.rpm"
    p.write_bytes(_lead() + (short if where == "signature" else _hdr(0, 0) + short))
    with pytest.raises(ValueError, match=f"bad {where} header magic" if where == "main" else "bad signature header"):
        read_layout(p)


def test_a_supported_rpmlib_feature_before_an_unsupported_one_does_not_hide_it() -> None:
    hdr = header(requires=(RpmRequire("rpmlib(CompressedFileNames)", "<=", "3.0.4-1"),
                           RpmRequire("rpmlib(PayloadIsZstd)", "<=", "5.4.18-1")))
    assert [f.split(":")[0] for f in findings(hdr, "el6")] == ["rpmlib(PayloadIsZstd)"]


def _listed(repo: Path, entries: list[tuple[str, str, bytes | None, str, bool]]) -> Path:
    """Append entries to repo's repomd.xml: (type, file name or "", body or None, checksum type, corrupt)."""
    repomd = repo / "repodata" / "repomd.xml"
    more = ""
    for kind, name, body, ctype, corrupt in entries:
        digest = hashlib.sha256(body or b"").hexdigest()
        if body is not None:
            (repo / "repodata" / name).write_bytes(body + (b"x" if corrupt else b""))
        loc = f'<location href="repodata/{name}"/>' if name else ""
        more += f'<data type="{kind}"><checksum type="{ctype}">{digest}</checksum>{loc}</data>'
    repomd.write_text(repomd.read_text().replace("</repomd>", more + "</repomd>"))
    return repo


def test_every_listed_file_is_judged_whatever_came_before_it(tmp_path: Path) -> None:
    """A missing, unhashable or zchunk entry early in repomd.xml does not end the rules' walk."""
    repo = _repo(tmp_path, xml="bz2")
    (repo / "repodata" / "primary.xml.bz2").unlink()  # missing: integrity says so, compression skips it
    _listed(repo, [("x_zck", "x.zck", b"\x00ZCK1....", "sha256", False),
                   ("updateinfo", "u.xml.gz", gzip.compress(COMPS), "crc32", False),
                   ("modules", "m.yaml.gz", gzip.compress(COMPS), "sha256", True),
                   ("prestodelta", "", None, "sha256", False)])
    errors, warnings = gate_findings(repo)
    assert warnings == ["x_zck (zck)"]
    assert "filelists compression bz2" in errors and "other compression bz2" in errors, errors
    assert "primary" in errors and "modules checksum" in errors and "checksum crc32" in errors, errors
    ctx = CheckContext(release=None, dist=DISTS["el6"], report_dir=repo / "reports", repos=(repo,))
    missing = [f.message for f in CompatCheck().run(ctx).errors if f.check == "prestodelta"]
    assert missing == ["lists (no location), which does not exist"]


def test_the_gate_runs_every_rule_on_every_package_and_repository(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """CompatCheck.run's own walk, with the rpm -qp reading replaced by a made-up header: each package
    and repository gets every rule, an unreadable one does not stop the rest."""
    from pmrepo.checks import compat

    def fake_query(path: Path, log: Path) -> RpmHeader:
        if path.name.startswith("bad"):
            raise compat.GateError(f"{path}: rpm -qp failed")
        return header(path=path, payload_compressor="zstd" if "zstd" in path.name else "gzip")

    monkeypatch.setattr(compat, "query_rpm", fake_query)
    rpms = []
    for name, tags in [("bad1.rpm", 2), ("bad2.rpm", 2), ("zstd.rpm", 2), ("big.rpm", 0x10000)]:
        (tmp_path / name).write_bytes(_rpm_bytes(tags=tags))
        rpms.append(tmp_path / name)
    repos = (tmp_path / "none1", tmp_path / "none2", _repo(tmp_path / "r", xml="bz2"))
    ctx = CheckContext(release=None, dist=DISTS["el6"], report_dir=tmp_path / "reports", rpms=tuple(rpms),
                       repos=repos)
    report = CompatCheck().run(ctx)
    assert [(Path(f.file).name, f.check) for f in report.errors] == [
        ("bad1.rpm", "rpm-format"), ("bad2.rpm", "rpm-format"), ("zstd.rpm", "payload zstd"),
        ("big.rpm", "header-size"),
        ("repomd.xml", "repomd.xml"), ("repomd.xml", "repomd.xml"), ("primary.xml.bz2", "primary compression bz2"),
        ("filelists.xml.bz2", "filelists compression bz2"), ("other.xml.bz2", "other compression bz2")]
    assert len(report.items) == 7


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_file_digest_algorithms_old_rpm_verifies(dist: str) -> None:
    """OpenPGP's hash algorithm ids (RFC 4880 9.4), as rpm's PGPHASHALGO: 4.8 and 4.11 verify MD5 (1),
    SHA1 (2), SHA256 (8), SHA384 (9), SHA512 (10) — not SHA224 (11) nor any other id."""
    ok = {n for n in range(0, 13) if not findings(header(file_digest_algo=n), dist)}
    assert ok == {1, 2, 8, 9, 10}
    msg = findings(header(file_digest_algo=11), dist)[0]
    assert "(it knows md5, sha1, sha256, sha384, sha512)" in msg and "_binary_filedigest_algorithm 8" in msg


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_lead_versions_old_rpm_opens(dist: str) -> None:
    majors = {m for m in range(0, 8) if not findings(header(), dist, RpmLayout(m, 0, 5, 1, 60, 4000))}
    assert majors == {3, 4}




def test_a_zchunk_entry_does_not_end_the_compression_walk(tmp_path: Path) -> None:
    repo = _repo_with(tmp_path, [("primary_zck", "p.xml.zck", b"\x00ZCK1...."), ("group_gz", "comps.xml", COMPS)])
    assert gate_findings(repo) == (["group_gz compression none"], ["primary_zck (zck)"])
