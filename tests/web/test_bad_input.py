"""Bad input to every form field, query-string value and path argument: a 4xx, never a 5xx.

No form is listed here. The test loads the demo organisation, signs in as each kind of person,
follows the links of every page they reach, and collects each <form> and each link with a query
string it finds. Then it sends every field the values in BAD_VALUES, one field at a time with the
other fields as the page filled them, as the person who was shown the form; path arguments get a
number past 64 bits (or a NUL for text). A new field, form or page is covered as soon as a page
shows it, and a POST route that no page leads to fails the test until a page does (or it is
listed in UNREACHED with the reason).

Nothing may be written when the answer is a 4xx: the test watches the database for a commit that
followed an INSERT, UPDATE or DELETE during each refused request.
"""

from __future__ import annotations

import io
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote_plus, urlsplit

import pytest
from sqlalchemy import event, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter, IntegerConverter
from werkzeug.test import encode_multipart

from app import demo
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    Evidence,
    EvidenceKind,
    FeedbackAsk,
    Framework,
    Level,
    Role,
    User,
    Visibility,
)
from app.models.identity import ApiScope
from app.request_input import SELF_CLEANED
from app.services import delegation, evidence, goals, people
from app.services.api import tokens as api_tokens
from app.services.evidence import attachments, conversation
from app.services.feedback import asks as feedback_asks
from app.services.feedback import lessons as feedback_lessons
from app.services.frameworks import versions
from app.services.messages import slack
from app.services.people import auth
from app.services.promotions import cycles as promotion_cycles
from tests.demo_copy import load_demo
from tests.slack_helpers import BOT_TOKEN, FakeSlack

BAD_VALUES: dict[str, str] = {
    "NUL": "bad\x00value",
    "control character": "bad\x1bvalue",
    "lone surrogate": "bad\ud800value",
    "1 MB": "x" * 1_000_000,
    "huge integer": "99999999999999999999",
    "negative": "-1",
    "empty": "",
    "newline": "bad\nvalue",
}
HUGE = "99999999999999999999"
# No field may store these: they must be refused (4xx), not accepted, wherever they are sent
# (a field its view makes safe itself, app.request_input.SELF_CLEANED, may accept the first two).
NEVER_STORED = ("NUL", "control character", "1 MB")

# Demo people who see different forms: head of product, a manager who voted, a mentor, a PM.
ROLES = ("maya", "daniel", "lena", "noah")
# Pages that are downloads or renders, not HTML with forms (a framework PDF renders for seconds).
NOT_CRAWLED = {
    "static",
    "framework_pdf.download",
    "frameworks.export",
    "jobs.download",
    "jobs.status",
    "packets.download",
    "attachments.download",
}
# POST routes that no page of the demo organisation leads to, with the reason.
UNREACHED: dict[str, str] = {
    "jobs.cancel": "its button shows only while a job is unfinished, and the crawl starts no "
    "job; it takes no values but the CSRF token, and tests/web/test_jobs.py posts it",
    "todo.nudge": "its buttons show only when a nudge can reach someone (email on or Slack "
    "linked), which the demo has not; tests/web/test_todo_pages.py sends it bad values",
    "assessments.manager_assessment": "needs a cycle in manager assessment with its self-"
    "assessments done; its fields are those of the self-assessment, which is covered",
    "cycles.decide": "needs a cycle in decisions, reached only through a finished calibration",
    "calibration.reopen": "needs a locked session in a cycle not yet published",
    "calibration.lock": "the demo's open session still has competencies to agree, so its "
    "confirmation page lists them instead of the form (which holds only the CSRF token)",
    "cycles.publish": "needs a cycle in decisions; its confirmation form holds only the revision",
    "assessments.autosave_self_assessment": "posted by the form's script (assessment.js) with the "
    "self-assessment form's fields, probed here through that form; its own bad values are in "
    "tests/web/test_assessment_autosave.py",
    "assessments.autosave_manager_assessment": "as the self-assessment's autosave",
    "messages.retry": "the demo sends no email, so the Messages page lists no failed message to "
    "retry; tests/web/test_messages_pages.py retries one",
    "messages.retry_all": "as messages.retry",
    "api.create_evidence": "a JSON API operation, not a page's form: its bad values are in "
    "tests/api/test_evidence_api.py (and the API's schemathesis run)",
    "api.restore_evidence": "as api.create_evidence",
    "messages.unsubscribe": "reached from an email's List-Unsubscribe link, not from a page; its "
    "bad tokens are in tests/web/test_messages_pages.py",
    "sso.test": "the demo has no single sign-on, so the Sign-in page shows no Test or Remove "
    "button; tests/web/test_sso_settings.py presses both",
    "sso.remove": "as sso.test",
    "two_factor.turn_on": "needs a setup started, and then signs the crawl's other sessions out; "
    "tests/web/test_two_factor.py sends hostile values to every two-factor form",
    "two_factor.new_recovery_codes": "shown only to someone with two-factor on, whom the demo "
    "has not (the crawl signs in with passwords alone); as two_factor.turn_on",
    "two_factor.turn_off": "as two_factor.new_recovery_codes",
    "two_factor_admin.reset": "its confirmation page is for someone with two-factor on; as "
    "two_factor.turn_on",
    "two_factor_sign_in.code": "the second step of signing in, for someone with two-factor on; "
    "as two_factor.turn_on",
    "two_factor_sign_in.recovery_code": "as two_factor_sign_in.code",
}
# Pages of one endpoint seen per person: the same page of another item can hold other forms.
PAGES_PER_ENDPOINT = 3
WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Form:
    action: str
    method: str
    multipart: bool
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value), page order
    files: list[str] = field(default_factory=list)


class PageParser(HTMLParser):
    """The links and forms of one page, with the values the page filled in."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""
        self._submitted = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(
                a.get("action") or "",
                (a.get("method") or "get").upper(),
                a.get("enctype") == "multipart/form-data",
            )
            self.forms.append(self._form)
            self._submitted = False
        elif self._form is not None:
            self._field(tag, a)

    def _field(self, tag, a):
        name = a.get("name")
        if tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            if not self._submitted:  # the first named button, as pressing Enter would send
                self._form.fields.append((name, a.get("value", "")))
                self._submitted = True
        elif tag == "input" and name:
            self._input(name, a.get("type", "text"), a)

    def _input(self, name, kind, a):
        form = self._form
        if kind == "file":
            form.files.append(name)
        elif kind in ("checkbox", "radio"):
            first_radio = kind == "radio" and name not in dict(form.fields)
            if "checked" in a or first_radio:
                form.fields.append((name, a.get("value", "on")))
        elif kind not in ("submit", "button", "reset", "image"):
            form.fields.append((name, a.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self._form.fields.extend((self._select, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


class WriteWatch:
    """Counts commits that followed a write, so a refused request can be shown to write nothing."""

    def __init__(self, engine):
        self.committed_writes = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        self.engine = engine

    def _statement(self, conn, _cursor, statement, *_args):
        if statement.lstrip()[:6].upper() in WRITES:
            conn.info["rungs_wrote"] = True

    def _commit(self, conn):
        if conn.info.pop("rungs_wrote", False):
            self.committed_writes += 1

    def _rollback(self, conn):
        conn.info.pop("rungs_wrote", None)

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)


@dataclass
class Probe:
    """Every request sent, and what went wrong."""

    app: object
    watch: WriteWatch
    sent: int = 0
    server_errors: list[str] = field(default_factory=list)
    writes_on_refusal: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)

    def refused(self, status: int | None, what: str) -> None:
        """Record a request for a value no field may store that was not refused."""
        if status is not None and not 400 <= status < 500:
            self.accepted.append(f"{what}: HTTP {status}")

    def send(self, client, what: str, method: str, url: str, **kwargs) -> int:
        self.sent += 1
        before = self.watch.committed_writes
        try:
            status = client.open(url, method=method, **kwargs).status_code
        except Exception as error:
            if isinstance(error, HTTPException) and error.code and error.code < 500:
                return error.code
            self.server_errors.append(f"{what}: {type(error).__name__}: {str(error)[:120]}")
            return 500
        if status >= 500:
            self.server_errors.append(f"{what}: HTTP {status}")
        elif 400 <= status < 500 and self.watch.committed_writes > before:
            self.writes_on_refusal.append(f"{what}: HTTP {status} but wrote")
        return status


def endpoint_of(app, url: str, method: str = "GET"):
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/"):
        return None, {}
    try:
        return app.url_map.bind("localhost").match(parts.path, method=method)
    except HTTPException:
        return None, {}


@dataclass
class Crawl:
    forms: list[tuple[str, str, Form]] = field(default_factory=list)  # (role, endpoint, form)
    pages: list[tuple[str, str, str]] = field(default_factory=list)  # (role, endpoint, url)
    queries: list[tuple[str, str, str]] = field(default_factory=list)  # (role, url, parameter)


def crawl(app, role: str, client, found: Crawl, seen: set, start: list[str]) -> None:
    """Breadth first from the home page, a few pages per endpoint (and item kind) per person,
    each address fetched once (a page linked twice must not use up its endpoint's share)."""
    queue, visited, fetched = deque([*start, "/"]), Counter(), set()
    while queue:
        url = queue.popleft()
        endpoint, args = endpoint_of(app, url)
        key = (endpoint, args.get("kind"), args.get("number"), bool(urlsplit(url).query))
        if (
            url in fetched
            or endpoint is None
            or endpoint in NOT_CRAWLED
            or visited[key] >= PAGES_PER_ENDPOINT
        ):
            continue
        fetched.add(url)
        visited[key] += 1
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        found.pages.append((role, endpoint, url))
        parser = PageParser()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            form.action = form.action or urlsplit(url).path
            action_endpoint, _ = endpoint_of(app, form.action, form.method)
            names = (action_endpoint, form.method, tuple(sorted({n for n, _ in form.fields})))
            if action_endpoint and names not in seen:
                seen.add(names)
                found.forms.append((role, action_endpoint, form))
        for link in parser.links:
            link = link.split("#")[0]
            query = urlsplit(link).query
            for parameter, _ in parse_qsl(query, keep_blank_values=True):
                if (endpoint_of(app, link)[0], parameter) not in seen:
                    seen.add((endpoint_of(app, link)[0], parameter))
                    found.queries.append((role, link, parameter))
            queue.append(link)


def encoded(pairs: list[tuple[str, str]]) -> bytes:
    """An urlencoded body as a browser would send it, able to carry a lone surrogate too."""
    return "&".join(
        f"{quote_plus(k)}={quote_plus(v.encode('utf-8', 'surrogatepass'))}" for k, v in pairs
    ).encode()


def submit(probe: Probe, client, form: Form, target: str, value: str, what: str, url=None):
    pairs = [(n, value if n == target else v) for n, v in form.fields]
    if target not in {n for n, _ in pairs}:
        pairs.append((target, value))
    url = url or form.action
    if form.method == "GET":
        query = encoded(pairs).decode()
        return probe.send(client, what, "GET", f"{urlsplit(url).path}?{query}")
    if form.multipart:
        if "\ud800" in value:
            return None  # a multipart body carries UTF-8 only: a browser cannot send it
        files = [(n, FileStorage(io.BytesIO(b""), filename="")) for n in form.files]
        # Encoded here, in memory: the test client spools a large body to a file it never closes.
        boundary, body = encode_multipart(MultiDict(pairs + files))
        content_type = f"multipart/form-data; boundary={boundary}"
        return probe.send(client, what, "POST", url, data=body, content_type=content_type)
    return probe.send(
        client,
        what,
        "POST",
        url,
        data=encoded(pairs),
        content_type="application/x-www-form-urlencoded",
    )


def signed_in_clients(app) -> dict[str, object]:
    clients = {"anonymous": app.test_client()}
    for role in ROLES:
        client = app.test_client()
        response = client.post_form(
            "/login", {"email": f"{role}@{demo.DOMAIN}", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, role
        clients[role] = client
    return clients


def with_path_argument(app, url: str, method: str = "GET") -> list[str]:
    """The url once per path argument, that argument replaced by a number past 64 bits (or,
    for text, a NUL)."""
    endpoint, args = endpoint_of(app, url, method)
    rule = next(iter(app.url_map.iter_rules(endpoint)))
    urls = []
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            continue
        bad = int(HUGE) if isinstance(converter, IntegerConverter) else "bad\x00value"
        urls.append(rule.build({**args, name: bad})[1])
    return urls


@dataclass
class World:
    """The demo organisation plus what it lacks for every form to show: extra start pages."""

    app: object
    start: dict[str, list[str]]


@pytest.fixture
def world(app, monkeypatch):
    # Email on (nothing is sent: no job runs here), so that the forms only it offers show too:
    # "Forgot your password?", the invitation tick box, "Email a password link".
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    load_demo(app)
    with FakeSlack() as fake_slack:  # Slack on, so that its buttons show (and answer locally)
        monkeypatch.setitem(app.config, "SLACK_API_URL", fake_slack.api_url)
        with app.app_context():
            start = _more_than_the_demo()
            _slack_on(fake_slack)
            db.session.commit()
        yield World(app, start)


def _slack_on(fake_slack: FakeSlack) -> None:
    """A bot token and a webhook, and one person linked (her page offers Unlink, others Link)."""
    maya = db.session.scalar(select(User).where(User.role == Role.HEAD).order_by(User.id))
    slack.save_settings(maya, token=BOT_TOKEN, webhook_url=fake_slack.webhook_url)
    maya.slack_user_id = "U0MAYA"


def _more_than_the_demo() -> dict[str, list[str]]:
    people_by = {u.email.split("@")[0]: u for u in db.session.scalars(select(User))}
    maya, daniel, lena, noah = (people_by[name] for name in ROLES)
    framework, other = db.session.scalars(select(Framework).order_by(Framework.id)).all()[:2]
    draft = versions.new_draft(maya, versions.published_version(framework.id))
    leaving = people_by["oliver"]
    people.deactivate_person(maya, leaving)
    token = auth.create_reset_link(maya, people_by["hannah"])
    items = {
        owner.id: db.session.scalars(
            select(Evidence.id).where(Evidence.owner_id == owner.id).order_by(Evidence.id)
        ).all()
        for owner in (lena, noah)
    }
    evidence.trash_evidence(noah, evidence.get_evidence(items[noah.id][0]))
    shared = evidence.get_evidence(items[lena.id][-1])
    conversation.add_comment(daniel, shared, "A comment to delete.")
    asked = conversation.request_corroboration(lena, shared, noah.id)
    attachments.add_attachment(lena, shared, "notes.txt", io.BytesIO(b"notes"))
    private = evidence.record_evidence(  # its page has the Share button
        lena,
        evidence.EvidenceInput(
            title="A private draft",
            occurred_on=shared.occurred_on,
            kind=shared.kind,
            competency_keys=[evidence.competency_choices(lena.id)[0].key],
        ),
    )
    nominating = promotion_cycles.create_cycle(maya, "Bad input nominations")
    assessing = promotion_cycles.create_cycle(maya, "Bad input assessments")
    case = promotion_cycles.nominate(daniel, assessing.id, lena.id, _next_level(lena), "Ready.")
    db.session.flush()
    promotion_cycles.move_phase(
        maya, assessing.id, CyclePhase.SELF_ASSESSMENT, expected_revision=assessing.revision
    )
    feedback = _feedback_forms(noah, lena, daniel, maya)
    # The demo's open session (H1 2027): with more cycles than one endpoint's share of pages,
    # the crawl from the cycle list would not reach it.
    meeting = db.session.scalar(
        select(CalibrationSession.id).where(CalibrationSession.locked_at.is_(None))
    )
    boards = _delegation_boards(daniel, [lena, people_by["ravi"], people_by["hannah"]])
    # A token of Noah's: the tokens page lists it with its Revoke button (a confirmation form).
    api_token = api_tokens.create_token(noah, name="Probe", scope=ApiScope.READ, days=30).token
    # An open goal on the draft's competency: its page offers to link the item to it.
    goals.create_goal(
        daniel,
        lena.id,
        goals.GoalInput(
            competency_key=evidence.competency_choices(lena.id)[0].key,
            change="Run discovery before every roadmap bet.",
            measure="Two bets a quarter start from an interview synthesis.",
        ),
    )
    return {
        "anonymous": ["/login", f"/password/{token}"],
        "maya": [
            f"/frameworks/{framework.slug}/v{draft.number}/edit",
            f"/frameworks/{other.slug}/v1/edit",
            f"/people/{leaving.id}",
            f"/promotions/{nominating.id}",
            f"/cases/{case.id}",
            f"/sessions/{meeting}",
        ],
        "daniel": [f"/evidence/{shared.id}", f"/cases/{case.id}", *boards],
        "lena": [
            f"/evidence/{shared.id}",
            f"/evidence/{private.id}",
            f"/cases/{case.id}",
            boards[0],
            *feedback["lena"],
        ],
        "noah": [
            *feedback["noah"],
            f"/corroborations/{asked.id}",
            "/evidence/trash",
            f"/account/tokens/{api_token.id}/revoke",
        ],
    }


def _feedback_forms(noah, lena, daniel, maya) -> dict[str, list[str]]:
    """Noah's request answered by Daniel (shared with Noah's manager) and Maya (not yet), and
    waiting for Lena; a lesson of Noah's shared with his team and one not yet (his first item
    pages, so that the crawl's share of item pages reaches both)."""
    request = feedback_asks.ask_for_feedback(
        noah,
        feedback_asks.RequestInput(
            colleague_ids=[lena.id, daniel.id, maya.id],
            competency_keys=[evidence.competency_choices(noah.id)[0].key],
        ),
    )
    by_giver = {
        a.giver_id: a
        for a in db.session.scalars(select(FeedbackAsk).where(FeedbackAsk.request_id == request.id))
    }
    for giver in (daniel, maya):
        ask = by_giver[giver.id]
        feedback_asks.answer(
            giver, ask, feedback_asks.AnswerInput("S", "B", "I"), expected_revision=ask.revision
        )
    feedback_asks.share_with_manager(noah, request.id, by_giver[daniel.id].id)
    items = []
    for title in ("A lesson offered", "A lesson not yet offered"):
        items.append(
            evidence.record_evidence(
                noah,
                evidence.EvidenceInput(
                    title=title,
                    occurred_on=date.today(),
                    kind=EvidenceKind.LEARNING,
                    competency_keys=[evidence.competency_choices(noah.id)[0].key],
                    visibility=Visibility.SHARED,
                ),
            )
        )
    feedback_lessons.share_lesson(noah, items[0].id)
    return {
        "noah": [*(f"/evidence/{i.id}" for i in items), f"/feedback/requests/{request.id}"],
        "lena": [f"/feedback/asks/{by_giver[lena.id].id}"],
    }


def _next_level(person) -> int:
    current = db.session.get(Level, person.level_id)
    return db.session.scalars(
        select(Level.id)
        .where(Level.track_id == current.track_id, Level.rank > current.rank)
        .order_by(Level.rank)
    ).first()


def test_bad_values_anywhere_get_a_4xx_and_write_nothing(world):
    app = world.app
    with app.app_context():
        watch = WriteWatch(db.engine)
    probe = Probe(app, watch)
    try:
        clients = signed_in_clients(app)
        found, seen = Crawl(), set()
        for role, client in clients.items():
            crawl(app, role, client, found, seen, world.start.get(role, []))
        _probe_forms(probe, clients, found)
        _probe_queries(probe, clients, found)
        _probe_paths(app, probe, clients, found)
    finally:
        watch.close()

    reached = {endpoint for _role, endpoint, _form in found.forms}
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    print(f"\n{probe.sent} bad requests, {len(probe.server_errors)} answered 5xx")
    missing = sorted(posts - reached - set(UNREACHED))
    assert missing == [], f"POST routes no page leads to: {missing}"
    assert probe.server_errors == [], (
        f"{len(probe.server_errors)} of {probe.sent} bad requests answered 5xx:\n"
        + "\n".join(probe.server_errors[:40])
    )
    assert probe.writes_on_refusal == []
    assert probe.accepted == [], "a NUL, a control character or 1 MB was not refused"


def _probe_forms(probe, clients, found):
    for role, endpoint, form in found.forms:
        targets = [n for n, _ in form.fields if n != "csrf_token"] + form.files
        for target in dict.fromkeys(targets):
            for label, value in BAD_VALUES.items():
                what = f"{role} {form.method} {endpoint} {target}={label}"
                status = submit(probe, clients[role], form, target, value, what)
                if label in NEVER_STORED and not (label != "1 MB" and target in SELF_CLEANED):
                    probe.refused(status, what)


def _probe_queries(probe, clients, found):
    for role, url, parameter in found.queries:
        pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
        for label, value in BAD_VALUES.items():
            changed = [(n, value if n == parameter else v) for n, v in pairs]
            target = f"{urlsplit(url).path}?{encoded(changed).decode()}"
            what = f"{role} GET {url} {parameter}={label}"
            status = probe.send(clients[role], what, "GET", target)
            if label in NEVER_STORED and not (label != "1 MB" and parameter in SELF_CLEANED):
                probe.refused(status, what)


def _probe_paths(app, probe, clients, found):
    done = set()
    for role, endpoint, url in found.pages:
        if ("GET", endpoint) not in done:
            done.add(("GET", endpoint))
            for bad in with_path_argument(app, url):
                probe.send(clients[role], f"{role} GET {bad}", "GET", bad)
            probe.send(clients[role], f"{role} GET {url} page=huge", "GET", _with_page(url))
    for role, endpoint, form in found.forms:
        if form.method == "POST" and ("POST", endpoint) not in done:
            done.add(("POST", endpoint))
            for bad in with_path_argument(app, form.action, "POST"):
                probe.send(
                    clients[role],
                    f"{role} POST {bad}",
                    "POST",
                    bad,
                    data=encoded(form.fields),
                    content_type="application/x-www-form-urlencoded",
                )


def _with_page(url: str) -> str:
    parts = urlsplit(url)
    pairs = [(n, v) for n, v in parse_qsl(parts.query) if n != "page"] + [("page", HUGE)]
    return f"{parts.path}?{encoded(pairs).decode()}"


def _delegation_boards(manager, reports) -> list[str]:
    """Three of the manager's reports' delegation boards, one at each step a form belongs to:
    picking (the picks form, rows to add and remove), agreeing with every row agreed (the
    agreement forms and Close), and between rounds (Start round)."""
    picking, agreeing, _between = reports
    for person in reports:
        delegation.open_board(manager, person.id)
    delegation.start_round(manager, picking.id)
    played = delegation.start_round(manager, agreeing.id)
    db.session.flush()
    rows = [row.id for row in delegation.active_rows(delegation.find_board(agreeing.id).id)]
    for player in (agreeing, manager):
        delegation.save_picks(player, agreeing.id, played.id, dict.fromkeys(rows, 4))
    for row_id in rows:
        delegation.agree(manager, agreeing.id, played.id, row_id, 4, "", expected_revision=0)
    return [f"/people/{person.id}/delegation" for person in reports]
