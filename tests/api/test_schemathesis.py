"""Every operation in the served OpenAPI document, driven by schemathesis against the API served
over HTTP (a real server on loopback, the document read from its URL) with a read-and-write
token of the demo's head of product: no 5xx, and every answer (status, content type, headers,
body) is what the document says it may be."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import hypothesis
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import WSGIRequestHandler, make_server

from app import policy
from app.extensions import db
from app.models import (
    Evidence,
    FrameworkVersion,
    PromotionCase,
    PromotionCycle,
    User,
    VersionStatus,
)
from app.models.identity import ApiScope
from app.services.api import tokens
from tests.demo_copy import load_demo

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation and mode: enough to reach every parameter and error path, few enough
# for the whole run to stay well under a minute on two cores.
EXAMPLES = 25


def known_ids(app) -> dict[str, int]:
    """Ids that exist in the demo, by path parameter name, so that every operation is also run
    on real objects and not only on ids that name nothing (404). Add a resource's here."""
    with app.app_context():
        version = db.session.scalar(
            db.select(FrameworkVersion).where(FrameworkVersion.status == VersionStatus.PUBLISHED)
        )
        sofia = db.session.scalar(db.select(User).where(User.email == "sofia@orbit.example.com"))
        maya = db.session.scalar(db.select(User).where(User.email == "maya@orbit.example.com"))
        return {
            "person_id": sofia.id,
            "framework_id": version.framework_id,
            "version_id": version.id,
            "evidence_id": db.session.scalar(
                db.select(Evidence.id).where(policy.where("evidence.view", maya)).limit(1)
            ),
            "cycle_id": db.session.scalar(db.select(PromotionCycle.id).limit(1)),
            "case_id": db.session.scalar(db.select(PromotionCase.id).limit(1)),
        }


def _demo_token(app) -> str:
    load_demo(app)
    with app.app_context():
        head = db.session.scalar(db.select(User).where(User.email == "maya@orbit.example.com"))
        made = tokens.create_token(head, name="schemathesis", scope=ApiScope.READ_WRITE, days=7)
        db.session.commit()
        return made.secret


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args) -> None:
        """No access log line per request (a thousand of them would bury the test's output)."""


@contextlib.contextmanager
def served(app) -> Iterator[str]:
    """The app on a free loopback port, in a thread; its base URL. One request at a time."""
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_every_operation_answers_as_documented(app):
    secret = _demo_token(app)
    # A high rate limit: this test exercises the operations, not the limiter.
    app.config["API_RATE_LIMIT"] = 1_000_000
    with served(app) as base_url:
        _drive(app, secret, base_url)


def _drive(app, secret: str, base_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    schema.config.update(base_url=base_url)
    headers = {"Authorization": f"Bearer {secret}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    counted = {"examples": 0}
    ids = known_ids(app)

    try:
        for operation in operations:
            for mode in schemathesis.GenerationMode:
                _run(operation.as_strategy(generation_mode=mode), headers, counted)
            names = [p.name for p in operation.path_parameters]
            if names:
                real = {name: ids[name] for name in names}
                _run(operation.as_strategy(path_parameters=real), headers, counted)
    finally:
        app.config["API_RATE_LIMIT"] = 120
    statuses = {k: v for k, v in sorted(counted.items(), key=str) if k != "examples"}
    print(
        f"schemathesis over HTTP ({base_url}): {len(operations)} operations, "
        f"{counted['examples']} examples, "
        f"0 failures; answers by status: {statuses}"
    )
    assert 200 in statuses and 404 in statuses and 422 in statuses
    assert len(operations) >= 8
    assert counted["examples"] >= len(operations) * 2


def _run(strategy, headers, counted) -> None:
    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @given(case=strategy)
    def check(case):
        counted["examples"] += 1
        response = case.call(headers=headers)
        counted[response.status_code] = counted.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()
