"""Static proof for the real release (releases/1.1.14-1.1.toml), for el6 and el7.

Every component spec template is rendered per dist and parsed by the real
``rpmspec`` under that dist's macros. From what rpm says we check: the binary
packages each spec builds equal the manifest's lists (which equal issue 5's
lists, written out below), the -debuginfo packages rpm adds with the
backend's macros file equal the manifest's debuginfo lists, the BuildRequires
graph gives the stated build order without a cycle, and every Requires of
the metapackage resolves to a package these specs build or to a declared OS
package. The predecessor manifest (1.1.13-1.1) must differ exactly as stated.

Nothing here is built or downloaded: no network, no mock. rpmspec runs are
cached per module (about 110 calls).
"""
from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

from pmrepo import manifest
from pmrepo.assemble import repopkg
from pmrepo.builders.base import MACROS_FILE
from pmrepo.errors import SpecError
from pmrepo.render import specs
from pmrepo.render.environment import render_template
from pmrepo.run import run
from pmrepo.schedule.graph import BuildGraph, build_graph

REL14 = ROOT / "releases" / "1.1.14-1.1.toml"
REL13 = ROOT / "releases" / "1.1.13-1.1.toml"
DISTS = ("el6", "el7")

pytestmark = pytest.mark.skipif(shutil.which("rpmspec") is None,
                                reason="rpmspec is not installed here (`make setup` installs rpm)")

# ---------------------------------------------------------------- the stated facts (issues 2 and 5)

VERSIONS_1114 = {
    "pacemaker": "1.1.14-1", "corosync": "2.3.5-1", "libqb": "1.0-1", "cluster-glue": "1.0.12-2",
    "resource-agents": "3.9.7-1", "crmsh": "2.1.5-1", "pssh": "2.3.1-5", "pm_crmgen": "2.1-1",
    "pm_diskd": "2.2-1", "pm_extras": "2.2-1", "pm_logconv-cs": "2.2-1", "pm_ctl": "2.0-1",
    "pcs": "0.9.149-1", "fence-agents": "4.0.22-1",
}
UNCHANGED_SINCE_1113 = {"pssh", "pm_crmgen", "pm_ctl"}

REQUIRE = {
    "pacemaker": "=", "corosync": "=", "cluster-glue": "=", "resource-agents": "=", "libqb": "=",
    "crmsh": ">=", "pm_diskd": ">=", "pm_extras": ">=", "pm_crmgen": ">=", "pm_logconv-cs": ">=",
    "pssh": "none", "pm_ctl": "none", "pcs": "none", "fence-agents": "none",
}

FENCE_FAMILIES = (
    "apc", "apc-snmp", "bladecenter", "brocade", "cisco-mds", "cisco-ucs", "compute", "docker", "drac5",
    "eaton-snmp", "emerson", "eps", "hpblade", "ibmblade", "ifmib", "ilo2", "ilo-moonshot", "ilo-mp",
    "ilo-ssh", "intelmodular", "ipdu", "ipmilan", "kdump", "mpath", "rhevm", "rsa", "rsb", "sbd", "scsi",
    "vbox", "virsh", "vmware-soap", "wti",
)

_SAME = {
    "pacemaker": ["pacemaker", "pacemaker-libs", "pacemaker-cli", "pacemaker-cluster-libs",
                  "pacemaker-libs-devel", "pacemaker-cts", "pacemaker-doc", "pacemaker-remote"],
    "corosync": ["corosync", "corosynclib", "corosynclib-devel"],
    "libqb": ["libqb", "libqb-devel"],
    "cluster-glue": ["cluster-glue", "cluster-glue-libs", "cluster-glue-libs-devel"],
    "resource-agents": ["resource-agents", "ldirectord"],
    "crmsh": ["crmsh", "crmsh-test"],
    "pm_diskd": ["pm_diskd"], "pm_extras": ["pm_extras"], "pm_crmgen": ["pm_crmgen"],
    "pm_logconv-cs": ["pm_logconv-cs"], "pm_ctl": ["pm_ctl"],
    "pcs": ["pcs"],
    "pssh": ["pssh"],
}
PACKAGES = {
    "el6": {**_SAME, "fence-agents": ["fence-agents"]},
    "el7": {**_SAME, "fence-agents": ["fence-agents-all", "fence-agents-common"]
            + [f"fence-agents-{f}" for f in FENCE_FAMILIES]},
}
# the arch-specific components, which get a -debuginfo package
DEBUGINFO = {"pacemaker", "corosync", "libqb", "cluster-glue", "resource-agents",
             "pm_diskd", "pm_extras", "fence-agents"}
# arch-specific without an ELF file, so without -debuginfo (issue 9: rpm fails on an
# empty debugfiles.list); the manifest says why
ARCH_NO_DEBUGINFO = {"crmsh", "pcs"}

# what each component must be built after (BuildRequires, transitively) — issue 5
BUILT_AFTER = {
    "corosync": {"libqb"},
    "pacemaker": {"libqb", "corosync", "cluster-glue", "resource-agents"},
    "pm_diskd": {"pacemaker"},
    "pm_extras": {"pacemaker"},
    # configure needs crm_config.h and glue_config.h (issue 9; upstream's spec BuildRequires both)
    "crmsh": {"pacemaker", "cluster-glue"},
}

# rpm features el6's rpm 4.8 lacks (or el6/el7 build roots do not define)
EL6_UNSAFE = {
    "%license (rpm >= 4.11)": re.compile(r"^\s*%license\b", re.M),
    "%autosetup (rpm >= 4.11)": re.compile(r"%autosetup\b"),
    "%make_build": re.compile(r"%\{?make_build\b"),
    "%make_install (rpm >= 4.11)": re.compile(r"%\{?make_install\b"),
    "weak dependencies": re.compile(r"^(Recommends|Suggests|Supplements|Enhances)\s*:", re.M),
    "rich dependencies": re.compile(r"^(Build)?(Requires|Conflicts|Obsoletes|Provides)(\([^)]*\))?\s*:\s*\(", re.M),
    "scriptlet expansion (%post -e)": re.compile(r"^%(pre|post|preun|postun|pretrans|posttrans)\b[^\n]*\s-e\b", re.M),
    "~ or ^ in a version": re.compile(r"^(Version|Release)\s*:.*[~^]", re.M),
}


# ---------------------------------------------------------------- rpm, cached per module

@dataclass(frozen=True)
class Parsed:
    spec: Path
    text: str
    info: specs.SpecInfo
    built: frozenset[str]  # packages that have a %files section (what rpmbuild writes)
    debuginfo: frozenset[str]  # -debuginfo packages rpm adds with the backend's macros
    requires: dict[str, tuple[str, ...]]  # package -> Requires names
    warnings: tuple[str, ...]


def _rpmspec(spec: Path, dist: manifest.Dist, *args: str) -> list[str]:
    res = run(["rpmspec", *specs.define_args(dist.rpm_defines()), *args, str(spec)], error=SpecError)
    return res.output.splitlines()


def _files_sections(parsed: list[str], main: str) -> set[str]:
    """Package names that own a %files section in `rpmspec --parse` output."""
    names: set[str] = set()
    for line in parsed:
        if not line.startswith("%files"):
            continue
        words = line.split()[1:]
        explicit = None
        sub = None
        skip = False
        for i, w in enumerate(words):
            if skip:
                skip = False
                continue
            if w == "-n":
                explicit = words[i + 1]
                skip = True
            elif w == "-f":
                skip = True
            elif not w.startswith("-") and sub is None and explicit is None:
                sub = w
        names.add(explicit or (f"{main}-{sub}" if sub else main))
    return names


def _parse(spec: Path, dist: manifest.Dist) -> Parsed:
    info = specs.inspect(spec, dist)
    parse_out = _rpmspec(spec, dist, "--parse")
    built = frozenset(set(info.packages) & _files_sections(parse_out, info.source_name))
    names = _rpmspec(spec, dist, "--load", str(MACROS_FILE), "-q", "--qf", "%{NAME}\n")
    debuginfo = frozenset(n.strip() for n in names if n.strip().endswith("-debuginfo"))
    reqs: dict[str, tuple[str, ...]] = {}
    for line in _rpmspec(spec, dist, "-q", "--qf", "%{NAME}:[%{REQUIRENAME},]\n"):
        if ":" in line and not line.startswith(("warning:", "error:")):
            name, rest = line.split(":", 1)
            reqs[name] = tuple(r for r in rest.split(",") if r)
    warnings = tuple(ln for ln in parse_out + names if ln.startswith(("warning:", "error:")))
    return Parsed(spec, spec.read_text(), info, built, debuginfo, reqs, warnings)


@pytest.fixture(scope="module")
def rel14() -> manifest.Release:
    return manifest.load(REL14)


@pytest.fixture(scope="module")
def rel13() -> manifest.Release:
    return manifest.load(REL13)


@pytest.fixture(scope="module")
def parsed(rel14: manifest.Release, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Parsed]]:
    """dist -> component -> what rpm says about its rendered spec."""
    out_dir = tmp_path_factory.mktemp("real-specs")
    jobs: list[tuple[str, str, Path]] = []
    for d in DISTS:
        dist = rel14.dists[d]
        for comp in rel14.components_for(d):
            spec = out_dir / d / f"{comp.name}.spec"
            spec.parent.mkdir(parents=True, exist_ok=True)
            spec.write_text(specs.render_component(rel14, dist, comp))
            jobs.append((d, comp.name, spec))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda j: _parse(j[2], rel14.dists[j[0]]), jobs))
    out: dict[str, dict[str, Parsed]] = {d: {} for d in DISTS}
    for (d, name, _), res in zip(jobs, results, strict=True):
        out[d][name] = res
    return out


@pytest.fixture(scope="module")
def graphs(parsed: dict[str, dict[str, Parsed]]) -> dict[str, BuildGraph]:
    return {d: build_graph(d, {c: p.info for c, p in parsed[d].items()}, external=lambda cap: True)
            for d in DISTS}


def _vercmp(a: str, b: str) -> int:
    """rpm's own version comparison (rpm.vercmp in rpm's embedded Lua)."""
    res = run(["rpm", "--eval", f'%{{lua: print(rpm.vercmp("{a}", "{b}"))}}'])
    return int(res.output.strip())


# ---------------------------------------------------------------- manifests

def test_release_manifest_fields(rel14: manifest.Release) -> None:
    assert (rel14.name, rel14.version, rel14.release) == ("pacemaker-repo", "1.1.14", "1.1")
    assert rel14.release_id == "pacemaker-repo-1.1.14-1.1"
    assert rel14.follows_path() == REL13.resolve()
    assert (rel14.repo("main").prefix, rel14.repo("main").repo_id, rel14.repo("main").repo_file) == (
        "/opt/linux-ha/pacemaker", "linux-ha-ja-pacemaker", "pacemaker.repo")
    assert rel14.metapackage == "pacemaker-all"
    assert list(rel14.note_groups) == ["main", "extension", "additional"]
    assert {d: (rel14.dists[d].tag, rel14.dists[d].rhel) for d in DISTS} == {"el6": (".el6", 6), "el7": (".el7", 7)}
    assert rel14.dists["el6"].os_requires == ("ipmitool",)
    assert rel14.dists["el7"].os_requires == ("ipmitool", "psmisc")
    assert rel14.dists["el7"].macros["_unitdir"] == "/usr/lib/systemd/system"
    assert (rel14.dists["el6"].image, rel14.dists["el7"].image) == ("centos:6", "centos:7")
    # mock's templates: https vault URLs; el6's [updates] is disabled in centos-6.tpl, so it is not named
    for d, ver, repos in (("el6", "6.10", ("base", "extras")), ("el7", "7.9.2009", ("base", "updates", "extras"))):
        urls = rel14.dists[d].base_repos
        assert set(repos) | {"epel"} == set(urls)
        for repo in repos:
            assert urls[repo].startswith(f"https://vault.centos.org/{ver}/") and "$basearch" in urls[repo]
        assert "archives.fedoraproject.org/pub/archive/epel/" in urls["epel"]


def test_components_versions_and_requires(rel14: manifest.Release) -> None:
    assert {c.name: c.vr for c in rel14.components} == VERSIONS_1114
    assert {c.name: c.require for c in rel14.components} == REQUIRE
    for comp in rel14.components:
        assert comp.dists == DISTS
        assert comp.spec == ROOT / "specs" / f"{comp.name}.spec.j2" and comp.spec.is_file()


@pytest.mark.parametrize("dist", DISTS)
def test_manifest_package_lists_are_the_issue_lists(rel14: manifest.Release, dist: str) -> None:
    for comp in rel14.components:
        assert list(comp.packages_for(dist)) == PACKAGES[dist][comp.name], comp.name
        want = [f"{comp.name}-debuginfo"] if comp.name in DEBUGINFO else []
        assert list(comp.debuginfo.get(dist, ())) == want, comp.name


def test_sources_are_upstream_urls_without_invented_checksums(rel14: manifest.Release, rel13: manifest.Release) -> None:
    for rel in (rel14, rel13):
        for comp in rel.components:
            assert len(comp.sources) == 1, comp.name
            src = comp.sources[0]
            assert src.url is not None and src.url.startswith(("https://", "http://")), comp.name
            # unpinned until `build.py pin` downloads the file where the network reaches
            # upstream (trust on first use); nothing here may carry a hand-written one
            assert src.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", src.sha256), comp.name
            assert comp.version in src.url and comp.version in src.filename, comp.name
    # written as one-line inline tables, so `pin` can insert the sha256
    text = REL14.read_text()
    for comp in rel14.components:
        url = comp.sources[0].url
        assert url is not None, comp.name
        assert re.search(r'sources = \[\{ url = "' + re.escape(url) + r'"[^\n]*\}\]\n', text), comp.name


def test_predecessor_differs_exactly_as_stated(rel14: manifest.Release, rel13: manifest.Release) -> None:
    assert rel13.release_id == "pacemaker-repo-1.1.13-1.1"
    assert rel13.follows is None and rel13.date < rel14.date
    assert [c.name for c in rel13.components] == [c.name for c in rel14.components]
    changed = {c.name for c in rel14.components if c.vr != rel13.component(c.name).vr}
    assert changed == set(VERSIONS_1114) - UNCHANGED_SINCE_1113
    for c in rel14.components:
        old = rel13.component(c.name)
        if c.name in changed:
            assert _vercmp(c.version, old.version) > 0 or (
                c.version == old.version and _vercmp(c.release, old.release) > 0), c.name
        assert old.require == c.require and dict(old.packages) == dict(c.packages), c.name
        assert dict(old.debuginfo) == dict(c.debuginfo) and old.group == c.group, c.name
    same_fields = ("name", "metapackage", "group_id", "arch")
    assert all(getattr(rel13, f) == getattr(rel14, f) for f in same_fields)
    same_repo = ("prefix", "repo_id", "repo_file")  # the main repository's (Release.repositories)
    assert all(getattr(rel13.repo("main"), f) == getattr(rel14.repo("main"), f) for f in same_repo)
    assert {d: rel13.dists[d].os_requires for d in DISTS} == {d: rel14.dists[d].os_requires for d in DISTS}


# ---------------------------------------------------------------- specs, per dist

@pytest.mark.parametrize("dist", DISTS)
def test_every_spec_parses_cleanly(rel14: manifest.Release, parsed: dict[str, dict[str, Parsed]], dist: str) -> None:
    tag = rel14.dists[dist].tag
    assert set(parsed[dist]) == set(VERSIONS_1114)
    for name, p in parsed[dist].items():
        assert p.warnings == (), f"{name} ({dist}): {p.warnings}"
        assert p.info.source_name == name
        assert p.info.evr == VERSIONS_1114[name] + tag, name
        release = VERSIONS_1114[name].rsplit("-", 1)[1]
        assert re.search(rf"^Release:\s+{re.escape(release)}%\{{\?dist\}}$", p.text, re.M), name
        assert "%changelog" in p.text and rel14.date.strftime("%a %b %d %Y") in p.text, name


@pytest.mark.parametrize("dist", DISTS)
def test_built_packages_equal_manifest(rel14: manifest.Release, parsed: dict[str, dict[str, Parsed]],
                                       dist: str) -> None:
    for comp in rel14.components_for(dist):
        p = parsed[dist][comp.name]
        assert p.built == set(comp.packages_for(dist)), f"{comp.name} ({dist})"
        # the first package listed is the one the metapackage requires
        assert comp.packages_for(dist)[0] in p.built


def test_fence_agents_layout_differs_by_dist(parsed: dict[str, dict[str, Parsed]]) -> None:
    el6, el7 = parsed["el6"]["fence-agents"], parsed["el7"]["fence-agents"]
    assert el6.built == {"fence-agents"}
    assert len(el7.built) == 2 + len(FENCE_FAMILIES) and "fence-agents" not in el7.built
    assert set(el7.requires["fence-agents-all"]) >= {f"fence-agents-{f}" for f in FENCE_FAMILIES}
    # only the C agent (and the metapackage of them all) stays arch-specific on el7
    arch_specific = {n for n in el7.built if el7.info.arches[n] != "noarch"}
    assert arch_specific == {"fence-agents-all", "fence-agents-kdump"}


@pytest.mark.parametrize("dist", DISTS)
def test_debuginfo_packages(rel14: manifest.Release, parsed: dict[str, dict[str, Parsed]], dist: str) -> None:
    """rpmspec lists no automatic -debuginfo; with the backend's macros file
    (what rpmbuild builds with) it does, for exactly the arch-specific specs."""
    for comp in rel14.components_for(dist):
        p = parsed[dist][comp.name]
        assert p.debuginfo == set(comp.debuginfo.get(dist, ())), f"{comp.name} ({dist})"
        arches = {p.info.arches[n] for n in p.built}
        if comp.name in DEBUGINFO | ARCH_NO_DEBUGINFO:
            assert "x86_64" in arches, comp.name
        else:
            assert arches == {"noarch"}, comp.name


@pytest.mark.parametrize("dist", DISTS)
def test_no_rpm_features_el6_lacks(parsed: dict[str, dict[str, Parsed]], dist: str) -> None:
    for name, p in parsed[dist].items():
        for what, pattern in EL6_UNSAFE.items():
            assert not pattern.search(p.text), f"{name} ({dist}) uses {what}"
        for pkg, reqs in p.requires.items():
            assert not any(r.startswith("(") for r in reqs), f"{pkg}: rich dependency"


# ---------------------------------------------------------------- build graph

@pytest.mark.parametrize("dist", DISTS)
def test_build_order(graphs: dict[str, BuildGraph], dist: str) -> None:
    g = graphs[dist]
    order = g.order()
    assert sorted(order) == sorted(VERSIONS_1114)
    for comp, before in BUILT_AFTER.items():
        assert before <= g.closure(comp), f"{comp} ({dist}) needs {before - g.closure(comp)} built first"
        assert all(order.index(b) < order.index(comp) for b in before)
    # nothing else in the release needs the stack built first
    independent = set(VERSIONS_1114) - set(BUILT_AFTER) - {"resource-agents", "pm_extras"}
    assert all(not g.deps[c] for c in independent), {c: g.deps[c] for c in independent if g.deps[c]}
    assert g.waves() == [
        ["cluster-glue", "fence-agents", "libqb", "pcs", "pm_crmgen", "pm_ctl", "pm_logconv-cs", "pssh"],
        ["corosync", "resource-agents"],
        ["pacemaker"],
        ["crmsh", "pm_diskd", "pm_extras"],
    ]


@pytest.mark.parametrize("dist", DISTS)
def test_crmsh_requires_pssh_from_this_release(parsed: dict[str, dict[str, Parsed]], dist: str) -> None:
    assert "pssh" in parsed[dist]["crmsh"].requires["crmsh"]
    assert "pssh" in parsed[dist]["pssh"].built


# ---------------------------------------------------------------- the metapackage

@pytest.mark.parametrize("dist", DISTS)
def test_metapackage_requires_resolve(rel14: manifest.Release, parsed: dict[str, dict[str, Parsed]],
                                      tmp_path: Path, dist: str) -> None:
    d = rel14.dists[dist]
    ctx = specs.base_context(rel14, d) | {"requires": repopkg.metapackage_requires(rel14, d)}
    spec = tmp_path / f"{rel14.metapackage}.spec"
    spec.write_text(render_template("specs/pacemaker-all.spec.j2", ctx))
    lines = _rpmspec(spec, d, "-q", "--qf", "[%{REQUIRENAME}|%{REQUIREFLAGS:depflags}|%{REQUIREVERSION}\n]")
    reqs = [ln.split("|") for ln in lines if ln.count("|") == 2 and not ln.startswith("rpmlib(")]
    providers: dict[str, str] = {}  # capability -> version-release of the package providing it
    for p in parsed[dist].values():
        for pkg in p.built:
            for cap in p.info.provides[pkg]:
                providers[cap] = p.info.evr
    seen: set[str] = set()
    for name, flags, version in reqs:
        seen.add(name)
        if name in d.os_requires:
            assert not version.strip(), f"OS package {name} must be unversioned"
            assert name not in providers, f"{name} is an OS package but the release builds it"
            continue
        assert name in providers, f"{rel14.metapackage} ({dist}) requires {name}: no spec builds it"
        cmp = _vercmp(providers[name], version.strip()) if version.strip() else 0
        ok = {"=": cmp == 0, ">=": cmp >= 0, "": True}[flags.strip()]
        assert ok, f"{name} {flags} {version}: the spec builds {providers[name]}"
    mains = {c.packages_for(dist)[0] for c in rel14.components_for(dist) if c.require != "none"}
    assert seen == mains | set(d.os_requires)


@pytest.mark.parametrize("dist", DISTS)
def test_rendered_specs_pass_rpmlint(rel14: manifest.Release, parsed: dict[str, dict[str, Parsed]], dist: str,
                                     tmp_path: Path) -> None:
    """rpmlint on every rendered spec, with the project config and the release's filters."""
    from pmrepo.checks import CheckContext, RpmlintCheck
    from pmrepo.checks.rpmlint import release_filters

    spec_paths = tuple(p.spec for p in parsed[dist].values())
    assert len(spec_paths) == len(rel14.components_for(dist))
    ctx = CheckContext(release=None, dist=rel14.dists[dist], report_dir=tmp_path, specs=spec_paths)
    report = RpmlintCheck(extra_filters=release_filters(rel14)).run(ctx)
    assert report.passed, report.text()
    assert len(report.items) == len(spec_paths)


def test_plan_command_prints_order_waves_and_package_list(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "plan", "--release", str(REL14),
                           "--workdir", str(tmp_path / "w"), "--outdir", str(tmp_path / "o")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for dist in DISTS:
        section = out.split(f"== {dist} ")[1].split("\n== ")[0]
        assert "  wave 3: pacemaker\n" in section and "  wave 4: crmsh, pm_diskd, pm_extras\n" in section
        order = section.split("build order: ")[1].splitlines()[0].split(" -> ")
        assert order.index("libqb") < order.index("corosync") < order.index("pacemaker") < order.index("pm_diskd")
        assert f"pacemaker-repo-1.1.14-1.1.{dist}.x86_64.rpm installs /opt/linux-ha/pacemaker/rpm/:" in section
        assert (f"ldirectord               3.9.7-1.{dist}" in section
                or f"ldirectord                 3.9.7-1.{dist}" in section)
        assert "pacemaker-all requires: pacemaker = 1.1.14-1." + dist in section
