"""The GitHub workflows (.github/workflows/*.yml) against the project: they parse, every `make` they
run names a real Makefile target and variable, the release workflow builds the demo through mock on
pushes and pull requests and the real release (preflight first) only on tags and manual runs,
signing/publishing happen on release tags only, the test workflow runs `make check` and `make test`,
the pin workflow proposes with least privilege; actionlint (with shellcheck) and zizmor find
nothing above informational in any of them, and each fails on a planted finding."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

from pmrepo import manifest
from pmrepo.run import run

WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "release.yml"
TEST_WORKFLOW = WORKFLOWS / "test.yml"
PIN_WORKFLOW = WORKFLOWS / "pin.yml"
MAKEFILE = ROOT / "Makefile"
TAG_CONDITION = "startsWith(github.ref, 'refs/tags/v')"
SHELL_SEPARATORS = {"&&", "||", ";", "|", "then", "do", "else", "--", "exec", "time"}
DEMO_PREVIOUS = "pmrepo/demo/release-0.9.toml"


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
                if arg in SHELL_SEPARATORS or re.match(r"^\d*[<>]", arg):  # the end, or a redirection
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


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def triggers(wf: dict[Any, Any]) -> dict[str, Any]:
    found: dict[str, Any] = wf["on"] if "on" in wf else wf[True]  # YAML 1.1 reads a bare `on` as true
    return found


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(WORKFLOW)


@pytest.fixture(scope="module")
def every() -> dict[str, dict[str, Any]]:
    found = {p.name: load(p) for p in sorted(WORKFLOWS.glob("*.yml"))}
    assert {"release.yml", "test.yml", "pin.yml"} <= set(found)
    return found


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job["steps"]]


def job_calls(job: dict[str, Any]) -> list[tuple[dict[str, Any], list[str], dict[str, str]]]:
    return [(s, ts, vs) for s in job["steps"] for ts, vs in make_calls(s.get("run", ""))]


def matrix_dists(job: dict[str, Any]) -> list[str]:
    return sorted(entry["dist"] for entry in job["strategy"]["matrix"]["include"])


def test_parses_as_github_workflows(every: dict[str, dict[str, Any]]) -> None:
    release = every["release.yml"]
    assert triggers(release)["push"]["tags"] == ["v*"]
    assert set(release["jobs"]) == {"demo", "build", "release"}
    assert release["jobs"]["release"]["needs"] == "build"
    for name, wf in every.items():
        for job_id, step in steps(wf):
            assert ("run" in step) != ("uses" in step), f"{name} {job_id}: a step needs exactly one of run/uses: {step}"
            if "uses" in step:
                assert re.match(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$", step["uses"]), f"{name}: unpinned {step['uses']}"
            # no expression spliced into a shell script (template injection): values come in through env:
            assert "${{" not in step.get("run", ""), f"{name} {job_id}: {step.get('name')!r} expands ${{{{ }}}} in run:"


def test_every_make_call_names_a_makefile_target_and_variable(every: dict[str, dict[str, Any]]) -> None:
    text = MAKEFILE.read_text()
    targets, variables = makefile_targets(text), makefile_variables(text)
    assert {"setup", "repo", "gates", "sign", "publish", "preflight", "pin"} <= targets  # the parser reads it
    calls = [c for wf in every.values() for _, step in steps(wf) for c in make_calls(step.get("run", ""))]
    assert calls, "the workflows run no make target"
    used = {t for ts, _ in calls for t in ts}
    assert not used - targets, f"make targets missing from the Makefile: {sorted(used - targets)}"
    passed = {v for _, vs in calls for v in vs}
    assert not passed - variables, f"make variables the Makefile does not define: {sorted(passed - variables)}"
    # the whole pipeline runs through make: setup, check, build, gates, notes, sign, publish, pin
    assert {"setup", "check", "preflight", "repo", "gates", "notes", "sign", "publish", "pin"} <= used


def test_matrices_cover_the_manifests_dists_with_real_centos_images(workflow: dict[str, Any]) -> None:
    real = manifest.load(ROOT / workflow["env"]["DEFAULT_RELEASE"])
    demo = manifest.load(ROOT / workflow["env"]["DEMO_RELEASE"])
    for job_id, rel in (("build", real), ("demo", demo)):
        job = workflow["jobs"][job_id]
        assert matrix_dists(job) == sorted(rel.dists), job_id
        for entry in job["strategy"]["matrix"]["include"]:
            # the images of Docker Hub, fully qualified (Fedora's short-name alias for centos is quay.io)
            assert entry["image"] == f"docker.io/library/centos:{rel.dists[entry['dist']].rhel}", entry
    dispatch = triggers(workflow)["workflow_dispatch"]["inputs"]["release"]["default"]
    assert ROOT / dispatch == ROOT / workflow["env"]["DEFAULT_RELEASE"]
    assert (ROOT / workflow["env"]["DEMO_PREVIOUS"]) == ROOT / DEMO_PREVIOUS
    assert manifest.load(ROOT / DEMO_PREVIOUS).release_id == "demo-repo-0.9-1" and demo.follows


def test_builds_with_mock_in_a_privileged_fedora_container(workflow: dict[str, Any]) -> None:
    for job_id in ("demo", "build"):
        job = workflow["jobs"][job_id]
        assert re.match(r"^(registry\.fedoraproject\.org/)?fedora:\d+$", job["container"]["image"])
        assert "--privileged" in job["container"]["options"]
        assert "/var/lib/containers" in job["container"]["volumes"]  # nested podman off the overlay
        builds = [vs for _, ts, vs in job_calls(job) if {"repo", "sign"} & set(ts)]
        assert builds and all(vs.get("BACKEND") == "mock" and vs.get("DIST") for vs in builds), job_id
        gates = [vs for _, ts, vs in job_calls(job) if "gates" in ts]
        assert gates and all(vs.get("CONTAINER") == "podman" and vs.get("CONTAINER_IMAGE") == "$IMAGE"
                             and vs.get("CONTAINER_PM_OPTS") for vs in gates), job_id
        for step in job["steps"]:  # mock drops to the unprivileged builder (no SC2155: assigned, then exported)
            if any({"repo", "sign"} & set(ts) for ts, _ in make_calls(step.get("run", ""))):
                assert "export SUDO_UID SUDO_GID" in step["run"], step["name"]


def test_the_demo_runs_on_pushes_and_pull_requests_through_mock_gates_install_and_upgrade(
        workflow: dict[str, Any]) -> None:
    demo = workflow["jobs"]["demo"]
    cond = demo["if"]
    assert "pull_request" in cond and "push" in cond and f"!{TAG_CONDITION}" in cond and "workflow_dispatch" not in cond
    calls = [(ts, vs) for _, ts, vs in job_calls(demo)]
    repos = [vs["RELEASE"] for ts, vs in calls if "repo" in ts]
    assert repos == ["$DEMO_PREVIOUS", "$RELEASE"]  # the previous release first: the upgrade test needs it
    (gates,) = [vs for ts, vs in calls if "gates" in ts]
    assert gates["RELEASE"] == "$RELEASE" and gates["UPGRADE_FROM"] == "$PWD/repo"
    select = next(s for s in demo["steps"] if "select-release" in s.get("run", ""))
    assert select["env"] == {"DEFAULT_RELEASE": "${{ env.DEMO_RELEASE }}"}  # no manual input on this job
    assert workflow["env"]["CONTAINER_PM_OPTS"] == "--setopt=skip_if_unavailable=1"


def test_the_real_release_only_on_tags_and_manual_runs_with_preflight_first(workflow: dict[str, Any]) -> None:
    build = workflow["jobs"]["build"]
    assert build["if"] == f"{TAG_CONDITION} || github.event_name == 'workflow_dispatch'"
    names = [ts for _, ts, _ in job_calls(build)]
    first_build = next(i for i, ts in enumerate(names) if {"repo", "sign"} & set(ts))
    preflights = [i for i, ts in enumerate(names) if "preflight" in ts]
    assert len(preflights) == 2 and max(preflights) < first_build, names
    for step, ts, vs in job_calls(build):
        if "preflight" in ts:
            assert vs["BACKEND"] == "mock" and vs["DIST"] == "$DIST" and vs["CONTAINER"] == "podman"
            tag_only = str(step["if"]) == TAG_CONDITION
            assert tag_only != (vs.get("PREFLIGHT") == "build"), step["name"]  # a manual run checks no key, no mirror


def test_sign_and_publish_only_on_release_tags_and_secrets_only_there(every: dict[str, dict[str, Any]]) -> None:
    for name, wf in every.items():
        for job_id, step in steps(wf):
            calls = make_calls(step.get("run", ""))
            text = yaml.safe_dump(step)
            releasing = any({"sign", "publish"} & set(ts) for ts, _ in calls) or "action-gh-release" in step.get("uses",
                                                                                                                 "")
            if releasing or "secrets." in text:
                cond = str(step.get("if", ""))
                assert TAG_CONDITION in cond and not cond.startswith("!") and "always() ||" not in cond, \
                    f"{name} {job_id}: step {step.get('name')!r} must run on v* tags only (if: {cond!r})"
    # the unsigned build runs everywhere else, never on a tag: by its step's condition or its job's
    wf = every["release.yml"]
    for job_id, job in wf["jobs"].items():
        for step in job["steps"]:
            if any("repo" in ts for ts, _ in make_calls(step.get("run", ""))):
                cond = str(step.get("if", "")) or str(job.get("if", ""))
                assert cond.startswith("!" + TAG_CONDITION) or f"!{TAG_CONDITION}" in cond, (job_id, step["name"])


def test_every_job_that_signs_or_publishes_imports_the_key_and_removes_its_keyring(
        every: dict[str, dict[str, Any]]) -> None:
    """`make publish` signs SHA256SUMS and signs the provenance again after the gates rewrote a check
    report (`make sign` signs everything): each job that runs one has the key, imported into a keyring
    of its own earlier in the job (a job's runner is its own: the build job's keyring is not there),
    and removes that keyring at the end, whatever happened."""
    seen = []
    for name, wf in every.items():
        for job_id, job in wf["jobs"].items():
            job_steps = job.get("steps", [])
            for i, step in enumerate(job_steps):
                if not any({"sign", "publish"} & set(ts) for ts, _ in make_calls(step.get("run", ""))):
                    continue
                seen.append((name, job_id, step["name"]))
                where = f"{name} {job_id}: {step['name']!r}"
                assert step.get("env", {}).get("PMREPO_GPG_KEY") == "${{ secrets.PMREPO_GPG_KEY }}", where
                imports = [s for s in job_steps[:i] if "--import" in s.get("run", "")
                           and 'echo "GNUPGHOME=' in s.get("run", "") and "PMREPO_GPG_PRIVATE_KEY" in s.get("env", {})]
                assert imports and all(str(s.get("if")) == TAG_CONDITION for s in imports), where
                last = job_steps[-1]
                assert 'rm -rf "$GNUPGHOME"' in last.get("run", ""), f"{where}: the job's last step removes the keyring"
                assert str(last.get("if")) == f"always() && {TAG_CONDITION}", where
    assert ("release.yml", "release", "Publish to the mirror (SHA256SUMS, staged upload, verify, switch)") in seen
    assert ("release.yml", "build", "Build with mock, sign and verify") in seen


def test_release_notes_are_rendered_kept_and_attached(workflow: dict[str, Any]) -> None:
    release = workflow["jobs"]["release"]
    names = [s.get("uses", "") + " " + yaml.safe_dump(s) for s in release["steps"]]
    calls = [[ts for ts, _ in make_calls(s.get("run", ""))] for s in release["steps"]]
    notes_at = next(i for i, targets in enumerate(calls) if any("notes" in ts for ts in targets))
    publish_at = next(i for i, targets in enumerate(calls) if any("publish" in ts for ts in targets))
    collect_at = next(i for i, s in enumerate(release["steps"]) if "pmrepo.ci collect-artifacts" in s.get("run", ""))
    assert collect_at < notes_at < publish_at, ("the dists' results are in the layout before the notes, "
                                                "published with them")
    uploads = [n for n in names if n.startswith("actions/upload-artifact") and "RELEASE-NOTES" in n]
    attached = [s for s in release["steps"] if "action-gh-release" in s.get("uses", "")]
    assert uploads and attached
    files = attached[0]["with"]["files"].split()
    assert {Path(f).name for f in files} >= {f"RELEASE-NOTES.{lang}.{ext}" for lang in ("ja", "en") for ext in ("md",
                                                                                                                "html")}
    assert release["permissions"] == {"contents": "write"} and workflow["permissions"] == {}


def test_the_manifest_is_chosen_by_the_tested_step_script(every: dict[str, dict[str, Any]]) -> None:
    """Every job that uses $RELEASE gets it from `python3 -m pmrepo.ci select-release` (tests/unit/test_ci.py),
    before any step that reads it; a manual input reaches it through env:, never the script."""
    for name, wf in every.items():
        for job_id, job in wf["jobs"].items():
            if "RELEASE" in job.get("env", {}):
                continue  # a fixed manifest for the whole job (upstream.yml), chosen by no input
            runs = [s.get("run", "") for s in job["steps"]]
            users = [i for i, (r, s) in enumerate(zip(runs, job["steps"], strict=True)) if "$RELEASE" in r
                     and "RELEASE" not in s.get("env", {})]  # not handed in from another job's outputs
            if not users:
                continue
            selects = [i for i, r in enumerate(runs) if r.strip() == "python3 -m pmrepo.ci select-release"]
            assert selects and selects[0] < users[0], f"{name} {job_id}"
            step = job["steps"][selects[0]]
            if "INPUT_RELEASE" in step.get("env", {}):
                assert step["env"]["INPUT_RELEASE"] == "${{ inputs.release }}"


def test_actions_pinned_with_the_tag_in_a_comment_and_no_persisted_credentials(
        every: dict[str, dict[str, Any]]) -> None:
    known: dict[str, tuple[str, str]] = {}
    for name, wf in every.items():
        text = (WORKFLOWS / name).read_text()
        uses = re.findall(r"^\s*(?:- )?uses: (\S+)(.*)$", text, re.M)
        assert len(uses) == sum(1 for _, s in steps(wf) if "uses" in s)
        for ref, rest in uses:
            assert re.match(r"^\s+# v\d+\.\d+\.\d+$", rest), (
                f"{name} {ref}: the tag it pins belongs in a comment ({rest!r})")
            action, sha = ref.split("@")
            assert known.setdefault(action, (sha, rest.strip())) == (sha, rest.strip()), f"{action}: one SHA everywhere"
        checkouts = [s for _, s in steps(wf) if s.get("uses", "").startswith("actions/checkout@")]
        assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts), name
        # least privilege: nothing at the top, each job its own
        assert wf["permissions"] == {}, name
    perms = {(n, j): job["permissions"] for n, wf in every.items() for j, job in wf["jobs"].items()}
    assert perms == {
        ("pin.yml", "pin"): {"contents": "read"},
        ("pin.yml", "propose"): {"contents": "write", "pull-requests": "write"},
        ("release.yml", "demo"): {"contents": "read"},
        ("release.yml", "build"): {"contents": "read"},
        ("release.yml", "release"): {"contents": "write"},
        ("test.yml", "test"): {"contents": "read"},
        ("upstream.yml", "check"): {"contents": "read"},
    }


def test_the_test_workflow_runs_make_check_and_make_test_on_every_push_and_pull_request(
        every: dict[str, dict[str, Any]]) -> None:
    wf = every["test.yml"]
    on = triggers(wf)
    assert set(on) == {"push", "pull_request"} and on["push"] is None and on["pull_request"] is None
    (job,) = wf["jobs"].values()
    assert job["runs-on"] == "ubuntu-24.04" and "container" not in job
    runs = [s.get("run", "") for s in job["steps"]]
    assert [ts for r in runs for ts, _ in make_calls(r)] == [["setup"], ["check"]]
    # make test exactly as .ci/run runs it (the README's command), as root like the project's CI
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
    # as plain root: none of sudo's variables (with SUDO_UID the mock backend hands its job directories to
    # that user, who cannot enter pytest's 0700 base directory)
    assert any(re.search(r"^sudo -n --preserve-env=\S+ env -u SUDO_UID -u SUDO_GID -u SUDO_USER -u SUDO_COMMAND "
                         r"bash \.ci/run\b", r) for r in runs), runs
    assert job["env"]["PMREPO_BROWSER"] == "/usr/bin/google-chrome"  # Ubuntu's chromium is a snap
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    kept = " ".join(str(s["with"]["path"]) for s in uploads)
    assert "test-output/release-page/" in kept and "test-output/*.log" in kept
    assert all(s.get("if") == "always()" for s in uploads)


def test_the_pin_workflow_is_manual_and_proposes_what_it_pinned(every: dict[str, dict[str, Any]]) -> None:
    wf = every["pin.yml"]
    assert set(triggers(wf)) == {"workflow_dispatch"}
    pin, propose = wf["jobs"]["pin"], wf["jobs"]["propose"]
    assert [ts for _, ts, _ in job_calls(pin)] == [["setup"], ["pin"]]
    upload = next(s for s in pin["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "pin-out/" and upload["with"]["if-no-files-found"] == "error"
    diff = next(s for s in pin["steps"] if "git diff" in s.get("run", ""))
    assert 'git diff -- "$RELEASE" > pin-out/pin.diff' in diff["run"] and "GITHUB_STEP_SUMMARY" in diff["run"]
    assert propose["needs"] == "pin" and not any(make_calls(s.get("run", "")) for s in propose["steps"])
    assert script_env_release(propose) == "${{ needs.pin.outputs.release }}"
    script = next(s for s in propose["steps"] if "gh pr create" in s.get("run", ""))
    assert script["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert "git apply --index pin-out/pin.diff" in script["run"] and "::warning::" in script["run"]
    # the token is used by gh's credential helper for this one push; it never lands in .git/config
    assert "gh auth setup-git" in script["run"] and "x-access-token" not in script["run"]


def script_env_release(job: dict[str, Any]) -> str:
    return next(s["env"]["RELEASE"] for s in job["steps"] if "RELEASE" in s.get("env", {}))


# -- the linters, over every workflow file -------------------------------------------------------------

def tool(name: str) -> str:
    """A linter pip installed (requirements-test.txt): on PATH, or beside this interpreter, or in the
    user scheme's scripts directory (`make setup` outside a virtualenv: pip --user, often not on PATH)."""
    dirs = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts")),
            Path(sysconfig.get_path("scripts", "posix_user"))]
    found = shutil.which(name) or next((str(d / name) for d in dirs if (d / name).is_file()), None)
    if found is None:
        pytest.fail(f"{name} is not installed — fix: pip install -r requirements-test.txt (make setup)")
    return found


def actionlint_findings(paths: list[Path], log: Path) -> list[str]:
    """actionlint (with shellcheck over each run: block) as `kind line:col message` per finding;
    actionlint has no severities: every finding is an error."""
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed — fix: make setup (Debian package shellcheck)")
    res = run([tool("actionlint"), "-format", "{{json .}}", *map(str, paths)], check=False, log_file=log)
    assert res.returncode in (0, 1), res.output  # 1: findings; 2/3: a failure of actionlint itself
    start = res.output.find("[")
    found = json.loads(res.output[start:res.output.rindex("]") + 1]) if start >= 0 else []
    assert (res.returncode == 1) == bool(found), res.output
    return [f"{Path(f['filepath']).name}:{f['line']}:{f['column']} [{f['kind']}] {f['message']}" for f in found]


def zizmor_findings(paths: list[Path], log: Path) -> list[str]:
    """zizmor --offline: the findings above informational, named with their rule and line."""
    res = run([tool("zizmor"), "--offline", "--quiet", "--no-progress", "--format", "json", *map(str, paths)],
              check=False, log_file=log)
    assert res.returncode in (0, 10, 11, 12, 13, 14), res.output  # 1x: findings (exit code by severity)
    # stdout is the JSON list; stderr (merged by run.py) may carry coloured log lines before it
    text = re.sub(r"\x1b\[[0-9;]*m", "", res.output)
    start = 0 if text.startswith("[") else text.index("\n[") + 1
    findings = json.loads(text[start:text.rindex("]") + 1])
    return [f"{f['ident']} ({f['determinations']['severity']}) at "
            f"{Path(next(iter(f['locations'][0]['symbolic']['key']['Local'].values()))).name}:"
            f"{f['locations'][0]['concrete']['location']['start_point']['row'] + 1}"
            for f in findings if f["determinations"]["severity"] not in ("Informational", "Unknown")]


def test_actionlint_finds_nothing_in_any_workflow(tmp_path: Path) -> None:
    paths = sorted(WORKFLOWS.glob("*.yml"))
    assert len(paths) >= 3
    found = actionlint_findings(paths, tmp_path / "actionlint.log")
    assert not found, "actionlint: " + "; ".join(found)


def test_zizmor_finds_nothing_above_informational_in_any_workflow(tmp_path: Path) -> None:
    """No unpinned action, no persisted credentials, no excessive permissions, no template
    injection — in every workflow file."""
    found = zizmor_findings(sorted(WORKFLOWS.glob("*.yml")), tmp_path / "zizmor.log")
    assert not found, "zizmor findings above informational: " + "; ".join(found)


PLANTED_SHELL = """\
name: planted
on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - run: |
          export SUDO_UID=$(id -u builder)
          echo "$SUDO_UID"
"""

PLANTED_INJECTION = """\
name: planted
on: pull_request
permissions: {}
jobs:
  a:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_actionlint_fails_on_a_planted_finding(tmp_path: Path) -> None:
    """The SC2155 release.yml had (`export SUDO_UID=$(id -u builder)`), and an unknown key."""
    shell = tmp_path / "shell.yml"
    shell.write_text(PLANTED_SHELL)
    found = actionlint_findings([shell], tmp_path / "a.log")
    assert len(found) == 1 and "[shellcheck]" in found[0] and "SC2155" in found[0] and "shell.yml:10:" in found[0]
    typo = tmp_path / "typo.yml"
    typo.write_text(PLANTED_SHELL.replace("runs-on:", "run-on:"))
    assert any("[syntax-check]" in f for f in actionlint_findings([typo], tmp_path / "b.log"))
    clean = tmp_path / "clean.yml"
    clean.write_text(PLANTED_SHELL.replace("export SUDO_UID=$(id -u builder)",
                                           "SUDO_UID=$(id -u builder)\n          export SUDO_UID"))
    assert actionlint_findings([clean], tmp_path / "c.log") == []


def test_zizmor_fails_on_a_planted_finding(tmp_path: Path) -> None:
    """An expression spliced into a script, and an unpinned action with persisted credentials."""
    injected = tmp_path / "injected.yml"
    injected.write_text(PLANTED_INJECTION)
    found = zizmor_findings([injected], tmp_path / "z1.log")
    assert any(f.startswith("template-injection (High)") and "injected.yml:9" in f for f in found), found
    unpinned = tmp_path / "unpinned.yml"
    unpinned.write_text(PLANTED_INJECTION.replace('- run: echo "${{ github.event.pull_request.title }}"',
                                                  "- uses: actions/checkout@v4"))
    found = zizmor_findings([unpinned], tmp_path / "z2.log")
    assert {f.split(" ")[0] for f in found} >= {"unpinned-uses", "artipacked"}, found
    fixed = tmp_path / "fixed.yml"
    fixed.write_text(PLANTED_INJECTION.replace('echo "${{ github.event.pull_request.title }}"', 'echo "$TITLE"')
                     .replace("      - run:", "      - env:\n          TITLE: ${{ github.event.pull_request.title }}\n"
                              "        run:"))
    assert zizmor_findings([fixed], tmp_path / "z3.log") == []
