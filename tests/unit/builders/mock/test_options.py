"""``--mock-opt KEY=VALUE``: the mock backend's options parsed, and each bad one refused in one line."""

from __future__ import annotations

import pytest

from pmrepo.builders.mock.options import mock_options
from pmrepo.errors import UsageError


def test_mock_options() -> None:
    assert mock_options(["isolation=simple", "keep_roots=1", "mirror.base=http://m/", "mock_cmd=/x/mock"]) == {
        "isolation": "simple",
        "keep_roots": True,
        "mock_cmd": "/x/mock",
        "mirrors": {"base": "http://m/"},
    }
    for bad, why in [
        ("isolation", "expected KEY=VALUE"),
        ("isolation=chroot", "simple or nspawn"),
        ("ccache=yes", "expected 0 or 1"),
        ("colour=red", "unknown option"),
    ]:
        with pytest.raises(UsageError, match=why):
            mock_options([bad])
