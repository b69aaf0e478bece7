"""Your personal access tokens for the JSON API: make one (shown once), see them, revoke one."""
