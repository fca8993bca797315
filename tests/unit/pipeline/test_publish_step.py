"""pmrepo.pipeline.publish_step: publish's decisions in order: every refusal at once before
anything is written, the key that signed the outputs, provenances refreshed, SHA256SUMS signed
or its stale signature removed. The upload, the notes and gpg are replaced by recording fakes;
the outputs are build.json records under tmp_path; the release is the demo manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmrepo.errors import PublishError
from pmrepo.layout import Layout
from pmrepo.pipeline import preflight, publish_step
from pmrepo.pipeline.preflight import Input, PreflightError
from pmrepo.publish.upload import PublishResult
from pmrepo.records import BuildRecord
from pmrepo.sign.signer import Key

from .fakes import DEMO, collecting

FPR = "A" * 40
KEY = Key(FPR, "Release <r@example>", Path("/gnupg"))
DISTS = tuple(DEMO.dists.values())


def layout(tmp_path: Path) -> Layout:
    return Layout(DEMO.release_id, tmp_path / "out", tmp_path / "work")


def built(lay: Layout, dist: str, *, signed: bool = False) -> Path:
    out = lay.dist(dist).output
    out.root.mkdir(parents=True, exist_ok=True)
    BuildRecord(dist, DEMO.release_id, {}, {}, signed=signed).write(out.build_json)
    if signed:
        (out.root / "RPM-GPG-KEY-pmrepo-demo").write_text("public key\n")
    return out.root


def inputs(tmp_path: Path) -> Input:
    return Input(DEMO, DISTS, tmp_path / "work", tmp_path / "out", tmp_path / "preflight.log", lambda: ([], ""))


def test_every_refusal_is_reported_at_once_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lay = layout(tmp_path)
    built(lay, "el7")
    written: list[str] = []
    monkeypatch.setattr(publish_step, "refuse_unshippable", lambda source: written.append("refuse"))
    con, _ = collecting()
    with pytest.raises(PreflightError) as exc:
        publish_step.publish_outputs(
            DEMO, lay, DISTS, lambda: inputs(tmp_path), tmp_path / "out", "", con,
            dry_run=False, replace=False, allow_unchecked=False,
        )  # fmt: skip
    assert exc.value.problems == [
        f"publish: {lay.release_out} has no finished build for el6 — fix: run "
        f"`./build.py all --release {DEMO.path}` first",
        "publish: no mirror given — fix: pass --target URL or set PUBLISH_TARGET",
    ]
    assert written == [] and not lay.sums_file.exists()


class Recorder:
    """The steps publish_outputs hands work to, in the order it calls them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, unchecked: dict[str, list[str]]) -> None:
        self.calls: list[str] = []
        self.unchecked = unchecked
        monkeypatch.setattr(publish_step, "refuse_unshippable", lambda source: self.calls.append("refuse"))
        monkeypatch.setattr(publish_step, "vouch", self.vouch)
        monkeypatch.setattr(publish_step, "render_notes", lambda rel, src, repo_dir: self.calls.append("notes"))
        monkeypatch.setattr(publish_step, "write_sha256sums", lambda src: self.calls.append("sums"))
        monkeypatch.setattr(publish_step, "publish", self.publish)
        self.publish_kw: dict[str, object] = {}

    def vouch(self, source: Path, key: str, path: Path, dists: tuple[str, ...], **kw: object) -> dict[str, list[str]]:
        self.calls.append("vouch")
        assert kw["required"] == ["el6", "el7"] and kw["allow_unchecked"] is True
        return self.unchecked

    def publish(self, source: Path, target: str, release_id: str, **kw: object) -> PublishResult:
        self.calls.append("publish")
        self.publish_kw = kw
        return PublishResult(target, ["upload"], True, False, files=3)


def test_a_dry_run_refuses_nothing_writes_the_sums_and_checks_no_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lay = layout(tmp_path)
    for d in ("el6", "el7"):
        built(lay, d)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    rec = Recorder(monkeypatch, {"el6": ["install", "container"]})
    con, out = collecting()
    result = publish_step.publish_outputs(
        DEMO, lay, DISTS, lambda: inputs(tmp_path), tmp_path / "out", str(mirror), con,
        dry_run=True, replace=False, allow_unchecked=True,
    )  # fmt: skip
    assert result == PublishResult(str(mirror), ["upload"], True, False, files=3)
    assert rec.calls == ["refuse", "vouch", "notes", "sums", "publish"]
    assert rec.publish_kw["dry_run"] is True and rec.publish_kw["check"] is None  # nothing uploaded to check
    assert rec.publish_kw["force"] is False and rec.publish_kw["allow_insecure_auth"] is False
    assert "publish: el6 was built without install, container (--allow-unchecked; the notes say so)" in out


def test_an_unsigned_release_has_no_key(tmp_path: Path) -> None:
    lay = layout(tmp_path)
    built(lay, "el7")
    (lay.dist("el7").output.root / "RPM-GPG-KEY-stale").write_text("")  # beside an unsigned build: not its key
    assert publish_step.release_key(lay, DISTS[1:]) == (None, None)


def test_the_key_must_be_the_one_that_signed_the_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lay = layout(tmp_path)
    root = built(lay, "el7", signed=True)
    monkeypatch.setattr(publish_step, "key_from_env", lambda log_file: KEY)
    monkeypatch.setattr(publish_step, "public_key_fingerprints", lambda path, log: {FPR, "C" * 40})
    assert publish_step.release_key(lay, DISTS) == (KEY, root / "RPM-GPG-KEY-pmrepo-demo")
    monkeypatch.setattr(publish_step, "public_key_fingerprints", lambda path, log: {"B" * 40})
    with pytest.raises(PublishError) as exc:
        publish_step.release_key(lay, DISTS)
    assert str(exc.value) == (
        f"PMREPO_GPG_KEY={FPR} is not the key {root / 'RPM-GPG-KEY-pmrepo-demo'} holds ({'B' * 40}), which "
        "signed the packages — fix: set PMREPO_GPG_KEY to that key to sign SHA256SUMS"
    )


def test_provenances_are_refreshed_unless_dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lay = layout(tmp_path)
    asked: list[tuple[Path, str]] = []

    def refresh(path: Path, root: Path, dist: str, key: Key | None, pub: Path | None, log: Path) -> list[str]:
        asked.append((path, dist))
        return ["gates/a.txt", "gates/b.txt"] if dist == "el7" else []

    monkeypatch.setattr(publish_step, "refresh", refresh)
    con, out = collecting()
    publish_step.refresh_provenances(lay, DISTS, None, None, con, dry_run=True)
    assert asked == [] and out == []
    publish_step.refresh_provenances(lay, DISTS, None, None, con, dry_run=False)
    assert asked == [(lay.dist(d).provenance(lay.dist(d).output), d) for d in ("el6", "el7")]
    assert out == ["el7: provenance subjects brought up to date (2 check report(s) rewritten since the build)"]


def test_the_sums_are_signed_by_the_release_key_and_a_stale_signature_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lay = layout(tmp_path)
    lay.release_out.mkdir(parents=True)
    asc = lay.release_out / "SHA256SUMS.asc"
    asc.write_text("stale")
    con, out = collecting()
    publish_step.sign_sums(lay, None, con, dry_run=False)
    assert not asc.exists() and out == []
    signed: list[tuple[Path, Path]] = []
    monkeypatch.setattr(publish_step, "sign_detached", lambda src, key, dest, log: signed.append((src, dest)))
    publish_step.sign_sums(lay, KEY, con, dry_run=True)
    assert signed == [] and out == [f"[dry-run] would sign SHA256SUMS with {FPR}"]
    publish_step.sign_sums(lay, KEY, con, dry_run=False)
    assert signed == [(lay.sums_file, asc)] and out[-1] == f"signed SHA256SUMS with {FPR}: {asc}"


def test_publish_asks_preflight_for_the_mirror_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lay = layout(tmp_path)
    for d in ("el6", "el7"):
        built(lay, d)
    seen: list[preflight.Needs] = []

    def problems(inp: Input, needs: preflight.Needs) -> tuple[list[str], list[str]]:
        seen.append(needs)
        return ["publish: mirror down — fix: wait"], []

    monkeypatch.setattr(preflight, "problems", problems)
    con, _ = collecting()
    with pytest.raises(PreflightError, match="mirror down"):
        publish_step.publish_outputs(
            DEMO, lay, DISTS, lambda: inputs(tmp_path), tmp_path / "out", "https://m/", con,
            dry_run=False, replace=True, allow_unchecked=False, allow_insecure_auth=True,
        )  # fmt: skip
    assert seen == [preflight.Needs(build=False, target="https://m/", replace=True, allow_insecure_auth=True)]
