"""No package code and no spec code runs as root on the build host (issue 25, items 1, 2, 7).

A hostile release, built for real with the rpmbuild backend and with the mock
backend (through the stand-in, which runs rpmbuild unprivileged as mock does):

* ``evil`` ships a static binary that does the classic chroot escape
  (``mkdir("/.esc"); chroot("/.esc"); chdir("..") x64; chroot(".")``) and then
  appends its uid to a file on the host; it is the package's ``%post -p``. The
  fresh-root install check used to run it as root with only a chroot around it.
* ``peek`` does in ``%build`` what a hostile spec does: ``id`` into /tmp,
  /var/tmp and /dev/shm, a copy of the first bytes of /etc/shadow into the
  package, and the same at parse time in a ``%(…)`` macro that lands in the
  package's description.

Afterwards: no file of theirs on the host, no byte of /etc/shadow in any RPM
(SRPMs included), and the builds ran as an unprivileged uid. A strict ``peek``
(``head /etc/shadow`` without ``|| true``) fails the build with one line.
Then item 7: a fresh-root check killed with ``kill -9`` leaves its root; the
next check removes it (the container half is in tests/integration/test_container.py).
"""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from synthetic import needs_rpmbuild

from pmrepo.errors import BuildError
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.run import run

ROOT = Path(__file__).resolve().parents[2]
FAKE_DIR = Path(__file__).resolve().parents[1] / "fake_mock"

pytestmark = [
    needs_rpmbuild,
    pytest.mark.skipif(os.geteuid() != 0, reason="what is tested is pmrepo run as root (the build host's case); "
                       "run as a user, pmrepo builds as that user and installs nothing as root"),
    pytest.mark.skipif(not Path("/etc/shadow").is_file(), reason="needs a root-only /etc/shadow to read"),
]

ESCAPE_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void) {
    mkdir("/.esc", 0700);
    if (chroot("/.esc") == 0) {
        for (int i = 0; i < 64; i++) chdir("..");
        chroot(".");
    }
    int fd = open("MARK", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        char line[128];
        int n = snprintf(line, sizeof line, "uid=%d: %%post of evil ran on the HOST\n", (int)getuid());
        write(fd, line, (size_t)n);
        close(fd);
    }
    return 0;
}
"""

EVIL_SPEC = """\
{% set license = "MIT" %}{% set project_url = "https://example.invalid/" %}
{% include "_comp_header.spec.j2" %}
BuildRequires: gcc
%global debug_package %{nil}
%description
A post-install scriptlet that leaves the chroot.
%prep
%setup -q
%build
gcc -static -O2 -o escape escape.c
%install
install -D -m 0755 escape %{buildroot}%{_libexecdir}/evil/escape
%post -p %{_libexecdir}/evil/escape
%files
%{_libexecdir}/evil/escape
{% include "_comp_changelog.spec.j2" %}
"""

# MARK: the host path prefix its writes would leave; SHADOW: what reading /etc/shadow does
PEEK_SPEC = """\
{% set license = "MIT" %}{% set project_url = "https://example.invalid/" %}
{% include "_comp_header.spec.j2" %}
BuildArch: noarch
%global parsed %(id > MARK-parse 2>/dev/null; head -c 40 /etc/shadow 2>/dev/null | base64 -w0)
%description
Parsed: %{parsed}.
%prep
%setup -q
%build
id > MARK-tmp || true
id > /var/tmp/$(basename MARK)-vartmp || true
id > /dev/shm/$(basename MARK)-shm || true
id > id.txt
SHADOW
%install
install -D -m 0644 id.txt %{buildroot}%{_datadir}/peek/id.txt
install -D -m 0644 shadow-copy %{buildroot}%{_datadir}/peek/shadow-copy
%files
%{_datadir}/peek
{% include "_comp_changelog.spec.j2" %}
"""
TOLERANT = "(echo copy:; head -c 40 /etc/shadow || true) > shadow-copy"
STRICT = "head -c 40 /etc/shadow > shadow-copy"

MANIFEST = """\
[release]
name = "confine-repo"
version = "1"
release = "1"
date = 2026-01-01
spec_dir = "specs"
rpmlint_filters = { "statically-linked-binary" = "the chroot escape of the test is a static binary on purpose" }
[dists.el7]
rhel = 7
"""
COMPONENT = """
[[components]]
name = "{name}"
version = "1.0"
release = "1"
sources = [{{ path = "src/{name}" }}]
packages = ["{name}"]
require = "="
"""


def marks(mark: str) -> list[Path]:
    """Every file a hostile build or scriptlet would leave on the host."""
    base = Path(mark).name
    return [Path(mark), Path(f"{mark}-parse"), Path(f"{mark}-tmp"), Path(f"/var/tmp/{base}-vartmp"),
            Path(f"/dev/shm/{base}-shm")]


def make_release(dest: Path, mark: str, components: tuple[str, ...] = ("evil", "peek"), shadow: str = TOLERANT) -> Path:
    (dest / "specs").mkdir(parents=True)
    for name in ("_comp_header.spec.j2", "_comp_changelog.spec.j2"):
        shutil.copyfile(ROOT / "specs" / name, dest / "specs" / name)
    (dest / "specs" / "evil.spec.j2").write_text(EVIL_SPEC)
    (dest / "specs" / "peek.spec.j2").write_text(PEEK_SPEC.replace("MARK", mark).replace("SHADOW", shadow))
    (dest / "src" / "evil").mkdir(parents=True)
    (dest / "src" / "evil" / "escape.c").write_text(ESCAPE_C.replace("MARK", mark))
    (dest / "src" / "peek").mkdir(parents=True)
    (dest / "src" / "peek" / "README").write_text("peek\n")
    path = dest / "release.toml"
    path.write_text(MANIFEST + "".join(COMPONENT.format(name=n) for n in components))
    return path


@pytest.fixture(scope="module")
def secret() -> bytes:
    """What a build must not get: the first 40 bytes of this host's /etc/shadow."""
    data = Path("/etc/shadow").read_bytes()[:40]
    assert len(data) > 8
    return data


@dataclass
class Built:
    backend: str
    mark: str
    workdir: Path
    outdir: Path
    outputs: dict[str, Path]
    lines: list[str]

    def rpms(self) -> list[Path]:
        return sorted({*self.workdir.rglob("*.rpm"), *self.outdir.rglob("*.rpm")})

    def build_json(self) -> dict:
        return json.loads((self.outputs["el7"] / "build.json").read_text())


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The stand-in mock first on PATH, its roots and caches in a temporary directory."""
    base = tmp_path_factory.mktemp("fake-mock")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{FAKE_DIR}{os.pathsep}{os.environ['PATH']}")
        mp.setenv("FAKE_MOCK_BASEDIR", str(base / "lib"))
        mp.setenv("FAKE_MOCK_CACHEDIR", str(base / "cache"))
        for var in [v for v in os.environ if v.startswith(("FAKE_MOCK_FAIL", "FAKE_MOCK_ROOTCHECK", "PMREPO_MIRROR_"))]:
            mp.delenv(var)
        yield


def _all(tmp: Path, backend: str) -> Built:
    mark = f"/tmp/pmrepo-confine-{uuid.uuid4().hex[:12]}"
    for p in marks(mark):
        assert not p.exists()
    lines: list[str] = []
    opts = Options(release=make_release(tmp / "rel", mark), workdir=tmp / "work", outdir=tmp / "repo", backend=backend)
    outputs = Pipeline(opts, say=lines.append).run_all()
    return Built(backend, mark, opts.workdir, opts.outdir, outputs, lines)


@pytest.fixture(scope="module")
def built_rpmbuild(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    built = _all(tmp_path_factory.mktemp("confine-rpmbuild"), "rpmbuild")
    yield built
    for p in marks(built.mark):  # what a confinement that failed left on the host
        p.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def built_mock(tmp_path_factory: pytest.TempPathFactory, stand_in: None) -> Iterator[Built]:
    built = _all(tmp_path_factory.mktemp("confine-mock"), "mock")
    yield built
    for p in marks(built.mark):
        p.unlink(missing_ok=True)


@pytest.fixture(params=["rpmbuild", "mock"])
def built(request: pytest.FixtureRequest) -> Built:
    return request.getfixturevalue(f"built_{request.param}")


def payload(rpm: Path) -> dict[str, bytes]:
    """The files an RPM holds, by name (rpm2archive: no rpmdb, nothing run)."""
    tmp = rpm.parent / f".payload-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        shutil.copyfile(rpm, tmp / rpm.name)
        run(["rpm2archive", str(tmp / rpm.name)], cwd=tmp)
        with tarfile.open(tmp / f"{rpm.name}.tgz") as tar:
            return {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar.getmembers() if m.isfile()}
    finally:
        shutil.rmtree(tmp)


# -- item 1: the escape as %post ---------------------------------------------------------------


def test_post_scriptlet_escape_leaves_nothing_on_the_host(built: Built) -> None:
    assert not Path(built.mark).exists(), Path(built.mark).read_text()
    note = built.build_json()["checks"]["fresh-root install"]
    assert note.endswith("; scriptlets not run on the host (--noscripts --notriggers): evil (%post); "
                         "the container install test runs them"), note
    # the package really carries the escape as its %post (what the container install test runs)
    evil = next(built.workdir.rglob("tree/rpm/evil-1.0-1.el7.x86_64.rpm"))
    assert "postinstall program: /usr/libexec/evil/escape" in run(["rpm", "-qp", "--scripts", str(evil)]).output
    log = next(built.workdir.rglob("installcheck.log")).read_text()
    assert "--noscripts --notriggers" in log and "--setopt=tsflags=noscripts,notriggers" in log


# -- item 2: a spec that reads /etc/shadow and writes /tmp ---------------------------------------


def test_spec_code_runs_unprivileged_and_leaves_nothing_on_the_host(built: Built, secret: bytes) -> None:
    left = [str(p) for p in marks(built.mark) if p.exists()]
    assert left == [], left
    [peek] = [p for p in built.rpms() if p.name == "peek-1.0-1.el7.noarch.rpm" and "tree" in str(p)]
    files = payload(peek)
    ident = files["./usr/share/peek/id.txt"].decode()
    assert not ident.startswith("uid=0("), ident
    # the stand-in builds as mock's chrootuid: SUDO_UID when set, else nobody (the suite runs without it)
    chroot_uid = int(os.environ.get("SUDO_UID") or 0) or 65534
    assert (f"uid={chroot_uid}(" if built.backend == "mock" else "(pmrepo-build)") in ident, ident
    assert files["./usr/share/peek/shadow-copy"] == b"copy:\n"  # `head /etc/shadow` was refused
    desc = run(["rpm", "-qp", "--qf", "%{DESCRIPTION}", str(peek)]).output
    assert "Parsed: ." in desc, desc  # the %(…) macro could not read it either


def test_no_rpm_holds_a_byte_of_the_secret(built: Built, secret: bytes) -> None:
    rpms = built.rpms()
    assert any(p.name.endswith(".src.rpm") for p in rpms) and len(rpms) >= 5
    b64 = base64.b64encode(secret)
    for rpm in rpms:
        header = run(["rpm", "-qp", "--nosignature", "--qf", "%{DESCRIPTION}\n%{SPEC}", str(rpm)]).output.encode()
        for blob in [header, *payload(rpm).values()]:
            assert secret[:16] not in blob and b64[:16] not in blob, rpm


@pytest.mark.parametrize("backend", ["rpmbuild", "mock"])
def test_strict_shadow_read_fails_the_build_in_one_line(backend: str, tmp_path: Path, request) -> None:
    if backend == "mock":
        request.getfixturevalue("stand_in")
    mark = f"/tmp/pmrepo-confine-{uuid.uuid4().hex[:12]}"
    opts = Options(release=make_release(tmp_path / "rel", mark, ("peek",), STRICT), workdir=tmp_path / "work",
                   outdir=tmp_path / "repo", backend=backend)
    pipe = Pipeline(opts, say=lambda s: None)
    rendered = pipe.render()
    try:
        with pytest.raises(BuildError) as info:
            pipe.build(rendered, pipe.fetch_sources(), pipe.plan(rendered))
        assert "\n" not in str(info.value) and "peek" in str(info.value)
        log = next((tmp_path / "work" / "store" / "failed").rglob("build.log")).read_text()
        assert "head: cannot open '/etc/shadow' for reading: Permission denied" in log
        assert [str(p) for p in marks(mark) if p.exists()] == []
    finally:
        for p in marks(mark):
            p.unlink(missing_ok=True)


# -- item 7: a fresh-root check killed with kill -9 --------------------------------------------

KILLED_CHECK = """
import sys, tempfile
from pathlib import Path
real = tempfile.mkdtemp
def announce(*args, **kwargs):
    path = real(*args, **kwargs)
    if Path(path).name.startswith("pmrepo-root-"):
        print(path, flush=True)
    return path
tempfile.mkdtemp = announce
from pmrepo import manifest
from pmrepo.checks import freshroot
rel = manifest.load(sys.argv[1])
freshroot.check(rel, rel.dists["el7"], [Path(p) for p in sys.argv[3:]], Path(sys.argv[2]))
"""


def test_killed_fresh_root_check_leaves_a_root_the_next_check_removes(built_rpmbuild: Built, tmp_path: Path) -> None:
    from pmrepo import manifest
    from pmrepo.checks import freshroot
    rel = manifest.load(built_rpmbuild.workdir.parent / "rel" / "release.toml")
    repo_rpms = [built_rpmbuild.outputs["el7"] / n for n in rel.repo_rpm_names(rel.dists["el7"])]
    proc = subprocess.Popen([sys.executable, "-c", KILLED_CHECK, str(rel.path), str(tmp_path / "killed.log"),
                             *map(str, repo_rpms)], stdout=subprocess.PIPE, text=True, start_new_session=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout is not None
    root = Path(proc.stdout.readline().strip())
    try:
        deadline = time.monotonic() + 120
        while not (root / "etc" / "yum.repos.d").is_dir():  # the repo packages are in: mid-check
            assert proc.poll() is None and time.monotonic() < deadline, "the check ended before it could be killed"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert root.name.startswith("pmrepo-root-el7-") and root.is_dir()  # what a killed run leaves
    report = freshroot.check(rel, rel.dists["el7"], repo_rpms, tmp_path / "again.log")
    assert report.installed
    assert not root.exists(), f"{root} left by the killed check is still there"
    said = (tmp_path / "again.log").read_text()
    assert f"removed {root}, left by a run that no longer exists (pid {proc.pid})" in said
