"""pmrepo.limits: the bounds on what the tool reads from outside, the two the environment may
change read as positive numbers (else a one-line error with its fix), and the bounds verify puts
on release documents (an SBOM, a provenance) before any library parses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo import limits
from pmrepo.attest import provenance, sbom
from pmrepo.errors import UsageError
from pmrepo.limits import ATTESTATION_MAX_BYTES


def test_unset_or_empty_environment_gives_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(limits.FETCH_DEADLINE_ENV, raising=False)
    monkeypatch.setenv(limits.FETCH_MAX_BYTES_ENV, "")
    assert limits.fetch_deadline() == 1800.0 and limits.fetch_max_bytes() == 2 << 30
    assert isinstance(limits.fetch_max_bytes(), int)


def test_the_environment_changes_the_fetch_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(limits.FETCH_DEADLINE_ENV, "2.5")
    monkeypatch.setenv(limits.FETCH_MAX_BYTES_ENV, "1000.9")
    assert limits.fetch_deadline() == 2.5
    assert limits.fetch_max_bytes() == 1000  # whole bytes


@pytest.mark.parametrize("value", ["0", "-3", "abc", "nan", "1e", " "])
def test_a_bound_that_is_not_a_positive_number_is_one_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PMREPO_X", value)
    with pytest.raises(UsageError) as exc:
        limits.env_number("PMREPO_X", 5.0)
    assert str(exc.value) == (
        f"environment PMREPO_X={value!r} is not a positive number — fix: unset it or give a number"
    )
    assert "\n" not in str(exc.value)


def test_the_bounds_are_ordered_as_their_uses() -> None:
    assert limits.ANSWER_MAX_BYTES < limits.LISTING_MAX_BYTES < limits.FETCH_MAX_BYTES
    assert limits.REPOMD_MAX_BYTES < limits.METADATA_MAX_BYTES
    assert limits.SBOM_MAX_ELEMENTS < limits.SBOM_MAX_RELATIONSHIPS
    assert limits.TEMPLATE_MAX_BYTES < limits.TEMPLATE_MEMORY


def test_release_documents_larger_than_the_bound_are_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as fh:  # sparse: nothing is written but the size
        fh.truncate(ATTESTATION_MAX_BYTES + 1)
    for view in (sbom.read(big), provenance.read(big)):
        assert view.problems[0] == (
            f"not readable JSON: {big}: more than {ATTESTATION_MAX_BYTES} bytes, the most that is read of such a file"
        )
