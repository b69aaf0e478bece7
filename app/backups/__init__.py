"""Backups: the `flask backup` commands and the page showing the last backup."""
