"""sign: a stage package."""
