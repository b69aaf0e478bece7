"""The one small interface every part of a draft has, the index that finds parts by id, and the
steps every edit shares: refuse a non-draft or a stale form, check the whole document, record.

A part (track, level, decision right, area, competency, cell) is a `Part` in a module of its
own, listed in registry.py; verbs.py writes add / update / move / remove once over them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.attributes import flag_modified

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import CellStatus, Competency, Expectation, FrameworkVersion, Level
from app.services import audit
from app.services.frameworks import document, store

# A part where it sits: (its parent, the part); the parent of a track or an area is the version.
Place = tuple[Any, Any]


class Index:
    """Every part of a loaded version by kind and id, with its parent (nothing lazy-loads)."""

    def __init__(self, version: FrameworkVersion):
        self.places: dict[str, dict[int, Place]] = {
            kind: {} for kind in ("tracks", "levels", "decisions", "areas", "competencies", "cells")
        }
        for track in version.tracks:
            self.places["tracks"][track.id] = (version, track)
            for level in track.levels:
                self.places["levels"][level.id] = (track, level)
                for right in level.decision_rights:
                    self.places["decisions"][right.id] = (level, right)
        for area in version.areas:
            self.places["areas"][area.id] = (version, area)
            for competency in area.competencies:
                self.places["competencies"][competency.id] = (area, competency)
                for cell in competency.expectations:
                    self.places["cells"][cell.id] = (competency, cell)

    def get(self, kind: str, item_id: int | None) -> Place | None:
        return self.places.get(kind, {}).get(item_id)  # type: ignore[arg-type]

    def item(self, kind: str, item_id: int | None):
        place = self.get(kind, item_id)
        return None if place is None else place[1]


def find(version: FrameworkVersion, kind: str, item_id: int) -> Place:
    """A part of the draft with its parent, or NotFoundError."""
    place = Index(version).get(kind, item_id)
    if place is None:
        raise NotFoundError("Not found.")
    return place


class Part:
    """One kind of part of a draft: what differs from kind to kind, and nothing else.

    `kind` names it in the registry and in URLs, `noun` in messages, `event` in audit actions
    (framework.<event>_added). `collection` is the list of its parent that holds it.
    """

    kind = ""
    noun = ""
    event = ""
    collection = ""
    parent_kind: str | None = None  # None: the version itself
    can_add = can_update = can_move = can_remove = True
    asks_to_confirm = False  # removing it takes so much that a box must be ticked

    def name(self, item) -> str:
        """What a message calls it: "The track {name} was added"."""
        return item.name

    def label(self, place: Place) -> str:
        """What the removal page calls it."""
        return self.name(place[1])

    def snapshot(self, item) -> dict[str, Any]:
        """Its values as its form shows them: for the audit and for a conflict."""
        raise NotImplementedError

    def revision(self, version: FrameworkVersion, place: Place) -> int:
        """The revision a form carries to detect a stale save."""
        return version.revision

    # --- adding

    def parent_id(self, under: int | None, data) -> int | None:
        return under

    def now(self, parent) -> dict[str, Any]:
        """What a stale "add" form shows: its siblings as they are now."""
        return {f"{self.kind}_now": ", ".join(self.name(s) for s in self.siblings(parent))}

    def create(self, version: FrameworkVersion, found: Index, parent, data):
        raise NotImplementedError

    def added(self, parent, item) -> dict[str, Any]:
        """The audit's "after" of an added part."""
        return self.snapshot(item)

    # --- changing

    def change(self, version: FrameworkVersion, found: Index, place: Place, data) -> None:
        raise NotImplementedError

    def about(self, found: Index, place: Place) -> dict[str, Any]:
        """What the audit of a change says besides the changed values (such as its level)."""
        return {}

    def guard(self, actor, version, found: Index, place: Place | None, expected: int) -> None:
        begin(actor, version, expected, place, lambda p: self.snapshot(p[1]))

    def save(self, actor, version, place: Place, action: str, before, after) -> None:
        finish(actor, version, action, before, after)

    # --- moving and removing

    def siblings(self, parent) -> list:
        return getattr(parent, self.collection)

    def swap(self, item, other) -> None:
        item.position, other.position = other.position, item.position

    def take_out(self, version: FrameworkVersion, place: Place, confirmed: bool) -> dict:
        """Remove it with what hangs off it; the audit's "before"."""
        raise NotImplementedError

    def consequences(self, version: FrameworkVersion, place: Place) -> list[str]:
        """What removing it takes along, for the confirmation page."""
        return []

    def detach(self, place: Place) -> None:
        parent, item = place
        siblings = self.siblings(parent)
        siblings.remove(item)
        renumber(siblings)


# --- the steps every edit shares ----------------------------------------------------------------


def locked_message(version: FrameworkVersion) -> str:
    """Why a published or archived version refuses every edit."""
    return f"Version {version.number} is {version.status.value}; start a new draft to change it."


def editable(actor, version: FrameworkVersion) -> None:
    policy.authorize(actor, "frameworks.manage")
    if not version.is_draft:
        raise ValidationError(locked_message(version))


def begin(actor, version: FrameworkVersion, expected_revision: int, target, snapshot) -> None:
    """Refuse a non-draft, a stale form (ConflictError with the stored values) or a bad id."""
    editable(actor, version)
    if version.revision != expected_revision:
        if target is None:
            raise ConflictError(
                "Someone else removed this from the draft while you were editing it."
            )
        raise ConflictError(
            "Someone else changed this draft while you were editing it.",
            current=snapshot(target),
        )
    if target is None:
        raise NotFoundError("Not found.")


def nothing(_target) -> dict[str, Any]:
    return {}


def finish(actor, version: FrameworkVersion, action: str, before=None, after=None) -> None:
    db.session.flush()
    check_document(version)
    flag_modified(version, "name")  # every structural edit bumps the version's revision
    db.session.flush()
    audit.record(actor, action, version, before=before, after=after)


def check(version: FrameworkVersion) -> document.Report:
    """The validation errors and warnings of a version as it is stored."""
    return document.check(store.to_document(version), document.Report())


def check_document(version: FrameworkVersion) -> None:
    """The same rules as for files: an edit that breaks one is refused as a whole."""
    report = check(version)
    if report.errors:
        field_name = report.errors[0].path.rsplit(".", 1)[-1].split("[")[0]
        raise ValidationError(
            "; ".join(problem.message for problem in report.errors), field=field_name
        )


def all_competencies(version: FrameworkVersion) -> list[Competency]:
    return [competency for area in version.areas for competency in area.competencies]


def applies_everywhere(version: FrameworkVersion, competency: Competency) -> bool:
    return [t.id for t in competency.tracks] == [t.id for t in version.tracks]


def empty_cell(level: Level) -> Expectation:
    return Expectation(level=level, status=CellStatus.EMPTY, text="", indicators=[])


def drop_cells(competency: Competency, level_ids: set[int]) -> None:
    for cell in [c for c in competency.expectations if c.level_id in level_ids]:
        competency.expectations.remove(cell)


def cells_at(version: FrameworkVersion, level_ids: set[int]) -> int:
    return sum(
        1
        for c in all_competencies(version)
        for cell in c.expectations
        if cell.level_id in level_ids
    )


def renumber(items) -> None:
    for position, item in enumerate(items):
        item.position = position
