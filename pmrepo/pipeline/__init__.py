"""pipeline: a stage package."""
