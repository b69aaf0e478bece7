"""Every kind of part of a draft, by the name the verbs and the editor's URLs use."""

from __future__ import annotations

from app.core.errors import NotFoundError
from app.services.frameworks.editing.areas import AREAS
from app.services.frameworks.editing.cells import CELLS
from app.services.frameworks.editing.competencies import COMPETENCIES
from app.services.frameworks.editing.decisions import DECISIONS
from app.services.frameworks.editing.levels import LEVELS
from app.services.frameworks.editing.part import Part
from app.services.frameworks.editing.tracks import TRACKS

PARTS: dict[str, Part] = {
    part.kind: part for part in (TRACKS, LEVELS, DECISIONS, AREAS, COMPETENCIES, CELLS)
}


def part(kind: str, verb: str) -> Part:
    """The part of that kind if `verb` (add, update, move, remove) applies to it."""
    found = PARTS.get(kind)
    if found is None or not getattr(found, f"can_{verb}"):
        raise NotFoundError("Not found.")
    return found
