"""Where pmrepo's own files are, and where its work goes when no directory is given.

The tool's files are package data (templates, macros, gate configs, the image
files, the demo release), found beside the modules in a checkout and in an
installed package alike.

Default work and output directories: in a source checkout (``build.py`` and
``pyproject.toml`` beside the package) the checkout's ``work/`` and ``repo/``,
as the Makefile and the README use them; anywhere else (an installed
package) ``work/`` and ``repo/`` in the current directory.

Standard library only: ``setup`` imports it before the dependencies exist.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
DEMO_RELEASE = PACKAGE / "demo" / "release.toml"
#: the unprivileged user a root pmrepo builds as (``make setup`` creates it; sandbox.py)
BUILD_USER = "pmrepo-build"


def checkout() -> Path | None:
    """The source checkout this package runs from, or None when installed."""
    root = PACKAGE.parent
    if (root / "build.py").is_file() and (root / "pyproject.toml").is_file():
        return root
    return None


def base_dir() -> Path:
    """The directory default ``work/`` and ``repo/`` live in."""
    return checkout() or Path.cwd()


def workdir() -> Path:
    return base_dir() / "work"


def outdir() -> Path:
    return base_dir() / "repo"
