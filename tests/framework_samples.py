"""Framework files for tests, of any size, built as text the way a person would write them."""

from __future__ import annotations

import yaml

from app.services.frameworks.document import FORMAT


def framework_data(*, slug="sample", levels=3, areas=2, per_area=2, tracks=1) -> dict:
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
    return {
        "format": FORMAT,
        "slug": slug,
        "name": slug.title(),
        "tracks": track_list,
        "areas": area_list,
    }


def framework_yaml(**kwargs) -> str:
    return yaml.safe_dump(framework_data(**kwargs), sort_keys=False, allow_unicode=True)
