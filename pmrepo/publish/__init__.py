"""publish: a stage package."""
