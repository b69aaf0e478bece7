"""Delegation boards: Delegation Poker rounds between a person and their manager."""
