"""A release's spec templates are rendered in a sandbox with limits (issue 25, item 4): the
three templates of the issue — endless recursion, a 4 GB string, a loop of 10**12 — each end
`check` with one line naming the template, within seconds and in bounded memory; a template
reaching for Python's internals or changing its values is refused. Before issue 25: a
RecursionError traceback (506 frames), 15.6 GB resident and a traceback printing the 4 GB
line, and a loop that never ended.

`check` runs in a child process under RLIMIT_AS (3 GiB) and a wall-clock timeout, so a
failing tool takes neither the machine's memory nor the suite's time; its peak resident size
(children included) is read from wait4()."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import ROOT
from synthetic import make_release

from pmrepo import manifest

LIMIT = 3 << 30
HOSTILE = {
    "recursion": "{% macro r(n) %}{{ r(n+1) }}{% endmacro %}{{ r(0) }}",
    "4 GB string": '{% set s = "x" * 4000000000 %}{{ s|length }}',
    "range 10**12": "{% for i in range(10**12) %}x{% endfor %}",
}


def _release(tmp: Path, line: str) -> tuple[Path, Path]:
    path = make_release(tmp / "rel", {"a": []})
    spec = tmp / "rel" / "specs" / "a.spec.j2"
    spec.write_text(spec.read_text().replace("%description\n", "%description\n" + line + "\n", 1))
    return path, spec


def _check(path: Path, tmp: Path) -> tuple[int, str, float, int]:
    """(exit code, stderr, seconds, peak RSS in KiB of it and its children) of `build.py check`."""
    script = textwrap.dedent(f"""
        import os, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))
        os.execv(sys.executable, [sys.executable, {str(ROOT / "build.py")!r}, *sys.argv[1:]])
    """)
    err = tmp / "stderr"
    t0 = time.monotonic()
    with err.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-c", script, "check", "--release", str(path), "--workdir",
                                 str(tmp / "work")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=fh,
                                env=dict(os.environ, CI="true"))
    while time.monotonic() - t0 < 120:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, err.read_text(), time.monotonic() - t0, usage.ru_maxrss
        time.sleep(0.05)
    proc.kill()
    os.wait4(proc.pid, 0)
    proc.returncode = -9
    pytest.fail(f"check still running after 120s; stderr: {err.read_text()[-500:]}")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_template_ends_check_in_one_line(tmp_path: Path, name: str) -> None:
    path, spec = _release(tmp_path, HOSTILE[name])
    code, stderr, seconds, rss_kib = _check(path, tmp_path)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert code != 0 and len(lines) == 1, stderr[-3000:]
    assert str(spec) in lines[0] and "— fix:" in lines[0] and len(lines[0]) < 1000, lines[0]
    assert seconds < 60, seconds
    assert rss_kib < 1536 * 1024, f"peak RSS {rss_kib} KiB"
    print(f"{name}: {seconds:.1f}s, peak RSS {rss_kib // 1024} MiB: {lines[0][-160:]}")  # shown with -s


RENDER = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    from pmrepo import manifest
    from pmrepo.errors import PmrepoError
    from pmrepo.render.specs import render_component
    try:
        from pmrepo.render import limits as render_limits
        render_limits.TEMPLATE_DEADLINE = float(sys.argv[2])
    except ImportError:
        pass
    rel = manifest.load(sys.argv[1])
    try:
        render_component(rel, rel.dists["el7"], rel.component("a"))
    except PmrepoError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
""")


def _render(tmp: Path, line: str, deadline: float = 30.0) -> str:
    """The one error line of rendering the template with ``line``, in a bounded child process."""
    path, _spec = _release(tmp, line)
    proc = subprocess.run([sys.executable, "-c", RENDER.format(limit=LIMIT), str(path), str(deadline)],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


def test_a_template_reaching_for_python_internals_runs_nothing(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    for i, line in enumerate([f"{{{{ cycler.__init__.__globals__.os.system('touch {canary}') }}}}",
                              "{{ ''.__class__.__mro__[1].__subclasses__() }}"]):
        error = _render(tmp_path / str(i), line)
        assert "a.spec.j2" in error and "— fix:" in error, line
    assert not canary.exists()


def test_a_template_cannot_change_the_values_it_is_given(tmp_path: Path) -> None:
    error = _render(tmp_path, "{{ sources.append('evil.tar.gz') }}")
    assert "a.spec.j2" in error and re.search("SecurityError|unsafe", error), error


def test_memory_beyond_the_limit_is_one_line_whatever_asks_for_it(tmp_path: Path) -> None:
    """Not a guarded operator: a string doubled in a loop (the limit is the child's address space)."""
    line = '{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}'
    assert re.search(r"a\.spec\.j2: rendering needs more than \d+ MiB of memory — fix:", _render(tmp_path, line))


def test_a_loop_without_a_hook_meets_the_deadline(tmp_path: Path) -> None:
    line = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    t0 = time.monotonic()
    assert re.search(r"a\.spec\.j2: not rendered within 2s .* fix:", _render(tmp_path, line, deadline=2.0))
    assert time.monotonic() - t0 < 30


def test_a_batch_is_rendered_in_one_child_and_streams_in_order(tmp_path: Path) -> None:
    from pmrepo.render.specs import render_components

    path = make_release(tmp_path / "rel", {"a": [], "b": ["a"], "c": ["a"]})
    rel = manifest.load(path)
    texts = list(render_components(rel, rel.dists["el7"], rel.components))
    assert [re.search(r"^Name:\s+(\S+)", t, re.M).group(1) for t in texts] == ["a", "b", "c"]  # type: ignore[union-attr]
