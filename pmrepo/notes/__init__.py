"""notes: a stage package."""
