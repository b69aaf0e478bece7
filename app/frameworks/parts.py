"""The editor's table of parts: tracks, levels, decision rights, areas, competencies, cells.

What a part is and how it changes is the service's (app/services/frameworks/editing/); this
table holds only how the editor shows it: its forms, its addresses, its page titles and what it
says once saved. part_views.py writes the add / edit / move / remove views once over it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.frameworks.forms import DraftForm
from app.frameworks.part_forms import (
    AreaForm,
    CellForm,
    CompetencyForm,
    DecisionForm,
    LevelForm,
    NewAreaForm,
    NewTrackForm,
    TrackForm,
)
from app.services.frameworks import editing

DRAFT = "/<slug>/v<int:number>"


@dataclass(frozen=True)
class PartView:
    """How the editor shows one kind of part; `kind` is its name in the service's registry."""

    kind: str
    name: str  # in endpoints (add_level, edit_level) and in the editor's anchors (#level-3)
    edit_path: str  # below the draft's address; its one variable is the part's id
    form: type[DraftForm]
    edit_title: str  # formatted with the template's names, such as "Edit the level {level.code}"
    names: tuple[str, str]  # what the templates call the parent and the part
    add_path: str | None = None  # its variable, if any, is the parent's id
    new_form: type[DraftForm] | None = None
    add_title: str = ""
    add_button: str = ""
    template: str = "framework_editor/form.html"
    edit_template: str = ""  # when editing looks different from adding
    on_add: str = ""  # formatted like the titles
    on_save: str = ""
    edit_endpoint: str = ""  # edit_<name> unless given
    is_on_level_page: bool = False  # its forms come from, and go back to, its level's page

    @property
    def part(self) -> editing.Part:
        return editing.PARTS[self.kind]


TABLE = (
    PartView(
        "tracks",
        "track",
        "/tracks/<int:track_id>/edit",
        TrackForm,
        "Edit the track {track.name}",
        ("version", "track"),
        add_path="/tracks/new",
        new_form=NewTrackForm,
        add_title="Add a track",
        add_button="Add the track",
        on_add="The track {track.name} was added.",
        on_save="The track {track.name} was saved.",
    ),
    PartView(
        "levels",
        "level",
        "/levels/<int:level_id>/edit",
        LevelForm,
        "Edit the level {level.code}",
        ("track", "level"),
        edit_template="framework_editor/level.html",  # it lists the level's decision rights
        add_path="/tracks/<int:track_id>/levels/new",
        new_form=LevelForm,
        add_title="Add a level to {track.name}",
        add_button="Add the level",
        on_add="The level {level.code} was added.",
        on_save="The level {level.code} was saved.",
    ),
    PartView(
        "decisions",
        "decision",
        "/decisions/<int:decision_id>/edit",
        DecisionForm,
        "Edit a decision right of {level.code}",
        ("level", "right"),
        add_path="/levels/<int:level_id>/decisions/new",
        new_form=DecisionForm,
        add_title="Add a decision right to {level.code}",
        add_button="Add the decision right",
        on_add="The decision right was added.",
        on_save="The decision right was saved.",
        is_on_level_page=True,
    ),
    PartView(
        "areas",
        "area",
        "/areas/<int:area_id>/edit",
        AreaForm,
        "Edit the area {area.name}",
        ("version", "area"),
        add_path="/areas/new",
        new_form=NewAreaForm,
        add_title="Add a competency area",
        add_button="Add the area",
        on_add="The area {area.name} was added.",
        on_save="The area {area.name} was saved.",
    ),
    PartView(
        "competencies",
        "competency",
        "/competencies/<int:competency_id>/edit",
        CompetencyForm,
        "Edit the competency {competency.name}",
        ("area", "competency"),
        add_path="/areas/<int:area_id>/competencies/new",
        new_form=CompetencyForm,
        add_title="Add a competency to {area.name}",
        add_button="Add the competency",
        on_add="The competency {competency.name} was added.",
        on_save="The competency {competency.name} was saved.",
        template="framework_editor/competency.html",
    ),
    PartView(
        "cells",
        "cell",
        "/cells/<int:expectation_id>",
        CellForm,
        "{place.competency.name} at {place.level.code}",
        ("competency", "cell"),
        template="framework_editor/cell.html",
        on_save="{place.competency.name} at {place.level.code} was saved.",
        edit_endpoint="cell",
    ),
)
VIEWS = {view.kind: view for view in TABLE}
