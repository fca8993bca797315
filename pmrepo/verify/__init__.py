"""verify: a stage package."""
