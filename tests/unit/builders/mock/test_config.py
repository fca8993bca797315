"""``pmrepo.builders.mock.config``: a dist's repositories from the built-in defaults, the manifest, the
backend's mirrors and the environment, in that order, every URL and id checked; the template facts
(isolation, bootstrap image); the jobs' local repository ids; and the rendered config, executed as
mock executes it (Python with ``config_opts`` in scope) to read back what mock would see."""

from __future__ import annotations

import collections
import configparser
from pathlib import Path
from typing import Any

import pytest

from pmrepo.builders.mock import config as mock_config
from pmrepo.builders.mock.config import ConfigInput, repos_for
from pmrepo.errors import UsageError
from pmrepo.manifest import Dist

EL6 = Dist("el6", ".el6", 6, {}, (), {}, "centos:6")
EL7 = Dist("el7", ".el7", 7, {}, (), {}, "centos:7")


@pytest.fixture(autouse=True)
def no_mirror_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for var in [v for v in os.environ if v.startswith("PMREPO_MIRROR_")]:
        monkeypatch.delenv(var)


def _by_id(repos: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["id"]): r for r in repos}


# -- the repositories ---------------------------------------------------------------------------


def test_the_defaults_follow_mocks_eol_templates() -> None:
    el7, el6 = _by_id(repos_for(EL7, {}, {})), _by_id(repos_for(EL6, {}, {}))
    assert list(el7) == ["base", "updates", "extras", "epel"]
    assert el7["base"]["baseurl"] == "https://vault.centos.org/7.9.2009/os/$basearch/"
    assert el6["epel"]["baseurl"] == "https://archives.fedoraproject.org/pub/archive/epel/6/$basearch/"
    assert el6["base"]["gpgkey"] == "file:///usr/share/distribution-gpg-keys/centos/RPM-GPG-KEY-CentOS-6"
    assert {k: r["enabled"] for k, r in el6.items()} == {"base": True, "updates": False, "extras": True, "epel": True}
    assert all(r["enabled"] for r in el7.values())


def test_later_sources_override_earlier_ones_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    dist = Dist("el6", ".el6", 6, {}, (), {"updates": "http://m/6/updates/"}, "centos:6", {"local": "file:///srv/r/"})
    monkeypatch.setenv("PMREPO_MIRROR_BASE", "http://generic/base/")
    monkeypatch.setenv("PMREPO_MIRROR_EL6_BASE", "http://el6-only/base/")
    got = _by_id(repos_for(dist, {"el6/extras": "ftp://m/extras/", "el7/epel": "http://not-for-el6/"}, {"epel": False}))
    assert got["updates"]["enabled"] is True  # named in the manifest: used
    assert got["updates"]["origin"] == (
        "manifest [dists.el6] base_repos.updates (overrides built-in default (mock's eol template))"
    )
    assert got["local"] == {
        "id": "local",
        "name": "local (manifest [dists.el6] mock_base_repos.local)",
        "baseurl": "file:///srv/r/",
        "gpgkey": "",
        "enabled": True,
        "origin": "manifest [dists.el6] mock_base_repos.local",
    }
    assert got["extras"]["baseurl"] == "ftp://m/extras/"
    assert got["base"]["baseurl"] == "http://el6-only/base/"  # the per-dist variable comes last
    assert str(got["base"]["origin"]).startswith("environment PMREPO_MIRROR_EL6_BASE (overrides environment PMREPO")
    assert got["epel"]["baseurl"] == "https://archives.fedoraproject.org/pub/archive/epel/6/$basearch/"
    assert got["epel"]["enabled"] is False


def test_the_mirror_variables_of_a_repository() -> None:
    assert mock_config.mirror_env_names("el7", "base") == ("PMREPO_MIRROR_BASE", "PMREPO_MIRROR_EL7_BASE")
    assert mock_config.mirror_env_names("el-7.x", "my-repo:1") == (
        "PMREPO_MIRROR_MY_REPO_1",
        "PMREPO_MIRROR_EL_7_X_MY_REPO_1",
    )


def test_a_release_without_built_in_mirrors_must_list_its_repositories() -> None:
    el8 = Dist("el8", ".el8", 8, {}, (), {}, "quay.io/centos/centos:stream8")
    with pytest.raises(UsageError) as info:
        repos_for(el8, {}, {})
    assert str(info.value).startswith("dist el8 (rhel 8): no built-in mirrors for this release — fix: list")
    assert [r["id"] for r in repos_for(Dist("el8", ".el8", 8, {}, (), {"baseos": "http://m/8/"}, "x:8"), {}, {})] == [
        "baseos"
    ]


@pytest.mark.parametrize(
    "mirrors, enabled, message",
    [
        (
            {},
            {"nosuch": True},
            r"^mock backend option enable\.nosuch: dist el7 has no repository 'nosuch' — fix: use one of base, updates",
        ),
        (
            {"base": "http://m/a b/"},
            {},
            r"^mock backend option mirrors\['base'\]: 'http://m/a b/' is not a usable baseurl",
        ),
        ({"base": "http://m/{{x}}/"}, {}, r"is not a usable baseurl"),
        ({"base": 'http://m/"""/'}, {}, r"is not a usable baseurl"),
        ({"base": "gopher://m/"}, {}, r"is not a usable baseurl — fix: give an http\(s\)://, ftp:// or file:// URL"),
        ({"main": "http://m/"}, {}, r"invalid repository id 'main' — fix: use letters, digits and \._:- \(not 'main'"),
        ({"pmrepo-local-x": "http://m/"}, {}, r"invalid repository id 'pmrepo-local-x'"),
        ({"b a/base": "http://m/"}, {}, r"'b a' is not a dist name — fix: use \"repoid\" or \"<dist>/repoid\""),
    ],
)
def test_a_bad_repository_value_is_a_one_line_error(
    mirrors: dict[str, str], enabled: dict[str, bool], message: str
) -> None:
    with pytest.raises(UsageError, match=message) as info:
        repos_for(EL7, mirrors, enabled)
    assert "\n" not in str(info.value)


def test_a_bad_environment_mirror_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMREPO_MIRROR_EL7_EPEL", "http://m/epel/\n[evil]")
    with pytest.raises(UsageError, match=r"^environment PMREPO_MIRROR_EL7_EPEL: 'http://m/epel/\\n\[evil\]' is not"):
        repos_for(EL7, {}, {})


def test_a_mirror_url_with_credentials_is_not_printed_in_the_mock_error() -> None:
    with pytest.raises(UsageError) as exc:
        mock_config.set_url({}, "base", "https://user:s3cret@mirror.example/centos 6/", "mirrors option")
    assert "s3cret" not in str(exc.value) and "***@mirror.example" in str(exc.value)


# -- template facts and local repository ids ----------------------------------------------------


def test_isolation_and_bootstrap_image_default_to_mocks_templates() -> None:
    assert mock_config.isolation_for(EL6, None) == "simple" and mock_config.isolation_for(EL7, None) is None
    assert mock_config.isolation_for(EL6, "nspawn") == "nspawn"
    assert mock_config.bootstrap_image_for(EL6, {}) == "quay.io/centos/centos:6"
    assert mock_config.bootstrap_image_for(EL7, {"": "reg/all:1", "el7": "reg/el7:1"}) == "reg/el7:1"
    assert mock_config.bootstrap_image_for(EL6, {"": "reg/all:1", "el7": "reg/el7:1"}) == "reg/all:1"
    el8 = Dist("el8", ".el8", 8, {}, (), {}, "quay.io/centos/centos:stream8")
    assert mock_config.bootstrap_image_for(el8, {}) == "quay.io/centos/centos:stream8"  # the dist's own image


def test_each_jobs_local_repository_has_an_id_of_its_own(tmp_path: Path) -> None:
    one = mock_config.local_repo_id("pacemaker", tmp_path / "jobs" / "a" / "local-repo")
    assert one == mock_config.local_repo_id("pacemaker", tmp_path / "jobs" / "a" / "local-repo")
    assert one != mock_config.local_repo_id("pacemaker", tmp_path / "jobs" / "b" / "local-repo")
    assert one.startswith("pmrepo-local-pacemaker-") and len(one.rsplit("-", 1)[1]) == 10
    odd = mock_config.local_repo_id("a b]\n[main", tmp_path)
    assert mock_config.REPOID_RE.match(odd) and "\n" not in odd and "]" not in odd


# -- the rendered config ----------------------------------------------------------------------------


def _executed(text: str) -> dict[str, Any]:
    """The config run as mock runs it: Python with ``config_opts`` in scope."""
    opts: dict[str, Any] = collections.defaultdict(dict)
    exec(compile(text, "mock.cfg", "exec"), {"config_opts": opts})
    return opts


def _input(dist: Dist, **kw: Any) -> ConfigInput:
    values: dict[str, Any] = {
        "root": "pmrepo-el7-x86_64-w1",
        "arch": "x86_64",
        "chroot_setup_cmd": "install @buildsys-build",
        "isolation": mock_config.isolation_for(dist, None),
        "use_bootstrap_image": True,
        "bootstrap_image": mock_config.bootstrap_image_for(dist, {}),
        "repos": repos_for(dist, {}, {}),
    }
    return ConfigInput(**(values | kw))


def test_the_config_is_what_mock_reads(tmp_path: Path) -> None:
    opts = _executed(
        mock_config.render_config(EL6, _input(EL6), tmp_path / "local-repo", 1_700_000_000, "pmrepo-local-a-1")
    )
    assert (opts["root"], opts["target_arch"], opts["legal_host_arches"]) == (
        "pmrepo-el7-x86_64-w1",
        "x86_64",
        ("x86_64",),
    )
    assert (opts["dist"], opts["releasever"], opts["package_manager"]) == ("el6", "6", "yum")
    assert opts["isolation"] == "simple" and opts["ssl_ca_bundle_path"] == "/etc/pki/tls/certs/ca-bundle.crt"
    assert opts["use_bootstrap_image"] is True and opts["bootstrap_image"] == "quay.io/centos/centos:6"
    assert opts["macros"]["%dist"] == ".el6" and opts["macros"]["%_binary_payload"] == "w9.gzdio"
    assert opts["environment"] == {"SOURCE_DATE_EPOCH": "1700000000"}
    yum = configparser.ConfigParser(interpolation=None)
    yum.read_string(opts["yum.conf"])
    assert yum["main"]["user_agent"] == "{{ user_agent }}"  # mock's own placeholder, left for mock
    assert yum["main"]["reposdir"] == "/dev/null" and yum["main"]["best"] == "1"
    assert yum["updates"]["enabled"] == "0" and yum["base"]["gpgcheck"] == "1"
    local = yum["pmrepo-local-a-1"]
    assert local["baseurl"] == (tmp_path / "local-repo").resolve().as_uri() and local["gpgcheck"] == "0"


def test_el7_has_no_el6_keys_and_no_local_repository() -> None:
    opts = _executed(mock_config.render_config(EL7, _input(EL7, use_bootstrap_image=False)))
    assert "isolation" not in opts and "ssl_ca_bundle_path" not in opts and "bootstrap_image" not in opts
    assert opts["use_bootstrap_image"] is False and opts["environment"] == {}
    assert "pmrepo-local" not in opts["yum.conf"]


def test_values_stay_data_in_the_config() -> None:
    hostile = "x'; import os; os.system('touch /tmp/pwned'); '"
    opts = _executed(mock_config.render_config(EL7, _input(EL7, root=hostile, chroot_setup_cmd=hostile)))
    assert opts["root"] == hostile and opts["chroot_setup_cmd"] == hostile
