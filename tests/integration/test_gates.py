"""Release gates 1–3 against real RPMs and repositories built here with
rpmbuild and createrepo_c: good inputs pass, deliberately bad ones fail with a
message that names the file, the feature and the dist."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo.checks import (
    CheckContext,
    CheckOptions,
    ClosureCheck,
    CompatCheck,
    RpmlintCheck,
    Severity,
    default_checks,
    run_checks,
)
from pmrepo.checks.compat import SUPPORT, read_layout
from pmrepo.checks.rpmlint import CONFIG, parse_output, release_filters
from pmrepo.checks.rpmquery import query_rpm
from pmrepo.errors import GateError
from pmrepo.manifest import Dist, load
from pmrepo.run import run

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("rpmbuild", "createrepo_c", "rpm")),
    reason="rpmbuild, createrepo_c and rpm are needed to build the test packages (make setup installs them)")

GOOD_PAYLOAD = "w9.gzdio"


def make_dist(name: str, base_repos: dict[str, str] | None = None) -> Dist:
    rhel = int(name[2:])
    return Dist(name=name, tag=f".{name}", rhel=rhel, macros={}, os_requires=(), base_repos=base_repos or {},
                image=f"centos:{rhel}")


EL6, EL7 = make_dist("el6"), make_dist("el7")


def spec_text(name: str, *, version: str = "1.0", requires: str = "", provides: str = "", extra: str = "",
              changelog: bool = True, group: bool = True, arch: str | None = "noarch",
              datadir: str = "%{_datadir}") -> str:
    lines = [
        f"Name: {name}",
        f"Version: {version}",
        "Release: 1%{?dist}",
        "Summary: Test package for the release gates",
        "License: GPLv2+",
        *(["Group: System Environment/Base"] if group else []),
        "URL: https://example.invalid/",
        *([f"BuildArch: {arch}"] if arch else []),
        *([f"Requires: {requires}"] if requires else []),
        *([f"Provides: {provides}"] if provides else []),
        "",
        "%description",
        "A package built by the gate tests.",
        "",
        "%install",
        f"mkdir -p %{{buildroot}}{datadir}/{name}",
        f"echo {name} > %{{buildroot}}{datadir}/{name}/data.txt",
        "",
        "%files",
        f"{datadir}/{name}",
        extra,
    ]
    if changelog:  # written without the dist tag, as el6/el7 changelogs are
        lines += ["%changelog", "* Mon Jan 04 2016 Gate Tests <gates@example.invalid> - " + version + "-1",
                  "- Build for the gate tests."]
    return "\n".join(lines) + "\n"


def rpmbuild(tmp: Path, name: str, text: str, *, dist: str = ".el7", payload: str = GOOD_PAYLOAD,
             source: bool = False, defines: dict[str, str] | None = None) -> list[Path]:
    top = tmp / f"top-{name}"
    spec = tmp / "specs" / f"{name}.spec"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(text)
    args = {"_topdir": str(top), "dist": dist, "_binary_payload": payload, "_source_payload": GOOD_PAYLOAD,
            "_binary_filedigest_algorithm": "8", **(defines or {})}
    argv = ["rpmbuild", "-ba" if source else "-bb"]
    for k, v in args.items():
        argv += ["--define", f"{k} {v}"]
    run([*argv, str(spec)], log_file=tmp / "rpmbuild.log")
    out = tmp / "rpms"
    out.mkdir(exist_ok=True)
    built = []
    for f in sorted(top.rglob("*.rpm")):
        f.replace(out / f.name)
        built.append(out / f.name)
    return built


def createrepo(repo: Path, rpms: list[Path], *args: str, group: bool = False) -> Path:
    (repo / "rpm").mkdir(parents=True, exist_ok=True)
    for r in rpms:
        shutil.copyfile(r, repo / "rpm" / r.name)
    extra = list(args)
    if group:
        comps = repo.parent / f"{repo.name}-comps.xml"
        comps.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<comps><group><id>tgroup</id><name>T</name>'
                         '<packagelist><packagereq type="mandatory">tgood</packagereq></packagelist></group></comps>\n')
        extra += ["--groupfile", str(comps)]
    run(["createrepo_c", "--workers", "1", *extra, str(repo)], log_file=repo.parent / "createrepo.log")
    return repo


@dataclass
class Built:
    tmp: Path
    good: Path  # noarch, gzip payload, Requires: tbase >= 1.0
    good_srpm: Path
    good_spec: Path
    base: Path  # tbase, provides what good needs
    zstd: Path  # zstd payload
    rich: Path  # Requires: (tbase or tother)
    el7only: Path  # version with '~' and a %post -e scriptlet: fine on el7, not on el6
    unresolved: Path  # Requires: tmissing >= 2
    nochangelog: Path  # an rpmlint error: no %changelog
    repopkg: Path  # like a repository package: arch-specific, files under /opt/<prefix>
    base_repo: Path
    good_repo: Path  # good + group file, default createrepo_c 0.17 output with explicit safe flags


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("gates")
    good = rpmbuild(tmp, "tgood", spec_text("tgood", requires="tbase >= 1.0"), source=True)
    base = rpmbuild(tmp, "tbase", spec_text("tbase", version="1.2"))[0]
    zstd = rpmbuild(tmp, "tzstd", spec_text("tzstd"), payload="w19.zstdio")[0]
    rich = rpmbuild(tmp, "trich", spec_text("trich", requires="(tbase or tother)"))[0]
    el7only = rpmbuild(tmp, "tel7only", spec_text("tel7only", version="1.0~rc1",
                                                  extra="%post -e\necho %{name} installed\n"))[0]
    unresolved = rpmbuild(tmp, "tneeds", spec_text("tneeds", requires="tmissing >= 2"))[0]
    nochangelog = rpmbuild(tmp, "tnolog", spec_text("tnolog", changelog=False))[0]
    repopkg = rpmbuild(tmp, "trepo", spec_text("trepo", arch=None, datadir="/opt/trepo-prefix"))[0]
    good_rpm = next(p for p in good if not p.name.endswith(".src.rpm"))
    good_srpm = next(p for p in good if p.name.endswith(".src.rpm"))
    base_repo = createrepo(tmp / "base-repo", [base])
    good_repo = createrepo(tmp / "good-repo", [good_rpm], "--database", "--checksum", "sha256",
                           "--general-compress-type", "gz", group=True)
    return Built(tmp, good_rpm, good_srpm, tmp / "specs" / "tgood.spec", base, zstd, rich, el7only, unresolved,
                 nochangelog, repopkg, base_repo, good_repo)


def reports(ctx: CheckContext) -> Path:
    """The context's report directory (ctx_for always sets one)."""
    assert ctx.report_dir is not None
    return ctx.report_dir


def ctx_for(built: Built, dist: Dist, name: str, **kw: object) -> CheckContext:
    return CheckContext(release=None, dist=dist, report_dir=built.tmp / "reports" / name,
                        **kw)  # type: ignore[arg-type]


def assert_names(message: str, *parts: str) -> None:
    assert "\n" not in message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# -- gate 2: compatibility -------------------------------------------------------


def test_support_table_el6_lacks_what_el7_added() -> None:
    assert SUPPORT[7].rpmlib - SUPPORT[6].rpmlib == {"ScriptletExpansion", "TildeInVersions"}
    for sup in SUPPORT.values():
        assert not {"PayloadIsZstd", "RichDependencies", "CaretInVersions", "LargeFiles"} & sup.rpmlib
        assert "zstd" not in sup.payload_compressors and sup.xml_compression == {"gz"}


@pytest.mark.parametrize("dist", [EL6, EL7], ids=["el6", "el7"])
def test_compat_good_rpms_and_repo_pass(built: Built, dist: Dist) -> None:
    ctx = ctx_for(built, dist, f"compat-good-{dist.name}", rpms=(built.good, built.good_srpm, built.base),
                  repos=(built.good_repo,), grouped=(built.good_repo,))
    report = CompatCheck().run(ctx)
    assert report.passed, report.text()
    assert len(report.items) == 4


@pytest.mark.parametrize("dist", [EL6, EL7], ids=["el6", "el7"])
def test_compat_zstd_payload_fails(built: Built, dist: Dist) -> None:
    report = CompatCheck().run(ctx_for(built, dist, f"compat-zstd-{dist.name}", rpms=(built.zstd,)))
    assert not report.passed
    checks = {f.check for f in report.errors}
    assert {"rpmlib(PayloadIsZstd)", "payload zstd"} <= checks
    assert_names(report.error_message(), built.zstd.name, "PayloadIsZstd", f"for {dist.name}", f"{dist.name}'s rpm")


def test_compat_rich_dependency_fails(built: Built) -> None:
    report = CompatCheck().run(ctx_for(built, EL7, "compat-rich", rpms=(built.good, built.rich)))
    assert [f.check for f in report.errors] == ["rpmlib(RichDependencies)"]
    assert report.errors[0].file == str(built.rich)
    assert_names(report.error_message(), built.rich.name, "rpmlib(RichDependencies)", "el7", "rpm 4.11")


def test_compat_is_per_dist_tilde_and_scriptlet_expansion(built: Built) -> None:
    el7 = CompatCheck().run(ctx_for(built, EL7, "compat-tilde-el7", rpms=(built.el7only,)))
    assert el7.passed, el7.text()
    el6 = CompatCheck().run(ctx_for(built, EL6, "compat-tilde-el6", rpms=(built.el7only,)))
    assert {f.check for f in el6.errors} == {"rpmlib(TildeInVersions)", "rpmlib(ScriptletExpansion)"}
    assert_names(el6.error_message(), built.el7only.name, "for el6", "rpm 4.8")


def test_read_layout_matches_what_rpm_reports_of_real_packages(built: Built) -> None:
    """read_layout on packages the real rpmbuild wrote (noarch and arch, gzip and zstd payloads, an SRPM)
    against rpm's own numbers: the main header's index entries and data size as rpm exports its
    immutable region (``%{HEADERIMMUTABLE}``: entry count, data length, the entries, the data, the
    region trailer with offset -16 x entries), the header's sha256 (``%{SHA256HEADER}``) over exactly
    the bytes read_layout sizes, found where the signature's header+payload size (``%{SIGSIZE}``) puts
    the header, and the payload starting right after it with its compressor's magic."""
    magic = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd", "xz": b"\xfd7zXZ", "bzip2": b"BZh"}
    for path in (built.good, built.good_srpm, built.base, built.zstd, built.rich, built.repopkg):
        lay = read_layout(path)
        out = run(["rpm", "-qp", "--qf", "%{HEADERIMMUTABLE}\n%{SIGSIZE}\n%{SHA256HEADER}\n%{PAYLOADCOMPRESSOR}\n",
                   str(path)]).output.split("\n")
        region, sigsize, sha, compressor = bytes.fromhex(out[0]), int(out[1]), out[2], out[3]
        il, dl = struct.unpack(">II", region[:8])
        assert (lay.header_tags, lay.header_data) == (il, dl), path.name
        assert len(region) == 8 + 16 * il + dl and region[-16:] == struct.pack(">iiii", 63, 7, -16 * il, 16)
        assert (lay.lead_major, lay.lead_minor, lay.signature_type, lay.header_version) == (3, 0, 5, 1)
        data = path.read_bytes()
        start = len(data) - sigsize  # the signature header counts the header and payload that follow it
        assert hashlib.sha256(data[start : start + lay.header_bytes]).hexdigest() == sha, path.name
        assert data[start + lay.header_bytes :].startswith(magic[compressor]), (path.name, compressor)
    assert {read_layout(p).header_tags for p in (built.good, built.good_srpm, built.zstd)} != {0}


def test_compat_unreadable_rpm_fails(built: Built) -> None:
    bogus = built.tmp / "bogus-1.0-1.el7.noarch.rpm"
    bogus.write_text("not an rpm\n")
    report = CompatCheck().run(ctx_for(built, EL7, "compat-bogus", rpms=(bogus,)))
    assert_names(report.error_message(), bogus.name, "rpm-format", "el7")


def test_compat_unknown_dist_is_a_one_line_error(built: Built) -> None:
    with pytest.raises(GateError, match=r"no compatibility table for dist el5 \(rhel 5\)"):
        CompatCheck().run(ctx_for(built, make_dist("el5"), "compat-el5", rpms=(built.good,)))


@pytest.mark.parametrize("flags,feature", [
    (["--general-compress-type", "xz"], "primary compression xz"),
    (["--no-database"], "primary_db"),
    (["--checksum", "sha512", "--repomd-checksum", "sha512"], "checksum sha512"),
], ids=["xz-xml", "no-sqlite", "sha512"])
def test_compat_bad_repodata_fails(built: Built, flags: list[str], feature: str) -> None:
    repo = createrepo(built.tmp / f"repo-{flags[0].strip('-')}", [built.good], *flags, group=True)
    report = CompatCheck().run(ctx_for(built, EL6, f"compat-{flags[0]}", repos=(repo,), grouped=(repo,)))
    assert not report.passed
    assert any(f.check.startswith(feature) for f in report.errors), report.text()
    assert_names(report.error_message(), str(repo / "repodata"), "for el6", "yum 3.2.29")


def _rewrite_entry(repo: Path, kind: str, new_file: Path) -> None:
    """Point repomd.xml's ``kind`` entry at ``new_file`` with its real checksum."""
    repomd = repo / "repodata" / "repomd.xml"
    text = repomd.read_text()
    block = re.search(rf'<data type="{kind}">.*?</data>', text, re.S)
    assert block
    digest = hashlib.sha256(new_file.read_bytes()).hexdigest()
    new = re.sub(r'(<checksum type="sha256">)[0-9a-f]+', rf"\g<1>{digest}", block.group(0))
    new = re.sub(r'href="[^"]+"', f'href="repodata/{new_file.name}"', new)
    repomd.write_text(text.replace(block.group(0), new))


@pytest.mark.skipif(not shutil.which("zstd"), reason="the zstd command is needed to make zstd repodata "
                    "(createrepo_c 0.17.3 cannot write it)")
def test_compat_zstd_repodata_fails(built: Built) -> None:
    """zstd XML as createrepo_c 1.x writes by default: recompress primary by hand."""
    repo = createrepo(built.tmp / "repo-zstd", [built.good], group=True)
    primary = next((repo / "repodata").glob("*-primary.xml.gz"))
    plain = repo / "repodata" / "primary.xml"
    plain.write_bytes(gzip.decompress(primary.read_bytes()))
    run(["zstd", "-q", "--rm", str(plain)], log_file=built.tmp / "zstd.log")
    _rewrite_entry(repo, "primary", repo / "repodata" / "primary.xml.zst")
    primary.unlink()
    report = CompatCheck().run(ctx_for(built, EL7, "compat-zstd-repo", repos=(repo,), grouped=(repo,)))
    assert [f.check for f in report.errors] == ["primary compression zstd"], report.text()
    assert_names(report.error_message(), "primary.xml.zst", "zstd", "for el7", "yum 3.4.3")


def test_compat_missing_group_and_tampered_metadata_fail(built: Built) -> None:
    repo = createrepo(built.tmp / "repo-nogroup", [built.good])
    other = next((repo / "repodata").glob("*-other.xml.gz"))
    with other.open("ab") as fh:
        fh.write(b"\0")
    report = CompatCheck().run(ctx_for(built, EL7, "compat-nogroup", repos=(repo,), grouped=(repo,)))
    assert {f.check for f in report.errors} == {"group", "other checksum"}, report.text()
    without_group = CompatCheck().run(ctx_for(built, EL7, "compat-nogroup2", repos=(repo,)))
    assert [f.check for f in without_group.errors] == ["other checksum"]


# -- gate 3: dependency closure ----------------------------------------------------


@pytest.mark.skipif(not shutil.which("dnf"), reason="dnf is needed for repoclosure (make setup installs it)")
class TestClosure:
    def test_satisfied_by_the_dists_base_repository(self, built: Built) -> None:
        dist = dataclasses.replace(EL7, base_repos={"os": str(built.base_repo)})
        report = ClosureCheck().run(ctx_for(built, dist, "closure-good", repos=(built.good_repo,)))
        assert report.passed, report.text()
        assert report.items == [str(built.good_repo / "rpm" / built.good.name)]

    def test_without_base_repository_fails(self, built: Built) -> None:
        report = ClosureCheck().run(ctx_for(built, EL7, "closure-nobase", repos=(built.good_repo,)))
        assert [f.check for f in report.errors] == ["Requires: tbase >= 1.0"]
        assert_names(report.error_message(), built.good.name, "tbase >= 1.0", "for el7", "none configured")

    def test_unresolvable_requires_fails_per_package(self, built: Built) -> None:
        repo = createrepo(built.tmp / "repo-unresolved", [built.good, built.unresolved, built.rich])
        report = ClosureCheck().run(ctx_for(built, EL6, "closure-bad", repos=(repo,),
                                           base_repos={"os": str(built.base_repo)}))
        assert [(Path(f.file).name, f.check) for f in report.errors] == [
            (built.unresolved.name, "Requires: tmissing >= 2")], report.text()
        assert_names(report.error_message(), built.unresolved.name, "tmissing >= 2", "for el6", "os")
        report.write(built.tmp / "closure.txt")
        assert f"[FAIL] {repo / 'rpm' / built.unresolved.name}" in (built.tmp / "closure.txt").read_text()

    def test_unreachable_base_repository_fails(self, built: Built) -> None:
        missing = built.tmp / "no-such-mirror" / "$basearch"
        report = ClosureCheck().run(ctx_for(built, EL7, "closure-unreachable", repos=(built.good_repo,),
                                           base_repos={"os": str(missing)}))
        assert_names(report.error_message(), "base repository os", "no-such-mirror/x86_64", "for el7",
                     "Failed to download metadata")


# -- gate 1: rpmlint --------------------------------------------------------------


def test_rpmlint_config_filters_each_have_a_reason() -> None:
    lines = [ln.strip() for ln in CONFIG.read_text().splitlines()]
    start = lines.index("Filters = [")
    block = lines[start + 1:lines.index("]", start)]
    entries = [ln for ln in block if ln.startswith("'")]
    assert len(entries) >= 5
    previous = "Filters = ["
    for line in block:
        if line.startswith("'"):
            # directly under a comment, or sharing the comment of the filter above it
            assert previous.startswith(("#", "'")), f"filter without a comment: {line}"
        previous = line


def test_parse_rpmlint_output() -> None:
    msgs = parse_output("tgood.noarch: W: invalid-license Foo\nt.spec:12: E: specfile-error bad\n"
                        " 1 packages and 0 specfiles checked; 1 errors, 1 warnings\n")
    assert [(m.who, m.lineno, m.severity, m.id, m.detail) for m in msgs] == [
        ("tgood.noarch", None, Severity.WARNING, "invalid-license", "Foo"),
        ("t.spec", 12, Severity.ERROR, "specfile-error", "bad")]


@pytest.mark.skipif(not shutil.which("rpmlint"), reason="rpmlint is needed (make setup installs it)")
class TestRpmlint:
    def test_good_rpm_srpm_and_spec_pass_with_project_config(self, built: Built) -> None:
        ctx = ctx_for(built, EL7, "rpmlint-good", rpms=(built.good, built.good_srpm), specs=(built.good_spec,))
        report = RpmlintCheck().run(ctx)
        assert report.passed, report.text()
        ids = {f.check for f in report.findings}
        # legacy license names and dist-less changelog entries are accepted by the config
        assert not ids & {"invalid-license", "incoherent-version-in-changelog", "no-signature", "no-packager-tag"}
        per_pkg = reports(ctx) / "rpmlint-el7"
        assert {p.name for p in per_pkg.glob("*.txt")} == {f"{built.good.name}.txt", f"{built.good_srpm.name}.txt",
                                                           "tgood.spec.txt"}
        assert ": ok" in (per_pkg / f"{built.good.name}.txt").read_text().splitlines()[0]

    def test_rpmlint_error_fails(self, built: Built) -> None:
        ctx = ctx_for(built, EL6, "rpmlint-bad", rpms=(built.nochangelog,))
        report = RpmlintCheck().run(ctx)
        assert "no-changelogname-tag" in {f.check for f in report.errors}, report.text()
        assert_names(report.error_message(), built.nochangelog.name, "no-changelogname-tag", "rpmlint gate",
                     "for el6")
        per_pkg = (reports(ctx) / "rpmlint-el6" / f"{built.nochangelog.name}.txt").read_text()
        assert "FAIL" in per_pkg and "E: no-changelogname-tag" in per_pkg
        # the report describes rpmlint's own ids in rpmlint's words (`rpmlint -e`), in the text and the JSON
        said = report.describe("rpmlint.no-changelogname-tag")
        assert "changelog" in said.lower() and "rpmlint -e" not in said, said
        written = report.write(reports(ctx) / "rpmlint-el6.txt")
        findings = json.loads(written.with_suffix(".json").read_text())["findings"]
        described = {f["id"]: f["description"] for f in findings}
        assert described["rpmlint.no-changelogname-tag"] == said
        assert f"  rpmlint.no-changelogname-tag: {said.splitlines()[0]}" in written.read_text()


    def test_release_filters_allow_the_repository_package_layout(self, built: Built) -> None:
        """The release's own filters (its prefix, its repo package names) reach rpmlint: a
        generated TOML beside the project config, both passed as one -c directory."""
        demo = load(DEMO)
        main = dataclasses.replace(demo.repo("main"), prefix="/opt/trepo-prefix/trepo")
        release = dataclasses.replace(demo, name="trepo", parent_dir="/opt/trepo-prefix",
                                      arch=query_rpm(built.repopkg).arch,
                                      repositories=(main, *demo.repositories[1:]))
        plain = RpmlintCheck().run(ctx_for(built, EL7, "rpmlint-repopkg", rpms=(built.repopkg,)))
        assert {"dir-or-file-in-opt", "no-binary"} <= {f.check for f in plain.errors}, plain.text()
        filtered = RpmlintCheck(extra_filters=release_filters(release)).run(
            ctx_for(built, EL7, "rpmlint-repopkg-filtered", rpms=(built.repopkg,)))
        assert filtered.passed, filtered.text()


# -- running gates together ------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("dnf"), reason="dnf is needed for repoclosure (make setup installs it)")
def test_run_gates_writes_reports_and_raises_one_line(built: Built) -> None:
    repo = createrepo(built.tmp / "repo-run-gates", [built.good, built.zstd], group=True)
    ctx = ctx_for(built, EL6, "run-gates", rpms=(built.good, built.zstd), repos=(repo,), grouped=(repo,),
                  base_repos={"os": str(built.base_repo)})
    # rpmlint is covered above; keep runs few
    gates = [g for g in default_checks(None, CheckOptions(install_check=False)) if g.id != "rpmlint"]
    with pytest.raises(GateError) as exc:
        run_checks(gates, ctx).raise_for_failure()
    assert_names(str(exc.value), "compat gate failed for el6", built.zstd.name, "PayloadIsZstd",
                 "compat-el6.txt")
    assert (reports(ctx) / "compat-el6.txt").read_text().startswith("compat gate (el6): FAILED")
    assert (reports(ctx) / "closure-el6.txt").read_text().startswith("closure gate (el6): PASSED")
