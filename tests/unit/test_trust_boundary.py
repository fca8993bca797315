"""The trust boundary, second pass (issue 18): fast, unit-level reproductions.
Each test feeds the hostile or careless input and asserts the refusal; each
failed on the code before issue 18."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pmrepo import publish
from pmrepo.errors import PmrepoError
from pmrepo.run import Result

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
