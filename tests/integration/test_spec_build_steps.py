"""The %build/%install corrections of issue 9, which the recorded-tree test
(test_install_trees.py) cannot see because it replaces those sections: each
is checked in the spec as rpm parses it for el6 and el7."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pmrepo import manifest
from pmrepo.render import specs
from pmrepo.run import run

ROOT = Path(__file__).resolve().parents[2]
REL = manifest.load(ROOT / "releases" / "1.1.14-1.1.toml")

pytestmark = pytest.mark.skipif(shutil.which("rpmspec") is None,
                                reason="rpmspec is not installed here (`make setup` installs rpm)")


def _parsed(component: str, dist: str, tmp_path: Path) -> str:
    spec = tmp_path / f"{component}-{dist}.spec"
    spec.write_text(specs.render_component(REL, REL.dists[dist], REL.component(component)))
    return run(["rpmspec", "--parse", *specs.define_args(REL.dists[dist].rpm_defines()), str(spec)]).output


def _brs(component: str, dist: str, tmp_path: Path) -> set[str]:
    spec = tmp_path / f"{component}-{dist}.spec"
    spec.write_text(specs.render_component(REL, REL.dists[dist], REL.component(component)))
    return set(specs.inspect(spec, REL.dists[dist]).buildrequires)


def test_corosync_units_in_the_unit_dir(tmp_path: Path) -> None:
    assert "--with-systemddir=/usr/lib/systemd/system" in _parsed("corosync", "el7", tmp_path)
    assert "--with-systemddir" not in _parsed("corosync", "el6", tmp_path)


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_pacemaker_configure_and_install(dist: str, tmp_path: Path) -> None:
    text = "\n".join(ln for ln in _parsed("pacemaker", dist, tmp_path).splitlines() if not ln.startswith("#"))
    assert "--with-ocfdir" not in text and "--with-cs-quorum" not in text  # not options of 1.1.14's configure
    assert "--with-corosync" in text
    assert any(ln.startswith("install -d ") and ln.endswith("/var/lib/pacemaker/cores") for ln in text.splitlines())
    initrd = run(["rpm", "--eval", "%{_initrddir}"]).output.strip()
    removes = [ln for ln in text.splitlines() if ln.startswith("rm -f ") and f"{initrd}/pacemaker_remote" in ln]
    assert bool(removes) == (dist == "el7")


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_pssh_manual_pages_moved_from_setup_py_prefix(dist: str, tmp_path: Path) -> None:
    text = _parsed("pssh", dist, tmp_path)
    assert any(ln.startswith("mv ") and "/usr/man/man1/*.1" in ln and "/usr/share/man/man1" in ln
               for ln in text.splitlines())


def test_pcs_init_system_chosen_by_the_spec(tmp_path: Path) -> None:
    assert "IS_SYSTEMCTL=false" in _parsed("pcs", "el6", tmp_path)
    assert "IS_SYSTEMCTL=true" in _parsed("pcs", "el7", tmp_path)


@pytest.mark.parametrize("component", ["pm_extras", "pm_logconv-cs"])
def test_upstart_builds_need_initctl_on_el6(component: str, tmp_path: Path) -> None:
    assert "upstart" in _brs(component, "el6", tmp_path)
    assert "upstart" not in _brs(component, "el7", tmp_path)


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_crmsh_needs_the_stack_headers(dist: str, tmp_path: Path) -> None:
    assert {"pacemaker-libs-devel", "cluster-glue-libs-devel"} <= _brs("crmsh", dist, tmp_path)


def _files_section(parsed: str, header: str) -> list[str]:
    """The lines of the ``%files`` section whose header line is ``header``, as rpm parsed them."""
    lines = parsed.splitlines()
    start = lines.index(header) + 1
    section_starts = re.compile(r"^%(files|package|description|prep|build|install|check|clean|changelog"
                                r"|pre|post|preun|postun|pretrans|posttrans|trigger\w*)\b")
    end = next((i for i in range(start, len(lines)) if section_starts.match(lines[i])), len(lines))
    return [ln.strip() for ln in lines[start:end] if ln.strip()]


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_ldirectord_sysv_script_is_packaged_or_left_out(dist: str, tmp_path: Path) -> None:
    """resource-agents 3.9.7's ldirectord/init.d/Makefile.am installs the SysV script into
    --with-initdir on every platform (issue 21): el6 ships it; el7 ships the unit and leaves
    the script out (upstream's spec: %exclude on systemd platforms; an rm in %install has the
    same effect). With neither, rpmbuild stops with "Installed (but unpackaged) file(s) found"."""
    text = _parsed("resource-agents", dist, tmp_path)
    initdirs = re.findall(r"--with-initdir=(\S+)", text)
    assert len(initdirs) == 1, initdirs
    script = f"{initdirs[0]}/ldirectord"
    files = _files_section(text, "%files -n ldirectord")
    excluded = f"%exclude {script}" in files
    install = text.split("\n%install\n", 1)[1].split("\n%files", 1)[0]
    buildroot = re.findall(r"^make install DESTDIR=(\S+)$", install, re.MULTILINE)
    assert len(buildroot) == 1, buildroot
    removed = any(ln.startswith("rm -f ") and ln.split()[-1] == f"{buildroot[0]}{script}"
                  for ln in install.splitlines())
    listed = [ln for ln in text.splitlines() if ln.strip() == script]  # in any package's %files
    if dist == "el7":
        assert excluded or removed, f"{script} is installed but neither excluded nor removed"
        assert not listed, listed
        assert any(ln.endswith("/ldirectord.service") for ln in files), files
    else:
        assert not excluded and not removed
        assert script in files and len(listed) == 1, files
        assert not any("ldirectord.service" in ln for ln in files), files


def test_libqb_1_0_builds_its_docs_without_parallel_make(tmp_path: Path) -> None:
    """libqb 1.0's docs/Makefile.am fails under a parallel make ("multiple target patterns",
    issue 21; fixed upstream in 1.0.1, 85b82bd). With rpm's parallel flags set (the path every
    rpmbuild on a multi-core host takes), no make in %build may run with jobs."""
    comp = REL.component("libqb")
    assert comp.version == "1.0", "the serial build is for 1.0 only: with >= 1.0.1 use %{?_smp_mflags} again"
    for dist in ("el6", "el7"):
        spec = tmp_path / f"libqb-{dist}.spec"
        spec.write_text(specs.render_component(REL, REL.dists[dist], comp))
        parsed = run(["rpmspec", "--parse", *specs.define_args(REL.dists[dist].rpm_defines()),
                      "--define", "_smp_mflags -j2", str(spec)]).output
        # rpmspec --parse drops the section headers: every make but `make install` is %build's
        makes = [ln.split() for ln in parsed.splitlines() if ln.split()[:1] == ["make"] and "install" not in ln.split()]
        assert makes, "no make in %build"
        for words in makes:
            jobs = [w for w in words[1:] if w.startswith(("-j", "--jobs"))]
            assert not jobs, f"{dist}: {' '.join(words)} runs the 1.0 docs build in parallel"
