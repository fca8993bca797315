"""The rpmbuild backend's build root looks like one (issue 9): packages built
earlier in the chain are at their real paths for the whole build, in a
private mount namespace, and nothing is written to the host's /usr.

A synthetic release: ``base`` installs ``/usr/include/<sub>/x.h``; ``user``'s
configure step insists on that very path and compiles with a hard-coded
``-I/usr/include/<sub>`` (as pm_extras' configure.ac and pm_diskd's Makefile
do with /usr/include/pacemaker and /usr/include/heartbeat).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from synthetic import needs_rpmbuild, small_manifest

from pmrepo.builders.rpmbuild import namespace_available
from pmrepo.errors import BuildError
from pmrepo.pipeline.orchestrator import Options, Pipeline

ROOT = Path(__file__).resolve().parents[2]
SUB = "pmrepo-synth-sub"

needs_namespace = pytest.mark.skipif(not namespace_available(),
                                     reason="needs root, unshare and overlayfs for a private mount namespace")

BASE_SPEC = """\
{% set license = "MIT" %}{% set project_url = "https://example.invalid/" %}
{% include "_comp_header.spec.j2" %}
BuildArch: noarch
%description
Installs a header under /usr/include/SUB.
%package devel
Summary: header
%description devel
header
%prep
%setup -q
%build
%install
install -D -m 0644 x.h %{buildroot}%{_includedir}/SUB/x.h
%files
%files devel
%{_includedir}/SUB
{% include "_comp_changelog.spec.j2" %}
""".replace("SUB", SUB)

USER_SPEC = """\
{% set license = "MIT" %}{% set project_url = "https://example.invalid/" %}
{% include "_comp_header.spec.j2" %}
BuildRequires: base-devel
%global __requires_exclude ^((libc|ld-linux[^ ]*)\\\\.so.*|rtld\\\\(GNU_HASH\\\\))$
%global debug_package %{nil}
%description
Built against /usr/include/SUB/x.h at its real path.
%prep
%setup -q
%build
sh ./configure
make
%install
install -D -m 0755 user %{buildroot}%{_bindir}/user-of-x
%files
%{_bindir}/user-of-x
{% include "_comp_changelog.spec.j2" %}
""".replace("SUB", SUB)

CONFIGURE = f"""\
#!/bin/sh
printf 'checking for /usr/include/{SUB}/x.h... '
if test -f /usr/include/{SUB}/x.h; then echo yes; else echo no; echo "configure: error: /usr/include/{SUB}/x.h not found" >&2; exit 1; fi
"""  # noqa: E501 (the script as configure prints it: one line of shell)
MAKEFILE = f"""\
user: user.c
\t$(CC) -O2 -I/usr/include/{SUB} -o $@ user.c
"""
USER_C = '#include "x.h"\nint main(void) { return X_VALUE - 42; }\n'


def _release(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir(parents=True)
    for name in ("_comp_header.spec.j2", "_comp_changelog.spec.j2"):  # includes resolve beside the template
        shutil.copyfile(ROOT / "specs" / name, tmp_path / "specs" / name)
    (tmp_path / "specs" / "base.spec.j2").write_text(BASE_SPEC)
    (tmp_path / "specs" / "user.spec.j2").write_text(USER_SPEC)
    base, user = tmp_path / "src" / "base", tmp_path / "src" / "user"
    base.mkdir(parents=True)
    user.mkdir(parents=True)
    (base / "x.h").write_text("#define X_VALUE 42\n")
    (user / "configure").write_text(CONFIGURE)
    (user / "Makefile").write_text(MAKEFILE)
    (user / "user.c").write_text(USER_C)
    path = tmp_path / "release.toml"
    path.write_text(small_manifest("root-repo", [
        {"name": "base", "version": "1.0", "path": "src/base", "packages": ["base", "base-devel"]},
        {"name": "user", "version": "1.0", "path": "src/user", "packages": ["user"]}]))
    return path


def _build(tmp_path: Path, **backend_options: object):
    pipe = Pipeline(Options(release=_release(tmp_path), workdir=tmp_path / "work", outdir=tmp_path / "repo",
                            backend_options=dict(backend_options)), say=lambda s: None)
    rendered = pipe.render()
    return pipe.build(rendered, pipe.fetch_sources(), pipe.plan(rendered))


@needs_rpmbuild
@needs_namespace
def test_hard_coded_include_path_of_a_chain_package_builds(tmp_path: Path) -> None:
    assert not Path(f"/usr/include/{SUB}").exists()
    results = _build(tmp_path)
    user = results[("user", "el7")]
    assert user.status == "built"
    log = user.log.read_text()
    assert f"checking for /usr/include/{SUB}/x.h... yes" in log
    assert "pmrepo: dependency root overlaid on /usr" in log
    meta = json.loads((user.entry / "meta.json").read_text())
    assert any(name.startswith("base-devel-") for name in meta["deps"])
    # nothing of the chain reached the host's /usr, and the overlay scratch is gone
    assert not Path(f"/usr/include/{SUB}").exists()
    assert not list(tmp_path.rglob(".pmrepo-overlay"))


@needs_rpmbuild
def test_without_the_namespace_the_same_build_fails(tmp_path: Path) -> None:
    """The search paths alone (CPATH into the dependency root) do not satisfy a
    configure script that checks the real path: the check above can fail."""
    with pytest.raises(BuildError):
        _build(tmp_path, namespace=False)
    log = next((tmp_path / "work" / "store" / "failed").rglob("build.log")).read_text()
    assert f"configure: error: /usr/include/{SUB}/x.h not found" in log
    assert "dependency root reachable through search paths only: disabled by the backend option" in log


@needs_rpmbuild
@needs_namespace
def test_demo_plugin_finds_demod_header_at_its_real_path(demo_build) -> None:
    """The demo's plugin Makefile checks /usr/include/demod/plugin.h itself."""
    logs = sorted((demo_build.workdir / "store").glob("*/demo-plugin/*/build.log"))
    assert logs, "the demo built no demo-plugin"
    for log in logs:
        text = log.read_text()
        assert "pmrepo: dependency root overlaid on /usr" in text
        assert "plugin.h not found" not in text
    assert not Path("/usr/include/demod").exists()
