"""Feedback requests and answers, public thanks and lessons shared with a team."""
