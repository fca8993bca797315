"""Nothing unverified ships (issue 10): reused artifacts are verified again on
use, manifest values are data, paths stay in the release's tree, publish
vouches for what it uploads, and failures end in lines that say what and where.

Each test feeds the fault or the hostile input and asserts what must happen;
run against the code before this work, each of them fails."""
from __future__ import annotations

import errno
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DEMO, ROOT
from synthetic import make_release

import pmrepo
from pmrepo import manifest, sources
from pmrepo.assemble import repository
from pmrepo.errors import ManifestError, PmrepoError, RepositoryError, SourceError, SpecError
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.run import run

# -- helpers ------------------------------------------------------------------------


def _tarball(text: str) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = text.encode()
        info = tarfile.TarInfo("x/README")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


GOOD = _tarball("the real source")
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()
OTHER = _tarball("another valid tarball")


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/x-1.tar.gz":
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD)
        else:
            self.send_error(404)


@pytest.fixture()
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _run(manifest_path: Path, tmp: Path, **kw: object) -> tuple[dict[str, Path], list[str]]:
    lines: list[str] = []
    opts = Options(release=manifest_path, workdir=tmp / "work", outdir=tmp / "out", **kw)  # type: ignore[arg-type]
    return Pipeline(opts, say=lines.append).run_all(), lines


def _digests_ok(rpm: Path) -> bool:
    return run(["rpm", "-K", "--nosignature", str(rpm)], check=False).returncode == 0


def _flip(path: Path, at: float = 0.9, n: int = 4) -> None:
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    for k in range(n):
        data[i + k] ^= 0xFF
    path.write_bytes(bytes(data))


# -- 1. verify on every use: the source cache -----------------------------------------


def test_cache_swap_is_detected_and_refetched(server: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A cache entry replaced by another valid tarball is never used."""
    f = sources.Fetcher(tmp_path / "cache")
    url = f"{server}/x-1.tar.gz"
    entry = f.fetch(url, GOOD_SHA)
    entry.write_bytes(OTHER)  # swapped: same name, other (valid) content
    with caplog.at_level("WARNING", logger="pmrepo.sources.fetch"):
        assert f.fetch(url, GOOD_SHA).read_bytes() == GOOD
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and str(entry) in said[0] and "deleted" in said[0], said


def test_cache_bit_flip_unreachable_source_one_line(tmp_path: Path) -> None:
    """A damaged entry whose source cannot be reached: deleted, one line naming it."""
    f = sources.Fetcher(tmp_path / "cache")
    entry = tmp_path / "cache" / GOOD_SHA
    entry.parent.mkdir()
    entry.write_bytes(GOOD)
    _flip(entry, 0.5)
    with pytest.raises(SourceError) as exc:
        f.fetch("http://127.0.0.1:9/x-1.tar.gz", GOOD_SHA)  # port 9: nothing listens
    msg = str(exc.value)
    assert "\n" not in msg and str(entry) in msg and "deleted" in msg, msg
    assert not entry.exists()


# -- 1. verify on every use: the build store ------------------------------------------


def _stored_rpm(tmp: Path, comp: str = "a") -> Path:
    found = sorted((tmp / "work" / "store" / "el7" / comp).glob(f"*/{comp}-1.0-1.el7.x86_64.rpm"))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("fault", ["bit-flip", "truncation"])
def test_damaged_store_entry_is_discarded_and_rebuilt(tmp_path: Path, fault: str,
                                                      capfd: pytest.CaptureFixture[str]) -> None:
    m = make_release(tmp_path / "rel", {"a": []})
    _first, _ = _run(m, tmp_path, gates=False, install_check=False)
    stored = _stored_rpm(tmp_path)
    size = stored.stat().st_size
    if fault == "bit-flip":
        _flip(stored)
        assert stored.stat().st_size == size
    else:
        with open(stored, "r+b") as fh:
            fh.truncate(size // 2)
    capfd.readouterr()
    _outputs, lines = _run(m, tmp_path, gates=False, install_check=False)
    out = capfd.readouterr()
    # said in the run's own output (its progress lines go through the pipeline's console)
    said = [ln for ln in lines + out.err.splitlines() if "build store:" in ln]
    assert len(said) == 1 and str(stored) in said[0] and "discarded, rebuilding a (el7)" in said[0], lines
    shipped = tmp_path / "work" / "synth-repo-1.0-1" / "el7" / "tree" / "rpm" / "a-1.0-1.el7.x86_64.rpm"
    assert _digests_ok(shipped) and _digests_ok(_stored_rpm(tmp_path))


def test_createrepo_dropping_a_package_is_an_error(tmp_path: Path) -> None:
    """createrepo_c skips a truncated RPM and exits 0; the index must match the tree."""
    top = tmp_path / "b"
    spec = tmp_path / "p.spec"
    spec.write_text("Name: p\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n"
                    "%description\nd\n%files\n")
    run(["rpmbuild", "-bb", "--define", f"_topdir {top}", str(spec)])
    spec.write_text(spec.read_text().replace("Name: p", "Name: q"))
    run(["rpmbuild", "-bb", "--define", f"_topdir {top}", str(spec)])
    p, q = sorted((top / "RPMS" / "noarch").glob("*.rpm"))
    data = q.read_bytes()
    q.write_bytes(data[: len(data) // 3])
    with pytest.raises(RepositoryError) as exc:
        repository.make_repository(tmp_path / "repo", [p, q], groupfile=None, revision=1, log=tmp_path / "cr.log")
    msg = str(exc.value)
    assert "indexed 1 of 2 packages" in msg and f"rpm/{q.name}" in msg and "\n" not in msg, msg


# -- 2. the digest gate ----------------------------------------------------------------


def test_digest_gate_fails_on_a_damaged_rpm(tmp_path: Path) -> None:
    from pmrepo.checks import CheckContext, default_checks, run_checks

    spec = tmp_path / "p.spec"
    spec.write_text("Name: p\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n"
                    "%description\nd\n%install\nmkdir -p %{buildroot}/opt\n"
                    "head -c 20000 /dev/urandom > %{buildroot}/opt/f\n"
                    "%files\n/opt/f\n")
    run(["rpmbuild", "-bb", "--define", f"_topdir {tmp_path / 'b'}", str(spec)])
    rpm = next((tmp_path / "b" / "RPMS").rglob("*.rpm"))
    _flip(rpm)
    gates = [g for g in default_checks(None) if g.id == "digest"]
    assert gates, "no digest gate among the default gates"
    ctx = CheckContext(release=None, dist=manifest.load(DEMO).dists["el7"],
                       report_dir=tmp_path / "reports", rpms=(rpm,))
    with pytest.raises(PmrepoError) as exc:
        run_checks(gates, ctx).raise_for_failure()
    assert "digest gate failed for el7" in str(exc.value) and rpm.name in str(exc.value)


# -- 3. manifest values are data -----------------------------------------------------

BASE = textwrap.dedent("""\
    [release]
    version = "1.0"
    release = "1"
    date = 2026-01-01
    spec_dir = "specs"
    {release}
    [dists.el7]
    rhel = 7
    {dist}
    [[components]]
    name = "x"
    version = "1"
    release = "1"
    require = "="
    packages = ["x"]
    {component}
    """)


def _manifest(tmp: Path, release: str = "", dist: str = "", component: str = "") -> Path:
    (tmp / "specs").mkdir(parents=True, exist_ok=True)
    (tmp / "specs" / "x.spec.j2").write_text("Name: {{ name }}\n")
    path = tmp / "r.toml"
    path.write_text(BASE.format(release=release, dist=dist, component=component))
    return path


HOSTILE = [
    # (row, section, toml line, field named in the error)
    ("release name, trailing newline", "release", 'name = "pacemaker-repo\\n"', "release.name"),
    ("metapackage path", "release", 'metapackage = "../../../../tmp/canary/x"', "release.metapackage"),
    ("group_id newline", "release", 'group_id = "g\\n<evil/>"', "release.group_id"),
    ("repo_id section injection", "release", 'repo_id = "x]\\ngpgcheck=0\\n[y"', "release.repo_id"),
    ("repo_file newline", "release", 'repo_file = "a\\n.repo"', "release.repo_file"),
    ("arch option", "release", 'arch = "x86_64 --define"', "release.arch"),
    ("summary newline adds Requires", "release", 'summary = "s\\nRequires: evil"', "release.summary"),
    ("repo_name newline", "release", 'repo_name = "r\\ngpgcheck=0"', "release.repo_name"),
    ("group_name control char", "release", 'group_name = "g\\u0007"', "release.group_name"),
    ("vendor newline", "release", 'vendor = "v\\n%post"', "release.vendor"),
    ("url newline", "release", 'url = "https://x/\\nRequires: evil"', "release.url"),
    ("packager newline", "release", 'packager = "p\\n* entry"', "release.packager"),
    ("description %post line", "release", 'description = "d\\n%post -p <lua>"', "release.description"),
    ("dist tag trailing newline", "dist", 'tag = ".el7\\n"', "dists.el7.tag"),
    ("image is an option", "dist", 'image = "--privileged"', "dists.el7.image"),
    ("os_requires newline adds %post", "dist", 'os_requires = ["ipmitool\\n%post"]', "dists.el7.os_requires"),
    ("macro value newline", "dist", 'macros = { x = "1\\n%post" }', "dists.el7.macros.x"),
    ("base_repos url newline", "dist", 'base_repos = { os = "http://x/\\ngpgcheck=0" }', "dists.el7.base_repos.os"),
    ("changes %post scriptlet", "component", 'changes = "c\\n%post -p <lua>\\nos.execute(\'id\')"',
     "components.x.changes"),
    ("known_issues %if", "component", 'known_issues = "k\\n  %if 0"', "components.x.known_issues"),
    ("component summary newline", "component", 'summary = "s\\nRequires: evil"', "components.x.summary"),
    ("note group title newline", "release", 'note_groups = { main = "Main\\nRequires: x" }',
     "release.note_groups.main"),
    ("source filename newline", "component", 'sources = [{ url = "https://h/x.tgz", filename = "x.tgz\\n" }]',
     "components.x.sources[0].filename"),
    ("source url newline", "component", 'sources = [{ url = "https://h/x.tgz\\n%post" }]',
     "components.x.sources[0].url"),
]


@pytest.mark.parametrize("row,section,line,field", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_field_is_rejected_with_one_line(tmp_path: Path, row: str, section: str, line: str, field: str) -> None:
    path = _manifest(tmp_path, **{section: line})
    with pytest.raises(ManifestError) as exc:
        manifest.load(path)
    msg = str(exc.value)
    assert "\n" not in msg and exc.value.field == field and "fix:" in msg, msg


def test_cli_check_rejects_a_hostile_manifest_in_one_line(tmp_path: Path) -> None:
    path = _manifest(tmp_path, release='repo_id = "x]\\ngpgcheck=0\\n[y"')
    res = subprocess.run([sys.executable, str(ROOT / "build.py"), "check", "--release", str(path)],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)  # check takes no work/out dirs
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "release.repo_id" in res.stderr


def _files_outside(tmp: Path, allowed: tuple[Path, ...]) -> set[Path]:
    return {p for p in tmp.rglob("*") if not any(p == a or p.is_relative_to(a) for a in allowed)}


def test_hostile_text_values_stay_text_in_the_built_packages(tmp_path: Path) -> None:
    """Macro and shell payloads in every free-text field: nothing runs, the packages have
    exactly the template's scriptlets (none), Requires and .repo sections."""
    canary = tmp_path / "canary"
    canary.mkdir()
    m = make_release(tmp_path / "rel", {"a": []})
    payload = lambda n: f"%(touch {canary}/{n})%{{lua: io.open('{canary}/{n}-lua', 'w')}}"  # noqa: E731
    text = m.read_text().replace('repo_file = "pmrepo-synth.repo"', "\n".join([
        'repo_file = "pmrepo-synth.repo"',
        f'summary = "s {payload("summary")}"',
        f'description = "d {payload("description")}\\n* Mon Jan 01 2024 x <x@y> - 0-1\\nRequires: evil\\n[evil]"',
        f'repo_name = "r {payload("repo_name")} [x]"',
        f'group_name = "g </name><evil/> {payload("group_name")}"',
        f'vendor = "v {payload("vendor")}"',
        f'packager = "p {payload("packager")} <p@x>"',
        'license = "MIT %{?nil}"',
    ]))
    text = text.replace('require = "="',
                        f'require = "="\nchanges = "c {payload("changes")}\\n* Mon Jan 01 2024 x <x@y> - 0-1\\n'
                                        f'Requires: evil\\n- %%post"')
    m.write_text(text)
    before = _files_outside(tmp_path, (tmp_path / "work", tmp_path / "out"))
    outputs, _ = _run(m, tmp_path, gates=False, install_check=False)
    assert sorted(canary.iterdir()) == [], "a manifest value ran a command"
    assert _files_outside(tmp_path, (tmp_path / "work", tmp_path / "out")) == before
    work = tmp_path / "work" / "synth-repo-1.0-1" / "el7"
    rpms = [*sorted((work / "tree" / "rpm").glob("*.rpm")), *sorted(outputs["el7"].glob("*.rpm"))]
    assert len(rpms) == 6
    for rpm in rpms:
        scripts = run(["rpm", "-qp", "--scripts", str(rpm)]).output.strip()
        assert scripts == "", f"{rpm.name} has scriptlets: {scripts}"
    reqs = run(["rpm", "-qp", "--requires", str(work / "tree" / "rpm" / "synth-all-1.0-1.el7.noarch.rpm")]).output
    assert [r for r in reqs.splitlines() if not r.startswith("rpmlib(")] == ["a = 1.0-1.el7"]
    reqs = run(["rpm", "-qp", "--requires", str(work / "tree" / "rpm" / "a-1.0-1.el7.x86_64.rpm")]).output
    assert "evil" not in reqs
    repo_rpm = outputs["el7"] / "synth-repo-1.0-1.el7.x86_64.rpm"
    info = run(["rpm", "-qp", "--qf", "%{SUMMARY}|%{VENDOR}", str(repo_rpm)]).output
    assert info == f"s {payload('summary')}|v {payload('vendor')}", info
    unpack = tmp_path / "unpack"
    unpack.mkdir()
    subprocess.run(f"rpm2cpio {repo_rpm} | cpio -idm --quiet", shell=True, cwd=unpack, check=True)
    repo_file = (unpack / "etc" / "yum.repos.d" / "pmrepo-synth.repo").read_text()
    assert [ln for ln in repo_file.splitlines() if ln.startswith("[")] == ["[pmrepo-synth]"]
    assert "gpgcheck=0" in repo_file and repo_file.count("name=") == 1


# -- 3. one escaping filter per output context --------------------------------------


def test_spec_escaping_doubles_percent_and_indents_continuations(tmp_path: Path) -> None:
    from pmrepo.render.environment import render_file

    t = tmp_path / "t.spec.j2"
    t.write_text("Summary: {{ v }}\n%changelog\n- {{ w }}\n")
    out = render_file(t, {"v": "%(id) 5%", "w": "one\n* Mon Jan 01 2024 x - 1\nRequires: evil"})
    assert out == "Summary: %%(id) 5%%\n%changelog\n- one\n  * Mon Jan 01 2024 x - 1\n  Requires: evil\n", out


def test_repo_escaping_refuses_a_second_line(tmp_path: Path) -> None:
    from pmrepo.render.environment import render_file

    t = tmp_path / "t.repo.j2"
    t.write_text("[r]\nname={{ v }}\n")
    with pytest.raises(SpecError):
        render_file(t, {"v": "x\ngpgcheck=0"})
    with pytest.raises(SpecError):
        render_file(t, {"v": "[y]"})


def test_xml_escaping_is_the_shared_filter(tmp_path: Path) -> None:
    from pmrepo.render.environment import render_file

    t = tmp_path / "t.xml.j2"
    t.write_text("<id>{{ v }}</id><n>{{ v|xml }}</n>\n")
    out = render_file(t, {"v": "a</id><evil/>&"})
    assert out == "<id>a&lt;/id&gt;&lt;evil/&gt;&amp;</id><n>a&lt;/id&gt;&lt;evil/&gt;&amp;</n>\n", out


def test_rendered_spec_with_an_extra_section_is_refused(tmp_path: Path) -> None:
    from pmrepo.render.environment import render_spec

    t = tmp_path / "t.spec.j2"
    t.write_text("Name: x\n%description\n{{ d }}\n%files\n")
    with pytest.raises(SpecError, match="sections/tags differ"):
        render_spec(t, {"d": "%post -p <lua>"}, {"d": "placeholder"}, what="x (el7)")


# -- 4. paths are confined -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["source /etc", "source symlink", "symlink inside a source tree", "spec", "spec_dir",
                                  "follows", "patch"])
def test_paths_outside_the_release_tree_are_refused(tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("secret\n")
    (outside / "x.spec.j2").write_text("Name: x\n")
    (outside / "x.patch").write_text("--- a\n")
    (outside / "prev.toml").write_text("")
    rel = tmp_path / "rel"
    rel.mkdir()
    (rel / "src").mkdir()
    (rel / "src" / "f").write_text("ok\n")
    (rel / "link").symlink_to(outside / "secret")
    release, component, field = "", "", ""
    if kind == "source /etc":
        component, field = 'sources = [{ path = "/etc" }]', "components.x.sources[0].path"
    elif kind == "source symlink":
        component, field = 'sources = [{ path = "link" }]', "components.x.sources[0].path"
    elif kind == "symlink inside a source tree":
        (rel / "src" / "leak").symlink_to(outside)
        component, field = 'sources = [{ path = "src" }]', "components.x.sources[0].path (leak)"
    elif kind == "spec":
        component, field = 'spec = "../../outside/x.spec.j2"', "components.x.spec"
    elif kind == "spec_dir":
        release, field = f'spec_dir = "{outside}"', "release.spec_dir"
    elif kind == "follows":
        release, field = 'follows = "../outside/prev.toml"', "release.follows"
    elif kind == "patch":
        component, field = 'patches = ["../../outside/x.patch"]', "components.x.patches[0]"
    path = _manifest(rel, release=release, component=component)
    if kind == "spec_dir":
        path.write_text(path.read_text().replace('spec_dir = "specs"\n', ""))
    with pytest.raises(ManifestError) as exc:
        manifest.load(path)
    msg = str(exc.value)
    assert exc.value.field == field and "outside" in msg and "\n" not in msg, msg


# -- 5. publish vouches for what it uploads ----------------------------------------------


def _cli(*argv: str) -> tuple[int, str]:
    res = subprocess.run([sys.executable, str(ROOT / "build.py"), *argv], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=900)
    return res.returncode, res.stdout + res.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic release built with every check (gates, fresh-root install)."""
    base = tmp_path_factory.mktemp("vouch")
    m = make_release(base / "rel", {"a": []})
    code, out = _cli("all", "--release", str(m), "--workdir", str(base / "work"), "--outdir", str(base / "out"))
    assert code == 0, out
    return base


def _copy_release(built: Path, tmp: Path) -> tuple[Path, Path]:
    """A private copy of the built release (manifest, work dir and outputs)."""
    for sub in ("rel", "work", "out"):
        shutil.copytree(built / sub, tmp / sub, symlinks=True)
    for lock in tmp.rglob(".pmrepo.lock"):
        lock.unlink()
    return tmp / "rel" / "release.toml", tmp / "out"


def _publish(m: Path, tmp: Path, *extra: str) -> tuple[int, str]:
    mirror = tmp / "mirror"
    mirror.mkdir(exist_ok=True)
    return _cli("publish", "--release", str(m), "--workdir", str(tmp / "work"), "--outdir", str(tmp / "out"),
                "--target", str(mirror), *extra)


def test_publish_refuses_an_output_of_another_manifest(built: Path, tmp_path: Path) -> None:
    m, _out = _copy_release(built, tmp_path)
    m.write_text(m.read_text().replace('release = "1"', 'release = "1"\nvendor = "someone else"', 1))
    code, text = _publish(m, tmp_path)
    assert code != 0 and "different content" in text and "el7" in text and len(text.strip().splitlines()) == 1, text
    assert not (tmp_path / "mirror" / "synth-repo-1.0-1").exists()


def test_publish_refuses_a_stray_dist_tree(built: Path, tmp_path: Path) -> None:
    m, out = _copy_release(built, tmp_path)
    shutil.copytree(out / "synth-repo-1.0-1" / "el7", out / "synth-repo-1.0-1" / "el6")
    code, text = _publish(m, tmp_path)
    assert code != 0 and "el6: not a dist of" in text and len(text.strip().splitlines()) == 1, text


def test_publish_refuses_a_file_not_built(built: Path, tmp_path: Path) -> None:
    m, out = _copy_release(built, tmp_path)
    rpm = out / "synth-repo-1.0-1" / "el7" / "synth-repo-1.0-1.el7.x86_64.rpm"
    _flip(rpm)
    code, text = _publish(m, tmp_path)
    assert code != 0 and f"{rpm.name}: sha256" in text and "differs" in text, text


def test_publish_refuses_unchecked_output_unless_allowed(built: Path, tmp_path: Path) -> None:
    m, out = _copy_release(built, tmp_path)
    code, text = _cli("all", "--release", str(m), "--workdir", str(tmp_path / "work"), "--outdir", str(out),
                      "--no-gates", "--no-install-check")
    assert code == 0, text
    code, text = _publish(m, tmp_path)
    assert code != 0 and "built without fresh-root install, gates" in text and "--allow-unchecked" in text, text
    code, text = _publish(m, tmp_path, "--allow-unchecked")
    assert code == 0, text
    notes = (tmp_path / "mirror" / "synth-repo-1.0-1" / "RELEASE-NOTES.en.md").read_text()
    assert "published without these checks: fresh-root install, gates" in notes


def test_publish_vouches_for_the_latest_result_of_every_check(built: Path, tmp_path: Path) -> None:
    """Issue 26: `all` passed, then a `gate` whose container install fails (an image that is not there)
    writes FAILED reports: publish refuses in one line naming the report, and ships nothing."""
    m, out = _copy_release(built, tmp_path)
    code, text = _cli("gate", "--release", str(m), "--workdir", str(tmp_path / "work"), "--outdir", str(out),
                      "--container", "podman", "--container-image", "localhost/does-not-exist:1")
    assert code == 1, text
    report = out / "synth-repo-1.0-1" / "el7" / "gates" / "install-el7.txt"
    assert report.is_file() and "FAILED" in report.read_text()
    code, text = _publish(m, tmp_path)
    lines = text.strip().splitlines()
    assert code != 0 and len(lines) == 1, text
    assert f"{report}: the latest container install (gate at " in lines[0] and ") FAILED: " in lines[0], text
    assert "fix: correct what it reports" in lines[0]
    code, text = _publish(m, tmp_path, "--allow-unchecked")  # a failed check is no unchecked one
    assert code != 0 and "FAILED" in text, text
    assert not (tmp_path / "mirror" / "synth-repo-1.0-1").exists()


def test_a_later_gate_vouches_for_checks_all_skipped(built: Path, tmp_path: Path) -> None:
    """`all --no-gates --no-install-check`, then `gate` runs them and they pass: publish vouches for that
    latest result, and the notes do not call the release unchecked."""
    m, out = _copy_release(built, tmp_path)
    dirs = ["--release", str(m), "--workdir", str(tmp_path / "work"), "--outdir", str(out)]
    code, text = _cli("all", *dirs, "--no-gates", "--no-install-check")
    assert code == 0, text
    code, text = _publish(m, tmp_path)
    assert code != 0 and "built without fresh-root install, gates (no passing result in" in text, text
    code, text = _cli("gate", *dirs)
    assert code == 0, text
    code, text = _publish(m, tmp_path)
    assert code == 0, text
    notes = (tmp_path / "mirror" / "synth-repo-1.0-1" / "RELEASE-NOTES.en.md").read_text()
    assert "published without these checks" not in notes


def test_publish_regenerates_stale_release_notes(built: Path, tmp_path: Path) -> None:
    m, out = _copy_release(built, tmp_path)
    rel_dir = out / "synth-repo-1.0-1"
    (rel_dir / "RELEASE-NOTES.en.md").write_text("| synth-repo-1.0-1.el7.x86_64.rpm | 1 | `" + "0" * 64 + "` |\n")
    code, text = _publish(m, tmp_path)
    assert code == 0, text
    rpm = rel_dir / "el7" / "synth-repo-1.0-1.el7.x86_64.rpm"
    notes = (tmp_path / "mirror" / "synth-repo-1.0-1" / "RELEASE-NOTES.en.md").read_text()
    assert hashlib.sha256(rpm.read_bytes()).hexdigest() in notes and "0" * 64 not in notes


KILLER = textwrap.dedent("""\
    import os, shutil, signal, sys
    from pmrepo.publish import mirrors as publish_targets, upload as publish  # importable through PYTHONPATH
    budget = [int(sys.argv[2])]
    def counted(fn):
        def wrapper(*a, **kw):
            result = fn(*a, **kw)
            budget[0] -= 1
            if budget[0] == 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return wrapper
    os.rename = counted(os.rename)
    shutil.rmtree = counted(shutil.rmtree)
    shutil.copy2 = counted(shutil.copy2)
    # the directory target's atomic exchange (where DirTarget looks it up): a step of its own
    publish_targets.rename_exchange = counted(publish_targets.rename_exchange)
    publish.publish(sys.argv[3], sys.argv[4], sys.argv[5], force=True)
    """)


def test_replace_is_atomic_even_when_killed_between_steps(tmp_path: Path) -> None:
    """publish --replace killed after each step it takes: the mirror always has
    the release, whole (the old one or the new one)."""
    from pmrepo.checksums import verify_sha256sums, write_sha256sums

    rid = "demo-repo-1.0-1"
    releases = {}
    for version in ("old", "new"):
        src = tmp_path / version / rid
        (src / "el7").mkdir(parents=True)
        (src / "el7" / "pkg.rpm").write_bytes(version.encode() * 1000)
        write_sha256sums(src)
        releases[version] = (src / "SHA256SUMS").read_text()
    mirror = tmp_path / "mirror"
    script = tmp_path / "killer.py"
    script.write_text(KILLER)

    def attempt(kill_after: int) -> tuple[subprocess.CompletedProcess[str], str]:
        res = subprocess.run([sys.executable, str(script), "-", str(kill_after), str(tmp_path / "new" / rid),
                              str(mirror), rid], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(pmrepo.__file__).resolve().parent.parent)})
        published = mirror / rid
        assert published.is_dir(), f"killed after step {kill_after}: the mirror has no {rid} ({res.stderr[-300:]})"
        verify_sha256sums(published)
        sums = (published / "SHA256SUMS").read_text()
        assert sums in releases.values()
        return res, "new" if sums == releases["new"] else "old"

    seen = []
    for n in range(1, 10):  # a kill after the 1st, 2nd, … step publish takes (copies, renames, removals)
        shutil.rmtree(mirror, ignore_errors=True)
        shutil.copytree(tmp_path / "old" / rid, mirror / rid)
        res, state = attempt(n)
        seen.append(state)
        if res.returncode == 0:
            break
        assert res.returncode == -9, res.stderr[-500:]
    assert res.returncode == 0 and seen[-1] == "new" and "old" in seen and seen.count("new") >= 2, seen
    # what a killed run left behind is cleaned by the next run
    shutil.rmtree(mirror)
    shutil.copytree(tmp_path / "old" / rid, mirror / rid)
    attempt(1)
    res, state = attempt(0)
    assert res.returncode == 0 and state == "new", res.stderr[-500:]
    assert sorted(p.name for p in mirror.iterdir()) == [rid], "leftovers after a clean publish"


# -- 6. error lines that help --------------------------------------------------------


def test_enospc_names_the_step_and_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = make_release(tmp_path / "rel", {"a": []})
    real = sources.pack_tree

    def full(tree: Path, top: str, out: Path, mtime: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))

    import pmrepo.sources.build_dir  # prepare packs through its own name for pack_tree

    monkeypatch.setattr(pmrepo.sources.build_dir, "pack_tree", full)
    with pytest.raises(PmrepoError) as exc:
        _run(m, tmp_path, gates=False, install_check=False)
    msg = str(exc.value)
    assert msg.startswith("sources: ") and "a-1.0.tar.gz" in msg and "No space left on device" in msg, msg
    assert "\n" not in msg and "free space" in msg
    assert real is not None


def test_rpmspec_failure_quotes_the_line_and_cause(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", {"a": []})
    spec = tmp_path / "rel" / "specs" / "a.spec.j2"
    spec.write_text(spec.read_text().replace("License:        MIT", "License:        MIT\nFrobnicate:     yes"))
    with pytest.raises(SpecError) as exc:
        _run(m, tmp_path, gates=False, install_check=False)
    msg = str(exc.value)
    assert re.search(r"line 6: Unknown tag: Frobnicate:\s+yes", msg), msg
    assert "can't parse" not in msg and "\n" not in msg, msg


def test_outdir_lock_message_names_the_outdir(tmp_path: Path) -> None:
    from pmrepo.errors import LockError
    from pmrepo.lock import WorkdirLock

    m = make_release(tmp_path / "rel", {"a": []})
    with WorkdirLock(tmp_path / "out"), pytest.raises(LockError) as exc:
        _run(m, tmp_path, gates=False, install_check=False)
    msg = str(exc.value)
    assert f"output directory {tmp_path / 'out'}" in msg and "--outdir" in msg, msg


def test_damaged_assembled_output_is_not_reused(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", {"a": []})
    first, _ = _run(m, tmp_path, gates=False, install_check=False)
    rpm = first["el7"] / "synth-repo-1.0-1.el7.x86_64.rpm"
    _flip(rpm)
    _, lines = _run(m, tmp_path, gates=False, install_check=False)
    text = "\n".join(lines)
    assert f"{rpm} has sha256" in text and "not reused, assembling" in text and "unchanged, reused" not in text, text
    assert _digests_ok(rpm)


def test_os_error_lists_become_one_short_line() -> None:
    from pmrepo.errors import describe_os_error

    failures = [(f"/w/src/{i}", f"/o/dst/{i}", "[Errno 28] No space left on device") for i in range(300)]
    line = describe_os_error(shutil.Error(failures), "assemble el7")
    assert line.startswith("assemble el7: copying /w/src/0 to /o/dst/0 failed: [Errno 28] No space left on device")
    assert "(+299 more)" in line and "\n" not in line and len(line) < 300, line
