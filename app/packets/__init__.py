"""Promotion packets in the browser (the HTML preview) and at the command line."""
