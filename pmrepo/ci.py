"""The shell logic of the GitHub workflows' steps, as code the tests run locally.

``python3 -m pmrepo.ci select-release``: which release manifest a run builds,
from the runner's environment — a tag ``v<version>-<release>`` builds
``releases/<version>-<release>.toml`` (and the manifest must be that release),
a manual run its ``release`` input (``INPUT_RELEASE``, passed through ``env:``,
never spliced into the script), anything else ``DEFAULT_RELEASE``. It appends
``RELEASE=<manifest>`` and ``RELEASE_ID=<name-version-release>`` to
``$GITHUB_ENV`` for the later steps (and ``release``/``release_id`` to
``$GITHUB_OUTPUT``, for another job).

``python3 -m pmrepo.ci collect-artifacts DIR``: moves the per-dist artifacts
the build jobs uploaded (``DIR/repo-<dist>/``) into the output layout,
``repo/<release_id>/<dist>/`` (``pmrepo.layout``), for ``make notes`` and
``make publish``.

A value that would let one environment line become several (a newline or a
control character), a manifest outside the checkout, a dist the manifest does
not have or an output already there is refused with one line that names the
variable or path and the fix (as a ``::error::`` annotation), exit 1.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import defaults, manifest
from .errors import PmrepoError, UsageError
from .layout import Layout

TAG_PREFIX = "refs/tags/v"
ARTIFACT_PREFIX = "repo-"  # the build jobs' artifact names: repo-<dist>
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TAG = re.compile(r"^v[0-9][0-9A-Za-z._]*-[0-9A-Za-z._]+\Z")


@dataclass(frozen=True)
class Selection:
    manifest: Path  # relative to the checkout
    release_id: str
    why: str  # which event chose it


def _value(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if _CONTROL.search(value):
        raise UsageError(f"${name} contains a newline or control character: {value!r} — fix: give one plain line")
    return value.strip()


def _inside(root: Path, given: str, where: str) -> Path:
    """``given`` (relative to ``root``) as a regular .toml file inside ``root``."""
    if not given:
        raise UsageError(f"{where}: no release manifest given — fix: name one, e.g. releases/1.1.14-1.1.toml")
    path = (root / given).resolve()
    if not path.is_relative_to(root.resolve()):
        raise UsageError(f"{where}: {given!r} is outside the checkout — fix: name a manifest under releases/")
    if path.suffix != ".toml" or not path.is_file():
        raise UsageError(f"{where}: {given} is not a release manifest (.toml file) in the checkout — fix: name one")
    return path


def select_release(env: Mapping[str, str], root: Path) -> Selection:
    """The manifest and release id a run of the workflow builds (see the module text)."""
    ref = _value(env, "GITHUB_REF")
    tag = ""
    if ref.startswith(TAG_PREFIX):
        tag = _value(env, "GITHUB_REF_NAME") or ref.removeprefix("refs/tags/")
        if not _TAG.match(tag):
            raise UsageError(f"tag {tag!r}: not v<version>-<release> — fix: tag a release as e.g. v1.1.14-1.1")
        given, why = f"releases/{tag[1:]}.toml", f"tag {tag}"
        try:
            path = _inside(root, given, f"tag {tag}")
        except UsageError:
            raise UsageError(
                f"tag {tag}: no release manifest {given} — fix: commit {given} before tagging "
                "(tags are v<version>-<release>)"
            ) from None
    elif _value(env, "GITHUB_EVENT_NAME") == "workflow_dispatch" and _value(env, "INPUT_RELEASE"):
        given, why = _value(env, "INPUT_RELEASE"), "manual run (input release)"
        path = _inside(root, given, "input release")
    else:
        given, why = _value(env, "DEFAULT_RELEASE"), f"{_value(env, 'GITHUB_EVENT_NAME') or 'run'} (DEFAULT_RELEASE)"
        path = _inside(root, given, "$DEFAULT_RELEASE")
    rel = manifest.load(path)
    if ref.startswith(TAG_PREFIX) and rel.vr != tag[1:]:
        raise UsageError(
            f"{given}: holds {rel.vr}, the tag says {tag[1:]} — fix: tag the version-release the manifest holds"
        )
    return Selection(path.relative_to(root.resolve()), rel.release_id, why)


def write_env(env_file: Path, values: Mapping[str, str]) -> None:
    """Append ``NAME=value`` lines to the runner's ``$GITHUB_ENV`` (values are single lines)."""
    for name, value in values.items():
        if _CONTROL.search(value):
            raise UsageError(f"{name}: {value!r} is not one line — fix: give a plain value")
    with env_file.open("a", encoding="utf-8") as fh:
        fh.writelines(f"{name}={value}\n" for name, value in values.items())


def collect_artifacts(artifacts: Path, release: manifest.Release, outdir: Path) -> dict[str, Path]:
    """Move each ``artifacts/repo-<dist>/`` to ``<outdir>/<release_id>/<dist>/``; returns dist -> new path."""
    found = sorted(p for p in artifacts.glob(f"{ARTIFACT_PREFIX}*") if p.is_dir() and not p.is_symlink())
    if not found:
        raise UsageError(f"{artifacts}: no {ARTIFACT_PREFIX}<dist>/ artifact — fix: run the build jobs first")
    layout = Layout(release.release_id, outdir)
    moves: dict[str, tuple[Path, Path]] = {}
    for src in found:
        dist = src.name.removeprefix(ARTIFACT_PREFIX)
        if dist not in release.dists:
            raise UsageError(
                f"{src}: {release.path.name} has no dist {dist!r} — fix: use the artifacts of this release's "
                f"build ({', '.join(release.dists)})"
            )
        dest = layout.dist(dist).output.root
        if dest.exists():
            raise UsageError(f"{dest}: already there — fix: start from a clean output directory")
        moves[dist] = (src, dest)
    for src, dest in moves.values():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), str(dest))
    return {dist: dest for dist, (_, dest) in moves.items()}


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    root = defaults.checkout() or Path.cwd()
    try:
        if args == ["select-release"]:
            sel = select_release(env, root)
            print(f"release manifest: {sel.manifest} ({sel.release_id}), chosen by {sel.why}")
            if env.get("GITHUB_ENV"):
                write_env(Path(env["GITHUB_ENV"]), {"RELEASE": str(sel.manifest), "RELEASE_ID": sel.release_id})
            if env.get("GITHUB_OUTPUT"):  # the step's outputs, for a job's `outputs:`
                write_env(Path(env["GITHUB_OUTPUT"]), {"release": str(sel.manifest), "release_id": sel.release_id})
            return 0
        if len(args) == 2 and args[0] == "collect-artifacts":
            rel = manifest.load(_inside(root, _value(env, "RELEASE"), "$RELEASE"))
            outdir = Path(_value(env, "OUTDIR") or defaults.outdir())
            for dist, dest in collect_artifacts(Path(args[1]), rel, outdir).items():
                files = sorted(p.name for p in dest.iterdir())
                print(f"{dist}: {dest} ({len(files)} entries: {', '.join(files)})")
            return 0
        print("usage: python3 -m pmrepo.ci select-release | collect-artifacts DIR", file=sys.stderr)
        return 2
    except PmrepoError as exc:
        print(f"::error::{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
