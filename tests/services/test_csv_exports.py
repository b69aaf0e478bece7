"""Every CSV Rungs writes keeps formulas inert through one helper, and the framework CSV, which
Rungs reads back, gets exactly the text that was written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from app.infra.text import inert_csv_cell, restore_csv_cell
from app.models import PacketView
from app.services.packets import jobs as packet_jobs

FORMULAS = ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1+1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_gets_an_apostrophe_and_comes_back_without_it(formula):
    assert inert_csv_cell(formula) == "'" + formula
    assert restore_csv_cell(inert_csv_cell(formula)) == formula


@pytest.mark.parametrize(
    "text", ["plain", "", "'quoted", "'", "''", "'=already an apostrophe", "''-two", "a=b", "3"]
)
def test_restore_undoes_inert_for_any_text(text):
    assert restore_csv_cell(inert_csv_cell(text)) == text


def test_inert_cells_of_other_types_are_text():
    assert inert_csv_cell(None) == "" and inert_csv_cell(-1) == "'-1" and inert_csv_cell(7) == "7"


def test_the_packet_manifest_keeps_names_and_levels_inert():
    stored = packet_jobs.Stored(Path("x.pdf"), 3, "v1", "ab12")
    people = [(1, "=cmd|' /C calc'!A0", "-L1", "+L2", "@track")]
    text = packet_jobs._manifest(PacketView.COMMITTEE, people, [stored], ["h1/=evil.pdf"])
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["file"] == "'=evil.pdf"
    assert (row["candidate"], row["current_level"], row["proposed_level"], row["track"]) == (
        "'=cmd|' /C calc'!A0",
        "'-L1",
        "'+L2",
        "'@track",
    )
    assert (row["pages"], row["sha256"]) == ("3", "ab12")
