"""Gate 0 — RPM digests: every RPM in every repository of the dist, the
SRPMs and the repo packages pass ``rpm -K --nosignature`` (header and payload
digests). Signatures of a signed release are verified against its own key
by the signing step (pmrepo.sign.signer.verify_rpms) before the gates run."""

from __future__ import annotations

from ..layout import repo_rpm_dir
from .base import Check, CheckContext, Findings
from .integrity import rpm_digests


class DigestCheck(Check):
    id = "digest"
    name = "digest gate"
    required = True

    def run(self, ctx: CheckContext) -> Findings:
        report = Findings(self.id, ctx.dist.name)
        rpms = sorted(
            {p.resolve() for p in ctx.rpms} | {p.resolve() for r in ctx.repos for p in repo_rpm_dir(r).glob("*.rpm")}
        )
        report.items = [str(p) for p in rpms]
        for path, why in rpm_digests(rpms, log=ctx.log("digest.log")).items():
            report.error(str(path), "digests", why, "digest.bad")
        return report
