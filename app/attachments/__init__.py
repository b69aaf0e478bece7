"""Files attached to evidence: add, download, remove."""
