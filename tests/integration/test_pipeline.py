"""Pipeline-level behaviour: a failing gate publishes nothing, and the
assembled output is reused only while its inputs are unchanged."""
from __future__ import annotations

from pathlib import Path

import pytest
from synthetic import make_release

from pmrepo.errors import GateError, PmrepoError
from pmrepo.pipeline.orchestrator import Options, Pipeline
from pmrepo.run import run


def _run(manifest: Path, tmp: Path, **kw: object) -> tuple[dict[str, Path], list[str]]:
    lines: list[str] = []
    opts = Options(release=manifest, workdir=tmp / "work", outdir=tmp / "out", **kw)  # type: ignore[arg-type]
    return Pipeline(opts, say=lines.append).run_all(), lines


def test_rich_dependency_fails_the_compat_gate_and_nothing_is_published(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", {"a": [], "b": ["a"]}, requires={"b": ["(a or a-devel)"]}, dists=("el6", "el7"))
    with pytest.raises(GateError, match=r"compat gate failed for el6: .*b-1\.0-1\.el6\.x86_64\.rpm.*RichDependencies"):
        _run(m, tmp_path, install_check=False)
    out = tmp_path / "out"
    assert not list(out.rglob("*.rpm")), "a release that failed a gate was published"
    assert not list((out / ".staging").glob("*")), "staging left behind"
    report = tmp_path / "work" / "synth-repo-1.0-1" / "el6" / "gates" / "compat-el6.txt"
    assert "RichDependencies" in report.read_text()


def test_unresolvable_requires_fails_closure(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", {"a": []}, requires={"a": ["libfrobnicate >= 2"]})
    with pytest.raises(GateError, match=r"closure gate failed for el7: .*libfrobnicate"):
        _run(m, tmp_path, install_check=False)
    assert not (tmp_path / "out" / "synth-repo-1.0-1" / "el7").exists()


def test_assembly_is_reused_until_an_input_changes(tmp_path: Path) -> None:
    m = make_release(tmp_path / "rel", {"a": [], "b": ["a"]})
    first, _ = _run(m, tmp_path)
    rpm = first["el7"] / "synth-repo-1.0-1.el7.x86_64.rpm"
    stamp = rpm.stat().st_mtime_ns
    _, lines = _run(m, tmp_path)
    assert "el7: repository and repo packages unchanged, reused" in "\n".join(lines)
    assert rpm.stat().st_mtime_ns == stamp
    # a manifest change that touches no build (the repository's name) re-assembles
    m.write_text(m.read_text().replace('repo_file = "pmrepo-synth.repo"',
                                       'repo_file = "pmrepo-synth.repo"\nrepo_name = "Renamed"'))
    _, lines = _run(m, tmp_path)
    text = "\n".join(lines)
    assert "unchanged, reused" not in text
    assert rpm.stat().st_mtime_ns != stamp


def _os_repo(tmp: Path, name: str) -> Path:
    """A tiny "base repository" holding one noarch OS package."""
    top = tmp / "os-build"
    spec = top / f"{name}.spec"
    top.mkdir(parents=True)
    spec.write_text(f"Name: {name}\nVersion: 1.0\nRelease: 1\nSummary: test OS package\nLicense: MIT\n"
                    "BuildArch: noarch\n"
                    f"%description\nStands in for an OS package.\n%files\n")
    run(["rpmbuild", "-bb", "--define", f"_topdir {top}", "--define", "_binary_payload w9.gzdio", str(spec)])
    repo = tmp / "os-repo"
    repo.mkdir()
    for rpm in (top / "RPMS").rglob("*.rpm"):
        (repo / rpm.name).write_bytes(rpm.read_bytes())
    run(["createrepo_c", "--general-compress-type", "gz", str(repo)])
    return repo


def test_os_requires_come_from_the_dists_base_repositories(tmp_path: Path) -> None:
    """pacemaker-all's unversioned OS requirements (ipmitool, psmisc) resolve
    from the dist's base_repos in the fresh-root install check; without a base
    repository the same release fails it."""
    repo = _os_repo(tmp_path, "pmrepo-os-tool")
    m = make_release(tmp_path / "rel", {"a": []})
    plain = m.read_text()
    m.write_text(plain.replace("[dists.el7]\nrhel = 7\n",
                               '[dists.el7]\nrhel = 7\nos_requires = ["pmrepo-os-tool"]\n'
                               f'base_repos = {{ os = "file://{repo}" }}\n'))
    outputs, lines = _run(m, tmp_path / "with")
    assert "installed and erased 5 packages + 1 from base repositories" in "\n".join(lines)
    assert outputs["el7"].is_dir()
    m.write_text(plain.replace("[dists.el7]\nrhel = 7\n", '[dists.el7]\nrhel = 7\nos_requires = ["pmrepo-os-tool"]\n'))
    with pytest.raises(PmrepoError, match="pmrepo-os-tool"):
        _run(m, tmp_path / "without", gates=False)
    assert not (tmp_path / "without" / "out" / "synth-repo-1.0-1" / "el7").exists()
