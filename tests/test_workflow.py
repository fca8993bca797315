"""The CI release workflow (.github/workflows/release.yml) against the project:
it parses, every `make` it runs names a real Makefile target and variable, the
matrix covers the real manifest's dists, and signing/publishing happen on
release tags only."""
from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from pmrepo import manifest
from pmrepo.run import run

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
MAKEFILE = ROOT / "Makefile"
TAG_CONDITION = "startsWith(github.ref, 'refs/tags/v')"
SHELL_SEPARATORS = {"&&", "||", ";", "|", "then", "do", "else", "--", "exec", "time"}


def makefile_targets(text: str) -> set[str]:
    targets: set[str] = set()
    for line in text.splitlines():
        if line.startswith(("\t", "#", " ")) or not line.strip():
            continue
        m = re.match(r"^([^:=#]+?)\s*::?(?!=)", line)
        if m and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*[?:+]?=", line):
            targets.update(t for t in m.group(1).split() if not t.startswith("."))
    return targets


def makefile_variables(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([A-Za-z_][A-Za-z0-9_]*)\s*[?:+]?=", text, re.M)}


def make_calls(script: str) -> list[tuple[list[str], dict[str, str]]]:
    """(targets, VAR=value arguments) of every `make` command in a shell script."""
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script).replace("\\\n", " ")
    calls = []
    for line in script.splitlines():
        line = line.split(" #", 1)[0]
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        for i, word in enumerate(words):
            if word != "make" or (i > 0 and words[i - 1] not in SHELL_SEPARATORS):
                continue
            targets, variables = [], {}
            for arg in words[i + 1:]:
                if arg in SHELL_SEPARATORS:
                    break
                if arg.startswith("-"):
                    continue
                if "=" in arg:
                    key, _, value = arg.partition("=")
                    variables[key] = value
                else:
                    targets.append(arg)
            calls.append((targets, variables))
    return calls


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def steps(workflow: dict) -> list[tuple[str, dict]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job["steps"]]


def test_parses_as_a_github_workflow(workflow: dict) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["tags"] == ["v*"]
    assert set(workflow["jobs"]) == {"build", "release"}
    for job_id, step in steps(workflow):
        assert ("run" in step) != ("uses" in step), f"{job_id}: a step needs exactly one of run/uses: {step}"
        if "uses" in step:
            assert re.match(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$", step["uses"]), f"unpinned action {step['uses']}"
    assert workflow["jobs"]["release"]["needs"] == "build"


def test_every_make_call_names_a_makefile_target_and_variable(workflow: dict) -> None:
    text = MAKEFILE.read_text()
    targets, variables = makefile_targets(text), makefile_variables(text)
    assert {"setup", "repo", "gates", "sign", "publish"} <= targets  # the parser reads this Makefile
    calls = [c for _, step in steps(workflow) for c in make_calls(step.get("run", ""))]
    assert calls, "the workflow runs no make target"
    used = {t for ts, _ in calls for t in ts}
    assert not used - targets, f"make targets missing from the Makefile: {sorted(used - targets)}"
    passed = {v for _, vs in calls for v in vs}
    assert not passed - variables, f"make variables the Makefile does not define: {sorted(passed - variables)}"
    # the whole pipeline runs through make: build, gates, notes, sign, publish
    assert {"setup", "repo", "gates", "notes", "sign", "publish"} <= used


def test_matrix_covers_the_real_manifests_dists(workflow: dict) -> None:
    build = workflow["jobs"]["build"]
    default = ROOT / workflow["env"]["DEFAULT_RELEASE"]
    rel = manifest.load(default)
    assert sorted(build["strategy"]["matrix"]["dist"]) == sorted(rel.dists)
    dispatch = workflow.get("on", workflow.get(True))["workflow_dispatch"]["inputs"]["release"]["default"]
    assert ROOT / dispatch == default


def test_builds_with_mock_in_a_privileged_fedora_container(workflow: dict) -> None:
    build = workflow["jobs"]["build"]
    assert re.match(r"^(registry\.fedoraproject\.org/)?fedora:\d+$", build["container"]["image"])
    assert "--privileged" in build["container"]["options"]
    builds = [(ts, vs) for _, step in steps({"jobs": {"build": build}}) for ts, vs in make_calls(step.get("run", ""))
              if {"repo", "sign"} & set(ts)]
    assert builds and all(vs.get("BACKEND") == "mock" and vs.get("DIST") for _, vs in builds)
    gates = [vs for _, step in steps({"jobs": {"build": build}}) for ts, vs in make_calls(step.get("run", ""))
             if "gates" in ts]
    assert gates and all(vs.get("CONTAINER") for vs in gates), "the gates run the container install test"


def test_sign_and_publish_only_on_release_tags_and_secrets_only_there(workflow: dict) -> None:
    for job_id, step in steps(workflow):
        calls = make_calls(step.get("run", ""))
        text = yaml.safe_dump(step)
        releasing = any({"sign", "publish"} & set(ts) for ts, _ in calls) or "action-gh-release" in step.get("uses", "")
        if releasing or "secrets." in text:
            cond = str(step.get("if", ""))
            assert TAG_CONDITION in cond and not cond.startswith("!") and "always() ||" not in cond, \
                f"{job_id}: step {step.get('name')!r} must run on v* tags only (if: {cond!r})"
    # the unsigned build runs everywhere else, never on a tag
    unsigned = [s for _, s in steps(workflow) if any("repo" in ts for ts, _ in make_calls(s.get("run", "")))]
    assert unsigned and all(str(s["if"]).startswith("!" + TAG_CONDITION) for s in unsigned)


def test_release_notes_are_rendered_kept_and_attached(workflow: dict) -> None:
    release = workflow["jobs"]["release"]
    names = [s.get("uses", "") + " " + yaml.safe_dump(s) for s in release["steps"]]
    notes_at = next(i for i, s in enumerate(release["steps"]) if any("notes" in ts for ts, _ in make_calls(s.get("run", ""))))
    publish_at = next(i for i, s in enumerate(release["steps"]) if any("publish" in ts for ts, _ in make_calls(s.get("run", ""))))
    assert notes_at < publish_at, "the notes are published with the release"
    uploads = [n for n in names if n.startswith("actions/upload-artifact") and "RELEASE-NOTES" in n]
    attached = [s for s in release["steps"] if "action-gh-release" in s.get("uses", "")]
    assert uploads and attached
    files = attached[0]["with"]["files"].split()
    assert {Path(f).name for f in files} >= {f"RELEASE-NOTES.{lang}.{ext}" for lang in ("ja", "en") for ext in ("md", "html")}
    assert release["permissions"] == {"contents": "write"} and workflow["permissions"] == {}


def test_actions_pinned_with_the_tag_in_a_comment_and_no_persisted_credentials(workflow: dict) -> None:
    text = WORKFLOW.read_text()
    uses = re.findall(r"^\s*(?:- )?uses: (\S+)(.*)$", text, re.M)
    assert len(uses) == sum(1 for _, s in steps(workflow) if "uses" in s)
    for ref, rest in uses:
        assert re.match(r"^\s+# v\d+\.\d+\.\d+$", rest), f"{ref}: the tag it pins belongs in a comment ({rest!r})"
    checkouts = [s for _, s in steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)
    # least privilege: nothing at the top, each job its own
    assert workflow["permissions"] == {}
    assert {j: job["permissions"] for j, job in workflow["jobs"].items()} == {
        "build": {"contents": "read"}, "release": {"contents": "write"}}


def test_zizmor_finds_nothing_above_informational(tmp_path: Path) -> None:
    """zizmor (pinned in requirements-test.txt), offline: no unpinned action, no persisted
    credentials, no excessive permissions, no template injection — any finding above
    informational fails, named with its rule and line."""
    exe = shutil.which("zizmor")
    if exe is None:
        pytest.fail("zizmor is not installed — fix: pip install -r requirements-test.txt (make setup)")
    res = run([exe, "--offline", "--quiet", "--no-progress", "--format", "json", str(WORKFLOW)], check=False,
              log_file=tmp_path / "zizmor.log")
    assert res.returncode in (0, 10, 11, 12, 13, 14), res.output  # 1x: findings (exit code by severity)
    # stdout is the JSON list; stderr (merged by run.py) may carry coloured log lines before it
    text = re.sub(r"\x1b\[[0-9;]*m", "", res.output)
    start = 0 if text.startswith("[") else text.index("\n[") + 1
    findings = json.loads(text[start:text.rindex("]") + 1])
    above = [f"{f['ident']} ({f['determinations']['severity']}) at line "
             f"{f['locations'][0]['concrete']['location']['start_point']['row'] + 1}"
             for f in findings if f["determinations"]["severity"] not in ("Informational", "Unknown")]
    assert not above, "zizmor findings above informational: " + "; ".join(above)
