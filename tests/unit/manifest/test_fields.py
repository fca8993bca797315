"""The manifest reader's typed field access and confinement (``pmrepo.manifest.fields``) at their edges
(issue 33): each refusal's field and fix, one-line vs multi-line text, lists, a path or file:// URL
leading out of the release's tree and the project."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

from pmrepo.errors import ManifestError
from pmrepo.manifest.fields import Reader, confined_path, file_url, opt_text

R = Reader(Path("/m/release.toml"))
NAME = re.compile(r"^[a-z]+\Z")


def refused(call, *args, **kw) -> str:
    with pytest.raises(ManifestError) as err:
        call(*args, **kw)
    return str(err.value)


def test_a_missing_string_names_the_field_and_the_hint() -> None:
    assert refused(R.str_, {}, "name", "components.x", hint="letters") == (
        '/m/release.toml: components.x.name: missing — fix: add name = "…" (letters)')
    assert refused(R.str_, {}, "name", "") == '/m/release.toml: name: missing — fix: add name = "…"'
    assert R.str_({}, "name", "", default="d") == "d"


@pytest.mark.parametrize("value,problem", [("", "must be a non-empty string, got ''"),
                                           ("  ", "must be a non-empty string, got '  '"),
                                           (3, "must be a non-empty string, got 3"),
                                           ("a\nb", "contains a newline or control character"),
                                           ("a\x7fb", "contains a newline or control character")])
def test_a_string_is_non_empty_one_line_text(value: object, problem: str) -> None:
    assert problem in refused(R.str_, {"k": value}, "k", "w")


def test_a_pattern_mismatch_gives_the_hint_or_the_pattern() -> None:
    assert refused(R.str_, {"k": "A"}, "k", "w", pattern=NAME, hint="lower case") == (
        "/m/release.toml: w.k: invalid value 'A' — fix: lower case")
    assert refused(R.str_, {"k": "A"}, "k", "w", pattern=NAME).endswith(f"fix: use a value matching {NAME.pattern}")
    assert R.str_({"k": "ab"}, "k", "w", pattern=NAME) == "ab"


@pytest.mark.parametrize("value", ["a", ["a", ""], ["a", 3], [None]])
def test_a_list_is_of_non_empty_strings(value: object) -> None:
    assert "w.k: must be a list of strings" in refused(R.str_list, {"k": value}, "k", "w")


def test_every_list_value_matches_the_pattern() -> None:
    assert refused(R.str_list, {"k": ["ok", "A"]}, "k", "", pattern=NAME) == (
        f"/m/release.toml: k: invalid value 'A' — fix: use values matching {NAME.pattern}")
    hinted = refused(R.str_list, {"k": ["ok", "A"]}, "k", "w", pattern=NAME, hint="lower case")
    assert hinted.endswith("fix: lower case")
    assert R.str_list({"k": ["ok", "ab"]}, "k", "w", pattern=NAME) == ("ok", "ab")
    assert R.str_list({}, "k", "w", default=("d",)) == ("d",)


def test_one_line_text_by_default_multi_line_when_asked() -> None:
    assert "contains a newline or control character" in refused(opt_text, R, {"k": "a\nb"}, "k", "w")
    assert opt_text(R, {"k": "a\nb\tc"}, "k", "w", multiline=True) == "a\nb\tc"
    assert "contains a control character" in refused(opt_text, R, {"k": "a\x7f"}, "k", "w", multiline=True)
    msg = refused(opt_text, R, {"k": "one\n  %" + "x" * 60}, "k", "w", multiline=True)
    assert f"line 2 starts with '%' ({('%' + 'x' * 60)[:40]!r})" in msg
    assert opt_text(R, {}, "k", "w", default="d") == "d"


def test_a_path_outside_the_release_and_the_project_names_both(tmp_path: Path) -> None:
    msg = refused(confined_path, R, "f", tmp_path, "../../../etc/passwd")
    assert f"outside the release's tree ({tmp_path.resolve()}) and the project ({ROOT})" in msg
    assert confined_path(R, "f", tmp_path, ".") == tmp_path.resolve()


@pytest.mark.parametrize("url", ["file://otherhost/x", "file:///x?y=1", "file:///x#f", "file://localhost/x?y"])
def test_a_file_url_is_a_plain_local_path(tmp_path: Path, url: str) -> None:
    assert "is not a local file:///path URL" in refused(file_url, R, "f", tmp_path, url)
