"""The OpenAPI 3.1 document is valid, describes every route under /api/v1/, and is what the
reference page shows."""

from __future__ import annotations

import json
import re

import schemathesis

from tests.factories import sign_in


def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_the_document_is_valid_openapi_3_1(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.validate()  # against the OpenAPI 3.1 meta-schema; raises on any error
    assert schema.raw_schema["openapi"] == "3.1.0"


def test_every_api_route_is_in_the_document(app, client):
    paths = document(client)["paths"]
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.endpoint.startswith("api_problems."):
            path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in paths.items() for method in item}
    assert routes == documented
    assert len(routes) >= 8


def test_schemas_live_in_components_and_every_ref_resolves(client):
    doc = document(client)
    assert "$defs" not in json.dumps(doc)
    names = set(doc["components"]["schemas"])
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in names, ref


def test_every_error_answer_is_a_problem_and_operations_need_the_bearer_token(client):
    doc = document(client)
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    assert doc["security"] == [{"bearer": []}]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert operation["tags"] and operation["summary"] and operation["operationId"]
            public = operation.get("security") == []
            assert public == (path == "/api/v1/openapi.json")
            statuses = set(operation["responses"])
            if not public:
                assert {"401", "429", "default"} <= statuses, (method, path)
            for status, answer in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    assert answer["content"] == {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    }


def test_the_reference_page_shows_every_operation_and_schema(client, org):
    assert client.get("/api/docs").status_code == 302  # for signed-in people
    sign_in(client, org.pm_a1)
    doc = document(client)
    page = client.get("/api/docs").get_data(as_text=True)
    for item in doc["paths"].values():
        for operation in item.values():
            assert f'id="op-{operation["operationId"]}"' in page
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    assert (
        "curl &#39;http://localhost/api/v1/people" in page
        or "curl 'http://localhost/api/v1/people" in page
    )
    assert "<script" not in page.split("</head>")[1]
