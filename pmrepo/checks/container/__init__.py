"""Install test in a container: the operator's steps, for real, per dist.

In a fresh container of the dist's image (``Dist.image``, e.g. ``centos:7``,
or a local test image) with the repository package mounted read-only and no
network:

1. add ``exclude=<component>* …`` to ``[base]`` and ``[updates]`` of
   ``/etc/yum.repos.d/CentOS-Base.repo`` (if the image has that file);
2. ``rpm -ivh <repo package>``;
3. ``yum install -y <metapackage>`` (``dnf`` where the image has no yum);
4. check: every package the metapackage must bring is installed at the
   manifest's version-release, nothing else came in, ``rpm -V`` is clean, each
   component's smoke command runs;
5. ``yum erase -y`` the stack, ``rpm -e <repo package>``; nothing of ours is
   left, nothing remains under the release's prefix.

The result is a table (step, status, detail), a JUnit XML file and a log; on
success ``installed.json`` (what the metapackage actually pulled in) is
written into the caller's output directory. Every container command runs
through :func:`pmrepo.run.run`.

Modules: ``session`` (settings, one container and its steps, the report
table and JUnit), ``install`` (:func:`install_test` and the
``ContainerInstall`` check), ``upgrade`` (:func:`upgrade_test` and the
``Upgrade`` check), ``engine`` and ``image`` (the test image). Podman
gets ``containers.conf`` beside this file via ``CONTAINERS_CONF``. A real
``centos:6``/``centos:7`` image has [base]/[updates] on the network: with the
default ``network="none"`` pass e.g. ``pm_options=("--setopt=skip_if_unavailable=1",)``
or point the image's repos at a mirror.
"""

from __future__ import annotations

from .engine import CONTAINERS_CONF, ContainerError, Engine, default_conf, detect_engine
from .install import ContainerInstall, install_test
from .session import (
    FAIL,
    PASS,
    SKIP,
    WARN,
    ContainerReport,
    ContainerSettings,
    Session,
    Step,
    add_excludes,
    repo_package_set,
)
from .upgrade import Previous, Upgrade, upgrade_test

__all__ = [
    "CONTAINERS_CONF",
    "FAIL",
    "PASS",
    "SKIP",
    "WARN",
    "ContainerError",
    "ContainerInstall",
    "ContainerReport",
    "ContainerSettings",
    "Engine",
    "Previous",
    "Session",
    "Step",
    "Upgrade",
    "add_excludes",
    "default_conf",
    "detect_engine",
    "install_test",
    "repo_package_set",
    "upgrade_test",
]
