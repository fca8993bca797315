"""Every component spec's packaging against the install trees recorded from
real builds of the 1.1.14-1.1 sources (see tests/install_trees.py for how a
tree is replayed). Per component × dist: rpm finds every %files entry, no
file of the tree is left unpackaged, and each package's file list with its
modes and flags (config, noreplace, doc) and symlink targets equals the
recorded one.

The recorded trees are test data outside the project:
``../shared/reference/install-trees`` relative to the repository root.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from install_trees import Replay, mode_bits, read_tsv, replay, replay_spec
from synthetic import needs_rpmbuild, small_manifest

from pmrepo import manifest
from pmrepo.render import specs

ROOT = Path(__file__).resolve().parents[2]
TREES = ROOT.parent / "shared" / "reference" / "install-trees"
REL14 = ROOT / "releases" / "1.1.14-1.1.toml"
DISTS = ("el6", "el7")

needs_trees = pytest.mark.skipif(not TREES.is_dir(),
                                 reason=f"recorded install trees not found at {TREES} "
                                        "(../shared/reference/install-trees beside the checkout)")

REL = manifest.load(REL14)
PAIRS = [(c.name, d) for d in DISTS for c in REL.components_for(d)]


def _report(res: Replay) -> str:
    problems = res.problems()
    shown = "\n  ".join(problems[:40])
    more = f"\n  … and {len(problems) - 40} more" if len(problems) > 40 else ""
    return f"{len(problems)} problem(s):\n  {shown}{more}"


@needs_rpmbuild
@needs_trees
@pytest.mark.parametrize("component,dist", PAIRS, ids=[f"{c}-{d}" for c, d in PAIRS])
def test_spec_packages_the_recorded_tree(component: str, dist: str, tmp_path: Path) -> None:
    tsv = TREES / dist / f"{component}.tsv"
    if not tsv.is_file():
        pytest.skip(f"no recorded install tree for {component} ({dist}): {tsv} does not exist")
    res = replay(REL, REL.dists[dist], REL.component(component), tsv, tmp_path)
    assert res.ok and not res.problems(), f"{component} ({dist}): {_report(res)}"
    # the packages built are the ones the manifest ships (the trees leave -debuginfo out)
    assert set(res.built) == set(REL.component(component).packages_for(dist))


@needs_trees
def test_every_component_is_recorded() -> None:
    """Lists the release's component × dist pairs without a recorded tree."""
    missing = [f"{c} ({d})" for c, d in PAIRS if not (TREES / d / f"{c}.tsv").is_file()]
    extra = sorted(f"{p.stem} ({p.parent.name})" for p in TREES.glob("*/*.tsv")
                   if (p.stem, p.parent.name) not in PAIRS)
    assert not missing, f"not recorded in {TREES}: {', '.join(missing)}"
    assert not extra, f"recorded but not in {REL14.name}: {', '.join(extra)}"


# ---------------------------------------------------------------- the check itself fails on bad input

def test_replay_spec_keeps_packaging_and_drops_the_build() -> None:
    text = ("Name: x\n%description\nd\n%prep\n%setup -q\n%build\n%if 0%{?rhel} >= 7\n%global fl --a \\\n  --b\n"
            "make\n%endif\n%install\nmake install\n%if 0%{?rhel} >= 7\n%post\n/bin/true\n%endif\n%files\n/x\n"
            "%changelog\n* Mon Jan 01 2024 a - 1-1\n- c\n")
    out = replay_spec(text)
    assert "make" not in out.replace("make install", "") and "make install" not in out and "%setup -q\n" not in out
    assert "%global fl --a \\\n  --b\n" in out  # definitions stay, with their continuation
    assert out.count("%if") == out.count("%endif") == 2
    assert out.index("%post") < out.index("%files") < out.index("cp -a %{pmrepo_tree}") < out.index("%changelog")


def test_mode_bits() -> None:
    assert mode_bits("-rw-r--r--") == 0o644 and mode_bits("drwxr-xr-t") == 0o1755
    assert mode_bits("drwxr-x---") == 0o750 and mode_bits("-rwsr-xr-x") == 0o4755
    with pytest.raises(ValueError):
        mode_bits("rw-")


SPEC = """\
{% set license = "MIT" %}{% set project_url = "https://example.invalid/" %}
{% include "_comp_header.spec.j2" %}
BuildArch: noarch
%description
demo
%package devel
Summary: devel
%description devel
devel
%prep
%setup -q
%build
make
%install
make install DESTDIR=%{buildroot}
%files
%doc README
%config(noreplace) %{_sysconfdir}/demo.conf
%{_bindir}/demo
%{_datadir}/demo
%files devel
%{_includedir}/demo.h
{% include "_comp_changelog.spec.j2" %}
"""
TSV = """\
# package\tmode\tflags\tpath\tsymlink-target
demo\t-rw-r--r--\tcn\t/etc/demo.conf\t
demo\t-rwxr-xr-x\t\t/usr/bin/demo\t
demo\tdrwxr-xr-x\t\t/usr/share/demo\t
demo\t-rw-r--r--\t\t/usr/share/demo/data\t
demo\tlrwxrwxrwx\t\t/usr/share/demo/link\tdata
demo\tdrwxr-xr-x\t\t/usr/share/doc/demo-1.0\t
demo\t-rw-r--r--\td\t/usr/share/doc/demo-1.0/README\t
demo-devel\t-rw-r--r--\t\t/usr/include/demo.h\t
"""


PARTIALS = ("_comp_header.spec.j2", "_comp_changelog.spec.j2")  # the real specs' shared parts


def _demo(tmp_path: Path, spec: str = SPEC, tsv: str = TSV) -> Replay:
    (tmp_path / "specs").mkdir(parents=True)
    for name in PARTIALS:  # includes resolve beside the including template
        shutil.copyfile(ROOT / "specs" / name, tmp_path / "specs" / name)
    (tmp_path / "specs" / "demo.spec.j2").write_text(spec)
    (tmp_path / "release.toml").write_text(small_manifest("t-repo", [
        {"name": "demo", "version": "1.0", "packages": ["demo", "demo-devel"]}]))
    rel = manifest.load(tmp_path / "release.toml")
    (tmp_path / "demo.tsv").write_text(tsv)
    work = tmp_path / "work"
    work.mkdir()
    return replay(rel, rel.dists["el7"], rel.component("demo"), tmp_path / "demo.tsv", work)


@needs_rpmbuild
def test_matching_spec_passes(tmp_path: Path) -> None:
    res = _demo(tmp_path)
    assert res.ok and res.problems() == [], _report(res)
    assert res.built == {p: set(v) for p, v in res.recorded.items()}
    assert len(read_tsv(tmp_path / "demo.tsv")) == 8


@needs_rpmbuild
@pytest.mark.parametrize("change,expect", [
    (("%{_bindir}/demo\n", "%{_bindir}/demo\n%{_bindir}/gone\n"), "File not found"),
    (("%{_bindir}/demo\n", ""), "unpackaged"),
    (("%config(noreplace) %{_sysconfdir}", "%config %{_sysconfdir}"), "recorded ('/etc/demo.conf', '-rw-r--r--', 'cn'"),
    (("%doc README\n", ""), "unpackaged"),
    (("%doc README\n", "%doc README NEWS\n"), "NEWS"),
    (("%{_bindir}/demo\n%{_datadir}/demo\n%files devel\n", "%{_datadir}/demo\n%files devel\n%{_bindir}/demo\n"),
     "demo: recorded ('/usr/bin/demo'"),
    (("%files devel\n%{_includedir}/demo.h\n", ""), "unpackaged"),
], ids=["listed-not-installed", "installed-not-listed", "noreplace-lost", "doc-dropped", "doc-missing",
        "wrong-package", "package-missing"])
def test_defective_spec_fails(tmp_path: Path, change: tuple[str, str], expect: str) -> None:
    old, new = change
    assert old in SPEC
    res = _demo(tmp_path, SPEC.replace(old, new, 1))
    problems = res.problems()
    assert problems, "a defective spec must fail the check"
    assert any(expect in p for p in problems), problems


@needs_rpmbuild
def test_mode_difference_fails(tmp_path: Path) -> None:
    spec = SPEC.replace("%{_bindir}/demo\n", "%attr(0700,root,root) %{_bindir}/demo\n")
    res = _demo(tmp_path, spec)
    assert any("/usr/bin/demo" in p and "-rwx------" in p for p in res.problems()), res.problems()


def test_rendered_specs_are_what_the_replay_uses() -> None:
    """The replay renders with the project's own code: same text as `build.py render`."""
    comp = REL.component("libqb")
    text = specs.render_component(REL, REL.dists["el7"], comp)
    assert "%files" in replay_spec(text) and "%configure" not in replay_spec(text)
