"""schedule: a stage package."""
