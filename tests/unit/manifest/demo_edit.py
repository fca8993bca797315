"""The demo release copied and one line of its manifest edited: the manifest stage's unit tests
load such a copy to see one value refused (or accepted)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import DEMO


def edited_demo(tmp_path: Path, old: str, new: str) -> Path:
    """``tmp_path/demo/release.toml``: the demo's manifest with the first ``old`` replaced by ``new``."""
    shutil.copytree(DEMO.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "release.toml"
    text = path.read_text()
    assert old in text, f"fixture drifted: {old!r} not in the demo manifest"
    path.write_text(text.replace(old, new, 1))
    return path
