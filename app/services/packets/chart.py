"""The summary chart: per competency, the self, manager and agreed ratings against the target.

Drawn here as inline SVG (no file, no fetch), in the packet's own font, with the numbers fixed
to two decimals so that the same data always gives the same bytes.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from app.models.promotion import RATING_ORDER
from app.services.packets.data import CompetencySection, PacketData

WIDTH = 500
LABEL_W = 168
PLOT_X = 172
COLUMN_W = 64
EVIDENCE_X = PLOT_X + 4 * COLUMN_W + 10
ROW_H = 17
AREA_H = 15
HEAD_H = 24
LEGEND_H = 22

INK = "#1b2430"
MUTED = "#5b6675"
RULE = "#d5dbe3"
TARGET = "#e4eef8"
COLOURS = {"self": "#8a96a6", "manager": "#c7772b", "agreed": "#1f4f86"}
EVIDENCE_COLOURS = {"enough": "#2f7d4f", "thin": "#b7791f", "none": "#a0404a"}
OFFSETS = {"self": -14.0, "manager": 0.0, "agreed": 14.0}


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = 7,
    anchor: str = "start",
    fill: str = INK,
    **attrs,
) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attrs.items())
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}"'
        f' font-family="Rungs Sans" fill="{fill}"{extra}>{escape(text)}</text>'
    )


def _marker(source: str, x: float, y: float) -> str:
    colour = COLOURS[source]
    if source == "self":
        return (
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.6" fill="#ffffff" stroke="{colour}"'
            ' stroke-width="1.2"/>'
        )
    if source == "manager":
        return f'<rect x="{_n(x - 2.5)}" y="{_n(y - 2.5)}" width="5" height="5" fill="{colour}"/>'
    points = (
        f"{_n(x)},{_n(y - 3.6)} {_n(x + 3.6)},{_n(y)} {_n(x)},{_n(y + 3.6)} {_n(x - 3.6)},{_n(y)}"
    )
    return f'<polygon points="{points}" fill="{colour}"/>'


def _column_x(score: int) -> float:
    return PLOT_X + (score - 0.5) * COLUMN_W


def _clip(text: str, length: int = 34) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _row(section: CompetencySection, y: float) -> list[str]:
    middle = y + ROW_H / 2
    parts = [
        f'<line x1="0" y1="{_n(y + ROW_H)}" x2="{WIDTH}" y2="{_n(y + ROW_H)}" stroke="{RULE}"'
        ' stroke-width="0.4"/>',
        _text(4, middle + 2.4, _clip(section.name)),
    ]
    sources = [r.source for r in section.ratings]
    for rating in section.ratings:
        if rating.score:
            offset = OFFSETS[rating.source] if len(sources) > 1 else 0.0
            parts.append(_marker(rating.source, _column_x(rating.score) + offset, middle))
    colour = EVIDENCE_COLOURS.get(section.sufficiency, MUTED)
    parts.append(f'<circle cx="{_n(EVIDENCE_X + 4)}" cy="{_n(middle)}" r="2.4" fill="{colour}"/>')
    label = "None" if section.sufficiency == "none" else section.sufficiency_label
    parts.append(_text(EVIDENCE_X + 10, middle + 2.4, label, size=6.5))
    return parts


def summary_chart(data: PacketData) -> Markup:
    """The chart as an <svg> element, sized by its viewBox to the width of the page."""
    sections = data.competencies
    areas = []
    for section in sections:
        if not areas or areas[-1][0] != section.area:
            areas.append((section.area, []))
        areas[-1][1].append(section)
    plot_h = len(sections) * ROW_H + len(areas) * AREA_H
    height = HEAD_H + plot_h + LEGEND_H
    parts = [
        # The target band: "meets" is what the proposed level expects.
        f'<rect x="{_n(PLOT_X + 2 * COLUMN_W)}" y="{HEAD_H - 6}" width="{COLUMN_W}"'
        f' height="{_n(plot_h + 6)}" fill="{TARGET}"/>',
        _text(4, HEAD_H - 10, "Competency", size=6.5, font_weight="bold"),
        _text(EVIDENCE_X, HEAD_H - 10, "Evidence", size=6.5, font_weight="bold"),
    ]
    for score, rating in enumerate(RATING_ORDER, start=1):
        x = _column_x(score)
        parts.append(
            _text(x, HEAD_H - 10, rating.label, size=6.5, anchor="middle", font_weight="bold")
        )
        if score < 4:
            line_x = PLOT_X + score * COLUMN_W
            parts.append(
                f'<line x1="{_n(line_x)}" y1="{HEAD_H - 6}" x2="{_n(line_x)}"'
                f' y2="{_n(HEAD_H + plot_h)}" stroke="{RULE}" stroke-width="0.4"'
                ' stroke-dasharray="1.5 1.5"/>'
            )
    parts.append(_text(_column_x(3), HEAD_H - 2, "target", size=5.5, anchor="middle", fill=MUTED))
    y = HEAD_H
    for area, members in areas:
        parts.append(
            _text(4, y + AREA_H - 4, area.upper(), size=5.8, fill=MUTED, letter_spacing="0.6")
        )
        y += AREA_H
        for section in members:
            parts.extend(_row(section, y))
            y += ROW_H
    parts.extend(_legend(data, y + 12))
    label = escape(
        f"Ratings per competency against the {data.proposed_level.code} expectation, "
        "with evidence sufficiency"
    )
    return Markup(  # noqa: S704 - every text above went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_n(height)}"'
        f' class="chart" role="img" aria-label="{label}"><title>{label}</title>'
        + "".join(parts)
        + "</svg>"
    )


def _legend(data: PacketData, y: float) -> list[str]:
    parts = []
    x = 4.0
    for rating in data.competencies[0].ratings if data.competencies else ():
        parts.append(_marker(rating.source, x + 3, y - 2.2))
        parts.append(_text(x + 9, y, rating.label, size=6.5))
        x += 60
    parts.append(f'<rect x="{_n(x)}" y="{_n(y - 6)}" width="10" height="7" fill="{TARGET}"/>')
    parts.append(
        _text(x + 14, y, f"Meets the {data.proposed_level.code} expectation (target)", size=6.5)
    )
    return parts
