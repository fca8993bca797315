"""upstream: a stage package."""
