"""assemble: a stage package."""
