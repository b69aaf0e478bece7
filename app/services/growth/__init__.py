"""Growth: readiness for a level (the calculation), what a level expects, evidence over time,
the head of product's thresholds, and the growth page built from them."""
