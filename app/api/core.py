"""How an API operation is declared: one decorator that routes it, marks its policy action,
parses and validates its input with pydantic, renders its answer, and records it all for the
OpenAPI document (app/api/openapi.py)."""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pydantic
from flask import Blueprint, Response, request

from app import access
from app.errors import problem

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Errors any operation may answer, besides those it declares (401 without a valid token, 429
# over the rate limit, 422 for a query or path value no field may hold, 500).
COMMON_ERRORS = (401, 422, 429)


class ProblemError(pydantic.BaseModel):
    """One invalid value: where it is and what is wrong with it."""

    field: str = pydantic.Field(
        description="The value's name: a query parameter or a body field "
        "(dotted for nested fields); empty when no one field is at fault."
    )
    message: str
    pointer: str | None = pydantic.Field(
        default=None, description="A JSON Pointer (RFC 6901) to the value in the body."
    )


class Problem(pydantic.BaseModel):
    """An error, as RFC 9457 problem details."""

    model_config = pydantic.ConfigDict(extra="allow")

    type: str = pydantic.Field(description="A stable URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = None


@dataclass
class Operation:
    """One declared operation, as the OpenAPI document describes it."""

    method: str
    rule: str  # the Flask rule under the blueprint, e.g. "/people/<int:person_id>"
    endpoint: str
    tag: str
    summary: str
    description: str
    action: str
    status: int
    response: type[pydantic.BaseModel] | None
    query: type[pydantic.BaseModel] | None
    body: type[pydantic.BaseModel] | None
    errors: tuple[int, ...]
    media_types: tuple[str, ...] = ("application/json",)
    public: bool = False
    path_parameters: dict[str, str] = field(default_factory=dict)  # name → converter

    @property
    def path(self) -> str:
        """The OpenAPI path: /api/v1/people/{person_id}."""
        return bp.url_prefix + re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def is_write(self) -> bool:
        return self.method not in SAFE_METHODS


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    rule: str,
    *,
    tag: str,
    summary: str,
    action: str | None = None,
    response: type[pydantic.BaseModel] | None = None,
    status: int = 200,
    query: type[pydantic.BaseModel] | None = None,
    body: type[pydantic.BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    media_types: tuple[str, ...] = ("application/json",),
    public: bool = False,
    blueprint: Blueprint | None = None,
):
    """Declare an API operation (see app/api/__init__.py for a worked example).

    The view gets its path arguments, plus `query=` and `body=` (validated pydantic models)
    when declared. It returns a `response` model instance (sent as JSON with `status`), a
    (model, headers) pair, or a ready flask.Response (files, and `media_types` names them).
    Operations go on the API's blueprint and into its document; tests may pass a `blueprint`
    of their own (such operations stay out of the document)."""
    if (action is None) == (not public):
        raise ValueError("an operation names a policy action, or is public")

    def register(view: Callable[..., Any]):
        spec = Operation(
            method=method.upper(),
            rule=rule,
            endpoint=view.__name__,
            tag=tag,
            summary=summary,
            description=(view.__doc__ or "").strip(),
            action=action or "",
            status=status,
            response=response,
            query=query,
            body=body,
            errors=tuple(sorted(set(errors))),
            media_types=media_types,
            public=public,
            path_parameters={
                name: converter or "default"
                for converter, name in re.findall(r"<(?:([^:<>(]+)[^:<>]*:)?(\w+)>", rule)
            },
        )

        @functools.wraps(view)
        def endpoint(**path_args):
            arguments = dict(path_args)
            if query is not None:
                arguments["query"] = _parse_query(query)
            if body is not None:
                arguments["body"] = _parse_body(body)
            return _render(view(**arguments), status)

        endpoint = access.public(endpoint) if public else access.requires(action)(endpoint)
        (blueprint or bp).add_url_rule(
            rule, endpoint=spec.endpoint, view_func=endpoint, methods=[spec.method]
        )
        if blueprint is None:
            OPERATIONS.append(spec)
        return endpoint

    return register


class InputError(Exception):
    """A query or body that does not validate: answered 422 (400 for a body that is not JSON)."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]], slug: str = ""):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.slug = status, detail, errors, slug

    def response(self) -> Response:
        return problem(self.status, self.detail, slug=self.slug or None, errors=self.errors)


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return typing.get_origin(annotation) in (list, tuple, set)


def _parse_query(model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in request.args:
            many = request.args.getlist(key)
            values[key] = many if _is_list(info.annotation) else many[-1]
    try:
        return model.model_validate(values)
    except pydantic.ValidationError as error:
        raise _input_error(error, "query") from None


def _parse_body(model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    if request.mimetype != "application/json":
        raise InputError(415, "Send the body as JSON (Content-Type: application/json).", [])
    try:
        return model.model_validate_json(request.get_data() or b"")
    except pydantic.ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            raise InputError(
                400, "The body is not valid JSON.", [], slug="malformed-json"
            ) from None
        raise _input_error(error, "body") from None


def _input_error(error: pydantic.ValidationError, where: str) -> InputError:
    found = []
    for item in error.errors(include_url=False, include_input=False):
        location = [str(part) for part in item["loc"]]
        entry = {"field": ".".join(location), "message": item["msg"]}
        if where == "body":
            entry["pointer"] = "/" + "/".join(
                p.replace("~", "~0").replace("/", "~1") for p in location
            )
        found.append(entry)
    count = len(found)
    detail = (
        f"1 value in the {where} is not valid."
        if count == 1
        else f"{count} values in the {where} are not valid."
    )
    return InputError(422, detail, found)


def _render(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    headers: dict[str, str] = {}
    if isinstance(result, tuple):
        result, headers = result
    if result is None:
        return Response(status=status, headers=headers)
    return Response(
        result.model_dump_json(by_alias=True),
        status=status,
        headers=headers,
        mimetype="application/json",
    )
