"""build.json and installed.json: the typed records, their format version and validation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pmrepo.records import BUILD_FORMAT, BuildRecord, FileInfo, InstallRecord, RecordError


def _build() -> BuildRecord:
    return BuildRecord(dist="el7", release="r-1-1", packages={"demo-all": "1.0-1.el7"},
                       files={"r-1-1.el7.x86_64.rpm": FileInfo(12, "ab" * 32)}, key="k", release_key="rk",
                       manifest="release.toml", checks={"gates": "digest passed"}, unchecked=("fresh-root install",),
                       signed=True, backend="rpmbuild", shippable=False, not_shippable="host BuildRequires",
                       expected_install=("demo-all", "libdemo"))


def test_build_record_round_trip(tmp_path: Path) -> None:
    rec = _build()
    path = rec.write(tmp_path / "build.json")
    assert json.loads(path.read_text())["format"] == BUILD_FORMAT
    assert BuildRecord.read(path) == rec


def test_install_record_round_trip(tmp_path: Path) -> None:
    rec = InstallRecord(dist="el6", release="r", packages={"b": "2-1", "a": "1-1"}, metapackage="m", image="i",
                        engine="podman")
    assert InstallRecord.read(rec.write(tmp_path / "installed.json")) == rec


def test_a_record_without_format_is_format_1(tmp_path: Path) -> None:
    path = tmp_path / "installed.json"
    path.write_text(json.dumps({"dist": "el7", "release": "r", "packages": {"a": "1-1"}}))
    assert InstallRecord.read(path).packages == {"a": "1-1"}


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(format=BUILD_FORMAT + 1), "newer than this pmrepo reads"),
    (lambda d: d.pop("packages"), 'no "packages" table'),
    (lambda d: d.update(packages=["a"]), '"packages" is not table'),
    (lambda d: d.update(signed="yes"), '"signed" is not true or false'),
    (lambda d: d.update(unchecked="gates"), '"unchecked" is not a list of names'),
    (lambda d: d.update(shippable=0), '"shippable" is not true or false'),
    (lambda d: d.update(expected_install=[1]), '"expected_install" is not a list of names'),
    (lambda d: d["files"]["r-1-1.el7.x86_64.rpm"].pop("sha256"), "no size/sha256 for r-1-1.el7.x86_64.rpm"),
    (lambda d: d.pop("files"), 'no "files" table'),
])
def test_bad_build_json_is_one_line_naming_file_and_field(tmp_path: Path, change, message: str) -> None:
    data = _build().to_json()
    change(data)
    path = tmp_path / "build.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError) as exc:
        BuildRecord.read(path)
    assert message in str(exc.value) and str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_unreadable_json(tmp_path: Path) -> None:
    path = tmp_path / "build.json"
    path.write_text("{not json")
    with pytest.raises(RecordError, match="not readable JSON"):
        BuildRecord.read(path)
    with pytest.raises(RecordError, match="not readable JSON"):
        InstallRecord.read(tmp_path / "missing.json")
