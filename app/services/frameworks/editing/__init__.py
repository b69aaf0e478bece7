"""Editing a draft: the verbs over every part (verbs.py), one module per kind of part, whole
drafts (drafts.py) and what the editor's pages show (pages.py). Import from here."""

from app.services.frameworks.editing.cells import INDICATOR_FIELDS, cell_snapshot
from app.services.frameworks.editing.drafts import create_framework, import_upload, other_draft
from app.services.frameworks.editing.inputs import (
    SLUG_MAX,
    AreaInput,
    CellInput,
    CompetencyInput,
    DecisionInput,
    LevelInput,
    NewFramework,
    TrackInput,
)
from app.services.frameworks.editing.pages import (
    CellPlace,
    EditorPage,
    Finding,
    Grid,
    PartPage,
    PublishPage,
    cell_place,
    editor_page,
    findings,
    grid,
    part_page,
    publish_page,
)
from app.services.frameworks.editing.part import Index, Part, check, find, locked_message
from app.services.frameworks.editing.registry import PARTS
from app.services.frameworks.editing.verbs import Removal, add, move, removal, remove, update

__all__ = [
    "INDICATOR_FIELDS",
    "PARTS",
    "SLUG_MAX",
    "AreaInput",
    "CellInput",
    "CellPlace",
    "CompetencyInput",
    "DecisionInput",
    "EditorPage",
    "Finding",
    "Grid",
    "Index",
    "LevelInput",
    "NewFramework",
    "Part",
    "PartPage",
    "PublishPage",
    "Removal",
    "TrackInput",
    "add",
    "cell_place",
    "cell_snapshot",
    "check",
    "create_framework",
    "editor_page",
    "find",
    "findings",
    "grid",
    "import_upload",
    "locked_message",
    "move",
    "other_draft",
    "part_page",
    "publish_page",
    "removal",
    "remove",
    "update",
]
