"""Stable finding ids: every kind described once, named by the check that reports it, and what
``describe``, ``prefixes`` and ``known`` say of an id (rpmlint's own ids passing through)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pmrepo import checks
from pmrepo.checks import ids

PACKAGE = Path(checks.__file__).parent


def test_every_kind_used_in_the_package_is_described_once() -> None:
    used = set()
    for path in PACKAGE.rglob("*.py"):
        used |= set(
            re.findall(
                r'"((?:digest|compat|closure|rpmlint|install|fresh-root-install|upgrade|nevra)\.[a-z-]+)"',
                path.read_text(),
            )
        )
    used = {k for k in used if k.rsplit(".", 1)[1] not in ("log", "toml", "txt", "json")}  # file names
    assert len(used) > 10, "no finding kinds found in pmrepo/checks"
    assert all(ids.known(k) for k in used)  # rpmlint.<its id> pass through
    used = {k for k in used if not k.startswith("rpmlint.") or k in ids.KINDS}
    assert used <= set(ids.KINDS), sorted(used - set(ids.KINDS))
    compat = checks.compat
    rules = {f"compat.{r.name}" for r in compat.RPM_RULES} | {f"compat.{r.name}" for r in compat.REPO_RULES}
    assert rules <= set(ids.KINDS), sorted(rules - set(ids.KINDS))


def test_each_kind_is_keyed_by_its_id_and_named_after_a_check_of_the_list() -> None:
    assert all(key == kind.id for key, kind in ids.KINDS.items())
    check_ids = {c.id for c in checks.every_check()}
    assert {k.split(".", 1)[0] for k in ids.KINDS} == check_ids  # every check's kinds, no orphan prefix
    for kind in ids.KINDS.values():
        assert re.fullmatch(r"[a-z-]+\.[a-z-]+", kind.id), kind.id
        assert kind.description and "\n" not in kind.description, kind.id  # one line: reports and `explain`


def test_a_kind_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ids.KINDS["digest.bad"].description = "changed"  # type: ignore[misc]


def test_describe_a_kind_an_rpmlint_id_and_an_unknown_one() -> None:
    assert ids.describe("digest.bad") == "rpm -K reports a bad or missing header or payload digest"
    said = ids.describe("rpmlint.no-group-tag")
    assert said == "rpmlint's check no-group-tag (`rpmlint -e no-group-tag` describes it)"
    assert ids.describe("rpmlint.failed") == ids.KINDS["rpmlint.failed"].description  # pmrepo's own wins
    assert ids.describe("bogus.kind") == ""
    assert ids.describe("rpmlintx") == ""  # the prefix is "rpmlint." with its dot


def test_prefixes_are_the_checks_with_their_dot_sorted_once() -> None:
    got = ids.prefixes()
    assert got == sorted(set(got))
    assert got == [
        "closure.",
        "compat.",
        "digest.",
        "fresh-root-install.",
        "install.",
        "nevra.",
        "rpmlint.",
        "upgrade.",
    ]


def test_known_passes_described_and_rpmlint_ids_and_refuses_the_rest() -> None:
    assert ids.known("compat.rpmlib") == "compat.rpmlib"
    assert ids.known("rpmlint.anything-rpmlint-says") == "rpmlint.anything-rpmlint-says"
    for bad in ("compat.no-such-kind", "compat", "", "Digest.bad", "rpmlint"):
        with pytest.raises(KeyError, match=r"is not described in pmrepo/checks/ids\.py"):
            ids.known(bad)
