"""Monzo's progression-framework format: a Markdown file with the framework in its front matter.

Front matter holds `topics`, each with `name`, `title` and `content` entries of `level` (a
number), `criteria` (a list) and optional `exampleCriteria` (`criteria` with `examples`). Levels
have no titles there, so they become L1, L2 … on one track; the topics become competencies of one
area. Each level's criteria become the cell's text, one per line; example criteria and their
examples become indicators.
"""

from __future__ import annotations

import re

import yaml

from app.models import CellStatus, IndicatorKind
from app.services.frameworks.document import (
    AreaDoc,
    CellDoc,
    CompetencyDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
    Report,
    TrackDoc,
    check,
)
from app.services.frameworks.keys import slugify

FRONT_MATTER = re.compile(r"\A\ufeff?---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)


def parse(text: str, *, filename: str = "framework.md") -> tuple[FrameworkDoc | None, Report]:
    report = Report()
    match = FRONT_MATTER.match(text)
    if match is None:
        report.error(
            "",
            "no YAML front matter: the file must start with a line '---', the "
            "framework, and another '---'",
        )
        return None, report
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        report.lines[""] = mark.line + 2 if mark else None
        report.error("", f"the front matter is not valid YAML: {getattr(error, 'problem', error)}")
        return None, report
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, list) or not topics:
        report.error("topics", "the front matter needs a list of topics")
        return None, report
    doc = _document(data, topics, filename, report)
    if report.errors:
        return None, report
    check(doc, report)
    return (None if report.errors else doc), report


def _document(data: dict, topics: list, filename: str, report: Report) -> FrameworkDoc:
    title = str(data.get("title") or filename.rsplit(".", 1)[0]).strip()
    path = str(data.get("path") or "").strip("/")
    numbers = _level_numbers(data, topics, report)
    levels = [LevelDoc(code=f"L{n}", title=f"Level {n}", rank=n) for n in numbers]
    area = AreaDoc(key="competencies", name="Competencies")
    for t, topic in enumerate(topics):
        where = f"topics[{t}]"
        if not isinstance(topic, dict) or not topic.get("name"):
            report.error(where, "each topic needs a name")
            continue
        name = str(topic.get("title") or topic["name"]).strip()
        competency = CompetencyDoc(key=slugify(str(topic["name"]), f"topic-{t + 1}"), name=name)
        for c, entry in enumerate(topic.get("content") or []):
            cell = _cell(entry, f"{where}.content[{c}]", report)
            if cell is not None:
                competency.expectations[f"L{entry['level']}"] = cell
        area.competencies.append(competency)
    return FrameworkDoc(
        slug=slugify(path or title, "framework"),
        name=title,
        tracks=[
            TrackDoc(key="main", name=str(data.get("sidebarTitle") or title).strip(), levels=levels)
        ],
        areas=[area],
    )


def _level_numbers(data: dict, topics: list, report: Report) -> list[int]:
    found = {
        entry.get("level")
        for topic in topics
        if isinstance(topic, dict)
        for entry in topic.get("content") or []
        if isinstance(entry, dict)
    }
    if any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in found):
        report.error("topics", "every content entry needs a level that is a whole number from 1")
        return []
    declared = data.get("levels")
    top = max([*found, declared if isinstance(declared, int) else 0], default=0)
    return list(range(1, top + 1))


def _cell(entry, where: str, report: Report) -> CellDoc | None:
    if not isinstance(entry, dict):
        report.error(where, "must be a mapping with level and criteria")
        return None
    criteria = [str(c).strip() for c in entry.get("criteria") or [] if str(c).strip()]
    indicators = []
    for example in entry.get("exampleCriteria") or []:
        if not isinstance(example, dict):
            report.error(f"{where}.exampleCriteria", "entries need criteria and examples")
            continue
        if example.get("criteria"):
            indicators.append(IndicatorDoc(IndicatorKind.CRITERION, str(example["criteria"])))
        indicators += [
            IndicatorDoc(IndicatorKind.EXAMPLE, str(e)) for e in example.get("examples") or []
        ]
    if not criteria and not indicators:
        return CellDoc(CellStatus.EMPTY)
    text = "\n".join(criteria) or indicators[0].text
    return CellDoc(CellStatus.DEFINED, text, indicators)
