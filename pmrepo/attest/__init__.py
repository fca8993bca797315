"""attest: a stage package."""
