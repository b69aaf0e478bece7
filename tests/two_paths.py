"""A small ladder shaped like the shipped one: from its senior level (SPM) one way up stays on
the individual contributor track (GPM), the other is the first management level (LPM), with a
competency that only the management track has."""

from __future__ import annotations

from app.extensions import db
from app.policy import SYSTEM
from app.services.frameworks import files

TWO_PATHS = """\
format: rungs-framework/1
slug: two-paths
name: Two paths
description: A ladder whose senior level can go two ways.
tracks:
- key: ic
  name: Individual contributor
  levels:
  - code: PM
    title: Product Manager
    rank: 2
  - code: SPM
    title: Senior Product Manager
    rank: 3
    summary: Owns a complex product area end to end.
    scope: One product area.
    decision_rights:
    - decision: Roadmap sequencing within their product area
      role: approver
      delegation: 6
    - decision: Quarterly outcome goals for their product area
      role: driver
      delegation: 4
  - code: GPM
    title: Group Product Manager
    rank: 4
    summary: Owns a product line of several teams end to end.
    scope: One product line.
    decision_rights:
    - decision: Roadmap sequencing across the teams in their product line
      role: approver
      delegation: 6
  - code: PPM
    title: Principal Product Manager
    rank: 5
- key: management
  name: Management
  levels:
  - code: LPM
    title: Lead Product Manager
    rank: 4
    summary: Manages two to five product managers for the first time.
    decision_rights:
    - decision: Quarterly outcome goals for their product area
      role: approver
      delegation: 5
    - decision: Written role expectations for each of their reports
      role: approver
      delegation: 5
areas:
- key: craft
  name: Craft
  competencies:
  - key: research
    name: Customer research
    expectations:
      PM:
        status: defined
        text: Runs customer interviews for their feature.
      SPM:
        status: defined
        text: Designs research for ambiguous questions in their area.
      GPM:
        status: defined
        text: Designs research for ambiguous questions across their product line.
      PPM:
        status: empty
      LPM:
        status: defined
        text: Designs research for ambiguous questions with each of their reports.
  - key: writing
    name: Writing
    tracks: [ic]
    expectations:
      PM:
        status: defined
        text: Writes clear specs.
      SPM:
        status: defined
        text: Writes documents that lead to a decision.
      GPM:
        status: defined
        text: Writes documents that lead to a decision.
      PPM:
        status: empty
- key: leading
  name: Leading product managers
  competencies:
  - key: role-clarity
    name: Role clarity & decision rights
    tracks: [management]
    expectations:
      LPM:
        status: defined
        text: Makes each report's role expectations and decision rights explicit.
"""


def import_two_paths(app) -> int:
    """Store TWO_PATHS as a published version; returns its number."""
    with app.app_context():
        version, _report = files.import_text(SYSTEM, TWO_PATHS, "yaml", publish=True)
        db.session.commit()
        return version.number


def _measured(text: str, after: str, measure: str) -> str:
    """TWO_PATHS with a measure added to the cell whose line `after` is (the first one left)."""
    line = f"        text: {after}\n"
    at = text.index(line) + len(line)
    return (
        text[:at]
        + f"        indicators:\n        - kind: measure\n          text: {measure}\n"
        + text[at:]
    )


def import_measured_paths(app) -> int:
    """TWO_PATHS as "measured-paths", with measures: Writing reads the same at SPM and GPM but
    its measure changes; Customer research changes its text and its measure."""
    text = TWO_PATHS.replace("slug: two-paths", "slug: measured-paths")
    research = "Designs research for ambiguous questions"
    text = _measured(
        text,
        f"{research} in their area.",
        "Decisions in their area cite research a reviewer can trace.",
    )
    text = _measured(
        text,
        f"{research} across their product line.",
        "Decisions in their product line cite research a reviewer can trace.",
    )
    writing = "Writes documents that lead to a decision."
    # SPM's Writing first; GPM's is then the first without a measure after it.
    text = _measured(text, writing, "A decision is recorded within a week of each document.")
    at = text.index(f"        text: {writing}\n        indicators:") + 1
    text = text[:at] + _measured(
        text[at:], writing, "A decision is recorded within a day of each document."
    )
    with app.app_context():
        version, _report = files.import_text(SYSTEM, text, "yaml", publish=True)
        db.session.commit()
        return version.number
