"""Add, update, move and remove, written once for every kind of part (registry.py).

Every verb takes a version loaded whole (store.version_for) and the revision its editor saw. It
refuses anything but a draft, answers a stale revision with ConflictError carrying the stored
values, checks its input, and keeps the draft valid: after the change the whole document must
pass document.check, so a draft can always be published. Structural edits bump the version's
revision; a cell has a revision of its own. Each verb records an audit event on the version.
Like every service it only flushes.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import ValidationError
from app.models import FrameworkVersion
from app.services import audit
from app.services.frameworks.editing.part import Index, begin, find, finish, nothing
from app.services.frameworks.editing.registry import part as part_of


def add(actor, version: FrameworkVersion, kind: str, data, *, under=None, expected_revision):
    """A new part at the end of its parent (`under`, an id; none for tracks and areas)."""
    part = part_of(kind, "add")
    found = Index(version)
    parent = version
    if part.parent_kind is not None:
        parent = found.item(part.parent_kind, part.parent_id(under, data))
    begin(actor, version, expected_revision, parent, part.now)
    item = part.create(version, found, parent, data)
    finish(actor, version, f"framework.{part.event}_added", after=part.added(parent, item))
    return item


def update(actor, version: FrameworkVersion, kind: str, item_id: int, data, *, expected_revision):
    """Change a part; the audit shows only the values that changed."""
    part = part_of(kind, "update")
    found = Index(version)
    place = found.get(kind, item_id)
    part.guard(actor, version, found, place, expected_revision)
    before = part.snapshot(place[1])
    part.change(version, found, place, data)
    old, new = audit.changes(before, part.snapshot(place[1]))
    action = f"framework.{part.event}_updated"
    part.save(actor, version, place, action, old, {**part.about(found, place), **new})
    return place[1]


def move(
    actor, version: FrameworkVersion, kind: str, item_id: int, direction: str, *, expected_revision
) -> str:
    """Move one place up or down among its siblings; a level swaps rank with its neighbour."""
    part = part_of(kind, "move")
    place = Index(version).get(kind, item_id)
    begin(actor, version, expected_revision, place, nothing)
    parent, item = place
    siblings, name = part.siblings(parent), part.name(item)
    at = siblings.index(item)
    other = at - 1 if direction == "up" else at + 1
    if direction not in ("up", "down") or not 0 <= other < len(siblings):
        raise ValidationError(f"{name} cannot move {direction}: it is at the end already.")
    part.swap(item, siblings[other])
    siblings.sort(key=lambda sibling: sibling.position)
    after = {"item": name, "direction": direction, "position": item.position}
    finish(actor, version, f"framework.{part.event}_moved", after=after)
    return name


def remove(
    actor,
    version: FrameworkVersion,
    kind: str,
    item_id: int,
    *,
    expected_revision,
    confirmed: bool = False,
) -> str:
    """Remove a part of the draft with what hangs off it (levels, cells, competencies).

    An area that holds competencies goes only with `confirmed`; the last track, the last area,
    the last level of a track and the last competency of an area stay (a draft stays valid).
    """
    part = part_of(kind, "remove")
    place = Index(version).get(kind, item_id)
    begin(actor, version, expected_revision, place, nothing)
    name = part.label(place)
    before = part.take_out(version, place, confirmed)
    finish(actor, version, f"framework.{part.event}_removed", before=before)
    return name


@dataclass(frozen=True)
class Removal:
    """What the confirmation page says will go."""

    name: str
    consequences: list[str]
    needs_confirmation: bool = False


def removal(version: FrameworkVersion, kind: str, item_id: int) -> Removal:
    """What removing a part of the draft takes with it, for the confirmation page."""
    part = part_of(kind, "remove")
    place = find(version, kind, item_id)
    return Removal(part.label(place), part.consequences(version, place), part.asks_to_confirm)
