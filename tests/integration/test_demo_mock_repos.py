"""The demo through the mock backend, as the release workflow builds it with real mock on GitHub:
its manifest names the base repositories of the mock build roots (``mock_base_repos``: the vault
and EPEL archive URLs of the real release), each root's config carries them; the checks and the
rpmbuild backend never see them, so `make demo` and its checks stay offline."""
from __future__ import annotations

import configparser
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO, ROOT

from pmrepo import manifest
from pmrepo.checks.freshroot import base_repo_args
from pmrepo.errors import ManifestError
from pmrepo.render.specs import render_component
from pmrepo.run import run

FAKE_DIR = Path(__file__).resolve().parents[1] / "fake_mock"
PREVIOUS = DEMO.parent / "release-0.9.toml"
REAL = manifest.load(ROOT / "releases" / "1.1.14-1.1.toml")


def roots_repos(config: str) -> dict[str, dict[str, str]]:
    """The repositories of a mock config's yum.conf, each with the comment naming its origin."""
    opts: dict[str, Any] = {"macros": {}, "environment": {}, "plugin_conf": {}}
    exec(compile(config, "mock.cfg", "exec"), {"config_opts": opts})
    text = opts["yum.conf"]
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(text)
    out = {s: dict(cp[s]) for s in cp.sections() if s != "main"}
    for m in re.finditer(r"^# (.*)\n\[([^\]]+)\]$", text, re.M):
        out[m.group(2)]["origin"] = m.group(1)
    return out


@pytest.mark.parametrize("path", [DEMO, PREVIOUS], ids=["demo-1.0", "demo-0.9"])
def test_the_demo_names_the_real_releases_vault_repositories_for_mock_only(path: Path) -> None:
    rel = manifest.load(path)
    for name, dist in rel.dists.items():
        assert dist.mock_base_repos == REAL.dists[name].base_repos, name  # the same vault/EPEL URLs
        # the checks see none of them: the demo installs into bare roots, offline
        assert dist.base_repos == {} and base_repo_args(rel, dist) == []


@pytest.mark.skipif(not all(shutil.which(t) for t in ("rpmbuild", "createrepo_c", "rpm2archive")),
                    reason="needs rpmbuild, createrepo_c and rpm2archive (make setup)")
def test_the_demo_builds_with_the_stand_in_mock_and_each_root_has_its_base_repositories(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both dists of the demo through the pipeline with --backend mock and the stand-in: every
    build's config has the manifest's repositories, enabled, named as coming from mock_base_repos."""
    from pmrepo.pipeline.orchestrator import Options, Pipeline

    monkeypatch.setenv("PATH", f"{FAKE_DIR}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_MOCK_RECORD", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_MOCK_BASEDIR", str(tmp_path / "mock-lib"))
    monkeypatch.setenv("FAKE_MOCK_CACHEDIR", str(tmp_path / "mock-cache"))
    for var in [v for v in os.environ if v.startswith(("PMREPO_MIRROR_", "FAKE_MOCK_FAIL"))]:
        monkeypatch.delenv(var)
    rel = manifest.load(DEMO)
    opts = Options(release=DEMO, workdir=tmp_path / "w", outdir=tmp_path / "o", backend="mock", jobs=1,
                   install_check=False, gates=False)
    p = Pipeline(opts, say=lambda _: None)
    rendered = p.render()
    results = p.build(rendered, p.fetch_sources(), p.plan(rendered))
    import json
    calls = [json.loads(ln) for ln in (tmp_path / "calls.jsonl").read_text().splitlines()]
    rebuilds = [c for c in calls if c["mode"] == "rebuild"]
    assert len(rebuilds) == len(results) == sum(len(c.dists) for c in rel.components)
    seen = set()
    for call in rebuilds:
        dist = next(d for d in rel.dists if f"pmrepo-{d}-" in call["config"])
        seen.add(dist)
        repos = roots_repos(call["config"])
        for repoid, url in rel.dists[dist].mock_base_repos.items():
            r = repos[repoid]
            assert r["baseurl"] == url and r["enabled"] == "1", (dist, repoid)
            assert r["origin"].startswith(f"manifest [dists.{dist}] mock_base_repos.{repoid}"), r["origin"]
    assert seen == {"el6", "el7"}
    for dist in ("el6", "el7"):
        assert list((tmp_path / "w" / "store" / dist).iterdir()), f"nothing built for {dist}"


def _stand_in(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    monkeypatch.setenv("PATH", f"{FAKE_DIR}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_MOCK_RECORD", str(where / "calls.jsonl"))
    monkeypatch.setenv("FAKE_MOCK_BASEDIR", str(where / "mock-lib"))
    monkeypatch.setenv("FAKE_MOCK_CACHEDIR", str(where / "mock-cache"))
    for var in [v for v in os.environ if v.startswith(("PMREPO_MIRROR_", "FAKE_MOCK_"))]:
        if var not in ("FAKE_MOCK_RECORD", "FAKE_MOCK_BASEDIR", "FAKE_MOCK_CACHEDIR"):
            monkeypatch.delenv(var)


def _one_build(work: Path) -> Any:
    from pmrepo.pipeline.orchestrator import Options, Pipeline
    from pmrepo.schedule.plan import component_selection

    opts = Options(release=DEMO, workdir=work / "w", outdir=work / "o", backend="mock", jobs=1, dists=("el7",),
                   components=("libdemo",), install_check=False, gates=False)
    p = Pipeline(opts, say=lambda _: None)
    rendered = p.render()
    plans = p.plan(rendered)
    return p.build(rendered, p.fetch_sources(), plans, component_selection(plans, ("libdemo",), ["el7"]))


@pytest.mark.skipif(os.geteuid() != 0, reason="the case is pmrepo run as root through sudo (this run is not root)")
@pytest.mark.skipif(not all(shutil.which(t) for t in ("rpmbuild", "createrepo_c")),
                    reason="needs rpmbuild and createrepo_c (make setup)")
def test_one_stand_in_pipeline_build_under_sudo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pmrepo run as root through sudo, SUDO_UID set (the suite itself runs without sudo's variables,
    tests/conftest.py): the pipeline builds through the stand-in, which builds as that user, where the
    user can reach the work directory; under pytest's own 0700 base directory it is one line saying so."""
    import json
    import pwd
    import tempfile

    from pmrepo.errors import BuildError

    nobody = pwd.getpwnam("nobody")
    monkeypatch.setenv("SUDO_UID", str(nobody.pw_uid))
    monkeypatch.setenv("SUDO_GID", str(nobody.pw_gid))
    _stand_in(monkeypatch, tmp_path)
    base = Path(tempfile.mkdtemp(prefix="pmrepo-sudo-", dir="/var/tmp"))
    try:
        base.chmod(0o755)  # reachable by SUDO_UID, as a checkout under the user's home is
        results = _one_build(base)
        assert [(k, r.status) for k, r in results.items()] == [(("libdemo", "el7"), "built")], results
        [call] = [json.loads(ln) for ln in (tmp_path / "calls.jsonl").read_text().splitlines()
                  if json.loads(ln)["mode"] == "rebuild"]
        assert call["exit"] == 0
        # what mock wrote as SUDO_UID (results, logs) is in root's store as root's own copies (review N5)
        stored = [p for p in (base / "w" / "store").rglob("*") if not p.is_dir()]
        assert any(p.name.endswith(".x86_64.rpm") for p in stored) and any(p.name == "root.log" for p in stored)
        assert [p for p in stored if p.lstat().st_uid != 0] == []
    finally:
        shutil.rmtree(base, ignore_errors=True)
    with pytest.raises(BuildError) as exc:  # pytest's base temp as root is /tmp/pytest-of-root, mode 0700
        _one_build(tmp_path)
    msg = str(exc.value)
    assert f"SUDO_UID {nobody.pw_uid}" in msg and "cannot enter" in msg and "fix:" in msg and "\n" not in msg, msg


@pytest.mark.skipif(not all(shutil.which(t) for t in ("rpmbuild", "createrepo_c", "rpm2archive")),
                    reason="needs rpmbuild, createrepo_c and rpm2archive (make setup)")
def test_the_mock_provenance_records_the_roots_repositories_without_credentials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`all --backend mock` of the demo (el7, through the stand-in) with a private mirror that needs a
    password (--mock-opt mirror.base=https://user:s3cret@…): the provenance lists the repositories its
    roots installed from — the mirror, the manifest's mock_base_repos — with ***@ for the credentials,
    and names the secret nowhere (review M7: the options were recorded verbatim, the roots'
    repositories not at all)."""
    import json

    from pmrepo.builders.mock.builder import MockBuilder
    from pmrepo.pipeline.orchestrator import Options, Pipeline

    _stand_in(monkeypatch, tmp_path)
    mirror = "https://user:s3cret@mirror.invalid/centos/7/os/x86_64/"
    opts = Options(release=DEMO, workdir=tmp_path / "w", outdir=tmp_path / "o", backend="mock", dists=("el7",),
                   install_check=False, gates=False, backend_options={"mirrors": {"base": mirror}})
    outputs = Pipeline(opts, say=lambda _: None).run_all()
    [path] = outputs["el7"].glob("*.provenance.json")
    text = path.read_text()
    assert "s3cret" not in text and "user:" not in text
    build = json.loads(text)["predicate"]["buildDefinition"]
    assert build["externalParameters"]["options"]["backendOptions"]["mirrors"]["base"] == \
        "https://***@mirror.invalid/centos/7/os/x86_64/"
    repos = {d["name"]: d["uri"] for d in build["resolvedDependencies"]
             if d["annotations"]["origin"] == "build root repository"}
    el7 = manifest.load(DEMO).dists["el7"]
    expected = MockBuilder(mirrors={"base": mirror}).build_repositories(el7)
    assert expected is not None and repos == expected and repos["base"] == "https://***@mirror.invalid/centos/7/os/x86_64/"
    assert set(el7.mock_base_repos) <= set(repos) and len(repos) >= 4
    assert "listed in resolvedDependencies" in build["internalParameters"]["buildRootRepositories"]
    assert not [d for d in build["resolvedDependencies"] if d["annotations"]["origin"] == "base repository"]


def test_bad_mock_base_repos_are_one_line_errors(tmp_path: Path) -> None:
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "release.toml"
    text = path.read_text()
    found = re.search(r"^mock_base_repos = .*7\.9\.2009.*$", text, flags=re.M)
    assert found, "the demo's el7 mock_base_repos line"
    for bad, field in (('mock_base_repos = { base = "http://x/{{7*7}}/" }', "dists.el7.mock_base_repos.base"),
                       ('mock_base_repos = { "a b" = "http://x/" }', "dists.el7.mock_base_repos.a b"),
                       ('mock_base_repos = { base = "ftp x" }', "dists.el7.mock_base_repos.base"),
                       ('mock_base_repos = "http://x/"', "dists.el7.mock_base_repos")):
        path.write_text(text.replace(found.group(0), bad, 1))
        with pytest.raises(ManifestError) as exc:
            manifest.load(path)
        assert field in str(exc.value) and "fix:" in str(exc.value) and "\n" not in str(exc.value), str(exc.value)


@pytest.mark.skipif(shutil.which("rpmspec") is None, reason="needs rpmspec (make setup)")
@pytest.mark.parametrize("component", ["libdemo", "demod", "demo-plugin", "demo-tools"])
def test_on_el6s_rpm_the_auto_requires_a_bare_root_lacks_are_off(tmp_path: Path, component: str) -> None:
    """rpm 4.8 (el6 mock roots) ignores __requires_exclude (rpm 4.9): the specs turn automatic
    requirements off where file attributes (rpm 4.9) are missing, and only there — this host's
    rpm (the rpmbuild backend, the stand-in) parses the spec as before."""
    rel = manifest.load(DEMO)
    comp = next(c for c in rel.components if c.name == component)
    spec = tmp_path / f"{component}.spec"
    spec.write_text(render_component(rel, rel.dists["el6"], comp))
    here = run(["rpmspec", "-P", str(spec)]).output
    as_rpm48 = run(["rpmspec", "-P", "--undefine", "_fileattrsdir", str(spec)]).output
    assert "AutoReq:" not in here and re.search(r"^AutoReq:\s+no$", as_rpm48, re.M)
    if component == "demod":  # its link to libdemo, stated when rpm does not find it
        assert re.search(r"^Requires:\s+libdemo\(x86-64\)$", as_rpm48, re.M) and "Requires:       libdemo" not in here
