"""The one probe of what is left under the repositories' roots (the install test's "nothing
left" and the upgrade's "nothing of the old repositories left" both use it)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pmrepo.checks.container.session import paths_under, some


@dataclass
class _Res:
    returncode: int
    output: str


class _LocalShell:
    """Runs the probe's shell line here instead of in a container."""

    def sh(self, line: str) -> _Res:
        p = subprocess.run(["sh", "-c", line], capture_output=True, text=True, timeout=60)
        return _Res(p.returncode, p.stdout + p.stderr)


def test_paths_under_sees_files_and_a_dangling_symlink_root(tmp_path: Path) -> None:
    tree = tmp_path / "opt" / "repo"
    (tree / "rpm").mkdir(parents=True)
    (tree / "rpm" / "a.rpm").write_text("x")
    dangling = tmp_path / "opt" / "gone"
    dangling.symlink_to(tmp_path / "nowhere")
    absent = tmp_path / "opt" / "absent"
    found = paths_under(_LocalShell(), [str(tree), str(dangling), str(absent)])  # type: ignore[arg-type]
    assert found == {str(tree), str(tree / "rpm"), str(tree / "rpm" / "a.rpm"), str(dangling)}
    assert len(paths_under(_LocalShell(), [str(tree)], limit=1)) == 1  # type: ignore[arg-type]


def test_some_names_the_first_and_counts_the_rest() -> None:
    assert some(["a", "b"]) == "a, b"
    assert some([str(i) for i in range(12)], 10) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (+2)"
