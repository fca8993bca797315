"""Assembly of one dist's release from finished builds.

repository tree (+ comps group) → metapackage → createrepo_c → (signatures)
→ the SBOM at each repository's root (``pmrepo.attest.sbom``) → repo packages → the
checks (``pmrepo.checks``: one ordered list) → output directory
``repo/<release_id>/<dist>/`` with the SBOM (with the repo packages' sha256),
its ``build.json`` (``records.BuildRecord``) and the provenance
(``pmrepo.attest.provenance``, signed with the release key when signing), written to a
staging directory and renamed into place only after every check passed. Reused
as a whole when none of its inputs changed. Every path comes from
``layout.DistLayout``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..attest import provenance, sbom
from ..attest.provenance import BuildInputs, RunInfo
from ..checks import REQUIRED_CHECKS, Check, CheckContext, run_checks
from ..checks.rpmlint import CONFIG as GATE_CONFIG
from ..errors import BuildError
from ..fsutil import sha256_file, write_atomic
from ..layout import DistLayout, Output, repo_rpm_dir
from ..manifest import Dist, Release
from ..progress import Say, StepFn, quiet_step
from ..records import BuildRecord, FileInfo, RecordError, RpmInfo
from ..render.environment import TEMPLATES
from ..rpmfile import unsigned_digest
from ..schedule.jobs import JobResult
from ..sign.signer import Signer, strip_signatures
from . import installset, repopkg, repository


@dataclass
class Assembly:
    release: Release
    dist: Dist
    layout: DistLayout
    say: Say
    signer: Signer | None = None
    checks: list[Check] = field(default_factory=list)  # run in this order (pmrepo.checks)
    backend: str = ""  # the build backend's name, recorded in build.json (the notes say what it implies)
    step: StepFn = quiet_step  # announces and times the slow parts (e.g. Console.step)
    unshippable: str = ""  # why the builds may not be published (build.json says so); "" = shippable
    run_info: RunInfo | None = None  # the run the provenance records (None: one starting now)
    build_repos: dict[str, str] | None = None  # the backend's build root repositories (None: the host's packages)

    @property
    def final(self) -> Path:
        return self.layout.output.root

    def select(self, results: dict[tuple[str, str], JobResult]) -> tuple[list[Path], list[Path], list[Path]]:
        """The manifest's packages for this dist: (shipped, debuginfo, SRPMs)."""
        built: dict[str, Path] = {}
        srpms: list[Path] = []
        comps = self.release.components_for(self.dist.name)
        for comp in comps:
            res = results[(comp.name, self.dist.name)]
            built.update({rpm_name(p): p for p in res.binary_rpms})
            if res.srpm:
                srpms.append(res.srpm)
        ship: list[Path] = []
        debug: list[Path] = []
        for comp in comps:
            for kind, names, out in (
                ("package", comp.packages_for(self.dist.name), ship),
                ("debuginfo package", comp.debuginfo.get(self.dist.name, ()), debug),
            ):
                for pkg in names:
                    if pkg not in built:
                        made = sorted(rpm_name(p) for p in results[(comp.name, self.dist.name)].binary_rpms)
                        raise BuildError(
                            f"{comp.name} ({self.dist.name}): {kind} {pkg} listed in {self.release.path} "
                            f"was not built (built: {', '.join(made)}) "
                            "— fix: correct the manifest or the spec"
                        )
                    out.append(built[pkg])
        return ship, debug, srpms

    def key(self, results: dict[tuple[str, str], JobResult], comps_xml: str, shipped: Sequence[Path]) -> str:
        rel = self.release
        templates = repopkg.template_files()
        return _digest(
            {
                "builds": sorted(r.key for (c, d), r in results.items() if d == self.dist.name),
                "comps": comps_xml,
                "requires": repopkg.metapackage_requires(rel, self.dist),
                "templates": [hashlib.sha256(p.read_bytes()).hexdigest() for p in templates],
                "release": package_shape(rel, self.dist),  # every value that shapes the packages (a new one too)
                # the very files (a forced rebuild keeps its key but makes new files)
                "files": sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in shipped),
                "signed": self.signer.key.fingerprint if self.signer else None,
                "checks": [c.name for c in self.checks],
                "gate_config": [rel.rpmlint_filters, hashlib.sha256(GATE_CONFIG.read_bytes()).hexdigest()],
                "release_key": rel.key,  # the manifest itself: build.json must name the one it was built from
                "unshippable": self.unshippable,
            }
        )

    def run(self, results: dict[tuple[str, str], JobResult]) -> Path:
        rel, dist = self.release, self.dist
        ship, debug, srpms = self.select(results)
        comps_xml = repopkg.render_comps(rel, dist)
        key = self.key(results, comps_xml, [*ship, *debug, *srpms])
        meta_path = self.layout.output.build_json
        recorded = _record(meta_path)
        if recorded is not None and recorded.key == key:
            problem = verify_output(self.layout.output, recorded) or self._attestations_missing()
            if problem is None:
                self.say(f"{dist.name}: repository and repo packages unchanged, reused {self.final}")
                return self.final
            self.say(f"{dist.name}: {problem}: the output is not reused, assembling {self.final} again")
        run_info = self.run_info or RunInfo.now()
        with self.step(f"{dist.name}: repository and repo packages"):
            meta_rpm, repo_rpms, pubkey, content = self._assemble(ship, debug, srpms, comps_xml)
        inputs = self._build_inputs(results, content)
        return self._check_and_place(key, ship, meta_rpm, repo_rpms, pubkey, (content, inputs, run_info))

    def _attestations_missing(self) -> str | None:
        """What an earlier output lacks of the SBOM and provenance (None: both there)."""
        out, where = self.layout.output, self.layout
        for path in (where.sbom(out), where.provenance(out)):
            if not path.is_file():
                return f"{path} is missing"
        return None

    def _build_inputs(self, results: dict[tuple[str, str], JobResult], content: sbom.DistContent) -> BuildInputs:
        """What the provenance records of the dist's inputs: sources, templates, build roots."""
        rel, dist = self.release, self.dist
        templates = {  # the release's spec templates, relative to its manifest; the tool's, as pmrepo/templates/…
            **{os.path.relpath(c.spec, rel.root): sha256_file(c.spec) for c in rel.components_for(dist.name)},
            **{
                f"pmrepo/templates/{p.relative_to(TEMPLATES).as_posix()}": sha256_file(p)
                for p in repopkg.template_files()
            },
        }
        roots: dict[str, list[str]] = {}
        for (comp, d), res in sorted(results.items()):
            pkgs = provenance.build_root_packages(res.output.logs) if d == dist.name and res.output else None
            if pkgs is not None:
                roots[comp] = pkgs
        reused = {
            name: rec
            for (_, d), res in sorted(results.items())
            if d == dist.name and res.reused_from is not None
            for name, rec in res.reused_from.records().items()
        }
        return BuildInputs(
            rel,
            dist,
            self.backend,
            content.sources,
            templates,
            roots or None,
            reused=reused,
            build_repos=self.build_repos,
        )

    def _assemble(
        self, ship: list[Path], debug: list[Path], srpms: list[Path], comps_xml: str
    ) -> tuple[Path, list[Path], Path | None, sbom.DistContent]:
        rel, dist, where = self.release, self.dist, self.layout
        t0 = time.monotonic()
        for sub in where.assembled():
            shutil.rmtree(sub, ignore_errors=True)
        log = where.log("assemble.log")
        log.unlink(missing_ok=True)
        meta_rpm = repopkg.build_metapackage(rel, dist, where, log)
        write_atomic(where.comps_xml, comps_xml)
        # signed: every RPM by this release's key (rpmsign replaces a reused build's earlier signature, or keeps
        # it when it is this key's); unsigned: none carries one (a build reused from a signed release neither)
        sign_hook = self.signer.sign_rpms if self.signer else functools.partial(strip_signatures, log=log)
        trees = where.trees()
        # three self-contained repositories; the comps group only in the main one
        for kind, rpms in (("main", [*ship, meta_rpm]), ("debuginfo", debug), ("src", srpms)):
            repository.make_repository(
                trees[kind],
                rpms,
                groupfile=where.comps_xml if kind == "main" else None,
                revision=rel.epoch,
                log=log,
                before_index=sign_hook,
            )
        pubkey = None
        if self.signer:
            for repo in trees.values():
                self.signer.sign_repo(repo)
            pubkey = self.signer.public_key(where.public_key(rel.repo("main").repo_id))
        self.say(
            f"{dist.name}: repositories of {len(ship) + 1} packages, {len(debug)} debuginfo, {len(srpms)} SRPMs "
            f"({time.monotonic() - t0:.1f}s)"
        )
        content = sbom.collect(rel, dist, trees, log=log)
        for tree in trees.values():  # inside each repository: a mirror and an installed repository carry it
            sbom.write(where.tree_sbom(tree), content)
        repo_rpms = repopkg.build_repo_packages(
            rel, dist, where, trees=trees, log=log, gpg_key=pubkey, sbom_name=where.sbom_name
        )
        if self.signer and pubkey:
            self.signer.sign_rpms(repo_rpms)
            everything = [*(p for t in trees.values() for p in t.glob("rpm/*.rpm")), *repo_rpms]
            self.signer.verify(everything, list(trees.values()), pubkey)
            self.say(f"{dist.name}: signed and verified {len(everything)} packages and {len(trees)} repomd.xml")
        self.say(f"{dist.name}: built {', '.join(p.name for p in repo_rpms)} ({time.monotonic() - t0:.1f}s)")
        return meta_rpm, repo_rpms, pubkey, content

    def _check_and_place(
        self,
        key: str,
        ship: list[Path],
        meta_rpm: Path,
        repo_rpms: list[Path],
        pubkey: Path | None,
        attest: tuple[sbom.DistContent, BuildInputs, RunInfo],
    ) -> Path:
        """Fill a new staging output (the repo packages, the public key, the SBOM), run the checks
        on it, write its build.json and provenance, then rename it into place as the dist's output
        (nothing is published: ``publish`` uploads later). A failure leaves no staging behind."""
        rel, dist = self.release, self.dist
        content, inputs, run_info = attest
        staging = self.layout.new_staging()
        try:
            for p in repo_rpms:
                shutil.copyfile(p, staging.root / p.name)
            if pubkey:
                shutil.copyfile(pubkey, staging.root / pubkey.name)
            sbom.write(self.layout.sbom(staging), sbom.with_repo_packages(content, staging.rpms()))
            ctx = CheckContext.for_dist(rel, dist, self.layout, repo_rpms, staging, say=self.say, step=self.step)
            found = run_checks(self.checks, ctx, "all")
            found.raise_for_failure()
            notes = found.notes()
            files = {p.name: FileInfo(p.stat().st_size, sha256_file(p)) for p in staging.rpms()}
            expected = installset.expected(rel, dist, rpms=[*ship, meta_rpm], log=self.layout.log("assemble.log"))
            BuildRecord(
                dist=dist.name,
                release=rel.release_id,
                key=key,
                checks=notes,
                release_key=rel.key,
                manifest=str(rel.path),
                unchecked=tuple(c for c in REQUIRED_CHECKS if c not in notes),
                signed=pubkey is not None,
                backend=self.backend,
                packages=shipped_versions(content, [*ship, meta_rpm]),
                files=files,
                shippable=not self.unshippable,
                not_shippable=self.unshippable,
                expected_install=tuple(expected.packages),
                rpms=rpm_digests_of(list(self.layout.trees().values())),
                reused=dict(inputs.reused),
            ).write(staging.build_json)
            self._write_provenance(staging, inputs, run_info)
            replace_dir(staging.root, self.final, self.layout.staging_root)
            with contextlib.suppress(OSError):
                self.layout.staging_root.rmdir()  # only when empty
        except BaseException:
            shutil.rmtree(staging.root, ignore_errors=True)
            raise
        return self.final

    def _write_provenance(self, staging: Output, inputs: BuildInputs, run_info: RunInfo) -> Path:
        """The provenance of everything in ``staging`` (itself excepted), signed when signing."""
        path = self.layout.provenance(staging)
        key, log = (self.signer.key, self.signer.log) if self.signer else (None, None)
        with self.step(f"{self.dist.name}: provenance{' (signed)' if key else ''}"):
            subjects = provenance.subjects_of(staging.root, self.dist.name, {path.name})
            stmt = provenance.statement(subjects, inputs, run_info, dt.datetime.now(dt.UTC), signed=key is not None)
            return provenance.write(path, stmt, key, log=log)


def rpm_digests_of(trees: Sequence[Path]) -> dict[str, RpmInfo]:
    """Every RPM of the repositories, as shipped (signed or not), and its unsigned digest."""
    return {
        p.name: RpmInfo(sha256_file(p), unsigned_digest(p))
        for t in trees
        for p in sorted(repo_rpm_dir(t).glob("*.rpm"))
    }


def _record(path: Path) -> BuildRecord | None:
    """The build.json of an earlier assembly (None: none, or not usable: assembled again)."""
    if not path.is_file():
        return None
    try:
        return BuildRecord.read(path)
    except RecordError:
        return None


def verify_output(out: Output, meta: BuildRecord) -> str | None:
    """What is wrong with an assembled output (None: every RPM is the one
    build.json records, and its digests are intact)."""
    from ..checks.integrity import recorded_rpms

    if not meta.files:
        return f"{out.build_json} records no files"
    return recorded_rpms(out.root, {name: f.sha256 for name, f in meta.files.items()}, out.build_json)


def replace_dir(new: Path, final: Path, scratch: Path) -> None:
    """Put directory ``new`` at ``final``: an existing ``final`` is moved into
    ``scratch`` first and moved back if the second rename fails. (Between the
    two renames ``final`` is briefly absent; a run killed exactly there leaves
    the previous output in ``scratch`` and the next run rebuilds it.)"""
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        new.rename(final)
        return
    old = scratch / f"old-{final.name}-{os.getpid()}"
    final.rename(old)
    try:
        new.rename(final)
    except OSError:
        old.rename(final)
        raise
    shutil.rmtree(old)


def clean_scratch(staging: Path) -> None:
    """Remove what an interrupted run left in the staging directory
    (``Layout.staging``; the caller holds the output directory's lock, so
    nothing there is in use)."""
    shutil.rmtree(staging, ignore_errors=True)


def rpm_name(path: Path) -> str:
    """Package name from an RPM file name (name-version-release.arch.rpm)."""
    return path.name[: -len(".rpm")].rsplit(".", 1)[0].rsplit("-", 2)[0]


def shipped_versions(content: sbom.DistContent, shipped: Sequence[Path]) -> dict[str, str]:
    """name -> version-release of the ``shipped`` packages (the main repository's), in their order,
    as their own headers say (the record ``sbom.collect`` read from each RPM), not parsed out of a file name."""
    main = {r.file_name: r for r in content.rpms if r.repository == "main"}
    missing = [p.name for p in shipped if p.name not in main]
    if missing:
        raise BuildError(f"{content.dist}: no header record of {', '.join(missing)} in the main repository")
    return {main[p.name].name: f"{main[p.name].version}-{main[p.name].release}" for p in shipped}


# Release fields that do not shape the packages of a dist: where the manifest is, the notes' texts,
# the manifest's own digest (in the key as release_key) and the gates' filters (in the key as gate_config).
NOT_PACKAGE_SHAPING = frozenset(
    {
        "path",
        "root",
        "follows",
        "key",
        "note_groups",
        "change_notes",
        "known_issues",
        "upgrade_warnings",
        "sections",
        "rpmlint_filters",
    }
)
# Component fields that do not shape its packages: the notes' texts, and where its releases appear
COMPONENT_NOTES = frozenset({"known_issues", "change_notes", "upgrade_warnings", "group", "upstream"})


def package_shape(rel: Release, dist: Dist) -> dict[str, object]:
    """Every value of ``rel`` that shapes ``dist``'s packages, as plain data: each field of the
    release but ``NOT_PACKAGE_SHAPING`` (so a new field counts by default), only this dist's
    entry and components, each component without its notes' texts; paths relative to the manifest."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(rel):
        if f.name in NOT_PACKAGE_SHAPING:
            continue
        value = getattr(rel, f.name)
        if f.name == "dists":
            value = value[dist.name]
        elif f.name == "components":
            value = [
                {g.name: getattr(c, g.name) for g in dataclasses.fields(c) if g.name not in COMPONENT_NOTES}
                for c in rel.components_for(dist.name)
            ]
        out[f.name] = _plain(value, rel.root)
    return out


def _plain(value: object, root: Path) -> object:
    """JSON-able data of ``value``: dataclasses and mappings as dicts, sequences as lists, paths relative to root."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), root) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, root) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, root) for v in value]
    if isinstance(value, Path):
        return str(value.relative_to(root)) if value.is_relative_to(root) else str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
