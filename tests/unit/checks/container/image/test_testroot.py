"""The local test image: what its digest covers (the recipe, its files, the build steps' version —
not the mirror), the OS package's spec, reuse of a current image under a lock that follows no
link, the refusals before a build (not root, a tool missing), and a build with debootstrap, rpm,
tar and the engine played by fakes: the command lines, the files put into the root, the label the
import must carry, the outdated image removed (a real build: tests/integration/test_container.py)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from pmrepo.checks.container.engine import Engine
from pmrepo.checks.container.image import testroot
from pmrepo.checks.container.image.testroot import (
    EMPTY_REPO,
    LABEL,
    OS_PACKAGE,
    ImageBuildError,
    ImageRecipe,
    ensure_image,
    image_is_current,
    os_package_spec,
)
from pmrepo.errors import PmrepoError
from pmrepo.run import Result


class FakeEngine(Engine):
    """An engine's image store: ``image inspect`` answers its labels and id, ``import`` replaces them."""

    def __init__(self, labels: dict[str, str] | None = None, image_id: str = "") -> None:
        super().__init__("podman", "/usr/bin/podman", {}, "4.3.1")
        self.labels, self.image_id = labels, image_id
        self.import_label: str | None = None  # what `import` labels the image with (None: the --change's)
        self.calls: list[list[str]] = []

    def run(
        self,
        args: Sequence[str],
        log: Path | None,
        *,
        check: bool = True,
        input_text: str | None = None,
        timeout: float | None = None,
    ) -> Result:
        self.calls.append(list(args))
        if args[:2] == ["image", "inspect"]:
            if self.labels is None:
                return Result(list(args), 125, "Error: no such image\n", log)
            out = json.dumps(self.labels) if "Labels" in args[3] else self.image_id
            return Result(list(args), 0, f"WARN[0000] a warning first\n{out}\n", log)
        if args[0] == "import":
            change = next(a for a in args if a.startswith(f"LABEL {LABEL}="))
            self.labels = {LABEL: self.import_label or change.split("=", 1)[1]}
            self.image_id = "new-id"
        return Result(list(args), 0, "", log)


# -- the recipe and its digest ----------------------------------------------------------------


def test_the_digest_covers_the_recipe_but_not_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    base = ImageRecipe()
    assert base.ref == "localhost/pmrepo-testroot:bookworm"
    assert len(base.digest()) == 16 and int(base.digest(), 16) >= 0
    assert ImageRecipe(mirror="http://mirror.example/debian").digest() == base.digest()
    assert ImageRecipe(repository="localhost/other").digest() == base.digest()  # the name, not the content
    others = [ImageRecipe(suite="trixie"), ImageRecipe(variant="buildd"), ImageRecipe(packages=("rpm",))]
    assert len({base.digest(), *(r.digest() for r in others)}) == 4
    before = base.digest()
    monkeypatch.setattr(testroot, "RECIPE_VERSION", testroot.RECIPE_VERSION + 1)
    assert ImageRecipe().digest() != before  # the build steps changed


def test_the_digest_covers_the_files_put_into_the_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "image"
    shutil.copytree(testroot.HERE, here, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    before = ImageRecipe().digest()
    monkeypatch.setattr(testroot, "HERE", here)
    assert ImageRecipe().digest() == before  # the same files
    (here / "notes.txt").write_text("not put into the image")
    assert ImageRecipe().digest() == before
    (here / "dnf.conf").write_text((here / "dnf.conf").read_text() + "# changed\n")
    assert ImageRecipe().digest() != before


def test_the_mirror_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PMREPO_DEBIAN_MIRROR", raising=False)
    assert ImageRecipe().mirror == "http://deb.debian.org/debian"
    monkeypatch.setenv("PMREPO_DEBIAN_MIRROR", "http://local.mirror/debian")
    assert ImageRecipe().mirror == "http://local.mirror/debian"


def test_the_os_package_provides_the_paths_and_runs_ldconfig_as_glibc_does() -> None:
    spec = os_package_spec(["/bin/sh", "/usr/bin/perl"]).splitlines()
    assert spec[0] == f"Name:           {OS_PACKAGE}"
    assert [ln.split()[1] for ln in spec if ln.startswith("Provides:")] == ["/bin/sh", "/usr/bin/perl"]
    assert "BuildArch:      noarch" in spec
    for trigger in ("%transfiletriggerin -- /lib64 /usr/lib64", "%transfiletriggerpostun -- /lib64 /usr/lib64"):
        assert spec[spec.index(trigger) + 1] == "/sbin/ldconfig"
    assert spec[-1] == "%files"
    assert not [ln for ln in os_package_spec([]).splitlines() if ln.startswith("Provides:")]


# -- reuse ----------------------------------------------------------------------------------


def test_a_current_image_is_reused_without_a_build(tmp_path: Path) -> None:
    recipe = ImageRecipe()
    engine = FakeEngine({LABEL: recipe.digest(), "other": "x"})
    said: list[str] = []
    info = ensure_image(engine, log_dir=tmp_path / "logs", recipe=recipe, tmp_dir=tmp_path / "tmp", say=said.append)
    assert (info.ref, info.digest, info.built, info.phases) == (recipe.ref, recipe.digest(), False, {})
    assert info.log == tmp_path / "logs" / "testroot-image.log" and said == []
    assert [c[0] for c in engine.calls] == ["image"]  # asked, nothing built
    lock = tmp_path / "tmp" / "pmrepo-testroot-bookworm.lock"
    assert lock.is_file() and lock.stat().st_mode & 0o777 == 0o600


def test_image_is_current_only_with_the_recipes_digest() -> None:
    recipe = ImageRecipe()
    assert image_is_current(FakeEngine({LABEL: recipe.digest()}), recipe)
    assert not image_is_current(FakeEngine({LABEL: "0" * 16}), recipe)
    assert not image_is_current(FakeEngine({}), recipe)
    assert not image_is_current(FakeEngine(None), recipe)  # the engine does not have it


def test_the_lock_never_follows_a_link(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp" / "pmrepo-testroot-bookworm.lock").symlink_to(tmp_path / "elsewhere")
    current = FakeEngine({LABEL: ImageRecipe().digest()})  # nothing to build, whatever the lock does
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        ensure_image(current, log_dir=tmp_path / "logs", tmp_dir=tmp_path / "tmp")
    assert not (tmp_path / "elsewhere").exists()


# -- building -------------------------------------------------------------------------------


def test_building_needs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ImageBuildError) as err:
        ensure_image(FakeEngine(None), log_dir=tmp_path, tmp_dir=tmp_path / "tmp")
    assert str(err.value) == (
        "building the test image localhost/pmrepo-testroot:bookworm needs root (debootstrap, chroot) — fix: run as "
        "root, or provide the image yourself"
    )


def test_building_names_a_missing_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "rpmbuild" else f"/usr/bin/{tool}")
    with pytest.raises(
        ImageBuildError, match=r"needs 'rpmbuild', which is not installed — fix: run `\./build\.py setup`"
    ):
        ensure_image(FakeEngine(None), log_dir=tmp_path, tmp_dir=tmp_path / "tmp")


class FakeTools:
    """debootstrap, createrepo_c, chroot, rpmbuild and tar as the build runs them, on the work tree."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.spec = ""
        self.inside: list[bool] = []  # whether the OS package was in the root when rpm -i ran

    def __call__(
        self, argv: Sequence[str], *, log_file: Path | None = None, error: type[PmrepoError], timeout: float = 0
    ) -> Result:
        args = [str(a) for a in argv]
        self.calls.append(args)
        assert error is ImageBuildError
        out = ""
        if args[0] == "debootstrap":
            root = Path(args[4])
            for d in ("etc/ld.so.conf.d", "tmp", "usr/share/doc/bash", "var/cache/apt/archives"):
                (root / d).mkdir(parents=True)
            (root / "var/cache/apt/archives/lock").write_text("")
            (root / "var/cache/apt/archives/rpm.deb").write_text("deb")
        elif args[0] == "createrepo_c":
            (Path(args[2]) / "repodata").mkdir()
        elif args[:2] == ["chroot", args[1]] and args[2] == "sh":
            out = "/bin/sh\n/usr/bin/perl\n/not/probed\n"
        elif args[0] == "rpmbuild":
            top = Path(args[args.index("--define") + 1].removeprefix("_topdir "))
            self.spec = Path(args[-1]).read_text()
            (top / "RPMS" / "noarch").mkdir(parents=True)
            (top / "RPMS" / "noarch" / f"{OS_PACKAGE}-1-1.noarch.rpm").write_bytes(b"rpm")
        elif args[0] == "chroot" and args[2] == "rpm":
            self.inside.append((Path(args[1]) / args[4].lstrip("/")).is_file())
        return Result(args, 0, out, log_file)


@pytest.fixture
def tools(monkeypatch: pytest.MonkeyPatch) -> FakeTools:
    fake = FakeTools()
    monkeypatch.setattr(testroot, "run", fake)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/bin/{tool}")
    return fake


def test_a_build_from_debootstrap_to_the_labelled_import(
    tools: FakeTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = ImageRecipe(mirror="http://m/debian")
    engine = FakeEngine({LABEL: "outdated"}, image_id="old-id")
    seen: dict[str, str] = {}
    real_configure = testroot._configure

    def configure(root: Path, work: Path, log: Path) -> None:
        real_configure(root, work, log)
        seen["base"] = (root / "etc/yum.repos.d/CentOS-Base.repo").read_text()
        seen["trimmed"] = " ".join(sorted(p.name for p in (root / "var/cache/apt/archives").iterdir()))
        seen["doc"] = str(list((root / "usr/share/doc").iterdir()))
        seen["lib64"] = (root / "etc/ld.so.conf.d/el-lib64.conf").read_text()
        seen["empty"] = str((root / EMPTY_REPO.lstrip("/") / "repodata").is_dir())

    monkeypatch.setattr(testroot, "_configure", configure)
    said: list[str] = []
    info = ensure_image(engine, log_dir=tmp_path / "logs", recipe=recipe, tmp_dir=tmp_path / "tmp", say=said.append)
    assert info.built and list(info.phases) == ["debootstrap", "configure", "import"]
    debootstrap = tools.calls[0]
    root = Path(debootstrap[4])
    assert debootstrap == [
        "debootstrap",
        "--variant=minbase",
        "--include=rpm,dnf",
        "bookworm",
        str(root),
        "http://m/debian",
    ]
    assert "@EMPTY_REPO@" not in seen["base"] and f"baseurl=file://{EMPTY_REPO}/" in seen["base"]
    assert seen["trimmed"] == "lock" and seen["doc"] == "[]" and seen["empty"] == "True"
    assert seen["lib64"] == (testroot.HERE / "el-lib64.conf").read_text()
    assert os_package_spec(["/bin/sh", "/usr/bin/perl"]) == tools.spec  # the probed paths the root has
    assert tools.inside == [True]
    assert ["chroot", str(root), "ldconfig"] in tools.calls
    assert ["tar", "--numeric-owner", "-C", str(root), "-cf", str(root.parent / "root.tar"), "."] in tools.calls
    imported = next(c for c in engine.calls if c[0] == "import")
    assert imported[:3] == ["import", "--change", f"LABEL {LABEL}={recipe.digest()}"]
    assert imported[-2:] == [str(root.parent / "root.tar"), recipe.ref]
    assert engine.calls[-1] == ["rmi", "old-id"]  # the outdated build, untagged by the import
    assert not root.parent.exists()  # the work tree is removed
    assert said[0].startswith(f"building test image {recipe.ref} (minbase bookworm + rpm, dnf) from http://m/debian")
    assert said[1].startswith(f"built {recipe.ref} in ")


def test_an_import_without_the_label_is_an_error(tools: FakeTools, tmp_path: Path) -> None:
    engine = FakeEngine(None)
    engine.import_label = "something else"
    with pytest.raises(ImageBuildError) as err:
        ensure_image(engine, log_dir=tmp_path / "logs", tmp_dir=tmp_path / "tmp")
    assert str(err.value) == (
        f"podman import of localhost/pmrepo-testroot:bookworm did not yield an image labelled "
        f"{LABEL}={ImageRecipe().digest()} (log: {tmp_path / 'logs' / 'testroot-image.log'})"
    )
    assert not [c for c in engine.calls if c[0] == "rmi"]


def test_a_root_without_a_shell_is_refused(tools: FakeTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_shell(argv: Sequence[str], **kw: object) -> Result:
        res = tools(argv, **kw)  # type: ignore[arg-type]
        return Result(res.argv, 0, "/usr/bin/perl\n", None) if list(argv)[2:3] == ["sh"] else res

    monkeypatch.setattr(testroot, "run", no_shell)
    with pytest.raises(ImageBuildError, match=r"the test root .*/root has no /bin/sh \(log: "):
        ensure_image(FakeEngine(None), log_dir=tmp_path / "logs", tmp_dir=tmp_path / "tmp")
