"""Version stamping (issue 9): a component built from a tree without a
version file (a GitHub tag archive has no .tarball-version) writes the
manifest's version where its build looks for one, and what it builds
reports that version.

The real specs (libqb, resource-agents, fence-agents) share the stamping
step ``specs/_comp_tarball_version.spec.j2``. A synthetic component whose
build reads ``.tarball-version`` the way git-version-gen does is built with
the rpmbuild backend through the pipeline, and the program in its RPM is
run: it must print the manifest's version; without the stamp it prints
UNKNOWN, and a source whose own .tarball-version disagrees fails the build.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from synthetic import small_manifest

from pmrepo import manifest
from pmrepo.errors import BuildError
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.render import specs
from pmrepo.run import run

ROOT = Path(__file__).resolve().parents[2]
REL14 = ROOT / "releases" / "1.1.14-1.1.toml"
STAMPED = ("libqb", "resource-agents", "fence-agents")

needs_rpm = pytest.mark.skipif(shutil.which("rpmbuild") is None or shutil.which("rpmspec") is None,
                               reason="rpmbuild/rpmspec are not installed here (`make setup` installs rpm)")


@needs_rpm
@pytest.mark.parametrize("dist", ["el6", "el7"])
@pytest.mark.parametrize("component", STAMPED)
def test_real_specs_stamp_the_manifest_version_before_configure(component: str, dist: str, tmp_path: Path) -> None:
    rel = manifest.load(REL14)
    comp = rel.component(component)
    spec = tmp_path / f"{component}.spec"
    spec.write_text(specs.render_component(rel, rel.dists[dist], comp))
    parsed = run(["rpmspec", "--parse", *specs.define_args(rel.dists[dist].rpm_defines()), str(spec)]).output
    lines = parsed.splitlines()
    stamp = lines.index(f'echo "{comp.version}" > .tarball-version')
    check = next(i for i, ln in enumerate(lines) if f'!= "{comp.version}" ]' in ln)  # a disagreeing file stops it
    prep = lines.index("%prep")
    autogen = next(i for i, ln in enumerate(lines) if "autogen.sh" in ln)
    assert prep < check < stamp < autogen < lines.index("%install")
    assert not any(ln.startswith("%") for ln in lines[prep + 1:stamp] if not ln.startswith("%{")), "stamp is in %prep"


SPEC = """\
{% set license = "MIT" %}{% set project_url = "https://example.invalid/" %}
{% include "_comp_header.spec.j2" %}
BuildArch: noarch
%description
Reports its version like fencing.py's RELEASE_VERSION.
%prep
%setup -q
STAMP
%build
make
%install
install -D -m 0755 stamped %{buildroot}%{_bindir}/stamped
%files
%{_bindir}/stamped
{% include "_comp_changelog.spec.j2" %}
"""
# what git-version-gen does: the version file, else (no git here) UNKNOWN
MAKEFILE = """\
all:
\tV=$$(cat .tarball-version 2>/dev/null || echo UNKNOWN); printf '#!/bin/sh\\necho RELEASE_VERSION=%s\\n' "$$V" > stamped
"""  # noqa: E501 (a make recipe line: one shell command)


def _build(tmp_path: Path, stamp: bool, tarball_version: str | None = None) -> str:
    (tmp_path / "specs").mkdir(parents=True)
    # includes resolve beside the including template: the real specs' shared parts, the stamp among them
    for name in ("_comp_header.spec.j2", "_comp_changelog.spec.j2", "_comp_tarball_version.spec.j2"):
        shutil.copyfile(ROOT / "specs" / name, tmp_path / "specs" / name)
    include = '{% include "_comp_tarball_version.spec.j2" %}' if stamp else ""
    (tmp_path / "specs" / "stamped.spec.j2").write_text(SPEC.replace("STAMP", include))
    src = tmp_path / "src" / "stamped"
    src.mkdir(parents=True)
    (src / "Makefile").write_text(MAKEFILE)
    if tarball_version is not None:
        (src / ".tarball-version").write_text(tarball_version + "\n")
    (tmp_path / "release.toml").write_text(small_manifest("stamp-repo", [
        {"name": "stamped", "version": "2.5.1", "path": "src/stamped", "packages": ["stamped"]}]))
    pipe = Pipeline(Options(release=tmp_path / "release.toml", workdir=tmp_path / "work", outdir=tmp_path / "repo"),
                    say=lambda s: None)
    rendered = pipe.render()
    results = pipe.build(rendered, pipe.fetch_sources(), pipe.plan(rendered))
    rpm = results[("stamped", "el7")].binary_rpms[0]
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(f"rpm2cpio {rpm} | cpio -idm --quiet", shell=True, cwd=root, check=True)
    proc = subprocess.run(["sh", str(root / "usr/bin/stamped")], capture_output=True, text=True, check=True)
    return proc.stdout.strip()


@needs_rpm
def test_built_artifact_reports_the_manifest_version(tmp_path: Path) -> None:
    assert _build(tmp_path, stamp=True) == "RELEASE_VERSION=2.5.1"


@needs_rpm
def test_without_the_stamp_a_tag_archive_reports_unknown(tmp_path: Path) -> None:
    assert _build(tmp_path, stamp=False) == "RELEASE_VERSION=UNKNOWN"


@needs_rpm
def test_a_disagreeing_version_file_fails_the_build(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as exc:
        _build(tmp_path, stamp=True, tarball_version="2.4")
    log = next((tmp_path / "work" / "store" / "failed").rglob("build.log")).read_text()
    assert ".tarball-version says 2.4, the spec builds 2.5.1" in log, str(exc.value)
