"""Downloading a framework version as a PDF."""

import io

from pypdf import PdfReader

from app.extensions import db
from app.policy import SYSTEM
from app.services.frameworks import files, versions
from tests.factories import sign_in
from tests.framework_samples import framework_yaml


def test_everyone_downloads_the_published_version_and_only_the_head_a_draft(app, client, org):
    with app.app_context():
        published = files.import_text(SYSTEM, framework_yaml(), "yaml", publish=True)[0]
        versions.new_draft(SYSTEM, published)
        db.session.commit()
    sign_in(client, org.pm_a1)
    response = client.get("/frameworks/sample/v1.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Level 1 L1" in PdfReader(io.BytesIO(response.data)).pages[1].extract_text()
    response.close()
    assert client.get("/frameworks/sample/v2.pdf").status_code == 404
    assert client.get("/frameworks/sample/v9.pdf").status_code == 404
    assert client.get("/frameworks/nothing/v1.pdf").status_code == 404
    head = app.test_client()
    sign_in(head, org.head)
    draft = head.get("/frameworks/sample/v2.pdf")
    assert draft.status_code == 200
    draft.close()


def test_anonymous_people_are_sent_to_sign_in(client):
    assert client.get("/frameworks/sample/v1.pdf").status_code == 302
