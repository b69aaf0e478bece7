"""The domain: verbs that take and return domain values. They flush; the caller commits."""
