"""Feedback and appreciation, and lessons from failure: requests for feedback and their answers
(asks), public thanks, lessons shared with a team, and what the inbox says of them.

The modules: asks (request, answer, decline, share with the manager), thanks, lessons, pages (the
feedback pages' read-models), panels (what the person, team and home pages show) and notices.
"""

from app.services.feedback import notices  # noqa: F401  (registers the inbox's readers)
