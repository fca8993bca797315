"""The weekly upstream check (.github/workflows/upstream.yml, issue 29): scheduled weekly, least
privilege, actions pinned, the check step's own shell run here against the demo (its table goes to
the job summary, its status out), and the job failing only when an upstream cannot be checked;
zizmor (offline) finds nothing above informational."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from pmrepo.run import run

WORKFLOW = ROOT / ".github" / "workflows" / "upstream.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def step(workflow: dict, name: str) -> dict:
    return next(s for s in workflow["jobs"]["check"]["steps"] if s.get("name", "").startswith(name))


def test_weekly_least_privilege_and_pinned(workflow: dict) -> None:
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    (cron,) = [s["cron"] for s in triggers["schedule"]]
    minute, hour, dom, month, dow = cron.split()
    assert dom == month == "*" and re.fullmatch(r"[0-6]", dow) and minute.isdigit() and hour.isdigit(), cron
    assert workflow["permissions"] == {} and set(workflow["jobs"]) == {"check"}
    job = workflow["jobs"]["check"]
    assert job["permissions"] == {"contents": "read"} and job["timeout-minutes"] <= 60
    text = WORKFLOW.read_text()
    uses = re.findall(r"^\s*(?:- )?uses: (\S+)(.*)$", text, re.M)
    assert len(uses) == sum(1 for s in job["steps"] if "uses" in s) == 3
    for ref, rest in uses:
        assert re.match(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$", ref), ref
        assert re.match(r"^\s+# v\d+\.\d+\.\d+$", rest), f"{ref}: the tag it pins belongs in a comment"
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    assert (ROOT / job["env"]["RELEASE"]).is_file()
    assert "${{" not in step(workflow, "Check every upstream")["run"]  # no expression in a shell line


def test_the_check_step_puts_the_table_in_the_summary_and_its_status_out(workflow: dict, tmp_path: Path) -> None:
    """The step's shell as the runner runs it (bash -e), in a copy of the checkout, on the demo
    (offline: its upstreams are bundles)."""
    for name in ("build.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "pmrepo", tmp_path / "pmrepo", ignore=shutil.ignore_patterns("__pycache__"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RELEASE": "pmrepo/demo/release.toml",
           "CI": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    script = step(workflow, "Check every upstream")["run"]
    res = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stdout + res.stderr
    assert output.read_text() == "status=3\n"  # the demo's libdemo and demod are newer
    text = summary.read_text()
    assert text.startswith("## Upstream versions of pmrepo/demo/release.toml") and "\nlibdemo      el6 el7  1.2" in text
    assert "--set libdemo=1.3-1 --set demod=1.1-1" in text and text.rstrip().endswith("```")
    report = json.loads((tmp_path / "work" / "demo-repo-1.0-1" / "upstream" / "upstream.json").read_text())
    assert report["exit_status"] == 3  # what the artifact step keeps
    assert "work/*/upstream/" in step(workflow, "Keep the report")["with"]["path"]
    assert step(workflow, "Keep the report")["if"] == "always()"


@pytest.mark.parametrize("status,fails", [("0", False), ("3", False), ("4", True), ("1", True), ("2", True)])
def test_the_job_fails_only_when_an_upstream_cannot_be_checked(workflow: dict, status: str, fails: bool) -> None:
    last = step(workflow, "Fail only when")
    assert last["env"]["STATUS"] == "${{ steps.check.outputs.status }}"
    res = subprocess.run(["bash", "-e", "-c", last["run"]], env={**os.environ, "STATUS": status},
                         capture_output=True, text=True, timeout=60)
    assert (res.returncode != 0) is fails, res.stdout


def test_zizmor_finds_nothing_above_informational(tmp_path: Path) -> None:
    exe = shutil.which("zizmor")
    if exe is None:
        pytest.fail("zizmor is not installed — fix: pip install -r requirements-test.txt (make setup)")
    res = run([exe, "--offline", "--quiet", "--no-progress", "--persona", "auditor", "--format", "json",
               str(WORKFLOW)], check=False, log_file=tmp_path / "zizmor.log")
    assert res.returncode in (0, 10, 11, 12, 13, 14), res.output
    text = re.sub(r"\x1b\[[0-9;]*m", "", res.output)
    start = 0 if text.startswith("[") else text.index("\n[") + 1
    findings = json.loads(text[start:text.rindex("]") + 1])
    above = [f"{f['ident']} ({f['determinations']['severity']})" for f in findings
             if f["determinations"]["severity"] not in ("Informational", "Unknown")]
    assert not above, "zizmor findings above informational: " + "; ".join(above)
