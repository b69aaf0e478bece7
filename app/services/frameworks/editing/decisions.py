"""Decision rights of a level: the decision, its DACI role and how far it is delegated."""

from __future__ import annotations

from typing import Any

from app.core.errors import ValidationError
from app.models import DaciRole, DecisionRight, FrameworkVersion, Level
from app.services.frameworks.document import DECISION_MAX
from app.services.frameworks.editing import inputs
from app.services.frameworks.editing.inputs import DecisionInput
from app.services.frameworks.editing.levels import LEVELS
from app.services.frameworks.editing.part import Index, Part, Place


class Decisions(Part):
    kind, noun, event, collection = (
        "decisions",
        "decision right",
        "decision_right",
        "decision_rights",
    )
    parent_kind = "levels"
    can_move = False

    def name(self, item: DecisionRight) -> str:
        text = item.decision
        return f"“{text if len(text) <= 60 else text[:59] + '…'}”"

    def snapshot(self, item: DecisionRight) -> dict[str, Any]:
        return {"decision": item.decision, "role": item.role.value, "delegation": item.delegation}

    def now(self, parent: Level) -> dict[str, Any]:
        return LEVELS.snapshot(parent)

    def create(self, version: FrameworkVersion, found: Index, parent: Level, data):
        right = DecisionRight(position=len(parent.decision_rights), **_clean(data))
        parent.decision_rights.append(right)
        return right

    def added(self, parent: Level, item: DecisionRight) -> dict[str, Any]:
        return {"level": parent.code, **self.snapshot(item)}

    def change(self, version: FrameworkVersion, found: Index, place: Place, data) -> None:
        for name, value in _clean(data).items():
            setattr(place[1], name, value)

    def about(self, found: Index, place: Place) -> dict[str, Any]:
        return {"level": place[0].code}

    def take_out(self, version: FrameworkVersion, place: Place, confirmed: bool) -> dict:
        self.detach(place)
        return {"level": place[0].code, **self.snapshot(place[1])}


DECISIONS = Decisions()


def _clean(data: DecisionInput) -> dict[str, Any]:
    decision = inputs.prose(data.decision, "decision", DECISION_MAX)
    if not decision:
        raise ValidationError("Describe the decision.", field="decision")
    if data.delegation not in range(1, 8):
        raise ValidationError("Choose a delegation level from 1 (tell) to 7.", field="delegation")
    return {"decision": decision, "role": DaciRole(data.role), "delegation": data.delegation}
