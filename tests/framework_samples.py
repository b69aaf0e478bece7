"""Framework files for tests, of any size, built as text the way a person would write them."""

from __future__ import annotations

import yaml

from app.services.frameworks.document import FORMAT


def framework_data(
    *, slug="sample", levels=3, areas=2, per_area=2, tracks=1, measures=False
) -> dict:
    """A framework of `levels` levels per track, each cell written with one example; with
    `measures`, each cell's measure comes first (as a finished framework has it)."""
    track_list = []
    rank = 0
    for t in range(tracks):
        track_levels = []
        for n in range(levels):
            rank += 1
            track_levels.append(
                {
                    "code": f"T{t}L{n + 1}" if tracks > 1 else f"L{n + 1}",
                    "title": f"Level {n + 1}",
                    "rank": rank,
                    "summary": f"Summary of level {n + 1}.",
                    "decision_rights": [
                        {
                            "decision": "What to build next",
                            "role": "driver",
                            "delegation": min(7, n + 1),
                        }
                    ],
                }
            )
        track_list.append({"key": f"track-{t}", "name": f"Track {t}", "levels": track_levels})
    codes = [level["code"] for track in track_list for level in track["levels"]]
    area_list = [
        {
            "key": f"area-{a}",
            "name": f"Area {a}",
            "competencies": [
                {
                    "key": f"skill-{a}-{c}",
                    "name": f"Skill {a}.{c}",
                    "description": "What this skill is about.",
                    "expectations": {
                        code: {
                            "status": "defined",
                            "text": f"Does skill {a}.{c} at {code}.",
                            "indicators": [{"kind": "example", "text": f"An example at {code}."}],
                        }
                        for code in codes
                    },
                }
                for c in range(per_area)
            ],
        }
        for a in range(areas)
    ]
    if measures:
        for area in area_list:
            for competency in area["competencies"]:
                for code, cell in competency["expectations"].items():
                    text = f"What shows {competency['name']} at {code}."
                    cell["indicators"].insert(0, {"kind": "measure", "text": text})
    return {
        "format": FORMAT,
        "slug": slug,
        "name": slug.title(),
        "tracks": track_list,
        "areas": area_list,
    }


def framework_yaml(**kwargs) -> str:
    return yaml.safe_dump(framework_data(**kwargs), sort_keys=False, allow_unicode=True)


# --- files with several problems of different kinds, each found in one round ------------------

# A level that is not a level (line 8), criteria that are not a list (line 12), a topic without
# a name (line 19), and two topics of the same name (lines 5 and 13): the last is only found by
# the checks every framework follows, after the front matter has been read.
MONZO_PROBLEMS = """\
---
title: 'Web Engineering'
levels: 2
topics:
  - name: 'communication'
    title: 'Communication'
    content:
      - level: 0
        criteria:
          - 'Listens actively'
      - level: 2
        criteria: 'Writes clear updates'
  - name: 'communication'
    title: 'Communication again'
    content:
      - level: 1
        criteria:
          - 'Ships'
  - title: 'Impact'
    content:
      - level: 1
        criteria:
          - 'Ships small changes weekly'
---
"""
MONZO_PROBLEM_LINES = [5, 8, 12, 13, 19]


def csv_problems() -> str:
    """A framework CSV with a slug that is not one (line 2, a framework rule), a row with a
    field too many (line 10), a control character in a cell's row (line 14; the indicator on
    the line after it is not then reported as an indicator of an empty cell), a cell status
    that is not one (line 16) and an indicator kind that is not one (line 17)."""
    from app.services.frameworks import csv_format, yaml_format

    doc, _ = yaml_format.parse(framework_yaml(levels=2, per_area=1, areas=1))
    lines = csv_format.dump(doc).splitlines(keepends=True)
    lines[1] = lines[1].replace(",sample", ",Not A Slug")
    lines[9] = lines[9].replace("Summary of", "Summary, of")
    lines[13] = lines[13].replace("Does skill", "Does\x00 skill")
    lines[15] = lines[15].replace(",defined,", ",maybe,")
    lines[16] = lines[16].replace(",example,", ",story,")
    return "".join(lines)


CSV_PROBLEM_LINES = [2, 10, 14, 16, 17]
