"""The OpenAPI 3.1 document, built from the declared operations (app/api/core.py): pydantic's
JSON Schemas, their $defs moved to components/schemas with every $ref rewritten."""

from __future__ import annotations

import copy
from typing import Any

import pydantic
from pydantic.json_schema import models_json_schema

from .core import COMMON_ERRORS, OPERATIONS, Operation, Problem
from .problems import documented

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
ID_MAX = 2**31 - 1
STATUS_WORDS = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "The request could not be read (a body that is not JSON)",
    401: "No valid token: missing, malformed, unknown, revoked or expired, or its owner was "
    "deactivated",
    403: "The token's owner may not do this, or the token may only read",
    404: "Not found, or not visible to the token's owner",
    409: "Someone else changed it meanwhile (send the current version)",
    413: "The body is too large",
    415: "The body is not JSON",
    422: "A value is not valid (errors says which)",
    429: "Over the token's rate limit (see Retry-After)",
}
RATE_HEADERS = {
    "RateLimit-Limit": ("Requests a token may make per window.", {"type": "integer"}),
    "RateLimit-Remaining": ("Requests left in this window.", {"type": "integer"}),
    "RateLimit-Reset": ("Seconds until the window resets.", {"type": "integer"}),
    "RateLimit-Policy": ("The limit and its window, e.g. `120;w=60`.", {"type": "string"}),
}
PATH_SCHEMAS = {
    "int": {"type": "integer", "minimum": 0, "maximum": ID_MAX},
    "default": {"type": "string", "minLength": 1},
}


def document(*, title: str, version: str) -> dict[str, Any]:
    """The whole document; pure, so it can be cached per app."""
    schemas = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    tags = sorted({op.tag for op in OPERATIONS})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Rungs' JSON API. Every request carries a personal access token "
            "(Authorization: Bearer rungs_…) made under Your settings → API tokens; it acts "
            "as its owner, sees no more than they do, and may write only with the "
            "read-and-write scope. Errors are RFC 9457 problem details; each `type` "
            "(/api/v1/problems/<slug>) is a page that explains it: "
            + ", ".join(f"{doc.slug} ({doc.status})" for doc in documented())
            + ". All are listed at /api/v1/problems/.",
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": schemas["components"],
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token: rungs_ and 43 characters.",
                }
            },
        },
        "security": [{"bearer": []}],
    }


def _models() -> list[tuple[type[pydantic.BaseModel], str]]:
    found: dict[tuple[type, str], None] = {(Problem, "serialization"): None}
    for op in OPERATIONS:
        if op.response is not None:
            found[(op.response, "serialization")] = None
        if op.body is not None:
            found[(op.body, "validation")] = None
        if op.query is not None:
            found[(op.query, "validation")] = None
    return list(found)


def _schemas() -> dict[str, Any]:
    models = _models()
    refs, defs = models_json_schema(models, ref_template=REF_TEMPLATE)
    return {"refs": refs, "components": dict(sorted(defs.get("$defs", {}).items()))}


def _schema_of(schemas: dict[str, Any], model: type, mode: str) -> dict[str, Any]:
    return schemas["refs"][(model, mode)]


def _query_parameters(op: Operation, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    ref = _schema_of(schemas, op.query, "validation")["$ref"].rsplit("/", 1)[-1]
    schema = schemas["components"][ref]
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = copy.deepcopy(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        if prop.get("type") == "array":
            parameter.update(style="form", explode=True)
        parameters.append(parameter)
    return parameters


def _path_parameters(op: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(PATH_SCHEMAS.get(converter, PATH_SCHEMAS["default"])),
        }
        for name, converter in op.path_parameters.items()
    ]


def _success(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": STATUS_WORDS.get(op.status, "Success")}
    if op.response is not None:
        schema = _schema_of(schemas, op.response, "serialization")
        answer["content"] = {media: {"schema": schema} for media in op.media_types[:1]}
        answer["content"].update(
            {media: {"schema": _untyped(media)} for media in op.media_types[1:]}
        )
    elif op.media_types and op.status != 204:
        answer["content"] = {media: {"schema": _untyped(media)} for media in op.media_types}
    if not op.public:
        answer["headers"] = _rate_headers()
    return answer


def _untyped(media_type: str) -> dict[str, Any]:
    """The schema of an answer made without a model: a JSON object, or a file in its own format
    (YAML or CSV text: no JSON Schema describes it, and clients that parse YAML get objects)."""
    return {"type": "object"} if media_type == "application/json" else {}


def _rate_headers() -> dict[str, Any]:
    return {
        name: {"description": text, "required": True, "schema": schema}
        for name, (text, schema) in RATE_HEADERS.items()
    }


def _problem_response(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": STATUS_WORDS.get(status, "An error"),
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
    if status == 429:
        answer["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait.",
                "required": True,
                "schema": {"type": "integer"},
            }
        }
    return answer


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    errors = set(op.errors)
    if not op.public:
        errors |= set(COMMON_ERRORS)
        if op.is_write:
            errors |= {403, 400, 415}
    if op.path_parameters:
        errors.add(404)
    if op.query is not None:
        errors.add(422)
    responses: dict[str, Any] = {str(op.status): _success(op, schemas)}
    responses.update({str(status): _problem_response(status) for status in sorted(errors)})
    responses["default"] = {
        "description": "Any other error (such as 405, 413 or 500)",
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }
    result: dict[str, Any] = {
        "operationId": op.endpoint,
        "tags": [op.tag],
        "summary": op.summary,
        "responses": responses,
    }
    if op.description:
        result["description"] = op.description
    parameters = _path_parameters(op)
    if op.query is not None:
        parameters += _query_parameters(op, schemas)
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_of(schemas, op.body, "validation")}},
        }
    if op.public:
        result["security"] = []
    return result
