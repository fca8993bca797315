"""Reuse the build (Koji's rule): demo 1.0-1 -> 1.1-1 with demo-tools changed, 1.1 built in a FRESH
work directory with 1.0's published output beside it — the unchanged components are taken from
1.0's repository packages, not built.

* through the mock stand-in, whose el6/el7 builds are never byte-identical (the roots' rpm predates
  SOURCE_DATE_EPOCH, as real mock's): a rebuild has other bytes (the NEVRA gate refused it before),
  reuse passes the gate, and mock is asked to build demo-tools only;
* a tampered previous output (a repository package's payload, a digest its build.json records) is
  refused in one line, nothing taken and nothing built in its place;
* signed: the same key keeps the published file, another key replaces the signature, an unsigned
  release strips it — the gate passes each time;
* `plan` says which jobs are reused, which are built and why, and warns about a reused build whose
  dependency is built anew.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gpgkeys
import pytest
from conftest import DEMO, DemoBuild

from pmrepo.errors import BuildError, PmrepoError
from pmrepo.manifest.next_release import derive
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.records import BuildRecord
from pmrepo.rpmfile import layout as rpm_layout
from pmrepo.rpmfile import unsigned_digest
from pmrepo.sign import signer as sign

TOOLS = ("rpmbuild", "createrepo_c", "rpm2archive", "rpmsign", "gpg")
missing = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} installed (make setup)")

FAKE_DIR = Path(__file__).resolve().parents[1] / "fake_mock"
PREV, NEXT = "demo-repo-1.0-1", "demo-repo-1.1-1"
UNCHANGED = ["demo-extras", "demo-plugin", "demo-units", "demod", "libdemo"]  # el7; demo-tools 2.0 -> 2.1


def next_release(base: Path, sets: tuple[str, ...] = ("demo-tools=2.1-1",)) -> tuple[Path, Path]:
    """A copy of the demo (1.0-1) and 1.1-1 derived from it by new-release: (1.0's manifest, 1.1's)."""
    shutil.copytree(DEMO.parent, base / "demo")
    first = base / "demo" / "release.toml"
    return first, derive(first, "1.1", "1", "2026-12-01", list(sets)).path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_rpms(work: Path, release_id: str, dist: str = "el7") -> dict[str, Path]:
    return {p.name: p for p in sorted((work / release_id / dist).glob("*tree/rpm/*.rpm"))}


# -- mock: reuse is what makes a fresh work directory pass the NEVRA gate ---------------------------

@dataclass
class MockLine:
    base: Path
    first: Path  # 1.0-1's manifest
    nxt: Path  # 1.1-1's
    out: Path  # the output root of both
    calls: Path  # the stand-in's record


@pytest.fixture(scope="module")
def mock_line(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockLine]:
    base = tmp_path_factory.mktemp("reuse-mock")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{FAKE_DIR}{os.pathsep}{os.environ['PATH']}")
        for var in [v for v in os.environ if v.startswith(("FAKE_MOCK_", "PMREPO_MIRROR_"))]:
            mp.delenv(var)
        for var, sub in (("RECORD", "calls.jsonl"), ("BASEDIR", "mock-lib"), ("CACHEDIR", "mock-cache"),
                         ("CONFDIR", "mock-etc"), ("HOME", "mock-home")):
            mp.setenv(f"FAKE_MOCK_{var}", str(base / sub))
        first, nxt = next_release(base)
        opts = Options(release=first, workdir=base / "work-1.0", outdir=base / "repo", backend="mock",
                       dists=("el7",), install_check=False)
        Pipeline(opts, say=lambda _: None).run_all()
        yield MockLine(base, first, nxt, base / "repo", base / "calls.jsonl")


def rebuilt(line: MockLine) -> list[str]:
    """The SRPMs the stand-in rebuilt, in order."""
    calls = [json.loads(ln) for ln in line.calls.read_text().splitlines()]
    return [Path(c["argv"][c["argv"].index("--rebuild") + 1]).name for c in calls if c.get("mode") == "rebuild"]


def test_mock_rebuilds_differ_so_only_reuse_passes_the_gate(mock_line: MockLine) -> None:
    """The premise first: libdemo rebuilt with mock in another work directory has other bytes than 1.0's
    (what the NEVRA gate refused for every unchanged component before reuse: "has other bytes than …").
    Then 1.1-1 in a fresh work directory passes: the five unchanged components are reused from 1.0-1 —
    the stand-in's record shows only demo-tools rebuilt — and the gate finds the same builds."""
    again = Options(release=mock_line.first, workdir=mock_line.base / "work-again", outdir=mock_line.base / "o2",
                    backend="mock", dists=("el7",), components=("libdemo",), install_check=False)
    Pipeline(again, say=lambda _: None).run_build()
    old = tree_rpms(mock_line.base / "work-1.0", PREV)["libdemo-1.2-1.el7.x86_64.rpm"]
    (new,) = (mock_line.base / "work-again" / "store" / "el7" / "libdemo").glob("*/libdemo-1.2-1.el7.x86_64.rpm")
    assert sha256(new) != sha256(old) and unsigned_digest(new) != unsigned_digest(old)  # not reproducible

    before = len(rebuilt(mock_line))
    lines: list[str] = []
    opts = Options(release=mock_line.nxt, workdir=mock_line.base / "work-1.1", outdir=mock_line.out,
                   backend="mock", dists=("el7",), install_check=False)
    outputs = Pipeline(opts, say=lines.append).run_all()
    text = "\n".join(lines)
    assert rebuilt(mock_line)[before:] == ["demo-tools-2.1-1.el7.src.rpm"], text  # nothing else was built
    assert f"el7: reused from {PREV}, not built (5): {', '.join(UNCHANGED)}" in text
    assert "building 1 jobs (6 components x 1 dists) with mock, 1 at a time; 5 taken from the previous release" in text
    for comp in UNCHANGED:
        assert f"{comp} el7: reused from {PREV} in " in text  # progress
        assert any(ln.split()[:5] == [comp, "el7", "reused", "from", PREV] for ln in text.splitlines()), comp  # summary
    assert any(ln.split()[:3] == ["demo-tools", "el7", "built"] for ln in text.splitlines())
    rec = BuildRecord.read(outputs["el7"] / "build.json")
    assert f"NEVRA: 15 package(s) also in {PREV}, the same builds" in rec.checks["gates"], rec.checks
    old_rpms, new_rpms = tree_rpms(mock_line.base / "work-1.0", PREV), tree_rpms(opts.workdir, NEXT)
    assert sorted(rec.reused) == sorted(n for n in old_rpms if not n.startswith(("demo-tools", "demo-all")))
    for name, taken in rec.reused.items():  # each the very file 1.0-1 published, recorded with where it came from
        assert sha256(new_rpms[name]) == sha256(old_rpms[name]) == taken.sha256 and taken.release == PREV
        assert taken.repo_package.startswith("demo-repo-") and taken.path.endswith(f"/rpm/{name}")
    prov = json.loads((outputs["el7"] / f"{NEXT}.el7.provenance.json").read_text())
    deps = prov["predicate"]["buildDefinition"]["resolvedDependencies"]
    taken_deps = {d["name"]: d for d in deps if d["annotations"]["origin"] == "previous release"}
    assert sorted(taken_deps) == sorted(rec.reused)
    libdemo = "libdemo-1.2-1.el7.x86_64.rpm"
    assert taken_deps[libdemo]["digest"]["sha256"] == sha256(old_rpms[libdemo])
    # --force libdemo: taken from 1.0-1's output again, not rebuilt (a rebuild would be another build of the NEVRA)
    lines.clear()
    entry = next((opts.workdir / "store" / "el7" / "libdemo").iterdir())
    (entry / "libdemo-1.2-1.el7.x86_64.rpm").write_bytes(b"damaged in the store")
    Pipeline(Options(release=mock_line.nxt, workdir=opts.workdir, outdir=mock_line.out, backend="mock",
                     dists=("el7",), install_check=False, force=frozenset({"libdemo"})), say=lines.append).run_all()
    assert rebuilt(mock_line)[before:] == ["demo-tools-2.1-1.el7.src.rpm"]
    assert f"libdemo el7: reused from {PREV} in " in "\n".join(lines)
    assert sha256(entry / "libdemo-1.2-1.el7.x86_64.rpm") == sha256(old_rpms["libdemo-1.2-1.el7.x86_64.rpm"])


# -- a tampered previous output is refused, not reused ------------------------------------------------

def _tamper_setup(demo_build: DemoBuild, tmp_path: Path) -> tuple[Path, Options]:
    """A copy of 1.0-1's el7 output to tamper with, and 1.1-1's options against it (a fresh work dir)."""
    prev = tmp_path / "prev"
    shutil.copytree(demo_build.outdir / PREV / "el7", prev / PREV / "el7")
    _, nxt = next_release(tmp_path)
    return prev, Options(release=nxt, workdir=tmp_path / "work", outdir=tmp_path / "repo", dists=("el7",),
                         install_check=False, upgrade_from=prev)


def _refused(opts: Options, refused: list[str]) -> str:
    """The run's one-line error; nothing assembled, and no store entry for the ``refused`` components."""
    with pytest.raises(PmrepoError) as err:
        Pipeline(opts, say=lambda _: None).run_all()
    msg = str(err.value)
    assert isinstance(err.value, BuildError) and "\n" not in msg, msg
    assert f"not reused from {PREV}: " in msg and "(what does not verify is neither taken nor built)" in msg, msg
    assert not (opts.outdir / NEXT).exists()  # nothing assembled
    store = opts.workdir / "store" / "el7"
    assert not any((store / c).exists() for c in refused)  # nothing taken, nothing built in its place
    return msg


def test_a_tampered_repository_package_payload_is_refused(demo_build: DemoBuild, tmp_path: Path) -> None:
    """A byte of the main repository package's payload changed (and build.json made to agree with the
    new file): rpm -K finds the payload digest wrong; the jobs fail in one line naming the package."""
    prev, opts = _tamper_setup(demo_build, tmp_path)
    rpm = prev / PREV / "el7" / f"{PREV}.el7.x86_64.rpm"
    data = bytearray(rpm.read_bytes())
    data[-200] ^= 0xFF
    rpm.write_bytes(bytes(data))
    record = json.loads((rpm.parent / "build.json").read_text())
    record["files"][rpm.name]["sha256"] = sha256(rpm)
    (rpm.parent / "build.json").write_text(json.dumps(record))
    msg = _refused(opts, UNCHANGED)  # every job: the package that carries them does not verify
    assert f"{rpm}: rpm -K: " in msg and "NOT OK" in msg, msg


def test_a_digest_its_build_json_does_not_record_is_refused(demo_build: DemoBuild, tmp_path: Path) -> None:
    """1.0-1's build.json records another sha256 for libdemo's RPM than the one its repository package
    carries: refused naming the RPM, the package and both digests."""
    prev, opts = _tamper_setup(demo_build, tmp_path)
    bj = prev / PREV / "el7" / "build.json"
    record = json.loads(bj.read_text())
    record["rpms"]["libdemo-1.2-1.el7.x86_64.rpm"]["sha256"] = "0" * 64
    bj.write_text(json.dumps(record))
    msg = _refused(opts, ["libdemo"])  # each job's RPMs are checked on their own: the others verify
    assert msg.startswith("1 build(s) failed, 0 skipped; first: libdemo (el7): "), msg  # reused jobs wait for none
    assert (f"libdemo-1.2-1.el7.x86_64.rpm in {PREV}.el7.x86_64.rpm (/opt/pmrepo-demo/demo/rpm/libdemo-1.2-1.el7"
            f".x86_64.rpm) has sha256 ") in msg and f"{bj} records 0000000000000000…" in msg, msg


# -- signed: the same key keeps the published file, another replaces its signature ------------------

@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[sign.Key, sign.Key]]:
    a, b = gpgkeys.generate_key("pmrepo A", "a@pmrepo.invalid"), gpgkeys.generate_key("pmrepo B", "b@pmrepo.invalid")
    yield a, b
    gpgkeys.cleanup(a)
    gpgkeys.cleanup(b)


def _use(monkeypatch: pytest.MonkeyPatch, key: sign.Key) -> None:
    monkeypatch.setenv(sign.ENV_KEY, key.fingerprint)
    monkeypatch.setenv("GNUPGHOME", str(key.gnupghome))


def test_reuse_from_a_signed_release(tmp_path: Path, keys: tuple[sign.Key, sign.Key],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = keys
    first, nxt = next_release(tmp_path)
    out = tmp_path / "repo"
    _use(monkeypatch, a)
    Pipeline(Options(release=first, workdir=tmp_path / "w1", outdir=out, dists=("el7",), sign=True,
                     install_check=False), say=lambda _: None).run_all()
    published = tree_rpms(tmp_path / "w1", PREV)
    libdemo = "libdemo-1.2-1.el7.x86_64.rpm"
    assert rpm_layout(published[libdemo]).signed

    def build(key: sign.Key | None, work: str) -> tuple[dict[str, Path], BuildRecord]:
        if key is None:
            monkeypatch.delenv(sign.ENV_KEY)
        else:
            _use(monkeypatch, key)
        opts = Options(release=nxt, workdir=tmp_path / work, outdir=tmp_path / f"out-{work}", sign=key is not None,
                       dists=("el7",), install_check=False, upgrade_from=out)
        outputs = Pipeline(opts, say=lambda _: None).run_all()
        rec = BuildRecord.read(outputs["el7"] / "build.json")
        assert f"NEVRA: 15 package(s) also in {PREV}, the same builds" in rec.checks["gates"], rec.checks
        assert len(rec.reused) == 15 and libdemo in rec.reused
        return tree_rpms(opts.workdir, NEXT), rec

    same, _ = build(a, "w-a")  # the same key: rpmsign keeps the signature, the file is the one published
    assert all(sha256(same[n]) == sha256(p) for n, p in published.items() if n in same and "demo-tools" not in n
               and "demo-all" not in n)
    other, _ = build(b, "w-b")  # another key: its signature replaces A's; the build (header+payload) is the same
    assert sha256(other[libdemo]) != sha256(published[libdemo])
    assert unsigned_digest(other[libdemo]) == unsigned_digest(published[libdemo])
    ok = sign.check_rpms([other[libdemo]], tmp_path / "out-w-b" / NEXT / "el7" / sign_key_name(tmp_path / "out-w-b"))
    assert ok[0].ok, ok
    unsigned, rec = build(None, "w-none")  # an unsigned release ships no signature, not even a taken one
    assert not any(rpm_layout(p).signed for p in unsigned.values())
    assert unsigned_digest(unsigned[libdemo]) == unsigned_digest(published[libdemo]) and not rec.signed


def sign_key_name(out: Path) -> str:
    (key,) = (out / NEXT / "el7").glob("RPM-GPG-KEY-*")
    return key.name


# -- plan ------------------------------------------------------------------------------------------

def test_plan_says_what_is_reused_and_what_is_built(demo_build: DemoBuild, tmp_path: Path) -> None:
    """With libdemo changed (1.3-1): the four other components of el7 (three of el6) are reused, libdemo is
    built, and demod — reused, but built against libdemo 1.2 — gets the fix to rebuild it. Without the
    previous output nothing is reused, and plan says why."""
    _, nxt = next_release(tmp_path, ("libdemo=1.3-1",))
    lines: list[str] = []
    Pipeline(Options(release=nxt, workdir=tmp_path / "work", outdir=tmp_path / "repo",
                     upgrade_from=demo_build.outdir), say=lines.append).run_plan()
    text = "\n".join(lines)
    assert f"  el7: reused from {PREV}, not built (5): demo-extras, demo-plugin, demo-tools, demo-units, demod" in text
    assert f"  el6: reused from {PREV}, not built (4): demo-extras, demo-plugin, demo-tools, demod" in text
    assert (f"el7: demod is {PREV}'s build, made against its libdemo, which is built anew here — fix: bump "
            "components.demod.release in 1.1-1.toml to rebuild it against it") in text
    rows = {tuple(ln.split()[:4]) for ln in text.splitlines()}
    assert ("demod", "1.0-3.el7", "demod", "reused") in rows and ("libdemo", "1.3-1.el7", "libdemo", "built") in rows
    lines.clear()
    Pipeline(Options(release=nxt, workdir=tmp_path / "work", outdir=tmp_path / "repo"), say=lines.append).run_plan()
    assert (f"  el7: nothing reused from the previous release: {PREV} is not in {tmp_path / 'repo'} "
            f"(no {PREV}.el7.x86_64.rpm) — fix: pass --upgrade-from DIR") in "\n".join(lines)
