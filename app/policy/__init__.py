"""Authorization in one place: may this person do this (to that object)? Deny by default.

`can` and `authorize` answer for one object (or, with none, at route level); `where` gives the
same rule as a SQL filter on its model's rows, for lists, counts and notifications. Each rule
registers both together (app/policy/rules.py), in a module per domain. Object-level refusals
answer 404, so that a refusal does not reveal that the object exists. No Flask here: marking
views and enforcing the route-level rule before each request is app/access.py's.
"""

from app.policy import (
    coaching,
    evidence,
    frameworks,
    jobs,
    packets,
    people,
    promotions,
    sessions,
)
from app.policy.evidence import evidence_readable_by
from app.policy.packets import packet_shows_votes
from app.policy.people import visible_people
from app.policy.promotions import (
    cases_readable_by,
    committee_cases_of,
    nominable_by,
    results_readable_by,
)
from app.policy.rules import RULES, SYSTEM, Rule, authorize, can, rule, where
from app.policy.sessions import session_ids_readable_by, sessions_readable_by, votes_visible

__all__ = [
    "RULES",
    "SYSTEM",
    "Rule",
    "authorize",
    "can",
    "cases_readable_by",
    "coaching",
    "committee_cases_of",
    "evidence",
    "evidence_readable_by",
    "frameworks",
    "jobs",
    "nominable_by",
    "packet_shows_votes",
    "packets",
    "people",
    "promotions",
    "results_readable_by",
    "rule",
    "session_ids_readable_by",
    "sessions",
    "sessions_readable_by",
    "visible_people",
    "votes_visible",
    "where",
]
