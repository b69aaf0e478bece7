"""The JSON API at /api/v1/: personal access tokens, pydantic schemas, an OpenAPI 3.1 document.

How it fits together
--------------------
- `core.py` holds the blueprint (`bp`, /api/v1) and the `@operation` decorator. `auth.py` runs
  before every /api/v1/ request (ahead of `access.enforce`): the Bearer token's owner becomes
  `current_user` (the cookie session is never read or written here), the rate limit is counted,
  and a read token's write is refused (403 insufficient-scope). After the answer, the use is
  audited (api_token_uses) with its status, and RateLimit-* headers are added.
- Errors are RFC 9457 problem details (application/problem+json), made in one place,
  app/errors.py: raise the usual DomainError subclasses from services (NotFoundError → 404,
  ForbiddenError → 403, ConflictError → 409 with `current`, ValidationError → 422 with
  `errors: [{field, message}]`), or `abort(status)`; never build error JSON by hand.
- `openapi.py` builds the document from the declared operations; `/api/v1/openapi.json` serves
  it and `/api/docs` (reference.py) renders it for people.

Adding an operation
-------------------
Write a module here (e.g. `evidence.py`), import it at the bottom of this file, and declare::

    class EvidenceQuery(PageQuery):              # query models: flat fields only
        person_id: int | None = None

    class EvidencePage(Page[EvidenceOut]):        # a named schema (not "Page_EvidenceOut_")
        \"\"\"A page of evidence, newest first.\"\"\"

    class EvidenceIn(pydantic.BaseModel):         # body model (validated; 422 lists the errors)
        model_config = pydantic.ConfigDict(extra="forbid")
        title: str = pydantic.Field(min_length=1, max_length=200)

    @operation("GET", "/evidence", tag="Evidence", summary="Evidence you may read",
               action="evidence.log", query=EvidenceQuery, response=EvidencePage)
    def list_evidence(query: EvidenceQuery):
        \"\"\"Longer description for the reference page.\"\"\"
        after = decode_cursor(query.cursor, length=2)  # e.g. keys (created_at desc, id desc)
        found = evidence_service.api_page(current_user, after=after, limit=query.limit)
        return EvidencePage(items=[EvidenceOut.of(e) for e in found.rows],
                            next_cursor=encode_cursor(found.next_after))

    @operation("POST", "/evidence", tag="Evidence", summary="Record evidence",
               action="evidence.log", body=EvidenceIn, response=EvidenceOut, status=201,
               errors=(409,))
    def create_evidence(body: EvidenceIn):
        item = evidence_service.record_evidence(current_user, ...)
        db.session.commit()
        return EvidenceOut.of(item), {"Location": url_for("api.get_evidence", item_id=item.id)}

- `action` is the policy action checked at route level (as `@access.requires`); check the
  object with `policy.authorize(current_user, action, obj)` or use `policy.where` in the
  service, exactly as the pages do: a token never sees more than its owner.
- Path arguments use Flask converters (`<int:item_id>`); they become OpenAPI path parameters.
- The view returns a response model instance, (instance, headers), or a flask.Response (a
  file: declare `media_types=("text/csv",)`). List `errors=(…)` beyond the common ones
  (401, 422, 429; 404 with path parameters; 400/403/415 on writes) so the document is honest.
- Views run no SQL (tests/test_house.py): build selects and pages in a service
  (app/services/api/pages.py: `keyset_page`); commit in the view after a write.
- tests/api/test_schemathesis.py runs every declared operation against the document.
"""

from __future__ import annotations

from flask import Flask

from app.extensions import csrf

from . import auth, core
from .core import OPERATIONS, Operation, bp, operation
from .pagination import Page, PageQuery, decode_cursor, encode_cursor

__all__ = [
    "OPERATIONS",
    "Operation",
    "Page",
    "PageQuery",
    "bp",
    "decode_cursor",
    "encode_cursor",
    "init_app",
    "operation",
]


def init_app(app: Flask) -> None:
    """Wire the API into the app: before access.enforce is registered, and before the security
    headers' after_request (after_request hooks run in reverse order)."""
    app.session_interface = auth.SessionInterface()
    app.before_request(auth.authenticate)
    app.after_request(auth.finish)
    app.register_error_handler(core.InputError, core.InputError.response)
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(reference.bp)
    app.register_blueprint(problems.bp)


# The resources: each module declares its operations on import.
from . import evidence, frameworks, me, people, problems, promotions, reference, upkeep  # noqa: E402, F401
