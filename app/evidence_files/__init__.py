"""Files attached to evidence, and a person's export and import of all their own data."""
