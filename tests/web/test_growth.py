"""The growth pages through HTTP: readiness and heatmap, who may look, and the thresholds form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEvent,
    Corroboration,
    CorroborationStatus,
    EvidenceKind,
    Level,
    Setting,
    User,
    Visibility,
)
from app.policy import SYSTEM
from app.services import evidence as evidence_service
from app.services.frameworks import files
from app.services.people import level_history
from tests.clock import TODAY
from tests.evidence_helpers import evidence_input, publish_and_place, record
from tests.factories import sign_in
from tests.framework_samples import framework_yaml
from tests.queries import count_queries

pytestmark = pytest.mark.midday  # the app's today and TODAY must be the same day


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1], "L1")
    return org


def row_of(page: str, name: str) -> str:
    """The readiness table row of a competency, by its name."""
    found = re.search(
        rf'<tr id="competency-[^"]+"[^>]*>\s*<th scope="row"[^>]*>\s*'
        rf'<span class="competency-name">{re.escape(name)}</span>.*?</tr>',
        page,
        re.S,
    )
    assert found, f"no row for {name}"
    return found.group(0)


def cells(row: str) -> list[str]:
    """The text of a row's data cells, tags and extra spaces removed."""
    return [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def log_three(app, owner, key, *, visibility=Visibility.SHARED, corroborated=True) -> None:
    ids = [
        record(
            app,
            owner,
            competency_keys=[key],
            visibility=visibility,
            occurred_on=TODAY - timedelta(days=3 + n),
        )
        for n in range(3)
    ]
    if corroborated:
        with app.app_context():
            peer = db.session.execute(select(User.id).where(User.id != owner.id)).scalars().first()
            db.session.add(
                Corroboration(
                    evidence_id=ids[0], peer_id=peer, status=CorroborationStatus.CONFIRMED
                )
            )
            db.session.commit()


# --- the page ---------------------------------------------------------------------------------


def test_own_growth_shows_statuses_counts_and_drafts(app, client, placed):
    log_three(app, placed.pm_a1, "skill-0-0")
    log_three(app, placed.pm_a1, "skill-1-0", visibility=Visibility.PRIVATE, corroborated=False)
    sign_in(client, placed.pm_a1)
    response = client.get("/growth")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Your growth</h1>" in page
    assert 'Readiness for Level 2 <span class="level-code">L2</span>' in page
    assert "Counts include your private drafts" in page
    enough = cells(row_of(page, "Skill 0.0"))
    assert enough[:3] == ["✓ Enough", "3", "1"]
    assert enough[4] == "Nothing more needed"
    drafts = cells(row_of(page, "Skill 1.0"))
    assert drafts[:3] == ["◐ Thin", "3", "0"]
    assert drafts[4].startswith("1 more item corroborated by a peer")
    assert cells(row_of(page, "Skill 1.1"))[:3] == ["○ No evidence yet", "0", "0"]
    assert "Does skill 0.0 at L2." in page  # the expectation, behind <details>
    assert '<a class="log-link" href="/evidence/new?competency=skill-1-1">' in page
    # The heatmap: every competency of the track, the current quarter last.
    assert re.search(r'<table class="heatmap">', page)
    quarter = f"Q{(TODAY.month - 1) // 3 + 1} {TODAY.year}"
    assert re.search(rf'<th scope="col">{quarter}</th>\s*<th scope="col" class="num">Total', page)
    assert page.count('class="quarter-note">no evidence</span>') == 5  # the five earlier ones


def test_readiness_by_area_is_a_bar_per_area_with_its_numbers_in_words(app, client, placed):
    log_three(app, placed.pm_a1, "skill-0-0")  # enough
    record(app, placed.pm_a1, competency_keys=["skill-0-1"])  # thin
    sign_in(client, placed.pm_a1)
    page = client.get("/growth").get_data(as_text=True)
    chart = page[page.index('<ul class="by-area"') : page.index("</ul>", page.index("by-area"))]
    rows = [
        " ".join(re.sub(r"<[^>]+>", " ", "<li" + row).split()) for row in chart.split("<li")[1:]
    ]
    assert rows == ["Area 0 1 enough · 1 thin", "Area 1 2 no evidence yet"]
    # The bar is drawn in proportion: one unit per competency, in the order of the words.
    first = chart.split("<li")[1]
    assert re.findall(r'<rect class="bar-(\w+)" x="(\d+)" y="0" width="(\d+)"', first) == [
        ("enough", "0", "10"),
        ("thin", "10", "10"),
    ]
    assert 'aria-hidden="true"' in first  # the words say it; the bar is for the eye


def test_growth_is_linked_from_home_and_the_navigation(app, client, placed):
    log_three(app, placed.pm_a1, "skill-0-0")
    sign_in(client, placed.pm_a1)
    home = client.get("/").get_data(as_text=True)
    assert '<a href="/growth" >Growth</a>' in home or 'href="/growth"' in home
    growth = re.search(r'<section class="panel growth-home".*?</section>', home, re.S).group(0)
    assert "Evidence for the next level, Level 2 (L2)" in growth
    assert [int(n) for n in re.findall(r'<span class="tally-number">(\d+)</span>', growth)] == [
        1,
        0,
        3,
    ]
    assert 'href="/growth">Open your growth page</a>' in growth


def test_any_level_of_the_framework_on_request(app, client, placed):
    sign_in(client, placed.pm_a1)
    page = client.get("/growth?level=L3").get_data(as_text=True)
    assert 'Readiness for Level 3 <span class="level-code">L3</span>' in page
    assert '<option value="L3" selected>' in page
    assert "Does skill 0.0 at L3." in page
    own = client.get("/growth?level=L1").get_data(as_text=True)
    assert "current level" in own
    missing = client.get("/growth?level=NOPE")
    assert missing.status_code == 404
    assert "no level" in missing.get_data(as_text=True)


def test_someone_not_placed_is_told_why(client, org):
    sign_in(client, org.pm_a1)
    page = client.get("/growth").get_data(as_text=True)
    assert "You are not placed on a level yet" in page
    assert "<table" not in page
    assert 'class="panel growth-home"' not in client.get("/").get_data(as_text=True)


def test_the_top_of_the_track_compares_with_the_own_level(app, client, org):
    publish_and_place(app, [org.pm_a1], "L3")
    sign_in(client, org.pm_a1)
    page = client.get("/growth").get_data(as_text=True)
    assert "at the top of the Track 0 track" in page
    assert 'Readiness for Level 3 <span class="level-code">L3</span>' in page
    # At the top there is no readiness figure: the page says so and offers other tracks.
    assert "You are at the top of Track 0; pick a level on another track to compare." in page
    assert "No evidence for Level 3 yet" not in page
    assert "No evidence in these quarters yet." in page
    assert "quarter-note" not in page  # an empty heatmap does not flag every quarter


# --- who may look -----------------------------------------------------------------------------

# who looks, whose growth, expected status
ACCESS = [
    ("pm_a1", "pm_a1", 302),  # your own, under /growth
    ("manager_a", "pm_a1", 200),  # own manager
    ("head", "pm_a1", 200),  # up the line
    ("manager_a", "pm_d1", 200),  # skip-level
    ("pm_a2", "pm_b1", 200),  # mentor
    ("director", "pm_a1", 404),  # another manager
    ("manager_b", "pm_a1", 404),  # another manager
    ("pm_a2", "pm_a1", 404),  # a peer
    ("pm_b1", "pm_a2", 404),  # a mentee looking at their mentor
    ("pm_a1", "manager_a", 404),  # a report looking at their manager
]


@pytest.mark.parametrize(("viewer", "owner", "status"), ACCESS)
def test_who_may_see_someones_growth(app, client, placed, viewer, owner, status):
    sign_in(client, getattr(placed, viewer))
    response = client.get(f"/growth/{getattr(placed, owner).id}")
    assert response.status_code == status
    if status == 404:
        assert "Skill 0.0" not in response.get_data(as_text=True)


def test_a_manager_sees_only_shared_evidence(app, client, placed):
    log_three(app, placed.pm_a1, "skill-0-0")
    log_three(app, placed.pm_a1, "skill-1-0", visibility=Visibility.PRIVATE)
    sign_in(client, placed.manager_a)
    page = client.get(f"/growth/{placed.pm_a1.id}").get_data(as_text=True)
    assert "Alice Pm\N{RIGHT SINGLE QUOTATION MARK}s growth" in page
    assert "Counts include only what Alice shared; private drafts stay private." in page
    assert cells(row_of(page, "Skill 0.0"))[:3] == ["✓ Enough", "3", "1"]
    assert cells(row_of(page, "Skill 1.0"))[:3] == ["○ No evidence yet", "0", "0"]
    assert "log-link" not in page and "Log evidence" not in page


def focus_of(page: str) -> str:
    """The summary's sentence on where to look next, tags and extra spaces removed."""
    found = re.search(r'<p class="encourage">(.*?)</p>', page, re.S)
    assert found, "no summary sentence"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).replace(" ,", ",").split())


def test_the_summary_names_the_competencies_closest_to_enough_first(app, client, placed):
    record(app, placed.pm_a1, competency_keys=["skill-0-0"])  # 2 more items, 1 corroborated
    log_three(app, placed.pm_a1, "skill-1-0", corroborated=False)  # 1 more corroborated
    sign_in(client, placed.pm_a1)
    own = client.get("/growth").get_data(as_text=True)
    assert focus_of(own) == (
        "Where another item would help most: Skill 1.0, Skill 0.0, Skill 0.1 ."
    )
    client.post_form("/logout")
    sign_in(client, placed.manager_a)
    theirs = client.get(f"/growth/{placed.pm_a1.id}").get_data(as_text=True)
    assert focus_of(theirs) == "Closest to enough: Skill 1.0, Skill 0.0, Skill 0.1 ."


def test_an_unknown_person_is_not_found(client, placed):
    sign_in(client, placed.head)
    assert client.get("/growth/999999").status_code == 404


# --- a fixed number of queries ----------------------------------------------------------------


def bulk_evidence(app, owner, number: int) -> None:
    """`number` items over the last two years, on every competency, a third corroborated."""
    with app.app_context():
        actor = db.session.get(User, owner.id)
        keys = [c.key for c in evidence_service.competency_choices(owner.id)]
        peer = db.session.execute(select(User.id).where(User.id != owner.id)).scalars().first()
        for n in range(number):
            item = evidence_service.record_evidence(
                actor,
                evidence_input(
                    title=f"Item {n}",
                    competency_keys=[keys[n % len(keys)], keys[(n + 1) % len(keys)]],
                    occurred_on=TODAY - timedelta(days=(n * 7) % 700),
                    visibility=Visibility.SHARED if n % 2 else Visibility.PRIVATE,
                    kind=EvidenceKind.OTHER,
                ),
            )
            if n % 3 == 0:
                db.session.add(
                    Corroboration(
                        evidence_id=item.id, peer_id=peer, status=CorroborationStatus.CONFIRMED
                    )
                )
        db.session.commit()


@pytest.mark.parametrize(
    ("viewer", "path"),
    [("pm_a1", "/growth"), ("pm_a1", "/"), ("manager_a", "/growth/{pm}")],
    ids=["own growth", "own home", "a report's growth"],
)
def test_pages_use_a_fixed_number_of_queries(app, client, placed, viewer, path):
    path = path.format(pm=placed.pm_a1.id)
    sign_in(client, getattr(placed, viewer))
    bulk_evidence(app, placed.pm_a1, 5)
    few = count_queries(app, client, path)
    bulk_evidence(app, placed.pm_a1, 195)
    assert count_queries(app, client, path) == few


def test_the_page_uses_as_many_queries_for_a_large_framework(app, client, org):
    with app.app_context():
        files.import_text(
            SYSTEM, framework_yaml(levels=2, areas=1, per_area=1), "yaml", publish=True
        )
        files.import_text(
            SYSTEM,
            framework_yaml(slug="large", levels=8, areas=8, per_area=6, tracks=2),
            "yaml",
            publish=True,
        )
        small, large = (
            db.session.execute(select(Level.id).where(Level.code == code)).scalar_one()
            for code in ("L1", "T0L1")
        )
        db.session.get(User, org.pm_a1.id).level_id = small
        db.session.get(User, org.pm_a2.id).level_id = large
        db.session.commit()
    bulk_evidence(app, org.pm_a1, 5)
    bulk_evidence(app, org.pm_a2, 40)
    sign_in(client, org.pm_a1)
    few = count_queries(app, client, "/growth")
    client.post_form("/logout")
    sign_in(client, org.pm_a2)
    assert count_queries(app, client, "/growth") == few


# --- the thresholds form ----------------------------------------------------------------------


def test_the_head_sees_the_defaults_and_saves_new_thresholds(app, client, placed):
    sign_in(client, placed.head)
    page = client.get("/settings/readiness").get_data(as_text=True)
    assert "In force now (the defaults)" in page
    assert "at least 3 items from the last 24 months, 1 of them corroborated by a peer" in page
    assert re.search(r'id="min_items"[^>]*value="3"', page)
    assert "1 to 100 items. Default: 3." in page
    response = client.post_form(
        "/settings/readiness",
        {
            "min_items": "1",
            "min_corroborated": "0",
            "recent_days": "90",
            "window_months": "12",
            "token": "",
        },
        follow_redirects=True,
    )
    saved = response.get_data(as_text=True)
    assert "The readiness thresholds were saved." in saved
    assert "at least 1 item from the last 12 months, and the newest from the last 90 days" in saved
    with app.app_context():
        assert db.session.get(Setting, "readiness").value["recent_days"] == 90
        assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()[-1] == (
            "settings.readiness_changed"
        )
    # The new rule shows on a PM's page: one recent item is now enough.
    record(app, placed.pm_a1, competency_keys=["skill-0-0"], occurred_on=TODAY)
    client.post_form("/logout")
    sign_in(client, placed.pm_a1)
    growth = client.get("/growth").get_data(as_text=True)
    assert cells(row_of(growth, "Skill 0.0"))[0] == "✓ Enough"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"min_items": "3.5"}, "min_items", "Enter a whole number, like 3."),
        ({"min_items": "three"}, "min_items", "Enter a whole number, like 3."),
        ({"min_items": ""}, "min_items", "Enter a whole number, like 3."),
        ({"min_items": "0"}, "min_items", "The number of items must be between 1 and 100."),
        ({"min_items": "2", "min_corroborated": "3"}, "min_corroborated", "At most 2"),
        ({"window_months": "500"}, "window_months", "between 1 and 120"),
    ],
)
def test_bad_thresholds_show_next_to_their_field_and_save_nothing(
    app, client, placed, values, field, message
):
    sign_in(client, placed.head)
    data = {
        "min_items": "3",
        "min_corroborated": "1",
        "recent_days": "365",
        "window_months": "24",
        "token": "",
        **values,
    }
    response = client.post_form("/settings/readiness", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', page)
    with app.app_context():
        assert db.session.get(Setting, "readiness") is None
        assert (
            db.session.execute(
                select(AuditEvent.id).where(AuditEvent.action == "settings.readiness_changed")
            ).first()
            is None
        )


def test_two_heads_saving_at_once_get_a_conflict(app, placed, make):
    from app.models import Role

    other = make.person(name="Second Head", role=Role.HEAD, email="head2@example.com")
    first, second = app.test_client(), app.test_client()
    sign_in(first, placed.head)
    sign_in(second, other)
    token = re.search(
        r'name="token" type="hidden" value="([^"]*)"',
        second.get("/settings/readiness").get_data(as_text=True),
    ).group(1)
    base = {"min_corroborated": "1", "recent_days": "365", "window_months": "24", "token": token}
    assert first.post_form("/settings/readiness", {**base, "min_items": "4"}).status_code == 302
    clash = second.post_form("/settings/readiness", {**base, "min_items": "5"})
    assert clash.status_code == 409
    assert "Someone else saved the thresholds" in clash.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Setting, "readiness").value["min_items"] == 4


@pytest.mark.parametrize("who", ["pm_a1", "manager_a"])
def test_only_the_head_opens_the_thresholds(client, placed, who):
    sign_in(client, getattr(placed, who))
    assert client.get("/settings/readiness").status_code == 403
    assert client.post_form("/settings/readiness", {"min_items": "1"}).status_code == 403


# --- items per level, and counting since the current level -----------------------------------

GENERAL = {"min_items": "3", "min_corroborated": "1", "recent_days": "365", "window_months": "24"}


def test_the_head_sets_the_items_needed_at_a_level(app, client, placed):
    sign_in(client, placed.head)
    page = client.get("/settings/readiness").get_data(as_text=True)
    assert "Items needed at Level 3 (L3)" in page
    assert "Blank: 4, from the number above and how high the level is." in page
    response = client.post_form(
        "/settings/readiness",
        {**GENERAL, "level_L2": "5", "level_L3": "", "token": ""},
        follow_redirects=True,
    )
    assert "The readiness thresholds were saved." in response.get_data(as_text=True)
    assert "(items needed at L2: 5)" in response.get_data(as_text=True)
    assert re.search(r'id="level_L2"[^>]*value="5"', response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Setting, "readiness").value["levels"] == {"L2": 5}
    client.post_form("/logout")
    sign_in(client, placed.pm_a1)
    growth = client.get("/growth").get_data(as_text=True)
    assert cells(row_of(growth, "Skill 0.0"))[4].startswith("5 more items")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"level_L2": "lots"}, "level_L2", "Enter a whole number, like 3."),
        ({"level_L3": "0"}, "level_L3", "The number of items at L3 must be between 1 and 100."),
        ({"level_L2": "101"}, "level_L2", "between 1 and 100"),
        ({"min_corroborated": "2", "level_L2": "1"}, "level_L2", "At least 2"),
    ],
)
def test_bad_items_per_level_show_next_to_their_field_and_save_nothing(
    app, client, placed, values, field, message
):
    sign_in(client, placed.head)
    response = client.post_form("/settings/readiness", {**GENERAL, "token": "", **values})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', page)
    with app.app_context():
        assert db.session.get(Setting, "readiness") is None


def test_the_growth_page_counts_since_the_current_level(app, client, placed):
    record(app, placed.pm_a1, competency_keys=["skill-0-0"], occurred_on=TODAY - timedelta(40))
    with app.app_context():
        user = db.session.get(User, placed.pm_a1.id)
        l2 = db.session.execute(select(Level.id).where(Level.code == "L2")).scalar_one()
        at = datetime.combine(TODAY - timedelta(days=20), time(12), tzinfo=UTC)
        level_history.move(user, l2, source="promotion", at=at)
        db.session.commit()
    since = TODAY - timedelta(days=20)
    sign_in(client, placed.pm_a1)
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get("/growth").get_data(as_text=True)).split())
    assert f"Counting evidence since you became Level 2 on {since.day} {since:%b %Y}" in page
    assert "a new level starts readiness for the next one from zero" in page
    assert "1 older item not counted" in page


def test_what_a_level_expects_reads_across_the_table_with_its_measure(app, client, org):
    with app.app_context():
        files.import_text(SYSTEM, framework_yaml(measures=True), "yaml", publish=True)
        level_id = db.session.execute(select(Level.id).where(Level.code == "L1")).scalar_one()
        db.session.get(User, org.pm_a1.id).level_id = level_id
        db.session.commit()
    sign_in(client, org.pm_a1)
    page = client.get("/growth").get_data(as_text=True)
    # Under the competency's row, a row of its own across all six columns: not squeezed into
    # the competency column.
    found = re.search(
        r'<span class="competency-name">Skill 0.0</span>.*?</tr>\s*'
        r'<tr class="expectation-row[^"]*">\s*<td colspan="6">(.*?)</td>\s*</tr>',
        page,
        re.S,
    )
    assert found, "no row of its own for what L2 expects of Skill 0.0"
    expects = found.group(1)
    # The measure is the labelled line of the career path pages, right after the expectation;
    # not one more bullet list.
    assert (
        '<p class="measure"><span class="measure-label" title="How you will know the expectation '
        'is met">Measure</span> What shows Skill 0.0 at L2.</p>'
    ) in expects
    assert " ".join(re.sub(r"<[^>]+>", " ", expects).split()) == (
        "What L2 expects for Skill 0.0 Does skill 0.0 at L2. "
        "Measure What shows Skill 0.0 at L2. Examples An example at L2."
    )
    assert expects.count("<li>") == 1  # the example only
