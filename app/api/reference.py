"""The API reference page (/api/docs): the OpenAPI document, rendered on the server for people.

Made from the very document /api/v1/openapi.json serves, so the two cannot disagree; no script,
nothing fetched from elsewhere."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, render_template, request

from app import access

from .me import cached_document

bp = Blueprint("api_reference", __name__, url_prefix="/api")

Part = tuple[str, str]  # ("text", words) or ("ref", a schema's name)
METHOD_ORDER = {"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str
    required: bool
    type: list[Part]
    description: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    media_type: str
    type: list[Part]


@dataclass(frozen=True)
class OperationDoc:
    id: str
    method: str
    path: str
    summary: str
    description: str
    needs_token: bool
    parameters: list[Parameter]
    body: list[Part] | None
    answers: list[Answer]  # success
    errors: list[Answer]  # every one a Problem (application/problem+json)
    curl: str


@dataclass(frozen=True)
class Property:
    name: str
    required: bool
    type: list[Part]
    description: str


@dataclass(frozen=True)
class SchemaDoc:
    name: str
    description: str
    properties: list[Property] = field(default_factory=list)
    type: list[Part] = field(default_factory=list)  # for schemas that are not objects


TAG_ORDER = ("Me", "People", "Frameworks")  # then the others by name, and Meta last


def _tag_key(tag: str) -> tuple:
    return (tag == "Meta", TAG_ORDER.index(tag) if tag in TAG_ORDER else len(TAG_ORDER), tag)


@dataclass(frozen=True)
class ReferencePage:
    title: str
    description: str
    groups: list[tuple[str, list[OperationDoc]]]
    schemas: list[SchemaDoc]
    base_url: str


def type_parts(schema: dict[str, Any]) -> list[Part]:
    """A JSON Schema as a short phrase: "array of Person", "integer or null", "one of a, b"."""
    if "$ref" in schema:
        return [("ref", schema["$ref"].rsplit("/", 1)[-1])]
    if "anyOf" in schema or "oneOf" in schema:
        parts: list[Part] = []
        for index, option in enumerate(schema.get("anyOf") or schema["oneOf"]):
            if index:
                parts.append(("text", " or "))
            parts += type_parts(option)
        return parts
    if "enum" in schema:
        return [("text", "one of " + ", ".join(json.dumps(v) for v in schema["enum"]))]
    if "const" in schema:
        return [("text", json.dumps(schema["const"]))]
    kind = schema.get("type")
    if kind == "array":
        return [("text", "array of "), *type_parts(schema.get("items", {}))]
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return [("text", "object of "), *type_parts(schema["additionalProperties"])]
    words = kind if isinstance(kind, str) else " or ".join(kind or ["any"])
    limits = _limits(schema)
    return [("text", words + (f" ({', '.join(limits)})" if limits else ""))]


def _limits(schema: dict[str, Any]) -> list[str]:
    limits = [schema["format"]] if "format" in schema else []
    signs = (
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
    )
    limits += [f"{sign} {schema[key]}" for key, sign in signs if key in schema]
    if "default" in schema:
        limits.append(f"default {json.dumps(schema['default'])}")
    return limits


def _curl(base_url: str, method: str, path: str, operation: dict[str, Any]) -> str:
    url = base_url + path
    lines = [f"curl -X {method.upper()} '{url}'" if method != "get" else f"curl '{url}'"]
    if operation.get("security") != []:
        lines.append("  -H 'Authorization: Bearer rungs_…'")
    if "requestBody" in operation:
        lines.append("  -H 'Content-Type: application/json' -d '{…}'")
    return " \\\n".join(lines)


def _operation(base_url: str, method: str, path: str, operation: dict[str, Any]) -> OperationDoc:
    parameters = [
        Parameter(
            p["name"],
            p["in"],
            p.get("required", False),
            type_parts(p["schema"]),
            p.get("description", ""),
        )
        for p in operation.get("parameters", [])
    ]
    body = None
    if "requestBody" in operation:
        body = type_parts(operation["requestBody"]["content"]["application/json"]["schema"])
    answers = []
    for status, answer in operation["responses"].items():
        content = answer.get("content", {})
        for media_type, media in content.items() or [("", {})]:
            answers.append(
                Answer(
                    status,
                    answer["description"],
                    media_type,
                    type_parts(media.get("schema", {})) if media.get("schema") else [],
                )
            )
        if not content:
            answers.append(Answer(status, answer["description"], "", []))
    return OperationDoc(
        id=operation["operationId"],
        method=method.upper(),
        path=path,
        summary=operation.get("summary", ""),
        description=operation.get("description", ""),
        needs_token=operation.get("security") != [],
        parameters=parameters,
        body=body,
        answers=[a for a in answers if a.status.startswith("2")],
        errors=[a for a in answers if not a.status.startswith("2")],
        curl=_curl(base_url, method, path, operation),
    )


def _schema(name: str, schema: dict[str, Any]) -> SchemaDoc:
    required = set(schema.get("required", []))
    properties = [
        Property(key, key in required, type_parts(value), value.get("description", ""))
        for key, value in schema.get("properties", {}).items()
    ]
    return SchemaDoc(
        name=name,
        description=schema.get("description", ""),
        properties=properties,
        type=[] if properties else type_parts(schema),
    )


def reference_page(document: dict[str, Any], base_url: str) -> ReferencePage:
    tags = sorted((tag["name"] for tag in document["tags"]), key=_tag_key)
    grouped: dict[str, list[OperationDoc]] = {tag: [] for tag in tags}
    for path, methods in document["paths"].items():
        for method, operation in sorted(methods.items(), key=lambda m: METHOD_ORDER.get(m[0], 9)):
            doc = _operation(base_url, method, path, operation)
            grouped.setdefault(operation["tags"][0], []).append(doc)
    return ReferencePage(
        title=document["info"]["title"],
        description=document["info"].get("description", ""),
        groups=[(tag, ops) for tag, ops in grouped.items() if ops],
        schemas=[_schema(n, s) for n, s in document["components"]["schemas"].items()],
        base_url=base_url,
    )


@bp.route("/docs")
@access.requires("home.view")
def reference():
    """The API reference: every operation by tag, its parameters, answers and schemas."""
    page = reference_page(cached_document(), request.host_url.rstrip("/"))
    return render_template("api/reference.html", page=page)
