"""Where a spec's code runs (issue 25 item 2): the build user, the command a build runs as,
and what the build may hand back. The builds themselves are in tests/integration/test_host_confinement.py."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from pmrepo import sandbox
from pmrepo.errors import BuildError
from pmrepo.sandbox import BuildUser, Sandbox, build_user, private_tree

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="what is tested is pmrepo run as root")


@needs_root
def test_root_builds_as_the_build_user_never_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.setenv("PMREPO_BUILD_USER", "nobody")
    user = build_user()
    assert user is not None and user.name == "nobody" and user.uid == pwd.getpwnam("nobody").pw_uid != 0
    monkeypatch.setenv("PMREPO_BUILD_USER", "root")
    with pytest.raises(BuildError, match="is uid 0 — fix:"):
        build_user()


@needs_root
def test_without_a_build_user_sudo_uid_then_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMREPO_BUILD_USER", "pmrepo-no-such-user")
    monkeypatch.setenv("SUDO_UID", str(pwd.getpwnam("nobody").pw_uid))
    user = build_user()
    assert user is not None and user.name == "nobody"
    for sudo in ("0", ""):  # sudo from root is root: not an unprivileged user
        monkeypatch.setenv("SUDO_UID", sudo)
        with pytest.raises(BuildError) as info:
            build_user()
        msg = str(info.value)
        assert "\n" not in msg and "no build user 'pmrepo-no-such-user'" in msg and "run `make setup`" in msg


def test_not_root_builds_as_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert build_user() is None
    argv, env = Sandbox(Path("/var/tmp/t"), None).command(["rpmbuild", "-bs", "x.spec"], {"A": "1"})
    assert argv[:2] == ["env", "-i"] and argv[-3:] == ["rpmbuild", "-bs", "x.spec"] and env == {}
    assert "A=1" in argv and "HOME=/var/tmp/t" in argv


def test_build_command_drops_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMREPO_PUBLISH_PASSWORD", "s3cret")
    box = Sandbox(Path("/var/tmp/pmrepo-build-0/el7/a/rpmbuild"), BuildUser("pmrepo-build", 999, 995))
    argv, env = box.command(["rpmbuild", "--rebuild", "a.src.rpm"], {"SOURCE_DATE_EPOCH": "1"})
    assert argv[:8] == ["unshare", "--mount", "--propagation", "private", "--net", "--ipc", "--pid", "--fork"]
    drop = argv[argv.index("setpriv") : argv.index("env")]
    assert drop == ["setpriv", "--reuid=999", "--regid=995", "--clear-groups", "--inh-caps=-all",
                    "--bounding-set=-all", "--no-new-privs"]
    fresh = argv[argv.index("env") + 2 : argv.index("rpmbuild")]
    assert "SOURCE_DATE_EPOCH=1" in fresh and "HOME=/var/tmp/pmrepo-build-0/el7/a/rpmbuild" in fresh
    assert "USER=pmrepo-build" in fresh and "TMPDIR=/tmp" in fresh
    assert not any("s3cret" in a for a in argv)  # pmrepo's credentials never reach a build
    assert env["PMREPO_TOP"] == str(box.top) and "/tmp" in env["PMREPO_PRIVATE"].split()
    assert env["PMREPO_AS"] == "pmrepo-build (uid 999)"
    assert box.command(["true"], {}, quiet=True)[1]["PMREPO_AS"] == ""  # a parsed query: no line of ours


def test_take_refuses_what_is_not_a_regular_file_of_the_builds(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, None)
    (tmp_path / "good.rpm").write_bytes(b"rpm")
    assert box.take(tmp_path / "good.rpm", tmp_path / "out.rpm").read_bytes() == b"rpm"
    secret = tmp_path / "secret"
    secret.write_text("root:*:")
    (tmp_path / "RPMS").mkdir()
    (tmp_path / "RPMS" / "link.rpm").symlink_to(secret)
    (tmp_path / "RPMS" / "dir.rpm").mkdir()
    os.mkfifo(tmp_path / "RPMS" / "fifo.rpm")
    found = box.results(tmp_path / "RPMS", ".rpm")
    assert [p.name for p in found] == ["dir.rpm", "fifo.rpm", "link.rpm"]
    for p in found:
        with pytest.raises(BuildError) as info:
            box.take(p, tmp_path / "taken.rpm")
        assert "\n" not in str(info.value) and "— fix:" in str(info.value)
    assert not (tmp_path / "taken.rpm").exists()
    other = Sandbox(tmp_path, BuildUser("someone", os.geteuid() + 1, 0))  # not the build user's file
    with pytest.raises(BuildError, match="not a regular file of the build user's"):
        other.take(tmp_path / "good.rpm", tmp_path / "taken.rpm")


@needs_root
def test_private_tree_is_the_build_users_and_goes_away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMREPO_BUILD_USER", "nobody")
    monkeypatch.setattr(sandbox, "SCRATCH", tmp_path)
    spec = tmp_path / "a.spec"
    spec.write_text("Name: a\n")
    spec.chmod(0o600)  # not readable by the build user: copied, not linked
    rpm = tmp_path / "a.rpm"
    rpm.write_text("rpm")
    rpm.chmod(0o644)
    with private_tree("pmrepo-lint-", [[spec], [rpm]]) as (box, [[s], [r]]):
        assert box.top is not None and box.top.parent == tmp_path and box.top.name.startswith("pmrepo-lint-")
        st = os.stat(box.top)
        assert st.st_uid == pwd.getpwnam("nobody").pw_uid and st.st_mode & 0o777 == 0o700
        assert s.read_text() == "Name: a\n" and not s.samefile(spec) and os.stat(s).st_mode & 0o777 == 0o644
        assert r.samefile(rpm) and os.stat(rpm).st_uid == 0  # linked, still pmrepo's
    assert not box.top.exists() and spec.exists() and rpm.exists()


MOCK_REF = Path(__file__).resolve().parents[3] / "shared" / "reference" / "mock-6.7" / "mock" / "py"


def test_stand_in_builds_unprivileged_as_mock_does() -> None:
    """The stand-in (tests/fake_mock/mock) runs rpmbuild as an unprivileged uid with no network
    because mock 6.7 does: every doChroot of a function that runs rpmbuild_command passes
    uid=self.buildroot.chrootuid and unshare_net=self.private_network, chrootuid is the
    unprivileged caller's uid (config loaded without privileges) and rpmbuild_networking is off."""
    import ast

    if not MOCK_REF.is_dir():
        pytest.skip(f"{MOCK_REF} (mock 6.7's own code, ../shared/reference) is absent")
    tree = ast.parse((MOCK_REF / "mockbuild" / "backend.py").read_text())
    checked = 0
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        if "rpmbuild_command" not in ast.unparse(fn):
            continue
        for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
            if isinstance(call.func, ast.Attribute) and call.func.attr == "doChroot":
                kw = {k.arg: ast.unparse(k.value) for k in call.keywords}
                assert kw.get("uid") == "self.buildroot.chrootuid", (fn.name, kw)
                assert kw.get("unshare_net") == "self.private_network", (fn.name, kw)
                checked += 1
    assert checked >= 2
    config = (MOCK_REF / "mockbuild" / "config.py").read_text()
    assert "config_opts['chrootuid'] = os.getuid()" in config and "config_opts['rpmbuild_networking'] = False" in config
    mock_py = (MOCK_REF / "mock.py").read_text()
    assert "run_in_subprocess_without_privileges(\n            config.load_config" in mock_py
    stand_in = (Path(__file__).resolve().parents[1] / "fake_mock" / "mock").read_text()
    assert '"setpriv", f"--reuid={uid}"' in stand_in and '"--net"' in stand_in


def test_a_build_tree_the_build_user_cannot_reach_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "PRIVATE_DIRS", ())  # as if tmp_path were not under /tmp (made anew)
    closed = tmp_path / "closed"
    (closed / "trees").mkdir(parents=True)
    closed.chmod(0o700)
    box = Sandbox(closed / "trees", BuildUser("pmrepo-build", 999, 995))
    with pytest.raises(BuildError) as info:
        box.check_reachable()
    assert "\n" not in str(info.value) and f"cannot enter {closed} (mode 0700)" in str(info.value)
    monkeypatch.undo()
    Sandbox(closed / "trees", BuildUser("pmrepo-build", 999, 995)).check_reachable()  # under /tmp: made anew
    Sandbox(Path("/var/tmp/pmrepo-build-0/el7/a/srpm"), BuildUser("pmrepo-build", 999, 995)).check_reachable()


@needs_root
def test_confined_command_runs_from_its_tree_not_a_hidden_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pmrepo started from a directory under /tmp: in the namespace that directory is hidden by the
    private /tmp, so the command starts in its tree (a tool calling getcwd() failed there)."""
    from pmrepo.run import run

    monkeypatch.setenv("PMREPO_BUILD_USER", "nobody")
    monkeypatch.chdir(tmp_path)
    with private_tree("pmrepo-spec-", [[]]) as (box, _):
        argv, env = box.command(["python3", "-c", "import os; print(os.getcwd())"], {}, quiet=True)
        assert run(argv, env=env).output.strip() == str(box.top)


@needs_root
def test_a_killed_runs_private_tree_is_removed_by_the_next_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spec or lint tree is handed to the build user; a run killed while rpmspec or rpmlint ran
    leaves it: the next private tree removes it, though it is not root's (review N3)."""
    import subprocess
    from dataclasses import replace

    from pmrepo.owner import Owner

    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.setenv("PMREPO_BUILD_USER", "nobody")
    nobody = pwd.getpwnam("nobody")
    proc = subprocess.Popen(["true"])
    proc.wait()
    dead = replace(Owner.me(), pid=proc.pid)
    left = sandbox.SCRATCH / f"{sandbox.SPEC_TREE_PREFIX}{dead.tag()}-abcd_123"
    live = sandbox.SCRATCH / f"{sandbox.SPEC_TREE_PREFIX}{Owner.me().tag()}-efgh_456"  # a live run's: kept
    try:
        for d in (left, live):
            (d / "0").mkdir(parents=True)
            (d / "0" / "x.spec").write_text("Name: x\n")
            os.lchown(d, nobody.pw_uid, nobody.pw_gid)
        spec = tmp_path / "y.spec"
        spec.write_text("Name: y\n")
        with private_tree(sandbox.SPEC_TREE_PREFIX, [[spec]]) as (box, _):
            assert box.top is not None and box.top.stat().st_uid == nobody.pw_uid
        assert not left.exists() and live.is_dir()
    finally:
        import shutil
        for d in (left, live):
            shutil.rmtree(d, ignore_errors=True)
