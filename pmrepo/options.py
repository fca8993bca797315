"""What one run was asked to do: the CLI's options as one value (``cli._options`` makes it),
given to the ``Pipeline`` and to the standalone commands that take it (``upstream``).

A new CLI option is one row of ``cli_options.GROUPS`` and one field here, named by the row's
``dest``; the options a command reads from its arguments itself (``publish --dry-run``,
``new-release``'s, ``verify``'s) are not fields here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Options:
    release: Path
    workdir: Path
    outdir: Path
    dists: tuple[str, ...] = ()
    backend: str = "rpmbuild"
    jobs: int | None = None
    force: frozenset[str] = frozenset()
    install_check: bool = True
    gates: bool = True
    sign: bool = False  # with $PMREPO_GPG_KEY from $GNUPGHOME
    # container install test engine: none, auto (skipped with a warning if none works), podman, docker
    container: str = "none"
    container_image: str | None = None  # one image for every dist; "local": pmrepo's own test image
    upgrade_from: Path | None = None  # with a container engine: the output root of the previous release (upgrade test)
    # extra yum/dnf options of the container tests (e.g. a real centos image without network:
    # --setopt=skip_if_unavailable=1 for its [base]/[updates] mirrors)
    container_pm_options: tuple[str, ...] = ()
    backend_options: dict[str, object] = field(default_factory=dict)
    components: tuple[str, ...] = ()  # `build --component`: only these and what they need from the chain
    json: bool = False  # `upstream --json`: the report as JSON on stdout
    upstream_timeout: float = 30.0  # `upstream --timeout`: seconds per upstream
    allow_insecure_auth: bool = False  # `publish --allow-insecure-auth`: credentials over plain http://
