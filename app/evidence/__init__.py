"""Evidence pages: what PMs log every week, and what their managers and mentors read."""
