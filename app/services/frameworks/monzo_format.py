"""Monzo's progression-framework format: a Markdown file with the framework in its front matter.

Front matter holds `topics`, each with `name`, `title` and `content` entries of `level` (a
number), `criteria` (a list) and optional `exampleCriteria` (`criteria` with `examples`). Levels
have no titles there, so they become L1, L2 … on one track; the topics become competencies of one
area. Every criterion becomes a criterion indicator of its cell, so it can be read and cited on
its own; example criteria add their criterion and their examples. A level a topic leaves out
expects nothing there (not applicable); the Markdown below the front matter becomes the
framework's description. docs/monzo-format.md describes the mapping.
"""

from __future__ import annotations

import re
from dataclasses import replace

from app.models import CellStatus, IndicatorKind
from app.services.frameworks import yaml_format
from app.services.frameworks.document import (
    SUPPORTED_FORMATS,
    AreaDoc,
    CellDoc,
    CompetencyDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
    Problem,
    Report,
    TrackDoc,
    check,
    control_character,
    independent,
    too_large,
)
from app.services.frameworks.keys import slugify
from app.services.frameworks.yaml_format import kind_of

FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# Monzo's own frameworks have up to 9 levels; more than this is a mistake, and every level makes
# a cell per topic.
MAX_LEVELS = 30


def cell_text(level: int) -> str:
    """The descriptor of a cell that has criteria: Monzo writes criteria, not a summary."""
    return f"Meets the criteria listed for level {level}."


def parse(text: str, *, filename: str = "framework.md") -> tuple[FrameworkDoc | None, Report]:
    report = Report()
    if too_large(text, report) or control_character(text, report):
        return None, report
    match = FRONT_MATTER.match(text)
    if match is None:
        report.error(
            "",
            "this Markdown file has no YAML front matter (a first line '---', the framework, "
            f"and another '---'), so it is not a Monzo progression-framework page. "
            f"{SUPPORTED_FORMATS}.",
        )
        return None, report
    data = yaml_format.load(match.group(1), report, first_line=2)
    if data is None:
        return None, report
    # As for a Rungs file, every problem is found in one round: the front matter is read past
    # its problems (a wrong entry is left out), then the rules every framework follows are
    # checked on what was read, leaving out what only follows from a problem already found.
    found = len(report.errors)
    reader = _Reader(report)
    doc = reader.document(data, filename, _description(text[match.end() :]))
    if doc is None:
        return None, report
    causes = [_in_document(problem) for problem in report.errors[found:]]
    found = len(report.errors)
    check(doc, report)
    independent(report, found, causes)
    report.errors[found:] = [_in_file(p, reader.sources, report) for p in report.errors[found:]]
    report.warnings = [_in_file(p, reader.sources, report) for p in report.warnings]
    report.errors.sort(key=lambda problem: problem.line or 0)
    return (None if report.errors else doc), report


def _in_document(problem: Problem) -> Problem:
    """A problem of the front matter as the part of the document it leaves out: a level or
    content entry that is not one (the track's levels), or a topic that is not one (its
    competency)."""
    if problem.path == "levels" or re.search(r"\.content(\[\d+\])?(\.level)?$", problem.path):
        return replace(problem, path="tracks[0].levels")
    topic = re.match(r"^topics\[(\d+)\]$", problem.path)
    if topic:
        return replace(problem, path=f"areas[0].competencies[{topic.group(1)}]")
    return problem


def _in_file(problem: Problem, sources: dict[str, str], report: Report) -> Problem:
    """A problem found in the document, named by the part of the Monzo file it came from: by
    its keys where the reader noted them (a topic's `shortTitle`, a criterion), else by the
    topic and level."""
    if problem.path in sources:
        source = sources[problem.path]
        return replace(problem, path=source, line=report.line_of(source) or problem.line)
    path = re.sub(r"^areas\[0\]\.competencies\[(\d+)\]", r"topics[\1]", problem.path)
    path = re.sub(r"\.expectations\.L(\d+)", r" (level \1)", path)
    path = re.sub(r"^tracks\[0\]\.levels(\[\d+\])?", "levels", path)
    path = re.sub(r"^(topics\[\d+\])\.key$", r"\1.name", path)  # a topic's key is its name
    return replace(problem, path=path)


def _description(body: str) -> str:
    """The prose below the front matter, without a first heading (it repeats the title)."""
    return re.sub(r"\A# [^\n]*", "", body.strip()).strip()


class _Reader:
    """Reads the front matter's values, reporting every wrong type with its path and line."""

    def __init__(self, report: Report):
        self.report = report
        # a path in the document → the keys of the file it came from, where they differ
        self.sources: dict[str, str] = {}

    def text(self, data: dict, key: str, path: str, *, required=False) -> str:
        value = data.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            if required:
                self.report.error(where, "is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.report.error(where, f"must be text, not {kind_of(value)}")
            return ""
        return str(value).strip()

    def listing(self, data: dict, key: str, path: str) -> list:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.report.error(f"{path}.{key}", f"must be a list, not {kind_of(value)}")
            return []
        return value

    def level(self, value, where: str, topic: str = "") -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LEVELS:
            of = f" (in {topic})" if topic else ""
            use = f"use a whole number from 1 to {MAX_LEVELS}"
            self.report.error(where, f"{_not_a_level(value)}{of}: {use}")
            return None
        return value

    def document(self, data, filename: str, description: str) -> FrameworkDoc | None:
        if not isinstance(data, dict):
            self.report.error("", f"the front matter must be a mapping, not {kind_of(data)}")
            return None
        topics = data.get("topics")
        if not isinstance(topics, list) or not topics:
            self.report.error("topics", "the front matter needs a list of topics")
            return None
        title = self.text(data, "title", "") or filename.rsplit(".", 1)[0].strip()
        path = self.text(data, "path", "").strip("/")
        sidebar = self.text(data, "sidebarTitle", "")
        if data.get("title") is not None:  # else both come from the file's name
            self.sources.update({"name": "title", "slug": "path" if path else "title"})
            self.sources["tracks[0].name"] = "sidebarTitle" if sidebar else "title"
        declared = self.level(data["levels"], "levels") if "levels" in data else None
        competencies = [self.topic(topic, f"topics[{t}]", t) for t, topic in enumerate(topics)]
        found = [n for _, cells in competencies for n in cells]
        top = max([*found, declared or 0], default=0)
        for competency, cells in competencies:
            for n in range(1, top + 1):
                competency.expectations[f"L{n}"] = cells.get(n) or CellDoc(
                    CellStatus.NOT_APPLICABLE
                )
        return FrameworkDoc(
            slug=slugify(path or title, "framework"),
            name=title,
            description=description,
            tracks=[
                TrackDoc(
                    key="main",
                    name=sidebar or title,
                    levels=[
                        LevelDoc(code=f"L{n}", title=f"Level {n}", rank=n)
                        for n in range(1, top + 1)
                    ],
                )
            ],
            areas=[
                AreaDoc(
                    key="competencies",
                    name="Competencies",
                    competencies=[competency for competency, _ in competencies],
                )
            ],
        )

    def topic(self, topic, where: str, t: int) -> tuple[CompetencyDoc, dict[int, CellDoc]]:
        if not isinstance(topic, dict):
            self.report.error(
                where, f"must be a mapping with name and content, not {kind_of(topic)}"
            )
            return CompetencyDoc(key=f"topic-{t + 1}", name=""), {}
        name = self.text(topic, "name", where, required=True)
        competency = CompetencyDoc(
            key=slugify(name, f"topic-{t + 1}"),
            name=self.text(topic, "title", where) or name,
            # not Monzo's own: a Rungs export to Monzo's shape may keep the grid's short name
            short_name=self.text(topic, "shortTitle", where),
        )
        # Warnings name places in the Rungs document; point them at the topic's lines.
        target = f"areas[0].competencies[{t}]"
        self.sources[f"{target}.short_name"] = f"{where}.shortTitle"
        self.sources[f"{target}.name"] = f"{where}.title" if topic.get("title") else f"{where}.name"
        self.report.lines[target] = self.report.line_of(where)
        cells: dict[int, CellDoc] = {}
        for c, entry in enumerate(self.listing(topic, "content", where)):
            path = f"{where}.content[{c}]"
            if not isinstance(entry, dict):
                self.report.error(
                    path, f"must be a mapping with level and criteria, not {kind_of(entry)}"
                )
                continue
            level = self.level(entry.get("level"), f"{path}.level", competency.name)
            if level is None:
                continue
            if level in cells:
                self.report.error(f"{path}.level", f"level {level} is listed twice for {name}")
                continue
            cells[level] = self.cell(entry, path, level, f"{target}.expectations.L{level}")
            self.report.lines[f"{target}.expectations.L{level}"] = self.report.line_of(path)
        return competency, cells

    def cell(self, entry: dict, path: str, level: int, target: str) -> CellDoc:
        indicators = []
        self.sources[f"{target}.indicators"] = path

        def add(kind: IndicatorKind, text: str, source: str) -> None:
            self.sources[f"{target}.indicators[{len(indicators)}].text"] = source
            indicators.append(IndicatorDoc(kind, text))

        for i, text in self.texts(self.listing(entry, "criteria", path), f"{path}.criteria"):
            add(IndicatorKind.CRITERION, text, f"{path}.criteria[{i}]")
        for e, example in enumerate(self.listing(entry, "exampleCriteria", path)):
            where = f"{path}.exampleCriteria[{e}]"
            if not isinstance(example, dict):
                self.report.error(
                    where, f"must be a mapping with criteria and examples, not {kind_of(example)}"
                )
                continue
            criterion = self.text(example, "criteria", where)
            if criterion:
                add(IndicatorKind.CRITERION, criterion, f"{where}.criteria")
            listed = self.listing(example, "examples", where)
            for i, text in self.texts(listed, f"{where}.examples"):
                add(IndicatorKind.EXAMPLE, text, f"{where}.examples[{i}]")
        if not indicators:
            return CellDoc(CellStatus.EMPTY)
        return CellDoc(CellStatus.DEFINED, cell_text(level), indicators)

    def texts(self, values: list, path: str) -> list[tuple[int, str]]:
        """The texts of the list, each with its index in the file's list."""
        found = []
        for i, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.report.error(f"{path}[{i}]", f"must be text, not {kind_of(value)}")
            elif str(value).strip():
                found.append((i, str(value).strip()))
        return found


def _not_a_level(value) -> str:
    """Why a value of the file is not a level, showing the value as the file has it."""
    if value is None:
        return "a level is missing"
    if isinstance(value, bool):
        return f"{str(value).lower()} is not a level number"
    if isinstance(value, int):
        return f"{value} is not a level"
    if isinstance(value, (str, float)):
        return f"“{value}” is not a level number"
    return f"{kind_of(value)} is not a level number"
