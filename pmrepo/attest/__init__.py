"""What ships, described and attested: the SPDX SBOM of each dist's output (``sbom``) and its
in-toto SLSA provenance, signed as a DSSE envelope when the release is (``provenance``)."""
