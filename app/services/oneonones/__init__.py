"""1:1s: a manager-report or mentor-mentee pair's space, meetings, agenda, notes and actions.

Only the two people of a pair see any of it (oneonone.view); a private note is its author's
alone (private_note.view). Verbs flush, the caller commits; every change is audited without
its text, so the audit log never shows a pair's content to anyone else.
"""

from app.services.oneonones import notices  # noqa: F401 - registers the inbox's reader
