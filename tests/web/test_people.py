"""People administration through HTTP, as the head of product uses it."""

import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Role, User
from tests.factories import sign_in
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
