"""The trust boundary, second pass (issue 18): fast, unit-level reproductions.
Each test feeds the hostile or careless input and asserts the refusal; each
failed on the code before issue 18."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pmrepo import manifest, publish
from pmrepo.errors import PmrepoError, SpecError
from pmrepo.run import Result
from pmrepo.specs import render_component
from synthetic import make_release

# -- 1. no shell on the mirror --------------------------------------------------------

HOSTILE_DIRS = ["a';touch {canary};'b", 'a"$(touch {canary})"b', "a`touch {canary}`b", "a'b", "a b;touch {canary}"]


@pytest.mark.parametrize("template", HOSTILE_DIRS)
def test_remote_command_lines_quote_every_path(tmp_path: Path, template: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact command string sent to the mirror over ssh, run through `sh -c`:
    a hostile target path is a path, never shell syntax."""
    canary = tmp_path / "canary"
    root = tmp_path / template.format(canary="canary")
    sent: list[str] = []

    def fake_run(argv: list[str], **kw: object) -> Result:
        assert argv[:1] == ["ssh"] and argv[-2] == "mirror.example"
        sent.append(argv[-1])
        proc = subprocess.run(["sh", "-c", argv[-1]], capture_output=True, text=True, cwd=tmp_path)
        return Result(argv, proc.returncode, proc.stdout + proc.stderr, None)

    monkeypatch.setattr(publish, "run", fake_run)
    target = publish.RsyncTarget(str(root), remote="mirror.example")
    with pytest.raises(PmrepoError, match="no such directory"):
        target.list_root()
    root.mkdir()
    (root / "a").mkdir()
    (root / "b").mkdir()
    assert target.list_root() == {"a", "b"}
    with pytest.raises(PmrepoError, match="already exists"):
        target.rename("a", "b")
    target.rename("a", "c")
    assert (root / "c").is_dir()
    target.remove("c")
    assert not (root / "c").exists()
    assert not canary.exists() and not (root / "canary").exists(), f"the mirror's shell ran a command from the path: {sent}"
    assert len(sent) == 5


# -- 3. spec templates read no host file ----------------------------------------------


def _release_with_spec_line(tmp: Path, line: bytes | str) -> tuple[manifest.Release, Path]:
    """A one-component synthetic release whose spec template's %description gets ``line``."""
    path = make_release(tmp / "rel", {"a": []})
    spec = tmp / "rel" / "specs" / "a.spec.j2"
    data = spec.read_bytes().replace(b"%description\n", b"%description\n" + (line.encode() if isinstance(line, str) else line) + b"\n", 1)
    spec.write_bytes(data)
    return manifest.load(path), spec


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "symlinked dir"])
def test_spec_template_cannot_include_a_host_file(tmp_path: Path, how: str) -> None:
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET-HOST-DATA\n")
    if how == "absolute":
        line = f"{{% include '{secret}' %}}"
    elif how == "dotdot":
        line = "{% include '../../secret' %}"
    elif how == "symlink":
        line = "{% include 'inc.j2' %}"
    else:
        line = "{% include 'sub/secret' %}"
    rel, spec = _release_with_spec_line(tmp_path, line)
    if how == "symlink":
        (spec.parent / "inc.j2").symlink_to(secret)
    elif how == "symlinked dir":
        (spec.parent / "sub").symlink_to(tmp_path)
    comp = rel.component("a")
    with pytest.raises(SpecError, match=r"outside the release's spec directory .* fix: keep spec templates"):
        render_component(rel, rel.dists["el7"], comp)


def test_spec_template_includes_its_siblings(tmp_path: Path) -> None:
    rel, spec = _release_with_spec_line(tmp_path, "{% include 'parts/desc.j2' %}")
    (spec.parent / "parts").mkdir()
    (spec.parent / "parts" / "desc.j2").write_text("{% include '../common.j2' %} and a sibling part\n")
    (spec.parent / "common.j2").write_text("common text")
    text = render_component(rel, rel.dists["el7"], rel.component("a"))
    assert "common text and a sibling part" in text


def test_spec_template_with_a_non_utf8_byte_is_one_line(tmp_path: Path) -> None:
    rel, spec = _release_with_spec_line(tmp_path, b"caf\xe9")
    with pytest.raises(SpecError, match=r"a\.spec\.j2: byte \d+ is not UTF-8 — fix: save the template as UTF-8"):
        render_component(rel, rel.dists["el7"], rel.component("a"))
