"""Evidence pages through HTTP: log, show, edit, history, Trash, timeline, and who sees what."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Evidence,
    EvidenceCompetency,
    EvidenceKind,
    EvidenceLink,
    EvidenceRevision,
    Notification,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.policy import SYSTEM
from app.services.frameworks import files
from tests.clock import TODAY
from tests.evidence_helpers import publish_and_place, record
from tests.factories import sign_in
from tests.framework_samples import framework_data
from tests.queries import count_queries

pytestmark = pytest.mark.midday  # the app's today and TODAY must be the same day


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1])
    return org


@pytest.fixture
def alice(client, placed):
    sign_in(client, placed.pm_a1)
    return client


def form_data(**changes) -> dict:
    data = {
        "title": "Launched self-serve CSV import",
        "occurred_on": (TODAY - timedelta(days=3)).isoformat(),
        "kind": "launch",
        "body": "We shipped **CSV import** to every account.",
        "metric": "Activation",
        "metric_before": "31",
        "metric_after": "38",
        "metric_unit": "%",
        "links-0-url": "https://example.com/launch",
        "links-0-label": "Launch notes",
        "links-1-url": "",
        "links-1-label": "",
        "competency_keys": ["skill-0-0", "skill-1-1"],
        "visibility": "shared",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def text_of(response) -> str:
    """The page as a reader sees it: tags removed, entities decoded, whitespace folded."""
    html = response.get_data(as_text=True)
    html = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def revision_of(page: str) -> str:
    return re.search(r'id="revision" name="revision" type="hidden" value="(\d+)"', page).group(1)


def stored(app, evidence_id) -> Evidence | None:
    with app.app_context():
        item = db.session.get(Evidence, evidence_id)
        if item is not None:
            db.session.expunge(item)
        return item


def item_id_from(response) -> int:
    return int(re.search(r"/evidence/(\d+)$", response.headers["Location"]).group(1))


# --- logging --------------------------------------------------------------------------------------


def test_the_log_form_groups_competencies_by_area_and_defaults_to_a_private_draft(alice):
    response = alice.get("/evidence/new")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(rf'id="occurred_on" name="occurred_on" [^>]*value="{TODAY.isoformat()}"', page)
    areas = re.findall(
        r'<fieldset class="competency-area" data-filter-group>\s*<legend>([^<]+)</legend>', page
    )
    assert areas == ["Area 0", "Area 1"]
    assert re.search(
        r'id="competency-skill-0-1" aria-describedby="competency-skill-0-1-hint">\s*'
        r'<label for="competency-skill-0-1">Skill 0.1</label>\s*'
        r'<p class="hint" id="competency-skill-0-1-hint">What this skill is about.</p>',
        page,
    )
    # The filter needs JavaScript, so it is hidden until the script shows it.
    assert '<div class="field competency-filter" hidden>' in page
    assert re.search(r'id="visibility-0" value="private"[^>]*checked', page)
    assert "Private draft" in page and "Share with my manager and mentors" in page
    labels = re.findall(r'<option value="(\w+)">([^<]+)</option>', page)
    assert ("learning_from_failure", "Learning from failure") in labels
    assert ("coaching", "Coaching given") in labels


def test_log_evidence_with_an_outcome_links_and_two_competencies(app, alice, placed):
    response = alice.post_form("/evidence/new", form_data())
    assert response.status_code == 302
    item_id = item_id_from(response)
    shown = alice.get(f"/evidence/{item_id}")
    text = text_of(shown)
    assert "Saved and shared with your manager and mentors." in text
    assert "Launched self-serve CSV import" in text
    assert "Activation: 31 → 38 %" in text
    assert "Skill 0.0" in text and "Skill 1.1" in text and "Skill 0.1" not in text
    page = shown.get_data(as_text=True)
    assert "<strong>CSV import</strong>" in page
    assert re.search(
        r'<a href="https://example.com/launch" rel="noopener noreferrer nofollow"[^>]*>'
        r"Launch notes",
        page,
    )
    with app.app_context():
        item = db.session.get(Evidence, item_id)
        assert (item.owner_id, item.visibility, item.kind) == (
            placed.pm_a1.id,
            Visibility.SHARED,
            EvidenceKind.LAUNCH,
        )
        keys = db.session.execute(
            select(EvidenceCompetency.competency_key).where(
                EvidenceCompetency.evidence_id == item_id
            )
        ).scalars()
        assert sorted(keys) == ["skill-0-0", "skill-1-1"]


def test_a_private_draft_says_so(alice):
    response = alice.post_form("/evidence/new", form_data(visibility="private"))
    shown = alice.get(response.headers["Location"])
    text = text_of(shown)
    assert "Saved as a private draft. Share it when it is ready." in text
    assert "Private draft" in text and "Not yet: only you can see it" in text


def test_a_private_draft_is_shared_with_one_button(app, alice, placed):
    item_id = item_id_from(alice.post_form("/evidence/new", form_data(visibility="private")))
    share = f'action="/evidence/{item_id}/share"'
    assert share in alice.get(f"/evidence/{item_id}").get_data(as_text=True)

    response = alice.post_form(f"/evidence/{item_id}/share")

    assert response.headers["Location"] == f"/evidence/{item_id}"
    shown = alice.get(f"/evidence/{item_id}")
    text = text_of(shown)
    assert "“Launched self-serve CSV import” is now shared with your manager and mentors." in text
    assert share not in shown.get_data(as_text=True) and "Not yet: only you" not in text
    item = stored(app, item_id)
    assert item.visibility is Visibility.SHARED and item.shared_at is not None
    with app.app_context():
        actions = db.session.execute(
            select(EvidenceRevision.action)
            .where(EvidenceRevision.evidence_id == item_id)
            .order_by(EvidenceRevision.number)
        ).scalars()
        assert list(actions) == ["created", "shared"]
        told = db.session.execute(
            select(Notification.recipient_id).where(Notification.evidence_id == item_id)
        ).scalars()
        assert placed.manager_a.id in set(told)


def test_sharing_twice_or_from_the_trash_is_refused_with_a_message(app, alice, placed):
    item_id = record(app, placed.pm_a1, visibility=Visibility.SHARED)
    response = alice.post_form(f"/evidence/{item_id}/share", follow_redirects=True)
    assert "This item is already shared with your manager and mentors." in text_of(response)
    draft_id = record(app, placed.pm_a1, visibility=Visibility.PRIVATE)
    alice.post_form(f"/evidence/{draft_id}/delete")
    response = alice.post_form(f"/evidence/{draft_id}/share", follow_redirects=True)
    assert "This item is in the Trash; restore it to share it." in text_of(response)
    assert stored(app, draft_id).visibility is Visibility.PRIVATE


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Give the item a title."),
        ({"competency_keys": None}, "competencies", "Choose at least one competency."),
        ({"occurred_on": "31/12/2025"}, "occurred_on", "Enter a date like 2026-03-31."),
        ({"occurred_on": ""}, "occurred_on", "Enter the date it happened."),
        (
            {"links-1-url": "javascript:alert(1)"},
            "links-1-url",
            "Use a web address that starts with https:// or http://.",
        ),
        (
            {"links-1-url": "JaVaScRiPt:alert(1)"},
            "links-1-url",
            "Use a web address that starts with https:// or http://.",
        ),
        (
            {"links-1-url": "data:text/html,<script>alert(1)</script>"},
            "links-1-url",
            "Use a web address that starts with https:// or http://.",
        ),
        ({"links-1-label": "Orphan"}, "links-1-label", "Add the address this label is for."),
        ({"metric_after": ""}, "metric", "An outcome needs the metric, the value before"),
        (
            {"occurred_on": (TODAY + timedelta(days=9)).isoformat()},
            "occurred_on",
            "The date is in the future.",
        ),
        ({"competency_keys": ["skill-9-9"]}, "competencies", "Not a competency of your framework"),
        ({"visibility": "public"}, "visibility", "Not a valid choice."),
    ],
)
def test_bad_input_is_explained_next_to_its_field_and_nothing_is_stored(
    app, alice, changes, field, message
):
    response = alice.post_form("/evidence/new", form_data(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', page), page[-4000:]
    assert 'aria-invalid="true"' in page or f'id="{field}-error"' in page
    assert 'value="Launched self-serve CSV import"' in page or "title" in changes  # input kept
    summary = re.search(r'<div class="error-summary" role="alert">(.*?)</div>', page, re.S)
    assert summary and message in unescape(summary.group(1))
    with app.app_context():
        assert db.session.execute(select(Evidence.id)).first() is None


def test_someone_not_placed_on_a_level_gets_an_explanation_instead_of_the_form(client, org):
    sign_in(client, org.pm_a1)
    response = client.get("/evidence/new")
    assert response.status_code == 200
    text = text_of(response)
    assert "you are not placed on a level of a published career framework yet" in text
    assert 'name="title"' not in response.get_data(as_text=True)
    refused = client.post_form("/evidence/new", form_data())
    assert "not placed on a level" in text_of(refused)


# --- editing, conflicts, the Trash ----------------------------------------------------------------


def test_edit_keeps_the_values_and_saves_changes(app, alice, placed):
    item_id = record(app, placed.pm_a1, visibility=Visibility.PRIVATE)
    page = alice.get(f"/evidence/{item_id}/edit").get_data(as_text=True)
    assert 'value="Launched CSV import"' in page
    assert re.search(r'value="skill-1-0" id="competency-skill-1-0"[^>]*checked', page)
    assert 'name="links-0-url" type="url" value="https://example.com/launch"' in page
    assert 'name="links-2-url"' in page  # blank rows to add links, without JavaScript
    response = alice.post_form(
        f"/evidence/{item_id}/edit",
        form_data(title="Launched CSV import to everyone", revision=revision_of(page)),
    )
    assert response.status_code == 302
    assert stored(app, item_id).title == "Launched CSV import to everyone"
    assert stored(app, item_id).visibility is Visibility.SHARED


def test_a_stale_save_shows_the_saved_values_next_to_the_unsaved_input(app, placed):
    first, second = app.test_client(), app.test_client()
    sign_in(first, placed.pm_a1)
    sign_in(second, placed.pm_a1)
    item_id = record(app, placed.pm_a1)
    url = f"/evidence/{item_id}/edit"
    revision = revision_of(first.get(url).get_data(as_text=True))
    assert revision_of(second.get(url).get_data(as_text=True)) == revision
    saved = first.post_form(url, form_data(title="Saved in the first tab", revision=revision))
    assert saved.status_code == 302
    clash = second.post_form(url, form_data(title="Typed in the second tab", revision=revision))
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    assert "You changed this item in another window or tab." in page
    assert "<dt>Title</dt><dd>Saved in the first tab</dd>" in page  # the saved value
    saved_day = TODAY - timedelta(days=3)
    assert f"<dt>Date</dt><dd>{saved_day.day} {saved_day.strftime('%b %Y')}</dd>" in page
    assert 'value="Typed in the second tab"' in page  # your input, still in the form
    assert "<dd>Skill 0.0, Skill 1.1</dd>" in page
    assert stored(app, item_id).title == "Saved in the first tab"
    again = second.post_form(
        url, form_data(title="Typed in the second tab", revision=revision_of(page))
    )
    assert again.status_code == 302
    assert stored(app, item_id).title == "Typed in the second tab"


def test_delete_moves_to_the_trash_with_a_restore_button(app, alice, placed):
    item_id = record(app, placed.pm_a1, title="Pricing experiment")
    response = alice.post_form(f"/evidence/{item_id}/delete", follow_redirects=True)
    text = text_of(response)
    assert "Moved to the Trash — restore it within 30 days." in text
    page = response.get_data(as_text=True)
    assert f'action="/evidence/{item_id}/restore"' in page
    assert "“Pricing experiment” is in the Trash. Restore" in text
    assert stored(app, item_id).in_trash
    assert "Pricing experiment" not in text_of(alice.get("/evidence/"))  # offered once only
    trash = alice.get("/evidence/trash")
    assert "Pricing experiment" in text_of(trash)
    assert alice.get(f"/evidence/{item_id}/edit").status_code == 302
    restored = alice.post_form(f"/evidence/{item_id}/restore", follow_redirects=True)
    assert "“Pricing experiment” is back." in text_of(restored)
    assert not stored(app, item_id).in_trash
    assert "The Trash is empty." in text_of(alice.get("/evidence/trash"))


def test_the_trash_lists_thirty_days_and_opening_it_deletes_nothing(app, alice, placed):
    old = record(app, placed.pm_a1, title="Old and gone")
    recent = record(app, placed.pm_a1, title="Recently deleted")
    someone_elses = record(app, placed.pm_b1, title="Bea's old item")
    with app.app_context():
        db.session.get(Evidence, old).deleted_at = utcnow() - timedelta(days=31)
        db.session.get(Evidence, recent).deleted_at = utcnow() - timedelta(days=29)
        db.session.get(Evidence, someone_elses).deleted_at = utcnow() - timedelta(days=31)
        db.session.commit()
    text = text_of(alice.get("/evidence/trash"))
    assert "Recently deleted" in text and "Old and gone" not in text
    # Only the purge command deletes (a GET writes nothing): everyone's expired items wait.
    assert all(stored(app, item) is not None for item in (old, recent, someone_elses))


def test_the_cli_purges_the_trash(app, placed):
    item_id = record(app, placed.pm_a1)
    with app.app_context():
        db.session.get(Evidence, item_id).deleted_at = utcnow() - timedelta(days=40)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["evidence", "purge-trash"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 item from the Trash for good." in result.output
    assert stored(app, item_id) is None


# --- history --------------------------------------------------------------------------------------


def test_history_lists_every_revision_with_what_changed(app, alice, placed):
    response = alice.post_form("/evidence/new", form_data(visibility="private"))
    item_id = item_id_from(response)
    url = f"/evidence/{item_id}/edit"
    revision = revision_of(alice.get(url).get_data(as_text=True))
    alice.post_form(
        url,
        form_data(
            title="Launched CSV import for teams",
            body="We shipped **CSV import** to every team.",
            competency_keys=["skill-0-0", "skill-0-1"],
            metric_after="41",
            revision=revision,
        ),
    )
    alice.post_form(f"/evidence/{item_id}/delete")
    alice.post_form(f"/evidence/{item_id}/restore")
    page = alice.get(f"/evidence/{item_id}/history").get_data(as_text=True)
    text = text_of(alice.get(f"/evidence/{item_id}/history"))
    numbers = re.findall(r'<span class="revision-number">Version (\d+)</span> ([^<]+)</h2>', page)
    assert numbers == [
        ("4", "Restored from the Trash"),
        ("3", "Moved to the Trash"),
        ("2", "Shared with manager and mentors"),
        ("1", "Created"),
    ]
    assert text.count("Alice Pm ·") == 4
    assert "<del>self-serve</del>" in page and "<ins>for teams</ins>" in page
    assert "<del>account</del>" in page and "<ins>team</ins>" in page
    assert re.search(r'<dt>What happened</dt>\s*<dd>\s*<div class="diff-text diff-body">', page)
    assert '<del><span class="visually-hidden">Removed: </span>Skill 1.1</del>' in page
    assert '<ins><span class="visually-hidden">Added: </span>Skill 0.1</ins>' in page
    assert "Visibility Private draft → Shared with manager and mentors" in text
    assert "Outcome Activation: 31 → 38 % → Activation: 31 → 41 %" in text
    assert text.count("No field changed.") == 2  # trash and restore


def test_others_see_only_the_history_since_it_was_shared(app, client, placed):
    item_id = record(app, placed.pm_a1, visibility=Visibility.PRIVATE, title="Secret wording")
    with app.app_context():
        from app.services import evidence as service
        from tests.evidence_helpers import evidence_input

        owner = db.session.get(User, placed.pm_a1.id)
        item = service.get_evidence(item_id)
        service.update_evidence(
            owner, item, evidence_input(title="Public wording"), expected_revision=item.revision
        )
        db.session.commit()
    sign_in(client, placed.manager_a)
    response = client.get(f"/evidence/{item_id}/history")
    assert response.status_code == 200
    text = text_of(response)
    assert "Public wording" in text and "Secret wording" not in text
    assert "The first version shared with you." in text


# --- the timeline ---------------------------------------------------------------------------------


def add_items(app, owner_id: int, count: int, **values) -> None:
    """Many items at once, straight into the database (the timeline is what is tested)."""
    with app.app_context():
        framework_id = db.session.execute(
            select(EvidenceCompetency.framework_id).limit(1)
        ).scalar_one_or_none()
        if framework_id is None:
            from app.models import Framework

            framework_id = db.session.execute(select(Framework.id)).scalar_one()
        for number in range(count):
            item = Evidence(
                owner_id=owner_id,
                title=values.get("title", f"Item {number:03d}"),
                body=values.get("body", f"Body of item {number}."),
                occurred_on=values.get("occurred_on", TODAY - timedelta(days=number)),
                kind=values.get("kind", EvidenceKind.LAUNCH),
                visibility=values.get("visibility", Visibility.SHARED),
                metric="Activation",
                metric_before="1",
                metric_after=str(number),
                metric_unit="%",
            )
            item.competencies = [
                EvidenceCompetency(framework_id=framework_id, competency_key=key)
                for key in values.get("keys", ["skill-0-0", "skill-1-0"])
            ]
            item.links = [EvidenceLink(position=0, url="https://example.com/", label="Doc")]
            db.session.add(item)
        db.session.commit()


def test_the_timeline_starts_empty_with_an_invitation(alice):
    text = text_of(alice.get("/evidence/"))
    assert "No evidence yet — log your first item." in text


def test_the_timeline_shows_own_items_newest_first_with_names_and_outcomes(app, alice, placed):
    record(app, placed.pm_a1, title="Older", occurred_on=TODAY - timedelta(days=10))
    record(app, placed.pm_a1, title="Newer", occurred_on=TODAY - timedelta(days=1))
    record(app, placed.pm_a2, title="Someone else's")
    response = alice.get("/evidence/")
    text = text_of(response)
    assert text.index("Newer") < text.index("Older")
    assert "Someone else's" not in text
    assert "Activation: 31 → 38 %" in text and "Skill 0.0" in text and "Skill 1.0" in text
    assert "2 items" in text


def test_timeline_filters(app, alice, placed):
    record(
        app,
        placed.pm_a1,
        title="Pricing experiment",
        kind=EvidenceKind.EXPERIMENT,
        competency_keys=["skill-0-1"],
        occurred_on=date(2026, 3, 10),
        visibility=Visibility.PRIVATE,
    )
    record(app, placed.pm_a1, title="Onboarding launch", occurred_on=date(2026, 6, 1))

    def titles(query: str) -> set[str]:
        response = alice.get(f"/evidence/?{query}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return set(re.findall(r'class="evidence-row-title"[^>]*><a [^>]+>([^<]+)</a>', page))

    assert titles("") == {"Pricing experiment", "Onboarding launch"}
    assert titles("competency=skill-0-1") == {"Pricing experiment"}
    assert titles("competency=skill-1-0") == {"Onboarding launch"}
    assert titles("kind=experiment") == {"Pricing experiment"}
    assert titles("visibility=private") == {"Pricing experiment"}
    assert titles("visibility=shared") == {"Onboarding launch"}
    assert titles("since=2026-05-01") == {"Onboarding launch"}
    assert titles("until=2026-05-01") == {"Pricing experiment"}
    assert titles("since=2026-03-10&until=2026-03-10") == {"Pricing experiment"}
    assert titles("kind=experiment&visibility=shared") == set()
    nothing = text_of(alice.get("/evidence/?kind=strategy"))
    assert "Nothing matches these filters." in nothing


def test_search_matches_every_word_in_title_or_body_case_insensitively(app, alice, placed):
    record(app, placed.pm_a1, title="Pricing experiment", body="Raised the **annual** plan.")
    record(app, placed.pm_a1, title="Onboarding launch", body="Checklist for new teams.")
    record(app, placed.pm_a1, title="100% uptime_week", body="Nothing special.")

    def titles(q: str) -> set[str]:
        page = alice.get("/evidence/", query_string={"q": q}).get_data(as_text=True)
        return set(re.findall(r'class="evidence-row-title"[^>]*><a [^>]+>([^<]+)</a>', page))

    assert titles("PRICING") == {"Pricing experiment"}
    assert titles("annual pricing") == {"Pricing experiment"}  # title and body words
    assert titles("annual onboarding") == set()  # every word must match
    assert titles("teams") == {"Onboarding launch"}
    assert titles("%") == {"100% uptime_week"}  # % is a literal, not "anything"
    assert titles("e_p") == set()  # _ is a literal too
    assert titles("uptime_week") == {"100% uptime_week"}
    page = alice.get("/evidence/", query_string={"q": "annual"}).get_data(as_text=True)
    assert 'value="annual"' in page and "1 item matches these filters" in text_of(
        alice.get("/evidence/", query_string={"q": "annual"})
    )


def test_bad_filters_are_explained_next_to_the_field(app, alice, placed):
    response = alice.get("/evidence/?since=2026-13-45")
    assert response.status_code == 400
    assert re.search(r'id="since-error">Enter a date like 2026-03-31.', response.text)
    backwards = alice.get("/evidence/?since=2026-05-01&until=2026-04-01")
    assert backwards.status_code == 400
    assert 'id="until-error">The end date is before the start date.' in backwards.text
    assert alice.get("/evidence/?kind=wizard").status_code == 400
    assert alice.get("/evidence/?competency=not-a-skill").status_code == 400


def test_the_timeline_pages_keep_the_filters(app, alice, placed):
    add_items(app, placed.pm_a1.id, 45, kind=EvidenceKind.EXPERIMENT)
    add_items(app, placed.pm_a1.id, 3, title="A launch", kind=EvidenceKind.LAUNCH)
    first = alice.get("/evidence/?kind=experiment&q=item")
    text = text_of(first)
    assert "Page 1 of 3 · 45 items" in text
    assert text.count("Item 0") == 20 and "Item 019" in text and "Item 020" not in text
    assert "A launch" not in text
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text).group(1)
    assert "kind=experiment" in next_link and "q=item" in next_link and "page=2" in next_link
    third = text_of(alice.get(unescape(next_link).replace("page=2", "page=3")))
    assert "Item 044" in third and "Item 039" not in third
    past_the_end = text_of(alice.get("/evidence/?page=9"))
    assert "There is no page 9." in past_the_end


# --- competency names follow the framework --------------------------------------------------------


def test_a_renamed_competency_shows_its_new_name(app, alice, placed):
    item_id = record(app, placed.pm_a1)
    data = framework_data()
    data["areas"][0]["competencies"][0]["name"] = "Discovery craft"
    with app.app_context():
        files.import_text(SYSTEM, yaml.safe_dump(data, sort_keys=False), "yaml", publish=True)
        db.session.commit()
    assert "Discovery craft" in text_of(alice.get(f"/evidence/{item_id}"))
    assert "Discovery craft" in text_of(alice.get("/evidence/"))


# --- who may see and change what ------------------------------------------------------------------


@pytest.fixture
def owned(app, make, placed):
    """Olga reports to the director (under manager_a, under the head); Bea mentors her."""
    olga = make.person(name="Olga Owner", manager=placed.director, mentors=(placed.pm_b1,))
    with app.app_context():
        level_id = db.session.get(User, placed.pm_a1.id).level_id
        db.session.get(User, olga.id).level_id = level_id
        db.session.commit()
    return olga


VIEWERS = {
    "owner": None,
    "peer": "pm_a1",
    "own manager": "director",
    "skip-level manager": "manager_a",
    "other manager": "manager_b",
    "mentor": "pm_b1",
    "head of product": "head",
}
# Who may read a shared item: the owner, the manager chain (the head is at its top), mentors.
READS_SHARED = {"owner", "own manager", "skip-level manager", "mentor", "head of product"}


def _who(placed, owned, viewer):
    return owned if VIEWERS[viewer] is None else getattr(placed, VIEWERS[viewer])


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "draft"])
@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_who_may_show_edit_see_the_history_of_and_delete_an_item(
    app, client, placed, owned, viewer, shared
):
    visibility = Visibility.SHARED if shared else Visibility.PRIVATE
    item_id = record(app, owned, visibility=visibility)
    sign_in(client, _who(placed, owned, viewer))
    reads = viewer == "owner" or (shared and viewer in READS_SHARED)
    assert client.get(f"/evidence/{item_id}").status_code == (200 if reads else 404)
    assert client.get(f"/evidence/{item_id}/history").status_code == (200 if reads else 404)
    is_owner = viewer == "owner"
    assert client.get(f"/evidence/{item_id}/edit").status_code == (200 if is_owner else 404)
    edit = client.post_form(f"/evidence/{item_id}/edit", form_data(revision="1"))
    assert edit.status_code == (302 if is_owner else 404)
    share = client.post_form(f"/evidence/{item_id}/share")
    assert share.status_code == (302 if is_owner else 404)
    assert stored(app, item_id).is_shared is (shared or is_owner)
    delete = client.post_form(f"/evidence/{item_id}/delete")
    assert delete.status_code == (302 if is_owner else 404)
    assert stored(app, item_id).in_trash is is_owner


@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_only_the_owner_sees_an_item_in_the_trash(app, client, placed, owned, viewer):
    item_id = record(app, owned, visibility=Visibility.SHARED, title="Binned launch")
    with app.app_context():
        db.session.get(Evidence, item_id).deleted_at = utcnow()
        db.session.commit()
    sign_in(client, _who(placed, owned, viewer))
    is_owner = viewer == "owner"
    assert client.get(f"/evidence/{item_id}").status_code == (200 if is_owner else 404)
    assert client.get(f"/evidence/{item_id}/history").status_code == (200 if is_owner else 404)
    assert ("Binned launch" in text_of(client.get("/evidence/trash"))) is is_owner
    restore = client.post_form(f"/evidence/{item_id}/restore")
    assert restore.status_code == (302 if is_owner else 404)
    assert stored(app, item_id).in_trash is not is_owner


def test_the_timeline_and_trash_list_only_your_own_items(app, client, placed, owned):
    record(app, owned, title="Olga's shared launch", visibility=Visibility.SHARED)
    binned = record(app, owned, title="Olga's binned launch", visibility=Visibility.SHARED)
    with app.app_context():
        db.session.get(Evidence, binned).deleted_at = utcnow()
        db.session.commit()
    sign_in(client, placed.director)
    assert "Olga's" not in text_of(client.get("/evidence/"))
    assert "Olga's" not in text_of(client.get("/evidence/trash"))


def test_the_owner_is_named_for_other_readers(app, client, placed, owned):
    item_id = record(app, owned)
    sign_in(client, placed.director)
    text = text_of(client.get(f"/evidence/{item_id}"))
    assert "Evidence by Olga Owner" in text
    assert "Edit" not in re.findall(
        r'class="button[^"]*"[^>]*>([^<]+)<', client.get(f"/evidence/{item_id}").text
    )


# --- a fixed number of queries --------------------------------------------------------------------


OWNER_PAGES = [
    "/evidence/",
    "/evidence/?q=item&kind=launch&competency=skill-0-0&since=2020-01-01",
    "/evidence/trash",
    "/evidence/new",
    "/evidence/{first}",
    "/evidence/{first}/edit",
    "/evidence/{first}/history",
]
MANAGER_PAGES = ["/evidence/{first}", "/evidence/{first}/history"]


@pytest.mark.parametrize(
    ("reader", "path"),
    [("pm_a1", path) for path in OWNER_PAGES] + [("manager_a", path) for path in MANAGER_PAGES],
)
def test_pages_use_a_fixed_number_of_queries(app, client, placed, reader, path):
    add_items(app, placed.pm_a1.id, 5)
    with app.app_context():
        first = db.session.execute(select(func.min(Evidence.id))).scalar_one()
    sign_in(client, getattr(placed, reader))
    path = path.format(first=first)
    few = count_queries(app, client, path)
    add_items(app, placed.pm_a1.id, 195)
    with app.app_context():  # the Trash fills up too
        query = select(Evidence).order_by(Evidence.id).limit(30).offset(100)
        for item in db.session.execute(query).scalars():
            item.deleted_at = utcnow()
        db.session.commit()
    many = count_queries(app, client, path)
    assert many == few, f"{path}: {few} queries with 5 items, {many} with 200"


def test_every_change_is_kept_as_a_revision(app, alice, placed):
    item_id = item_id_from(alice.post_form("/evidence/new", form_data()))
    alice.post_form(f"/evidence/{item_id}/delete")
    with app.app_context():
        actions = db.session.execute(
            select(EvidenceRevision.action)
            .where(EvidenceRevision.evidence_id == item_id)
            .order_by(EvidenceRevision.number)
        ).scalars()
        assert list(actions) == ["created", "deleted"]
