"""Publish a release directory to a mirror, atomically.

``publish(source_dir, target_url, release_id)`` puts ``source_dir`` (e.g.
``repo/<release_id>/`` with ``el6/``, ``el7/``, ``SHA256SUMS``, the notes) at
``<mirror root>/<release_id>/``:

1. check ``source_dir`` against its ``SHA256SUMS`` (every file listed, every
   listed file intact);
2. refuse if ``<release_id>`` already exists on the mirror, unless ``force``;
3. remove stale staging directories of this release left by a failed run
   (the rsync target reuses one instead: rsync then only sends what is missing);
4. upload everything to ``<root>/.staging-<release_id>-<random>/``;
5. verify the sha256 of every file *as stored on the mirror* (hash it in place
   for a directory, ``sha256sum`` over ssh for rsync, re-download with GET
   for HTTP) against ``SHA256SUMS``; then the caller's ``check`` (the pipeline's:
   ``pmrepo verify`` of the uploaded copy: signatures, repodata, SBOM, provenance);
6. switch it into place with one rename (directory, rsync) or WebDAV ``MOVE``
   (``Overwrite: F``). With ``force`` on a directory target the new and the
   old release trade places in one atomic step (``renameat2`` with
   ``RENAME_EXCHANGE``): the mirror never lacks the release; the old one,
   now under the staging name, is deleted afterwards. On rsync and HTTP
   targets the old release is first moved aside to
   ``.old-<release_id>-<random>``, moved back if the switch fails, and
   deleted after it succeeded.

Before any of this, :func:`vouch` checks that the local release directory is
what this manifest built and checked (see there).

A partial upload is therefore never visible under the final name, and a rerun
after any failure starts clean. ``dry_run`` performs only the read-only
checks and returns the plan (list of actions) without changing anything.

The targets (where a URL leads) are in ``publish_targets``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checksums import NOT_LISTED, SUMS_NAME, list_files, verify_sha256sums
from ..errors import PublishError
from ..fsutil import sha256_file
from ..layout import Output
from ..progress import Say
from ..records import BuildRecord, CheckResults, RecordError
from .mirrors import (
    RELEASE_ID_RE,
    DirTarget,
    HttpTarget,
    Target,
    make_target,
    old_re,
    staging_re,
    staging_token,
)

__all__ = [
    "Action",
    "PublishResult",
    "plan_actions",
    "preflight",
    "publish",
    "refuse_unshippable",
    "vouch",
]

logger = logging.getLogger("pmrepo.publish.upload")

# --------------------------------------------------------------------------
# the plan


@dataclass(frozen=True)
class Action:
    op: str  # remove | upload | verify | move | swap | remove-old
    name: str  # entry under the mirror root this acts on
    dest: str = ""
    files: tuple[str, ...] = ()
    size: int = 0

    def describe(self, root: str) -> str:
        if self.op == "remove":
            return f"remove stale {root}{self.name}"
        if self.op == "upload":
            return f"upload {len(self.files)} files ({self.size} bytes) to {root}{self.name}/"
        if self.op == "verify":
            return f"verify sha256 of {len(self.files)} files in {root}{self.name}/ against {SUMS_NAME}"
        if self.op == "check":
            return f"verify the release in {root}{self.name}/ (signatures, repodata, SBOM, provenance)"
        if self.op == "move":
            return f"move {root}{self.name}/ to {root}{self.dest}/"
        if self.op == "swap":
            return f"replace {root}{self.dest}/ with {root}{self.name}/ (old release moved aside, then deleted)"
        if self.op == "exchange":
            return (
                f"replace {root}{self.dest}/ with {root}{self.name}/ in one atomic exchange "
                "(the old release is deleted afterwards)"
            )
        return f"{self.op} {root}{self.name}"


@dataclass
class PublishResult:
    url: str  # where the release is (or would be)
    plan: list[str]
    dry_run: bool
    replaced: bool  # an existing release was replaced (force)
    files: int = 0


# --------------------------------------------------------------------------
# publish


def refuse_unshippable(source_dir: Path) -> None:
    """A dist built with BuildRequires assumed from the build host (rpmbuild
    --host-buildrequires) is marked ``"shippable": false`` in its build.json:
    it never reaches a mirror."""
    for out in (Output(d) for d in sorted(Path(source_dir).iterdir()) if d.is_dir()):
        meta_path = out.build_json
        if not meta_path.is_file():
            continue
        try:
            meta = BuildRecord.read(meta_path)
        except RecordError:
            raise PublishError(f"{meta_path}: unreadable build record — fix: rebuild the release") from None
        if not meta.shippable:
            raise PublishError(
                f"{meta_path}: not shippable ({meta.not_shippable or 'marked so by the build'}) "
                "— fix: rebuild with --backend mock, or with rpmbuild on a host that has the "
                "BuildRequires installed, without --host-buildrequires"
            )


def _source_files(source_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Files to upload and their expected sha256 (from SHA256SUMS, plus the
    sums file itself and its signature, hashed here)."""
    if not source_dir.is_dir():
        raise PublishError(f"{source_dir}: no such release directory — fix: build the release first")
    if not (source_dir / SUMS_NAME).is_file():
        raise PublishError(
            f"{source_dir / SUMS_NAME}: missing — fix: write checksums first (build.py sign / write_sha256sums)"
        )
    sums = verify_sha256sums(source_dir, error=PublishError)
    present = list_files(source_dir)
    unlisted = [f for f in present if f not in sums]
    if unlisted:
        raise PublishError(
            f"{source_dir / unlisted[0]}: not listed in {SUMS_NAME} — fix: regenerate {SUMS_NAME} or remove the file"
        )
    expected = dict(sums)
    for name in sorted(NOT_LISTED):
        if (source_dir / name).is_file():
            expected[name] = sha256_file(source_dir / name)
    return sorted(expected), expected


def plan_actions(
    target: Target, release_id: str, files: Sequence[str], size: int, force: bool
) -> tuple[list[Action], bool, str]:
    """(actions, replaces an existing release, staging name) from read-only checks."""
    entries = target.list_root()
    exists = release_id in entries
    if not exists and isinstance(target, HttpTarget) and not target.propfind_supported:
        exists = target.exists(release_id)
    if exists and not force:
        raise PublishError(
            f"release {release_id} is already published at {target.url_of(release_id)} — "
            "fix: bump the release, or pass --replace (build.py publish) to replace it"
        )
    stale = sorted(e for e in entries if staging_re(release_id).match(e))
    actions: list[Action] = []
    staging = f".staging-{release_id}-{staging_token()}"
    if stale and target.reuse_staging:
        staging, stale = stale[0], stale[1:]
    actions += [Action("remove", s) for s in stale]
    actions.append(Action("upload", staging, files=tuple(files), size=size))
    actions.append(Action("verify", staging, files=tuple(files)))
    if exists:
        actions.append(Action("exchange" if target.atomic_exchange else "swap", staging, dest=release_id))
    else:
        actions.append(Action("move", staging, dest=release_id))
    old = sorted(e for e in entries if old_re(release_id).match(e))
    actions += [Action("remove-old", o) for o in old]
    return actions, exists, staging


def _remove_quietly(target: Target, name: str) -> None:
    """Delete what the switch left aside; the release is already in place, so
    a failure here only warns (a later publish of the release removes it)."""
    try:
        target.remove(name)
    except PublishError as exc:
        logger.warning("could not remove %s%s: %s", target.display, name, exc)


def _execute(target: Target, source_dir: Path, action: Action, expected: dict[str, str]) -> None:
    if action.op == "remove":
        target.remove(action.name)
    elif action.op == "remove-old":  # leftovers of an earlier forced run; the release is in place
        _remove_quietly(target, action.name)
    elif action.op == "upload":
        target.upload(source_dir, action.files, action.name)
    elif action.op == "verify":
        got = target.hashes(action.name, action.files, {rel: (source_dir / rel).stat().st_size for rel in action.files})
        for rel in action.files:
            if rel not in got:
                raise PublishError(f"{target.display}{action.name}/{rel}: missing after upload — fix: rerun publish")
            if got[rel] != expected[rel]:
                raise PublishError(
                    f"{target.display}{action.name}/{rel}: sha256 {got[rel][:16]}… "
                    f"on the mirror differs from {SUMS_NAME} ({expected[rel][:16]}…) "
                    "— fix: rerun publish; check the mirror's storage"
                )
    elif action.op == "move":
        target.rename(action.name, action.dest)
    elif action.op == "exchange":
        target.exchange(action.name, action.dest)  # the new release is in place; the old one has the staging name
        _remove_quietly(target, action.name)
    elif action.op == "swap":
        old = f".old-{action.dest}-{staging_token()}"
        target.rename(action.dest, old)
        try:
            target.rename(action.name, action.dest)
        except PublishError:
            try:
                target.rename(old, action.dest)
            except PublishError:
                logger.error("could not move %s back to %s on %s", old, action.dest, target.display)
            raise
        _remove_quietly(target, old)
    else:  # pragma: no cover - plan_actions makes only the above
        raise PublishError(f"internal: unknown publish action {action.op}")


def _execute_all(
    target: Target,
    source_dir: Path,
    actions: Sequence[Action],
    expected: dict[str, str],
    check: Callable[[Target, str], None] | None,
) -> None:
    """Run the plan (``check``: the release verification of the uploaded copy, see ``publish``).
    When the upload or its verification fails (a stalled or hostile server ends it with one
    line, or the uploaded copy does not verify), the staging directory is removed again before
    the error is raised — except on a target that resumes into it (rsync)."""
    for action in actions:
        try:
            if action.op == "check":
                if check is not None:
                    check(target, action.name)
            else:
                _execute(target, source_dir, action, expected)
        except BaseException:
            if action.op in ("upload", "verify", "check") and not target.reuse_staging:
                _remove_quietly(target, action.name)
            raise


def publish(
    source_dir: Path,
    target_url: str,
    release_id: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    log: Path | None = None,
    echo: Say | None = None,
    allow_insecure_auth: bool = False,
    check: Callable[[Target, str], None] | None = None,
) -> PublishResult:
    """Publish ``source_dir`` as ``<target>/<release_id>/`` (see module doc).

    ``log`` is a file that receives the commands/requests made; ``echo``
    receives each plan line (default: printed for a dry run, else the
    ``pmrepo.publish.upload`` logger). ``check(target, staging)``, when given, runs
    after the upload's sha256 were verified and before the switch into place
    (the pipeline's: ``release_verify.publish_check``); it raises to stop."""
    if not RELEASE_ID_RE.match(release_id or ""):
        raise PublishError(f"release id '{release_id}' is not a plain name — fix: use <name>-<version>-<release>")
    source_dir = Path(source_dir)
    files, expected = _source_files(source_dir)  # a missing directory is one line, before anything else
    refuse_unshippable(source_dir)
    say = echo or (print if dry_run else logger.info)
    size = sum((source_dir / f).stat().st_size for f in files)
    target = make_target(target_url, log=log, allow_insecure_auth=allow_insecure_auth)
    try:
        actions, exists, _staging = plan_actions(target, release_id, files, size, force)
        if check is not None:  # after the sha256 verification, before the switch
            at = next(i for i, a in enumerate(actions) if a.op == "verify") + 1
            actions.insert(at, Action("check", actions[at - 1].name))
        root = target.display
        plan = [a.describe(root) for a in actions]
        prefix = "[dry-run] would " if dry_run else ""
        for line in plan:
            say(prefix + line)
        result = PublishResult(
            url=target.url_of(release_id), plan=plan, dry_run=dry_run, replaced=exists, files=len(files)
        )
        if dry_run:
            return result
        started = time.monotonic()
        _execute_all(target, source_dir, actions, expected, check)
        say(
            f"published {release_id} ({len(files)} files, {size} bytes) to {result.url} "
            f"in {time.monotonic() - started:.1f}s"
        )
        return result
    finally:
        target.close()


# --------------------------------------------------------------------------
# what publish vouches for


def vouch(
    source_dir: Path,
    release_key: str,
    manifest: Path,
    dists: Sequence[str],
    *,
    required: Sequence[str] | None = None,
    allow_unchecked: bool = False,
    required_checks: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """Refuse (one line) unless ``source_dir`` (``repo/<release_id>/``) holds
    exactly the outputs of the manifest whose key is ``release_key``:

    * every directory in it is one of ``dists`` (the manifest's), each of
      ``required`` (default: all of them) is there, and each has a ``build.json``
      recording that key (a tree left by another manifest, or by this one
      before an edit, is refused);
    * the latest result of every check of every output passed, whichever command ran it
      (``all`` or a later ``gate``: ``gates/results.json``), and each of ``required_checks``
      (check id -> record) has one, unless ``allow_unchecked`` (an output without that
      record, of a pmrepo before it: ``build.json`` lists none as unchecked);
    * every RPM in a dist directory is in its ``build.json`` with that very
      sha256, and every file ``build.json`` lists is there.

    Returns {dist: checks that did not run} (non-empty only with ``allow_unchecked``)."""
    rebuild = f"fix: rebuild with `./build.py all --release {manifest}`"
    if not source_dir.is_dir():
        raise PublishError(f"{source_dir}: no such release directory — {rebuild}")
    unchecked: dict[str, list[str]] = {}
    for entry in sorted(source_dir.iterdir()):
        if entry.is_dir() and entry.name not in dists:
            raise PublishError(
                f"{entry}: not a dist of {manifest} (dists: {', '.join(dists)}) — fix: remove it, "
                "it is left over from another build"
            )
    present = [d for d in dists if (source_dir / d).is_dir()]
    for dist in sorted(set(present) | set(dists if required is None else required), key=list(dists).index):
        out = Output(source_dir / dist)
        meta_path = out.build_json
        try:
            meta = BuildRecord.read(meta_path)
        except RecordError:
            raise PublishError(f"{meta_path}: missing or unreadable — {rebuild}") from None
        if meta.release_key != release_key:
            built = meta.manifest or "an unknown manifest"
            raise PublishError(
                f"{out.root}: built from {built} with a different content than {manifest} "
                f"(release key {str(meta.release_key)[:12]}… ≠ {release_key[:12]}…) — {rebuild}"
            )
        skipped = _unchecked(out, meta, manifest, required_checks)
        if skipped and not allow_unchecked:
            raise PublishError(
                f"{out.root}: built without {', '.join(skipped)} (no passing result in {out.check_results}) "
                f"— fix: run them (`./build.py gate --release {manifest}`), rebuild with the checks, "
                "or pass --allow-unchecked (the release notes then say so)"
            )
        if skipped:
            unchecked[dist] = skipped
        files = meta.files
        present_rpms = {p.name for p in out.rpms()}
        for name in sorted(present_rpms | set(files)):
            if name not in files:
                raise PublishError(f"{out.root / name}: not recorded in {meta_path} — fix: remove it or rebuild")
            if name not in present_rpms:
                raise PublishError(f"{out.root / name}: recorded in {meta_path} but missing — {rebuild}")
            got = sha256_file(out.root / name)
            if got != files[name].sha256:
                raise PublishError(f"{out.root / name}: sha256 {got[:16]}… differs from {meta_path} — {rebuild}")
    return unchecked


NOTE_SHOWN = 160  # characters of a failed check's note in publish's one line


def _unchecked(out: Output, meta: BuildRecord, manifest: Path, required: Mapping[str, str] | None) -> list[str]:
    """The required records of ``out`` without a passing latest result; a failed latest result of
    any check is refused here, in one line naming its report."""
    try:
        results = CheckResults.read_or_none(out.check_results)
    except RecordError as exc:
        raise PublishError(f"{exc} (publish vouches for it)") from None
    if results is None:  # an output of a pmrepo before results.json: build.json's record
        return list(meta.unchecked) if meta.unchecked is not None else ["(no record of its checks)"]
    failed = results.failed()
    if failed:
        r = failed[0]
        report = out.reports / r.report if r.report else out.check_results
        by = f"{r.command} at {r.at}" if r.command else r.at
        note = r.note if len(r.note) <= NOTE_SHOWN else r.note[: NOTE_SHOWN - 1] + "…"  # the report has it all
        raise PublishError(
            f"{report}: the latest {r.name} ({by}) {r.verdict}: {note} — fix: correct what it reports and "
            f"rerun it (`./build.py gate --release {manifest}` with the same options), or rebuild "
            f"(`./build.py all --release {manifest} --force`); publish ships only outputs whose checks passed"
        )
    return list(results.missing(required or {}))


# --------------------------------------------------------------------------
# preflight


def preflight(
    target_url: str,
    release_id: str,
    *,
    replace: bool = False,
    log: Path | None = None,
    allow_insecure_auth: bool = False,
) -> list[str]:
    """What publishing ``release_id`` to ``target_url`` needs from the mirror,
    checked without changing anything there: one line per problem (none: ready)."""
    try:
        target = make_target(target_url, log, allow_insecure_auth=allow_insecure_auth)
        try:
            names = target.list_root()
        finally:
            target.close()
    except PublishError as exc:
        return [str(exc)]
    if isinstance(target, DirTarget) and not os.access(target.root, os.W_OK | os.X_OK):
        return [f"mirror root {target.root} is not writable — fix: check its permissions or the publish target"]
    if release_id in names and not replace:
        return [
            f"release {release_id} is already published at {target.url_of(release_id)} — fix: pass --replace "
            "to replace it, or publish a new release"
        ]
    return []
