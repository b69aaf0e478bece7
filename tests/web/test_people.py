"""People administration through HTTP, as the head of product uses it."""

import io
import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Evidence, Role, User, Visibility
from app.services.evidence import conversation
from tests.evidence_helpers import publish_and_place, record
from tests.factories import sign_in
from tests.promotion_helpers import cycle_with_cases
from tests.queries import count_queries


@pytest.fixture
def head(client, org):
    sign_in(client, org.head)
    return client


def stored(app, person_id) -> User:
    with app.app_context():
        user = db.session.get(User, person_id)
        db.session.expunge(user)
        return user


def form_version(page: str) -> str:
    return re.search(r'id="version" name="version" type="hidden" value="(\d+)"', page).group(1)


def test_create_a_person(app, head, org):
    response = head.post_form(
        "/people/new",
        {
            "name": "Nina New",
            "email": "nina@example.com",
            "role": "pm",
            "manager_id": str(org.manager_a.id),
            "mentor_ids": [str(org.pm_a2.id)],
        },
    )
    assert response.status_code == 302
    profile = head.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nina New was added" in profile
    assert "Ada Manager" in profile and "Arun Pm" in profile
    with app.app_context():
        nina = db.session.execute(select(User).where(User.email == "nina@example.com")).scalar_one()
        assert nina.manager_id == org.manager_a.id
        assert nina.password_hash is None


def test_errors_show_next_to_their_field_and_keep_the_input(head, org):
    response = head.post_form(
        "/people/new",
        {
            "name": "Nina New",
            "email": org.pm_a1.email,
            "role": "pm",
            "manager_id": "",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="email-error">Alice Pm already uses alice@example.com', page)
    assert 'aria-invalid="true"' in page and 'value="Nina New"' in page
    empty = head.post_form("/people/new", {"role": "pm"}).get_data(as_text=True)
    assert 'id="name-error">Enter a name.' in empty
    assert 'id="email-error">Enter an email address.' in empty


def test_choosing_a_report_as_manager_explains_the_cycle(head, org):
    page = head.get(f"/people/{org.manager_a.id}/edit").get_data(as_text=True)
    response = head.post_form(
        f"/people/{org.manager_a.id}/edit",
        {
            "name": "Ada Manager",
            "email": org.manager_a.email,
            "role": "manager",
            "manager_id": str(org.director.id),
            "version": form_version(page),
        },
    )
    assert (
        "Ada Manager would become their own manager: Ada Manager → Dora Director → Ada Manager."
    ) in response.get_data(as_text=True)


def test_second_editor_gets_a_conflict_showing_both_values(app, client, org):
    first, second = app.test_client(), app.test_client()
    sign_in(first, org.head)
    sign_in(second, org.head)
    url = f"/people/{org.pm_a1.id}/edit"
    version = form_version(first.get(url).get_data(as_text=True))
    assert form_version(second.get(url).get_data(as_text=True)) == version
    base = {"email": org.pm_a1.email, "role": "pm", "manager_id": str(org.manager_a.id)}
    saved = first.post_form(url, {**base, "name": "Alice First", "version": version})
    assert saved.status_code == 302
    clash = second.post_form(url, {**base, "name": "Alice Second", "version": version})
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    assert "Alice First was changed by someone else while you were editing." in page
    assert "<dd>Alice First</dd>" in page  # their value
    assert 'value="Alice Second"' in page  # yours, still in the form
    assert stored(app, org.pm_a1.id).name == "Alice First"
    # Saving again from the conflict page overwrites knowingly.
    again = second.post_form(url, {**base, "name": "Alice Second", "version": form_version(page)})
    assert again.status_code == 302
    assert stored(app, org.pm_a1.id).name == "Alice Second"


def test_deactivate_and_reactivate(app, head, org):
    response = head.post_form(f"/people/{org.pm_a1.id}/deactivate", follow_redirects=True)
    assert "Alice Pm was deactivated." in response.get_data(as_text=True)
    assert not stored(app, org.pm_a1.id).is_active
    listing = head.get("/people/").get_data(as_text=True)
    assert "Alice Pm" not in listing
    assert "Alice Pm" in head.get("/people/?status=deactivated").get_data(as_text=True)
    head.post_form(f"/people/{org.pm_a1.id}/reactivate")
    assert stored(app, org.pm_a1.id).is_active


def test_refused_deactivation_says_why(head, org):
    response = head.post_form(f"/people/{org.director.id}/deactivate", follow_redirects=True)
    assert "Dora Director cannot be deactivated while 1 people report to them (Dev Pm)" in (
        response.get_data(as_text=True)
    )


def test_people_list_search_filter_and_pages(app, head, make, org):
    for number in range(30):
        make.person(name=f"Zed {number:02d}", email=f"zed{number}@example.com")
    first = head.get("/people/?q=zed").get_data(as_text=True)
    assert "Zed 00" in first and "Zed 25" not in first
    assert "Page 1 of 2 · 30 people" in first
    second = head.get("/people/?q=zed&page=2").get_data(as_text=True)
    assert "Zed 25" in second and 'rel="prev"' in second
    managers = head.get("/people/?role=manager").get_data(as_text=True)
    assert "Ada Manager" in managers and "Alice Pm" not in managers
    nobody = head.get("/people/?q=nobody-matches").get_data(as_text=True)
    assert "Nobody matches these filters." in nobody
    wildcard = head.get("/people/?q=%25").get_data(as_text=True)  # a literal %, not "anything"
    assert "Nobody matches these filters." in wildcard
    assert head.get("/people/?role=wizard").status_code == 400


@pytest.mark.parametrize("path", ["/people/", "/", "/people/{manager}"])
def test_pages_use_a_fixed_number_of_queries(app, head, make, org, path):
    path = path.format(manager=org.manager_b.id)
    for number in range(3):
        make.person(name=f"Few {number}", manager=org.manager_b, mentors=(org.head,))
    few = count_queries(app, head, path)
    for number in range(40):
        make.person(name=f"Many {number}", manager=org.manager_b, mentors=(org.head,))
    assert count_queries(app, head, path) == few


def test_import_csv_upload(app, head, org):
    data = b"email,name,role,manager_email\numa@example.com,Uma Pm,pm,ada@example.com\n"
    response = head.post_form(
        "/people/import",
        {"file": (io.BytesIO(data), "people.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "1 person imported" in response.get_data(as_text=True)
    with app.app_context():
        uma = db.session.execute(select(User).where(User.email == "uma@example.com")).scalar_one()
        assert uma.manager_id == org.manager_a.id and uma.role is Role.PM


def test_import_with_errors_lists_them_and_imports_nothing(app, head, org):
    data = (
        b"email,name,role,manager_email\nok@example.com,Ok,pm,\n"
        b"bad,Bad,pm,\nx@example.com,X,boss,\n"
    )
    response = head.post_form(
        "/people/import",
        {"file": (io.BytesIO(data), "people.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 2 problems found" in page
    assert "Line 3: bad is not a valid email address" in page
    assert "Line 4: role &#34;boss&#34; is not one of" in page
    # The list says it once: the refusal's summary is not repeated above the form as well.
    assert "problem(s) found" not in page
    with app.app_context():
        assert (
            db.session.execute(select(User).where(User.email == "ok@example.com")).first() is None
        )


def test_import_without_a_file(head):
    response = head.post_form("/people/import", {}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert 'id="file-error">Choose a CSV file.' in response.get_data(as_text=True)


def test_every_change_is_in_the_audit_log(app, head, org):
    head.post_form(f"/people/{org.pm_a1.id}/deactivate")
    head.post_form(f"/people/{org.pm_a1.id}/reactivate")
    head.post_form(f"/people/{org.pm_a1.id}/password-link")
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor_id)
            .where(AuditEvent.entity_id == org.pm_a1.id)
            .order_by(AuditEvent.id)
        ).all()
    assert rows == [
        ("person.deactivated", org.head.id),
        ("person.reactivated", org.head.id),
        ("person.password_link_created", org.head.id),
    ]


def test_place_a_person_on_a_level_of_a_published_framework(app, head, org):
    from app.models import Level
    from app.policy import SYSTEM
    from app.services.frameworks import files, versions
    from tests.framework_samples import framework_yaml

    with app.app_context():
        published = files.import_text(SYSTEM, framework_yaml(), "yaml", publish=True)[0]
        draft = versions.new_draft(SYSTEM, published)
        db.session.commit()
        levels = dict(
            db.session.execute(
                select(Level.code, Level.id).where(Level.version_id != draft.id)
            ).all()
        )
        draft_level = (
            db.session.execute(select(Level.id).where(Level.version_id == draft.id))
            .scalars()
            .first()
        )
    url = f"/people/{org.pm_a1.id}/edit"
    page = head.get(url).get_data(as_text=True)
    assert '<optgroup label="Sample">' in page and "L2 · Level 2" in page
    base = {
        "name": "Alice Pm",
        "email": org.pm_a1.email,
        "role": "pm",
        "manager_id": str(org.manager_a.id),
        "version": form_version(page),
    }
    assert head.post_form(url, {**base, "level_id": str(levels["L2"])}).status_code == 302
    assert stored(app, org.pm_a1.id).level_id == levels["L2"]
    # A level of a draft is not offered, and forging one is refused next to the field.
    refused = head.post_form(
        url,
        {**base, "level_id": str(draft_level), "version": str(stored(app, org.pm_a1.id).version)},
    )
    assert 'id="level_id-error">Not a valid choice' in refused.get_data(as_text=True)
    assert stored(app, org.pm_a1.id).level_id == levels["L2"]


# --- a person's page as the hub their manager, mentor or they themselves work from -------------


@pytest.fixture
def hub(app, org):
    """pm_a1 placed on L1 with shared items on three days, a draft, and manager_a's comment and
    kudos on the newest; pm_b1 (manager_b's report, mentored by pm_a2) with one shared item."""
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1])
    items = {
        "old": record(
            app,
            org.pm_a1,
            title="Old discovery",
            occurred_on=date(2026, 3, 2),
            competency_keys=["skill-0-0"],
        ),
        "mid": record(
            app,
            org.pm_a1,
            title="Pricing experiment",
            occurred_on=date(2026, 6, 15),
            competency_keys=["skill-1-0"],
        ),
        "new": record(
            app,
            org.pm_a1,
            title="CSV import launch",
            occurred_on=date(2026, 9, 1),
            competency_keys=["skill-0-0", "skill-1-1"],
        ),
        "draft": record(app, org.pm_a1, title="Secret draft", visibility=Visibility.PRIVATE),
        "bea": record(app, org.pm_b1, title="Bea shipped search"),
    }
    with app.app_context():
        manager = db.session.get(User, org.manager_a.id)
        evidence = db.session.get(Evidence, items["new"])
        conversation.add_comment(
            manager, evidence, "Great **launch** — the activation lift is clear."
        )
        conversation.give_kudos(manager, items["mid"])
        db.session.commit()
    return items


def titles(page: str) -> list[str]:
    return [
        unescape(t) for t in re.findall(r'class="evidence-row-title"[^>]*><a [^>]*>(.*?)</a>', page)
    ]


def test_a_manager_works_from_a_reports_page(client, org, hub):
    sign_in(client, org.manager_a)
    page = client.get(f"/people/{org.pm_a1.id}").get_data(as_text=True)
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "0 of 4 competencies with enough evidence" in text
    assert 'aria-label="0 of 4 competencies with enough evidence"' in page
    assert f'href="/growth/{org.pm_a1.id}"' in page  # the full growth page, one click away
    # Shared items newest first; the draft and other people's items are nowhere.
    assert titles(page) == ["CSV import launch", "Pricing experiment", "Old discovery"]
    assert "Secret draft" not in page and "Bea shipped search" not in page
    assert "3 items" in text
    # What the manager said about them, newest first.
    assert "Your comments and kudos" in text
    assert "Comment on CSV import launch" in text and "Kudos on Pricing experiment" in text
    assert "Great launch — the activation lift is clear." in text


def test_filter_shared_evidence_by_competency_and_dates(client, org, hub):
    sign_in(client, org.manager_a)
    url = f"/people/{org.pm_a1.id}"
    by_skill = client.get(f"{url}?competency=skill-0-0").get_data(as_text=True)
    assert titles(by_skill) == ["CSV import launch", "Old discovery"]
    assert '<option value="skill-0-0" selected>' in by_skill
    assert "2 items match these filters" in by_skill
    by_dates = client.get(f"{url}?since=2026-04-01&until=2026-08-31").get_data(as_text=True)
    assert titles(by_dates) == ["Pricing experiment"]
    both = client.get(f"{url}?competency=skill-1-0&since=2026-07-01").get_data(as_text=True)
    assert titles(both) == []
    assert "Nothing matches these filters." in both and "Clear the filters" in both


def test_shared_evidence_is_paginated_keeping_the_filters(app, client, org, hub):
    for n in range(12):
        record(
            app,
            org.pm_a1,
            title=f"Weekly note {n:02}",
            occurred_on=date(2026, 1, 1 + n),
            competency_keys=["skill-0-1"],
        )
    sign_in(client, org.manager_a)
    url = f"/people/{org.pm_a1.id}"
    first = client.get(f"{url}?competency=skill-0-1").get_data(as_text=True)
    assert len(titles(first)) == 10 and titles(first)[0] == "Weekly note 11"
    assert "Page 1 of 2 · 12 items" in first
    assert f'href="{url}?page=2&amp;competency=skill-0-1"' in first
    second = client.get(f"{url}?competency=skill-0-1&page=2").get_data(as_text=True)
    assert titles(second) == ["Weekly note 01", "Weekly note 00"]
    past = client.get(f"{url}?page=9").get_data(as_text=True)
    assert titles(past) == [] and "There is no page 9." in past


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=yesterday", "Enter a date as YYYY-MM-DD, for example 2026-03-02."),
        ("until=2026-13-45", "Enter a date as YYYY-MM-DD, for example 2026-03-02."),
        ("since=2026-09-01&until=2026-01-01", "The end date is before the start date."),
        ("competency=no-such-skill", "Choose a competency from the list."),
    ],
)
def test_bad_filters_answer_400_with_a_clear_message(client, org, hub, query, message):
    sign_in(client, org.manager_a)
    response = client.get(f"/people/{org.pm_a1.id}?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert titles(page) == []  # nothing listed under filters that could not be read
    assert "0 of 4 competencies with enough evidence" in page  # the rest of the page stays


def test_a_report_without_shared_evidence_shows_an_empty_state(client, org, hub):
    sign_in(client, org.manager_a)
    page = client.get(f"/people/{org.pm_a2.id}").get_data(as_text=True)
    assert "No shared evidence yet." in page
    assert "You have not commented on or given kudos" in page


def test_a_mentor_sees_the_mentees_growth_and_shared_evidence_but_not_cases(app, client, org, hub):
    data = cycle_with_cases(app, org, candidates=("pm_b1",))
    sign_in(client, org.pm_a2)  # mentors pm_b1
    page = client.get(f"/people/{org.pm_b1.id}").get_data(as_text=True)
    assert f'href="/growth/{org.pm_b1.id}"' in page
    assert titles(page) == ["Bea shipped search"]
    assert "Promotion cases" not in page
    manager = app.test_client()
    sign_in(manager, org.manager_b)  # the manager does see the case
    managed = manager.get(f"/people/{org.pm_b1.id}").get_data(as_text=True)
    assert "Promotion cases" in managed
    assert f'href="/cases/{data.case_ids[org.pm_b1.id]}"' in managed


def test_an_unrelated_pm_cannot_open_the_page(client, org, hub):
    sign_in(client, org.pm_b1)
    assert client.get(f"/people/{org.pm_a1.id}").status_code == 404
    assert client.get(f"/people/{org.pm_a1.id}?competency=skill-0-0").status_code == 404


def test_a_report_sees_their_managers_details_only(client, org, hub):
    sign_in(client, org.pm_a1)
    page = client.get(f"/people/{org.manager_a.id}").get_data(as_text=True)
    assert "Details" in page
    assert 'id="evidence-heading"' not in page and 'id="growth-heading"' not in page
    assert "Your comments and kudos" not in page


def test_a_person_sees_their_own_hub(client, org, hub):
    sign_in(client, org.pm_a1)
    page = client.get(f"/people/{org.pm_a1.id}").get_data(as_text=True)
    assert "Your growth" in page and 'href="/growth"' in page
    assert titles(page) == ["CSV import launch", "Pricing experiment", "Old discovery"]
    assert "Secret draft" not in page  # shared evidence: what the manager sees
    assert "Your comments and kudos" not in page


def test_the_hub_reads_a_fixed_number_of_queries(app, client, org, hub):
    sign_in(client, org.manager_a)
    path = f"/people/{org.pm_a1.id}?competency=skill-0-0"

    def more(number):
        ids = [
            record(app, org.pm_a1, competency_keys=["skill-0-0", "skill-1-1"])
            for _ in range(number)
        ]
        with app.app_context():
            manager = db.session.get(User, org.manager_a.id)
            for item_id in ids:
                conversation.add_comment(manager, db.session.get(Evidence, item_id), "Nice.")
                conversation.give_kudos(manager, item_id)
            db.session.commit()

    few = count_queries(app, client, path)
    more(25)
    assert count_queries(app, client, path) == few


# --- levels on the list, mentors as checkboxes ----------------------------------------------------


def test_the_people_list_shows_each_persons_level_in_a_fixed_number_of_queries(
    app, head, make, org
):
    levels = cycle_with_cases(app, org, candidates=()).level_ids  # PMs placed on L1
    few = count_queries(app, head, "/people/")
    for number in range(12):
        person = make.person(name=f"Placed {number:02d}", manager=org.manager_b)
        with app.app_context():
            db.session.get(User, person.id).level_id = levels[f"L{number % 3 + 1}"]
            db.session.commit()
    assert count_queries(app, head, "/people/") == few
    page = unescape(head.get("/people/?q=placed").get_data(as_text=True))
    row = re.search(r"Placed 01.*?</tr>", page, flags=re.S).group(0)
    assert '<td data-label="Level">L2 · Level 2</td>' in row
    unplaced = unescape(head.get("/people/?role=manager").get_data(as_text=True))
    assert '<td data-label="Level"><span class="muted">Not placed</span></td>' in unplaced


def test_mentors_are_checkboxes_the_chosen_first_and_are_saved(app, head, org):
    url = f"/people/{org.pm_b1.id}/edit"  # pm_b1 is mentored by pm_a2
    page = head.get(url).get_data(as_text=True)
    assert "<select multiple" not in page and "Ctrl" not in page
    boxes = re.findall(
        r'<input type="checkbox" name="mentor_ids" value="(\d+)"[^>]*?( checked)?>', page
    )
    assert boxes[0] == (str(org.pm_a2.id), " checked")  # the chosen one first
    assert all(checked == "" for _, checked in boxes[1:])
    assert '<label for="mentor-filter">Filter mentors</label>' in page
    response = head.post_form(
        url,
        {
            "name": "Bea Pm",
            "email": org.pm_b1.email,
            "role": "pm",
            "manager_id": str(org.manager_b.id),
            "mentor_ids": [str(org.pm_a2.id), str(org.head.id)],
            "version": form_version(page),
        },
    )
    assert response.status_code == 302
    again = head.get(url).get_data(as_text=True)  # the form shows what was stored
    chosen = re.findall(r'name="mentor_ids" value="(\d+)"[^>]*? checked>', again)
    assert set(chosen) == {str(org.pm_a2.id), str(org.head.id)}


def test_people_are_shown_with_initials_avatars_hidden_from_assistive_technology(client, org):
    sign_in(client, org.head)
    page = client.get("/people/").get_data(as_text=True)
    avatars = re.findall(r'<span class="avatar avatar-(\d)" data-initials="([^"]*)"([^>]*)>', page)
    assert len(avatars) >= 7  # everyone on the first page of the list
    assert all(attributes == ' aria-hidden="true"' for _, _, attributes in avatars)
    # The colour follows the person's id; the initials come from the name.
    assert f'avatar-{org.pm_a1.id % 8}" data-initials="AP"' in page  # Alice Pm
    assert f'avatar-{org.manager_a.id % 8}" data-initials="AM"' in page  # Ada Manager
    # The initials are drawn by the stylesheet: the row's text is the name alone.
    cells = re.findall(r'<td class="person-cell">(.*?)</td>', page, re.S)
    names = [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]
    assert "Alice Pm" in names and "Ada Manager" in names
    person = client.get(f"/people/{org.pm_a1.id}").get_data(as_text=True)
    assert f'avatar-{org.pm_a1.id % 8} avatar-large" data-initials="AP"' in person
