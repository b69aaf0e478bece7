"""The coaching part of "Your data" through HTTP: what the page says the ZIP holds, the ZIP,
and an import's report of what came back and what did not."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html import unescape

import pytest
from sqlalchemy import delete

from app.extensions import db
from app.models import Goal
from tests.coaching_data import coaching_of_alice
from tests.evidence_helpers import publish_and_place
from tests.factories import sign_in


@pytest.fixture
def coached(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.manager_a])
    coaching_of_alice(app, org)
    return org


def signed_in(app, who):
    client = app.test_client()
    sign_in(client, who)
    return client


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_page_counts_the_coaching_the_zip_holds(app, coached):
    alice = signed_in(app, coached.pm_a1)
    page = text_of(alice.get("/account/export").get_data(as_text=True))
    assert "1 1:1 space with 2 meetings" in page
    assert "never the other person's" in page
    assert "1 growth-plan goal, your delegation board with 2 rounds" in page
    assert "1 feedback request with their answers" in page and "1 thanks you received" in page


def test_the_download_holds_the_1on1_as_json_and_markdown(app, coached):
    alice = signed_in(app, coached.pm_a1)
    response = alice.post_form("/account/export")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    response.close()
    document = json.loads(archive.read("rungs-export.json"))
    (pair,) = document["one_on_ones"]
    assert "My thoughts 0" in archive.read(pair["markdown_file"]).decode()
    for name in archive.namelist():
        assert b"LEAD SECRET" not in archive.read(name)  # Ada's private notes stay hers


def test_an_import_says_what_came_back_and_why_the_rest_did_not(app, coached):
    alice = signed_in(app, coached.pm_a1)
    response = alice.post_form("/account/export")
    archive = response.data
    response.close()
    response = alice.post(
        "/account/import",
        data={"csrf_token": alice.csrf_token(), "file": (io.BytesIO(archive), "export.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    assert "0 items imported" in page  # all already here: nothing doubled
    assert "1:1 meeting" not in page and "goal" not in page  # nor of the coaching
    # what Ada wrote in their 1:1s, and the board they played, stay in the file, and it says so
    assert "2 topics and action items written by Ada Manager" in page
    assert "Your delegation board: 1 agreed round stays in the file" in page


def test_a_bad_coaching_value_is_a_message_and_nothing_is_stored(app, coached):
    alice = signed_in(app, coached.pm_a1)
    document = {
        "format": "rungs-personal-data/1",
        "evidence": [],
        "goals": [{"competency": "skill-0-0", "change": "Lead", "status": "won"}],
    }
    response = alice.post(
        "/account/import",
        data={
            "csrf_token": alice.csrf_token(),
            "file": (io.BytesIO(json.dumps(document).encode()), "export.json"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = text_of(response.get_data(as_text=True))
    assert "Nothing was imported" in page
    assert "Goal 1's status 'won' is not one of not_started" in page


def test_the_report_lists_the_goals_that_came_back_and_what_did_not(app, coached):
    alice = signed_in(app, coached.pm_a1)
    response = alice.post_form("/account/export")
    document = json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("rungs-export.json"))
    response.close()
    document["feedback_requests"][0]["asked"][0]["from"]["email"] = "gone@example.com"
    document["feedback_requests"][0]["created_at"] = "2026-03-09T09:00:00Z"
    with app.app_context():
        db.session.execute(delete(Goal))
        db.session.commit()
    response = alice.post(
        "/account/import",
        data={
            "csrf_token": alice.csrf_token(),
            "file": (io.BytesIO(json.dumps(document).encode()), "export.json"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    assert "Coaching 1 goal" in page
    assert "1 goal came back not yet agreed: agree it again with your manager here." in page
    assert "Not imported" in page
    assert "1 feedback request, without the answers (they are the colleagues')" in page
    assert "1 answer stays in the file: an answer belongs to the colleague who gave it" in page
