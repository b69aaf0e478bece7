"""Bring one's own exported evidence into this Rungs: everything is checked first, then all or none.

Items come in as private drafts for the person importing: whom they were shared with in the
other organisation means nothing here. Tags are mapped by the competency's stable key to the
importer's framework; a tag with no match is dropped and reported, the item is kept. Attachments
come from the export ZIP through the same checks as an upload, each exactly the size and SHA-256
the export gives it; the files one import may store are capped in number and bytes, every copy
counted, before a byte is unpacked. Comments, kudos, corroborations and revisions belong to other
people or to the other system's history and are not re-created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from sqlalchemy import select

from app import policy
from app.core.errors import RowErrors, ValidationError
from app.extensions import db
from app.infra.text import check_text, unwanted_character
from app.models import (
    Evidence,
    EvidenceCompetency,
    EvidenceKind,
    EvidenceRevision,
    User,
    Visibility,
)
from app.services import evidence as evidence_service
from app.services.evidence import attachments
from app.services.personal_data import FORMAT, coaching_import, coaching_plan
from app.services.personal_data.upload import (
    ExportFile,
    Upload,
    check_room,
    checked_content,
    listed_files,
    text_at,
)

ITEMS_MAX = 20_000
PROBLEMS_SHOWN = 200
# The longest outcome texts the columns hold (the evidence form checks the same lengths).
OUTCOME_MAX = {
    "metric": Evidence.metric.type.length,
    "before": Evidence.metric_before.type.length,
    "after": Evidence.metric_after.type.length,
    "unit": Evidence.metric_unit.type.length,
}


@dataclass
class _Planned:
    """One item, checked and ready to be stored."""

    title: str
    fields: dict[str, Any]
    links: list
    keys: list[str]
    dropped: list[str]  # tags with no match in the importer's framework, as "Name (key)"
    number: int = 0  # its place in the export's list, for messages
    files: list[ExportFile] = field(default_factory=list)
    left_behind: int = 0  # attachments listed, but the upload was the JSON alone

    created: Evidence | None = None

    @property
    def fingerprint(self) -> tuple:
        return (self.fields["title"], self.fields["occurred_on"], self.fields["body"])


@dataclass
class ImportReport:
    imported: list[Evidence] = field(default_factory=list)
    dropped_tags: list[str] = field(default_factory=list)  # "“Item”: Name (key)"
    untagged: list[str] = field(default_factory=list)  # titles left with no competency
    duplicates: list[str] = field(default_factory=list)  # titles already here
    in_trash: int = 0  # items that were in the Trash of the export
    attachments: int = 0
    attachments_left_behind: int = 0  # listed in the JSON but the upload was not the ZIP
    coaching: coaching_import.CoachingReport = field(default_factory=coaching_import.CoachingReport)

    def add(self, plan: _Planned) -> None:
        self.dropped_tags.extend(f"“{plan.title}”: {tag}" for tag in plan.dropped)
        if not plan.keys:
            self.untagged.append(plan.title)
        self.attachments += len(plan.files)
        self.attachments_left_behind += plan.left_behind


def import_upload(actor: User, stream: IO[bytes]) -> ImportReport:
    """Read an uploaded export (JSON or ZIP) and import its items; RowErrors lists every problem."""
    policy.authorize(actor, "account.manage")
    source = Upload(stream)
    return import_items(actor, source.data, source)


def import_items(actor: User, data: Any, source: Upload | None = None) -> ImportReport:
    """Check every item and every coaching object, then create them all, or nothing."""
    policy.authorize(actor, "account.manage")
    version = evidence_service.published_version_of(actor.id)
    items = _items(data, version)
    coaching, coaching_problems = coaching_plan.read(data)
    known = {choice.key: choice.name for choice in evidence_service.competency_choices(actor.id)}
    existing = _existing(actor.id)
    report = ImportReport()
    planned: list[_Planned] = []
    places: dict[int, int | _Planned] = {}  # the export's evidence places → items here
    problems: list[str] = []
    for number, raw in enumerate(items, start=1):
        if isinstance(raw, dict) and raw.get("in_trash") is True:
            report.in_trash += 1  # the person deleted it; the export file still has it
            continue
        try:
            plan = _plan(raw, known, source)
        except ValidationError as error:
            problems.append(f"Item {number}{_titled(raw)}: {error.message}")
            continue
        plan.number = number
        if plan.fingerprint in existing:
            report.duplicates.append(plan.title)
            places[number] = existing[plan.fingerprint]
            continue
        existing[plan.fingerprint] = places[number] = plan
        planned.append(plan)
    problems += coaching_problems
    if problems:
        raise RowErrors(_shortened(problems))
    check_room([file for plan in planned for file in plan.files])
    if source is not None and source.archive is not None:
        _check_contents(planned, source)
    for plan in planned:
        plan.created = _create(actor, version.framework_id, plan, source)
        report.imported.append(plan.created)
        report.add(plan)
    db.session.flush()
    here = {
        place: target if isinstance(target, int) else target.created.id
        for place, target in places.items()
        if isinstance(target, int) or target.created is not None
    }
    report.coaching = coaching_import.store(actor, coaching, here)
    return report


# --- checking -----------------------------------------------------------------------------------


def _items(data: Any, version) -> list:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise RowErrors(
            [f"This is not a Rungs personal data export (format {FORMAT}); found {_shown(found)}."]
        )
    items = data.get("evidence")
    if not isinstance(items, list):
        raise RowErrors(["The export has no list of evidence."])
    if len(items) > ITEMS_MAX:
        raise RowErrors([f"The export has more than {ITEMS_MAX:,} items; split it."])
    if version is None and items:
        raise RowErrors(
            [
                "You are not placed on a level of a published career framework yet, so the "
                "items' competencies cannot be mapped. Ask your head of product to place you, "
                "then import again."
            ]
        )
    return items


def _plan(raw: Any, known: dict[str, str], source: Upload | None) -> _Planned:
    if not isinstance(raw, dict):
        raise ValidationError("is not an object.")
    data = _input(raw)
    fields = evidence_service._fields(data)  # the same rules as the form
    try:
        links = evidence_service._links(data.links)
    except ValueError as error:  # urlsplit refuses some addresses outright ("http://[::1")
        raise ValidationError(f"a link is not a valid web address ({error}).") from None
    tags = _tags(raw.get("competencies"))
    keys = sorted({key for key, _name in tags if key in known})
    dropped = [f"{name} ({key})" for key, name in tags if key not in known]
    plan = _Planned(fields["title"], fields, links, keys, dropped)
    listed = raw.get("attachments") or []
    if not isinstance(listed, list):
        raise ValidationError("attachments must be a list.")
    if source is None or source.archive is None:
        plan.left_behind = len(listed)
    else:
        plan.files = listed_files(listed, source)
    return plan


def _input(raw: dict) -> evidence_service.EvidenceInput:
    try:
        occurred_on = date.fromisoformat(text_at(raw, "occurred_on"))
    except ValueError:
        raise ValidationError(
            f"the date {_shown(raw.get('occurred_on'))} is not YYYY-MM-DD."
        ) from None
    try:
        kind = EvidenceKind(raw.get("kind"))
    except (ValueError, TypeError):
        raise ValidationError(
            f"the kind {_shown(raw.get('kind'))} is not one Rungs knows."
        ) from None
    outcome = raw.get("outcome") or {}
    links = raw.get("links") or []
    if not isinstance(outcome, dict) or not isinstance(links, list):
        raise ValidationError("the outcome or the links are not in the export's format.")
    measure = {key: text_at(outcome, key, "the outcome") for key in OUTCOME_MAX}
    for key, longest in OUTCOME_MAX.items():
        if len(measure[key].strip()) > longest:
            raise ValidationError(f"the outcome's {key} is longer than {longest} characters.")
    return evidence_service.EvidenceInput(
        title=text_at(raw, "title"),
        occurred_on=occurred_on,
        kind=kind,
        competency_keys=[],
        body=text_at(raw, "body"),
        visibility=Visibility.PRIVATE,
        metric=measure["metric"],
        metric_before=measure["before"],
        metric_after=measure["after"],
        metric_unit=measure["unit"],
        links=[
            (text_at(link, "url", f"link {n}"), text_at(link, "label", f"link {n}"))
            for n, link in enumerate(links, start=1)
        ],
    )


def _tags(raw: Any) -> list[tuple[str, str]]:
    """(key, name) of each tag; plain keys are accepted too."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError("competencies must be a list.")
    tags = []
    for number, tag in enumerate(raw, start=1):
        where = f"competency {number}"
        key = (
            check_text(tag, f"{where}'s key")
            if isinstance(tag, str)
            else text_at(tag, "key", where)
        )
        if not key:
            raise ValidationError("a competency has no key.")
        name = text_at(tag, "name", where) if isinstance(tag, dict) else ""
        tags.append((key, name or key))
    return tags


def _check_contents(planned: list[_Planned], source: Upload) -> None:
    """Read every file (no more than its declared size) and check it like an upload."""
    rules = attachments.limits()
    problems = []
    for plan in planned:
        for file in plan.files:
            try:
                checked_content(file, source, rules)
            except ValidationError as error:
                problems.append(f"Item {plan.number} (“{plan.title[:60]}”): {error.message}")
    if problems:
        raise RowErrors(_shortened(problems))


def _existing(person_id: int) -> dict[tuple, int | _Planned]:
    """Items the person already has: importing the same file twice adds nothing."""
    rows = db.session.execute(
        select(Evidence.id, Evidence.title, Evidence.occurred_on, Evidence.body)
        .where(Evidence.owner_id == person_id, Evidence.deleted_at.is_(None))
        .order_by(Evidence.id)
    ).all()
    return {(title, occurred_on, body): item_id for item_id, title, occurred_on, body in rows}


def _titled(raw: Any) -> str:
    title = raw.get("title") if isinstance(raw, dict) else None
    if not isinstance(title, str) or unwanted_character(title):
        return ""  # a title with a control character is not repeated in the message
    title = " ".join(title.split())[:60]
    return f" (“{title}”)" if title else ""


def _shown(value: Any) -> str:
    """A value from the file, short and printable (repr escapes control characters)."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "…"


def _shortened(problems: list[str]) -> list[str]:
    if len(problems) <= PROBLEMS_SHOWN:
        return problems
    return [*problems[:PROBLEMS_SHOWN], f"… and {len(problems) - PROBLEMS_SHOWN} more."]


# --- storing ------------------------------------------------------------------------------------


def _create(actor: User, framework_id: int, plan: _Planned, source: Upload | None) -> Evidence:
    evidence = Evidence(owner_id=actor.id, **plan.fields)
    evidence.competencies = [
        EvidenceCompetency(framework_id=framework_id, competency_key=key) for key in plan.keys
    ]
    evidence.links = plan.links
    db.session.add(evidence)
    db.session.flush()
    db.session.add(
        EvidenceRevision(
            evidence_id=evidence.id,
            number=1,
            action="created",
            snapshot=evidence_service.snapshot(evidence),
            changed_by_id=actor.id,
        )
    )
    rules = attachments.limits()
    for file in plan.files:
        assert source is not None
        attachments.store(evidence, checked_content(file, source, rules))
    return evidence
