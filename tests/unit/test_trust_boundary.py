"""The trust boundary, second pass (issue 18): fast, unit-level reproductions.
Each test feeds the hostile or careless input and asserts the refusal; each
failed on the code before issue 18."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from synthetic import make_release

from pmrepo import manifest
from pmrepo.errors import ManifestError, PmrepoError, SpecError
from pmrepo.publish import mirrors as publish_targets
from pmrepo.render.specs import render_component
from pmrepo.run import Result

# -- 1. no shell on the mirror --------------------------------------------------------

HOSTILE_DIRS = ["a';touch {canary};'b", 'a"$(touch {canary})"b', "a`touch {canary}`b", "a'b", "a b;touch {canary}"]


@pytest.mark.parametrize("template", HOSTILE_DIRS)
def test_remote_command_lines_quote_every_path(tmp_path: Path, template: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact command string sent to the mirror over ssh, run through `sh -c`:
    a hostile target path is a path, never shell syntax."""
    canary = tmp_path / "canary"
    root = tmp_path / template.format(canary="canary")
    sent: list[str] = []

    def fake_run(argv: list[str], **kw: object) -> Result:
        assert argv[:1] == ["ssh"] and argv[-2] == "mirror.example"
        sent.append(argv[-1])
        proc = subprocess.run(["sh", "-c", argv[-1]], capture_output=True, text=True, cwd=tmp_path, check=False)
        return Result(argv, proc.returncode, proc.stdout + proc.stderr, None)

    monkeypatch.setattr(publish_targets, "run", fake_run)
    target = publish_targets.RsyncTarget(str(root), remote="mirror.example")
    with pytest.raises(PmrepoError, match="no such directory"):
        target.list_root()
    root.mkdir()
    (root / "a").mkdir()
    (root / "b").mkdir()
    assert target.list_root() == {"a", "b"}
    with pytest.raises(PmrepoError, match="already exists"):
        target.rename("a", "b")
    target.rename("a", "c")
    assert (root / "c").is_dir()
    target.remove("c")
    assert not (root / "c").exists()
    assert not canary.exists() and not (root / "canary").exists(), (
        f"the mirror's shell ran a command from the path: {sent}")
    assert len(sent) == 5


# -- 3. spec templates read no host file ----------------------------------------------


def _release_with_spec_line(tmp: Path, line: bytes | str) -> tuple[manifest.Release, Path]:
    """A one-component synthetic release whose spec template's %description gets ``line``."""
    path = make_release(tmp / "rel", {"a": []})
    spec = tmp / "rel" / "specs" / "a.spec.j2"
    data = spec.read_bytes().replace(b"%description\n",
                                     b"%description\n" + (line.encode() if isinstance(line, str) else line) + b"\n", 1)
    spec.write_bytes(data)
    return manifest.load(path), spec


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "symlinked dir"])
def test_spec_template_cannot_include_a_host_file(tmp_path: Path, how: str) -> None:
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET-HOST-DATA\n")
    if how == "absolute":
        line = f"{{% include '{secret}' %}}"
    elif how == "dotdot":
        line = "{% include '../../secret' %}"
    elif how == "symlink":
        line = "{% include 'inc.j2' %}"
    else:
        line = "{% include 'sub/secret' %}"
    rel, spec = _release_with_spec_line(tmp_path, line)
    if how == "symlink":
        (spec.parent / "inc.j2").symlink_to(secret)
    elif how == "symlinked dir":
        (spec.parent / "sub").symlink_to(tmp_path)
    comp = rel.component("a")
    with pytest.raises(SpecError, match=r"outside the release's spec directory .* fix: keep spec templates"):
        render_component(rel, rel.dists["el7"], comp)


def test_spec_template_includes_its_siblings(tmp_path: Path) -> None:
    rel, spec = _release_with_spec_line(tmp_path, "{% include 'parts/desc.j2' %}")
    (spec.parent / "parts").mkdir()
    (spec.parent / "parts" / "desc.j2").write_text("{% include '../common.j2' %} and a sibling part\n")
    (spec.parent / "common.j2").write_text("common text")
    text = render_component(rel, rel.dists["el7"], rel.component("a"))
    assert "common text and a sibling part" in text


def test_spec_template_with_a_non_utf8_byte_is_one_line(tmp_path: Path) -> None:
    rel, _spec = _release_with_spec_line(tmp_path, b"caf\xe9")
    with pytest.raises(SpecError, match=r"a\.spec\.j2: byte \d+ is not UTF-8 — fix: save the template as UTF-8"):
        render_component(rel, rel.dists["el7"], rel.component("a"))


# -- 5. macro values run nothing ------------------------------------------------------

BAD_MACROS = [
    ("x", "%(touch /tmp/pmrepo-pwned)", "rpm would run or expand it"),
    ("x", "%{lua: os.execute('touch /tmp/pmrepo-pwned')}", "rpm would run or expand it"),
    ("x", "%[1 + 1]", "rpm would run or expand it"),
    ("x", "%{expand:%%%{?nothing}(touch /tmp/pmrepo-pwned)}", "rpm would run or expand it"),
    ("x", "%%(id)", "rpm would run or expand it"),
    ("x", "{{ os.system('touch /tmp/pmrepo-pwned') }}", "mock's config expands as a jinja template"),
    ("x", "{% for a in b %}{% endfor %}", "mock's config expands as a jinja template"),
    ("dist", ".el7.evil", "a macro pmrepo defines itself"),
    ("rhel", "8", "a macro pmrepo defines itself"),
    ("el7", "0", "a macro pmrepo defines itself"),
    ("_binary_payload", "w0.ufdio", "a macro pmrepo defines itself"),
    ("_topdir", "/tmp/elsewhere", "a macro pmrepo defines itself"),
    ("__rm", "touch /tmp/pmrepo-pwned;", "a command or helper rpm runs"),
    ("x", "", "is empty"),
    ("x", "   ", "is empty"),
]


@pytest.mark.parametrize("key,value,why", BAD_MACROS, ids=[f"{k}={v}" for k, v, _ in BAD_MACROS])
def test_macro_values_that_run_code_or_redefine_the_tools_macros_are_refused(tmp_path: Path, key: str, value: str,
                                                                             why: str) -> None:
    path = make_release(tmp_path, {"a": []})
    text = path.read_text().replace("rhel = 7\n", f"rhel = 7\nmacros = {{ {key} = {json.dumps(value)} }}\n", 1)
    path.write_text(text)
    with pytest.raises(ManifestError) as info:
        manifest.load(path)
    line = str(info.value)
    assert f"dists.el7.macros.{key}:" in line and why in line and "— fix:" in line and "\n" not in line


def test_plain_macro_values_and_references_load(tmp_path: Path) -> None:
    path = make_release(tmp_path, {"a": []}, macros={"_unitdir": "/usr/lib/systemd/system",
                                                     "my_dir": "%{_prefix}/lib/%{?name}/%_libdir"})
    rel = manifest.load(path)
    assert rel.dists["el7"].rpm_defines()["my_dir"] == "%{_prefix}/lib/%{?name}/%_libdir"




def test_base_repo_url_with_jinja_is_refused(tmp_path: Path) -> None:
    path = make_release(tmp_path, {"a": []})
    path.write_text(path.read_text().replace("rhel = 7\n", 'rhel = 7\nbase_repos = { base = "http://x/{{7*7}}/" }\n',
                                             1))
    with pytest.raises(ManifestError, match=r"dists\.el7\.base_repos\.base: contains '\{\{'"):
        manifest.load(path)


# -- 10. a trailing newline is not a valid value ($ vs \Z) ------------------------------


def test_trailing_newline_fails_every_validating_pattern() -> None:
    from pmrepo.builders import rpmbuild
    from pmrepo.builders.mock import config as mock_config

    for pattern, good in [(mock_config.BASEURL_RE, "http://mirror/centos/7/os/x86_64/"),
                          (mock_config.REPOID_RE, "base"),
                          (manifest.IMAGE_RE, "centos:7"), (rpmbuild._OVERLAY_SAFE, "/opt/x"),
                          (publish_targets.RELEASE_ID_RE, "demo-repo-1.0-1"),
                          (publish_targets.staging_re("demo-1"), ".staging-demo-1-0123456789ab"),
                          (publish_targets.old_re("demo-1"), ".old-demo-1-0123456789ab")]:
        assert pattern.match(good), pattern.pattern
        assert not pattern.match(good + "\n"), f"{pattern.pattern} accepts a trailing newline"
    # one pattern per name: the image reference is the manifest's, the mock baseurl says what it is
    assert not hasattr(mock_config, "IMAGE_RE") and not hasattr(mock_config, "URL_RE")
    with pytest.raises(PmrepoError, match="not a usable baseurl"):
        mock_config.set_url({}, "base", "http://mirror/x/\n", "environment PMREPO_MIRROR_EL7_BASE")
    with pytest.raises(PmrepoError, match="invalid repository id"):
        mock_config.check_repoid("base\n", "manifest")


# -- 4. file:// sources are confined like path = --------------------------------------


def _with_source(tmp: Path, source: str) -> Path:
    path = make_release(tmp / "rel", {"a": []})
    path.write_text(path.read_text().replace('sources = [{ path = "src/a" }]', f"sources = [{source}]", 1))
    return path


@pytest.mark.parametrize("where", ["/etc/shadow", "outside", "symlink out", "remote host"])
def test_file_url_outside_the_release_tree_is_refused(tmp_path: Path, where: str) -> None:
    secret = tmp_path / "secret.tar.gz"
    secret.write_bytes(b"TOP-SECRET")
    url = {"/etc/shadow": "file:///etc/shadow", "outside": f"file://{secret}",
           "symlink out": f"file://{tmp_path}/rel/src/link.tar.gz", "remote host": "file://otherhost/x.tar.gz"}[where]
    path = _with_source(tmp_path, f'{{ url = "{url}", sha256 = "{"0" * 64}" }}')
    if where == "symlink out":
        (tmp_path / "rel" / "src" / "link.tar.gz").symlink_to(secret)
    with pytest.raises(ManifestError) as info:
        manifest.load(path)
    assert "release.toml: components.a.sources[0].url: " in str(info.value) and "— fix:" in str(info.value)




# -- 2. a build tree nobody else can touch ---------------------------------------------








# -- 8. names, tags, follows and dates the tool cannot ship ----------------------------

COLLISIONS = [
    ("component named <repo>-src", [('name = "a"', 'name = "synth-repo-src"'),
                                   ('packages = ["a", "a-devel"]', 'packages = ["synth-repo-src"]')],
     r"components\.synth-repo-src\.name: synth-repo-src is a package the tool builds itself"),
    ("package named <repo>-debuginfo", [('packages = ["a", "a-devel"]', 'packages = ["a", "synth-repo-debuginfo"]')],
     r"components\.a\.packages: synth-repo-debuginfo is a package the tool builds itself"),
    ("metapackage named like a repo package", [('metapackage = "synth-all"', 'metapackage = "synth-repo-src"')],
     r"release\.metapackage: synth-repo-src is also the name of a repository package"),
    ("duplicate dist tag", [("[dists.el6]\nrhel = 6\n", '[dists.el6]\nrhel = 6\ntag = ".el7"\n')],
     r"dists\.el\d\.tag: \.el7 is also the tag of dists\.el\d"),
    ("date before 1970", [("date = 2026-01-01", "date = 1969-12-31")],
     r"release\.date: 1969-12-31 is outside what rpm and createrepo_c store"),
    ("date after 2038", [("date = 2026-01-01", "date = 9999-12-31")],
     r"release\.date: 9999-12-31 is outside what rpm and createrepo_c store"),
    ("follows itself", [("date = 2026-01-01", 'date = 2026-01-01\nfollows = "release.toml"')],
     r"release\.follows: the follows chain has a cycle \(release\.toml → release\.toml\)"),
]


@pytest.mark.parametrize("edits,expected", [c[1:] for c in COLLISIONS], ids=[c[0] for c in COLLISIONS])
def test_names_tags_dates_and_follows_the_tool_cannot_ship_are_refused(tmp_path: Path, edits: list[tuple[str, str]],
                                                                       expected: str) -> None:
    path = make_release(tmp_path, {"a": []}, dists=("el6", "el7"))
    text = path.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text)
    with pytest.raises(ManifestError, match=expected) as info:
        manifest.load(path)
    assert "— fix:" in str(info.value) and "\n" not in str(info.value)


def test_a_follows_cycle_through_two_manifests_is_refused(tmp_path: Path) -> None:
    path = make_release(tmp_path, {"a": []})
    text = path.read_text()
    path.write_text(text.replace("date = 2026-01-01", 'date = 2026-01-01\nfollows = "older.toml"', 1))
    (tmp_path / "older.toml").write_text(text.replace("date = 2026-01-01",
                                                      'date = 2025-01-01\nfollows = "release.toml"', 1))
    with pytest.raises(ManifestError, match=r"cycle \(release\.toml → older\.toml → release\.toml\)"):
        manifest.load(path)


def test_the_follows_chain_is_not_read_outside_the_release_tree(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An older manifest whose own follows points out of the tree (a FIFO would hang a read, a huge
    file would be read whole) is not read while loading the current one."""
    tree = tmp_path / "tree"
    path = make_release(tree, {"a": []})
    text = path.read_text()
    path.write_text(text.replace("date = 2026-01-01", 'date = 2026-01-01\nfollows = "older.toml"', 1))
    (tree / "older.toml").write_text(text.replace("date = 2026-01-01", 'date = 2025-01-01\nfollows = "../outside.toml"',
                                                  1))
    outside = tmp_path / "outside.toml"
    outside.write_text('[release]\nfollows = "tree/release.toml"\n')  # would close a cycle if it were read
    read: list[Path] = []
    real = Path.read_text

    def recording(self: Path, *a: Any, **kw: Any) -> str:
        read.append(self.resolve())
        return real(self, *a, **kw)

    monkeypatch.setattr(Path, "read_text", recording)
    assert manifest.load(path).follows_path() == (tree / "older.toml").resolve()
    assert outside.resolve() not in read


# -- 9. one line, no traceback ----------------------------------------------------------


def test_a_symlink_loop_in_a_source_tree_is_one_line(tmp_path: Path) -> None:
    path = make_release(tmp_path, {"a": []})
    (tmp_path / "src" / "a" / "loop").symlink_to("loop")
    with pytest.raises(ManifestError, match=r"components\.a\.sources\[0\]\.path \(loop\): .* cannot be resolved .* "
                                            r"fix: remove the symlink loop"):
        manifest.load(path)


def test_a_manifest_with_a_byte_order_mark_is_named_as_such(tmp_path: Path) -> None:
    path = make_release(tmp_path, {"a": []})
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with pytest.raises(ManifestError, match=r"release\.toml: \(file\): starts with a UTF-8 byte-order mark"):
        manifest.load(path)


# -- 10. packed trees hold no escaping symlink and no FIFO ------------------------------






# -- 10. the Markdown notes carry no raw HTML and no script link -------------------------


def test_release_notes_markdown_carries_no_script_from_the_manifest() -> None:
    import dataclasses

    from conftest import DEMO

    from pmrepo.notes.collect import collect
    from pmrepo.notes.render import render_texts

    rel = manifest.load(DEMO)
    hostile = "<script>alert(1)</script> see [the fix](javascript:alert(2)) or <JavaScript:alert(3)>"
    comps = tuple(dataclasses.replace(c, changes=hostile) if c.name == "demod" else c for c in rel.components)
    pages = render_texts(collect(dataclasses.replace(rel, components=comps), repo_dir=None))
    for lang in ("en", "ja"):
        md = pages[f"RELEASE-NOTES.{lang}.md"]
        assert "<script>" not in md and not re.search(r"(?i)javascript:", md), lang
        assert "&lt;script>alert(1)&lt;/script>" in md
        html = pages[f"RELEASE-NOTES.{lang}.html"]
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert not re.search(r'href="javascript', html, re.IGNORECASE)




