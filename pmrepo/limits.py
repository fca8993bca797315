"""The bounds on what the tool reads from outside: server answers and the release's templates.

One place for the numbers, and for reading the few that the environment may change
(``PMREPO_FETCH_MAX_BYTES``, ``PMREPO_FETCH_DEADLINE``); everything else is a constant
here, named by what it bounds."""

from __future__ import annotations

import os

from .errors import UsageError

# downloads (sources.Fetcher) and every answer of a publish target's server
FETCH_MAX_BYTES_ENV, FETCH_MAX_BYTES = "PMREPO_FETCH_MAX_BYTES", 2 << 30
FETCH_DEADLINE_ENV, FETCH_DEADLINE = "PMREPO_FETCH_DEADLINE", 1800.0  # seconds per file (or per server answer)
LISTING_MAX_BYTES = 16 << 20  # a WebDAV PROPFIND answer (Depth: 1 of the mirror root: ~200 bytes per entry)
ANSWER_MAX_BYTES = 64 << 10  # any other answer publish reads (MKCOL, PUT, MOVE, DELETE, HEAD, errors)


def env_number(name: str, default: float) -> float:
    """The number in environment variable ``name`` (``default`` when unset or empty)."""
    value = os.environ.get(name, "")
    try:
        number = float(value) if value else default
    except ValueError:
        number = -1.0
    if not number > 0:
        raise UsageError(f"environment {name}={value!r} is not a positive number — fix: unset it or give a number")
    return number


def fetch_deadline() -> float:
    return env_number(FETCH_DEADLINE_ENV, FETCH_DEADLINE)


def fetch_max_bytes() -> int:
    return int(env_number(FETCH_MAX_BYTES_ENV, FETCH_MAX_BYTES))


# repository metadata verify reads from a mirror or a package's payload: repomd.xml, and primary.xml
# as decompressed (a real one: about 2 KiB per package, 64 MiB is some 30,000 packages; a gzip bomb
# inflates a thousandfold)
REPOMD_MAX_BYTES = 1 << 20
METADATA_MAX_BYTES = 64 << 20
# release documents verify reads: an SBOM or provenance (the real release's: well under 1 MiB), and
# the elements (packages, files, snippets) and relationships an SBOM may have before spdx-tools
# validates it: its time grows faster than the size (measured on the loaded VM: 2000 packages with
# 8000 relationships 16 s, with 2000 of them 3 s; the demo's has some 30 packages)
ATTESTATION_MAX_BYTES = 64 << 20
SBOM_MAX_ELEMENTS = 2000
SBOM_MAX_RELATIONSHIPS = 8000

# a release's spec templates (render_limits: each rendered in a child process)
TEMPLATE_DEADLINE = 30.0  # seconds per template (a real spec renders in milliseconds)
TEMPLATE_MEMORY = 1 << 30  # bytes the child may allocate beyond what it was forked with
TEMPLATE_MAX_BYTES = 16 << 20  # the largest rendered text (a real spec has a few dozen KiB)
