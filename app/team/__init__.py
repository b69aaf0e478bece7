"""The team page: everyone in a manager's line."""
