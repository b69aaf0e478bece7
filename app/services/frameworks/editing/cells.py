"""Cells of the matrix: one competency at one level. A cell has a revision of its own, so two
people can write different cells at once; it is only ever changed, never added or moved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.attributes import flag_modified

from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.models import CellStatus, Expectation, FrameworkVersion, Indicator, IndicatorKind
from app.services import audit
from app.services.frameworks.document import INDICATOR_MAX, INDICATORS_MAX, IndicatorDoc
from app.services.frameworks.editing import inputs
from app.services.frameworks.editing.inputs import CellInput
from app.services.frameworks.editing.part import Index, Part, Place, check_document, editable

# The cell form has one list per kind; their order here is the order they are stored in, the
# measure first: it is read with the expectation, as the "Measure" column of a role matrix.
INDICATOR_FIELDS = {
    IndicatorKind.MEASURE: "measures",
    IndicatorKind.CRITERION: "criteria",
    IndicatorKind.EXAMPLE: "examples",
    IndicatorKind.SIGNAL: "signals",
}


class Cells(Part):
    kind, noun, event, collection = "cells", "cell", "cell", "expectations"
    parent_kind = "competencies"
    can_add = can_move = can_remove = False

    def snapshot(self, item: Expectation) -> dict[str, Any]:
        return cell_snapshot(item)

    def revision(self, version: FrameworkVersion, place: Place) -> int:
        return place[1].revision

    def guard(self, actor, version, found: Index, place: Place | None, expected: int) -> None:
        """Its own revision guards it, so other cells stay open to others."""
        editable(actor, version)
        if place is None:
            raise ConflictError(
                "This cell is no longer in the draft: someone removed its competency or its "
                "level while you were writing. Your text is below, so you can keep a copy."
            )
        competency, cell = place
        if cell.revision != expected:
            raise ConflictError(
                f"Someone else saved {competency.name} at {_code(found, cell)} while you were "
                "editing it.",
                current=cell_snapshot(cell),
            )

    def change(self, version: FrameworkVersion, found: Index, place: Place, data: CellInput):
        cell = place[1]
        status, text, indicators = _clean(data)
        cell.status, cell.text = status, text
        if _grouped(indicators) != _grouped(cell.indicators):
            cell.indicators = [
                Indicator(position=i, kind=ind.kind, text=ind.text)
                for i, ind in enumerate(_in_kind_order(indicators))
            ]

    def about(self, found: Index, place: Place) -> dict[str, Any]:
        return {"competency": place[0].key, "level": _code(found, place[1])}

    def save(self, actor, version, place: Place, action: str, before, after) -> None:
        flag_modified(place[1], "status")  # always an UPDATE, so indicator-only edits bump it
        db.session.flush()
        check_document(version)
        audit.record(actor, action, version, before=before, after=after)


CELLS = Cells()


def cell_snapshot(cell: Expectation) -> dict[str, Any]:
    """A cell as the form shows it: status, text and one text per indicator kind."""
    snapshot: dict[str, Any] = {"status": cell.status.value, "text": cell.text}
    for kind, name in INDICATOR_FIELDS.items():
        snapshot[name] = "\n".join(i.text for i in cell.indicators if i.kind is kind)
    return snapshot


def _code(found: Index, cell: Expectation) -> str:
    return found.item("levels", cell.level_id).code


def _clean(data: CellInput) -> tuple[CellStatus, str, list[IndicatorDoc]]:
    status = CellStatus(data.status)
    text = inputs.prose(data.text, "text")
    indicators = [IndicatorDoc(i.kind, " ".join(i.text.split())) for i in data.indicators]
    indicators = [i for i in indicators if i.text]
    _check_indicators(indicators)
    if status is CellStatus.DEFINED and not text:
        raise ValidationError(
            "A defined expectation needs text: say what is expected at this level.", field="text"
        )
    if status is not CellStatus.DEFINED and (text or indicators):
        label = "empty" if status is CellStatus.EMPTY else "not applicable"
        raise ValidationError(
            f"A cell marked {label} has no text or indicators. Choose “Defined” to keep "
            "them, or clear them first.",
            field="status",
        )
    return status, text, indicators


def _check_indicators(indicators: list[IndicatorDoc]) -> None:
    for indicator in indicators:
        if len(indicator.text) > INDICATOR_MAX:
            raise ValidationError(
                f"Each line may have at most {INDICATOR_MAX:,} characters; one has "
                f"{len(indicator.text):,}. Shorten it or split it into two lines.",
                field=INDICATOR_FIELDS[indicator.kind],
            )
    if len(indicators) > INDICATORS_MAX:
        raise ValidationError(
            f"A cell may have at most {INDICATORS_MAX} indicators in all; this one has "
            f"{len(indicators)}. Keep the ones that tell levels apart.",
            field=INDICATOR_FIELDS[indicators[-1].kind],
        )


def _grouped(indicators) -> dict[IndicatorKind, list[str]]:
    return {kind: [i.text for i in indicators if i.kind is kind] for kind in INDICATOR_FIELDS}


def _in_kind_order(indicators: list[IndicatorDoc]) -> list[IndicatorDoc]:
    order = list(INDICATOR_FIELDS)
    return sorted(indicators, key=lambda i: order.index(i.kind))
