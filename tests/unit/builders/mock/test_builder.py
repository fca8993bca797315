"""The mock backend's reading of a failed build's log: the tail that explains it, without mock's epilogue."""

from __future__ import annotations

from pathlib import Path

from pmrepo.builders.mock.builder import explaining_tail


def test_mock_log_tail_stops_at_mocks_epilogue(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text(
        "Executing(%build)\n+ make\ndemod.c:3: error: 'x' undeclared\nmake: *** [demod] Error 1\n"
        "Child return code was: 1\nEXCEPTION: [Error('Command failed')]\nTraceback (most recent call last):\n"
    )
    tail, line = explaining_tail(log)
    assert "Child return code" not in tail and "Traceback" not in tail
    assert line in ("make: *** [demod] Error 1", "demod.c:3: error: 'x' undeclared")
    assert explaining_tail(tmp_path / "missing.log") == ("", "no output")
