"""``pmrepo verify``: a published release checked from its files or its URL — the SBOM and the
provenance against what is there (``release``), the repositories inside its repo packages
(``repository``), the bounded download (``fetch``) and the report (``report``)."""
