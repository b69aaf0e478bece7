"""Growth plans: goals a PM and their manager agree per competency, with linked evidence."""
