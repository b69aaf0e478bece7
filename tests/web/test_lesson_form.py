"""A new lesson from a failure: the evidence form starts from the retrospective and ticks the
career path's "Learning from failure" competency (QA found it left unticked)."""

from __future__ import annotations

from dataclasses import dataclass

from app.evidence.forms import LESSON_COMPETENCY, EvidenceForm


@dataclass
class Choice:
    key: str
    name: str


def test_a_new_lesson_ticks_the_learning_from_failure_competency(app):
    with app.test_request_context("/evidence/new?kind=learning_from_failure"):
        form = EvidenceForm()
        form.set_competencies([Choice("discovery", "Discovery"), Choice(LESSON_COMPETENCY, "L")])
        form.start_as("learning_from_failure")
        assert form.competency_keys.data == [LESSON_COMPETENCY]
        assert "## What we learned" in form.body.data


def test_a_path_without_that_competency_ticks_nothing(app):
    with app.test_request_context("/evidence/new?kind=learning_from_failure"):
        form = EvidenceForm()
        form.set_competencies([Choice("discovery", "Discovery")])
        form.start_as("learning_from_failure")
        assert not form.competency_keys.data
