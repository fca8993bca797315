"""Repository trees (pmrepo.assemble.repository): the createrepo_c command line, the check that its
output is what el6/el7 yum read, and make_repository's steps around it (copies, the hook before the
index, file times, every package indexed) with a stand-in for createrepo_c that writes metadata as
it does. ``write_repo`` makes such a repository; the verify layer's tests use it too."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pmrepo.assemble import repository
from pmrepo.errors import RepositoryError

Nevra = tuple[str, str, str, str]  # name, version, release, arch
REPO = "http://linux.duke.edu/metadata/repo"
COMMON = "http://linux.duke.edu/metadata/common"
PACK: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lambda b: b"\xfd7zXZ\x00" + b,
    "zst": lambda b: b,
}


def rpm_file(nevra: Nevra) -> str:
    name, version, release, arch = nevra
    return f"{name}-{version}-{release}.{arch}.rpm"


def primary_xml(root: Path, packages: Sequence[Nevra], sizes: Mapping[str, int] | None = None) -> bytes:
    """primary.xml as createrepo_c writes it for the files in ``root/rpm`` (sha256 and size of each)."""
    body = []
    for nevra in packages:
        name, version, release, arch = nevra
        path = root / "rpm" / rpm_file(nevra)
        data = path.read_bytes() if path.is_file() else b""
        body.append(
            f'<package type="rpm"><name>{name}</name><arch>{arch}</arch>'
            f'<version epoch="0" ver="{version}" rel="{release}"/>'
            f'<checksum type="sha256" pkgid="YES">{hashlib.sha256(data).hexdigest()}</checksum>'
            f'<size package="{(sizes or {}).get(rpm_file(nevra), len(data))}"/>'
            f'<location href="rpm/{rpm_file(nevra)}"/></package>'
        )
    return (
        f'<?xml version="1.0"?><metadata xmlns="{COMMON}" packages="{len(packages)}">' + "".join(body) + "</metadata>"
    ).encode()


def write_repo(
    root: Path,
    packages: Sequence[Nevra] = (),
    *,
    xml: str = "gz",
    db: str = "bz2",
    checksum: str = "sha256",
    group: bool = False,
    indexed: Sequence[Nevra] | None = None,
    drop: str = "",
    sizes: Mapping[str, int] | None = None,
) -> Path:
    """A repository at ``root``: ``rpm/`` with ``packages`` (a file's bytes are its name unless it is
    there already) and ``repodata/`` listing ``indexed`` (default: the packages; ``sizes``: the
    package sizes primary.xml records where they are not the files')."""
    (root / "rpm").mkdir(parents=True, exist_ok=True)
    for nevra in packages:
        path = root / "rpm" / rpm_file(nevra)
        if not path.exists():
            path.write_bytes(rpm_file(nevra).encode())
    rd = root / "repodata"
    rd.mkdir(exist_ok=True)
    files: list[tuple[str, str, bytes]] = [
        ("primary", f"primary.xml.{xml}", PACK[xml](primary_xml(root, packages if indexed is None else indexed, sizes)))
    ]
    files += [(k, f"{k}.xml.{xml}", PACK[xml](b"<?xml version='1.0'?><x/>")) for k in ("filelists", "other")]
    files += [
        (f"{k}_db", f"{k}.sqlite.{db}", PACK[db](b"SQLite format 3\x00")) for k in ("primary", "filelists", "other")
    ]
    if group:
        comps = b"<?xml version='1.0'?><comps/>"
        files += [("group", "comps.xml", comps), ("group_gz", "comps.xml.gz", gzip.compress(comps))]
    entries = []
    for kind, name, data in files:
        if kind == drop:
            continue
        (rd / name).write_bytes(data)
        digest = hashlib.new("sha1" if checksum == "sha" else checksum, data).hexdigest()
        entries.append(
            f'<data type="{kind}"><checksum type="{checksum}">{digest}</checksum>'
            f'<location href="repodata/{name}"/></data>'
        )
    (rd / "repomd.xml").write_text(f'<?xml version="1.0"?><repomd xmlns="{REPO}">{"".join(entries)}</repomd>')
    return root


LIBDEMO: Nevra = ("libdemo", "1.2", "1.el7", "x86_64")
DEMOD: Nevra = ("demod", "1.0", "3.el7", "x86_64")


def test_createrepo_c_gets_every_choice_explicitly(tmp_path: Path) -> None:
    args = repository.createrepo_args(tmp_path / "tree", None, 1700000000)
    assert args == [
        "createrepo_c",
        "--database",
        "--checksum",
        "sha256",
        "--repomd-checksum",
        "sha256",
        "--general-compress-type",
        "gz",
        "--revision",
        "1700000000",
        "--set-timestamp-to-revision",
        "--workers",
        "2",
        str(tmp_path / "tree"),
    ]
    grouped = repository.createrepo_args(tmp_path / "tree", tmp_path / "comps.xml", 1)
    assert grouped[-3:] == ["--groupfile", str(tmp_path / "comps.xml"), str(tmp_path / "tree")]


def test_metadata_old_yum_reads_passes(tmp_path: Path) -> None:
    md = repository.verify(write_repo(tmp_path / "r", [LIBDEMO], group=True), group=True)
    assert md.href("primary") == "repodata/primary.xml.gz" and md.href("group_gz") == "repodata/comps.xml.gz"
    assert repository.verify(write_repo(tmp_path / "sha1", checksum="sha"), group=False).entries["other"]


def test_repository_verify_refuses_what_el6_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match=r"yum 3\.2\.29 reads only gzip XML"):
        repository.verify(write_repo(tmp_path / "a", xml="bz2"), group=False)
    with pytest.raises(RepositoryError, match="no 'group' metadata"):
        repository.verify(write_repo(tmp_path / "b"), group=True)
    with pytest.raises(RepositoryError, match="unreadable repository metadata"):
        repository.verify(tmp_path / "nothing", group=False)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"drop": "filelists_db"}, "no 'filelists_db' metadata — el6/el7 yum need it; createrepo_c flags are wrong"),
        ({"checksum": "sha512"}, "primary uses checksum 'sha512'; yum 3.2.29 needs sha/sha1/sha256"),
        ({"db": "xz"}, "primary_db is repodata/primary.sqlite.xz; yum 3.2.29 reads only bz2/gzip sqlite"),
        ({"xml": "zst"}, "primary is repodata/primary.xml.zst; yum 3.2.29 reads only gzip XML"),
    ],
)
def test_each_refusal_is_one_line_naming_repomd_and_the_fix(tmp_path: Path, kw: dict[str, str], message: str) -> None:
    repo = write_repo(tmp_path / "r", **kw)  # type: ignore[arg-type]
    with pytest.raises(RepositoryError) as err:
        repository.verify(repo, group=False)
    assert str(err.value) == f"{repo / 'repodata' / 'repomd.xml'}: {message}"


def test_a_listed_file_that_is_missing_is_refused(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "r")
    (repo / "repodata" / "other.sqlite.bz2").unlink()
    with pytest.raises(RepositoryError, match=r"other_db points at missing repodata/other\.sqlite\.bz2$"):
        repository.verify(repo, group=False)


class FakeCreaterepo:
    """createrepo_c as make_repository calls it: writes the metadata of what is in rpm/ (or ``skip``s one)."""

    def __init__(self, packages: Sequence[Nevra], skip: Sequence[Nevra] = ()) -> None:
        self.packages, self.skip = packages, skip
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, argv: list[str], **kw: Any) -> None:
        self.calls.append((argv, kw))
        root = Path(argv[-1])
        write_repo(
            root, self.packages, group="--groupfile" in argv, indexed=[p for p in self.packages if p not in self.skip]
        )


def _built(tmp_path: Path) -> list[Path]:
    out = []
    for nevra in (LIBDEMO, DEMOD):
        path = tmp_path / "store" / rpm_file(nevra)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"built " + path.name.encode())
        out.append(path)
    return out


def test_make_repository_copies_hooks_stamps_and_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeCreaterepo([LIBDEMO, DEMOD])
    monkeypatch.setattr(repository, "run", fake)
    hooked: list[list[Path]] = []
    tree, groupfile, log = tmp_path / "tree", tmp_path / "comps.xml", tmp_path / "assemble.log"
    md = repository.make_repository(
        tree, _built(tmp_path), groupfile=groupfile, revision=1234567890, log=log, before_index=hooked.append
    )
    copies = [tree / "rpm" / rpm_file(LIBDEMO), tree / "rpm" / rpm_file(DEMOD)]
    assert hooked == [copies]  # the copies, before createrepo_c read them
    assert [p.read_bytes() for p in copies] == [b"built " + p.name.encode() for p in copies]
    assert fake.calls == [
        (repository.createrepo_args(tree, groupfile, 1234567890), {"log_file": log, "error": RepositoryError})
    ]
    stamped = [*copies, *(tree / "repodata").iterdir()]
    assert {int(os.stat(p).st_mtime) for p in stamped} == {1234567890}  # primary.xml records the mtimes
    assert "group" in md.entries


def test_make_repository_refuses_a_package_createrepo_c_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "run", FakeCreaterepo([LIBDEMO, DEMOD], skip=[DEMOD]))
    hooked: list[list[Path]] = []
    with pytest.raises(RepositoryError, match=r"indexed 1 of 2 packages; not indexed: rpm/demod-1\.0-3\.el7"):
        repository.make_repository(
            tmp_path / "tree",
            _built(tmp_path),
            groupfile=None,
            revision=1,
            log=tmp_path / "log",
            before_index=hooked.append,
        )
    monkeypatch.setattr(repository, "run", FakeCreaterepo([]))
    repository.make_repository(
        tmp_path / "empty", [], groupfile=None, revision=1, log=tmp_path / "log", before_index=hooked.append
    )
    assert len(hooked) == 1  # no hook for an empty repository
