"""Fixtures the schedule stage's unit tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo.checks import integrity


@pytest.fixture
def digests_ok(monkeypatch: pytest.MonkeyPatch) -> list[list[Path]]:
    """``rpm -K`` says every file is intact (the recorded sha256 is still checked); the calls are kept."""
    calls: list[list[Path]] = []

    def fake(rpms: list[Path], **kw: object) -> dict[Path, str]:
        calls.append(list(rpms))
        return {}

    monkeypatch.setattr(integrity, "rpm_digests", fake)
    return calls
