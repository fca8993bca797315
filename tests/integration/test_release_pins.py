"""The real manifests' pins: pssh 2.3.1 carries the sha256 of PyPI's sdist (checked by
downloading it with pip, see the manifest's header), every other source is still unpinned, and
`make preflight` on the real release stops at once with the line saying how to pin — what the
release workflow runs first on a tag or a manual run."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import pytest
from conftest import ROOT

from pmrepo import manifest, sources

PSSH_SHA256 = "539f8d8363b722712310f3296f189d1ae8c690898eca93627fc89a9cb311f6b4"
PSSH_SIZE = 23427  # bytes of pssh-2.3.1.tar.gz as PyPI serves it
REAL = ["releases/1.1.14-1.1.toml", "releases/1.1.13-1.1.toml"]


@pytest.mark.parametrize("path", REAL)
def test_pssh_is_pinned_to_the_pypi_sdist(path: str) -> None:
    rel = manifest.load(ROOT / path)
    (pssh,) = [c for c in rel.components if c.name == "pssh"]
    (src,) = pssh.sources
    assert src.url is not None and src.sha256 == PSSH_SHA256 and src.size == PSSH_SIZE
    # the file `pip download --no-deps --no-binary :all: pssh==2.3.1` saves has the URL's name
    assert PurePosixPath(urlsplit(src.url).path).name == src.filename == "pssh-2.3.1.tar.gz"
    assert urlsplit(src.url).netloc == "files.pythonhosted.org"
    unpinned = [c.name for c, _ in sources.unpinned(rel)]
    assert "pssh" not in unpinned and len(unpinned) == len(rel.components) - 1


def test_make_preflight_on_the_real_release_stops_at_once_with_the_pin_line() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PMREPO_GPG_KEY", "PUBLISH_TARGET", "GNUPGHOME", "MAKEFLAGS", "MAKELEVEL")}
    t0 = time.monotonic()
    res = subprocess.run(["make", "-s", "--no-print-directory", "preflight", "RELEASE=releases/1.1.14-1.1.toml"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.monotonic() - t0
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("build.py: error:")]
    pin = [ln for ln in lines if "without sha256" in ln]
    assert len(pin) == 1, res.stderr
    assert re.search(r"releases/1\.1\.14-1\.1\.toml: components\.\S+\.sources: 13 source\(s\) without sha256 "
                     r"\(first: https://\S+\) — fix: run `\./build\.py pin --release \S+1\.1\.14-1\.1\.toml`", pin[0])
    assert "Traceback" not in res.stderr + res.stdout
    # "in seconds": nothing is fetched, rendered for long or built before the refusal (measured: well under 1 s)
    assert elapsed < 5, f"make preflight took {elapsed:.1f}s"
