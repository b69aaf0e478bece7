"""Evidence under /api/v1/: list (filters, cursor pages), read, log, change with the version
check, move to the Trash. Each operation calls the service the evidence pages call."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import pydantic
from flask import url_for
from flask_login import current_user

from app.api.core import operation
from app.api.pagination import Page, PageQuery, decode_cursor, encode_cursor
from app.api.schemas import PersonRef
from app.core.errors import ValidationError
from app.extensions import db
from app.infra.text import unwanted_character
from app.models import EvidenceKind, Visibility
from app.request_input import ID_MAX
from app.services import evidence as evidence_service
from app.services.evidence import api as service
from app.services.evidence.timeline import SEARCH_LENGTH_MAX, TimelineFilters

TAG = "Evidence"


def _clean(text: str) -> str:
    problem = unwanted_character(text)
    if problem is not None:
        raise ValueError(f"contains a control character ({problem})")
    return text


# Text as the forms take it: no control characters (PostgreSQL refuses NUL; SQLite stores it).
Text = Annotated[str, pydantic.AfterValidator(_clean)]


def _text(limit: int, description: str = "", default: str | None = None):
    return pydantic.Field(
        default=... if default is None else default, max_length=limit, description=description
    )


# --- what is sent back ------------------------------------------------------------------------


class CompetencyTag(pydantic.BaseModel):
    framework_id: int
    key: str = pydantic.Field(description="The competency's stable key in its framework.")
    name: str = pydantic.Field(description="Its name in the framework's published version.")


class LinkOut(pydantic.BaseModel):
    url: str
    label: str


class Evidence(pydantic.BaseModel):
    """An evidence item, as its page shows it to the token's owner."""

    id: int
    owner: PersonRef
    title: str
    body: str = pydantic.Field(description="Markdown, as written.")
    occurred_on: date
    kind: EvidenceKind
    visibility: Visibility
    metric: str = pydantic.Field(description="The outcome's metric; empty when none.")
    metric_before: str
    metric_after: str
    metric_unit: str
    links: list[LinkOut]
    competencies: list[CompetencyTag]
    created_at: datetime
    updated_at: datetime
    shared_at: datetime | None
    in_trash: bool = pydantic.Field(description="Moved to the Trash (only its owner sees it).")
    version: int = pydantic.Field(
        description="Send it back with a change: if the item changed since, the change is "
        "refused with 409 and the current version."
    )


def _evidence(item: service.Item) -> Evidence:
    return Evidence(
        id=item.id,
        owner=PersonRef(id=item.owner_id, name=item.owner_name),
        title=item.title,
        body=item.body,
        occurred_on=item.occurred_on,
        kind=item.kind,
        visibility=item.visibility,
        metric=item.metric,
        metric_before=item.metric_before,
        metric_after=item.metric_after,
        metric_unit=item.metric_unit,
        links=[LinkOut(url=link.url, label=link.label) for link in item.links],
        competencies=[
            CompetencyTag(framework_id=t.framework_id, key=t.key, name=t.name)
            for t in item.competencies
        ],
        created_at=item.created_at,
        updated_at=item.updated_at,
        shared_at=item.shared_at,
        in_trash=item.in_trash,
        version=item.version,
    )


class EvidencePage(Page[Evidence]):
    """A page of evidence items; pass next_cursor back as cursor for the next one."""


# --- what is sent -----------------------------------------------------------------------------


class EvidenceQuery(PageQuery):
    owner: int | None = pydantic.Field(
        default=None, ge=1, le=ID_MAX, description="Only this person's items (their id)."
    )
    competency: str | None = pydantic.Field(
        default=None, max_length=80, description="Only items tagged with this competency key."
    )
    kind: EvidenceKind | None = None
    visibility: Visibility | None = None
    since: date | None = pydantic.Field(default=None, description="Dated on or after this day.")
    until: date | None = pydantic.Field(default=None, description="Dated on or before this day.")
    q: str | None = pydantic.Field(
        default=None,
        max_length=SEARCH_LENGTH_MAX,
        description="Words that must all occur in the title or the body (any case).",
    )


class LinkIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    url: Text = _text(2000, "An http or https address.")
    label: Text = _text(200, default="")


# A change may clear these (null, as "" or []), as the edit page can; not the others.
CLEARABLE = ("body", "metric", "metric_before", "metric_after", "metric_unit", "links")
NOT_NULL = ("title", "occurred_on", "kind", "visibility", "competency_keys")


class EvidenceFields(pydantic.BaseModel):
    """The fields of the evidence form, all optional (a change sends only what changes)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    title: Text | None = pydantic.Field(default=None, max_length=evidence_service.TITLE_MAX)
    occurred_on: date | None = None
    kind: EvidenceKind | None = None
    competency_keys: list[Annotated[Text, pydantic.Field(max_length=80)]] | None = pydantic.Field(
        default=None,
        max_length=100,
        description="Keys of competencies of your framework's published version.",
    )
    body: Text | None = pydantic.Field(
        default=None,
        max_length=evidence_service.BODY_MAX,
        description="Markdown. In a change, null clears it.",
    )
    visibility: Visibility | None = pydantic.Field(
        default=None,
        description="private: only you; shared: your manager chain and mentors (and, in a "
        "promotion case of yours, the people deciding it).",
    )
    metric: Text | None = pydantic.Field(default=None, max_length=200)
    metric_before: Text | None = pydantic.Field(default=None, max_length=60)
    metric_after: Text | None = pydantic.Field(default=None, max_length=60)
    metric_unit: Text | None = pydantic.Field(default=None, max_length=30)
    links: list[LinkIn] | None = pydantic.Field(
        default=None,
        max_length=evidence_service.LINKS_MAX,
        description="In a change, null or [] removes them all.",
    )

    def changes(self) -> dict:
        """The fields sent, in the service's shape: null clears a field the page can clear
        (body, the metric's parts, links); the others cannot be null (EvidenceChange)."""
        sent = {name: getattr(self, name) for name in self.model_fields_set}
        if "links" in sent:
            sent["links"] = [(link.url, link.label) for link in sent["links"] or []]
        for name in CLEARABLE:
            if name in sent and sent[name] is None:
                sent[name] = ""
        return {name: value for name, value in sent.items() if value is not None}


class EvidenceNew(EvidenceFields):
    """A new item: a title, a date, a kind and at least one competency are needed."""

    title: Text = pydantic.Field(max_length=evidence_service.TITLE_MAX)
    occurred_on: date
    kind: EvidenceKind
    competency_keys: list[Annotated[Text, pydantic.Field(max_length=80)]] = pydantic.Field(
        max_length=100, description="Keys of competencies of your framework's published version."
    )

    def to_input(self) -> evidence_service.EvidenceInput:
        return evidence_service.EvidenceInput(**self.changes())


def _no_default(schema: dict) -> None:
    """An optional field that may not be null: leave it out, and it keeps its value."""
    schema.pop("default", None)


class EvidenceChange(EvidenceFields):
    """A change: the version read, and the fields that change (the others stay). A field left
    out keeps its value. `null` (or "" / []) clears body, metric, metric_before, metric_after,
    metric_unit and links, as the edit page can; title, occurred_on, kind, visibility and
    competency_keys cannot be null (422, with the field's pointer)."""

    version: int = pydantic.Field(ge=0, le=ID_MAX, description="The version you read.")
    title: Text = pydantic.Field(
        default=None, max_length=evidence_service.TITLE_MAX, json_schema_extra=_no_default
    )
    occurred_on: date = pydantic.Field(default=None, json_schema_extra=_no_default)
    kind: EvidenceKind = pydantic.Field(default=None, json_schema_extra=_no_default)
    visibility: Visibility = pydantic.Field(
        default=None,
        description="private: only you; shared: your manager chain and mentors (and, in a "
        "promotion case of yours, the people deciding it).",
        json_schema_extra=_no_default,
    )
    competency_keys: list[Annotated[Text, pydantic.Field(max_length=80)]] = pydantic.Field(
        default=None,
        max_length=100,
        description="Keys of competencies of your framework's published version.",
        json_schema_extra=_no_default,
    )

    @pydantic.field_validator(*NOT_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: pydantic.ValidationInfo) -> Any:
        if value is None:
            raise ValueError(f"{info.field_name} cannot be null: leave it out to keep it")
        return value


def _actor():
    return current_user._get_current_object()


def _after(cursor: str | None) -> tuple[date, int] | None:
    values = decode_cursor(cursor, length=2)
    if values is None:
        return None
    day, last_id = values
    try:
        return date.fromisoformat(day), int(last_id)
    except (TypeError, ValueError):
        raise ValidationError(
            "That cursor was not made by this list: use a page's next_cursor as it is.",
            field="cursor",
        ) from None


# --- operations -------------------------------------------------------------------------------


@operation(
    "GET",
    "/evidence",
    tag=TAG,
    summary="Evidence you may read",
    action="evidence.log",
    query=EvidenceQuery,
    response=EvidencePage,
)
def list_evidence(query: EvidenceQuery):
    """Every item you may read, as the evidence pages decide it: your own (not in the Trash),
    and the shared items of the people you manage, mentor or were asked to corroborate for.
    Newest first by date; narrowed by the filters; a page at a time."""
    filters = TimelineFilters(
        search=query.q or "",
        competency=query.competency or "",
        kind=query.kind,
        visibility=query.visibility,
        since=query.since,
        until=query.until,
    )
    found = service.readable(
        _actor(),
        service.Query(filters, query.owner, _after(query.cursor), query.limit),
    )
    after = found.next_after
    return EvidencePage(
        items=[_evidence(item) for item in found.items],
        next_cursor=encode_cursor((after[0].isoformat(), after[1]) if after else None),
    )


@operation(
    "GET",
    "/evidence/<int:evidence_id>",
    tag=TAG,
    summary="One evidence item",
    action="evidence.view",
    response=Evidence,
    errors=(404,),
)
def get_evidence(evidence_id: int):
    """An item you may read (404 otherwise, as its page)."""
    return _evidence(service.item(_actor(), evidence_id))


@operation(
    "POST",
    "/evidence",
    tag=TAG,
    summary="Log an evidence item",
    action="evidence.log",
    body=EvidenceNew,
    response=Evidence,
    status=201,
    errors=(403,),
)
def create_evidence(body: EvidenceNew):
    """Log an item of your own, checked as the evidence form checks it; shared items notify
    your manager and mentors. Answers 201 with the item and its Location."""
    item = service.record(_actor(), body.to_input())
    db.session.commit()
    return _evidence(item), {"Location": url_for("api.get_evidence", evidence_id=item.id)}


@operation(
    "PATCH",
    "/evidence/<int:evidence_id>",
    tag=TAG,
    summary="Change an evidence item",
    action="evidence.edit",
    body=EvidenceChange,
    response=Evidence,
    errors=(403, 404, 409),
)
def update_evidence(evidence_id: int, body: EvidenceChange):
    """Change the fields you send on an item of yours, keeping the others. Send the version
    you read: if the item changed since, nothing is stored and the answer is 409 with the
    current version (current.version). An item you may read but not change is 403; one you
    may not read is 404."""
    changes = body.changes()
    changes.pop("version", None)
    item = service.update(_actor(), evidence_id, changes, version=body.version)
    db.session.commit()
    return _evidence(item)


@operation(
    "DELETE",
    "/evidence/<int:evidence_id>",
    tag=TAG,
    summary="Move an evidence item to the Trash",
    action="evidence.edit",
    status=204,
    errors=(403, 404),
)
def delete_evidence(evidence_id: int):
    """Move an item of yours to the Trash, as its page's Delete does: hidden from everyone
    else at once, restorable by you on the Trash page for 30 days. 403 for an item you may
    read but not change; 404 for one you may not read."""
    service.trash(_actor(), evidence_id)
    db.session.commit()


@operation(
    "POST",
    "/evidence/<int:evidence_id>/restore",
    tag=TAG,
    summary="Bring an evidence item back from the Trash",
    action="evidence.edit",
    response=Evidence,
    errors=(403, 404),
)
def restore_evidence(evidence_id: int):
    """Restore an item of yours from the Trash, as the Trash page does (422 when it is not
    there); it is again shown to whoever it was shared with."""
    item = service.restore(_actor(), evidence_id)
    db.session.commit()
    return _evidence(item)
