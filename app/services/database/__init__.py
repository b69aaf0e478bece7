"""The database as a whole: what it holds (inventory) and moving it to another server."""
