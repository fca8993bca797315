"""Publish reads bounded server answers (issue 25, item 5): a WebDAV server whose PROPFIND
or GET never ends makes publish stop with one line within its deadline, in bounded memory,
with no staging directory left on the mirror. Before issue 25 an endless PROPFIND grew the
process to 11.5 GB (then an OverflowError traceback) and an endless GET during the
verification left publish running forever and its staging behind.

A server that sends its headers a byte at a time (each read gets data, so no read timeout
ends it) meets the same deadline.

Each publish runs in a child process under RLIMIT_AS (1 GiB), so a failing client cannot
take the machine's memory, and under a wall-clock timeout, so it cannot hang the suite; its
peak resident size is read from wait4()."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from test_publish import RID, make_release
from webdav_server import DavServer, DavState

LIMIT = 1 << 30
CHILD = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    from pmrepo.publish import upload as publish
    from pmrepo.errors import PmrepoError
    try:
        publish.publish(__import__("pathlib").Path(sys.argv[1]), sys.argv[2], sys.argv[3])
    except PmrepoError as exc:  # what the CLI does: one line, exit 1
        print(exc, file=sys.stderr)
        sys.exit(1)
""")


def _publish(src: Path, url: str, tmp: Path, deadline: float) -> tuple[int, str, float, int]:
    """(exit code, stderr, seconds, peak RSS in KiB) of publish in a bounded child."""
    env = dict(os.environ, PMREPO_FETCH_DEADLINE=str(deadline), NETRC=str(tmp / "no-netrc"),
               PYTHONPATH=str(ROOT))
    env.pop("PMREPO_PUBLISH_USER", None)
    env.pop("PMREPO_PUBLISH_PASSWORD", None)
    t0 = time.monotonic()
    err = tmp / "stderr"
    with err.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-c", CHILD.format(limit=LIMIT), str(src), url, RID],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=fh, env=env)
    status, usage = 0, None
    while time.monotonic() - t0 < 120:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        os.wait4(proc.pid, 0)
        proc.returncode = -9
        pytest.fail(f"publish still running after 120s (deadline {deadline}s); stderr: {err.read_text()[-500:]}")
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert usage is not None
    return proc.returncode, err.read_text(), time.monotonic() - t0, usage.ru_maxrss


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return make_release(tmp_path / "repo", RID)


HOSTILE = [
    # (mode, trickle, what the line says)
    ("endless_propfind", 0.0, "PROPFIND .*: the answer is larger than 16777216 bytes while listing the mirror root"),
    ("endless_propfind", 0.2, "PROPFIND .*: the answer is not finished after 3s while listing the mirror root"),
    ("slow_headers", 0.2, "PROPFIND .*: (no complete answer within|the answer is not finished after) 3s while "
                          "listing the mirror root"),
    ("endless_get", 0.0, r"/\.staging-demo-repo-1\.0-1-[0-9a-f]{12}/.*: the mirror serves more than the \d+ bytes "
                         "uploaded"),
    ("endless_get", 0.2, r"GET .*/\.staging-.*: the answer is not finished after 3s while verifying"),
]


@pytest.mark.parametrize("mode,trickle,line", HOSTILE, ids=[f"{m}-{'trickle' if t else 'fast'}" for m, t, _ in HOSTILE])
def test_a_hostile_webdav_answer_ends_publish_in_one_line(src: Path, tmp_path: Path, mode: str, trickle: float,
                                                          line: str) -> None:
    import re

    www = tmp_path / "www"
    (www / "mirror").mkdir(parents=True)
    deadline = 3.0
    answer: dict[str, Any] = {mode: True}  # the misbehaviour under test, one of DavState's flags
    state = DavState(root=www, trickle=trickle, endless_seconds=90, **answer)
    with DavServer(state) as server:
        code, stderr, seconds, rss_kib = _publish(src, server.url + "mirror/", tmp_path, deadline)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert code == 1 and len(lines) == 1, stderr[-2000:]
    assert re.search(line, lines[0]) and "— fix:" in lines[0], lines[0]
    assert seconds < deadline + 30, seconds  # the deadline, the removal of the staging, Python's start
    assert rss_kib < 400 * 1024, f"peak RSS {rss_kib} KiB"  # a 16 MiB listing at most, never the stream
    assert os.listdir(www / "mirror") == [], "staging (or the release) left on the mirror"
    print(f"{mode} trickle={trickle}: {seconds:.1f}s, peak RSS {rss_kib // 1024} MiB")  # measured, shown with -s


def test_a_staging_directory_is_removed_when_the_upload_fails(src: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory target: the disk fills up at the third file; nothing is left on the mirror."""
    import errno
    import shutil

    from pmrepo.errors import PublishError
    from pmrepo.publish import mirrors as publish_targets
    from pmrepo.publish import upload as publish

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    calls: list[str] = []
    real = shutil.copy2

    def filling(a: Path, b: Path) -> object:
        calls.append(str(a))
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(b))
        return real(a, b)

    monkeypatch.setattr(publish_targets.shutil, "copy2", filling)
    with pytest.raises(PublishError, match=r"upload failed .*No space left"):
        publish.publish(src, str(mirror), RID)
    assert len(calls) == 3 and os.listdir(mirror) == []


def test_resource_limit_of_the_child_holds(tmp_path: Path) -> None:
    """The bound the tests above rely on: the child really cannot pass RLIMIT_AS."""
    code = subprocess.run([sys.executable, "-c", f"import resource; resource.setrlimit(resource.RLIMIT_AS, "
                           f"({LIMIT}, {LIMIT})); b = bytearray(2 << 30)"], capture_output=True, timeout=60).returncode
    assert code != 0
    assert resource.RLIMIT_AS  # the platform has it (Linux)
