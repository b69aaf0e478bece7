"""Notifications: the inbox and marking it read."""
