"""Generate synthetic releases: C libraries in a chosen BuildRequires DAG.

Used by the scheduler tests and by bench/. Each component ``N`` is a shared
library ``libN`` (packages ``N`` and ``N-devel``) whose code calls every
dependency's function and links against it, so the build order is real: a
component cannot compile before its dependencies' -devel packages exist.
``work`` adds generated C code to make the compile take real CPU time;
``sleep``/``fail`` put a pause or a failure into %build.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

needs_rpmbuild = pytest.mark.skipif(shutil.which("rpmbuild") is None,
                                    reason="rpmbuild is not installed here (`make setup` installs rpm)")

SPEC = """\
Name:           {{{{ name }}}}
Version:        {{{{ version }}}}
Release:        {{{{ release }}}}%{{?dist}}
Summary:        Synthetic component {name}
License:        MIT
URL:            https://example.invalid/{name}
Source0:        {{{{ sources[0] }}}}
BuildRequires:  gcc
BuildRequires:  make
{brs}
%global __requires_exclude ^((libc|libdl|ld-linux[^ ]*)\\\\.so.*|rtld\\\\(GNU_HASH\\\\))$

%description
Synthetic component {name} for pmrepo's tests and benchmark.

%package devel
Summary:        Headers of {name}
Requires:       %{{name}} = %{{version}}-%{{release}}

%description devel
Headers and link library of {name}.

%prep
%setup -q

%build
{pre_build}make %{{?_smp_mflags}} CFLAGS="-O2 -g"

%install
make install DESTDIR=%{{buildroot}} LIBDIR=%{{_libdir}} INCLUDEDIR=%{{_includedir}}

%files
%attr(0755,root,root) %{{_libdir}}/lib{cname}.so.1

%files devel
%{{_libdir}}/lib{cname}.so
%{{_includedir}}/{cname}.h

%changelog
* {{{{ changelog_date }}}} synthetic <synthetic@example.invalid> - {{{{ version }}}}-{{{{ release }}}}
- {{{{ changes }}}}
"""

MAKEFILE = """\
CFLAGS ?= -O2 -g
LIBDIR ?= /usr/lib64
INCLUDEDIR ?= /usr/include
SRCS := $(wildcard *.c)
OBJS := $(SRCS:.c=.o)

all: lib{cname}.so.1

%.o: %.c
\t$(CC) $(CFLAGS) -fPIC -c -o $@ $<

lib{cname}.so.1: $(OBJS)
\t$(CC) -shared -Wl,-soname,lib{cname}.so.1 -o $@ $(OBJS) {libs}

install: all
\tinstall -D -m 0755 lib{cname}.so.1 $(DESTDIR)$(LIBDIR)/lib{cname}.so.1
\tln -sf lib{cname}.so.1 $(DESTDIR)$(LIBDIR)/lib{cname}.so
\tinstall -D -m 0644 {cname}.h $(DESTDIR)$(INCLUDEDIR)/{cname}.h
"""


def cname(name: str) -> str:
    return name.replace("-", "_")


def work_file(name: str, index: int, size: int) -> str:
    """C code that takes gcc -O2 real time: many small unrollable functions."""
    fns = []
    for k in range(size):
        fns.append(f"""
unsigned long {cname(name)}_w{index}_{k}(unsigned long x)
{{
    unsigned long acc = x ^ {k}UL;
    for (int i = 0; i < 64; i++) {{
        acc = acc * 6364136223846793005UL + 1442695040888963407UL;
        acc ^= (acc >> {1 + k % 31}) + (unsigned long)i * {k + 3}UL;
        if (acc & 1) acc += {k}UL * x; else acc -= x >> 3;
    }}
    return acc;
}}""")
    return "\n".join(fns) + "\n"


def make_release(dest: Path, dag: Mapping[str, list[str]], *, work: Mapping[str, int] | int = 0,
                 sleep: Mapping[str, float | str] | None = None, fail: frozenset[str] = frozenset(),
                 dists: tuple[str, ...] = ("el7",), version: str = "1.0",
                 extra_br: Mapping[str, list[str]] | None = None,
                 macros: Mapping[str, str] | None = None, requires: Mapping[str, list[str]] | None = None) -> Path:
    """Write a release manifest, specs and sources under ``dest``; return the manifest path."""
    sleep = sleep or {}
    extra_br = extra_br or {}
    (dest / "specs").mkdir(parents=True, exist_ok=True)
    comps = []
    for name, deps in dag.items():
        src = dest / "src" / name
        src.mkdir(parents=True, exist_ok=True)
        c = cname(name)
        includes = "".join(f"#include <{cname(d)}.h>\n" for d in deps)
        calls = " + ".join([f"{cname(d)}_value()" for d in deps] or ["0"])
        (src / f"{c}.h").write_text(f"unsigned long {c}_value(void);\n")
        (src / f"{c}.c").write_text(f"{includes}#include <stdlib.h>\n#include \"{c}.h\"\n"
                                    f"unsigned long {c}_value(void) "
                                    f"{{ return (getenv(\"{c.upper()}_OFF\") ? 0 : 1) + {calls}; }}\n")
        n = work if isinstance(work, int) else work.get(name, 0)
        for i in range(n):
            (src / f"work{i}.c").write_text(work_file(name, i, 120))
        libs = " ".join(f"-l{cname(d)}" for d in deps)
        (src / "Makefile").write_text(MAKEFILE.format(cname=c, libs=libs))
        brs = "\n".join(f"BuildRequires:  {d}-devel" for d in deps)
        brs += "".join(f"\nBuildRequires:  {x}" for x in extra_br.get(name, []))
        brs += "".join(f"\nRequires:       {x}" for x in (requires or {}).get(name, []))
        pre = ""
        if name in sleep:
            pre += f"sleep {sleep[name]}\n"
        if name in fail:
            pre += "echo 'synthetic failure requested' >&2; exit 1\n"
        (dest / "specs" / f"{name}.spec.j2").write_text(SPEC.format(name=name, cname=c, brs=brs, pre_build=pre))
        comps.append(f"""
[[components]]
name = "{name}"
version = "{version}"
release = "1"
sources = [{{ path = "src/{name}" }}]
packages = ["{name}", "{name}-devel"]
require = "="
""")
    macro_line = ""
    if macros:
        macro_line = "macros = { " + ", ".join(f'{k} = "{v}"' for k, v in macros.items()) + " }\n"
    dist_tables = "".join(f'\n[dists.{d}]\nrhel = {d[2:]}\n{macro_line}' for d in dists)
    manifest = f"""
[release]
name = "synth-repo"
version = "1.0"
release = "1"
date = 2026-01-01
prefix = "/opt/pmrepo-synth/synth"
repo_id = "pmrepo-synth"
repo_file = "pmrepo-synth.repo"
metapackage = "synth-all"
group_id = "synth-all"
spec_dir = "specs"
rpmlint_filters = {{ "library-without-ldconfig-post(in|un) " = "synthetic releases install into bare roots without glibc: no ldconfig scriptlets" }}
{dist_tables}{''.join(comps)}"""  # noqa: E501 (a TOML inline table is one line)
    path = dest / "release.toml"
    path.write_text(manifest)
    return path


def small_manifest(name: str, components: Sequence[Mapping[str, Any]]) -> str:
    """A one-dist (el7) release manifest named ``name`` with its specs in ``specs/``;
    each component: name, version, packages and optionally a source ``path``."""
    out = [f"[release]\nname = {json.dumps(name)}\nversion = \"1\"\nrelease = \"1\"\ndate = 2026-01-01\n"
           "spec_dir = \"specs\"\n[dists.el7]\nrhel = 7\n"]
    for comp in components:
        lines = [f"name = {json.dumps(comp['name'])}", f"version = {json.dumps(comp['version'])}", 'release = "1"']
        if "path" in comp:
            lines.append(f"sources = [{{ path = {json.dumps(comp['path'])} }}]")
        lines += [f"packages = {json.dumps(list(comp['packages']))}", 'require = "="']
        out.append("[[components]]\n" + "\n".join(lines) + "\n")
    return "".join(out)
