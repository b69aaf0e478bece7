"""The pages a problem's `type` URI names (/api/v1/problems/<slug>): what each kind of problem
means and what to do about it, for the people who write API clients. Public, server-rendered."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template

from app import access
from app.errors import PROBLEM_BASE, PROBLEMS, SLUG_TITLES

bp = Blueprint("api_problems", __name__, url_prefix=PROBLEM_BASE.rstrip("/"))


@dataclass(frozen=True)
class ProblemDoc:
    slug: str
    status: int
    title: str
    explanation: str

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


EXPLANATIONS: dict[str, str] = {
    "bad-request": "The request could not be read as sent. The detail says what to change.",
    "malformed-json": "The body is not valid JSON: check quoting, commas and brackets, and "
    "send it with Content-Type: application/json.",
    "unauthenticated": "No token was sent, or the one sent does not work: it is mistyped, "
    "revoked, expired, or its owner was deactivated (the detail says which). Send "
    "Authorization: Bearer rungs_…; make a new token under Your settings → API tokens.",
    "forbidden": "The token's owner may not do this, though they may see the thing (for "
    "example, changing an evidence item that someone else logged). Nothing was changed.",
    "insufficient-scope": "The token may only read. Make a read-and-write token to change things.",
    "not-found": "There is no such thing, or the token's owner may not see it: the API says "
    "404 wherever the pages would, so it never tells what exists.",
    "method-not-allowed": "That method is not offered at this path; the Allow header lists "
    "those that are.",
    "not-acceptable": "The Accept header asks for a format this path does not give.",
    "conflict": "Someone changed the thing since you read it. Nothing of yours was stored; "
    "`current` holds it as it is now, with its version: read it, then send your change "
    "again with that version.",
    "too-large": "The request body is larger than this server accepts.",
    "unsupported-media-type": "Send the body as JSON, with Content-Type: application/json.",
    "validation-failed": "Some values are not valid. `errors` lists each one with its field, "
    "a message and, in a body, a JSON pointer to it. Nothing was stored.",
    "rate-limited": "The token made more requests this minute than it may. Wait the seconds "
    "in Retry-After, then go on; RateLimit-Remaining shows how many are left.",
    "server-error": "Something failed on Rungs' side; the request may be sent again later. If "
    "it keeps happening, tell your administrator.",
}


def documented() -> list[ProblemDoc]:
    """Every problem type the API answers with, in status order."""
    found = [
        ProblemDoc(slug, status, title, EXPLANATIONS[slug])
        for status, (slug, title) in PROBLEMS.items()
    ]
    status_of = {"malformed-json": 400, "insufficient-scope": 403}
    found += [
        ProblemDoc(slug, status_of[slug], title, EXPLANATIONS[slug])
        for slug, title in SLUG_TITLES.items()
    ]
    return sorted(found, key=lambda doc: (doc.status, doc.slug))


@bp.route("/")
@access.public
def index():
    """Every problem type, each under its own anchor."""
    return render_template("api/problems.html", problems=documented(), one=None)


@bp.route("/<slug>")
@access.public
def problem_type(slug: str):
    """One problem type: what it means and what to do."""
    found = [doc for doc in documented() if doc.slug == slug]
    if not found:
        abort(404)
    return render_template("api/problems.html", problems=documented(), one=found[0])
