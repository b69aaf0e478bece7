"""Attaching, downloading and removing a file in the browser, exporting and importing one's data;
axe-core checks the item with its attachments, the refusal, the removal and the data pages."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from tests import file_samples as samples
from tests.browser.test_sign_in import sign_in, tab_to
from tests.evidence_helpers import publish_and_place, record

pytestmark = pytest.mark.browser


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2])
    return org


def signed_in(page: Page, person) -> None:
    sign_in(page, person)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {person.name.split()[0]}")


def test_attach_download_and_remove_a_file(page, app, placed, tmp_path, assert_accessible):
    item = record(app, placed.pm_a1, title="Launched CSV import")
    png = samples.image("PNG", size=(120, 80))
    dashboard = tmp_path / "Activation dashboard.png"
    dashboard.write_bytes(png)
    disguised = tmp_path / "chart.png"
    disguised.write_bytes(samples.HTML)
    signed_in(page, placed.pm_a1)
    page.goto(f"/evidence/{item}")
    field = page.get_by_label("Add a file")
    expect(field).to_have_attribute(
        "accept",
        ".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.csv,.md,.markdown,.docx,.xlsx,.pptx,.odt,.ods,.odp",
    )
    assert_accessible(page)

    field.set_input_files(str(disguised))
    page.get_by_role("button", name="Attach").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Attach a file")
    expect(page.locator("#attachment-file-error")).to_contain_text(
        "“chart.png” is named as a PNG image but its content is a web page"
    )
    assert_accessible(page)

    page.get_by_label("Add a file").set_input_files(str(dashboard))
    page.get_by_role("button", name="Attach").click()
    expect(page.get_by_role("status")).to_have_text("“Activation dashboard.png” was attached.")
    link = page.get_by_role("link", name="Activation dashboard.png", exact=True)
    expect(link).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "Activation dashboard.png"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == png

    tab_to(page, page.get_by_role("link", name="Remove Activation dashboard.png"), limit=40)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove this file?")
    assert_accessible(page)
    page.get_by_role("button", name="Remove the file").click()
    expect(page.get_by_role("status")).to_have_text("“Activation dashboard.png” was removed.")
    expect(page.get_by_text("No files attached.")).to_be_visible()


def test_export_then_import_as_someone_else(page, app, placed, make, assert_accessible):
    item = record(app, placed.pm_a1, title="Launched CSV import")
    with app.app_context():
        from app.services import evidence as evidence_service
        from app.services.evidence import attachments

        alice = db.session.get(User, placed.pm_a1.id)
        attachments.add_attachment(
            alice, evidence_service.get_evidence(item), "plan.pdf", io.BytesIO(samples.pdf())
        )
        db.session.commit()
    signed_in(page, placed.pm_a1)
    page.get_by_role("link", name="Your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the ZIP").click()
    archive_path = download_info.value.path()
    archive = zipfile.ZipFile(archive_path)
    document = json.loads(archive.read("rungs-export.json"))
    assert [i["title"] for i in document["evidence"]] == ["Launched CSV import"]

    page.get_by_role("button", name="Sign out").click()
    signed_in(page, placed.pm_a2)
    page.goto("/account/import")
    assert_accessible(page)
    page.get_by_label("Export file").set_input_files(str(archive_path))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1 item imported")
    expect(page.get_by_text("1 attached file came along.")).to_be_visible()
    assert_accessible(page)
