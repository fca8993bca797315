"""The one jinja environment: the tool's templates by name, a release's by path."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import manifest
from pmrepo.builders.mock.builder import MockBuilder
from pmrepo.errors import SpecError
from pmrepo.render.environment import ENV, TEMPLATES, render_file, render_template
from pmrepo.render.specs import component_context


@pytest.fixture(scope="module")
def demo() -> manifest.Release:
    return manifest.load(DEMO)


def test_every_tool_template_is_package_data_in_one_tree() -> None:
    names = sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.j2"))
    assert {"specs/pacemaker-all.spec.j2", "specs/pacemaker-repo.spec.j2", "comps/comps.xml.j2",
            "repo/pacemaker.repo.j2", "builders/mock.cfg.j2",
            "notes/release-notes.en.md.j2", "notes/release-notes.ja.md.j2", "notes/release-notes.html.j2"} <= set(names)
    # nothing outside the tree: no template beside the modules
    pkg = TEMPLATES.parent
    assert [p for p in pkg.rglob("*.j2") if TEMPLATES not in p.parents and "demo" not in p.relative_to(pkg).parts] == []


def test_component_spec_renders_with_its_sibling_includes(demo: manifest.Release) -> None:
    comp = demo.component("libdemo")
    text = render_file(comp.spec, component_context(demo, demo.dists["el7"], comp))
    assert "Name:" in text and "%changelog" in text  # from _header / _changelog beside it


def test_mock_config_renders_as_python() -> None:
    rel = manifest.load(DEMO)
    cfg = MockBuilder().render_config(rel.dists["el6"], source_date_epoch=1)
    opts: dict = {"macros": {}, "environment": {}, "plugin_conf": {}}
    exec(compile(cfg, "mock.cfg", "exec"), {"config_opts": opts})  # mock reads its config as Python
    assert opts["macros"]["%dist"] == ".el6" and opts["environment"]["SOURCE_DATE_EPOCH"] == "1"


def test_missing_value_is_an_error_not_empty(tmp_path: Path) -> None:
    (tmp_path / "t.spec.j2").write_text("Name: {{ name }}\nVersion: {{ nope }}\n")
    with pytest.raises(SpecError, match=r"t\.spec\.j2: 'nope' is undefined — fix:"):
        render_file(tmp_path / "t.spec.j2", {"name": "x"})


def test_include_resolves_beside_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.j2").write_text('{% include "_part.j2" %}\n')
    (tmp_path / "a" / "_part.j2").write_text("part of a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "main.j2").write_text('{% include "_part.j2" %}\n')
    assert render_file(tmp_path / "a" / "main.j2", {}).startswith("part of a")
    with pytest.raises(SpecError, match=r"_part\.j2 not found"):
        render_file(tmp_path / "b" / "main.j2", {})


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.j2").write_text("ok\n{% if %}\n")
    with pytest.raises(SpecError, match=r"bad\.j2:2: template syntax error"):
        render_file(tmp_path / "bad.j2", {})


def test_tool_names_stay_inside_the_template_tree() -> None:
    with pytest.raises(SpecError, match="not found"):
        render_template("../render.py", {})
    with pytest.raises(SpecError, match="not found"):
        render_template("specs/nope.spec.j2", {})


def test_only_html_and_xml_templates_are_autoescaped() -> None:
    html = ENV.from_string("{{ x }}")  # a string template has no name: plain text
    assert html.render(x="<b>") == "<b>"
    page = ENV.get_template("notes/release-notes.html.j2").render(lang="en", title="<t>", css="", content="<p>")
    assert "<title>&lt;t&gt;</title>" in page and "&lt;p&gt;" in page
    comps = ENV.get_template("comps/comps.xml.j2")
    autoescape = comps.environment.autoescape
    assert callable(autoescape) and autoescape(comps.name) is True


def test_escaping_follows_the_file_name_of_the_template_being_rendered(tmp_path: Path) -> None:
    """One environment, one escaping per output context: finalize looks at the
    name of the template that holds the {{ … }} (an included one included)."""
    (tmp_path / "t.spec.j2").write_text("Summary: {{ v }}\n")
    (tmp_path / "t.txt.j2").write_text("{{ v }}|{% include '_part.spec.j2' %}")
    (tmp_path / "_part.spec.j2").write_text("{{ v }}")
    (tmp_path / "t.repo.j2").write_text("name={{ v }}\n")
    assert render_file(tmp_path / "t.spec.j2", {"v": "100% %(touch x)"}) == "Summary: 100%% %%(touch x)\n"
    assert render_file(tmp_path / "t.txt.j2", {"v": "5%"}) == "5%|5%%"
    assert render_file(tmp_path / "t.repo.j2", {"v": "ok"}) == "name=ok\n"
    with pytest.raises(SpecError, match=r"t\.repo\.j2: \.repo value .* fix:"):
        render_file(tmp_path / "t.repo.j2", {"v": "x]\ngpgcheck=0\n[y"})
    with pytest.raises(SpecError, match="starts with '%'"):
        render_file(tmp_path / "t.spec.j2", {"v": "a\n%post"})


def test_release_templates_are_compiled_once_and_kept_in_the_bytecode_cache(tmp_path: Path) -> None:
    """A release's spec templates go through the work directory's template cache like the tool's own
    (a 500-component release compiles each template once, not on every run)."""
    from pmrepo.render import environment as render

    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "a.spec.j2").write_text("Name: {{ name }}\n")
    cache = tmp_path / "cache"
    render.use_bytecode_cache(cache)
    try:
        assert render.render_file(spec_dir / "a.spec.j2", {"name": "x"}, root=spec_dir) == "Name: x\n"
        assert list(cache.rglob("__jinja2_*.cache")), "the release template's bytecode was not cached"
        assert render.release_environment(spec_dir) is render.release_environment(spec_dir)
    finally:
        render.use_bytecode_cache(None)
