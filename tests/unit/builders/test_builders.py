"""``pmrepo.builders.get_builder``: a backend by name, its options passed to its constructor, and an
unknown name refused in one line that names the two backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo import builders
from pmrepo.builders.mock.builder import MockBuilder
from pmrepo.builders.rpmbuild import RpmbuildBuilder
from pmrepo.errors import PmrepoError, UsageError


def test_rpmbuild_by_name_takes_its_options() -> None:
    plain = builders.get_builder("rpmbuild")
    assert isinstance(plain, RpmbuildBuilder) and plain.name == "rpmbuild"
    assert plain.shippable and not plain.host_buildrequires
    host = builders.get_builder("rpmbuild", host_buildrequires=True)
    assert isinstance(host, RpmbuildBuilder) and host.host_buildrequires and not host.shippable


def test_mock_by_name_takes_its_options(tmp_path: Path) -> None:
    mock = builders.get_builder("mock", state_dir=tmp_path, reuse_roots=False, mock_cmd="/opt/mock")
    assert isinstance(mock, MockBuilder) and mock.name == "mock"
    assert (mock.state_dir, mock.reuse_roots, mock.mock_cmd) == (tmp_path, False, "/opt/mock")


def test_each_call_is_a_new_builder() -> None:
    assert builders.get_builder("rpmbuild") is not builders.get_builder("rpmbuild")


@pytest.mark.parametrize("name", ["", "Mock", "docker", "rpmbuild "])
def test_an_unknown_backend_is_a_one_line_usage_error(name: str) -> None:
    with pytest.raises(UsageError) as info:
        builders.get_builder(name)
    message = str(info.value)
    assert isinstance(info.value, PmrepoError) and "\n" not in message
    assert message == f"unknown backend {name!r} — fix: use --backend rpmbuild or --backend mock"


def test_an_invalid_mock_option_value_is_the_backends_own_usage_error() -> None:
    with pytest.raises(UsageError, match=r"mock isolation 'chroot' is not supported — fix: use simple or nspawn"):
        builders.get_builder("mock", isolation="chroot")


def test_the_package_exports_what_backends_share() -> None:
    assert set(builders.__all__) == {"BuildOutput", "BuildRequest", "Builder", "get_builder", "rpm_macro_defines"}
    assert all(hasattr(builders, name) for name in builders.__all__)
