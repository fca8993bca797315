"""The one ordered list of checks, its derived records, and the stable finding ids."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEMO

from pmrepo import checks, manifest
from pmrepo.checks import CheckOptions, default_checks, ids
from pmrepo.checks.base import Findings

PACKAGE = Path(checks.__file__).parent


def test_default_checks_order_and_switches() -> None:
    rel = manifest.load(DEMO)
    everything = default_checks(rel, CheckOptions(container="podman"), previous=lambda d: (rel, []))
    assert [c.id for c in everything] == ["fresh-root-install", "digest", "compat", "closure", "rpmlint", "nevra",
                                          "install", "upgrade"]
    # the full list required_records reads is this list, and it holds every check class of the package
    assert [type(c) for c in checks.every_check()] == [type(c) for c in everything]
    import importlib
    import pkgutil
    for mod in pkgutil.walk_packages([str(PACKAGE)], "pmrepo.checks."):
        importlib.import_module(mod.name)

    def subclasses(cls: type) -> set[type]:
        out: set[type] = set()
        subs: list[type] = cls.__subclasses__()
        for c in subs:
            out |= {c, *subclasses(c)}
        return out

    defined = {c for c in subclasses(checks.Check) if c.__module__.startswith("pmrepo.checks.")}
    assert defined == {type(c) for c in everything}, "a Check subclass the one list does not make"
    assert [c.name for c in default_checks(rel)] == ["fresh-root install", "digest gate", "compat gate",
                                                     "closure gate", "rpmlint gate", "NEVRA gate"]
    assert [c.id for c in default_checks(rel, CheckOptions(install_check=False, gates=False))] == []
    assert [c.id for c in default_checks(rel, CheckOptions(gates=False, container="auto"))] == [
        "fresh-root-install", "install"]  # no upgrade without the previous release


def test_required_records_come_from_the_check_classes() -> None:
    assert checks.REQUIRED_CHECKS == ("fresh-root install", "gates")
    assert (checks.FreshRootInstall.record, checks.DigestCheck.record) == checks.REQUIRED_CHECKS
    listed = default_checks(None, CheckOptions(container="auto"),
                            lambda d: pytest.fail("no previous release is looked up"))
    required = [c.id for c in listed if c.required]
    assert required == ["fresh-root-install", "digest", "compat", "closure", "rpmlint", "nevra"]  # not the containers




def test_findings_carry_ids_into_the_json_report(tmp_path: Path) -> None:
    found = Findings("compat", "el7", items=["a.rpm"])
    found.error("a.rpm", "rpmlib(PayloadIsZstd)", "el7 cannot", "compat.rpmlib")
    found.scoped("compat.payload").warning("a.rpm", "payload", "old")
    with pytest.raises(KeyError, match="not described"):
        found.error("a.rpm", "x", "y", "compat.no-such-kind")
    found.write(tmp_path / "compat-el7.txt")
    data = (tmp_path / "compat-el7.json").read_text()
    assert '"id": "compat.rpmlib"' in data and '"id": "compat.payload"' in data
    assert not found.passed
    assert not hasattr(found, "waive")  # no waivers: a release-specific exception is an rpmlint filter


def test_reports_carry_each_findings_description(tmp_path: Path) -> None:
    import json

    found = Findings("rpmlint", "el7", items=["a.rpm", "b.rpm"])
    found.error("a.rpm", "rpmlib(PayloadIsZstd)", "el7 cannot", "compat.rpmlib")
    found.warning("b.rpm", "no-group-tag", "", "rpmlint.no-group-tag")
    found.warning("b.rpm", "other-tag", "", "rpmlint.other-tag")
    found.descriptions["rpmlint.no-group-tag"] = "There is no Group tag.\nSpecify one."  # rpmlint's own words
    found.write(tmp_path / "r-el7.txt")
    data = json.loads((tmp_path / "r-el7.json").read_text())
    assert [(f["id"], f["description"]) for f in data["findings"]] == [
        ("compat.rpmlib", ids.KINDS["compat.rpmlib"].description),
        ("rpmlint.no-group-tag", "There is no Group tag.\nSpecify one."),
        ("rpmlint.other-tag", "rpmlint's check other-tag (`rpmlint -e other-tag` describes it)")]
    assert all(f["description"] for f in data["findings"])
    text = (tmp_path / "r-el7.txt").read_text()
    assert "    E: rpmlib(PayloadIsZstd): el7 cannot [compat.rpmlib]\n" in text  # the id on the finding
    assert text.endswith("What the findings mean (`pmrepo explain <id>`):\n"
                         f"  compat.rpmlib: {ids.KINDS['compat.rpmlib'].description}\n"
                         "  rpmlint.no-group-tag: There is no Group tag.\n    Specify one.\n"
                         "  rpmlint.other-tag: rpmlint's check other-tag (`rpmlint -e other-tag` describes it)\n")
    clean = Findings("digest", "el7", items=["a.rpm"])
    assert "What the findings mean" not in clean.text()  # nothing found, nothing to explain


def test_explain_prints_a_findings_description(capsys: pytest.CaptureFixture[str]) -> None:
    from pmrepo import cli

    assert cli.main(["explain", "compat.rpmlib"]) == 0
    assert capsys.readouterr().out == f"compat.rpmlib: {ids.KINDS['compat.rpmlib'].description}\n"
    assert cli.main(["explain", "nevra"]) == 0  # a check's prefix: its kinds
    assert capsys.readouterr().out.splitlines() == [f"{k}: {v.description}" for k, v in ids.KINDS.items()
                                                    if k.startswith("nevra.")]


@pytest.mark.parametrize(("finding", "named"), [
    ("compat.no-such", "fix: use one of compat.unreadable, compat.rpm-format"),  # the check's own kinds
    ("bogus", "fix: a finding id starts with one of closure., compat., digest."),  # the known prefixes
    ("rpmlint.pmrepo-no-such-check", "rpmlint has no description of 'pmrepo-no-such-check'"),
    ("rpmlint.--version", "rpmlint has no description of '--version'"),  # never an option to rpmlint
])
def test_explain_of_an_unknown_id_is_one_line(capsys: pytest.CaptureFixture[str], finding: str, named: str) -> None:
    from pmrepo import cli

    assert cli.main(["explain", finding]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and named in err, err


def test_explain_asks_rpmlint_for_its_own_ids(capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from pmrepo import cli
    from pmrepo.checks import rpmlint

    if shutil.which("rpmlint") is None:
        pytest.skip("rpmlint is not installed (make setup installs it): rpmlint -e cannot be asked")
    said = rpmlint.explain(["no-group-tag", "pmrepo-no-such-check", "no-group-tag", "no-%build-section"])
    assert list(said) == ["no-group-tag", "no-%build-section"] and "Group tag" in said["no-group-tag"]
    assert "%build section" in said["no-%build-section"]
    assert cli.main(["explain", "rpmlint.no-group-tag"]) == 0
    assert capsys.readouterr().out == f"rpmlint.no-group-tag: {said['no-group-tag']}\n"
    assert cli.main(["explain", "rpmlint.failed"]) == 0  # pmrepo's own rpmlint kind: described here
    assert capsys.readouterr().out == f"rpmlint.failed: {ids.KINDS['rpmlint.failed'].description}\n"
