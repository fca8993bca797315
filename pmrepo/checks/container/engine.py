"""Container engines (podman, docker): which one works here, and running its
commands through :func:`pmrepo.run.run`. Used by the install and upgrade
tests (``session.py``, ``install.py``, ``upgrade.py``) and the local test image (``image/``);
imports none of them."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import GateError
from ...owner import Owner
from ...run import Result, run

HERE = Path(__file__).resolve().parent
CONTAINERS_CONF = HERE / "containers.conf"
ENGINES = ("podman", "docker")
#: on every container the tool starts (unless kept for inspection): the run that owns it (owner.py)
OWNER_LABEL = "pmrepo.owner"


class ContainerError(GateError):
    """No usable container engine, or the container could not be run."""


def default_conf() -> Path | None:
    env = os.environ.get("PMREPO_CONTAINERS_CONF")
    if env is None:
        return CONTAINERS_CONF
    return Path(env) if env else None


@dataclass(frozen=True)
class Engine:
    """A working container engine: its command and the environment it needs."""

    name: str
    path: str
    env: Mapping[str, str]
    version: str

    def run(
        self,
        args: Sequence[str],
        log: Path | None,
        *,
        check: bool = True,
        input_text: str | None = None,
        timeout: float | None = None,
    ) -> Result:
        return run(
            [self.path, *args],
            log_file=log,
            env=dict(self.env),
            check=check,
            input_text=input_text,
            error=ContainerError,
            timeout=timeout,
        )

    def image_labels(self, ref: str, log: Path | None = None) -> dict[str, str] | None:
        """The image's labels, or None if the engine does not have it."""
        res = self.run(["image", "inspect", "--format", "{{json .Config.Labels}}", ref], log, check=False, timeout=120)
        if res.returncode != 0:
            return None
        try:
            labels = json.loads(res.output.strip().splitlines()[-1] if res.output.strip() else "null")
        except ValueError:
            return {}
        return labels if isinstance(labels, dict) else {}


def reap_containers(engine: Engine, log: Path | None, say: Callable[[str], None] | None = None) -> list[str]:
    """Remove the containers a killed run left: those labelled ``OWNER_LABEL`` whose owner is
    certainly dead (``Owner.alive``). Another live run's container, one without the label (kept
    for inspection, or made by an older pmrepo) or one of another host is never touched.
    Returns the names removed."""
    res = engine.run(
        ["ps", "-a", "-q", "--no-trunc", "--filter", f"label={OWNER_LABEL}"], log, check=False, timeout=120
    )
    ids = [ln.strip() for ln in res.output.splitlines() if re.fullmatch(r"[0-9a-f]{12,64}", ln.strip())]
    if res.returncode != 0 or not ids:
        return []
    fmt = "{{.Name}}\t{{json .Config.Labels}}"
    res = engine.run(["inspect", "--format", fmt, *ids], log, check=False, timeout=120)
    removed: list[str] = []
    for line in res.output.splitlines():
        name, sep, labels_json = line.partition("\t")
        try:
            labels = json.loads(labels_json) if sep else None
        except ValueError:
            continue
        owner = Owner.from_label(str(labels.get(OWNER_LABEL, ""))) if isinstance(labels, dict) else None
        if owner is None or owner.alive():
            continue
        name = name.strip().lstrip("/")  # docker: "/name"
        engine.run(["kill", name], log, check=False, timeout=300)  # `tail -f` as PID 1 ignores SIGTERM
        if engine.run(["rm", "-f", name], log, check=False, timeout=300).returncode == 0:
            removed.append(name)
            if say is not None:
                say(f"removed container {name}, left by a run that no longer exists (pid {owner.pid})")
    return removed


def detect_engine(
    choice: str = "auto", containers_conf: Path | None = CONTAINERS_CONF, log: Path | None = None
) -> Engine:
    """The engine to use: ``choice`` if it works, or for "auto" the first of podman, docker that does.

    "Works" means ``<engine> info`` succeeds (for docker: the daemon answers).
    Raises ContainerError naming why each candidate was rejected.
    """
    if choice not in ("auto", *ENGINES):
        raise ContainerError(f"container engine {choice!r} is not supported — fix: use auto, podman or docker")
    reasons: list[str] = []
    for name in ENGINES if choice == "auto" else (choice,):
        path = shutil.which(name)
        if path is None:
            reasons.append(f"{name}: not installed")
            continue
        env: dict[str, str] = {}
        if name == "podman" and containers_conf is not None:
            if not Path(containers_conf).is_file():
                raise ContainerError(
                    f"{containers_conf}: containers.conf for podman does not exist — fix: point "
                    "PMREPO_CONTAINERS_CONF at a file, or set it empty to use podman's own"
                )
            env["CONTAINERS_CONF"] = str(containers_conf)
        res = run([path, "info"], log_file=log, env=env, check=False, timeout=120)
        if res.returncode != 0:
            lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
            reasons.append(f"{name}: `{name} info` failed: {lines[-1] if lines else f'exit {res.returncode}'}")
            continue
        ver = run([path, "--version"], log_file=log, env=env, check=False, timeout=60).output.strip()
        return Engine(name=name, path=path, env=env, version=ver.splitlines()[0] if ver else name)
    raise ContainerError(
        "no working container engine (" + "; ".join(reasons) + ") — fix: install podman (with runc) "
        "or start the docker daemon, or choose one with --engine"
    )
