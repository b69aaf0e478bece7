"""A person's export of all their own data, and its import into another Rungs."""
