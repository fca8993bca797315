"""A signed release through its own container install and upgrade checks (issue 20, item 1).

`./build.py demo --sign` runs the container install test (and, with
--upgrade-from, the upgrade in place) on repositories with ``gpgcheck=1`` and
``repo_gpgcheck=1``: the check must import the repository key the way yum does
for an operator (gpgkey= of the installed .repo file, accepted non-interactively)
and then verify repomd.xml with it. Before the fix, dnf declined the key-import
prompt and the check failed with "[pmrepo-demo] not listed".
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import gpgkeys
import pytest
from conftest import DEMO
from test_container import EXPECTED, engine, previous_build, test_image  # noqa: F401 (fixtures)

from pmrepo import manifest
from pmrepo.cli import main
from pmrepo.layout import Layout
from pmrepo.sign import signer as sign


@pytest.fixture(scope="module")
def signing_key() -> Iterator[sign.Key]:
    key = gpgkeys.generate_key("pmrepo signed demo", "signed-demo@pmrepo.invalid")
    yield key
    gpgkeys.cleanup(key)


@pytest.fixture(scope="module")
def signed_demo(signing_key: sign.Key, previous_build, test_image,  # noqa: F811
                tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, Path]:
    """`build.py demo --sign --upgrade-from <0.9 output>`: the container check is on (demo's default)."""
    base = tmp_path_factory.mktemp("signed-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(sign.ENV_KEY, signing_key.fingerprint)
        mp.setenv("GNUPGHOME", str(signing_key.gnupghome))
        rc = main(["demo", "--sign", "--container-image", "local", "--upgrade-from", str(previous_build.outdir),
                   "--workdir", str(base / "work"), "--outdir", str(base / "repo")])
    return rc, base / "work", base / "repo"


@pytest.mark.parametrize("dist", ["el6", "el7"])
def test_signed_demo_passes_its_container_install_and_upgrade(signed_demo: tuple[int, Path, Path],
                                                              signing_key: sign.Key, dist: str) -> None:
    rc, workdir, outdir = signed_demo
    assert rc == 0, f"build.py demo --sign failed (see {workdir}/demo-repo-1.0-1/{dist}/gates/)"
    rel = manifest.load(DEMO)
    out = Layout(rel.release_id, outdir).dist(dist).output.root
    # really signed: the shipped .repo files check repomd.xml and the packages
    gates = out / "gates"
    install = (gates / f"install-{dist}.table.txt").read_text()
    log = (gates / f"install-{dist}.log").read_text()
    assert "Importing GPG key" in log
    key_id = "0x" + signing_key.fingerprint[-8:].upper()
    assert f"GPG key imported from gpgkey=: {key_id} (/opt/pmrepo-demo/" in install, install
    assert "Bad GPG signature" not in log
    data = json.loads((out / "installed.json").read_text())
    assert data["packages"] == EXPECTED[dist]
    note = json.loads((out / "build.json").read_text())["checks"]["container install"]
    assert note.startswith("passed in ") and "upgrade from demo-repo-0.9-1 passed" in note, note
    # unsigned 0.9 -> signed 1.0: the shipped .repo files changed (gpgcheck), so the operator's
    # edited one is kept (still gpgcheck=0) and the new one lies beside it as .rpmnew
    upgrade = (gates / f"upgrade-{dist}.table.txt").read_text()
    assert "pmrepo-demo-debuginfo.repo kept (edited) + .rpmnew" in upgrade, upgrade
    assert "upgrade test passed" in upgrade
