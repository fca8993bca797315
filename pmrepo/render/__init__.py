"""render: a stage package."""
