"""`verify` on a signed demo release as published (built once for the module, a throwaway key):
everything passes; each copy with one tamper is caught by name with a non-zero exit; the URL form
over a loopback HTTP server; a repository directory; publish verifies what it uploaded."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import gpgkeys
import pytest
from conftest import DEMO, ROOT

from pmrepo import manifest
from pmrepo.assemble import repopkg
from pmrepo.errors import PublishError
from pmrepo.layout import DistLayout, Layout, Output
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.run import run
from pmrepo.sign import signer as sign

TOOLS = ("gpg", "rpm", "rpmbuild", "rpmsign", "rpm2archive", "createrepo_c")
missing = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} installed (make setup)")

RID = "demo-repo-1.0-1"
MAIN, DEBUG, SRC = (f"el7/demo-repo{s}-1.0-1.el7.x86_64.rpm" for s in ("", "-debuginfo", "-src"))
SBOM, PROV = f"el7/{RID}.el7.spdx.json", f"el7/{RID}.el7.provenance.json"


@dataclass
class Published:
    base: Path
    key: sign.Key
    opts: Options
    release: Path  # the published copy on the mirror
    lines: list[str]  # what publish said


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    base = tmp_path_factory.mktemp("signed-verify")
    key = gpgkeys.generate_key("pmrepo test", "test@pmrepo.invalid")
    saved = {k: os.environ.get(k) for k in (sign.ENV_KEY, "GNUPGHOME")}
    os.environ.update({sign.ENV_KEY: key.fingerprint, "GNUPGHOME": str(key.gnupghome)})
    try:
        opts = Options(release=DEMO, workdir=base / "work", outdir=base / "repo", dists=("el7",), sign=True)
        lines: list[str] = []
        Pipeline(opts, say=lines.append).run_all()
        (base / "mirror").mkdir()
        Pipeline(opts, say=lines.append).run_publish(str(base / "mirror"))
        yield Published(base, key, opts, base / "mirror" / RID, lines)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        gpgkeys.cleanup(key)


def verify(location: Path | str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in (sign.ENV_KEY, "GNUPGHOME")}  # an operator has no key
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "verify", str(location), *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
                          env={**clean, **(env or {})})


def fails(res: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in res.stdout.splitlines() if ln.startswith("FAIL ")]


def test_publish_signed_the_sums_and_verified_the_upload(published: Published) -> None:
    text = "\n".join(published.lines)
    assert f"verify the release in {published.base / 'mirror'}/.staging-{RID}-" in text
    assert "provenance-signature  1       0" in text  # the verification's table, before the switch
    pub = published.release / "el7" / "RPM-GPG-KEY-pmrepo-demo"
    assert sign.verify_detached(published.release / "SHA256SUMS", published.release / "SHA256SUMS.asc",
                                pub) == published.key.fingerprint
    assert "SHA256SUMS.asc" not in (published.release / "SHA256SUMS").read_text()


def test_verify_signed_release_all_pass(published: Published) -> None:
    res = verify(published.release)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    assert fails(res) == [] and "NOT CHECKED" not in res.stdout
    assert published.key.fingerprint in res.stdout  # the key it trusted, said
    rows = {ln.split()[0]: ln.split()[1:4] for ln in res.stdout.splitlines() if ln.split()}
    for check in ("sums", "sums-signature", "key", "rpm-signature", "payload", "repomd-signature", "repodata", "sbom",
                  "provenance", "provenance-signature"):
        assert int(rows[check][0]) > 0 and rows[check][1:] == ["0", "0"], (check, rows.get(check))
    assert rows["rpm-signature"][0] == "21"  # 3 repository packages + the 18 RPMs and SRPMs in them
    assert res.stdout.strip().splitlines()[-1].startswith(f"verify: {published.release}: all ")


def test_the_provenance_envelope_verifies_with_securesystemslib_too(published: Published) -> None:
    """Signed and checked here with gpg through pmrepo.sign.signer; securesystemslib's own pure-Python
    OpenPGP verification (cryptography, no gpg) accepts the same envelope."""
    from securesystemslib._gpg import common  # its OpenPGP packet parser: private, used here only
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import GPGKey, Signature

    envelope = Envelope.from_dict(json.loads((published.release / PROV).read_text()))
    ours = next(iter(envelope.signatures.values()))
    assert ours.keyid == published.key.fingerprint
    packet = common.parse_signature_packet(bytes.fromhex(ours.signature))
    exported = subprocess.run([sign.GPG, "--homedir", str(published.key.gnupghome), "--export",
                               published.key.fingerprint],
                              capture_output=True, check=True).stdout
    bundle = common.get_pubkey_bundle(exported, published.key.fingerprint.lower())
    key = GPGKey(packet["keyid"], bundle["type"], bundle["method"], bundle["keyval"])
    theirs = Envelope(envelope.payload, envelope.payload_type,
                      {packet["keyid"]: Signature(packet["keyid"], packet["signature"],
                                                  {"other_headers": packet["other_headers"]})})
    assert set(theirs.verify([key], 1)) == {packet["keyid"]}
    theirs.payload += b" "
    with pytest.raises(Exception, match="threshold"):
        theirs.verify([key], 1)


# -- one tamper each -----------------------------------------------------------------------------


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _edit_payload(data: dict) -> None:
    stmt = json.loads(base64.b64decode(data["payload"]))
    stmt["predicate"]["buildDefinition"]["internalParameters"]["backend"] = "mock"
    data["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()


def _build_definition_string(data: dict) -> None:
    stmt = json.loads(base64.b64decode(data["payload"]))
    stmt["predicate"]["buildDefinition"] = "x"
    data["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()


def _unwrap(path: Path) -> None:
    data = json.loads(path.read_text())
    path.write_bytes(base64.b64decode(data["payload"]))


def _change_sums_line(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    n = next(i for i, ln in enumerate(lines) if ln.endswith("  el7/build.json\n"))
    lines[n] = ("0" if lines[n][0] != "0" else "1") + lines[n][1:]
    path.write_text("".join(lines))


def _rebuilt_with_edited_repomd(published: Published, copy: Path, tmp: Path) -> None:
    """The main repository package rebuilt (with pmrepo's own template) around an edited
    repomd.xml: what someone without the key can make; it replaces the published one."""
    rel = manifest.load(DEMO)
    dist = rel.dists["el7"]
    signed_work = Layout(RID, published.opts.outdir, published.opts.workdir).dist("el7")
    trees = {}
    for kind, tree in signed_work.trees().items():
        trees[kind] = tmp / "trees" / kind
        shutil.copytree(tree, trees[kind])
    repomd = trees["main"] / "repodata" / "repomd.xml"
    repomd.write_text(repomd.read_text().replace("<revision>", "<revision>9"))
    where = DistLayout(tmp / "work", Output(tmp / "out"), tmp / "staging", "el7", RID)
    rpms = repopkg.build_repo_packages(rel, dist, where, trees=trees, log=tmp / "build.log",
                                       gpg_key=signed_work.public_key(rel.repo("main").repo_id),
                                       sbom_name=where.sbom_name)
    shutil.copyfile(next(p for p in rpms if p.name == Path(MAIN).name), copy / MAIN)


TAMPERS: dict[str, tuple[Callable[[Published, Path, Path], object], list[tuple[str, str]]]] = {
    # name: (what is done to the copy, (file, check) pairs that must each have a FAIL line)
    "an RPM replaced": (lambda p, c, t: shutil.copyfile(c / SRC, c / DEBUG),
                        [(DEBUG, "sums"), (DEBUG, "sbom"), (DEBUG, "provenance")]),
    "an RPM's signature stripped": (lambda p, c, t: run(["rpmsign", "--delsign", str(c / MAIN)]),
                                    [(MAIN, "rpm-signature"), (MAIN, "sums")]),
    "a SHA256SUMS line changed": (lambda p, c, t: _change_sums_line(c / "SHA256SUMS"),
                                  [("el7/build.json", "sums"), ("SHA256SUMS.asc", "sums-signature")]),
    "repomd.xml edited": (_rebuilt_with_edited_repomd,
                          [(f"{MAIN}:/opt/pmrepo-demo/demo/repodata/repomd.xml", "repomd-signature"),
                           (MAIN, "rpm-signature")]),
    "the SBOM edited": (lambda p, c, t: _edit_json(c / SBOM, lambda d: d["packages"][0].update(versionInfo="9-9")),
                        [(SBOM, "sums"), (SBOM, "provenance")]),
    "the provenance edited": (lambda p, c, t: _edit_json(c / PROV, _edit_payload),
                              [(PROV, "provenance-signature"), (PROV, "sums")]),
    "the provenance's signature removed": (lambda p, c, t: _edit_json(c / PROV, lambda d: d.update(signatures=[])),
                                           [(PROV, "provenance-signature")]),
    "the provenance unwrapped from its envelope": (lambda p, c, t: _unwrap(c / PROV), [(PROV, "provenance-signature")]),
    "an extra file": (lambda p, c, t: (c / "el7" / "extra.rpm").write_bytes((c / SRC).read_bytes()),
                      [("el7/extra.rpm", "sums"), ("el7/extra.rpm", "provenance")]),
    # shapes spdx-tools and securesystemslib do not expect: problems, never a traceback
    "the SBOM a JSON array": (lambda p, c, t: (c / SBOM).write_text("[]\n"), [(SBOM, "sbom"), (SBOM, "sums")]),
    "the SBOM's packages a string": (lambda p, c, t: _edit_json(c / SBOM, lambda d: d.update(packages="zz")),
                                     [(SBOM, "sbom"), (SBOM, "provenance")]),
    "the provenance's payload a number": (lambda p, c, t: _edit_json(c / PROV, lambda d: d.update(payload=5)),
                                          [(PROV, "provenance"), (PROV, "provenance-signature")]),
    "the provenance's buildDefinition a string": (lambda p, c, t: _edit_json(c / PROV, _build_definition_string),
                                                  [(PROV, "provenance"), (PROV, "provenance-signature")]),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_each_tamper_is_caught_by_name(published: Published, tmp_path: Path, name: str) -> None:
    tamper, expected = TAMPERS[name]
    copy = tmp_path / RID
    shutil.copytree(published.release, copy)
    tamper(published, copy, tmp_path)
    res = verify(copy)
    assert res.returncode != 0, res.stdout[-2000:]
    lines = fails(res)
    for subject, check in expected:
        assert any(ln.startswith(f"FAIL {subject}: {check}: ") for ln in lines), (subject, check, lines)
    assert res.stderr.strip().splitlines()[-1] == (
        f"build.py: error: {copy}: {len(lines)} problem(s), each on a FAIL line above — fix: do not use this "
        "copy; download the release again from its publisher")


def test_another_key_given_fails_every_signature(published: Published, tmp_path: Path) -> None:
    other = gpgkeys.generate_key("someone else", "other@pmrepo.invalid")
    try:
        pub = sign.export_public_key(other, tmp_path / "other.asc")
        res = verify(published.release, "--key", str(pub))
    finally:
        gpgkeys.cleanup(other)
    assert res.returncode != 0
    checks = {ln.split(": ")[1] for ln in fails(res)}
    assert {"key", "sums-signature", "rpm-signature", "repomd-signature", "provenance-signature"} <= checks
    mine = verify(published.release, "--key", str(published.release / "el7" / "RPM-GPG-KEY-pmrepo-demo"))
    assert mine.returncode == 0, mine.stdout[-2000:]


def test_a_repository_directory(published: Published, tmp_path: Path) -> None:
    """An installed or mirrored repository (its <prefix>/): the repository's own checks."""
    shutil.copyfile(published.release / MAIN, tmp_path / "p.rpm")
    run(["rpm2archive", "-n", str(tmp_path / "p.rpm")])
    run(["tar", "-xf", str(tmp_path / "p.rpm.tar"), "-C", str(tmp_path)])
    repo = tmp_path / "opt" / "pmrepo-demo" / "demo"
    res = verify(repo)
    assert res.returncode == 0 and fails(res) == [], res.stdout[-2000:]
    (repo / "repodata" / "repomd.xml").write_text((repo / "repodata" / "repomd.xml").read_text().replace(
        "<revision>", "<revision>1"))
    gone = next(repo.glob("rpm/demod-1*.rpm"))
    gone.unlink()
    res = verify(repo)
    assert res.returncode != 0
    lines = fails(res)
    assert f"FAIL {repo}/repodata/repomd.xml: repomd-signature: repomd.xml.asc does not verify: repomd.xml or its " \
           "signature was changed, or another key signed it" in lines
    assert f"FAIL {repo}/rpm/{gone.name}: repodata: listed in primary.xml but not in the repository" in lines
    assert any(ln.startswith(f"FAIL {repo}/rpm/{gone.name}: sbom: listed in ") for ln in lines)


def _repository_dir(published: Published, tmp_path: Path) -> Path:
    shutil.copyfile(published.release / MAIN, tmp_path / "p.rpm")
    run(["rpm2archive", "-n", str(tmp_path / "p.rpm")])
    run(["tar", "-xf", str(tmp_path / "p.rpm.tar"), "-C", str(tmp_path)])
    return tmp_path / "opt" / "pmrepo-demo" / "demo"


def _set_locations(repo: Path, hrefs: dict[str, str]) -> None:
    """repomd.xml of ``repo`` with the location of each metadata type in ``hrefs`` changed."""
    import xml.etree.ElementTree as ET
    ns = "http://linux.duke.edu/metadata/repo"
    ET.register_namespace("", ns)
    ET.register_namespace("rpm", "http://linux.duke.edu/metadata/rpm")
    path = repo / "repodata" / "repomd.xml"
    tree = ET.parse(path)
    for data in tree.getroot().findall(f"{{{ns}}}data"):
        kind, location = data.get("type"), data.find(f"{{{ns}}}location")
        if kind in hrefs:
            assert kind is not None and location is not None, path
            location.set("href", hrefs[kind])
    tree.write(path, xml_declaration=True, encoding="UTF-8")


def test_a_repository_whose_repomd_leads_outside_or_to_a_fifo(published: Published, tmp_path: Path) -> None:
    """repomd.xml of a mirrored repository is input: a location outside it (absolute, ``..``) or at a
    FIFO is a problem, never opened — verify used to wait on the FIFO for good, and hash /etc/shadow."""
    repo = _repository_dir(published, tmp_path)
    os.mkfifo(repo / "repodata" / "fifo.xml.gz")
    os.mkfifo(tmp_path / "opt" / "pmrepo-demo" / "outside.xml.gz")
    _set_locations(repo, {"primary": "repodata/fifo.xml.gz", "other": "/etc/shadow",
                          "filelists": "../outside.xml.gz"})
    res = subprocess.run([sys.executable, str(ROOT / "build.py"), "verify", str(repo)], capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr[-2000:]
    lines = fails(res)
    assert f"FAIL {repo}/repodata/fifo.xml.gz: repodata: primary: a FIFO, not a regular file" in lines, lines
    assert f"FAIL {repo}//etc/shadow: repodata: other: its location '/etc/shadow' is outside the repository" in lines
    assert (f"FAIL {repo}/../outside.xml.gz: repodata: filelists: its location '../outside.xml.gz' is outside "
            "the repository") in lines, lines
    assert (f"FAIL {repo}/repodata/repomd.xml: repodata: {repo}/repodata/fifo.xml.gz: unreadable primary metadata: "
            "a FIFO, not a regular file") in lines, lines  # never opened for reading


def test_a_repository_whose_primary_inflates_without_end(published: Published, tmp_path: Path) -> None:
    """A small primary.xml.gz that inflates past the bound (64 MiB) stops there: one problem line."""
    import gzip
    import xml.etree.ElementTree as ET
    repo = _repository_dir(published, tmp_path)
    href = ET.parse(repo / "repodata" / "repomd.xml").getroot().find(
        "{http://linux.duke.edu/metadata/repo}data[@type='primary']/{http://linux.duke.edu/metadata/repo}location")
    primary = repo / href.get("href")  # type: ignore[union-attr,operator]
    with gzip.open(primary, "wb", compresslevel=9) as gz:
        gz.write(b'<?xml version="1.0"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" packages="1">')
        for _ in range(80):
            gz.write(b" " * (1 << 20))
    assert primary.stat().st_size < 200_000
    res = subprocess.run([sys.executable, str(ROOT / "build.py"), "verify", str(repo)], capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert any(ln.startswith(f"FAIL {repo}/repodata/repomd.xml: repodata: ")
               and "more than 67108864 bytes decompressed" in ln for ln in fails(res)), fails(res)


# -- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """A loopback HTTP server of a directory: the URL of a release in it."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(release: Path, under: str = "mirror") -> str:
        shutil.copytree(release, root / under / release.name)
        return f"http://127.0.0.1:{server.server_address[1]}/{under}/{release.name}/"

    try:
        yield serve
    finally:
        server.shutdown()
        server.server_close()


def test_verify_url(published: Published, served: Callable[..., str], tmp_path: Path) -> None:
    url = served(published.release)
    res = verify(url)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    assert fails(res) == []
    # what HTTP cannot show, said: files SHA256SUMS does not name
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("NOT CHECKED")] == [
        "NOT CHECKED (files not listed): sums: over HTTP there is no listing: "
        "files SHA256SUMS does not name are not seen"]
    copy = tmp_path / "tampered" / RID
    shutil.copytree(published.release, copy)
    _change_sums_line(copy / "SHA256SUMS")
    bad = verify(served(copy, "tampered"))
    assert bad.returncode != 0 and any(ln.startswith("FAIL SHA256SUMS.asc: sums-signature: ") for ln in fails(bad))
    # downloads are bounded: a file larger than the cap is a problem, not a hang
    capped = verify(url, env={"PMREPO_FETCH_MAX_BYTES": "20000"})
    assert capped.returncode != 0
    assert any(ln.startswith(f"FAIL {MAIN}: files: download failed: ") and "more than 20000" in ln
               for ln in fails(capped)), fails(capped)


def _publish_copy(published: Published, tmp_path: Path, change: Callable[[Path], object]) -> tuple[Path, list[str]]:
    """Publish a copy of the signed output, changed by ``change`` first, to a new mirror."""
    outdir = tmp_path / "repo"
    shutil.copytree(published.opts.outdir / RID, outdir / RID)
    change(outdir / RID)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    lines: list[str] = []
    opts = Options(release=DEMO, workdir=published.opts.workdir, outdir=outdir, dists=("el7",))
    Pipeline(opts, say=lines.append).run_publish(str(mirror))
    return mirror / RID, lines


def test_publish_takes_rerun_check_reports_into_the_provenance(published: Published, tmp_path: Path) -> None:
    """`gate` after `all` rewrites the output's check reports: publish brings the provenance's
    subjects up to date (its signature checked first, then signed again) and says so."""
    report = "el7/gates/digest-el7.txt"
    release, lines = _publish_copy(published, tmp_path, lambda d: (d / report).write_text("rerun\n"))
    assert any("provenance subjects brought up to date (1 check report(s)" in ln for ln in lines)
    res = verify(release)
    assert res.returncode == 0, res.stdout[-2000:]
    stmt = json.loads(base64.b64decode(json.loads((release / PROV).read_text())["payload"]))
    assert stmt["predicate"]["runDetails"]["byproducts"][0]["annotations"]["files"] == [report]


@pytest.mark.parametrize(("what", "change", "message"), [
    ("the SBOM", lambda d: (d / SBOM).write_text((d / SBOM).read_text().replace('"MIT"', '"GPL-2.0-only"', 1)),
     f"{SBOM}: differs from its subject in {Path(PROV).name} (changed after the build)"),
    ("the provenance", lambda d: _edit_json(d / PROV, _edit_payload), "signature 0 does not verify"),
])
def test_publish_refuses_an_output_changed_after_the_build(published: Published, tmp_path: Path, what: str,
                                                           change: Callable[[Path], None], message: str) -> None:
    from pmrepo.errors import AttestationError, SigningError

    with pytest.raises((AttestationError, SigningError)) as err:
        _publish_copy(published, tmp_path, change)
    assert message in str(err.value), what
    assert os.listdir(tmp_path / "mirror") == []  # refused before anything was uploaded


def test_publish_refuses_an_upload_that_does_not_verify(published: Published, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The mirror's copy is verified before the switch: a file that appears there during the upload
    (not in SHA256SUMS, which the sha256 check alone never sees) stops the release."""
    from pmrepo.publish.mirrors import DirTarget

    upload = DirTarget.upload

    def upload_and_more(self: DirTarget, source_dir: Path, files: list[str], staging: str) -> None:
        upload(self, source_dir, files, staging)
        (self.root / staging / "el7" / "stray.rpm").write_bytes(b"not ours")

    monkeypatch.setattr(DirTarget, "upload", upload_and_more)
    with pytest.raises(PublishError) as err:
        _publish_copy(published, tmp_path, lambda d: None)
    assert "verification of the upload failed" in str(err.value) and "not switched into place" in str(err.value)
    assert "first: el7/stray.rpm: sums: not listed in SHA256SUMS" in str(err.value)
    assert not (tmp_path / "mirror" / RID).exists()


def test_publish_over_webdav_verifies_through_the_targets_session(published: Published, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An HTTP mirror: the uploaded copy is verified over HTTP, with publish's own credentials."""
    from webdav_server import DavServer, DavState

    from pmrepo.publish import mirrors as publish_targets

    monkeypatch.setenv(publish_targets.ENV_USER, "u")
    monkeypatch.setenv(publish_targets.ENV_PASSWORD, "p")
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    www = tmp_path / "www"
    (www / "mirror").mkdir(parents=True)
    lines: list[str] = []
    with DavServer(DavState(root=www, auth=("u", "p"))) as dav:
        opts = Options(release=DEMO, workdir=published.opts.workdir, outdir=published.opts.outdir, dists=("el7",),
                       allow_insecure_auth=True)  # loopback, plain http
        Pipeline(opts, say=lines.append).run_publish(dav.url + "mirror/")
        gets = [p for m, p, c in dav.state.log if m == "GET" and c == 200 and p.endswith(f"/{Path(PROV).name}")]
    assert len(gets) == 2  # the sha256 check, then the verification of the upload
    assert "\nprovenance-signature  1       0       0" in "\n".join(lines)
    res = verify(www / "mirror" / RID)
    assert res.returncode == 0, res.stdout[-2000:]


def test_publish_verification_pass_meets_the_deadline_of_a_slow_mirror(published: Published, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The verification of the upload goes through the target's session and its watchdog: a mirror
    that dribbles the headers of its second answer for a file (publish's own sha256 check got the
    first) stops publish at the deadline, before the switch, its staging removed (review M6: it
    waited; the publish session follows no redirect either)."""
    import time

    from webdav_server import DavServer, DavState

    from pmrepo.errors import PmrepoError
    from pmrepo.publish import mirrors as publish_targets

    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("PMREPO_FETCH_DEADLINE", "3")
    www = tmp_path / "www"
    (www / "mirror").mkdir(parents=True)
    with DavServer(DavState(root=www, slow_get_again=True, trickle=0.2, endless_seconds=60)) as dav:
        target = publish_targets.make_target(dav.url + "mirror/")
        assert isinstance(target, publish_targets.HttpTarget)
        assert target.client.session is target.session and target.client.watchdog is target.watchdog
        assert target.client.allow_redirects is False
        opts = Options(release=DEMO, workdir=published.opts.workdir, outdir=published.opts.outdir, dists=("el7",))
        t0 = time.monotonic()
        with pytest.raises(PmrepoError) as err:
            Pipeline(opts, say=lambda _: None).run_publish(dav.url + "mirror/")
        seconds = time.monotonic() - t0
    msg = str(err.value)
    assert "\n" not in msg and "/SHA256SUMS: cannot download it" in msg and "not finished after 3s" in msg, msg
    assert seconds < 60, seconds
    assert os.listdir(www / "mirror") == [], "staging (or the release) left on the mirror"
