"""sources: a stage package."""
