"""Slack: the head of product's Slack settings and a person's link to their Slack user."""
