"""The output-context escapers (``pmrepo.render.environment``) held to a parser of their output (issue 33,
hypothesis): what rpm's macro expander makes of a spec value, what an INI parser (the ``.repo``
format yum and dnf read) makes of a ``.repo`` line, what an XML parser makes of escaped text and
attributes — always the value itself, or the escaper refuses it (SpecError)."""
from __future__ import annotations

import configparser
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmrepo.errors import SpecError
from pmrepo.render.environment import md_escape, repo_escape, spec_escape, xml_escape
from pmrepo.run import run

# the characters that mean something to rpm, an INI parser or XML, control characters, and text
SPECIAL = "%{}()[]<>&'\"\\#;=:$!?*` \t\n\r\x00\x01\x1b\x7f\x85\xa0é日"
TEXT = st.text(st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8")), max_size=30)
SETTINGS = settings(max_examples=100, derandomize=True, deadline=None, database=None)


def _escaped_or_none(escape, value: str) -> str | None:
    try:
        return escape(value)
    except SpecError:
        return None


# -- spec values: rpm's own expander is the parser --------------------------------------------

ONE_LINE = st.text(st.one_of(st.sampled_from("%{}()\\#:$ ?!*"), st.characters(codec="utf-8", exclude_characters="\n")),
                   min_size=1, max_size=20)


@pytest.mark.skipif(shutil.which("rpm") is None, reason="rpm is not installed here (`make setup` installs it): "
                    "rpm's macro expander is the reference; the spec structure check is tested in test_render.py")
def test_a_spec_value_expands_to_itself_in_rpm() -> None:
    """``rpm --eval`` of each escaped one-line value gives the value back: no macro, no %(shell), no
    %{lua:} is ever expanded (twenty values per rpm call)."""

    @settings(max_examples=12, derandomize=True, deadline=None, database=None)
    @given(st.lists(ONE_LINE, min_size=20, max_size=20))
    def check(values: list[str]) -> None:
        pairs = [(v, e) for v in values if (e := _escaped_or_none(spec_escape, v)) is not None]
        refused = [v for v in values if _escaped_or_none(spec_escape, v) is None]
        assert all(any((ord(c) < 0x20 and c != "\t") or c == "\x7f" for c in v) for v in refused), refused
        # a value rpm would strip (leading/trailing space) is kept apart by markers
        out = run(["rpm", *(f"--eval=<{e}>" for _, e in pairs)]).output
        got = out.split("\n")[: len(pairs)]
        assert got == [f"<{v}>" for v, _ in pairs]

    check()


@SETTINGS
@given(TEXT)
def test_a_multi_line_spec_value_never_starts_a_line_with_a_section_or_tag(value: str) -> None:
    """Continuation lines are indented (never a %section, a changelog '*' or a Tag: at column 0) and
    every % is doubled; undoing exactly that gives the value back (blank lines emptied)."""
    escaped = _escaped_or_none(spec_escape, value)
    if escaped is None:
        lines = value.split("\n")
        assert any((ord(c) < 0x20 and c not in "\t\n") or c == "\x7f" for c in value) or any(
            ln.lstrip().startswith("%") for ln in lines[1:]), value
        return
    assert not any((ord(c) < 0x20 and c not in "\t\n") or c == "\x7f" for c in escaped), escaped
    first, *rest = escaped.split("\n")
    assert all(ln == "" or ln.startswith("  ") for ln in rest), escaped
    assert all(len(run) % 2 == 0 for run in re.findall("%+", escaped)), escaped  # every % doubled
    lines = value.split("\n")
    expected = "\n".join([lines[0]] + [ln if ln.strip() else "" for ln in lines[1:]])
    assert "\n".join([first] + [ln[2:] for ln in rest]).replace("%%", "%") == expected


# -- .repo values: an INI parser reads the value back, one section -----------------------------


@SETTINGS
@given(TEXT)
def test_a_repo_value_is_read_back_by_an_ini_parser(value: str) -> None:
    escaped = _escaped_or_none(repo_escape, value)
    if escaped is None:
        assert any(ord(c) < 0x20 or c == "\x7f" for c in value) or value.lstrip().startswith("["), value
        return
    assert not any(ord(c) < 0x20 or c == "\x7f" for c in escaped), escaped
    body = f"[pmrepo]\nname={escaped}\nbaseurl=file:///opt/x/\nenabled=1\n"
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(body)
    assert cfg.sections() == ["pmrepo"]
    assert dict(cfg["pmrepo"]) == {"name": value.strip(), "baseurl": "file:///opt/x/", "enabled": "1"}


# -- XML: text and attribute values parse back to the value ------------------------------------

XML_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs"]).filter(
    lambda c: c in "\t\n\r" or (0x20 <= ord(c) <= 0xD7FF) or (0xE000 <= ord(c) <= 0xFFFD) or ord(c) >= 0x10000)


@SETTINGS
@given(st.text(st.one_of(st.sampled_from("<>&'\"]]>"), XML_CHARS), max_size=30))
def test_an_xml_value_parses_back_as_text_and_attribute(value: str) -> None:
    escaped = str(xml_escape(value))
    root = ET.fromstring(f'<r a="{escaped}" b=\'{escaped}\'>{escaped}</r>')
    assert list(root) == [] and (root.text or "") == value.replace("\r\n", "\n").replace("\r", "\n")
    # attribute-value normalisation (XML 1.0 3.3.3): literal tab, newline and CR read as spaces
    normalised = value.replace("\r\n", " ").translate({9: " ", 10: " ", 13: " "})
    assert root.get("a") == root.get("b") == normalised


@pytest.mark.parametrize("escape", [spec_escape, repo_escape])
@pytest.mark.parametrize("char", ["\x7f", "\x00", "\x1b", "\r", "\x0b"])
def test_del_and_control_characters_are_refused(escape, char: str) -> None:
    with pytest.raises(SpecError, match="control character"):
        escape(f"a{char}b")


def test_a_refused_percent_line_is_quoted_short() -> None:
    line = "%" + "x" * 100
    with pytest.raises(SpecError) as err:
        spec_escape(f"first\n{line}")
    assert f"value line {('%' + line)[:60]!r} starts with '%'" in str(err.value)  # as escaped: the % doubled


@pytest.mark.parametrize("value,escaped", [
    ("see <b>x</b>", "see &lt;b>x&lt;/b>"),
    ("[a](javascript:alert(1))", "[a](javascript&#58;alert(1))"),
    ("JavaScript :alert(1)", "JavaScript &#58;alert(1)"),  # the space kept, the colon an entity
    ("vbscript:x and data:text/html,x", "vbscript&#58;x and data&#58;text/html,x"),
    ("metadata: kept, https://x", "metadata: kept, https://x"),  # a word ending in "data" is no scheme
])
def test_markdown_values_carry_no_html_and_no_script_scheme(value: str, escaped: str) -> None:
    assert md_escape(value) == escaped


def test_a_refused_value_is_quoted_short() -> None:
    long = "x" * 100
    with pytest.raises(SpecError) as err:
        spec_escape(long + "\x01")
    assert str(err.value).startswith(f"value {long[:60]!r} contains a control character")
    with pytest.raises(SpecError) as err:
        repo_escape("[" + long)
    assert str(err.value).startswith(f".repo value {('[' + long)[:60]!r} contains a newline")
