"""mock: a stage package."""
