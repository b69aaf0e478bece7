"""Read-models of the evidence pages: the timeline with its conversation badges, one item with
its attachments and conversation, and an item's history."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from app.models import User
from app.services.evidence import attachments, conversation
from app.services.evidence import history as evidence_history
from app.services.evidence import timeline as evidence_timeline
from app.services.evidence.timeline import ItemView, Timeline, TimelineFilters
from app.services.goals import summaries as goal_pages
from app.services.oneonones import pages as oneonone_pages
from app.services.people.pages import PersonLinks, person_links


@dataclass(frozen=True)
class TimelinePage:
    """A page of the owner's evidence and each row's comment, kudos and confirmation counts."""

    timeline: Timeline
    counts: dict[int, conversation.Counts]


def timeline_page(owner: User, filters: TimelineFilters, page: int) -> TimelinePage:
    timeline = evidence_timeline.timeline(owner, filters, page=page)
    ids = [item.id for item in timeline.page.items]
    found = conversation.counts(ids)
    return TimelinePage(
        timeline=timeline, counts={i: found.get(i, conversation.Counts()) for i in ids}
    )


@dataclass(frozen=True)
class ItemPage:
    """One item as the viewer may see it, with its files and its conversation."""

    item: ItemView
    body: Markup
    attachments: attachments.Panel
    conversation: conversation.Conversation
    links: PersonLinks  # whether the owner's name links to their profile
    discussed_in: list[oneonone_pages.Discussed] = ()  # the viewer's 1:1s that linked it
    goals: goal_pages.EvidenceGoals | None = None  # growth-plan goals it is (or can be) linked to

    @property
    def evidence(self):
        return self.item.evidence


def item_page(viewer: User, evidence_id: int) -> ItemPage:
    item = evidence_timeline.item_for(viewer, evidence_id)
    return ItemPage(
        item=item,
        body=item.evidence.html("body"),
        attachments=attachments.panel(viewer, item.evidence),
        conversation=conversation.conversation(viewer, item.evidence),
        links=PersonLinks(frozenset()) if item.is_owner else person_links(viewer),
        discussed_in=oneonone_pages.discussed_in(viewer, item.evidence.id),
        goals=goal_pages.evidence_goals(viewer, item.evidence),
    )


@dataclass(frozen=True)
class HistoryPage:
    """Every saved state of an item the viewer may see, newest first."""

    item: ItemView
    entries: list[evidence_history.Entry]


def history_page(viewer: User, evidence_id: int) -> HistoryPage:
    item = evidence_timeline.item_for(viewer, evidence_id)
    return HistoryPage(item=item, entries=evidence_history.history(viewer, item.evidence))
