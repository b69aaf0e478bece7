"""Self-assessment and manager assessment of a promotion case: a rating per competency of the
proposed level, a short rationale and links to the candidate's shared evidence.

The candidate fills in the self-assessment during the self-assessment phase, the manager (or the
head of product) the manager assessment during the next one. Drafts may be partial; submitting
needs every competency rated and explained, and makes the assessment read-only. Who may see what
is decided by app/policy/: the manager sees the self-assessment only once their own is in, and
the candidate never sees the manager's ratings.

kinds: what differs between the two, and the reads both share; evidence_links: the evidence a
rating may link and the viewer may open; pages: the assessment page; panel: the case page's
panel; due: what a person has to fill in now; saving: checking and storing a draft or a submission.
"""

from app.services.promotions.assessments.due import Due, due
from app.services.promotions.assessments.kinds import RATIONALE_MAX, STATEMENT_MAX
from app.services.promotions.assessments.pages import Assessment, Entry, assessment
from app.services.promotions.assessments.panel import Panel, panel
from app.services.promotions.assessments.saving import EntryInput, IncompleteError, Saved, save

__all__ = [
    "RATIONALE_MAX",
    "STATEMENT_MAX",
    "Assessment",
    "Due",
    "Entry",
    "EntryInput",
    "IncompleteError",
    "Panel",
    "Saved",
    "assessment",
    "due",
    "panel",
    "save",
]
