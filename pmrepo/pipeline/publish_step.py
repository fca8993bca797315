"""``publish``'s body: refuse an unshippable build, vouch for the latest checks, refresh and sign
the provenance, write SHA256SUMS (signed when the release is), upload and verify the upload, then
render the notes. ``pipeline.Pipeline.publish`` calls it with its release, layout and console."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..attest.provenance import refresh
from ..checks import REQUIRED_CHECK_IDS
from ..checksums import SUMS_NAME, SUMS_SIGNATURE, write_sha256sums
from ..errors import PublishError
from ..layout import PUBLIC_KEY_PREFIX, Layout
from ..manifest import Dist, Release
from ..notes.render import render_notes
from ..progress import Console
from ..publish.upload import PublishResult, publish, refuse_unshippable, vouch
from ..records import BuildRecord
from ..sign.signer import ENV_KEY, Key, key_from_env, public_key_fingerprints, sign_detached
from ..verify.release import publish_check
from . import preflight
from .preflight import Input as PreflightInput


def publish_outputs(
    release: Release,
    layout: Layout,
    dists: tuple[Dist, ...],
    preflight_input: Callable[[], PreflightInput],
    repo_dir: Path,
    target: str,
    console: Console,
    *,
    dry_run: bool,
    replace: bool,
    allow_unchecked: bool,
    allow_insecure_auth: bool = False,
) -> PublishResult:
    """``publish`` under the run's lock: refuse what is unfinished, unshippable or unvouched for
    (everything at once before anything is written), regenerate the notes and SHA256SUMS, upload."""
    rel = release
    source = layout.release_out
    missing = [d.name for d in dists if not layout.dist(d.name).output.build_json.is_file()]
    found = (
        [
            f"publish: {source} has no finished build for {', '.join(missing)} — fix: run "
            f"`./build.py all --release {rel.path}` first"
        ]
        if missing
        else []
    )
    found += preflight.problems(
        preflight_input(),
        preflight.Needs(build=False, target=target, replace=replace, allow_insecure_auth=allow_insecure_auth),
    )[0]
    if found:  # everything publishing needs, reported at once before anything is written
        raise preflight.PreflightError(found)
    refuse_unshippable(source)  # before anything is written (notes, SHA256SUMS)
    unchecked = vouch(
        source,
        rel.key,
        rel.path,
        tuple(rel.dists),
        required=[d.name for d in dists],
        allow_unchecked=allow_unchecked,
        required_checks=REQUIRED_CHECK_IDS,
    )
    for dist, skipped in unchecked.items():
        console.say(f"publish: {dist} was built without {', '.join(skipped)} (--allow-unchecked; the notes say so)")
    key, pubkey = release_key(layout, dists)
    refresh_provenances(layout, dists, key, pubkey, console, dry_run=dry_run)
    # the notes describe exactly the files being uploaded: regenerated from the build.json files just verified
    render_notes(rel, source, repo_dir=repo_dir)
    write_sha256sums(source)  # local and derived: a dry run writes it too; the mirror is untouched
    sign_sums(layout, key, console, dry_run=dry_run)
    with console.step(f"publish {rel.release_id} to {target}"):
        result = publish(
            source,
            target,
            rel.release_id,
            force=replace,
            dry_run=dry_run,
            log=layout.log("publish.log"),
            echo=console.say,
            allow_insecure_auth=allow_insecure_auth,
            check=None if dry_run else publish_check(source, console),
        )
    return result


def release_key(layout: Layout, dists: tuple[Dist, ...]) -> tuple[Key | None, Path | None]:
    """The release key (``PMREPO_GPG_KEY``) and the public key its outputs ship, when they are
    signed; (None, None) for an unsigned release. The key must be the one that signed them."""
    shipped = [
        p
        for d in dists
        for p in sorted(layout.dist(d.name).output.root.glob(f"{PUBLIC_KEY_PREFIX}*"))
        if BuildRecord.read(layout.dist(d.name).output.build_json).signed
    ]
    if not shipped:
        return None, None
    log = layout.log("sign.log")
    key = key_from_env(log_file=log)
    signed_with = public_key_fingerprints(shipped[0], log)
    if key.fingerprint not in signed_with:
        raise PublishError(
            f"{ENV_KEY}={key.fingerprint} is not the key {shipped[0]} holds ({', '.join(sorted(signed_with))}), "
            f"which signed the packages — fix: set {ENV_KEY} to that key to sign {SUMS_NAME}"
        )
    return key, shipped[0]


def refresh_provenances(
    layout: Layout, dists: tuple[Dist, ...], key: Key | None, pubkey: Path | None, console: Console, *, dry_run: bool
) -> None:
    """Each dist's provenance with subjects up to date where ``gate`` rewrote check reports since the build."""
    for d in dists:
        where = layout.dist(d.name)
        if dry_run:
            continue
        changed = refresh(
            where.provenance(where.output), where.output.root, d.name, key, pubkey, log=layout.log("sign.log")
        )
        if changed:
            console.say(
                f"{d.name}: provenance subjects brought up to date "
                f"({len(changed)} check report(s) rewritten since the build)"
            )


def sign_sums(layout: Layout, key: Key | None, console: Console, *, dry_run: bool) -> None:
    """A signed release gets ``SHA256SUMS.asc``, by the key its packages were signed with; an
    unsigned one none (a stale one is removed)."""
    asc = layout.release_out / SUMS_SIGNATURE
    if key is None:
        asc.unlink(missing_ok=True)
        return
    if dry_run:
        console.say(f"[dry-run] would sign {SUMS_NAME} with {key.fingerprint}")
        return
    sign_detached(layout.sums_file, key, asc, log=layout.log("sign.log"))
    console.say(f"signed {SUMS_NAME} with {key.fingerprint}: {asc}")
