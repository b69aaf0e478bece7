"""The organisation bench/scale.py measures: 2,000 people and 200,000 evidence items by default.

`generate(people=…, evidence=…)` runs inside an app context on an empty, migrated database
(PostgreSQL or SQLite). The frameworks go through the real import and publish services (the shipped
files, two more ladders made from them, and a second published version of one); the open cycle's
due dates through the real deadline service. Everything else is inserted in bulk — COPY on
PostgreSQL, SQLAlchemy Core's executemany on SQLite — with the values the services would store
(enum values, UTC times, one `created` revision per item, unique pairs where the schema wants
them), and the sequences are moved past the ids given. Deterministic for a seed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.infra import markdown
from app.infra.passwords import hash_password
from app.models import (
    STORED_MARKDOWN,
    Attachment,
    CalibrationSession,
    CaseRating,
    Comment,
    Competency,
    Corroboration,
    CyclePhase,
    DecisionLogEntry,
    Evidence,
    EvidenceCompetency,
    EvidenceLink,
    EvidenceRevision,
    Framework,
    FrameworkVersion,
    Kudos,
    Level,
    LevelPlacement,
    Notification,
    PromotionCase,
    PromotionCycle,
    Track,
    User,
    VersionStatus,
    Vote,
)
from app.models.framework import competency_tracks
from app.models.promotion import (
    calibration_participants,
    case_rating_evidence,
    promotion_cycle_versions,
)
from app.models.user import mentorships
from app.policy import SYSTEM
from app.services.frameworks import files, store, versions

PASSWORD = "rungs-scale-2026"  # noqa: S105 - every generated person's password, printed by the bench
DOMAIN = "scale.example.com"
# Ladders made from the shipped product-management file, so that the organisation has product,
# design and engineering people on frameworks of their own: (slug, name).
LADDERS = (
    ("product-management", None),
    ("product-design", "Product design"),
    ("product-engineering", "Product engineering"),
)
REPORTS_PER_MANAGER = 8
PAST_CYCLES = 4  # two years of half-year cycles, published
SESSIONS = 10
IC_LEVEL_SHARE = (0.20, 0.35, 0.25, 0.12, 0.08)  # by rank on the IC track, lowest first
FIRST = [
    "Ada",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Femi",
    "Gina",
    "Hugo",
    "Ines",
    "Jae",
    "Kofi",
    "Lea",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Vik",
    "Wen",
    "Xavi",
    "Yara",
    "Zed",
    "Amir",
    "Bea",
    "Cyril",
    "Dina",
    "Emre",
    "Farah",
    "Goran",
    "Hana",
    "Ivo",
    "Jana",
]
LAST = [
    "Abe",
    "Brun",
    "Costa",
    "Diallo",
    "Eke",
    "Fenn",
    "Garcia",
    "Holm",
    "Ito",
    "Jovic",
    "Kaur",
    "Lind",
    "Moreau",
    "Nagy",
    "Okoro",
    "Park",
    "Quist",
    "Rossi",
    "Silva",
    "Tan",
    "Ueda",
    "Voss",
    "Wolf",
    "Xu",
    "Yilmaz",
    "Zhou",
    "Adler",
    "Baptiste",
    "Cruz",
    "Dubois",
]
KINDS = (
    "launch",
    "experiment",
    "metric",
    "discovery",
    "strategy",
    "stakeholder",
    "coaching",
    "learning_from_failure",
    "other",
)
BODY = (
    "We {verb} the {thing} with the {team} team after {n} customer interviews.\n\n"
    "- What changed: **{metric}** moved from {before} to {after}\n"
    "- What I did: framed the problem, ran the review, wrote the [brief](https://example.com/{n})\n"
    "- What I learned: {lesson}"
)
VERBS = ("shipped", "tested", "rethought", "measured", "simplified", "retired")
THINGS = ("onboarding flow", "pricing page", "search ranking", "billing export", "invite emails")
TEAMS = ("growth", "platform", "payments", "mobile", "data")
LESSONS = (
    "ask for the metric before the meeting, not after it",
    "a smaller first release told us more than the big plan",
    "the support team saw the problem weeks before we did",
)


@dataclass
class Person:
    id: int
    name: str
    email: str
    role: str
    level_id: int | None
    manager_id: int | None
    ladder: str  # framework slug
    kind: str  # head, vp, director, lead, ic


@dataclass
class Generated:
    """What was made: people, evidence items and rows written in bulk per table."""

    people: int = 0
    evidence: int = 0
    rows: dict[str, int] = field(default_factory=dict)


class Writer:
    """Bulk rows with ids given here: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, connection: sa.Connection):
        self.connection = connection
        self.is_postgres = connection.dialect.name == "postgresql"
        self.next_ids: dict[str, int] = {}
        self.rows: dict[str, int] = defaultdict(int)

    def ids(self, table: sa.Table, count: int) -> range:
        if table.name not in self.next_ids:
            highest = self.connection.execute(sa.select(sa.func.max(table.c.id))).scalar()
            self.next_ids[table.name] = (highest or 0) + 1
        start = self.next_ids[table.name]
        self.next_ids[table.name] = start + count
        return range(start, start + count)

    def write(self, table: sa.Table, rows: list[dict]) -> None:
        if not rows:
            return
        _with_stored_html(table, rows)
        columns = list(rows[0])
        self.rows[table.name] += len(rows)
        if not self.is_postgres:
            for start in range(0, len(rows), 5000):
                self.connection.execute(table.insert(), rows[start : start + 5000])
            return
        cursor = self.connection.connection.driver_connection.cursor()
        names = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_copy_value(row[c]) for c in columns])

    def finish(self) -> None:
        """Move every id sequence past the ids given (PostgreSQL)."""
        if not self.is_postgres:
            return
        for name in self.next_ids:  # our own table names: nothing from outside
            highest = f'SELECT COALESCE(MAX(id), 1) FROM "{name}"'  # noqa: S608
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), ({highest}))"
            )


def _with_stored_html(table: sa.Table, rows: list[dict]) -> None:
    """Give rows of a table with markdown fields the HTML the app stores when it saves them, as
    the pages read it (rendered once per distinct text: the generator repeats its texts)."""
    model = next((m for m in STORED_MARKDOWN if m.__table__ is table), None)
    if model is None:
        return
    for row in rows:
        row["markdown_version"] = markdown.VERSION
        for name in model.markdown_fields:
            row[f"{name}_html"] = _rendered(row.get(name) or "")


@functools.lru_cache(maxsize=4096)
def _rendered(text: str) -> str:
    return str(markdown.render(text))


def _copy_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def generate(*, people: int = 2000, evidence: int = 200_000, seed: int = 17) -> Generated:
    """Fill the (empty, migrated) database of the current app; what was made."""
    rng = random.Random(f"rungs-scale:{seed}")
    now = datetime.now(UTC).replace(microsecond=0)
    ladders = _frameworks()
    db.session.commit()
    connection = db.session.connection()
    writer = Writer(connection)
    structure = _structure(connection, ladders)
    org = _people(writer, rng, structure, people, now)
    items = _evidence(writer, rng, structure, org, evidence, now)
    head = _cycles(writer, rng, structure, org, items, now)
    _notifications(writer, rng, org, items, now)
    writer.finish()
    db.session.commit()
    _due_dates(head.id, now)
    db.session.commit()
    return Generated(people=len(org), evidence=len(items.ids), rows=dict(writer.rows))


# --- frameworks, through the real services -------------------------------------------------------


def _frameworks() -> dict[str, int]:
    """Import and publish the ladders; a second version of product management is published over
    the first (which is archived). Slug → published version id."""
    directory = Path(current_app.config["SHIPPED_FRAMEWORKS_DIR"])
    for path in sorted(directory.glob("*.yaml")):
        _import(path.read_text(encoding="utf-8"))
    text = (directory / "product-management.yaml").read_text(encoding="utf-8")
    for slug, name in LADDERS[1:]:
        _import(
            text.replace("slug: product-management", f"slug: {slug}", 1).replace(
                "name: Product management", f"name: {name}", 1
            )
        )
    first = store.find_version("product-management")
    draft = versions.new_draft(SYSTEM, first)
    versions.publish(SYSTEM, draft, changelog="Second version: the same content, republished.")
    rows = db.session.execute(
        sa.select(Framework.slug, FrameworkVersion.id)
        .join(FrameworkVersion, FrameworkVersion.framework_id == Framework.id)
        .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
    ).all()
    return dict(rows)


def _import(text: str) -> None:
    doc, _report = files.validate(text, "yaml")
    version = store.create_version(SYSTEM, doc)
    versions.publish(SYSTEM, version, changelog="Imported for the scale bench.")


@dataclass
class Ladder:
    slug: str
    framework_id: int
    version_id: int
    ic_levels: list[int]  # by rank
    manager_levels: list[int]  # by rank
    keys_by_track: dict[int, list[str]]  # track id → competency keys that apply
    all_keys: list[str]
    track_of: dict[int, int]  # level id → track id
    next_level: dict[int, int]  # level id → the next rank's level id on its track


def _structure(connection, ladders: dict[str, int]) -> dict[str, Ladder]:
    result = {}
    for slug, version_id in ladders.items():
        framework_id = connection.execute(
            sa.select(FrameworkVersion.framework_id).where(FrameworkVersion.id == version_id)
        ).scalar_one()
        levels = connection.execute(
            sa.select(Level.id, Level.track_id, Track.key, Level.rank)
            .join(Track, Level.track_id == Track.id)
            .where(Level.version_id == version_id)
            .order_by(Track.position, Level.rank)
        ).all()
        keys_by_track: dict[int, list[str]] = defaultdict(list)
        for key, track_id in connection.execute(
            sa.select(Competency.key, competency_tracks.c.track_id)
            .join(competency_tracks, competency_tracks.c.competency_id == Competency.id)
            .where(Competency.version_id == version_id)
            .order_by(Competency.position)
        ):
            keys_by_track[track_id].append(key)
        all_keys = list(
            connection.execute(
                sa.select(Competency.key).where(Competency.version_id == version_id)
            ).scalars()
        )
        by_track: dict[int, list[int]] = defaultdict(list)
        for level_id, track_id, _key, _rank in levels:
            by_track[track_id].append(level_id)
        next_level = {ids[i]: ids[i + 1] for ids in by_track.values() for i in range(len(ids) - 1)}
        tracks = {key: track_id for _l, track_id, key, _r in levels}
        result[slug] = Ladder(
            slug=slug,
            framework_id=framework_id,
            version_id=version_id,
            ic_levels=by_track.get(tracks.get("ic"), []),
            manager_levels=[
                lid for t, ids in by_track.items() if t != tracks.get("ic") for lid in ids
            ],
            keys_by_track=dict(keys_by_track),
            all_keys=all_keys,
            track_of={level_id: track_id for level_id, track_id, _k, _r in levels},
            next_level=next_level,
        )
    return result


# --- people --------------------------------------------------------------------------------------


def _people(writer: Writer, rng, structure: dict[str, Ladder], total: int, now) -> list[Person]:
    """A head of product, VPs, directors, line managers with ~8 reports each, and ICs."""
    leads_n = max(1, total // (REPORTS_PER_MANAGER + 1))
    directors_n = max(1, leads_n // 7)
    vps_n = max(1, directors_n // 5)
    ics_n = max(1, total - 1 - vps_n - directors_n - leads_n)
    leadership = structure["product-leadership"]
    dir_level, vp_level, cpo_level = leadership.manager_levels or leadership.ic_levels
    ladders = [structure[slug] for slug, _ in LADDERS]
    ids = iter(writer.ids(User.__table__, 1 + vps_n + directors_n + leads_n + ics_n))
    people: list[Person] = []

    def add(kind, role, level_id, manager_id, ladder) -> Person:
        number = len(people)
        name = f"{FIRST[number % len(FIRST)]} {LAST[(number // len(FIRST)) % len(LAST)]}"
        email = "head@" + DOMAIN if kind == "head" else f"{kind}{number}@{DOMAIN}"
        person = Person(next(ids), name, email, role, level_id, manager_id, ladder, kind)
        people.append(person)
        return person

    head = add("head", "head_of_product", cpo_level, None, "product-leadership")
    vps = [add("vp", "manager", vp_level, head.id, "product-leadership") for _ in range(vps_n)]
    directors = [
        add("director", "manager", dir_level, vps[i % vps_n].id, "product-leadership")
        for i in range(directors_n)
    ]
    leads = []
    for i in range(leads_n):
        ladder = ladders[i % len(ladders)]
        level = ladder.manager_levels[0] if ladder.manager_levels else ladder.ic_levels[-1]
        leads.append(add("lead", "manager", level, directors[i % directors_n].id, ladder.slug))
    for i in range(ics_n):
        lead = leads[i % leads_n]
        ladder = structure[lead.ladder]
        add("ic", "pm", _pick_level(rng, ladder.ic_levels), lead.id, lead.ladder)
    password = hash_password(PASSWORD)
    writer.write(
        User.__table__,
        [
            {
                "id": p.id,
                "email": p.email,
                "name": p.name,
                "role": p.role,
                "manager_id": None,  # below: a manager's row must exist first on SQLite too
                "level_id": p.level_id,
                "password_hash": password,
                "session_token": hashlib.sha256(f"{p.id}:{rng.random()}".encode()).hexdigest(),
                "time_zone": "UTC" if p.id % 3 else "Europe/Berlin",
                "created_at": now - timedelta(days=1100),
                "updated_at": now - timedelta(days=1100),
                "version": 1,
            }
            for p in people
        ],
    )
    users = User.__table__
    writer.connection.execute(
        users.update()
        .where(users.c.id == sa.bindparam("person_id"))
        .values(manager_id=sa.bindparam("boss_id")),
        [{"person_id": p.id, "boss_id": p.manager_id} for p in people if p.manager_id],
    )
    ics = [p for p in people if p.kind == "ic"]
    seniors = [p for p in ics if p.level_id in {lad.ic_levels[-2] for lad in ladders}] or ics
    writer.write(
        mentorships,
        [
            {"mentor_id": mentor.id, "mentee_id": p.id}
            for n, p in enumerate(ics)
            if n % 10 == 0
            for mentor in [seniors[n % len(seniors)]]
            if mentor.id != p.id
        ],
    )
    ids = iter(writer.ids(LevelPlacement.__table__, len(people)))
    writer.write(
        LevelPlacement.__table__,
        [
            {
                "id": next(ids),
                "user_id": p.id,
                "level_id": p.level_id,
                "started_at": now - timedelta(days=rng.randrange(200, 1100)),
                "ended_at": None,
                "source": "placed",
                "case_id": None,
            }
            for p in people
        ],
    )
    return people


def _pick_level(rng, levels: list[int]) -> int:
    return rng.choices(levels, weights=IC_LEVEL_SHARE[: len(levels)])[0]


# --- evidence and its conversation ---------------------------------------------------------------


@dataclass
class Items:
    ids: list[int] = field(default_factory=list)
    by_owner: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    shared: set[int] = field(default_factory=set)


@dataclass
class Conversation:
    """Rows about shared items: comments, kudos, confirmations, links, attachment metadata."""

    comments: list[dict] = field(default_factory=list)
    kudos: list[dict] = field(default_factory=list)
    corroborations: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)

    def add(self, rng, item_id: int, owner: Person, peers: list[Person], created) -> None:
        later = created + timedelta(hours=rng.randrange(1, 72))
        if rng.random() < 0.5:
            author = owner.manager_id or owner.id
            self.comments.append(
                {
                    "evidence_id": item_id,
                    "author_id": author,
                    "parent_id": None,
                    "body": "Good one: can you add the numbers from the second month?",
                    "created_at": later,
                }
            )
        givers = rng.sample(peers, k=min(len(peers), rng.choice((0, 0, 1, 1, 2, 3))))
        for giver in givers:
            self.kudos.append({"evidence_id": item_id, "giver_id": giver.id, "created_at": later})
        if rng.random() < 0.15:
            peer = rng.choice(peers)
            self.corroborations.append(
                {
                    "evidence_id": item_id,
                    "peer_id": peer.id,
                    "status": "confirmed" if rng.random() < 0.8 else "pending",
                    "note": "I was there: it happened as described.",
                    "requested_at": later,
                    "answered_at": later + timedelta(days=1),
                }
            )
        if rng.random() < 0.3:
            self.links.append(
                {
                    "evidence_id": item_id,
                    "position": 0,
                    "url": f"https://docs.example.com/briefs/{item_id}",
                    "label": "Brief",
                }
            )
        if rng.random() < 0.1:
            digest = hashlib.sha256(str(item_id).encode()).hexdigest()
            self.attachments.append(
                {
                    "evidence_id": item_id,
                    "stored_name": digest,
                    "original_name": f"results-{item_id}.pdf",
                    "content_type": "application/pdf",
                    "size": 20_000 + item_id % 900_000,
                    "sha256": digest,
                    "uploaded_at": created,
                }
            )


def _evidence(writer, rng, structure, org: list[Person], count: int, now) -> Items:
    """`count` items over two years, managers writing fewer than ICs; each tagged with one to
    three of its owner's ladder's competencies; comments, kudos, confirmations, links and
    attachments on a share of the shared ones."""
    weights = [1.0 if p.kind == "ic" else 0.6 for p in org]
    owners = rng.choices(org, weights=weights, k=count)
    owners.sort(key=lambda p: p.id)
    peers_of: dict[int | None, list[Person]] = defaultdict(list)
    for p in org:
        peers_of[p.manager_id].append(p)
    items = Items()
    ids = writer.ids(Evidence.__table__, count)
    evidence_rows, tags, revisions = [], [], []
    conversation = Conversation()
    for item_id, owner in zip(ids, owners, strict=True):
        ladder = structure[owner.ladder]
        occurred = (now - timedelta(days=rng.randrange(0, 730))).date()
        created = datetime.combine(occurred, time(10), UTC) + timedelta(hours=rng.randrange(48))
        created = min(created, now)
        shared = rng.random() < 0.85
        deleted = created + timedelta(days=3) if rng.random() < 0.02 else None
        kind = KINDS[item_id % len(KINDS)]
        n = rng.randrange(3, 40)
        values = {
            "verb": rng.choice(VERBS),
            "thing": rng.choice(THINGS),
            "team": rng.choice(TEAMS),
            "n": n,
            "metric": "activation",
            "before": f"{n}%",
            "after": f"{n + rng.randrange(1, 9)}%",
            "lesson": rng.choice(LESSONS),
        }
        title = f"{values['verb'].capitalize()} the {values['thing']} ({item_id})"
        evidence_rows.append(
            {
                "id": item_id,
                "owner_id": owner.id,
                "title": title,
                "body": BODY.format(**values),
                "occurred_on": occurred,
                "kind": kind,
                "visibility": "shared" if shared else "private",
                "metric": "activation" if kind == "metric" else "",
                "metric_before": values["before"] if kind == "metric" else "",
                "metric_after": values["after"] if kind == "metric" else "",
                "metric_unit": "%" if kind == "metric" else "",
                "created_at": created,
                "updated_at": created,
                "shared_at": created if shared else None,
                "lesson_shared_at": None,
                "deleted_at": deleted,
                "revision": 1,
            }
        )
        revisions.append(
            {
                "evidence_id": item_id,
                "number": 1,
                "action": "created",
                "snapshot": {"title": title, "kind": kind, "occurred_on": occurred.isoformat()},
                "changed_by_id": owner.id,
                "changed_at": created,
            }
        )
        for key in rng.sample(ladder.all_keys, k=min(len(ladder.all_keys), rng.randrange(1, 4))):
            tags.append(
                {"evidence_id": item_id, "framework_id": ladder.framework_id, "competency_key": key}
            )
        items.ids.append(item_id)
        items.by_owner[owner.id].append(item_id)
        if not shared or deleted:
            continue
        items.shared.add(item_id)
        peers = [p for p in peers_of[owner.manager_id] if p.id != owner.id] or org[:1]
        conversation.add(rng, item_id, owner, peers, created)
    writer.write(Evidence.__table__, evidence_rows)
    for table, rows in (
        (EvidenceRevision.__table__, revisions),
        (EvidenceCompetency.__table__, tags),
        (Comment.__table__, conversation.comments),
        (Kudos.__table__, conversation.kudos),
        (Corroboration.__table__, conversation.corroborations),
        (EvidenceLink.__table__, conversation.links),
        (Attachment.__table__, conversation.attachments),
    ):
        if "id" in table.c:
            for row, row_id in zip(rows, writer.ids(table, len(rows)), strict=True):
                row["id"] = row_id
        writer.write(table, rows)
    return items


# --- promotion cycles --------------------------------------------------------------------------


def _cycles(writer, rng, structure, org, items: Items, now) -> Generated:
    """Four published half-year cycles and one in calibration: 300 cases (for 2,000 people) in
    ten sessions, their self and manager assessments submitted, most participants' votes in."""
    head = org[0]
    directors = [p for p in org if p.kind == "director"]
    leads = [p for p in org if p.kind == "lead"]
    candidates = [
        p
        for p in org
        if p.kind == "ic" and p.level_id in structure[p.ladder].next_level and p.manager_id
    ]
    open_cases = max(2, round(len(org) * 0.15))
    past_cases = max(2, round(len(org) * 0.075))
    cycle_ids = writer.ids(PromotionCycle.__table__, PAST_CYCLES + 1)
    for number, cycle_id in enumerate(cycle_ids):
        is_open = number == PAST_CYCLES
        started = now - timedelta(days=182 * (PAST_CYCLES - number) + 40)
        half = 1 + (PAST_CYCLES - number) % 2
        writer.write(
            PromotionCycle.__table__,
            [
                {
                    "id": cycle_id,
                    "name": f"H{half} {started.year} ({number + 1})",
                    "phase": "calibration" if is_open else "published",
                    "created_at": started,
                    "created_by_id": head.id,
                    "phase_changed_at": started + timedelta(days=30),
                    "published_at": None if is_open else started + timedelta(days=60),
                    "packets_show_goals": False,
                    "revision": 6,
                }
            ],
        )
        writer.write(
            promotion_cycle_versions,
            [{"cycle_id": cycle_id, "version_id": lad.version_id} for lad in structure.values()],
        )
        chosen = rng.sample(
            candidates, k=min(len(candidates), open_cases if is_open else past_cases)
        )
        sessions, voters = _sessions(
            writer, rng, cycle_id, chosen, directors, leads, is_open, started
        )
        cycle = (cycle_id, is_open, started)
        _cases(writer, rng, structure, cycle, chosen, sessions, voters, items, head)
    return head


def _sessions(writer, rng, cycle_id, chosen, directors, leads, is_open, started):
    """Sessions of the cycle: session id → the candidates in it, and → its participants."""
    count = min(SESSIONS, max(1, len(chosen) // 2))
    ids = writer.ids(CalibrationSession.__table__, count)
    rows, participants, members = [], [], {}
    for n, session_id in enumerate(ids):
        facilitator = directors[n % len(directors)]
        group = chosen[n::count]
        members[session_id] = group
        managers = {c.manager_id for c in group}
        people = {facilitator.id, *list(managers)[:6]}
        people.update(p.id for p in rng.sample(leads, k=min(2, len(leads))))
        participants += [{"session_id": session_id, "user_id": uid} for uid in sorted(people)]
        when = started + timedelta(days=45)
        rows.append(
            {
                "id": session_id,
                "cycle_id": cycle_id,
                "name": f"Calibration {n + 1}",
                "facilitator_id": facilitator.id,
                "created_at": started + timedelta(days=20),
                "created_by_id": facilitator.id,
                "votes_revealed_at": None if is_open and n % 2 else when,
                "scheduled_at": when if not is_open else started + timedelta(days=60 + n),
                "locked_at": None if is_open else when,
                "locked_by_id": None if is_open else facilitator.id,
                "revision": 3,
            }
        )
    writer.write(CalibrationSession.__table__, rows)
    writer.write(calibration_participants, participants)
    voters = {sid: [r["user_id"] for r in participants if r["session_id"] == sid] for sid in ids}
    return members, voters


def _cases(writer, rng, structure, cycle, chosen, sessions, voters, items, head):  # noqa: C901
    """Cases with self and manager ratings (and agreed ones, outcomes and decisions when past),
    evidence linked to the manager's ratings, votes, and the decision log's main entries."""
    cycle_id, is_open, started = cycle
    session_of = {c.id: sid for sid, group in sessions.items() for c in group}
    case_ids = writer.ids(PromotionCase.__table__, len(chosen))
    cases, ratings, linked, votes, log, placements = [], [], [], [], [], []
    rating_ids = iter(writer.ids(CaseRating.__table__, len(chosen) * 3 * 20))
    scale = ("below", "developing", "meets", "exceeds")
    for case_id, person in zip(case_ids, chosen, strict=True):
        ladder = structure[person.ladder]
        proposed = ladder.next_level[person.level_id]
        keys = ladder.keys_by_track.get(ladder.track_of[proposed], ladder.all_keys)
        session_id = session_of[person.id]
        outcome = None if is_open else rng.choice(("promote", "promote", "not_yet"))
        cases.append(
            {
                "id": case_id,
                "cycle_id": cycle_id,
                "candidate_id": person.id,
                "current_level_id": person.level_id,
                "proposed_level_id": proposed,
                "manager_id": person.manager_id,
                "nominated_by_id": person.manager_id,
                "statement": "Working at the next level for two quarters.\n\n- Leads planning",
                "self_statement": "I led discovery for our group this half.",
                "self_submitted_at": started + timedelta(days=10),
                "manager_submitted_at": started + timedelta(days=20),
                "session_id": session_id,
                "outcome": outcome,
                "outcome_rationale": "" if is_open else "Meets the level, with recent evidence.",
                "decision": outcome,
                "decision_rationale": "",
                "decided_at": None if is_open else started + timedelta(days=55),
                "decided_by_id": None if is_open else head.id,
                "withdrawn_at": None,
                "withdrawn_reason": "",
                "created_at": started + timedelta(days=2),
                "updated_at": started + timedelta(days=55),
                "revision": 5,
            }
        )
        own = [i for i in items.by_owner.get(person.id, []) if i in items.shared]
        sources = ("self", "manager") if is_open else ("self", "manager", "agreed")
        for key in keys:
            for source in sources:
                rating_id = next(rating_ids)
                ratings.append(
                    {
                        "id": rating_id,
                        "case_id": case_id,
                        "competency_key": key,
                        "source": source,
                        "rating": rng.choice(scale[1:]),
                        "rationale": "Meets the expectation; the linked items show it.",
                        "reason": "",
                        "updated_at": started + timedelta(days=15),
                        "updated_by_id": person.id if source == "self" else person.manager_id,
                        "revision": 1,
                    }
                )
                if source == "manager" and own:
                    for evidence_id in rng.sample(own, k=min(2, len(own))):
                        linked.append({"rating_id": rating_id, "evidence_id": evidence_id})
            for voter in voters[session_id]:
                if is_open and voter % 4 == 0:
                    continue  # not everyone has voted yet
                votes.append(
                    {
                        "session_id": session_id,
                        "case_id": case_id,
                        "voter_id": voter,
                        "competency_key": key,
                        "rating": rng.choice(scale[1:]),
                        "created_at": started + timedelta(days=40),
                        "updated_at": started + timedelta(days=40),
                    }
                )
        for action, days in (("case.opened", 2), ("self.submitted", 10), ("manager.submitted", 20)):
            log.append(_log(cycle_id, None, case_id, person.manager_id, action, started, days))
        if not is_open:
            log.append(_log(cycle_id, session_id, case_id, head.id, "outcome", started, 50))
            log.append(_log(cycle_id, None, case_id, head.id, "decision", started, 55))
            if outcome == "promote":
                placements.append((person, proposed, started + timedelta(days=60), case_id))
    writer.write(PromotionCase.__table__, cases)
    writer.write(CaseRating.__table__, ratings)
    writer.write(case_rating_evidence, linked)
    for row, vote_id in zip(votes, writer.ids(Vote.__table__, len(votes)), strict=True):
        row["id"] = vote_id
    writer.write(Vote.__table__, votes)
    for row, log_id in zip(log, writer.ids(DecisionLogEntry.__table__, len(log)), strict=True):
        row["id"] = log_id
    writer.write(DecisionLogEntry.__table__, log)
    ids = writer.ids(LevelPlacement.__table__, len(placements))
    writer.write(
        LevelPlacement.__table__,
        [
            {
                "id": placement_id,
                "user_id": person.id,
                "level_id": person.level_id,  # the level they held before this promotion
                "started_at": at - timedelta(days=900),
                "ended_at": at,
                "source": "placed",
                "case_id": None,
            }
            for placement_id, (person, _proposed, at, _case) in zip(ids, placements, strict=True)
        ],
    )


def _log(cycle_id, session_id, case_id, actor_id, action, started, days) -> dict:
    return {
        "at": started + timedelta(days=days),
        "cycle_id": cycle_id,
        "session_id": session_id,
        "case_id": case_id,
        "actor_id": actor_id,
        "action": action,
        "competency_key": None,
        "from_value": "",
        "to_value": "",
        "reason": "",
    }


def _notifications(writer, rng, org, items: Items, now) -> None:
    """Twenty notifications per person about their own items, the newest few unread."""
    rows = []
    for person in org:
        own = items.by_owner.get(person.id) or items.ids[:1]
        for n in range(20):
            at = now - timedelta(hours=6 * (20 - n))
            rows.append(
                {
                    "recipient_id": person.id,
                    "actor_id": person.manager_id,
                    "kind": "kudos" if n % 2 else "comment",
                    "evidence_id": own[n % len(own)],
                    "created_at": at,
                    "read_at": None if n >= 15 else at + timedelta(hours=1),
                    "dispatched_at": at,
                }
            )
    for row, row_id in zip(rows, writer.ids(Notification.__table__, len(rows)), strict=True):
        row["id"] = row_id
    writer.write(Notification.__table__, rows)


def _due_dates(head_id: int, now: datetime) -> None:
    """The open cycle's due dates, through the real service, as the head of product sets them."""
    from app.services.promotions import deadlines

    head = db.session.get(User, head_id)
    cycle_id = db.session.execute(
        sa.select(PromotionCycle.id).where(PromotionCycle.phase == CyclePhase.CALIBRATION)
    ).scalar_one()
    for offset, phase in enumerate(
        (CyclePhase.NOMINATIONS, CyclePhase.SELF_ASSESSMENT, CyclePhase.MANAGER_ASSESSMENT)
    ):
        due = now - timedelta(days=20 - 7 * offset)
        deadlines.set_due(head, cycle_id, phase, due, now=due - timedelta(days=60))
    for offset, phase in enumerate((CyclePhase.CALIBRATION, CyclePhase.DECISIONS)):
        due = now + timedelta(days=5 + 7 * offset)
        deadlines.set_due(head, cycle_id, phase, due, now=now - timedelta(days=60))
