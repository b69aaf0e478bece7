"""The rungs-framework/1 YAML format: read with line numbers for every error, write canonically.

Files come from people and from the internet, so the reader accepts only the plain part of YAML
a framework needs: no anchors or aliases (a 600-byte file of nested aliases expands to millions
of values), no tags beyond the standard scalar, list and mapping ones, no duplicate or non-text
keys (the last of two `slug:` lines would silently win), bounded size and nesting.
"""

from __future__ import annotations

from typing import Any

import yaml

from app.infra.text import unwanted_character
from app.models import CellStatus, DaciRole, IndicatorKind
from app.services.frameworks.document import (
    FORMAT,
    INDICATOR_KINDS,
    AreaDoc,
    CellDoc,
    CompetencyDoc,
    DecisionRightDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
    Report,
    TrackDoc,
    check,
    control_character,
    independent,
    too_large,
)

# A framework nests ten deep (areas → competencies → expectations → indicators); twice that
# leaves room and stops a `[[[[…` file long before Python's recursion limit.
MAX_DEPTH = 20
# Values (keys, texts, lists, mappings) in one file: the shipped IC ladder has about 1,500. The
# pure-Python reader spends about 0.1 ms per value on a busy machine, so this bounds the time of
# one upload at a few seconds even for a file of tiny values such as `[1,1,1,…]`.
MAX_NODES = 50_000
# One line per value: long text is never folded, so a changed sentence is a one-line diff.
LINE_WIDTH = 1_000_000

_STANDARD = "tag:yaml.org,2002:"
ALLOWED_TAGS = {_STANDARD + name for name in ("null", "bool", "int", "float", "str", "seq", "map")}


class RefusedYAMLError(yaml.MarkedYAMLError):
    """Valid YAML that a framework file may not use; `problem_mark` is where it starts."""


class FrameworkLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases, unknown tags and deep nesting while composing,
    before anything is expanded."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise RefusedYAMLError(
                problem=f"the alias *{event.anchor} is not allowed in a framework file; "
                "write the value out in full",
                problem_mark=event.start_mark,
            )
        if event.anchor is not None:
            raise RefusedYAMLError(
                problem=f"the anchor &{event.anchor} is not allowed in a framework file; "
                "remove it and write repeated values out in full",
                problem_mark=event.start_mark,
            )
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in ALLOWED_TAGS:
            raise RefusedYAMLError(
                problem=f"the tag {tag} is not supported; remove it "
                "(a framework file holds only text, numbers, lists and mappings)",
                problem_mark=event.start_mark,
            )
        if self.depth >= MAX_DEPTH:
            raise RefusedYAMLError(
                problem=f"the file nests deeper than {MAX_DEPTH} levels; "
                "a framework file needs about ten",
                problem_mark=event.start_mark,
            )
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise RefusedYAMLError(
                problem=f"the file holds more than {MAX_NODES:,} values; "
                "a framework file needs a few thousand",
                problem_mark=event.start_mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


# Dates, merge keys (<<) and the `=` value tag are left as text: a framework has no use for them,
# and an impossible date such as 2026-02-30 would otherwise fail while the file is read.
FrameworkLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in ALLOWED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str, report: Report, *, first_line: int = 1) -> Any:
    """Plain Python values for the text, recording the line of every path in report.lines.

    None (with an error in the report) when the text is not YAML a framework file may use.
    `first_line` is the line of the file the text starts on (front matter starts on line 2).
    """
    if too_large(text, report):
        return None
    if control_character(text, report, first_line=first_line):
        return None
    loader = FrameworkLoader(text)
    try:
        node = loader.get_single_node()
    except RefusedYAMLError as error:
        report.error("", error.problem, line=error.problem_mark.line + first_line)
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        line = mark.line + first_line if mark else None
        report.error("", f"not valid YAML: {problem}", line=line)
        return None
    finally:
        loader.dispose()
    if node is None:
        report.error("", "the file is empty")
        return None
    return _Builder(loader, report, first_line - 1).value(node, "")


class _Builder:
    """Turns composed nodes into dicts, lists and scalars, refusing what a file may not hold."""

    def __init__(self, loader: FrameworkLoader, report: Report, shift: int):
        self.loader, self.report, self.shift = loader, report, shift

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.shift

    def value(self, node: yaml.Node, path: str) -> Any:
        self.report.lines.setdefault(path, self.line(node))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:  # an int past Python's digit limit, `!!int abc`
            self.report.error(path, f'"{node.value[:40]}" is not a number Rungs can read')
            return None

    def mapping(self, node: yaml.MappingNode, path: str) -> dict:
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = self.line(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "a mapping" if isinstance(key_node, yaml.MappingNode) else "a list"
                self.report.error(path, f"a key must be plain text, not {kind}", line=line)
                continue
            key = key_node.value
            child = f"{path}.{key}" if path else key
            if unwanted_character(key):
                self.report.error(
                    path, f"the key {key!r} contains a control character; remove it", line=line
                )
                continue
            if key in first_seen:
                self.report.error(
                    child,
                    f"appears twice in the same mapping (first on line {first_seen[key]}); "
                    "keep one",
                    line=line,
                )
                continue
            first_seen[key] = line
            self.report.lines[child] = line
            result[key] = self.value(value_node, child)
        return result


def parse(text: str) -> tuple[FrameworkDoc | None, Report]:
    """Read a framework file: the document, or None with every problem found in the report.

    Reading stops only where nothing after it can be read: a file too large, a control
    character, or text that is not YAML a framework may use (the parser stops at its first
    syntax error). Otherwise each later stage (the structure, then the rules every framework
    follows) runs too, and reports what does not follow from a problem already found.
    """
    report = Report()
    data = load(text, report)
    if data is None:
        return None, report
    found = len(report.errors)
    doc = _Reader(report).framework(data)
    independent(report, found, report.errors[:found])
    if doc is None:
        return None, report
    found = len(report.errors)
    check(doc, report)
    independent(report, found, report.errors[:found])
    return (None if report.errors else doc), report


class _Reader:
    """Turns parsed YAML into a FrameworkDoc, reporting every structural problem with its path."""

    def __init__(self, report: Report):
        self.report = report

    def mapping(self, value, path, required=(), optional=()) -> dict | None:
        if not isinstance(value, dict):
            self.report.error(path, f"must be a mapping of keys to values, not {kind_of(value)}")
            return None
        for key in value:
            if key not in required and key not in optional:
                allowed = ", ".join([*required, *optional])
                self.report.error(
                    f"{path}.{key}" if path else str(key),
                    f"is not a known key here (known: {allowed})",
                )
        for key in required:
            if key not in value:
                self.report.error(path or key, f'"{key}" is required' if path else "is required")
        return value

    def text(self, data: dict, key: str, path: str, *, required=False) -> str:
        value = data.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.report.error(where, f"must be text, not {kind_of(value)}")
            return ""
        value = str(value).strip()
        if required and not value:
            self.report.error(where, "must not be empty")
        return value

    def integer(self, data: dict, key: str, path: str) -> int:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            if key in data:
                self.report.error(f"{path}.{key}", f"must be a whole number, not {kind_of(value)}")
            return 0
        return value

    def items(self, data: dict, key: str, path: str, *, required=True) -> list:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.report.error(
                f"{path}.{key}" if path else key, f"must be a list, not {kind_of(value)}"
            )
            return []
        if required and not value:
            self.report.error(f"{path}.{key}" if path else key, "must not be empty")
        return value

    def choice(self, data: dict, key: str, path: str, enum_cls, default=None, shown=None):
        """The member the value names; `shown` orders the members an error lists."""
        value = data.get(key)
        if value is None and default is not None:
            return default
        try:
            return enum_cls(value)
        except ValueError:
            allowed = ", ".join(member.value for member in shown or enum_cls)
            self.report.error(f"{path}.{key}", f'"{value}" is not one of {allowed}')
            return default or next(iter(enum_cls))

    # --- the document -------------------------------------------------------------------------

    def framework(self, data) -> FrameworkDoc | None:
        top = self.mapping(
            data, "", ("format", "slug", "name", "tracks", "areas"), ("description",)
        )
        if top is None:
            return None
        if "format" in top and top["format"] != FORMAT:
            self.report.error("format", f'"{top["format"]}" is not "{FORMAT}"')
        return FrameworkDoc(
            slug=self.text(top, "slug", "", required=True),
            name=self.text(top, "name", "", required=True),
            description=self.text(top, "description", ""),
            tracks=[
                self.track(t, f"tracks[{i}]") for i, t in enumerate(self.items(top, "tracks", ""))
            ],
            areas=[self.area(a, f"areas[{i}]") for i, a in enumerate(self.items(top, "areas", ""))],
        )

    def track(self, data, path) -> TrackDoc:
        data = self.mapping(data, path, ("key", "name", "levels")) or {}
        return TrackDoc(
            key=self.text(data, "key", path, required=True),
            name=self.text(data, "name", path, required=True),
            levels=[
                self.level(v, f"{path}.levels[{i}]")
                for i, v in enumerate(self.items(data, "levels", path))
            ],
        )

    def level(self, data, path) -> LevelDoc:
        data = (
            self.mapping(
                data,
                path,
                ("code", "title", "rank"),
                ("summary", "scope", "typical_experience", "decision_rights"),
            )
            or {}
        )
        return LevelDoc(
            code=self.text(data, "code", path, required=True),
            title=self.text(data, "title", path, required=True),
            rank=self.integer(data, "rank", path),
            summary=self.text(data, "summary", path),
            scope=self.text(data, "scope", path),
            typical_experience=self.text(data, "typical_experience", path),
            decision_rights=[
                self.decision_right(d, f"{path}.decision_rights[{i}]")
                for i, d in enumerate(self.items(data, "decision_rights", path, required=False))
            ],
        )

    def decision_right(self, data, path) -> DecisionRightDoc:
        data = self.mapping(data, path, ("decision", "role", "delegation")) or {}
        return DecisionRightDoc(
            decision=self.text(data, "decision", path, required=True),
            role=self.choice(data, "role", path, DaciRole),
            delegation=self.integer(data, "delegation", path),
        )

    def area(self, data, path) -> AreaDoc:
        data = self.mapping(data, path, ("key", "name", "competencies"), ("description",)) or {}
        return AreaDoc(
            key=self.text(data, "key", path, required=True),
            name=self.text(data, "name", path, required=True),
            description=self.text(data, "description", path),
            competencies=[
                self.competency(c, f"{path}.competencies[{i}]")
                for i, c in enumerate(self.items(data, "competencies", path))
            ],
        )

    def competency(self, data, path) -> CompetencyDoc:
        data = (
            self.mapping(
                data, path, ("key", "name"), ("short_name", "description", "tracks", "expectations")
            )
            or {}
        )
        tracks = None
        if "tracks" in data:
            tracks = [str(t) for t in self.items(data, "tracks", path, required=False)]
        cells = data.get("expectations") or {}
        if not isinstance(cells, dict):
            self.report.error(f"{path}.expectations", "must map level codes to expectations")
            cells = {}
        return CompetencyDoc(
            key=self.text(data, "key", path, required=True),
            name=self.text(data, "name", path, required=True),
            short_name=self.text(data, "short_name", path),
            description=self.text(data, "description", path),
            tracks=tracks,
            expectations={
                str(code): self.cell(cell, f"{path}.expectations.{code}")
                for code, cell in cells.items()
            },
        )

    def cell(self, data, path) -> CellDoc:
        data = self.mapping(data, path, (), ("status", "text", "indicators")) or {}
        text = self.text(data, "text", path)
        default = CellStatus.DEFINED if text else CellStatus.EMPTY
        return CellDoc(
            status=self.choice(data, "status", path, CellStatus, default=default),
            text=text,
            indicators=[
                self.indicator(i, f"{path}.indicators[{n}]")
                for n, i in enumerate(self.items(data, "indicators", path, required=False))
            ],
        )

    def indicator(self, data, path) -> IndicatorDoc:
        data = self.mapping(data, path, ("kind", "text")) or {}
        return IndicatorDoc(
            kind=self.choice(data, "kind", path, IndicatorKind, shown=INDICATOR_KINDS),
            text=self.text(data, "text", path, required=True),
        )


def kind_of(value) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "nothing",
    }
    return names.get(type(value), type(value).__name__)


# --- writing --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(doc: FrameworkDoc) -> str:
    """The canonical text of a framework: the same document always gives the same text."""
    data: dict[str, Any] = {"format": FORMAT, "slug": doc.slug, "name": doc.name}
    if doc.description:
        data["description"] = doc.description
    data["tracks"] = [
        {"key": t.key, "name": t.name, "levels": [_level(level) for level in t.levels]}
        for t in doc.tracks
    ]
    data["areas"] = [_area(doc, area) for area in doc.areas]
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=LINE_WIDTH,
        default_flow_style=False,
    )


def _optional(data: dict, **values) -> dict:
    data.update({key: value for key, value in values.items() if value})
    return data


def _level(level: LevelDoc) -> dict:
    data = _optional(
        {"code": level.code, "title": level.title, "rank": level.rank},
        summary=level.summary,
        scope=level.scope,
        typical_experience=level.typical_experience,
    )
    if level.decision_rights:
        data["decision_rights"] = [
            {"decision": r.decision, "role": r.role.value, "delegation": r.delegation}
            for r in level.decision_rights
        ]
    return data


def _area(doc: FrameworkDoc, area: AreaDoc) -> dict:
    data = _optional({"key": area.key, "name": area.name}, description=area.description)
    data["competencies"] = [_competency(doc, c) for c in area.competencies]
    return data


def _competency(doc: FrameworkDoc, competency: CompetencyDoc) -> dict:
    data = _optional(
        {"key": competency.key, "name": competency.name},
        short_name=competency.short_name,
        description=competency.description,
    )
    if competency.tracks is not None and competency.tracks != [t.key for t in doc.tracks]:
        data["tracks"] = list(competency.tracks)
    cells = {}
    for level in doc.cell_levels(competency):
        cell = competency.expectations.get(level.code) or CellDoc(CellStatus.EMPTY)
        entry: dict[str, Any] = {"status": cell.status.value}
        if cell.text:
            entry["text"] = cell.text
        if cell.indicators:
            entry["indicators"] = [{"kind": i.kind.value, "text": i.text} for i in cell.indicators]
        cells[level.code] = entry
    data["expectations"] = cells
    return data
