"""pmrepo's table of mock's exit codes (``pmrepo.builders.mock.exits.EXIT_CODES``) against mock 6.7's
own code (issue 33), not a copy typed into a test: the codes ``mockbuild/exception.py`` gives its
error classes and ``get_class_by_code`` (the module imported from the reference and asked), and the
literal exits of ``mock.py`` and ``mockbuild/`` (their syntax trees read with ``ast``), the signals
``mock.py`` turns into ``128 + n``. Read from ``../shared/reference/mock-6.7``; skipped, naming that
path, when it is absent."""

from __future__ import annotations

import ast
import importlib.util
import signal
from pathlib import Path
from types import ModuleType

import pytest
from mock_reference import REFERENCE  # beside the checkout (CI: ../shared) or beside the worktrees' folder

from pmrepo.builders.mock.exits import EXIT_CODES, MockError

PY = REFERENCE / "mock" / "py"
pytestmark = pytest.mark.skipif(
    not (PY / "mockbuild" / "exception.py").is_file(),
    reason=f"mock 6.7's code not found at {REFERENCE} (../shared/reference/mock-6.7)",
)


def _exception_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mock67_exception", PY / "mockbuild" / "exception.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # mock's exception classes: no imports, no side effects
    return module


def _int(node: ast.AST) -> int | None:
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _literal_exits(path: Path) -> set[int]:
    """``sys.exit(<int>)`` and ``exitStatus = <int>`` in one of mock's files."""
    codes = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "exit"
            and node.args
            and (n := _int(node.args[0])) is not None
        ):
            codes.add(n)
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "exitStatus" for t in node.targets)
            and (n := _int(node.value)) is not None
        ):
            codes.add(n)
    return codes


def _signal_exits(path: Path) -> set[int]:
    """128 + n for every signal mock.py hands to handle_signals (which exits ``128 + number``)."""
    tree = ast.parse(path.read_text())
    handler = next(f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "handle_signals")
    assert "128 + number" in ast.unparse(handler), "handle_signals no longer exits 128 + number"
    return {
        128 + int(getattr(signal, node.args[0].attr))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) == "signal.signal"
        and isinstance(node.args[0], ast.Attribute)
        and "handle_signals" in ast.unparse(node.args[1])
    }


def mock_exit_codes() -> dict[int, str]:
    """Every non-zero code mock 6.7 exits with -> where it comes from."""
    exc = _exception_module()
    codes: dict[int, str] = {}
    for name, cls in vars(exc).items():  # each error class's own code
        if isinstance(cls, type) and issubclass(cls, exc.Error):
            codes.setdefault(cls("x").resultcode, f"exception.{name}")
    by_code = next(
        f
        for f in ast.walk(ast.parse((PY / "mockbuild" / "exception.py").read_text()))
        if isinstance(f, ast.FunctionDef) and f.name == "get_class_by_code"
    )
    for node in ast.walk(by_code):  # every code get_class_by_code names, and what it makes of it
        if isinstance(node, ast.Compare) and (n := _int(node.comparators[0])) is not None and n:
            assert exc.get_class_by_code(n).resultcode == n, n
            codes.setdefault(n, "exception.get_class_by_code")
    for path in [PY / "mock.py", *sorted((PY / "mockbuild").rglob("*.py"))]:
        for n in _literal_exits(path):
            codes.setdefault(n, str(path.relative_to(PY)))
    for n in _signal_exits(PY / "mock.py"):
        codes.setdefault(n, "mock.py handle_signals")
    codes.pop(0, None)
    return codes


def test_every_code_mock_exits_with_has_an_entry_and_no_other() -> None:
    """1 is mock's generic failure: the plain MockError, by design (no entry)."""
    codes = mock_exit_codes()
    assert {2, 3, 5, 7, 10, 30, 120, 129, 141, 143} <= set(codes), codes  # the reading found what it must
    missing = {n: src for n, src in codes.items() if n != 1 and n not in EXIT_CODES}
    assert not missing, f"mock 6.7 exits with codes pmrepo has no entry for: {missing}"
    extra = set(EXIT_CODES) - set(codes)
    assert not extra, f"pmrepo has entries for codes mock 6.7 never exits with: {sorted(extra)}"
    assert 1 in codes and 1 not in EXIT_CODES


def test_the_error_class_of_each_code_matches_mocks_class_for_it() -> None:
    """Where mock has an error class of its own for a code, pmrepo's class is named for the same thing."""
    exc = _exception_module()
    words = {
        "BuildError": "Build",
        "commandTimeoutExpired": "Timeout",
        "RootError": "Root",
        "LvmError": "Lvm",
        "YumError": "PackageManager",
        "ExternalDepsError": "ExternalDeps",
        "PkgError": "Package",
        "BuildRootLocked": "Locked",
        "LvmLocked": "Lvm",
        "BadCmdline": "Argument",
        "InvalidArchitecture": "Arch",
        "ResultDirNotAccessible": "ResultDir",
        "UnshareFailed": "Unshare",
        "BootstrapError": "Bootstrap",
        "StateError": "State",
        "ConfigError": "Config",
    }
    for name, cls in vars(exc).items():
        if isinstance(cls, type) and issubclass(cls, exc.Error) and cls is not exc.Error:
            code = cls("x").resultcode
            ours = EXIT_CODES[code][0]
            assert issubclass(ours, MockError)
            assert name in words, f"mock 6.7 has a new error class {name} (exit {code}): map it"
            assert words[name] in ours.__name__, f"exit {code}: mock's {name}, pmrepo's {ours.__name__}"
