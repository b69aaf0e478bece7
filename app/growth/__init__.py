"""Growth: a person's readiness for a level and their evidence over time; readiness thresholds."""
