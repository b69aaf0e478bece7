"""Signing in and out, and a person's own password."""

from app.auth.views import bp, init_login_manager

__all__ = ["bp", "init_login_manager"]
