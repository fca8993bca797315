"""Replay a recorded install tree through a component spec's packaging.

The recorded trees (``../shared/reference/install-trees/<dist>/<component>.tsv``,
one line per packaged entry: package, mode, rpm file flags, path, symlink
target) say what upstream's ``make install`` put where when the component
was built for real. To test a spec's ``%files`` against them offline:

1. render the spec template with the project's code (``specs.render_component``);
2. keep its preamble, subpackages, scriptlets and ``%files``; replace
   ``%prep``/``%build``/``%install``/``%check`` with a step that copies the
   recorded tree (files, directories, symlinks, modes) into the buildroot,
   and puts the files a relative ``%doc`` names into the build directory,
   where rpm copies them from;
3. ``rpmbuild -bb --nodeps`` with the project's macros
   (``rpm_macro_defines`` and ``pmrepo.macros``), without the debuginfo
   package and without the post-install processing (``brp-*``: the recorded
   tree is already its result);
4. compare each built package's file list — path, mode, flags (config,
   noreplace, doc), symlink target — with the recorded one.

rpm itself refuses a ``%files`` entry that is not in the tree (``File not
found``) and a file of the tree no ``%files`` lists (``Installed (but
unpackaged) file(s) found``).
"""
from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pmrepo.builders.base import MACROS_FILE, rpm_macro_defines
from pmrepo.manifest import Component, Dist, Release
from pmrepo.render import specs
from pmrepo.run import run

DOCDIR = "/usr/share/doc"


@dataclass(frozen=True, order=True)
class Entry:
    package: str
    path: str
    mode: str  # ls-style, e.g. -rw-r--r--
    flags: str  # rpm's fflags letters: c config, n noreplace, d doc ('' = plain)
    target: str  # symlink target ('' otherwise)

    def key(self) -> tuple[str, str, str, str]:
        return (self.path, self.mode, self.flags, self.target)


def read_tsv(path: Path) -> list[Entry]:
    out: list[Entry] = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 5:
            raise ValueError(f"{path}:{n}: expected 5 tab-separated fields, got {len(parts)}")
        pkg, mode, flags, fpath, target = parts
        out.append(Entry(pkg, fpath, mode, "" if flags == "a" else flags, target))
    return out


def mode_bits(mode: str) -> int:
    """'-rwxr-xr-x' / 'drwxr-xr-t' -> permission bits (with setuid/setgid/sticky)."""
    if len(mode) != 10:
        raise ValueError(f"not an ls-style mode: {mode!r}")
    bits = 0
    table = [(1, stat.S_IRUSR), (2, stat.S_IWUSR), (4, stat.S_IRGRP), (5, stat.S_IWGRP), (7, stat.S_IROTH),
             (8, stat.S_IWOTH)]
    for i, b in table:
        if mode[i] != "-":
            bits |= b
    for i, x, special in ((3, stat.S_IXUSR, stat.S_ISUID), (6, stat.S_IXGRP, stat.S_ISGID),
                          (9, stat.S_IXOTH, stat.S_ISVTX)):
        c = mode[i]
        if c in "xst":
            bits |= x
        if c in "sStT":
            bits |= special
    return bits


SECTION_RE = re.compile(
    r"^%(package|description|prep|build|install|check|clean|files|changelog|pre|post|preun|postun|pretrans|"
    r"posttrans|triggerprein|triggerin|triggerun|triggerpostun|filetriggerin|filetriggerun|filetriggerpostun|"
    r"transfiletriggerin|transfiletriggerun|transfiletriggerpostun|verifyscript|sepolicy|generate_buildrequires|conf)"
    r"(\s|$)")
REPLACED = {"prep", "build", "install", "check"}
DIRECTIVE_RE = re.compile(r"^\s*%(if|ifarch|ifnarch|ifos|ifnos|elif|elifarch|elifos|else|endif"
                          r"|global|define|undefine)\b")

REPLAY = """\
%prep
%setup -q -c -T -n pmrepo-recorded-tree
cp -a %{pmrepo_docsrc}/. .

%build

%install
cp -a %{pmrepo_tree}/. %{buildroot}/

"""


def replay_spec(text: str) -> str:
    """``text`` (a rendered spec) with its %prep/%build/%install/%check bodies
    removed and the replay step in their place. Conditionals and macro
    definitions inside the removed sections stay, so %if/%endif keep their
    balance and macros defined there keep their values."""
    out: list[str] = []
    section = ""
    continued = False
    inserted = False
    for line in text.splitlines():
        m = SECTION_RE.match(line)
        if m and not continued:
            section = m.group(1)
            if section == "changelog" and not inserted:
                out.append(REPLAY)
                inserted = True
            if section in REPLACED:
                continue
        if section in REPLACED:
            keep = continued or bool(DIRECTIVE_RE.match(line))
            continued = keep and line.rstrip().endswith("\\")
            if keep:
                out.append(line)
            continue
        continued = False
        out.append(line)
    if not inserted:
        out.append(REPLAY)
    return "\n".join(out) + "\n"


FILES_RE = re.compile(r"^%files(\s|$)")


def relative_docs(parsed: str, main: str) -> dict[str, list[str]]:
    """Package -> the relative %doc arguments of its %files section, from
    ``rpmspec --parse`` output (macros and conditionals already resolved)."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in parsed.splitlines():
        if SECTION_RE.match(line):
            current = None
            if FILES_RE.match(line):
                words = line.split()[1:]
                name, sub, i = None, None, 0
                while i < len(words):
                    if words[i] in ("-n", "-f"):
                        if words[i] == "-n":
                            name = words[i + 1]
                        i += 2
                        continue
                    if not words[i].startswith("-") and sub is None:
                        sub = words[i]
                    i += 1
                current = name or (f"{main}-{sub}" if sub else main)
                out.setdefault(current, [])
            continue
        if current is None:
            continue
        stripped = re.sub(r"%(attr|defattr|verify|lang|caps)\([^)]*\)", " ", line).split()
        if stripped[:1] != ["%doc"]:
            continue
        for tok in stripped[1:]:
            if not tok.startswith("/") and not tok.startswith("%"):
                out[current].append(tok)
    return out


def _make(base: Path, rel: str, e: Entry) -> None:
    dest = base / rel.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if e.mode.startswith("d"):
        dest.mkdir(exist_ok=True)
    elif e.mode.startswith("l"):
        os.symlink(e.target, dest)
    else:
        dest.write_bytes(b"")
    if not e.mode.startswith("l"):
        os.chmod(dest, mode_bits(e.mode))


def stage(entries: list[Entry], docs: dict[str, list[str]], version: str, tree: Path, docsrc: Path) -> None:
    """Recreate the recorded entries under ``tree`` (the buildroot's content);
    entries in a package's versioned doc directory that one of its relative
    %doc arguments names go to ``docsrc`` (the build directory) instead,
    where the %doc step copies them from. Directories last, so restrictive
    modes do not stop their own content from being created."""
    tree.mkdir(parents=True, exist_ok=True)
    docsrc.mkdir(parents=True, exist_ok=True)
    dirs: list[tuple[Path, str, Entry]] = []
    for e in sorted(entries, key=lambda e: e.path):
        base, rel = tree, e.path
        docdir = f"{DOCDIR}/{e.package}-{version}/"
        if e.path.startswith(docdir):
            inner = e.path[len(docdir):]
            first = inner.split("/")[0]
            for tok in docs.get(e.package, []):
                p = PurePosixPath(tok)
                if fnmatch.fnmatchcase(first, p.name):
                    base, rel = docsrc, str(p.parent / inner)
                    break
        elif e.path == docdir.rstrip("/") and docs.get(e.package):
            continue  # rpm creates the package's doc directory for a relative %doc
        if e.mode.startswith("d"):
            (base / rel.lstrip("/")).mkdir(parents=True, exist_ok=True)
            dirs.append((base, rel, e))
        else:
            _make(base, rel, e)
    for base, rel, e in sorted(dirs, key=lambda d: -len(d[1])):
        os.chmod(base / rel.lstrip("/"), mode_bits(e.mode))


@dataclass
class Replay:
    ok: bool
    output: str  # rpmbuild's output
    built: dict[str, set[tuple[str, str, str, str]]]  # package -> entries of the built RPM
    recorded: dict[str, set[tuple[str, str, str, str]]]

    def problems(self) -> list[str]:
        out: list[str] = []
        unpackaged = False
        for line in self.output.splitlines():
            if unpackaged and line.startswith((" ", "\t")) and line.strip().startswith("/"):
                out.append(f"unpackaged: {line.strip()}")
                continue
            unpackaged = False
            if "Installed (but unpackaged) file(s) found" in line:
                unpackaged = True
                continue
            if re.search(r"File not found|Directory not found|error:", line):
                line = re.sub(r"^\s*error:\s*", "", line)
                out.append(re.sub(r"\S*/BUILDROOT/[^/\s]+", "", line).strip())
        out = list(dict.fromkeys(out))
        if not self.ok:
            return out or ["rpmbuild failed: " + "\n".join(self.output.splitlines()[-15:])]
        for pkg in sorted(set(self.built) | set(self.recorded)):
            if pkg not in self.built:
                out.append(f"{pkg}: recorded, but the spec builds no such package")
                continue
            if pkg not in self.recorded:
                if not self.built[pkg]:
                    continue  # a package without files (a metapackage) has no lines in a recorded tree
                out.append(f"{pkg}: built, but not in the recorded tree")
                continue
            for k in sorted(self.recorded[pkg] - self.built[pkg]):
                out.append(f"{pkg}: recorded {k}, package has {_same_path(self.built[pkg], k[0])}")
            for k in sorted(self.built[pkg] - self.recorded[pkg]):
                if not any(r[0] == k[0] for r in self.recorded[pkg]):
                    out.append(f"{pkg}: packages {k} which the recorded tree does not have")
        return out


def _same_path(entries: set[tuple[str, str, str, str]], path: str) -> str:
    found = [e for e in entries if e[0] == path]
    return str(found[0]) if found else "no such entry"


QF = "[%{FILEMODES:perms}\\t%{FILEFLAGS:fflags}\\t%{FILENAMES}\\t%{FILELINKTOS}\\n]"


def rpm_entries(rpm: Path) -> set[tuple[str, str, str, str]]:
    res = run(["rpm", "-qp", "--nosignature", "--qf", QF, str(rpm)])
    out: set[tuple[str, str, str, str]] = set()
    for line in res.output.splitlines():
        parts = line.split("\t")
        if len(parts) != 4:
            continue
        mode, flags, path, target = parts
        if "/.build-id" in path:
            continue
        out.add((path, mode, flags, target))
    return out


def replay(release: Release, dist: Dist, comp: Component, tsv: Path, work: Path) -> Replay:
    """Render ``comp`` for ``dist``, replay ``tsv`` through its packaging, compare."""
    entries = read_tsv(tsv)
    recorded: dict[str, set[tuple[str, str, str, str]]] = {}
    for e in entries:
        recorded.setdefault(e.package, set()).add(e.key())
    spec = work / f"{comp.name}.spec"
    spec.write_text(replay_spec(specs.render_component(release, dist, comp)))
    top = work / "top"
    defines = rpm_macro_defines(dist, release.epoch)
    defines.update({
        "_topdir": str(top),
        "pmrepo_tree": str(work / "tree"),
        "pmrepo_docsrc": str(work / "docsrc"),
        "debug_package": "%{nil}",
        "__spec_install_post": "%{nil}",
        "_build_id_links": "none",
    })
    parsed = run(["rpmspec", "--parse", *specs.define_args(defines), str(spec)], check=False)
    if parsed.returncode != 0:
        return Replay(False, parsed.output, {}, recorded)
    stage(entries, relative_docs(parsed.output, comp.name), comp.version, work / "tree", work / "docsrc")
    res = run(["rpmbuild", "-bb", "--nodeps", "--load", str(MACROS_FILE), *specs.define_args(defines), str(spec)],
              check=False, env={"SOURCE_DATE_EPOCH": str(release.epoch)}, log_file=work / "build.log")
    built: dict[str, set[tuple[str, str, str, str]]] = {}
    if res.returncode == 0:
        for rpm in sorted((top / "RPMS").rglob("*.rpm")):
            name = run(["rpm", "-qp", "--nosignature", "--qf", "%{NAME}", str(rpm)]).output.strip()
            if name.endswith("-debuginfo"):
                continue
            built[name] = rpm_entries(rpm)
    return Replay(res.returncode == 0, res.output, built, recorded)
