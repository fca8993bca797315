"""pmrepo.pipeline.preflight: every problem of the run about to start found at once, one line each
(PreflightError), from small fakes: a build check that answers, a container engine, a signing key,
a local mirror directory; the demo manifest as the release."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from synthetic import make_release

from pmrepo import manifest
from pmrepo.defaults import DEMO_RELEASE
from pmrepo.errors import ManifestError, SigningError
from pmrepo.manifest import Release
from pmrepo.pipeline import preflight
from pmrepo.pipeline.preflight import Input, Needs, PreflightError

DEMO = manifest.load(DEMO_RELEASE)


def inp(
    tmp_path: Path,
    build: Callable[[], tuple[list[str], str]] = lambda: ([], "builds"),
    release: Release = DEMO,
) -> Input:
    return Input(
        release,
        tuple(release.dists.values()),
        tmp_path / "work",
        tmp_path / "out",
        tmp_path / "preflight.log",
        build,
    )


def test_a_preflight_error_is_every_problem_one_line_each() -> None:
    err = PreflightError(["a — fix: x", "b — fix: y"])
    assert str(err) == "a — fix: x\nb — fix: y" and err.problems == ["a — fix: x", "b — fix: y"]
    assert err.exit_code == 2


def test_a_release_date_after_today_is_refused() -> None:
    today = dt.date.today()
    assert preflight.future_date(dataclasses.replace(DEMO, date=today)) is None
    late = preflight.future_date(dataclasses.replace(DEMO, date=today + dt.timedelta(days=1)))
    assert isinstance(late, ManifestError) and late.field == "release.date" and late.path == DEMO.path
    assert f"is after today ({today} on this host's clock)" in str(late)
    assert str(late).endswith("— fix: write the release's date, today or earlier (set it on the release day)")


def test_min_free_space_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(preflight.ENV_MIN_FREE, raising=False)
    assert preflight.min_free_bytes() == 1024 << 20
    monkeypatch.setenv(preflight.ENV_MIN_FREE, " 2048 ")
    assert preflight.min_free_bytes() == 2048 << 20
    for bad in ("2G", "-1", "1.5"):
        monkeypatch.setenv(preflight.ENV_MIN_FREE, bad)
        with pytest.raises(PreflightError) as exc:
            preflight.min_free_bytes()
        assert exc.value.problems == [
            f"PMREPO_MIN_FREE_MIB={bad}: not a whole number of MiB — fix: e.g. PMREPO_MIN_FREE_MIB=2048"
        ]


def test_free_space_is_asked_once_per_filesystem_of_paths_not_yet_made(tmp_path: Path) -> None:
    paths = [tmp_path / "not" / "yet" / "work", tmp_path / "out"]  # one filesystem
    assert preflight.disk_problems(paths, 0) == []
    (line,) = preflight.disk_problems(paths, 1 << 60)
    assert line.startswith(f"{paths[0]}: ") and "MiB free on its filesystem, the run needs" in line
    assert line.endswith("— fix: free space, use --workdir/--outdir elsewhere, or set PMREPO_MIN_FREE_MIB")


def test_what_a_build_needs_is_asked_only_when_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def build() -> tuple[list[str], str]:
        asked.append(1)
        return ["sources: x unpinned — fix: pin"], ""

    monkeypatch.setenv(preflight.ENV_MIN_FREE, "1")
    assert preflight.problems(inp(tmp_path, build), Needs(build=False)) == ([], [])
    assert asked == []
    bad, good = preflight.problems(inp(tmp_path, build), Needs())
    assert asked == [1] and bad == ["sources: x unpinned — fix: pin"]
    assert good == [f"at least 1 MiB free for {tmp_path / 'work'} and {tmp_path / 'out'}"]
    monkeypatch.setenv(preflight.ENV_MIN_FREE, "lots")
    bad, good = preflight.problems(inp(tmp_path), Needs())
    assert bad == ["PMREPO_MIN_FREE_MIB=lots: not a whole number of MiB — fix: e.g. PMREPO_MIN_FREE_MIB=2048"]
    assert good == ["builds"]


def test_check_raises_every_problem_or_returns_what_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(preflight.ENV_MIN_FREE, str(1 << 40))  # more than any disk here
    with pytest.raises(PreflightError) as exc:
        preflight.check(inp(tmp_path, lambda: (["backend: mock missing — fix: install it"], "")), Needs(target=""))
    assert exc.value.problems[0] == "backend: mock missing — fix: install it"
    assert "MiB free on its filesystem" in exc.value.problems[1]
    assert exc.value.problems[2] == "publish: no mirror given — fix: pass --target URL or set PUBLISH_TARGET"
    assert len(exc.value.problems) == 3
    monkeypatch.setenv(preflight.ENV_MIN_FREE, "1")
    assert preflight.check(inp(tmp_path), Needs()) == [
        "builds",
        f"at least 1 MiB free for {tmp_path / 'work'} and {tmp_path / 'out'}",
    ]


def test_a_mirror_directory_is_asked_as_publish_would(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    assert preflight.problems(inp(tmp_path), Needs(build=False, target=str(mirror))) == (
        [],
        [f"mirror {mirror} reachable"],
    )
    (mirror / DEMO.release_id).mkdir()
    bad, _ = preflight.problems(inp(tmp_path), Needs(build=False, target=str(mirror)))
    assert len(bad) == 1 and bad[0].startswith(f"publish: release {DEMO.release_id} is already published at ")
    assert "fix: pass --replace" in bad[0]
    assert preflight.problems(inp(tmp_path), Needs(build=False, target=str(mirror), replace=True))[0] == []


def test_a_key_that_cannot_sign_is_one_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmrepo.sign import signer

    def no_key(log_file: Path | None = None) -> signer.Key:
        raise SigningError("PMREPO_GPG_KEY is not set — fix: export PMREPO_GPG_KEY=<fingerprint>")

    monkeypatch.setattr(signer, "key_from_env", no_key)
    assert preflight.signing_problems(tmp_path / "log") == (
        ["signing: PMREPO_GPG_KEY is not set — fix: export PMREPO_GPG_KEY=<fingerprint>"],
        "",
    )
    bad, _ = preflight.problems(inp(tmp_path), Needs(build=False, sign=True))
    assert bad == ["signing: PMREPO_GPG_KEY is not set — fix: export PMREPO_GPG_KEY=<fingerprint>"]


class FakeEngine:
    name = "podman"

    def __init__(self, images: set[str]) -> None:
        self.images = images

    def image_labels(self, ref: str, log: Path | None = None) -> dict[str, str] | None:
        return {} if ref in self.images else None


def test_container_images_missing_from_the_engines_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmrepo.checks import container

    engine = FakeEngine({"centos:7"})
    monkeypatch.setattr(container, "detect_engine", lambda choice, conf, log: engine)
    bad, fine = preflight.container_problems(inp(tmp_path), "podman", None, tmp_path / "log")
    assert bad == [
        "container: image centos:6 is not in podman's local store — fix: `podman pull centos:6` (or load it), "
        "or use --container-image local"
    ]
    assert fine == "podman with centos:6, centos:7"
    assert preflight.container_problems(inp(tmp_path), "podman", "centos:7", tmp_path / "log") == (
        [],
        "podman with centos:7",
    )


def test_no_container_engine_is_one_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmrepo.checks import container

    def none_works(choice: str, conf: Path | None, log: Path) -> FakeEngine:
        raise container.ContainerError("no working container engine (podman, docker) — fix: run `make setup`")

    monkeypatch.setattr(container, "detect_engine", none_works)
    bad, _ = preflight.problems(inp(tmp_path), Needs(build=False, container="auto"))
    assert bad == ["container: no working container engine (podman, docker) — fix: run `make setup`"]


def test_the_local_image_is_built_only_with_debootstrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmrepo.checks import container
    from pmrepo.checks.container.image import testroot

    monkeypatch.setattr(container, "detect_engine", lambda choice, conf, log: FakeEngine(set()))
    monkeypatch.setattr(testroot, "image_is_current", lambda engine, recipe, log: True)
    ref = testroot.ImageRecipe().ref
    assert preflight.container_problems(inp(tmp_path), "podman", "local", tmp_path / "log") == (
        [],
        f"podman with {ref}",
    )
    monkeypatch.setattr(testroot, "image_is_current", lambda engine, recipe, log: False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    bad, _ = preflight.container_problems(inp(tmp_path), "podman", "local", tmp_path / "log")
    assert bad == [f"container: image {ref} is not built and debootstrap is missing — fix: run `make setup`"]
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/sbin/debootstrap")
    assert preflight.container_problems(inp(tmp_path), "podman", "local", tmp_path / "log") == (
        [],
        f"podman ({ref} will be built)",
    )


def test_preflight_log_without_a_workdir_is_private_never_a_shared_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before issue 18 it was /tmp/pmrepo-preflight-<uid>.log, appended to through a symlink planted there."""
    from pmrepo.pipeline.orchestrator import Options, Pipeline

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / f"pmrepo-preflight-{os.getuid()}.log").symlink_to(victim)
    path = make_release(tmp_path / "rel", {"a": []})
    pipe = Pipeline(Options(release=path, workdir=tmp_path / "no-work", outdir=tmp_path / "no-out"), say=lambda s: None)
    preflight.problems(
        pipe.preflight_input(), preflight.Needs(build=False, target=f"rsync://{tmp_path}/no-mirror")
    )  # runs sh -c, logged
    assert victim.read_text() == "precious\n"
    logs = list(tmp_path.glob("pmrepo-preflight-*/preflight.log"))
    assert logs and all(p.parent.stat().st_mode & 0o777 == 0o700 for p in logs)
    # with nothing wrong, the private directory is not left behind
    bad, _ = preflight.problems(pipe.preflight_input(), preflight.Needs(build=False))
    dirs = [p for p in tmp_path.glob("pmrepo-preflight-*") if p.is_dir() and not p.is_symlink()]
    assert bad == [] and len(dirs) == len(logs)
