"""The move to PostgreSQL: the `flask db move-to` command (the work is in the services)."""
