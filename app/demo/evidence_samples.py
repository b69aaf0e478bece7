"""Evidence for the demo organisation: what each PM did over the last year, shared with their
managers, some of it corroborated by a peer, some with kudos and a comment.

Deterministic: the same people get the same items, dated relative to the day of loading, so that
readiness (which counts recent evidence) looks alive whenever the demo is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Evidence, EvidenceKind, Level, User, Visibility
from app.services import evidence as evidence_service
from app.services.evidence import conversation


@dataclass(frozen=True)
class Item:
    competencies: tuple[str, ...]
    kind: EvidenceKind
    title: str  # {product} is the PM's product area
    body: str
    metric: str = ""
    before: str = ""
    after: str = ""
    unit: str = ""


ITEMS: list[Item] = [
    Item(
        ("customer-research", "problem-framing"),
        EvidenceKind.DISCOVERY,
        "Interviewed 14 customers about {product}",
        "Ran 14 interviews with admins and end users of {product}. The pattern: people do not "
        "fail at the task, they fail at **knowing it is done**. Wrote up the three jobs to be done "
        "and the evidence for each, and retired two of our own assumptions.",
    ),
    Item(
        ("problem-framing", "product-strategy"),
        EvidenceKind.STRATEGY,
        "Reframed the {product} roadmap around one problem",
        "Replaced a list of eleven feature requests with one problem statement and three bets. "
        "The leadership review agreed to stop two of the eleven outright.",
    ),
    Item(
        ("delivery", "launch"),
        EvidenceKind.LAUNCH,
        "Launched the new {product} flow to every account",
        "Staged the rollout over three weeks (5%, 25%, 100%) with a kill switch and a support "
        "briefing. No incident, no rollback.",
        "Completion rate",
        "61",
        "74",
        "%",
    ),
    Item(
        ("experimentation", "metrics-and-outcomes"),
        EvidenceKind.EXPERIMENT,
        "A/B test on {product} pricing page copy",
        "Pre-registered the hypothesis and the stopping rule, ran it for two full weekly cycles. "
        "The variant won on trial starts but not on paid conversion, so we did **not** ship it.",
        "Trial starts",
        "3.1",
        "3.6",
        "%",
    ),
    Item(
        ("metrics-and-outcomes",),
        EvidenceKind.METRIC,
        "Moved {product} weekly active teams",
        "Defined the north-star metric with data science, instrumented it, and moved it through "
        "two small releases aimed at the drop-off after day three.",
        "Weekly active teams",
        "1,840",
        "2,310",
        "",
    ),
    Item(
        ("stakeholder-management", "communication"),
        EvidenceKind.STAKEHOLDER,
        "Aligned sales, support and legal on {product} terms",
        "Three groups wanted three different answers. Wrote a one-page decision record with the "
        "options and the trade-offs, ran one meeting, and got a decision that held.",
    ),
    Item(
        ("learning-from-failure",),
        EvidenceKind.LEARNING,
        "Post-mortem: the {product} beta that nobody used",
        "We built for two months before showing anyone. Wrote the blameless post-mortem, and "
        "changed how the team works: a prototype in front of five customers before any sprint.",
    ),
    Item(
        ("coaching", "communication"),
        EvidenceKind.COACHING,
        "Coached a new APM through their first launch",
        "Weekly sessions on writing a brief and running a review. They led the launch review "
        "on their own in the sixth week.",
    ),
    Item(
        ("prioritisation-and-roadmapping",),
        EvidenceKind.STRATEGY,
        "Cut the {product} quarter to three outcomes",
        "Scored the candidates on reach, impact and confidence with the engineering lead; "
        "published what we would not do and why.",
    ),
    Item(
        ("launch", "communication"),
        EvidenceKind.LAUNCH,
        "Announced {product} changes to 4,000 admins",
        "Release notes, an in-app guide and a webinar, timed with support's staffing.",
        "Support tickets in launch week",
        "310",
        "120",
        "",
    ),
]

PRODUCTS = {
    "Daniel Brandt": "onboarding",
    "Priya Raman": "the billing API",
    "Tomás Vidal": "checkout",
}

# How many of ITEMS each PM has logged (the rest are gaps readiness will show)
COUNTS = {"APM": 4, "PM": 12, "SPM": 16, "GPM": 18, "PPM": 18}


def load(people: list[User], today: date | None = None) -> int:
    """Log the demo items of each PM who has none yet; returns how many items were made."""
    today = today or date.today()
    have = set(
        db.session.execute(
            select(Evidence.owner_id).where(Evidence.owner_id.in_([p.id for p in people]))
        ).scalars()
    )
    managers = {p.id: p for p in people}
    made = 0
    for index, person in enumerate(people):
        if person.id in have or person.manager_id not in managers:
            continue
        manager = managers[person.manager_id]
        product = PRODUCTS.get(manager.name)
        level_code = _level_code(person)
        if product is None or level_code not in COUNTS:
            continue
        peers = [p for p in people if p.manager_id == person.manager_id and p.id != person.id]
        for number in range(COUNTS[level_code]):
            item = ITEMS[number % len(ITEMS)]
            title = item.title.format(product=product)
            if number >= len(ITEMS):
                title = f"{title}, second round"
            logged = evidence_service.record_evidence(
                person,
                evidence_service.EvidenceInput(
                    title=title,
                    occurred_on=today - timedelta(days=12 + 19 * number + 3 * index),
                    kind=item.kind,
                    competency_keys=list(item.competencies),
                    body=item.body.format(product=product),
                    visibility=Visibility.SHARED,
                    metric=item.metric,
                    metric_before=item.before,
                    metric_after=item.after,
                    metric_unit=item.unit,
                ),
            )
            made += 1
            if peers and number % 3 != 2:
                peer = peers[number % len(peers)]
                request = conversation.request_corroboration(person, logged, peer.id)
                conversation.answer_corroboration(
                    peer, request, confirm=True, note="I was there; this is accurate."
                )
            if number % 3 == 0:
                conversation.give_kudos(manager, logged.id)
    return made


def _level_code(person: User) -> str | None:
    if person.level_id is None:
        return None
    return db.session.execute(select(Level.code).where(Level.id == person.level_id)).scalar()
