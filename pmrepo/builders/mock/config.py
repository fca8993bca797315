"""The mock config of a dist (``MockBuilder`` writes one into each job's output
directory), rendered from ``pmrepo/templates/builders/mock.cfg.j2``. It follows
mock's own end-of-life templates for these targets (mock-core-configs
``eol/templates/centos-6.tpl``/``epel-6.tpl``,
``centos-7.tpl``/``epel-7.tpl``) in every key that changes a build:
``[main]`` as mock writes it (``best=1``, ``user_agent``), the https vault,
``failovermethod=priority``, ``[updates]`` disabled on el6 as in mock's
template, ``ssl_ca_bundle_path`` on el6, bootstrap images fully qualified as
mock resolves them, ``isolation='simple'`` on el6 (``TEMPLATE_FACTS``).
Deliberate differences: EPEL from its archive by ``baseurl`` (the templates'
mirrorlists no longer serve these releases), an explicit ``%dist``, and no
SCLo/fasttrack/plus repos. The job's local repository of earlier results gets
an id of its own (``local_repo_id``). Repo URLs, from lowest to highest
precedence:

1. built-in defaults (``_default_repos``; vault 6.10 / 7.9.2009, EPEL archive),
2. the manifest's ``[dists.<d>] base_repos`` (repoid -> baseurl; a repo named
   there is enabled, new ids add repos), then its ``mock_base_repos`` (the same,
   for the build roots only: the checks never see them),
3. the backend's ``mirrors`` option (``repoid`` or ``<dist>/<repoid>`` -> baseurl),
4. the environment: ``PMREPO_MIRROR_<REPOID>``, then ``PMREPO_MIRROR_<DIST>_<REPOID>``
   (uppercased, every non-alphanumeric character -> ``_``), for an internal mirror.
``repo_enabled`` (``--mock-opt enable.<repoid>=0|1``) switches a repo on or off
last; ``bootstrap_images`` (``--mock-opt bootstrap_image[.<dist>]=IMAGE``)
replaces the bootstrap image.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from ...errors import UsageError
from ...manifest import Dist, redact_url
from ...render.environment import render_template
from ..base import rpm_macro_defines

TEMPLATE = "builders/mock.cfg.j2"  # in pmrepo/templates/

VAULT = "https://vault.centos.org"  # mock's eol templates use https for the vault
EPEL_ARCHIVE = "https://archives.fedoraproject.org/pub/archive/epel"
GPG_KEYS = "file:///usr/share/distribution-gpg-keys"  # shipped by distribution-gpg-keys (a mock dependency)

#: The last minor release of each major, as the CentOS vault names it.
VAULT_RELEASE = {6: "6.10", 7: "7.9.2009"}


#: What mock's own eol templates set for these targets, where pmrepo follows them.
#: Sources: mock-core-configs/etc/mock/eol/templates/centos-6.tpl, epel-6.tpl (ssl_ca_bundle_path),
#: centos-7.tpl and epel-7.tpl (tag mock-core-configs-44.2-1; held to them by tests/integration/test_mock_contract.py).
class TemplateFacts(TypedDict):
    """What mock-core-configs' template of one major release sets that the config must repeat."""

    isolation: str | None
    ssl_ca_bundle_path: str | None
    bootstrap_image: str
    enabled: dict[str, bool]  # repoid -> enabled in the template


TEMPLATE_FACTS: dict[int, TemplateFacts] = {
    6: {
        "isolation": "simple",
        "ssl_ca_bundle_path": "/etc/pki/tls/certs/ca-bundle.crt",
        # mock's centos-6.tpl says 'centos:6', a short name: podman on a Fedora/EL build host resolves it
        # through the shortnames alias "centos" = "quay.io/centos/centos" (containers-common)
        "bootstrap_image": "quay.io/centos/centos:6",
        "enabled": {"base": True, "updates": False, "extras": True, "epel": True},
    },
    7: {
        "isolation": None,
        "ssl_ca_bundle_path": None,
        "bootstrap_image": "quay.io/centos/centos:7",
        "enabled": {"base": True, "updates": True, "extras": True, "epel": True},
    },
}


@dataclass(frozen=True)
class RepoDefault:
    repoid: str
    name: str
    path: str  # baseurl = base + path, formatted with vault release / major
    base: str
    gpgkey: str


def _default_repos(rhel: int) -> list[RepoDefault]:
    vault = VAULT_RELEASE[rhel]
    centos_key = f"{GPG_KEYS}/centos/RPM-GPG-KEY-CentOS-{rhel}"
    epel_key = f"{GPG_KEYS}/epel/RPM-GPG-KEY-EPEL-{rhel}"
    return [
        RepoDefault("base", "CentOS-$releasever - Base", f"/{vault}/os/$basearch/", VAULT, centos_key),
        RepoDefault("updates", "CentOS-$releasever - Updates", f"/{vault}/updates/$basearch/", VAULT, centos_key),
        RepoDefault("extras", "CentOS-$releasever - Extras", f"/{vault}/extras/$basearch/", VAULT, centos_key),
        RepoDefault(
            "epel",
            "Extra Packages for Enterprise Linux $releasever - $basearch (archive)",
            f"/{rhel}/$basearch/",
            EPEL_ARCHIVE,
            epel_key,
        ),
    ]


def mirror_env_names(dist: str, repoid: str) -> tuple[str, str]:
    """The environment variables that override ``repoid``'s URL: generic, then per dist."""

    def norm(s: str) -> str:
        return re.sub(r"[^A-Za-z0-9]", "_", s).upper()

    return f"PMREPO_MIRROR_{norm(repoid)}", f"PMREPO_MIRROR_{norm(dist)}_{norm(repoid)}"


# A baseurl goes into yum.conf inside a Python triple-quoted string that mock
# also renders with jinja2: no whitespace, quotes, backslashes or braces (stricter than the
# manifest's HTTP_OR_FILE_URL_RE, and ftp:// too: a mirror may be one).
BASEURL_RE = re.compile(r"^(https?|ftp|file)://[^\s\"'\\{}]+\Z")
REPOID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*\Z")


def isolation_for(dist: Dist, isolation: str | None) -> str | None:
    """``isolation`` if set, else mock's template value for the dist (None: mock's default)."""
    if isolation:
        return isolation
    facts = TEMPLATE_FACTS.get(dist.rhel)
    return facts["isolation"] if facts else None


def bootstrap_image_for(dist: Dist, images: Mapping[str, str]) -> str:
    """The image from ``images`` (dist name, then "" for all), else mock's template value or the dist's."""
    image = images.get(dist.name) or images.get("")
    if image:
        return image
    facts = TEMPLATE_FACTS.get(dist.rhel)
    return facts["bootstrap_image"] if facts else dist.image


def repos_for(dist: Dist, mirrors: Mapping[str, str], repo_enabled: Mapping[str, bool]) -> list[dict[str, object]]:
    """The dist's repositories: id, name, baseurl, gpgkey ('' = no check), enabled, origin."""
    repos: dict[str, dict[str, object]] = {}
    facts = TEMPLATE_FACTS.get(dist.rhel)
    if dist.rhel in VAULT_RELEASE:
        enabled: Mapping[str, bool] = facts["enabled"] if facts else {}
        for d in _default_repos(dist.rhel):
            repos[d.repoid] = {
                "id": d.repoid,
                "name": d.name,
                "baseurl": d.base + d.path,
                "gpgkey": d.gpgkey,
                "enabled": enabled.get(d.repoid, True),
                "origin": "built-in default (mock's eol template)",
            }
    for repoid, url in dist.base_repos.items():
        check_repoid(repoid, f"manifest [dists.{dist.name}] base_repos")
        set_url(repos, repoid, url, f"manifest [dists.{dist.name}] base_repos.{repoid}")
        repos[repoid]["enabled"] = True  # named in the manifest: used
    for repoid, url in dist.mock_base_repos.items():  # the build roots' own (the checks never see them)
        check_repoid(repoid, f"manifest [dists.{dist.name}] mock_base_repos")
        set_url(repos, repoid, url, f"manifest [dists.{dist.name}] mock_base_repos.{repoid}")
        repos[repoid]["enabled"] = True
    for key, url in mirrors.items():
        mirrored = _target(key, dist, "mirrors")
        if mirrored:
            set_url(repos, mirrored, url, f"mock backend option mirrors[{key!r}]")
    for repoid in list(repos):
        for var in mirror_env_names(dist.name, repoid):
            if os.environ.get(var):
                set_url(repos, repoid, os.environ[var], f"environment {var}")
    for key, on in repo_enabled.items():
        switched = _target(key, dist, "enable")
        if not switched:
            continue
        if switched not in repos:
            raise UsageError(
                f"mock backend option enable.{key}: dist {dist.name} has no repository "
                f"{switched!r} — fix: use one of {', '.join(repos)}"
            )
        repos[switched]["enabled"] = on
    if not repos:
        raise UsageError(
            f"dist {dist.name} (rhel {dist.rhel}): no built-in mirrors for this release — fix: "
            f"list its repositories in the manifest: "
            f'[dists.{dist.name}] base_repos = {{base = "http://…"}}'
        )
    return list(repos.values())


def _target(key: str, dist: Dist, option: str) -> str | None:
    """``repoid`` or ``<dist>/repoid``: the repoid if it applies to ``dist``."""
    target, _, repoid = key.rpartition("/")
    check_repoid(repoid, f"mock backend option {option}[{key!r}]")
    if target and not REPOID_RE.match(target):
        raise UsageError(
            f"mock backend option {option}[{key!r}]: {target!r} is not a dist name — "
            'fix: use "repoid" or "<dist>/repoid"'
        )
    return None if target and target != dist.name else repoid


#: the ids of the jobs' local repositories start so (``local_repo_id``); no other repository may
LOCAL_REPO_PREFIX = "pmrepo-local"


def local_repo_id(component: str, local_repo: Path) -> str:
    """The id of a job's local repository: one per job, as mock's ``--addrepo`` derives one from the
    repository's path (mockbuild/util.py generate_repo_id). A shared id would let yum's cache, which
    mock shares between every slot and run of a root (yum_cache plugin), hand one job another job's
    repomd.xml ("older than what we have") and packages."""
    tag = hashlib.sha256(str(local_repo.resolve()).encode()).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", component)
    return f"{LOCAL_REPO_PREFIX}-{name}-{tag}"


def check_repoid(repoid: str, where: str) -> None:
    """Refuse a repo id that is not a plain yum section name (or is one pmrepo's own)."""
    if not REPOID_RE.match(repoid) or repoid == "main" or repoid.startswith(LOCAL_REPO_PREFIX):
        raise UsageError(
            f"{where}: invalid repository id {repoid!r} — fix: use letters, digits and ._:- "
            f"(not 'main', nor starting with {LOCAL_REPO_PREFIX!r})"
        )


def set_url(repos: dict[str, dict[str, object]], repoid: str, url: str, where: str) -> None:
    """Point ``repoid`` at ``url`` (a new repo if it is not in ``repos``), recording where it came from."""
    if not BASEURL_RE.match(url):
        raise UsageError(
            f"{where}: {redact_url(url)!r} is not a usable baseurl — fix: give an http(s)://, "
            "ftp:// or file:// URL without spaces, quotes, backslashes or braces "
            "($releasever/$basearch are fine)"
        )
    if repoid in repos:
        repos[repoid]["baseurl"] = url
        repos[repoid]["origin"] = f"{where} (overrides {repos[repoid]['origin']})"
    else:
        repos[repoid] = {
            "id": repoid,
            "name": f"{repoid} ({where})",
            "baseurl": url,
            "gpgkey": "",
            "enabled": True,
            "origin": where,
        }


@dataclass(frozen=True)
class ConfigInput:
    """What a builder decides about a config beyond the dist: its root, arch and options."""

    root: str
    arch: str
    chroot_setup_cmd: str
    isolation: str | None
    use_bootstrap_image: bool
    bootstrap_image: str
    repos: list[dict[str, object]]


def render_config(
    dist: Dist,
    cfg: ConfigInput,
    local_repo: Path | None = None,
    source_date_epoch: int | None = None,
    local_id: str = LOCAL_REPO_PREFIX,
) -> str:
    """mock's config for ``dist``; with ``local_repo``, a section ``[local_id]`` for it."""
    env = {"SOURCE_DATE_EPOCH": str(source_date_epoch)} if source_date_epoch is not None else {}
    facts = TEMPLATE_FACTS.get(dist.rhel)
    context = {
        "py": repr,
        "root": cfg.root,
        "target_arch": cfg.arch,
        "legal_host_arches": (cfg.arch,),
        "dist": dist.name,
        "releasever": str(dist.rhel),
        "chroot_setup_cmd": cfg.chroot_setup_cmd,
        "package_manager": "yum",
        "isolation": cfg.isolation,
        "ssl_ca_bundle_path": facts["ssl_ca_bundle_path"] if facts else None,
        "use_bootstrap_image": cfg.use_bootstrap_image,
        "bootstrap_image": cfg.bootstrap_image,
        "macros": rpm_macro_defines(dist, source_date_epoch or 0),
        "environment": env,
        "repos": cfg.repos,
        "local_repo": local_repo.resolve().as_uri() if local_repo is not None else None,
        "local_repo_id": local_id,
    }
    return render_template(TEMPLATE, context, what=f"mock config ({dist.name})")
