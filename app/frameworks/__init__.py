"""Career frameworks in the browser: reading, history and diffs, and editing."""
