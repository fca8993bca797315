"""`make setup` on the hosts CI uses: Debian 12 as root (this project's CI), Ubuntu 24.04 as a
user with sudo (GitHub's runners), Fedora in a container (the mock jobs)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pmrepo import hostsetup


def test_not_root_installs_through_sudo_without_a_prompt() -> None:
    cmds = hostsetup.install_commands(["rpm", "shellcheck"], debian=True, root=False)
    assert cmds == [
        ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update", "-qq"],
        ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq",
         "--no-install-recommends", "rpm", "shellcheck"],
    ]
    assert hostsetup.install_commands(["rpm"], debian=True, root=True)[1][:2] == ["apt-get", "install"]
    assert hostsetup.install_commands(["ShellCheck"], debian=False, root=True) == [
        ["dnf", "install", "-y", "ShellCheck", "mock"]]
    assert hostsetup.install_commands(["ShellCheck"], debian=False, root=False)[0][:2] == ["sudo", "-n"]


def test_shellcheck_is_installed_for_actionlint() -> None:
    assert hostsetup.TOOLS["shellcheck"] == ("shellcheck", "ShellCheck")


@pytest.mark.parametrize(("text", "ubuntu"), [
    ('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n', True),
    ('NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n', True),
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n', False),
    ('NAME="Fedora Linux"\nID=fedora\n', False),
    ("", False),
])
def test_ubuntu_is_told_from_os_release(tmp_path: Path, text: str, ubuntu: bool) -> None:
    path = tmp_path / "os-release"
    path.write_text(text)
    assert hostsetup.is_ubuntu(path) is ubuntu
    assert hostsetup.is_ubuntu(tmp_path / "missing") is False


def test_ubuntu_gets_no_snap_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ubuntu's chromium debs install a snap that cannot read the pages under test: not asked for there."""
    monkeypatch.setattr(shutil, "which", lambda cmd: None)
    monkeypatch.setattr(hostsetup, "EXTRA", {})
    debian = hostsetup.missing_packages(debian=True)
    ubuntu = hostsetup.missing_packages(debian=True, ubuntu=True)
    assert {"chromium", "chromium-driver", "shellcheck", "createrepo-c"} <= set(debian)
    assert set(debian) - set(ubuntu) == {"chromium", "chromium-driver"}
    assert "chromium" in hostsetup.missing_packages(debian=False)  # Fedora's chromium is an rpm
