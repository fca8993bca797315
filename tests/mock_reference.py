"""mock 6.7's own code, made runnable for the contract tests (tests/integration/test_mock_contract.py).

The code is read from ``../shared/reference/mock-6.7/`` (its README says what it is) and never
copied into the repository: at test time a private temporary copy of its ``mock/py/`` gets the
values mock's build system substitutes into ``mockbuild/constants.py`` (VERSION, SYSCONFDIR,
PYTHONDIR, PKGPYTHONDIR), and a private config dir merges ``mock/etc/mock`` and
``mock-core-configs/etc/mock`` as an installed mock has them in /etc/mock. It runs in the venv
``make setup`` makes (``pmrepo.hostsetup.mock_reference``: Debian's python3-rpm through
--system-site-packages, mock's PyPI requirements pinned in requirements-mockref.txt).
``tests/mock_oracle.py`` asks it one question per call.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from conftest import ROOT

from pmrepo import defaults
from pmrepo.layout import mock_reference_venv

REFERENCE = next((p for p in (ROOT.parent / "shared" / "reference" / "mock-6.7",
                              ROOT.parent.parent / "shared" / "reference" / "mock-6.7") if p.is_dir()),
                 ROOT.parent / "shared" / "reference" / "mock-6.7")
ORACLE = Path(__file__).resolve().parent / "mock_oracle.py"
VERSION = "6.7"


def venv_python() -> Path:
    return mock_reference_venv(defaults.workdir()) / "bin" / "python"


class MockReference:
    """A private runnable copy of the reference mock under ``tmp``; ``ask`` puts one question."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.py = tmp / "py"
        self.etc = tmp / "etc"
        self.confdir = self.etc / "mock"
        shutil.copytree(REFERENCE / "mock" / "py", self.py, symlinks=True)
        self.confdir.mkdir(parents=True)
        for part in ("mock/etc/mock", "mock-core-configs/etc/mock"):
            shutil.copytree(REFERENCE / part, self.confdir, symlinks=True, dirs_exist_ok=True)
        constants = self.py / "mockbuild" / "constants.py"
        text = constants.read_text()
        values = {"VERSION": VERSION, "SYSCONFDIR": str(self.etc), "PYTHONDIR": str(self.py),
                  "PKGPYTHONDIR": str(self.py / "mockbuild")}
        for name, value in values.items():
            text, n = re.subn(rf"^{name} = .*$", f"{name} = {value!r}", text, flags=re.MULTILINE)
            assert n == 1, f"{constants}: no {name} line to substitute"
        constants.write_text(text)

    def ask(self, question: dict[str, Any], home: Path, confdir: Path | None = None) -> dict[str, Any]:
        q = {"confdir": str(confdir or self.confdir), "home": str(home), **question}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKE_MOCK_", "PYTHON"))}
        env["PYTHONPATH"] = str(self.py)
        proc = subprocess.run([str(venv_python()), str(ORACLE)], input=json.dumps(q), capture_output=True,
                              text=True, env=env, timeout=120, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"mock oracle failed on {q['q']}: {proc.stderr[-3000:]}")
        return json.loads(proc.stdout)
